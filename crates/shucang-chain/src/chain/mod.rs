//! The running chain: opening (and replaying) the stored log, the committer
//! that turns submitted transactions into durable signed blocks, queries,
//! checkpoints and proofs, and the full offline check.
//!
//! Data flow of a submission: the caller's transaction goes into a channel;
//! one committer thread drains what is pending (up to [`BLOCK_TXS_MAX`](crate::BLOCK_TXS_MAX)
//! transactions or [`BLOCK_BYTES_MAX`] bytes), checks signatures on
//! `verify_threads` threads, applies the rules in order, appends the
//! accepted ones to the Merkle log, writes one signed block with one
//! `fdatasync`, signs a new checkpoint, and only then answers every waiter.
//! Readers never see a block before it is durable: the state lock is held
//! from applying the rules until the block is on disk.

mod commit;
mod query;
mod replay;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;

use shucang_verify::note::{Checkpoint, signature_line};
use shucang_verify::{Hash, Suite};
use tokio::sync::oneshot;

use crate::block::{Block, BlockHeader, Genesis, ORIGIN_LEN_MAX, TX_BYTES_MAX, TxSpan};
use crate::keys::SigningKey;
use crate::ledger::{Ledger, Rejection};
use crate::merkle_log::MerkleLog;
use crate::storage::{self, RecordLocation, SegmentReader, StorageError, TornTail};
use crate::tx::SignedTransaction;
use commit::commit_loop;
use replay::Replayer;

pub use commit::verify_parallel;
pub use query::AddressPage;
pub use replay::{CheckReport, check};

/// Largest block, in encoded bytes; the committer closes a block before it.
pub const BLOCK_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Blocks over which the recent transaction rate is computed.
const RECENT_TPS_BLOCKS: usize = 100;
/// Most history entries an address query returns (newest first).
pub const ADDRESS_HISTORY_MAX: usize = 100;

const RECORD_GENESIS: u8 = 0;
const RECORD_BLOCK: u8 = 1;
/// Bytes of record kind before a block encoding in a record payload.
const RECORD_KIND_LEN: u64 = 1;
/// Bytes of record header (length, checksum) before the payload.
const RECORD_HEADER_LEN: u64 = 8;

/// How to open a chain.
#[derive(Clone)]
pub struct ChainConfig {
    /// The chain directory (`<data-dir>/chain`).
    pub dir: PathBuf,
    /// The chain name for a new genesis (ignored when the chain exists).
    pub origin: String,
    /// The node key: signs blocks and checkpoints; its suite is the chain's.
    pub node_key: SigningKey,
    /// Operator keys besides the node key, for a new genesis.
    pub extra_operators: Vec<Vec<u8>>,
    /// Threads that check signatures in parallel.
    pub verify_threads: usize,
    /// Wall clock, Unix milliseconds (block timestamps, genesis time).
    pub clock: Arc<dyn Fn() -> u64 + Send + Sync>,
}

/// What opening found.
#[derive(Debug, Clone)]
pub struct OpenReport {
    /// Whether a new genesis was written.
    pub created: bool,
    /// Blocks replayed.
    pub blocks: u64,
    /// Transactions replayed.
    pub txs: u64,
    /// An incomplete last record that was cut off.
    pub torn_tail: Option<TornTail>,
}

/// Why the chain cannot be opened or read.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The segment files failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// A stored record decodes but breaks the chain's rules.
    #[error("{path} at offset {offset}: {reason}")]
    Invalid {
        /// The segment file.
        path: PathBuf,
        /// The record's offset.
        offset: u64,
        /// What is wrong (names the block height).
        reason: String,
    },
    /// The configuration does not match the stored genesis.
    #[error("the chain in {dir} {reason}")]
    GenesisMismatch {
        /// The chain directory.
        dir: PathBuf,
        /// What differs.
        reason: String,
    },
    /// The configuration is unusable.
    #[error("invalid chain configuration: {0}")]
    Config(String),
    /// A write failed earlier; the node stopped accepting and serving to
    /// avoid showing state that is not on disk. Restart it.
    #[error("the chain stopped after a storage failure: {0}")]
    Stopped(String),
}

/// Why a submission was not committed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The chain's rules refused it.
    #[error("rejected: {0}")]
    Rejected(Rejection),
    /// The encoded transaction is larger than [`TX_BYTES_MAX`].
    #[error("the transaction is larger than {TX_BYTES_MAX} bytes")]
    TooLarge,
    /// The chain is stopped (a storage failure, or shutting down).
    #[error("the chain is not accepting transactions: {0}")]
    Unavailable(String),
}

/// Proof that a transaction was committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    /// The transaction hash.
    pub tx_hash: Hash,
    /// The block it is in.
    pub height: u64,
    /// Its position in the block.
    pub index: u32,
    /// Its leaf index in the Merkle log.
    pub leaf: u64,
}

/// A block as the chain remembers it.
#[derive(Debug, Clone)]
pub struct BlockMeta {
    /// The header.
    pub header: BlockHeader,
    /// The block hash.
    pub hash: Hash,
    /// The proposer's signature.
    pub signature: [u8; 64],
    /// Where the block's record is.
    pub location: RecordLocation,
    /// Leaf index of its first transaction.
    pub first_leaf: u64,
}

impl BlockMeta {
    /// What the index keeps of `block`, whose hash is `hash`, stored at
    /// `location`, its first transaction at leaf `first_leaf`.
    fn of(block: &Block, hash: Hash, location: RecordLocation, first_leaf: u64) -> BlockMeta {
        BlockMeta {
            header: block.header.clone(),
            hash,
            signature: block.signature,
            location,
            first_leaf,
        }
    }
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafInfo {
    /// The transaction hash.
    pub tx_hash: Hash,
    /// The block height.
    pub height: u64,
    /// Position in the block.
    pub index: u32,
    segment: u32,
    file_offset: u64,
    len: u32,
}

/// A committed transaction with its position.
#[derive(Debug, Clone)]
pub struct TxRecord {
    /// The transaction.
    pub tx: SignedTransaction,
    /// Its canonical encoding (the Merkle leaf data).
    pub encoded: Vec<u8>,
    /// Where it is.
    pub info: LeafInfo,
    /// Its leaf index.
    pub leaf: u64,
    /// The block's timestamp.
    pub timestamp_ms: u64,
}

/// Everything an offline verifier needs to check one transaction.
#[derive(Debug, Clone)]
pub struct ProofBundle {
    /// The suite.
    pub suite: Suite,
    /// The transaction hash.
    pub tx_hash: Hash,
    /// The block height.
    pub height: u64,
    /// The canonical encoding of the signed transaction (the leaf data).
    pub tx: Vec<u8>,
    /// The leaf index.
    pub leaf_index: u64,
    /// The tree size the proof is for (the checkpoint's).
    pub tree_size: u64,
    /// The inclusion path.
    pub path: Vec<Hash>,
    /// The signed checkpoint the path leads to.
    pub checkpoint: String,
}

/// Chain-wide figures.
#[derive(Debug, Clone)]
pub struct ChainStats {
    /// The suite.
    pub suite: Suite,
    /// The chain name (checkpoint origin).
    pub origin: String,
    /// The genesis hash.
    pub genesis_hash: Hash,
    /// The node's public key.
    pub node_key: Vec<u8>,
    /// Height of the last block (0 before the first).
    pub height: u64,
    /// Committed transactions.
    pub tx_count: u64,
    /// Tokens minted and not burned.
    pub token_count: u64,
    /// Collections.
    pub collection_count: u64,
    /// Transactions per second over the last blocks.
    pub recent_tps: f64,
}

struct State {
    ledger: Ledger,
    log: MerkleLog,
    blocks: Vec<BlockMeta>,
    block_by_hash: HashMap<Hash, u64>,
    leaves: Vec<LeafInfo>,
    checkpoint: String,
}

struct Shared {
    dir: PathBuf,
    genesis: Genesis,
    genesis_hash: Hash,
    node_key: SigningKey,
    reader: Arc<SegmentReader>,
    state: RwLock<State>,
    stopped: Mutex<Option<String>>,
}

struct Pending {
    tx: SignedTransaction,
    encoded: Vec<u8>,
    reply: oneshot::Sender<Result<Receipt, SubmitError>>,
}

/// An open chain. Dropping it finishes pending work and stops the committer.
pub struct Chain {
    shared: Arc<Shared>,
    sender: Mutex<Option<mpsc::Sender<Pending>>>,
    committer: Mutex<Option<JoinHandle<()>>>,
}

fn leaf_info(
    tx_hash: Hash,
    height: u64,
    index: u32,
    loc: RecordLocation,
    span: TxSpan,
) -> LeafInfo {
    LeafInfo {
        tx_hash,
        height,
        index,
        segment: loc.segment,
        file_offset: loc.offset + RECORD_HEADER_LEN + RECORD_KIND_LEN + u64::from(span.offset),
        len: span.len,
    }
}

fn sign_checkpoint(genesis: &Genesis, key: &SigningKey, log: &MerkleLog) -> String {
    let checkpoint = Checkpoint {
        origin: genesis.origin.clone(),
        size: log.size(),
        root: log.root(),
    };
    let body = checkpoint.body();
    let signature = key.sign(body.as_bytes());
    format!(
        "{body}\n{}",
        signature_line(
            genesis.suite,
            &genesis.origin,
            &key.public_key(),
            &signature
        )
    )
}

impl Chain {
    /// Opens the chain in `config.dir`, creating its genesis if the directory
    /// holds none, replaying every block, and cutting a torn tail.
    pub fn open(config: ChainConfig) -> Result<(Chain, OpenReport), ChainError> {
        if config.origin.is_empty()
            || config.origin.len() > ORIGIN_LEN_MAX
            || config.origin.contains(char::is_whitespace)
            || config.origin.contains('+')
        {
            return Err(ChainError::Config(
                "the origin must be 1 to 128 bytes without spaces or '+'".into(),
            ));
        }
        let suite = config.node_key.suite();
        for k in &config.extra_operators {
            if k.len() != suite.public_key_len() {
                return Err(ChainError::Config(format!(
                    "an operator key is not a {} public key",
                    suite.name()
                )));
            }
        }
        let mut replayer = Replayer::new(false, config.verify_threads);
        let (mut writer, torn_tail) =
            storage::open(&config.dir, |loc, payload| replayer.record(loc, payload))
                .map_err(|e| replayer.scan_error(e))?;
        let created = replayer.genesis.is_none();
        if created {
            let mut operators = vec![config.node_key.public_key()];
            operators.extend(
                config
                    .extra_operators
                    .iter()
                    .filter(|k| **k != config.node_key.public_key())
                    .cloned(),
            );
            let genesis = Genesis {
                suite,
                origin: config.origin.clone(),
                created_at_ms: (config.clock)(),
                node_key: config.node_key.public_key(),
                operators,
            };
            let mut payload = vec![RECORD_GENESIS];
            payload.extend_from_slice(&genesis.encode());
            let loc = writer.append(&payload)?;
            replayer
                .record(loc, &payload)
                .map_err(|reason| ChainError::Invalid {
                    path: config.dir.clone(),
                    offset: 0,
                    reason,
                })?;
        }
        let genesis = replayer.genesis.clone().expect("read or created above");
        if genesis.suite != suite {
            return Err(ChainError::GenesisMismatch {
                dir: config.dir.clone(),
                reason: format!(
                    "uses the {} suite, but the node key is {}",
                    genesis.suite.name(),
                    suite.name()
                ),
            });
        }
        if genesis.node_key != config.node_key.public_key() {
            return Err(ChainError::GenesisMismatch {
                dir: config.dir.clone(),
                reason: "was created with another node key".into(),
            });
        }
        let log = replayer.log.take().expect("set with the genesis");
        let report = OpenReport {
            created,
            blocks: replayer.blocks.len() as u64,
            txs: log.size(),
            torn_tail,
        };
        let checkpoint = sign_checkpoint(&genesis, &config.node_key, &log);
        let state = State {
            ledger: replayer.ledger.take().expect("set with the genesis"),
            log,
            blocks: std::mem::take(&mut replayer.blocks),
            block_by_hash: std::mem::take(&mut replayer.block_by_hash),
            leaves: std::mem::take(&mut replayer.leaves),
            checkpoint,
        };
        let shared = Arc::new(Shared {
            dir: config.dir.clone(),
            genesis_hash: replayer.genesis_hash,
            genesis,
            node_key: config.node_key.clone(),
            reader: writer.reader(),
            state: RwLock::new(state),
            stopped: Mutex::new(None),
        });
        let (sender, receiver) = mpsc::channel();
        let committer = {
            let shared = shared.clone();
            let clock = config.clock.clone();
            let threads = config.verify_threads.max(1);
            std::thread::Builder::new()
                .name("chain-committer".into())
                .spawn(move || commit_loop(&shared, writer, &receiver, &*clock, threads))
                .map_err(|e| {
                    ChainError::Config(format!("cannot start the committer thread: {e}"))
                })?
        };
        Ok((
            Chain {
                shared,
                sender: Mutex::new(Some(sender)),
                committer: Mutex::new(Some(committer)),
            },
            report,
        ))
    }

    fn enqueue(
        &self,
        tx: SignedTransaction,
    ) -> Result<oneshot::Receiver<Result<Receipt, SubmitError>>, SubmitError> {
        if let Some(reason) = self.shared.stopped.lock().expect("stop flag lock").clone() {
            return Err(SubmitError::Unavailable(reason));
        }
        let encoded = tx.encode();
        if encoded.len() > TX_BYTES_MAX {
            return Err(SubmitError::TooLarge);
        }
        let (reply, receiver) = oneshot::channel();
        let sender = self.sender.lock().expect("sender lock");
        let sender = sender
            .as_ref()
            .ok_or_else(|| SubmitError::Unavailable("shutting down".into()))?;
        sender
            .send(Pending { tx, encoded, reply })
            .map_err(|_| SubmitError::Unavailable("the committer stopped".into()))?;
        Ok(receiver)
    }

    /// Submits a transaction and waits until it is durable in a block (or refused).
    pub async fn submit(&self, tx: SignedTransaction) -> Result<Receipt, SubmitError> {
        let receiver = self.enqueue(tx)?;
        receiver
            .await
            .unwrap_or_else(|_| Err(SubmitError::Unavailable("the committer stopped".into())))
    }

    /// [`Chain::submit`] for threads outside an async runtime.
    pub fn submit_blocking(&self, tx: SignedTransaction) -> Result<Receipt, SubmitError> {
        let receiver = self.enqueue(tx)?;
        receiver
            .blocking_recv()
            .unwrap_or_else(|_| Err(SubmitError::Unavailable("the committer stopped".into())))
    }

    /// Finishes pending work and stops the committer.
    pub fn close(&self) {
        self.sender.lock().expect("sender lock").take();
        if let Some(handle) = self.committer.lock().expect("committer lock").take() {
            let _ = handle.join();
        }
    }

    fn state(&self) -> Result<RwLockReadGuard<'_, State>, ChainError> {
        if let Some(reason) = self.shared.stopped.lock().expect("stop flag lock").clone() {
            return Err(ChainError::Stopped(reason));
        }
        Ok(self.shared.state.read().expect("state lock"))
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        self.close();
    }
}
