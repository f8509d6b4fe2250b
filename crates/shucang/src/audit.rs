//! `shucang chain audit`: an outsider checks that a node's log only grew
//! since a checkpoint they kept, trusting nothing the node says but what
//! its key signed.
//!
//! 1. The kept checkpoint verifies under the node's key.
//! 2. The node's current checkpoint (`GET /api/v1/chain/checkpoint`)
//!    verifies under the same key, for the same log.
//! 3. It is not smaller; at the same size it has the same root.
//! 4. The RFC 9162 consistency proof the node serves
//!    (`GET /api/v1/chain/consistency`) proves the kept root is a prefix
//!    of the current one — checked against the two signed roots, never
//!    against roots the answer states.
//!
//! Each failed step has its own exit code ([`AuditFailure::exit_code`]).

use shucang_verify::merkle::verify_consistency;
use shucang_verify::note::{Checkpoint, verify_checkpoint_by};
use shucang_verify::vkey::VerifierKey;

/// What a passed audit found.
#[derive(Debug)]
pub struct Audited {
    /// The kept checkpoint.
    pub since: Checkpoint,
    /// The node's current one (verified), and its text, to keep for next time.
    pub now: Checkpoint,
    /// The current checkpoint's signed note.
    pub now_text: String,
}

/// Why an audit failed.
#[derive(Debug, thiserror::Error)]
pub enum AuditFailure {
    /// The node could not be asked, or answered nonsense.
    #[error("{0}")]
    Unreachable(String),
    /// The kept checkpoint does not verify under the key.
    #[error("the kept checkpoint does not verify: {0}")]
    KeptCheckpoint(String),
    /// The node's current checkpoint does not verify under the key.
    #[error("the node's current checkpoint does not verify: {0}")]
    CurrentCheckpoint(String),
    /// The log is another one, or smaller than the kept checkpoint.
    #[error("the log did not grow from the kept checkpoint: {0}")]
    NotGrown(String),
    /// The log was rewritten: the proof fails, or the roots differ at one size.
    #[error("the log is not consistent with the kept checkpoint (a rewritten or split log): {0}")]
    Inconsistent(String),
}

impl AuditFailure {
    /// The process exit code: 1 unreachable, 2 kept checkpoint invalid, 3
    /// current checkpoint invalid, 4 not grown, 5 inconsistent.
    pub fn exit_code(&self) -> i32 {
        match self {
            AuditFailure::Unreachable(_) => 1,
            AuditFailure::KeptCheckpoint(_) => 2,
            AuditFailure::CurrentCheckpoint(_) => 3,
            AuditFailure::NotGrown(_) => 4,
            AuditFailure::Inconsistent(_) => 5,
        }
    }
}

/// Audits the node at `url` against the checkpoint text `kept`, under `vkey`.
pub async fn audit(kept: &str, url: &str, vkey: &VerifierKey) -> Result<Audited, AuditFailure> {
    let since = verify_checkpoint_by(vkey, kept)
        .map_err(|e| AuditFailure::KeptCheckpoint(e.to_string()))?;
    let base = url.trim_end_matches('/');
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .map_err(|e| AuditFailure::Unreachable(e.to_string()))?;
    let now_text = get_text(&client, &format!("{base}/api/v1/chain/checkpoint")).await?;
    let now = verify_checkpoint_by(vkey, &now_text)
        .map_err(|e| AuditFailure::CurrentCheckpoint(e.to_string()))?;
    if now.origin != since.origin {
        let why = format!("the log is {:?}, not {:?}", now.origin, since.origin);
        return Err(AuditFailure::NotGrown(why));
    }
    if now.size < since.size {
        let why = format!(
            "it has {} entries, the kept checkpoint {}",
            now.size, since.size
        );
        return Err(AuditFailure::NotGrown(why));
    }
    if now.size == since.size {
        if now.root != since.root {
            let why = format!("two different roots for size {}", now.size);
            return Err(AuditFailure::Inconsistent(why));
        }
    } else {
        let path = format!(
            "{base}/api/v1/chain/consistency?from={}&to={}",
            since.size, now.size
        );
        let proof = consistency_proof(&get_text(&client, &path).await?)?;
        verify_consistency(
            vkey.suite,
            since.size,
            now.size,
            &proof,
            &since.root,
            &now.root,
        )
        .map_err(|e| AuditFailure::Inconsistent(e.to_string()))?;
    }
    Ok(Audited {
        since,
        now,
        now_text,
    })
}

/// The body of a successful GET.
async fn get_text(client: &reqwest::Client, url: &str) -> Result<String, AuditFailure> {
    let unreachable = |e: reqwest::Error| AuditFailure::Unreachable(format!("{url}: {e}"));
    let res = client.get(url).send().await.map_err(unreachable)?;
    let status = res.status();
    let text = res.text().await.map_err(unreachable)?;
    if !status.is_success() {
        return Err(AuditFailure::Unreachable(format!(
            "{url}: {status}: {text}"
        )));
    }
    Ok(text)
}

/// The proof hashes of a consistency answer (`{"proof": [hex…], …}`); the
/// roots it also states are not used.
fn consistency_proof(json: &str) -> Result<Vec<shucang_verify::Hash>, AuditFailure> {
    let malformed = |why: &str| AuditFailure::Unreachable(format!("the consistency answer {why}"));
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|_| malformed("is not JSON"))?;
    let hashes = value["proof"]
        .as_array()
        .ok_or_else(|| malformed("has no proof"))?;
    hashes
        .iter()
        .map(|h| {
            h.as_str()
                .and_then(|h| hex::decode(h).ok())
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| malformed("has a proof entry that is not a hash"))
        })
        .collect()
}
