//! The running chain: opening (and replaying) the stored log, the committer
//! that turns submitted transactions into durable signed blocks, queries,
//! checkpoints and proofs, and the full offline check.
//!
//! Data flow of a submission: the caller's transaction goes into a channel;
//! one committer thread drains what is pending (up to [`BLOCK_TXS_MAX`]
//! transactions or [`BLOCK_BYTES_MAX`] bytes), checks signatures on
//! `verify_threads` threads, applies the rules in order, appends the
//! accepted ones to the Merkle log, writes one signed block with one
//! `fdatasync`, signs a new checkpoint, and only then answers every waiter.
//! Readers never see a block before it is durable: the state lock is held
//! from applying the rules until the block is on disk.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::thread::JoinHandle;

use shucang_verify::note::{Checkpoint, signature_line};
use shucang_verify::{Hash, Suite};
use tokio::sync::oneshot;

use crate::block::{
    BLOCK_TXS_MAX, Block, BlockHeader, Genesis, ORIGIN_LEN_MAX, TX_BYTES_MAX, TxSpan, tx_root,
};
use crate::keys::SigningKey;
use crate::ledger::{CollectionState, Ledger, Rejection, TokenState};
use crate::merkle_log::MerkleLog;
use crate::storage::{
    self, RecordLocation, ScanError, SegmentReader, SegmentWriter, StorageError, TornTail,
};
use crate::tx::{Address, CollectionId, SignedTransaction, verify_encoded};

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

/// Rebuilds state from stored records, checking what can be checked.
struct Replayer {
    genesis: Option<Genesis>,
    genesis_hash: Hash,
    ledger: Option<Ledger>,
    log: Option<MerkleLog>,
    blocks: Vec<BlockMeta>,
    block_by_hash: HashMap<Hash, u64>,
    leaves: Vec<LeafInfo>,
    /// Check every transaction signature (the full check) or trust them
    /// (opening a node's own log, already checked when committed).
    verify_tx_signatures: bool,
    verify_threads: usize,
}

impl Replayer {
    fn new(verify_tx_signatures: bool, verify_threads: usize) -> Replayer {
        Replayer {
            genesis: None,
            genesis_hash: [0; 32],
            ledger: None,
            log: None,
            blocks: Vec::new(),
            block_by_hash: HashMap::new(),
            leaves: Vec::new(),
            verify_tx_signatures,
            verify_threads,
        }
    }

    fn record(&mut self, loc: RecordLocation, payload: &[u8]) -> Result<(), String> {
        let (&kind, body) = payload.split_first().ok_or("empty record")?;
        match (kind, &self.genesis) {
            (RECORD_GENESIS, None) => {
                let genesis = Genesis::decode(body).map_err(|e| format!("genesis: {e}"))?;
                if !genesis.operators.contains(&genesis.node_key) {
                    return Err("genesis: the node key is not an operator".into());
                }
                self.genesis_hash = genesis.hash();
                self.ledger = Some(Ledger::new(genesis.suite, genesis.operators.clone()));
                self.log = Some(MerkleLog::new(genesis.suite));
                self.genesis = Some(genesis);
                Ok(())
            }
            (RECORD_GENESIS, Some(_)) => Err("a second genesis record".into()),
            (RECORD_BLOCK, Some(_)) => self.block(loc, body),
            (RECORD_BLOCK, None) => Err("a block before the genesis".into()),
            (kind, _) => Err(format!("unknown record kind {kind}")),
        }
    }

    fn block(&mut self, loc: RecordLocation, body: &[u8]) -> Result<(), String> {
        let height = self.blocks.len() as u64 + 1;
        let fail = |reason: String| format!("block {height}: {reason}");
        let genesis = self.genesis.as_ref().expect("checked by the caller");
        let (block, spans) = Block::decode_with_spans(body).map_err(|e| fail(e.to_string()))?;
        let h = &block.header;
        if h.height != height {
            return Err(fail(format!("says it is block {}", h.height)));
        }
        if h.suite != genesis.suite || h.proposer != genesis.node_key {
            return Err(fail("not proposed by this chain's node key".into()));
        }
        let prev = self.blocks.last().map_or(self.genesis_hash, |b| b.hash);
        if h.prev_hash != prev {
            return Err(fail("previous-block hash does not match".into()));
        }
        if let Some(last) = self.blocks.last()
            && h.timestamp_ms < last.header.timestamp_ms
        {
            return Err(fail("timestamp goes backwards".into()));
        }
        if block.txs.is_empty() || block.txs.len() != h.tx_count as usize {
            return Err(fail("transaction count does not match".into()));
        }
        block
            .verify_signature()
            .map_err(|e| fail(format!("block signature: {e}")))?;
        let encoded: Vec<&[u8]> = spans
            .iter()
            .map(|s| &body[s.offset as usize..(s.offset + s.len) as usize])
            .collect();
        let hashes: Vec<Option<Hash>> = if self.verify_tx_signatures {
            verify_parallel(&block.txs, &encoded, self.verify_threads)
        } else {
            block
                .txs
                .iter()
                .zip(&encoded)
                .map(|(tx, e)| crate::tx::tx_hash_of_encoded(tx.tx.suite, e))
                .collect()
        };
        let mut root_log = MerkleLog::new(genesis.suite);
        let ledger = self.ledger.as_mut().expect("set with the genesis");
        let log = self.log.as_mut().expect("set with the genesis");
        let first_leaf = log.size();
        for (i, ((tx, enc), hash)) in block.txs.iter().zip(&encoded).zip(hashes).enumerate() {
            let hash = hash.ok_or_else(|| fail(format!("transaction {i}: bad signature")))?;
            let leaf = log.size();
            ledger
                .apply(tx, hash, leaf)
                .map_err(|r| fail(format!("transaction {i} breaks a rule: {r}")))?;
            log.append(enc);
            root_log.append(enc);
            self.leaves
                .push(leaf_info(hash, height, i as u32, loc, spans[i]));
        }
        if root_log.root() != h.tx_root {
            return Err(fail("transaction root does not match".into()));
        }
        if log.size() != h.log_size || log.root() != h.log_root {
            return Err(fail("log size or root does not match".into()));
        }
        let hash = h.hash();
        self.block_by_hash.insert(hash, height);
        self.blocks.push(BlockMeta {
            header: block.header,
            hash,
            signature: block.signature,
            location: loc,
            first_leaf,
        });
        Ok(())
    }
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

/// Checks signatures of `txs` (with their encodings) on up to `threads`
/// threads; returns each transaction's hash, or `None` where the signature
/// is bad. The committer uses exactly this; benchmarks measure it bare.
pub fn verify_parallel(
    txs: &[SignedTransaction],
    encoded: &[&[u8]],
    threads: usize,
) -> Vec<Option<Hash>> {
    let one = |(tx, enc): (&SignedTransaction, &&[u8])| verify_encoded(tx, enc).ok();
    let threads = threads.max(1);
    if threads == 1 || txs.len() < 2 * threads {
        return txs.iter().zip(encoded).map(one).collect();
    }
    let chunk = txs.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = txs
            .chunks(chunk)
            .zip(encoded.chunks(chunk))
            .map(|(t, e)| scope.spawn(move || t.iter().zip(e).map(one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("signature checks do not panic"))
            .collect()
    })
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

fn invalid<E: std::fmt::Display>(e: ScanError<E>) -> ChainError {
    match e {
        ScanError::Storage(e) => ChainError::Storage(e),
        ScanError::Visit {
            path,
            offset,
            error,
        } => ChainError::Invalid {
            path,
            offset,
            reason: error.to_string(),
        },
    }
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
                .map_err(invalid)?;
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

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.shared.genesis
    }

    /// The chain directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// Chain-wide figures.
    pub fn stats(&self) -> Result<ChainStats, ChainError> {
        let s = self.state()?;
        let recent: Vec<&BlockMeta> = s.blocks.iter().rev().take(RECENT_TPS_BLOCKS).collect();
        let recent_tps = match (recent.first(), recent.last()) {
            (Some(newest), Some(oldest)) if recent.len() > 1 => {
                let txs: u64 = recent[..recent.len() - 1]
                    .iter()
                    .map(|b| u64::from(b.header.tx_count))
                    .sum();
                let ms = newest
                    .header
                    .timestamp_ms
                    .saturating_sub(oldest.header.timestamp_ms)
                    // A rate is quoted over at least a second: a few
                    // transactions committed within one millisecond are
                    // not thousands per second.
                    .max(1_000);
                txs as f64 * 1000.0 / ms as f64
            }
            _ => 0.0,
        };
        Ok(ChainStats {
            suite: self.shared.genesis.suite,
            origin: self.shared.genesis.origin.clone(),
            genesis_hash: self.shared.genesis_hash,
            node_key: self.shared.genesis.node_key.clone(),
            height: s.blocks.len() as u64,
            tx_count: s.log.size(),
            token_count: s.ledger.live_token_count(),
            collection_count: s.ledger.collection_count(),
            recent_tps,
        })
    }

    /// Up to `limit` blocks below height `before` (or from the top), newest first.
    pub fn blocks(&self, before: Option<u64>, limit: usize) -> Result<Vec<BlockMeta>, ChainError> {
        let s = self.state()?;
        let top = before.map_or(s.blocks.len() as u64, |b| {
            b.saturating_sub(1).min(s.blocks.len() as u64)
        });
        Ok((1..=top)
            .rev()
            .take(limit)
            .map(|h| s.blocks[h as usize - 1].clone())
            .collect())
    }

    /// A block and the hashes of its transactions.
    pub fn block(&self, height: u64) -> Result<Option<(BlockMeta, Vec<Hash>)>, ChainError> {
        let s = self.state()?;
        let Some(meta) = height.checked_sub(1).and_then(|i| s.blocks.get(i as usize)) else {
            return Ok(None);
        };
        let first = meta.first_leaf as usize;
        let hashes = s.leaves[first..first + meta.header.tx_count as usize]
            .iter()
            .map(|l| l.tx_hash)
            .collect();
        Ok(Some((meta.clone(), hashes)))
    }

    /// The height of the block with this hash.
    pub fn block_height(&self, hash: &Hash) -> Result<Option<u64>, ChainError> {
        Ok(self.state()?.block_by_hash.get(hash).copied())
    }

    fn read_leaf(&self, s: &State, leaf: u64) -> Result<TxRecord, ChainError> {
        let info = s.leaves[leaf as usize];
        let loc = RecordLocation {
            segment: info.segment,
            offset: info.file_offset - RECORD_HEADER_LEN,
            len: info.len,
        };
        let encoded = self.shared.reader.read(loc)?;
        let tx = SignedTransaction::decode(&encoded).map_err(|e| ChainError::Invalid {
            path: self.shared.dir.clone(),
            offset: info.file_offset,
            reason: format!("block {} transaction {}: {e}", info.height, info.index),
        })?;
        let timestamp_ms = s.blocks[info.height as usize - 1].header.timestamp_ms;
        Ok(TxRecord {
            tx,
            encoded,
            info,
            leaf,
            timestamp_ms,
        })
    }

    /// A committed transaction by hash.
    pub fn tx(&self, hash: &Hash) -> Result<Option<TxRecord>, ChainError> {
        let s = self.state()?;
        match s.ledger.tx_leaf(hash) {
            Some(leaf) => Ok(Some(self.read_leaf(&s, leaf)?)),
            None => Ok(None),
        }
    }

    /// Transactions by leaf index (for histories).
    pub fn txs_at(&self, leaves: &[u64]) -> Result<Vec<TxRecord>, ChainError> {
        let s = self.state()?;
        leaves
            .iter()
            .filter(|&&l| l < s.log.size())
            .map(|&l| self.read_leaf(&s, l))
            .collect()
    }

    /// An address: what it holds and (up to [`ADDRESS_HISTORY_MAX`], newest
    /// first) the transactions that touched it; `None` if it never appeared.
    #[allow(clippy::type_complexity)]
    pub fn address(
        &self,
        address: &Address,
    ) -> Result<Option<(Vec<(CollectionId, u64)>, Vec<TxRecord>)>, ChainError> {
        let s = self.state()?;
        if !s.ledger.address_known(address) {
            return Ok(None);
        }
        let holdings = s.ledger.holdings(address);
        let history = s
            .ledger
            .address_history(address)
            .iter()
            .rev()
            .take(ADDRESS_HISTORY_MAX)
            .map(|&l| self.read_leaf(&s, l))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((holdings, history)))
    }

    /// A token and its full history, oldest first.
    pub fn token(
        &self,
        collection: &CollectionId,
        token_id: u64,
    ) -> Result<Option<(TokenState, Vec<TxRecord>)>, ChainError> {
        let s = self.state()?;
        let Some(token) = s.ledger.token(collection, token_id).cloned() else {
            return Ok(None);
        };
        let history = token
            .history
            .iter()
            .map(|&l| self.read_leaf(&s, l))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((token, history)))
    }

    /// A collection.
    pub fn collection(&self, id: &CollectionId) -> Result<Option<CollectionState>, ChainError> {
        Ok(self.state()?.ledger.collection(id).cloned())
    }

    /// A collection with `tokens` cut to `limit` ids from `offset` (in mint
    /// order): what a page shows, without copying every id of a large
    /// collection.
    pub fn collection_page(
        &self,
        id: &CollectionId,
        offset: usize,
        limit: usize,
    ) -> Result<Option<CollectionState>, ChainError> {
        let s = self.state()?;
        Ok(s.ledger.collection(id).map(|c| {
            let start = offset.min(c.tokens.len());
            let end = start.saturating_add(limit).min(c.tokens.len());
            CollectionState {
                id: c.id.clone(),
                name: c.name.clone(),
                symbol: c.symbol.clone(),
                supply_cap: c.supply_cap,
                issuer: c.issuer.clone(),
                metadata_uri: c.metadata_uri.clone(),
                metadata_hash: c.metadata_hash,
                created_by: c.created_by,
                minted: c.minted,
                burned: c.burned,
                tokens: c.tokens[start..end].to_vec(),
            }
        }))
    }

    /// The latest signed checkpoint (C2SP signed-note text).
    pub fn checkpoint(&self) -> Result<String, ChainError> {
        Ok(self.state()?.checkpoint.clone())
    }

    /// The inclusion proof of a transaction against the latest checkpoint.
    pub fn proof(&self, tx_hash: &Hash) -> Result<Option<ProofBundle>, ChainError> {
        let s = self.state()?;
        let Some(leaf) = s.ledger.tx_leaf(tx_hash) else {
            return Ok(None);
        };
        let record = self.read_leaf(&s, leaf)?;
        let size = s.log.size();
        let path = s
            .log
            .inclusion_proof(leaf, size)
            .expect("a committed leaf is inside the log");
        Ok(Some(ProofBundle {
            suite: self.shared.genesis.suite,
            tx_hash: *tx_hash,
            height: record.info.height,
            tx: record.encoded,
            leaf_index: leaf,
            tree_size: size,
            path,
            checkpoint: s.checkpoint.clone(),
        }))
    }

    /// The consistency proof between two log sizes and both roots, or `None`
    /// unless `1 <= from <= to <= size`.
    #[allow(clippy::type_complexity)]
    pub fn consistency(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Option<(Vec<Hash>, Hash, Hash)>, ChainError> {
        let s = self.state()?;
        let Some(proof) = s.log.consistency_proof(from, to) else {
            return Ok(None);
        };
        let roots = (s.log.root_at(from), s.log.root_at(to));
        Ok(match roots {
            (Some(a), Some(b)) => Some((proof, a, b)),
            _ => None,
        })
    }
}

impl Drop for Chain {
    fn drop(&mut self) {
        self.close();
    }
}

fn commit_loop(
    shared: &Shared,
    mut writer: SegmentWriter,
    receiver: &mpsc::Receiver<Pending>,
    clock: &(dyn Fn() -> u64 + Send + Sync),
    threads: usize,
) {
    while let Ok(first) = receiver.recv() {
        let mut bytes = first.encoded.len();
        let mut batch = vec![first];
        while batch.len() < BLOCK_TXS_MAX && bytes < BLOCK_BYTES_MAX {
            match receiver.try_recv() {
                Ok(p) => {
                    bytes += p.encoded.len();
                    batch.push(p);
                }
                Err(_) => break,
            }
        }
        if let Err(reason) = commit_batch(shared, &mut writer, batch, clock, threads) {
            mark_stopped(shared, &reason);
            // Refuse everything still queued; new submissions see the flag.
            while let Ok(p) = receiver.try_recv() {
                let _ = p.reply.send(Err(SubmitError::Unavailable(reason.clone())));
            }
            return;
        }
    }
}

fn mark_stopped(shared: &Shared, reason: &str) {
    *shared.stopped.lock().expect("stop flag lock") = Some(reason.to_owned());
}

/// Applies, writes and answers one batch. An `Err` means the block could not
/// be made durable: the in-memory state is then ahead of the disk, so the
/// chain stops (restart replays the disk).
fn commit_batch(
    shared: &Shared,
    writer: &mut SegmentWriter,
    batch: Vec<Pending>,
    clock: &(dyn Fn() -> u64 + Send + Sync),
    threads: usize,
) -> Result<(), String> {
    let txs: Vec<SignedTransaction> = batch.iter().map(|p| p.tx.clone()).collect();
    let encoded: Vec<&[u8]> = batch.iter().map(|p| p.encoded.as_slice()).collect();
    let hashes = verify_parallel(&txs, &encoded, threads);
    drop(txs);

    let mut state = shared.state.write().expect("state lock");
    let first_leaf = state.log.size();
    let mut accepted: Vec<(Pending, Hash)> = Vec::with_capacity(batch.len());
    for (pending, hash) in batch.into_iter().zip(hashes) {
        let Some(hash) = hash else {
            let _ = pending
                .reply
                .send(Err(SubmitError::Rejected(Rejection::BadSignature)));
            continue;
        };
        let leaf = state.log.size();
        match state.ledger.apply(&pending.tx, hash, leaf) {
            Ok(()) => {
                state.log.append(&pending.encoded);
                accepted.push((pending, hash));
            }
            Err(rejection) => {
                let _ = pending.reply.send(Err(SubmitError::Rejected(rejection)));
            }
        }
    }
    if accepted.is_empty() {
        return Ok(());
    }
    let genesis = &shared.genesis;
    let height = state.blocks.len() as u64 + 1;
    let prev = state.blocks.last();
    let prev_hash = prev.map_or(shared.genesis_hash, |b| b.hash);
    let timestamp_ms = clock().max(prev.map_or(0, |b| b.header.timestamp_ms));
    let encoded: Vec<Vec<u8>> = accepted.iter().map(|(p, _)| p.encoded.clone()).collect();
    let header = BlockHeader {
        suite: genesis.suite,
        height,
        prev_hash,
        timestamp_ms,
        tx_root: tx_root(genesis.suite, &encoded),
        tx_count: accepted.len() as u32,
        log_size: state.log.size(),
        log_root: state.log.root(),
        proposer: genesis.node_key.clone(),
    };
    let (accepted_pending, accepted_hashes): (Vec<Pending>, Vec<Hash>) =
        accepted.into_iter().unzip();
    let (replies, txs): (Vec<_>, Vec<_>) = accepted_pending
        .into_iter()
        .map(|p| (p.reply, p.tx))
        .unzip();
    let block = Block::seal(header, &shared.node_key, txs);
    let (body, spans) = block.encode_with_spans();
    let mut payload = Vec::with_capacity(body.len() + 1);
    payload.push(RECORD_BLOCK);
    payload.extend_from_slice(&body);
    let loc = match writer.append(&payload) {
        Ok(loc) => loc,
        Err(e) => {
            let reason = format!("writing block {height} failed: {e}");
            for reply in replies {
                let _ = reply.send(Err(SubmitError::Unavailable(reason.clone())));
            }
            mark_stopped(shared, &reason);
            return Err(reason);
        }
    };
    let hash = block.header.hash();
    for (i, (h, span)) in accepted_hashes.iter().zip(&spans).enumerate() {
        state
            .leaves
            .push(leaf_info(*h, height, i as u32, loc, *span));
    }
    state.block_by_hash.insert(hash, height);
    state.blocks.push(BlockMeta {
        header: block.header,
        hash,
        signature: block.signature,
        location: loc,
        first_leaf,
    });
    state.checkpoint = sign_checkpoint(genesis, &shared.node_key, &state.log);
    drop(state);
    for (i, (reply, tx_hash)) in replies.into_iter().zip(accepted_hashes).enumerate() {
        let _ = reply.send(Ok(Receipt {
            tx_hash,
            height,
            index: i as u32,
            leaf: first_leaf + i as u64,
        }));
    }
    Ok(())
}

/// What a full check found.
#[derive(Debug, Clone)]
pub struct CheckReport {
    /// The suite.
    pub suite: Suite,
    /// Blocks checked.
    pub blocks: u64,
    /// Transactions checked.
    pub txs: u64,
    /// The final log root.
    pub log_root: Hash,
}

/// Re-verifies the whole chain stored in `dir` without changing it: every
/// record checksum, block hash link, block and transaction signature,
/// transaction root, rule and log root. A torn tail is a failure here
/// (starting the node cuts it).
pub fn check(dir: &Path, verify_threads: usize) -> Result<CheckReport, ChainError> {
    if !dir.is_dir() {
        return Err(ChainError::Config(format!(
            "{} is not a chain directory",
            dir.display()
        )));
    }
    let mut replayer = Replayer::new(true, verify_threads);
    let scanned = storage::scan(dir, |loc, payload| replayer.record(loc, payload));
    let (_, _, torn) = match scanned {
        Ok(found) => found,
        // Name the block whose record is damaged.
        Err(ScanError::Storage(StorageError::Corrupt {
            path,
            offset,
            reason,
        })) => {
            let what = match replayer.genesis {
                None => "genesis".to_owned(),
                Some(_) => format!("block {}", replayer.blocks.len() + 1),
            };
            return Err(ChainError::Invalid {
                path,
                offset,
                reason: format!("{what}: {reason}"),
            });
        }
        Err(e) => return Err(invalid(e)),
    };
    if let Some(t) = torn {
        return Err(ChainError::Invalid {
            path: t.path,
            offset: t.offset,
            reason: format!(
                "block {}: incomplete record ({} bytes; a torn tail, which starting the node cuts)",
                replayer.blocks.len() + 1,
                t.bytes
            ),
        });
    }
    let genesis = replayer
        .genesis
        .as_ref()
        .ok_or_else(|| ChainError::Config(format!("{} holds no chain", dir.display())))?;
    let log = replayer.log.as_ref().expect("set with the genesis");
    Ok(CheckReport {
        suite: genesis.suite,
        blocks: replayer.blocks.len() as u64,
        txs: log.size(),
        log_root: log.root(),
    })
}
