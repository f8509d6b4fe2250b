//! Transactions: what they say, their canonical encoding, hash and signature.

use std::fmt;

use shucang_verify::{ADDRESS_LEN, Hash, Suite};

use crate::codec::{DecodeError, Reader, Writer};
use crate::keys::SigningKey;

/// Longest collection id, in bytes.
pub const COLLECTION_ID_LEN_MAX: usize = 64;
/// Longest collection name or issuer name, in bytes.
pub const NAME_LEN_MAX: usize = 256;
/// Longest collection symbol, in bytes.
pub const SYMBOL_LEN_MAX: usize = 32;
/// Longest metadata URI, in bytes.
pub const URI_LEN_MAX: usize = 1024;
/// Most tokens minted by one transaction.
pub const MINT_BATCH_LEN_MAX: usize = 1000;

/// Version byte at the start of every encoded transaction.
const TX_VERSION: u8 = 1;
/// Domain separation for transaction signatures (defined by the verifier,
/// which checks them offline).
use shucang_verify::bundle::TX_SIGNING_DOMAIN;

/// A 20-byte chain address, shown as `0x` + 40 lower-case hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(pub [u8; ADDRESS_LEN]);

/// A string that is not `0x` followed by 40 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an address is 0x followed by 40 hexadecimal digits")]
pub struct AddressError;

impl Address {
    /// The address of a public key under a suite.
    pub fn of_public_key(suite: Suite, public_key: &[u8]) -> Address {
        Address(suite.address(public_key))
    }

    /// Parses `0x` + 40 hex digits (either case).
    pub fn parse(s: &str) -> Result<Address, AddressError> {
        let digits = s.strip_prefix("0x").ok_or(AddressError)?;
        if digits.len() != 2 * ADDRESS_LEN {
            return Err(AddressError);
        }
        let bytes = hex::decode(digits).map_err(|_| AddressError)?;
        Ok(Address(bytes.try_into().map_err(|_| AddressError)?))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Address({self})")
    }
}

/// A collection's id: 1–64 characters of `a-z`, `0-9`, `-`, `_`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct CollectionId(String);

/// A string that is not a valid collection id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a collection id is 1 to 64 characters of a-z, 0-9, '-' and '_'")]
pub struct CollectionIdError;

impl CollectionId {
    /// Parses a collection id.
    pub fn parse(s: &str) -> Result<CollectionId, CollectionIdError> {
        let ok = !s.is_empty()
            && s.len() <= COLLECTION_ID_LEN_MAX
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if ok {
            Ok(CollectionId(s.to_owned()))
        } else {
            Err(CollectionIdError)
        }
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The collection's contract-style address: the last 20 bytes of the
    /// suite's hash of `collection:<id>`, shown like any other address.
    pub fn address(&self, suite: Suite) -> Address {
        Address(suite.address(format!("collection:{}", self.0).as_bytes()))
    }
}

/// One token of a mint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintItem {
    /// The token id, unique within the collection.
    pub token_id: u64,
    /// The edition number, `1..=supply_cap`.
    pub edition: u64,
    /// The first owner.
    pub owner: Address,
    /// Hash of the token's content (metadata JSON).
    pub content_hash: Hash,
}

impl MintItem {
    /// Edition `edition` as its own token id, the way the platform numbers
    /// its tokens.
    pub fn edition(edition: u64, owner: Address, content_hash: Hash) -> MintItem {
        MintItem {
            token_id: edition,
            edition,
            owner,
            content_hash,
        }
    }
}

/// A collection as its creating transaction describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCollection {
    /// The new collection's id.
    pub collection: CollectionId,
    /// Display name.
    pub name: String,
    /// Short symbol.
    pub symbol: String,
    /// Tokens that may ever be minted.
    pub supply_cap: u64,
    /// The issuer's name.
    pub issuer: String,
    /// Where the collection metadata lives.
    pub metadata_uri: String,
    /// Hash of that metadata.
    pub metadata_hash: Hash,
}

/// What a transaction does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Creates a collection (operator only).
    CreateCollection(NewCollection),
    /// Mints one or more tokens (operator only).
    Mint {
        /// The collection.
        collection: CollectionId,
        /// The tokens, at least one, at most [`MINT_BATCH_LEN_MAX`].
        items: Vec<MintItem>,
    },
    /// Moves a token to a new owner (signed by the current owner).
    Transfer {
        /// The collection.
        collection: CollectionId,
        /// The token.
        token_id: u64,
        /// The new owner.
        to: Address,
    },
    /// Stops a token from moving (operator only).
    Freeze {
        /// The collection.
        collection: CollectionId,
        /// The token.
        token_id: u64,
        /// Why, as a reason code.
        reason: u16,
    },
    /// Lets a frozen token move again (operator only).
    Unfreeze {
        /// The collection.
        collection: CollectionId,
        /// The token.
        token_id: u64,
        /// Why, as a reason code.
        reason: u16,
    },
    /// Destroys a token for good (operator only).
    Burn {
        /// The collection.
        collection: CollectionId,
        /// The token.
        token_id: u64,
    },
}

/// An unsigned transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    /// The chain's suite (must match the genesis).
    pub suite: Suite,
    /// Makes otherwise identical transactions distinct; a transaction whose
    /// hash was already accepted is a replay.
    pub nonce: u64,
    /// The signer's public key.
    pub signer: Vec<u8>,
    /// What it does.
    pub operation: Operation,
}

/// A transaction with its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedTransaction {
    /// The transaction.
    pub tx: Transaction,
    /// The signer's signature over [`Transaction::signing_message`].
    pub signature: [u8; 64],
}

impl Transaction {
    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.write(&mut w);
        w.finish()
    }

    fn write(&self, w: &mut Writer) {
        w.u8(TX_VERSION)
            .u8(self.suite.code())
            .u64(self.nonce)
            .fixed(&self.signer);
        match &self.operation {
            Operation::CreateCollection(c) => {
                w.u8(1)
                    .str(c.collection.as_str())
                    .str(&c.name)
                    .str(&c.symbol)
                    .u64(c.supply_cap)
                    .str(&c.issuer)
                    .str(&c.metadata_uri)
                    .fixed(&c.metadata_hash);
            }
            Operation::Mint { collection, items } => {
                w.u8(2).str(collection.as_str());
                w.u32(u32::try_from(items.len()).expect("mint batches are bounded"));
                for item in items {
                    w.u64(item.token_id)
                        .u64(item.edition)
                        .fixed(&item.owner.0)
                        .fixed(&item.content_hash);
                }
            }
            Operation::Transfer {
                collection,
                token_id,
                to,
            } => {
                w.u8(3).str(collection.as_str()).u64(*token_id).fixed(&to.0);
            }
            Operation::Freeze {
                collection,
                token_id,
                reason,
            } => {
                w.u8(4).str(collection.as_str()).u64(*token_id).u16(*reason);
            }
            Operation::Unfreeze {
                collection,
                token_id,
                reason,
            } => {
                w.u8(5).str(collection.as_str()).u64(*token_id).u16(*reason);
            }
            Operation::Burn {
                collection,
                token_id,
            } => {
                w.u8(6).str(collection.as_str()).u64(*token_id);
            }
        }
    }

    /// The transaction hash: the suite's hash of the canonical encoding.
    pub fn hash(&self) -> Hash {
        self.suite.hash(&self.encode())
    }

    /// What the signer signs: a domain tag and the transaction hash.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut m = TX_SIGNING_DOMAIN.to_vec();
        m.extend_from_slice(&self.hash());
        m
    }

    /// The signer's address.
    pub fn signer_address(&self) -> Address {
        Address::of_public_key(self.suite, &self.signer)
    }

    /// `operation` as transaction `nonce` of `key`'s holder, signed by it
    /// (the suite and signer are the key's).
    pub fn signed_by(key: &SigningKey, nonce: u64, operation: Operation) -> SignedTransaction {
        Transaction {
            suite: key.suite(),
            nonce,
            signer: key.public_key(),
            operation,
        }
        .sign(key)
    }

    /// Signs the transaction. The key must be the signer's.
    pub fn sign(self, key: &SigningKey) -> SignedTransaction {
        debug_assert_eq!(
            key.public_key(),
            self.signer,
            "signing with another key than the signer's"
        );
        let signature = key.sign(&self.signing_message());
        SignedTransaction {
            tx: self,
            signature,
        }
    }
}

/// The hash and signing message of a transaction, from its signed encoding
/// alone (the signature is the last 64 bytes; the hash is over the rest).
pub fn tx_hash_of_encoded(suite: Suite, signed_encoding: &[u8]) -> Option<Hash> {
    let unsigned = signed_encoding.len().checked_sub(64)?;
    Some(suite.hash(&signed_encoding[..unsigned]))
}

/// Checks the signature of an encoded transaction whose fields were already
/// decoded into `tx`, without encoding it again; returns its hash.
pub(crate) fn verify_encoded(
    tx: &SignedTransaction,
    encoded: &[u8],
) -> Result<Hash, shucang_verify::SignatureError> {
    let hash = tx_hash_of_encoded(tx.tx.suite, encoded)
        .ok_or(shucang_verify::SignatureError::MalformedSignature)?;
    let mut message = TX_SIGNING_DOMAIN.to_vec();
    message.extend_from_slice(&hash);
    tx.tx.suite.verify(&tx.tx.signer, &message, &tx.signature)?;
    Ok(hash)
}

impl SignedTransaction {
    /// The canonical encoding: the transaction, then the 64-byte signature.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.tx.write(&mut w);
        w.fixed(&self.signature);
        w.finish()
    }

    /// Decodes a canonical encoding; anything else is an error.
    pub fn decode(bytes: &[u8]) -> Result<SignedTransaction, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version("version", TX_VERSION)?;
        let suite = r.suite()?;
        let nonce = r.u64("nonce")?;
        let signer = match suite {
            Suite::Ed25519Sha256 => r.fixed::<32>("signer")?.to_vec(),
            Suite::Sm2Sm3 => r.fixed::<65>("signer")?.to_vec(),
        };
        let operation = read_operation(&mut r)?;
        let signature = r.fixed::<64>("signature")?;
        r.finish()?;
        Ok(SignedTransaction {
            tx: Transaction {
                suite,
                nonce,
                signer,
                operation,
            },
            signature,
        })
    }

    /// Whether the signature is the signer's over this transaction.
    pub fn verify_signature(&self) -> Result<(), shucang_verify::SignatureError> {
        self.tx
            .suite
            .verify(&self.tx.signer, &self.tx.signing_message(), &self.signature)
    }
}

fn read_collection(r: &mut Reader<'_>) -> Result<CollectionId, DecodeError> {
    CollectionId::parse(r.str("collection", COLLECTION_ID_LEN_MAX)?)
        .map_err(|_| DecodeError::NonCanonical("collection id characters"))
}

fn read_operation(r: &mut Reader<'_>) -> Result<Operation, DecodeError> {
    let tag = r.u8("operation")?;
    Ok(match tag {
        1 => Operation::CreateCollection(NewCollection {
            collection: read_collection(r)?,
            name: r.str("name", NAME_LEN_MAX)?.to_owned(),
            symbol: r.str("symbol", SYMBOL_LEN_MAX)?.to_owned(),
            supply_cap: r.u64("supply_cap")?,
            issuer: r.str("issuer", NAME_LEN_MAX)?.to_owned(),
            metadata_uri: r.str("metadata_uri", URI_LEN_MAX)?.to_owned(),
            metadata_hash: r.fixed("metadata_hash")?,
        }),
        2 => {
            let collection = read_collection(r)?;
            let n = r.count("mint count", "mint items", MINT_BATCH_LEN_MAX)?;
            if n == 0 {
                return Err(DecodeError::NonCanonical("a mint needs at least one token"));
            }
            let mut items = Vec::with_capacity(n);
            for _ in 0..n {
                items.push(MintItem {
                    token_id: r.u64("token_id")?,
                    edition: r.u64("edition")?,
                    owner: Address(r.fixed("owner")?),
                    content_hash: r.fixed("content_hash")?,
                });
            }
            Operation::Mint { collection, items }
        }
        3 => Operation::Transfer {
            collection: read_collection(r)?,
            token_id: r.u64("token_id")?,
            to: Address(r.fixed("to")?),
        },
        4 => Operation::Freeze {
            collection: read_collection(r)?,
            token_id: r.u64("token_id")?,
            reason: r.u16("reason")?,
        },
        5 => Operation::Unfreeze {
            collection: read_collection(r)?,
            token_id: r.u64("token_id")?,
            reason: r.u16("reason")?,
        },
        6 => Operation::Burn {
            collection: read_collection(r)?,
            token_id: r.u64("token_id")?,
        },
        tag => {
            return Err(DecodeError::BadTag {
                field: "operation",
                tag,
            });
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn coll() -> CollectionId {
        CollectionId::parse("dunhuang-2026").unwrap()
    }

    fn operations(owner: Address) -> Vec<Operation> {
        vec![
            Operation::CreateCollection(NewCollection {
                collection: coll(),
                name: "敦煌飞天".into(),
                symbol: "DH".into(),
                supply_cap: 1000,
                issuer: "某某文化有限公司".into(),
                metadata_uri: "https://example.cn/c/1.json".into(),
                metadata_hash: [1; 32],
            }),
            Operation::Mint {
                collection: coll(),
                items: (1..=3)
                    .map(|i| MintItem::edition(i, owner, [i as u8; 32]))
                    .collect(),
            },
            Operation::Transfer {
                collection: coll(),
                token_id: 2,
                to: Address([9; 20]),
            },
            Operation::Freeze {
                collection: coll(),
                token_id: 2,
                reason: 3,
            },
            Operation::Unfreeze {
                collection: coll(),
                token_id: 2,
                reason: 4,
            },
            Operation::Burn {
                collection: coll(),
                token_id: 3,
            },
        ]
    }

    #[test]
    fn every_operation_round_trips_and_verifies_in_both_suites() {
        for suite in Suite::ALL {
            let key = SigningKey::from_secret(suite, &[7; 32]).unwrap();
            let owner = Address::of_public_key(suite, &key.public_key());
            for (nonce, op) in operations(owner).into_iter().enumerate() {
                let tx = Transaction {
                    suite,
                    nonce: nonce as u64,
                    signer: key.public_key(),
                    operation: op,
                };
                let signed = tx.clone().sign(&key);
                let bytes = signed.encode();
                let back = SignedTransaction::decode(&bytes).unwrap();
                assert_eq!(back, signed);
                assert_eq!(back.encode(), bytes, "one encoding");
                back.verify_signature().unwrap();
                assert_eq!(back.tx.hash(), tx.hash());
                assert_eq!(tx_hash_of_encoded(suite, &bytes), Some(tx.hash()));
                assert_eq!(verify_encoded(&back, &bytes), Ok(tx.hash()));
                // Every flipped bit either fails to decode or fails the signature.
                for i in 0..bytes.len() {
                    let mut bad = bytes.clone();
                    bad[i] ^= 0x10;
                    if let Ok(t) = SignedTransaction::decode(&bad) {
                        assert!(
                            t.verify_signature().is_err(),
                            "byte {i} of {:?}",
                            signed.tx.operation
                        );
                    }
                }
                // Trailing and missing bytes are refused.
                let mut long = bytes.clone();
                long.push(0);
                assert_eq!(
                    SignedTransaction::decode(&long),
                    Err(DecodeError::TrailingBytes { extra: 1 })
                );
                assert!(SignedTransaction::decode(&bytes[..bytes.len() - 1]).is_err());
            }
        }
    }

    #[test]
    fn non_canonical_fields_are_refused() {
        let key = SigningKey::from_secret(Suite::Ed25519Sha256, &[7; 32]).unwrap();
        let tx = Transaction {
            suite: Suite::Ed25519Sha256,
            nonce: 1,
            signer: key.public_key(),
            operation: Operation::Mint {
                collection: coll(),
                items: vec![],
            },
        };
        let bytes = tx.sign(&key).encode();
        assert_eq!(
            SignedTransaction::decode(&bytes),
            Err(DecodeError::NonCanonical("a mint needs at least one token"))
        );
        let tx = Transaction {
            suite: Suite::Ed25519Sha256,
            nonce: 1,
            signer: key.public_key(),
            operation: Operation::Burn {
                collection: CollectionId("Upper".into()),
                token_id: 1,
            },
        };
        let bytes = tx.sign(&key).encode();
        assert_eq!(
            SignedTransaction::decode(&bytes),
            Err(DecodeError::NonCanonical("collection id characters"))
        );
    }

    #[test]
    fn addresses_and_collection_ids_parse_strictly() {
        let a = Address([0xab; 20]);
        assert_eq!(a.to_string(), format!("0x{}", "ab".repeat(20)));
        assert_eq!(Address::parse(&a.to_string()), Ok(a));
        assert_eq!(Address::parse(&format!("0x{}", "AB".repeat(20))), Ok(a));
        for bad in [
            "",
            "0x",
            "ab".repeat(20).as_str(),
            &format!("0x{}", "ab".repeat(19)),
            &format!("0x{}zz", "ab".repeat(19)),
        ] {
            assert_eq!(Address::parse(bad), Err(AddressError), "{bad:?}");
        }
        assert!(CollectionId::parse("a_b-9").is_ok());
        for bad in ["", "A", "a b", "数藏", &"a".repeat(65)] {
            assert!(CollectionId::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn decoding_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = SignedTransaction::decode(&data);
        }

        #[test]
        fn decoding_mutated_transactions_never_panics(pos in 0usize..200, byte in any::<u8>()) {
            let key = SigningKey::from_secret(Suite::Ed25519Sha256, &[7; 32]).unwrap();
            let owner = Address::of_public_key(Suite::Ed25519Sha256, &key.public_key());
            let tx = Transaction { suite: Suite::Ed25519Sha256, nonce: 9, signer: key.public_key(), operation: operations(owner).remove(1) };
            let mut bytes = tx.sign(&key).encode();
            let i = pos % bytes.len();
            bytes[i] = byte;
            let _ = SignedTransaction::decode(&bytes);
        }
    }
}
