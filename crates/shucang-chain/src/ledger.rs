//! The chain's state and its rules: who may do what to which token.
//!
//! [`Ledger::apply`] either accepts a transaction and changes the state, or
//! refuses it with a [`Rejection`] and changes nothing. Signatures are
//! checked before (in parallel, by the committer); everything else is here.
//! The state is derived: replaying the stored blocks rebuilds it exactly.

use std::collections::{BTreeSet, HashMap, HashSet};

use shucang_verify::{Hash, Suite};

use crate::tx::{Address, CollectionId, MintItem, NewCollection, Operation, SignedTransaction};

/// Why the chain refused a transaction. The codes are stable: clients and
/// stored receipts depend on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rejection {
    /// A transaction with this hash was already accepted.
    Replayed,
    /// The transaction names another suite than the chain's.
    WrongSuite,
    /// The signature is not the signer's over this transaction.
    BadSignature,
    /// Only operator keys listed in the genesis may do this.
    NotOperator,
    /// A collection with this id already exists.
    CollectionExists,
    /// No collection with this id.
    CollectionNotFound,
    /// A supply cap must be at least 1.
    InvalidSupplyCap,
    /// Minting these tokens would exceed the collection's supply cap.
    SupplyCapExceeded,
    /// A token with this id already exists in the collection.
    TokenExists,
    /// The edition number is 0 or above the supply cap.
    EditionOutOfRange,
    /// Another token already has this edition number.
    EditionTaken,
    /// No token with this id in the collection.
    TokenNotFound,
    /// The token was burned.
    TokenBurned,
    /// The token is frozen and cannot move.
    TokenFrozen,
    /// The token is already frozen.
    AlreadyFrozen,
    /// The token is not frozen.
    NotFrozen,
    /// Only the current owner may transfer the token.
    NotOwner,
    /// The new owner is the current owner.
    SelfTransfer,
}

impl Rejection {
    /// Every rejection, for documentation and tests.
    pub const ALL: [Rejection; 18] = [
        Rejection::Replayed,
        Rejection::WrongSuite,
        Rejection::BadSignature,
        Rejection::NotOperator,
        Rejection::CollectionExists,
        Rejection::CollectionNotFound,
        Rejection::InvalidSupplyCap,
        Rejection::SupplyCapExceeded,
        Rejection::TokenExists,
        Rejection::EditionOutOfRange,
        Rejection::EditionTaken,
        Rejection::TokenNotFound,
        Rejection::TokenBurned,
        Rejection::TokenFrozen,
        Rejection::AlreadyFrozen,
        Rejection::NotFrozen,
        Rejection::NotOwner,
        Rejection::SelfTransfer,
    ];

    /// The stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Rejection::Replayed => "replayed",
            Rejection::WrongSuite => "wrong_suite",
            Rejection::BadSignature => "bad_signature",
            Rejection::NotOperator => "not_operator",
            Rejection::CollectionExists => "collection_exists",
            Rejection::CollectionNotFound => "collection_not_found",
            Rejection::InvalidSupplyCap => "invalid_supply_cap",
            Rejection::SupplyCapExceeded => "supply_cap_exceeded",
            Rejection::TokenExists => "token_exists",
            Rejection::EditionOutOfRange => "edition_out_of_range",
            Rejection::EditionTaken => "edition_taken",
            Rejection::TokenNotFound => "token_not_found",
            Rejection::TokenBurned => "token_burned",
            Rejection::TokenFrozen => "token_frozen",
            Rejection::AlreadyFrozen => "already_frozen",
            Rejection::NotFrozen => "not_frozen",
            Rejection::NotOwner => "not_owner",
            Rejection::SelfTransfer => "self_transfer",
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// A collection as the chain knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionState {
    /// The collection as its creating transaction described it.
    pub spec: NewCollection,
    /// Leaf index of the creating transaction.
    pub created_by: u64,
    /// Tokens minted so far (burned ones included).
    pub minted: u64,
    /// Tokens burned so far.
    pub burned: u64,
    /// Token ids in mint order.
    pub tokens: Vec<u64>,
}

/// A token as the chain knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenState {
    /// Its collection.
    pub collection: CollectionId,
    /// Its id within the collection.
    pub token_id: u64,
    /// Edition number, `1..=supply_cap`.
    pub edition: u64,
    /// Content hash from the mint.
    pub content_hash: Hash,
    /// The current (or, if burned, last) owner.
    pub owner: Address,
    /// The freeze reason code while frozen.
    pub frozen: Option<u16>,
    /// Whether it was burned.
    pub burned: bool,
    /// Leaf indexes of every transaction that touched it, oldest first.
    pub history: Vec<u64>,
}

type TokenKey = (CollectionId, u64);

/// The chain's state.
#[derive(Debug, Clone)]
pub struct Ledger {
    suite: Suite,
    operators: HashSet<Vec<u8>>,
    collections: HashMap<CollectionId, CollectionState>,
    tokens: HashMap<TokenKey, TokenState>,
    editions: HashSet<(CollectionId, u64)>,
    txs: HashMap<Hash, u64>,
    address_history: HashMap<Address, Vec<u64>>,
    holdings: HashMap<Address, BTreeSet<TokenKey>>,
    live_tokens: u64,
}

impl Ledger {
    /// An empty ledger for a chain of `suite` whose operators are `operators`.
    pub fn new(suite: Suite, operators: impl IntoIterator<Item = Vec<u8>>) -> Ledger {
        Ledger {
            suite,
            operators: operators.into_iter().collect(),
            collections: HashMap::new(),
            tokens: HashMap::new(),
            editions: HashSet::new(),
            txs: HashMap::new(),
            address_history: HashMap::new(),
            holdings: HashMap::new(),
            live_tokens: 0,
        }
    }

    /// Checks `tx` (hash `tx_hash`) against the rules and, if it passes,
    /// applies it as leaf `leaf` of the log. On `Err` nothing changed.
    pub fn apply(
        &mut self,
        tx: &SignedTransaction,
        tx_hash: Hash,
        leaf: u64,
    ) -> Result<(), Rejection> {
        self.check(tx, &tx_hash)?;
        self.commit(tx, tx_hash, leaf);
        Ok(())
    }

    fn is_operator(&self, tx: &SignedTransaction) -> bool {
        self.operators.contains(&tx.tx.signer)
    }

    fn live_token(
        &self,
        collection: &CollectionId,
        token_id: u64,
    ) -> Result<&TokenState, Rejection> {
        if !self.collections.contains_key(collection) {
            return Err(Rejection::CollectionNotFound);
        }
        let token = self
            .tokens
            .get(&(collection.clone(), token_id))
            .ok_or(Rejection::TokenNotFound)?;
        if token.burned {
            return Err(Rejection::TokenBurned);
        }
        Ok(token)
    }

    fn check(&self, tx: &SignedTransaction, tx_hash: &Hash) -> Result<(), Rejection> {
        if tx.tx.suite != self.suite {
            return Err(Rejection::WrongSuite);
        }
        if self.txs.contains_key(tx_hash) {
            return Err(Rejection::Replayed);
        }
        let operator_only = !matches!(tx.tx.operation, Operation::Transfer { .. });
        if operator_only && !self.is_operator(tx) {
            return Err(Rejection::NotOperator);
        }
        match &tx.tx.operation {
            Operation::CreateCollection(c) => {
                if self.collections.contains_key(&c.collection) {
                    return Err(Rejection::CollectionExists);
                }
                if c.supply_cap == 0 {
                    return Err(Rejection::InvalidSupplyCap);
                }
            }
            Operation::Mint { collection, items } => self.check_mint(collection, items)?,
            Operation::Transfer {
                collection,
                token_id,
                to,
            } => {
                let token = self.live_token(collection, *token_id)?;
                if token.owner != tx.tx.signer_address() {
                    return Err(Rejection::NotOwner);
                }
                if token.frozen.is_some() {
                    return Err(Rejection::TokenFrozen);
                }
                if token.owner == *to {
                    return Err(Rejection::SelfTransfer);
                }
            }
            Operation::Freeze {
                collection,
                token_id,
                ..
            }
            | Operation::Unfreeze {
                collection,
                token_id,
                ..
            } => {
                // A freeze needs a token that is not frozen, an unfreeze
                // one that is.
                let freezing = matches!(tx.tx.operation, Operation::Freeze { .. });
                let frozen = self.live_token(collection, *token_id)?.frozen.is_some();
                match (freezing, frozen) {
                    (true, true) => return Err(Rejection::AlreadyFrozen),
                    (false, false) => return Err(Rejection::NotFrozen),
                    _ => {}
                }
            }
            Operation::Burn {
                collection,
                token_id,
            } => {
                self.live_token(collection, *token_id)?;
            }
        }
        Ok(())
    }

    fn check_mint(&self, collection: &CollectionId, items: &[MintItem]) -> Result<(), Rejection> {
        let c = self
            .collections
            .get(collection)
            .ok_or(Rejection::CollectionNotFound)?;
        let remaining = c.spec.supply_cap - c.minted;
        if items.len() as u64 > remaining {
            return Err(Rejection::SupplyCapExceeded);
        }
        let mut ids = HashSet::with_capacity(items.len());
        let mut editions = HashSet::with_capacity(items.len());
        for item in items {
            if !ids.insert(item.token_id)
                || self
                    .tokens
                    .contains_key(&(collection.clone(), item.token_id))
            {
                return Err(Rejection::TokenExists);
            }
            if item.edition == 0 || item.edition > c.spec.supply_cap {
                return Err(Rejection::EditionOutOfRange);
            }
            if !editions.insert(item.edition)
                || self.editions.contains(&(collection.clone(), item.edition))
            {
                return Err(Rejection::EditionTaken);
            }
        }
        Ok(())
    }

    fn touch(&mut self, address: Address, leaf: u64) {
        let history = self.address_history.entry(address).or_default();
        if history.last() != Some(&leaf) {
            history.push(leaf);
        }
    }

    fn token_mut(&mut self, collection: &CollectionId, token_id: u64) -> &mut TokenState {
        self.tokens
            .get_mut(&(collection.clone(), token_id))
            .expect("checked before commit")
    }

    /// Applies `change` to a token the transaction at `leaf` touches
    /// without moving it, and records the transaction in the token's and
    /// its owner's history; the owner.
    fn record(
        &mut self,
        collection: &CollectionId,
        token_id: u64,
        leaf: u64,
        change: impl FnOnce(&mut TokenState),
    ) -> Address {
        let token = self.token_mut(collection, token_id);
        change(token);
        token.history.push(leaf);
        let owner = token.owner;
        self.touch(owner, leaf);
        owner
    }

    fn commit(&mut self, tx: &SignedTransaction, tx_hash: Hash, leaf: u64) {
        self.txs.insert(tx_hash, leaf);
        self.touch(tx.tx.signer_address(), leaf);
        match &tx.tx.operation {
            Operation::CreateCollection(c) => {
                self.collections.insert(
                    c.collection.clone(),
                    CollectionState {
                        spec: c.clone(),
                        created_by: leaf,
                        minted: 0,
                        burned: 0,
                        tokens: Vec::new(),
                    },
                );
            }
            Operation::Mint { collection, items } => {
                for item in items {
                    let key = (collection.clone(), item.token_id);
                    self.tokens.insert(
                        key.clone(),
                        TokenState {
                            collection: collection.clone(),
                            token_id: item.token_id,
                            edition: item.edition,
                            content_hash: item.content_hash,
                            owner: item.owner,
                            frozen: None,
                            burned: false,
                            history: vec![leaf],
                        },
                    );
                    self.editions.insert((collection.clone(), item.edition));
                    self.holdings.entry(item.owner).or_default().insert(key);
                    self.touch(item.owner, leaf);
                }
                let c = self
                    .collections
                    .get_mut(collection)
                    .expect("checked before commit");
                c.minted += items.len() as u64;
                c.tokens.extend(items.iter().map(|i| i.token_id));
                self.live_tokens += items.len() as u64;
            }
            Operation::Transfer {
                collection,
                token_id,
                to,
            } => {
                let token = self.token_mut(collection, *token_id);
                let from = token.owner;
                token.owner = *to;
                token.history.push(leaf);
                let key = (collection.clone(), *token_id);
                if let Some(h) = self.holdings.get_mut(&from) {
                    h.remove(&key);
                }
                self.holdings.entry(*to).or_default().insert(key);
                self.touch(from, leaf);
                self.touch(*to, leaf);
            }
            Operation::Freeze {
                collection,
                token_id,
                reason,
            } => {
                self.record(collection, *token_id, leaf, |t| t.frozen = Some(*reason));
            }
            Operation::Unfreeze {
                collection,
                token_id,
                ..
            } => {
                self.record(collection, *token_id, leaf, |t| t.frozen = None);
            }
            Operation::Burn {
                collection,
                token_id,
            } => {
                let owner = self.record(collection, *token_id, leaf, |t| {
                    t.burned = true;
                    t.frozen = None;
                });
                if let Some(h) = self.holdings.get_mut(&owner) {
                    h.remove(&(collection.clone(), *token_id));
                }
                self.collections
                    .get_mut(collection)
                    .expect("checked before commit")
                    .burned += 1;
                self.live_tokens -= 1;
            }
        }
    }

    /// The leaf index of an accepted transaction.
    pub fn tx_leaf(&self, tx_hash: &Hash) -> Option<u64> {
        self.txs.get(tx_hash).copied()
    }

    /// A collection.
    pub fn collection(&self, id: &CollectionId) -> Option<&CollectionState> {
        self.collections.get(id)
    }

    /// A token.
    pub fn token(&self, collection: &CollectionId, token_id: u64) -> Option<&TokenState> {
        self.tokens.get(&(collection.clone(), token_id))
    }

    /// Tokens an address holds now (not burned), ordered by collection and id.
    pub fn holdings(&self, address: &Address) -> Vec<(CollectionId, u64)> {
        self.holdings_page(address, 0, usize::MAX).0
    }

    /// `limit` of an address's tokens from `offset`, and how many it holds.
    pub fn holdings_page(
        &self,
        address: &Address,
        offset: usize,
        limit: usize,
    ) -> (Vec<(CollectionId, u64)>, usize) {
        match self.holdings.get(address) {
            Some(h) => (
                h.iter().skip(offset).take(limit).cloned().collect(),
                h.len(),
            ),
            None => (Vec::new(), 0),
        }
    }

    /// Leaf indexes of every transaction that touched an address, oldest first.
    pub fn address_history(&self, address: &Address) -> &[u64] {
        self.address_history.get(address).map_or(&[], Vec::as_slice)
    }

    /// Whether an address ever appeared on the chain.
    pub fn address_known(&self, address: &Address) -> bool {
        self.address_history.contains_key(address)
    }

    /// Accepted transactions.
    pub fn tx_count(&self) -> u64 {
        self.txs.len() as u64
    }

    /// Tokens minted and not burned.
    pub fn live_token_count(&self) -> u64 {
        self.live_tokens
    }

    /// Collections.
    pub fn collection_count(&self) -> u64 {
        self.collections.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::SigningKey;
    use crate::tx::Transaction;

    struct World {
        suite: Suite,
        operator: SigningKey,
        alice: SigningKey,
        bob: SigningKey,
        ledger: Ledger,
        nonce: u64,
        leaf: u64,
    }

    impl World {
        fn new(suite: Suite) -> World {
            let operator = SigningKey::from_secret(suite, &[1; 32]).unwrap();
            let ledger = Ledger::new(suite, [operator.public_key()]);
            World {
                suite,
                alice: SigningKey::from_secret(suite, &[2; 32]).unwrap(),
                bob: SigningKey::from_secret(suite, &[3; 32]).unwrap(),
                operator,
                ledger,
                nonce: 0,
                leaf: 0,
            }
        }

        fn addr(&self, key: &SigningKey) -> Address {
            Address::of_public_key(self.suite, &key.public_key())
        }

        fn signed(&mut self, key: &SigningKey, operation: Operation) -> SignedTransaction {
            self.nonce += 1;
            Transaction {
                suite: self.suite,
                nonce: self.nonce,
                signer: key.public_key(),
                operation,
            }
            .sign(key)
        }

        fn submit(&mut self, tx: &SignedTransaction) -> Result<(), Rejection> {
            let before = format!("{:?}", self.ledger);
            let result = self.ledger.apply(tx, tx.tx.hash(), self.leaf);
            match result {
                Ok(()) => self.leaf += 1,
                Err(_) => assert_eq!(
                    format!("{:?}", self.ledger),
                    before,
                    "a rejection changes nothing"
                ),
            }
            result
        }

        fn run(&mut self, key: &SigningKey, operation: Operation) -> Result<(), Rejection> {
            let key = key.clone();
            let tx = self.signed(&key, operation);
            self.submit(&tx)
        }
    }

    fn c(s: &str) -> CollectionId {
        CollectionId::parse(s).unwrap()
    }

    fn create(cap: u64) -> Operation {
        Operation::CreateCollection(NewCollection {
            collection: c("c1"),
            name: "飞天".into(),
            symbol: "FT".into(),
            supply_cap: cap,
            issuer: "发行方".into(),
            metadata_uri: "https://example.cn/c1.json".into(),
            metadata_hash: [0; 32],
        })
    }

    fn mint(items: &[(u64, u64, Address)]) -> Operation {
        Operation::Mint {
            collection: c("c1"),
            items: items
                .iter()
                .map(|&(token_id, edition, owner)| MintItem {
                    token_id,
                    edition,
                    owner,
                    content_hash: [token_id as u8; 32],
                })
                .collect(),
        }
    }

    fn transfer(token_id: u64, to: Address) -> Operation {
        Operation::Transfer {
            collection: c("c1"),
            token_id,
            to,
        }
    }

    #[test]
    fn every_rule_and_rejection_in_both_suites() {
        for suite in Suite::ALL {
            let mut w = World::new(suite);
            let (op, alice, bob) = (w.operator.clone(), w.alice.clone(), w.bob.clone());
            let (a, b) = (w.addr(&alice), w.addr(&bob));

            // Only operators create; caps are positive; ids are unique.
            assert_eq!(w.run(&alice, create(3)), Err(Rejection::NotOperator));
            assert_eq!(w.run(&op, create(0)), Err(Rejection::InvalidSupplyCap));
            assert_eq!(w.run(&op, create(3)), Ok(()));
            assert_eq!(w.run(&op, create(3)), Err(Rejection::CollectionExists));

            // Minting: operator only, known collection, unique ids and editions, within the cap.
            assert_eq!(
                w.run(&alice, mint(&[(1, 1, a)])),
                Err(Rejection::NotOperator)
            );
            let other = Operation::Mint {
                collection: c("nope"),
                items: vec![MintItem {
                    token_id: 1,
                    edition: 1,
                    owner: a,
                    content_hash: [0; 32],
                }],
            };
            assert_eq!(w.run(&op, other), Err(Rejection::CollectionNotFound));
            assert_eq!(
                w.run(&op, mint(&[(1, 0, a)])),
                Err(Rejection::EditionOutOfRange)
            );
            assert_eq!(
                w.run(&op, mint(&[(1, 4, a)])),
                Err(Rejection::EditionOutOfRange)
            );
            assert_eq!(
                w.run(&op, mint(&[(1, 1, a), (1, 2, a)])),
                Err(Rejection::TokenExists)
            );
            assert_eq!(
                w.run(&op, mint(&[(1, 1, a), (2, 1, a)])),
                Err(Rejection::EditionTaken)
            );
            assert_eq!(
                w.run(&op, mint(&[(1, 1, a), (2, 2, a), (3, 3, a), (4, 3, a)])),
                Err(Rejection::SupplyCapExceeded)
            );
            assert_eq!(w.run(&op, mint(&[(1, 1, a), (2, 2, a)])), Ok(()));
            assert_eq!(w.run(&op, mint(&[(1, 3, a)])), Err(Rejection::TokenExists));
            assert_eq!(w.run(&op, mint(&[(3, 2, a)])), Err(Rejection::EditionTaken));
            assert_eq!(w.run(&op, mint(&[(3, 1, b)])), Err(Rejection::EditionTaken));
            assert_eq!(w.run(&op, mint(&[(3, 3, b)])), Ok(()));
            assert_eq!(
                w.run(&op, mint(&[(4, 3, b)])),
                Err(Rejection::SupplyCapExceeded)
            );
            assert_eq!(w.ledger.collection(&c("c1")).unwrap().minted, 3);

            // Transfers: signed by the owner, not to oneself, not frozen, not burned.
            assert_eq!(w.run(&bob, transfer(1, b)), Err(Rejection::NotOwner));
            assert_eq!(
                w.run(&op, transfer(1, b)),
                Err(Rejection::NotOwner),
                "operators cannot move users' tokens"
            );
            assert_eq!(w.run(&alice, transfer(1, a)), Err(Rejection::SelfTransfer));
            assert_eq!(w.run(&alice, transfer(9, b)), Err(Rejection::TokenNotFound));
            assert_eq!(w.run(&alice, transfer(1, b)), Ok(()));
            assert_eq!(w.ledger.token(&c("c1"), 1).unwrap().owner, b);
            assert_eq!(w.ledger.holdings(&a), vec![(c("c1"), 2)]);
            assert_eq!(w.ledger.holdings(&b), vec![(c("c1"), 1), (c("c1"), 3)]);

            // Freeze and unfreeze: operator only, with state checks.
            let freeze = |id| Operation::Freeze {
                collection: c("c1"),
                token_id: id,
                reason: 7,
            };
            let unfreeze = |id| Operation::Unfreeze {
                collection: c("c1"),
                token_id: id,
                reason: 8,
            };
            assert_eq!(w.run(&bob, freeze(1)), Err(Rejection::NotOperator));
            assert_eq!(w.run(&op, unfreeze(1)), Err(Rejection::NotFrozen));
            assert_eq!(w.run(&op, freeze(1)), Ok(()));
            assert_eq!(w.run(&op, freeze(1)), Err(Rejection::AlreadyFrozen));
            assert_eq!(w.run(&bob, transfer(1, a)), Err(Rejection::TokenFrozen));
            assert_eq!(w.ledger.token(&c("c1"), 1).unwrap().frozen, Some(7));
            assert_eq!(w.run(&op, unfreeze(1)), Ok(()));
            assert_eq!(w.run(&bob, transfer(1, a)), Ok(()));

            // Burn: operator only; burned tokens are gone for every operation.
            let burn = |id| Operation::Burn {
                collection: c("c1"),
                token_id: id,
            };
            assert_eq!(w.run(&alice, burn(1)), Err(Rejection::NotOperator));
            assert_eq!(w.run(&op, burn(1)), Ok(()));
            assert_eq!(w.run(&op, burn(1)), Err(Rejection::TokenBurned));
            assert_eq!(w.run(&alice, transfer(1, b)), Err(Rejection::TokenBurned));
            assert_eq!(w.run(&op, freeze(1)), Err(Rejection::TokenBurned));
            assert_eq!(
                w.run(&op, mint(&[(1, 1, a)])),
                Err(Rejection::SupplyCapExceeded),
                "burning frees no supply"
            );
            assert_eq!(w.ledger.live_token_count(), 2);
            assert!(!w.ledger.holdings(&a).contains(&(c("c1"), 1)));

            // Replays are refused with their own code.
            let tx = w.signed(&alice, transfer(2, b));
            assert_eq!(w.submit(&tx), Ok(()));
            assert_eq!(w.submit(&tx), Err(Rejection::Replayed));

            // Another suite's transaction is refused.
            let other_suite = if suite == Suite::Ed25519Sha256 {
                Suite::Sm2Sm3
            } else {
                Suite::Ed25519Sha256
            };
            let k = SigningKey::from_secret(other_suite, &[1; 32]).unwrap();
            let tx = Transaction {
                suite: other_suite,
                nonce: 1,
                signer: k.public_key(),
                operation: create(1),
            }
            .sign(&k);
            assert_eq!(w.submit(&tx), Err(Rejection::WrongSuite));

            // Histories: token 1 was minted, moved, frozen, unfrozen, moved, burned.
            assert_eq!(w.ledger.token(&c("c1"), 1).unwrap().history.len(), 6);
            assert!(w.ledger.address_history(&a).len() >= 4);
            assert_eq!(w.ledger.tx_count(), w.leaf);
        }
    }

    #[test]
    fn rejection_codes_are_unique_snake_case() {
        let codes: HashSet<&str> = Rejection::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Rejection::ALL.len());
        assert!(
            codes
                .iter()
                .all(|c| c.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
        );
    }
}
