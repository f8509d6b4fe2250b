//! The committer: one thread drains pending submissions into a batch,
//! checks their signatures in parallel, applies the rules under the state
//! lock, writes one signed block with one `fdatasync`, signs the new
//! checkpoint and only then answers every waiter.

use std::sync::mpsc;

use shucang_verify::Hash;

use super::{
    BLOCK_BYTES_MAX, BlockMeta, Pending, RECORD_BLOCK, Receipt, Shared, SubmitError, leaf_info,
    sign_checkpoint,
};
use crate::block::{BLOCK_TXS_MAX, Block, BlockHeader, tx_root};
use crate::ledger::Rejection;
use crate::storage::SegmentWriter;
use crate::tx::{SignedTransaction, verify_encoded};

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

pub(super) fn commit_loop(
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
    state
        .blocks
        .push(BlockMeta::of(&block, hash, loc, first_leaf));
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
