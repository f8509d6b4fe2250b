//! Genesis and blocks: their canonical encodings, hashes and signatures.

use shucang_verify::{Hash, Suite};

use crate::codec::{DecodeError, Reader, Writer, bounded};
use crate::keys::SigningKey;
use crate::merkle_log::MerkleLog;
use crate::tx::SignedTransaction;

/// Longest origin (chain name), in bytes.
pub const ORIGIN_LEN_MAX: usize = 128;
/// Most operator keys in a genesis.
pub const OPERATORS_MAX: usize = 64;
/// Most transactions in one block.
pub const BLOCK_TXS_MAX: usize = 8192;
/// Largest encoded transaction accepted, in bytes (a full mint batch is ~100 KiB).
pub const TX_BYTES_MAX: usize = 128 * 1024;

const GENESIS_VERSION: u8 = 1;
const BLOCK_VERSION: u8 = 1;
const BLOCK_SIGNING_DOMAIN: &[u8] = b"shucang/block/v1\n";

/// The chain's founding record: suite, name, node key and operator keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// The crypto suite, fixed for the chain's life.
    pub suite: Suite,
    /// The chain's name; also the checkpoint origin and key name.
    pub origin: String,
    /// Creation time, Unix milliseconds.
    pub created_at_ms: u64,
    /// The node's public key: signs blocks and checkpoints.
    pub node_key: Vec<u8>,
    /// Keys that may create, mint, freeze, unfreeze and burn.
    pub operators: Vec<Vec<u8>>,
}

impl Genesis {
    /// The canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(GENESIS_VERSION)
            .u8(self.suite.code())
            .str(&self.origin)
            .u64(self.created_at_ms)
            .fixed(&self.node_key);
        w.u32(u32::try_from(self.operators.len()).expect("operators are bounded"));
        for k in &self.operators {
            w.fixed(k);
        }
        w.finish()
    }

    /// Decodes a canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Genesis, DecodeError> {
        let mut r = Reader::new(bytes);
        r.version("genesis version", GENESIS_VERSION)?;
        let suite = r.suite()?;
        let origin = r.str("origin", ORIGIN_LEN_MAX)?.to_owned();
        let created_at_ms = r.u64("created_at")?;
        let node_key = read_key(&mut r, suite, "node key")?;
        let n = r.count("operator count", "operators", OPERATORS_MAX)?;
        let mut operators = Vec::with_capacity(n);
        for _ in 0..n {
            operators.push(read_key(&mut r, suite, "operator key")?);
        }
        r.finish()?;
        Ok(Genesis {
            suite,
            origin,
            created_at_ms,
            node_key,
            operators,
        })
    }

    /// The genesis hash: the suite's hash of the encoding. Block 1 points to it.
    pub fn hash(&self) -> Hash {
        self.suite.hash(&self.encode())
    }
}

fn read_key(r: &mut Reader<'_>, suite: Suite, field: &'static str) -> Result<Vec<u8>, DecodeError> {
    Ok(match suite {
        Suite::Ed25519Sha256 => r.fixed::<32>(field)?.to_vec(),
        Suite::Sm2Sm3 => r.fixed::<65>(field)?.to_vec(),
    })
}

/// What a block states about itself; the block hash is over its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockHeader {
    /// The suite (must be the genesis suite).
    pub suite: Suite,
    /// 1 for the first block after genesis.
    pub height: u64,
    /// The previous block's hash (the genesis hash for height 1).
    pub prev_hash: Hash,
    /// When the block was made, Unix milliseconds.
    pub timestamp_ms: u64,
    /// RFC 9162 root over the block's transactions (leaf data = encoded tx).
    pub tx_root: Hash,
    /// Transactions in the block.
    pub tx_count: u32,
    /// Size of the whole transaction log after this block.
    pub log_size: u64,
    /// Root of the whole transaction log after this block.
    pub log_root: Hash,
    /// The proposer's public key (the node key).
    pub proposer: Vec<u8>,
}

impl BlockHeader {
    fn write(&self, w: &mut Writer) {
        w.u8(BLOCK_VERSION)
            .u8(self.suite.code())
            .u64(self.height)
            .fixed(&self.prev_hash)
            .u64(self.timestamp_ms)
            .fixed(&self.tx_root)
            .u32(self.tx_count)
            .u64(self.log_size)
            .fixed(&self.log_root)
            .fixed(&self.proposer);
    }

    fn read(r: &mut Reader<'_>) -> Result<BlockHeader, DecodeError> {
        r.version("block version", BLOCK_VERSION)?;
        let suite = r.suite()?;
        Ok(BlockHeader {
            suite,
            height: r.u64("height")?,
            prev_hash: r.fixed("prev_hash")?,
            timestamp_ms: r.u64("timestamp")?,
            tx_root: r.fixed("tx_root")?,
            tx_count: r.u32("tx_count")?,
            log_size: r.u64("log_size")?,
            log_root: r.fixed("log_root")?,
            proposer: read_key(r, suite, "proposer")?,
        })
    }

    /// The header's canonical encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.write(&mut w);
        w.finish()
    }

    /// The block hash.
    pub fn hash(&self) -> Hash {
        self.suite.hash(&self.encode())
    }

    /// What the proposer signs.
    pub fn signing_message(&self) -> Vec<u8> {
        let mut m = BLOCK_SIGNING_DOMAIN.to_vec();
        m.extend_from_slice(&self.hash());
        m
    }
}

/// Where one transaction's encoding lies inside its block's encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxSpan {
    /// Offset from the start of the block encoding.
    pub offset: u32,
    /// Length.
    pub len: u32,
}

/// A block: header, the proposer's signature, the transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    /// The header.
    pub header: BlockHeader,
    /// The proposer's signature over [`BlockHeader::signing_message`].
    pub signature: [u8; 64],
    /// The transactions, in log order.
    pub txs: Vec<SignedTransaction>,
}

impl Block {
    /// Builds and signs a block over already encoded transactions.
    pub fn seal(header: BlockHeader, key: &SigningKey, txs: Vec<SignedTransaction>) -> Block {
        let signature = key.sign(&header.signing_message());
        Block {
            header,
            signature,
            txs,
        }
    }

    /// The canonical encoding: header, signature, then each transaction with
    /// a `u32` length.
    pub fn encode(&self) -> Vec<u8> {
        self.encode_with_spans().0
    }

    /// The encoding and, for each transaction, the offset and length of its
    /// encoding inside it (so one transaction can be read back alone).
    pub fn encode_with_spans(&self) -> (Vec<u8>, Vec<TxSpan>) {
        let mut w = Writer::new();
        self.header.write(&mut w);
        w.fixed(&self.signature);
        let mut spans = Vec::with_capacity(self.txs.len());
        for tx in &self.txs {
            let encoded = tx.encode();
            spans.push(TxSpan {
                offset: (w.len() + 4) as u32,
                len: encoded.len() as u32,
            });
            w.bytes(&encoded);
        }
        (w.finish(), spans)
    }

    /// Decodes a canonical encoding.
    pub fn decode(bytes: &[u8]) -> Result<Block, DecodeError> {
        Block::decode_with_spans(bytes).map(|(block, _)| block)
    }

    /// Decodes a canonical encoding, with the spans of its transactions.
    pub fn decode_with_spans(bytes: &[u8]) -> Result<(Block, Vec<TxSpan>), DecodeError> {
        let mut r = Reader::new(bytes);
        let header = BlockHeader::read(&mut r)?;
        let signature = r.fixed("block signature")?;
        let n = bounded(
            "block transactions",
            u64::from(header.tx_count),
            BLOCK_TXS_MAX,
        )?;
        let mut txs = Vec::with_capacity(n);
        let mut spans = Vec::with_capacity(n);
        for _ in 0..n {
            let offset = (r.position() + 4) as u32;
            let encoded = r.bytes("transaction", TX_BYTES_MAX)?;
            spans.push(TxSpan {
                offset,
                len: encoded.len() as u32,
            });
            txs.push(SignedTransaction::decode(encoded)?);
        }
        r.finish()?;
        Ok((
            Block {
                header,
                signature,
                txs,
            },
            spans,
        ))
    }

    /// Checks the proposer's signature.
    pub fn verify_signature(&self) -> Result<(), shucang_verify::SignatureError> {
        self.header.suite.verify(
            &self.header.proposer,
            &self.header.signing_message(),
            &self.signature,
        )
    }
}

/// The RFC 9162 root over some encoded transactions (the block's `tx_root`).
pub fn tx_root(suite: Suite, encoded_txs: &[Vec<u8>]) -> Hash {
    let mut log = MerkleLog::new(suite);
    for tx in encoded_txs {
        log.append(tx);
    }
    log.root()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tx::{CollectionId, Operation, Transaction};
    use proptest::prelude::*;

    fn sample(suite: Suite) -> (Genesis, Block) {
        let key = SigningKey::from_secret(suite, &[5; 32]).unwrap();
        let genesis = Genesis {
            suite,
            origin: "shucang.test/chain".into(),
            created_at_ms: 1_795_824_000_000,
            node_key: key.public_key(),
            operators: vec![key.public_key()],
        };
        let txs: Vec<SignedTransaction> = (0..3)
            .map(|n| {
                Transaction {
                    suite,
                    nonce: n,
                    signer: key.public_key(),
                    operation: Operation::Burn {
                        collection: CollectionId::parse("c").unwrap(),
                        token_id: n,
                    },
                }
                .sign(&key)
            })
            .collect();
        let encoded: Vec<Vec<u8>> = txs.iter().map(SignedTransaction::encode).collect();
        let header = BlockHeader {
            suite,
            height: 1,
            prev_hash: genesis.hash(),
            timestamp_ms: 1_795_824_000_123,
            tx_root: tx_root(suite, &encoded),
            tx_count: 3,
            log_size: 3,
            log_root: tx_root(suite, &encoded),
            proposer: key.public_key(),
        };
        (genesis, Block::seal(header, &key, txs))
    }

    #[test]
    fn round_trips_and_signatures_in_both_suites() {
        for suite in Suite::ALL {
            let (genesis, block) = sample(suite);
            assert_eq!(Genesis::decode(&genesis.encode()), Ok(genesis.clone()));
            let (bytes, spans) = block.encode_with_spans();
            let (back, decoded_spans) = Block::decode_with_spans(&bytes).unwrap();
            assert_eq!(back, block);
            assert_eq!(spans, decoded_spans);
            for (tx, span) in block.txs.iter().zip(&spans) {
                let at = span.offset as usize;
                assert_eq!(&bytes[at..at + span.len as usize], &tx.encode()[..]);
            }
            back.verify_signature().unwrap();
            let mut header = block.header.clone();
            header.height = 2;
            let forged = Block {
                header,
                ..block.clone()
            };
            assert!(forged.verify_signature().is_err());
            let mut long = bytes.clone();
            long.push(1);
            assert!(Block::decode(&long).is_err());
            assert!(Block::decode(&bytes[..bytes.len() - 1]).is_err());
        }
    }

    proptest! {
        #[test]
        fn decoding_garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = Block::decode(&data);
            let _ = Genesis::decode(&data);
        }

        #[test]
        fn decoding_mutated_blocks_never_panics(pos in any::<usize>(), byte in any::<u8>()) {
            let (genesis, block) = sample(Suite::Ed25519Sha256);
            let mut bytes = block.encode();
            let i = pos % bytes.len();
            bytes[i] = byte;
            let _ = Block::decode(&bytes);
            let mut g = genesis.encode();
            let j = pos % g.len();
            g[j] = byte;
            let _ = Genesis::decode(&g);
        }
    }
}
