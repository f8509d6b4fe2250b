//! Replaying the stored log: every record is decoded and checked (links,
//! block signatures, roots, the rules; transaction signatures too in the
//! full [`check`]) into the state a chain serves from.

use std::collections::HashMap;
use std::path::Path;

use shucang_verify::{Hash, Suite};

use super::commit::verify_parallel;
use super::{BlockMeta, ChainError, LeafInfo, RECORD_BLOCK, RECORD_GENESIS, leaf_info};
use crate::block::{Block, Genesis};
use crate::ledger::Ledger;
use crate::merkle_log::MerkleLog;
use crate::storage::{self, RecordLocation, ScanError, StorageError};

/// Rebuilds state from stored records, checking what can be checked.
pub(super) struct Replayer {
    pub(super) genesis: Option<Genesis>,
    pub(super) genesis_hash: Hash,
    pub(super) ledger: Option<Ledger>,
    pub(super) log: Option<MerkleLog>,
    pub(super) blocks: Vec<BlockMeta>,
    pub(super) block_by_hash: HashMap<Hash, u64>,
    pub(super) leaves: Vec<LeafInfo>,
    /// Check every transaction signature (the full check) or trust them
    /// (opening a node's own log, already checked when committed).
    pub(super) verify_tx_signatures: bool,
    pub(super) verify_threads: usize,
}

impl Replayer {
    /// A scan's failure as a chain error naming both the place (file and
    /// offset) and the record: the genesis or the block after the last one
    /// replayed.
    pub(crate) fn scan_error(&self, e: ScanError<String>) -> ChainError {
        let what = match self.genesis {
            None => "genesis".to_owned(),
            Some(_) => format!("block {}", self.blocks.len() + 1),
        };
        match e {
            ScanError::Storage(StorageError::Corrupt {
                path,
                offset,
                reason,
            })
            | ScanError::Visit {
                path,
                offset,
                error: reason,
            } => ChainError::Invalid {
                path,
                offset,
                reason: format!("{what}: {reason}"),
            },
            ScanError::Storage(e) => ChainError::Storage(e),
        }
    }

    pub(super) fn new(verify_tx_signatures: bool, verify_threads: usize) -> Replayer {
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

    pub(super) fn record(&mut self, loc: RecordLocation, payload: &[u8]) -> Result<(), String> {
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
        self.blocks
            .push(BlockMeta::of(&block, hash, loc, first_leaf));
        Ok(())
    }
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
    let (_, _, torn) = scanned.map_err(|e| replayer.scan_error(e))?;
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
