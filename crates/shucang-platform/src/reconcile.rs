//! At start, what the database says is on the chain must be on it.
//!
//! The chain is made durable before the database records a mint, a
//! collection or a gift, so in normal operation nothing can be missing.
//! A chain directory older than the database (restored from an old backup,
//! or damaged and cut) would leave orders marked minted whose tokens do not
//! exist. The server then refuses to start and names what is missing,
//! rather than re-queueing the mints: re-minting would give the tokens new
//! blocks and times, hiding that acknowledged blocks were lost, and
//! restoring the right chain directory brings them back unchanged. The
//! operator decides.

use shucang_chain::Chain;

use crate::store::{ChainRecordKind, PaymentStore, StoreError};

/// Rows read per query while comparing.
const PAGE_ROWS: usize = 1_000;

/// A record of the database whose transaction the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MissingFromChain {
    /// What the record is.
    pub kind: ChainRecordKind,
    /// The order's, work's or gift's id.
    pub id: i64,
    /// The transaction the database names (hex).
    pub tx_hash: String,
}

impl std::fmt::Display for MissingFromChain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let what = match self.kind {
            ChainRecordKind::Mint => "order",
            ChainRecordKind::Collection => "work",
            ChainRecordKind::Gift => "gift",
        };
        write!(f, "{what} {} (transaction {})", self.id, self.tx_hash)
    }
}

/// Why the comparison could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The chain failed.
    #[error("reading the chain: {0}")]
    Chain(#[from] shucang_chain::ChainError),
}

/// Every mint, collection and gift the database records as on the chain
/// whose transaction the chain does not hold (an unreadable hash counts as
/// missing).
pub async fn missing_from_chain(
    store: &dyn PaymentStore,
    chain: &Chain,
) -> Result<Vec<MissingFromChain>, ReconcileError> {
    let mut missing = Vec::new();
    for kind in [
        ChainRecordKind::Collection,
        ChainRecordKind::Mint,
        ChainRecordKind::Gift,
    ] {
        let mut after = 0;
        loop {
            let page = store.recorded_chain_txs(kind, after, PAGE_ROWS).await?;
            for (id, tx_hash) in &page {
                let hash: Option<[u8; 32]> =
                    hex::decode(tx_hash).ok().and_then(|b| b.try_into().ok());
                let held = match hash {
                    Some(h) => chain.contains_tx(&h)?,
                    None => false,
                };
                if !held {
                    missing.push(MissingFromChain {
                        kind,
                        id: *id,
                        tx_hash: tx_hash.clone(),
                    });
                }
            }
            match page.last() {
                Some((id, _)) if page.len() == PAGE_ROWS => after = *id,
                _ => break,
            }
        }
    }
    Ok(missing)
}
