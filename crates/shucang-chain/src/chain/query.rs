//! What a running chain answers: figures, blocks, transactions, addresses,
//! tokens, collections, the latest checkpoint and proofs, all read under
//! the state lock from the in-memory indexes and the segment files.

use std::path::Path;

use shucang_verify::Hash;

use super::{
    ADDRESS_HISTORY_MAX, BlockMeta, Chain, ChainError, ChainStats, ProofBundle, RECENT_TPS_BLOCKS,
    RECORD_HEADER_LEN, State, TxRecord,
};
use crate::block::Genesis;
use crate::ledger::{CollectionState, TokenState};
use crate::storage::RecordLocation;
use crate::tx::{Address, CollectionId, SignedTransaction};

/// A page of an address ([`Chain::address`]).
#[derive(Debug, Clone)]
pub struct AddressPage {
    /// The page of what it holds: (collection, token id).
    pub holdings: Vec<(CollectionId, u64)>,
    /// How many tokens it holds in all.
    pub holdings_total: usize,
    /// The transactions that touched it, newest first.
    pub history: Vec<TxRecord>,
}

impl Chain {
    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.shared.genesis
    }

    /// The node's C2SP verifier key (`origin+id+key`): checkpoints and
    /// proofs verify with it, here or with any signed-note implementation.
    pub fn vkey(&self) -> shucang_verify::vkey::VerifierKey {
        let g = &self.shared.genesis;
        shucang_verify::vkey::VerifierKey::new(g.suite, &g.origin, &g.node_key)
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

    /// Whether a transaction is committed (from the in-memory index; no
    /// disk read).
    pub fn contains_tx(&self, hash: &Hash) -> Result<bool, ChainError> {
        Ok(self.state()?.ledger.tx_leaf(hash).is_some())
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

    /// Transactions per minute in the `minutes` minutes from `since_ms`
    /// (later blocks count in the last minute), from the newest block back
    /// to the first one before `since_ms`: nothing is copied, and the work
    /// grows with the blocks of that span only.
    pub fn tx_per_minute(&self, since_ms: u64, minutes: usize) -> Result<Vec<u64>, ChainError> {
        let s = self.state()?;
        let mut per_minute = vec![0u64; minutes.max(1)];
        let last = per_minute.len() - 1;
        for b in s.blocks.iter().rev() {
            let Some(after) = b.header.timestamp_ms.checked_sub(since_ms) else {
                break;
            };
            let minute = usize::try_from(after / 60_000).map_or(last, |m| m.min(last));
            per_minute[minute] += u64::from(b.header.tx_count);
        }
        Ok(per_minute)
    }

    /// Whether an address ever appeared on the chain.
    pub fn address_known(&self, address: &Address) -> Result<bool, ChainError> {
        Ok(self.state()?.ledger.address_known(address))
    }

    /// An address: `limit` of what it holds from `offset` (in collection
    /// and token order), how much it holds in all, and (up to
    /// [`ADDRESS_HISTORY_MAX`], newest first) the transactions that touched
    /// it; `None` if it never appeared. Only the page is copied, however
    /// much the address holds.
    pub fn address(
        &self,
        address: &Address,
        offset: usize,
        limit: usize,
    ) -> Result<Option<AddressPage>, ChainError> {
        let s = self.state()?;
        if !s.ledger.address_known(address) {
            return Ok(None);
        }
        let (holdings, holdings_total) = s.ledger.holdings_page(address, offset, limit);
        let history = s
            .ledger
            .address_history(address)
            .iter()
            .rev()
            .take(ADDRESS_HISTORY_MAX)
            .map(|&l| self.read_leaf(&s, l))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(AddressPage {
            holdings,
            holdings_total,
            history,
        }))
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
                spec: c.spec.clone(),
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
