//! The chain through its public API, on real files: commit, query, prove,
//! reopen, check, damage.

use std::path::Path;
use std::sync::Arc;

use shucang_chain::{
    Address, Chain, ChainConfig, ChainError, CollectionId, MintItem, NewCollection, Operation,
    Receipt, Rejection, SignedTransaction, SigningKey, SubmitError, Transaction,
};
use shucang_verify::{Suite, merkle};

struct Keys {
    node: SigningKey,
    alice: SigningKey,
    bob: SigningKey,
}

fn keys(suite: Suite) -> Keys {
    Keys {
        node: SigningKey::from_secret(suite, &[11; 32]).unwrap(),
        alice: SigningKey::from_secret(suite, &[12; 32]).unwrap(),
        bob: SigningKey::from_secret(suite, &[13; 32]).unwrap(),
    }
}

fn config(dir: &Path, node: &SigningKey) -> ChainConfig {
    ChainConfig {
        dir: dir.to_owned(),
        origin: "shucang.test/chain".into(),
        node_key: node.clone(),
        extra_operators: vec![],
        verify_threads: 2,
        clock: Arc::new(|| 1_795_824_000_000),
    }
}

/// A new chain of `suite` in a fresh folder, with its keys.
fn new_chain(suite: Suite) -> (tempfile::TempDir, Keys, Chain) {
    let dir = tempfile::tempdir().unwrap();
    let k = keys(suite);
    let (chain, _) = Chain::open(config(dir.path(), &k.node)).unwrap();
    (dir, k, chain)
}

fn signed(key: &SigningKey, nonce: u64, operation: Operation) -> SignedTransaction {
    Transaction::signed_by(key, nonce, operation)
}

/// Submits `operation`, signed by the node with `nonce`; the receipt.
fn by_node(chain: &Chain, k: &Keys, nonce: u64, operation: Operation) -> Receipt {
    chain
        .submit_blocking(signed(&k.node, nonce, operation))
        .unwrap()
}

fn coll() -> CollectionId {
    CollectionId::parse("feitian").unwrap()
}

fn create(cap: u64) -> Operation {
    Operation::CreateCollection(NewCollection {
        collection: coll(),
        name: "飞天".into(),
        symbol: "FT".into(),
        supply_cap: cap,
        issuer: "敦煌文创".into(),
        metadata_uri: "https://example.cn/feitian.json".into(),
        metadata_hash: [3; 32],
    })
}

fn mint_to(owner: Address, ids: std::ops::Range<u64>) -> Operation {
    Operation::Mint {
        collection: coll(),
        items: ids
            .map(|i| MintItem::edition(i, owner, [i as u8; 32]))
            .collect(),
    }
}

fn addr(k: &SigningKey) -> Address {
    Address::of_public_key(k.suite(), &k.public_key())
}

/// Verifies a proof bundle exactly as an offline verifier would.
fn verify_bundle(b: &shucang_chain::ProofBundle, public_key: &[u8]) -> Result<(), String> {
    let bundle = shucang_verify::bundle::Bundle {
        tx: &b.tx,
        tx_hash: Some(b.tx_hash),
        leaf_index: b.leaf_index,
        tree_size: Some(b.tree_size),
        path: &b.path,
        checkpoint: &b.checkpoint,
    };
    shucang_verify::bundle::verify_bundle(b.suite, public_key, &bundle)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn commit_query_prove_reopen_in_both_suites() {
    for suite in Suite::ALL {
        let dir = tempfile::tempdir().unwrap();
        let k = keys(suite);
        let (chain, report) = Chain::open(config(dir.path(), &k.node)).unwrap();
        assert!(report.created);
        let r1 = by_node(&chain, &k, 1, create(100));
        assert_eq!((r1.height, r1.index, r1.leaf), (1, 0, 0));
        let r2 = by_node(&chain, &k, 2, mint_to(addr(&k.alice), 1..4));
        let r3 = chain
            .submit_blocking(signed(
                &k.alice,
                1,
                Operation::Transfer {
                    collection: coll(),
                    token_id: 2,
                    to: addr(&k.bob),
                },
            ))
            .unwrap();
        assert_eq!(r3.leaf, 2);

        // Refusals change nothing and carry their code.
        let replay = signed(&k.node, 2, mint_to(addr(&k.alice), 1..4));
        assert_eq!(
            chain.submit_blocking(replay),
            Err(SubmitError::Rejected(Rejection::Replayed))
        );
        let mut forged = signed(
            &k.alice,
            2,
            Operation::Transfer {
                collection: coll(),
                token_id: 1,
                to: addr(&k.bob),
            },
        );
        forged.signature[0] ^= 1;
        assert_eq!(
            chain.submit_blocking(forged),
            Err(SubmitError::Rejected(Rejection::BadSignature))
        );
        let steal = signed(
            &k.bob,
            1,
            Operation::Transfer {
                collection: coll(),
                token_id: 1,
                to: addr(&k.bob),
            },
        );
        assert_eq!(
            chain.submit_blocking(steal),
            Err(SubmitError::Rejected(Rejection::NotOwner))
        );
        let stats = chain.stats().unwrap();
        assert_eq!(
            (
                stats.height,
                stats.tx_count,
                stats.token_count,
                stats.collection_count
            ),
            (3, 3, 3, 1)
        );
        assert_eq!(stats.suite, suite);
        assert_eq!(stats.node_key, k.node.public_key());

        // Queries.
        let tx = chain.tx(&r2.tx_hash).unwrap().unwrap();
        assert_eq!((tx.info.height, tx.leaf), (2, 1));
        assert!(matches!(tx.tx.tx.operation, Operation::Mint { .. }));
        let (token, history) = chain.token(&coll(), 2).unwrap().unwrap();
        assert_eq!(token.owner, addr(&k.bob));
        assert_eq!(
            history.iter().map(|t| t.info.tx_hash).collect::<Vec<_>>(),
            vec![r2.tx_hash, r3.tx_hash]
        );
        let alice = chain.address(&addr(&k.alice), 0, 10).unwrap().unwrap();
        assert_eq!(alice.holdings, vec![(coll(), 1), (coll(), 3)]);
        assert_eq!(alice.holdings_total, 2);
        assert_eq!(alice.history.len(), 2);
        // A page copies only itself.
        let second = chain.address(&addr(&k.alice), 1, 1).unwrap().unwrap();
        assert_eq!(
            (second.holdings, second.holdings_total),
            (vec![(coll(), 3)], 2)
        );
        assert!(chain.address(&Address([0; 20]), 0, 10).unwrap().is_none());
        assert!(!chain.address_known(&Address([0; 20])).unwrap());
        // The per-minute counts add up to every transaction; a span after
        // the last block counts none.
        let all = chain.tx_per_minute(0, 1).unwrap();
        assert_eq!(all, vec![chain.stats().unwrap().tx_count]);
        assert_eq!(chain.tx_per_minute(u64::MAX, 3).unwrap(), vec![0, 0, 0]);
        let (block, hashes) = chain.block(3).unwrap().unwrap();
        assert_eq!(hashes, vec![r3.tx_hash]);
        assert_eq!(chain.block_height(&block.hash).unwrap(), Some(3));
        assert!(chain.block(4).unwrap().is_none() && chain.block(0).unwrap().is_none());
        let latest = chain.blocks(None, 2).unwrap();
        assert_eq!(
            latest.iter().map(|b| b.header.height).collect::<Vec<_>>(),
            vec![3, 2]
        );
        assert_eq!(chain.blocks(Some(2), 10).unwrap().len(), 1);
        assert_eq!(chain.collection(&coll()).unwrap().unwrap().minted, 3);

        // Proofs verify offline; with another key they do not.
        let bundle = chain.proof(&r1.tx_hash).unwrap().unwrap();
        verify_bundle(&bundle, &k.node.public_key()).unwrap();
        assert!(verify_bundle(&bundle, &k.alice.public_key()).is_err());
        let mut bad = bundle.clone();
        bad.tx[5] ^= 1;
        assert!(verify_bundle(&bad, &k.node.public_key()).is_err());
        let (proof, a, b) = chain.consistency(1, 3).unwrap().unwrap();
        merkle::verify_consistency(suite, 1, 3, &proof, &a, &b).unwrap();
        assert!(chain.consistency(0, 3).unwrap().is_none());
        assert!(chain.consistency(2, 4).unwrap().is_none());

        // Reopen: the same state from the log.
        drop(chain);
        let (chain, report) = Chain::open(config(dir.path(), &k.node)).unwrap();
        assert!(!report.created && report.torn_tail.is_none());
        assert_eq!((report.blocks, report.txs), (3, 3));
        assert_eq!(
            chain.token(&coll(), 2).unwrap().unwrap().0.owner,
            addr(&k.bob)
        );
        assert_eq!(
            chain.submit_blocking(signed(&k.node, 2, mint_to(addr(&k.alice), 1..4))),
            Err(SubmitError::Rejected(Rejection::Replayed))
        );
        verify_bundle(
            &chain.proof(&r3.tx_hash).unwrap().unwrap(),
            &k.node.public_key(),
        )
        .unwrap();
        drop(chain);
        let report = shucang_chain::check(dir.path(), 2).unwrap();
        assert_eq!((report.blocks, report.txs, report.suite), (3, 3, suite));
    }
}

#[test]
fn concurrent_submissions_share_blocks() {
    let (dir, k, chain) = new_chain(Suite::Ed25519Sha256);
    by_node(&chain, &k, 0, create(10_000));
    let chain = Arc::new(chain);
    let owner = addr(&k.alice);
    let threads: Vec<_> = (0..8u64)
        .map(|t| {
            let chain = chain.clone();
            let node = k.node.clone();
            std::thread::spawn(move || {
                (0..50u64)
                    .map(|i| {
                        let id = t * 50 + i + 1;
                        chain
                            .submit_blocking(signed(&node, id, mint_to(owner, id..id + 1)))
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let receipts: Vec<_> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(receipts.len(), 400);
    let stats = chain.stats().unwrap();
    assert_eq!(stats.tx_count, 401);
    assert!(
        stats.height < 401,
        "group commit: {} blocks for 401 transactions",
        stats.height
    );
    let mut leaves: Vec<u64> = receipts.iter().map(|r| r.leaf).collect();
    leaves.sort_unstable();
    leaves.dedup();
    assert_eq!(leaves.len(), 400);
    drop(chain);
    shucang_chain::check(dir.path(), 2).unwrap();
}

#[test]
fn a_changed_byte_fails_the_check_naming_the_block() {
    let (dir, k, chain) = new_chain(Suite::Ed25519Sha256);
    by_node(&chain, &k, 1, create(10));
    by_node(&chain, &k, 2, mint_to(addr(&k.alice), 1..3));
    by_node(&chain, &k, 3, mint_to(addr(&k.alice), 3..4));
    let block2 = chain.block(2).unwrap().unwrap().0.location;
    drop(chain);
    let path = dir.path().join("segment-00000000.log");
    let original = std::fs::read(&path).unwrap();
    // Every byte of block 2's record: flipping it fails the check, naming block 2.
    let start = block2.offset as usize;
    let end = start + 8 + block2.len as usize;
    for i in (start..end).step_by(7) {
        let mut bytes = original.clone();
        bytes[i] ^= 0x04;
        std::fs::write(&path, &bytes).unwrap();
        let err = shucang_chain::check(dir.path(), 1).unwrap_err().to_string();
        assert!(err.contains("block 2"), "byte {i}: {err}");
        // Opening the node names the same: the file, the offset, the block.
        let Err(err) = Chain::open(config(dir.path(), &k.node)) else {
            panic!("byte {i}: opened a damaged chain");
        };
        let err = err.to_string();
        let place = format!("segment-00000000.log at offset {start}");
        assert!(
            err.contains(&place) && err.contains("block 2"),
            "byte {i}: {err}"
        );
    }
    // A forger who also fixes the checksum is caught by hashes and signatures.
    let mut bytes = original.clone();
    bytes[start + 8 + 20] ^= 0x01;
    let crc = crc32(&bytes[start + 8..end]);
    bytes[start + 4..start + 8].copy_from_slice(&crc.to_be_bytes());
    std::fs::write(&path, &bytes).unwrap();
    let err = shucang_chain::check(dir.path(), 1).unwrap_err().to_string();
    assert!(err.contains("block 2"), "{err}");
    // Opening the node refuses the damaged chain rather than skipping it.
    assert!(matches!(
        Chain::open(config(dir.path(), &k.node)),
        Err(ChainError::Invalid { .. })
    ));
    std::fs::write(&path, &original).unwrap();
    shucang_chain::check(dir.path(), 1).unwrap();
}

/// CRC-32 (IEEE), bit by bit: a second implementation for the forger.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

#[test]
fn a_torn_tail_is_cut_on_open_and_fails_the_check_until_then() {
    let (dir, k, chain) = new_chain(Suite::Sm2Sm3);
    let r = by_node(&chain, &k, 1, create(10));
    drop(chain);
    append_torn_tail(dir.path(), &[0, 0, 1, 0, 9, 9, 9, 9, 1, 1]);
    let (chain, report) = Chain::open(config(dir.path(), &k.node)).unwrap();
    assert_eq!(report.torn_tail.unwrap().bytes, 10);
    assert!(chain.tx(&r.tx_hash).unwrap().is_some());
    by_node(&chain, &k, 2, mint_to(addr(&k.bob), 1..2));
    drop(chain);
    assert_eq!(shucang_chain::check(dir.path(), 1).unwrap().blocks, 2);
}

/// Appends `tail` to the chain's one segment, as a crash would leave it,
/// and checks `chain check` calls it block 2's torn tail; the segment and
/// its length before.
fn append_torn_tail(dir: &std::path::Path, tail: &[u8]) -> (std::path::PathBuf, u64) {
    use std::io::Write;
    let path = dir.join("segment-00000000.log");
    let good = std::fs::metadata(&path).unwrap().len();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .unwrap();
    f.write_all(tail).unwrap();
    drop(f);
    let err = shucang_chain::check(dir, 1).unwrap_err().to_string();
    assert!(
        err.contains("block 2") && err.contains("torn tail"),
        "{err}"
    );
    (path, good)
}

/// A power loss after the file grew but before its data reached the disk
/// leaves a run of zeros at the end: cut like any torn tail, however long,
/// and never a whole block.
#[test]
fn a_zero_filled_tail_is_cut_on_open() {
    for zeros in [3usize, 8, 64, 65_536] {
        let (dir, k, chain) = new_chain(Suite::Ed25519Sha256);
        let r = by_node(&chain, &k, 1, create(10));
        drop(chain);
        let (path, good) = append_torn_tail(dir.path(), &vec![0; zeros]);
        let (chain, report) = Chain::open(config(dir.path(), &k.node)).unwrap();
        let torn = report.torn_tail.unwrap();
        assert_eq!((torn.bytes, torn.zero_filled), (zeros as u64, true));
        assert_eq!(
            report.blocks, 1,
            "the block is whole: nothing whole was cut"
        );
        assert!(chain.tx(&r.tx_hash).unwrap().is_some());
        drop(chain);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good);
        assert_eq!(shucang_chain::check(dir.path(), 1).unwrap().blocks, 1);
    }
}

#[test]
fn configuration_must_match_the_genesis() {
    let dir = tempfile::tempdir().unwrap();
    let k = keys(Suite::Ed25519Sha256);
    drop(Chain::open(config(dir.path(), &k.node)).unwrap());
    let other = SigningKey::from_secret(Suite::Ed25519Sha256, &[99; 32]).unwrap();
    assert!(matches!(
        Chain::open(config(dir.path(), &other)),
        Err(ChainError::GenesisMismatch { .. })
    ));
    let sm2 = SigningKey::from_secret(Suite::Sm2Sm3, &[11; 32]).unwrap();
    assert!(matches!(
        Chain::open(config(dir.path(), &sm2)),
        Err(ChainError::GenesisMismatch { .. })
    ));
    let mut bad = config(dir.path(), &k.node);
    bad.origin = "has space".into();
    assert!(matches!(Chain::open(bad), Err(ChainError::Config(_))));
    assert!(shucang_chain::check(&dir.path().join("missing"), 1).is_err());
}
