//! `shucang witness serve`: an independent witness of one or more logs, in
//! the manner of C2SP tlog-witness. It cosigns a log's checkpoint only
//! once it has proved consistent with the last one it cosigned, and never
//! cosigns two different trees of one size: such a pair is kept as
//! evidence of a split view and refused.
//!
//! `POST /add-checkpoint` takes `old <size>`, the RFC 9162 consistency
//! proof from that size (one base64 hash a line), a blank line and the
//! checkpoint. Answers: 200 with the cosignature line (`cosignature/v1`,
//! Ed25519, type 0x04); 409 with the size the witness holds
//! (`text/x.tlog.size`) when `old` is not it, or on a split view; 422 for
//! a proof that fails; 404 for a log it does not witness; 403 for a
//! checkpoint the log's key did not sign; 400 for a malformed request.
//! The latest cosigned checkpoint of each log is written durably
//! (`shucang_files::replace_durably`) before the answer, and kept in memory
//! after it is first read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use shucang_chain::SigningKey;
use shucang_verify::merkle::verify_consistency;
use shucang_verify::note::{Checkpoint, verify_checkpoint_by};
use shucang_verify::vkey::{VerifierKey, cosigned_message};
use shucang_verify::{Hash, Suite};
use tokio::sync::Mutex;

/// Largest request body taken, in bytes (a checkpoint and a proof of at
/// most 64 hashes fit many times over).
const BODY_BYTES_MAX: usize = 64 * 1024;
/// Most proof lines taken (a proof has at most 2 × 63 hashes).
const PROOF_HASHES_MAX: usize = 128;

/// A witness: its key, the logs it follows, where it keeps their state.
pub struct Witness {
    name: String,
    key: SigningKey,
    logs: Vec<VerifierKey>,
    dir: PathBuf,
    /// The latest checkpoint cosigned per log (by key id), read from disk
    /// once; the lock makes one cosigning at a time: check, write, sign.
    held: Mutex<HashMap<[u8; 4], Held>>,
}

/// A log's latest cosigned checkpoint and its signed note.
struct Held {
    checkpoint: Checkpoint,
    note: String,
}

/// Why a checkpoint was not cosigned.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// The request is not `old`, proof, blank line, checkpoint.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// No configured log has this origin.
    #[error("this witness does not follow the log {0:?}")]
    UnknownLog(String),
    /// The log's key did not sign the checkpoint.
    #[error("the checkpoint is not signed by the log's key: {0}")]
    NotSigned(String),
    /// `old` is not the size the witness holds.
    #[error("the witness holds size {0}")]
    WrongOld(u64),
    /// The same size with another root: kept as evidence.
    #[error("split view: a different tree of size {0} was cosigned before; kept as evidence")]
    SplitView(u64),
    /// The proof does not lead from the held tree to the new one.
    #[error("the consistency proof fails: {0}")]
    BadProof(String),
    /// Storing the state failed.
    #[error("storing the state failed: {0}")]
    Io(#[from] std::io::Error),
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let status = match &self {
            Refusal::Malformed(_) => StatusCode::BAD_REQUEST,
            Refusal::UnknownLog(_) => StatusCode::NOT_FOUND,
            Refusal::NotSigned(_) => StatusCode::FORBIDDEN,
            Refusal::WrongOld(size) | Refusal::SplitView(size) => {
                let body = format!("{size}\n");
                return (
                    StatusCode::CONFLICT,
                    [(CONTENT_TYPE, "text/x.tlog.size")],
                    body,
                )
                    .into_response();
            }
            Refusal::BadProof(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Refusal::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        (
            status,
            [(CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{self}\n"),
        )
            .into_response()
    }
}

impl Witness {
    /// Opens the witness in `dir` (its key created there, 0600, on first
    /// use), named `name`, following `logs` (their verifier keys, whose
    /// names are the logs' origins).
    pub fn open(dir: &Path, name: &str, logs: Vec<VerifierKey>) -> anyhow::Result<Witness> {
        anyhow::ensure!(
            !name.is_empty() && !name.contains(char::is_whitespace) && !name.contains('+'),
            "the witness name must be non-empty, without spaces or '+'"
        );
        let secret = shucang_config::load_or_create_key(dir, "witness")
            .with_context(|| format!("the witness key in {}", dir.display()))?;
        let key = SigningKey::from_secret(Suite::Ed25519Sha256, secret.expose())
            .map_err(|_| anyhow::anyhow!("the witness key is not an Ed25519 key"))?;
        shucang_files::create_private_dir(&dir.join("logs"))?;
        shucang_files::create_private_dir(&dir.join("evidence"))?;
        Ok(Witness {
            name: name.to_owned(),
            key,
            logs,
            dir: dir.to_owned(),
            held: Mutex::new(HashMap::new()),
        })
    }

    /// The witness's verifier key (type 0x04), for verifiers' policies.
    pub fn vkey(&self) -> VerifierKey {
        VerifierKey::cosigner(&self.name, &self.key.public_key())
    }

    /// Checks and cosigns one `add-checkpoint` request body at `now`
    /// (seconds since the Epoch): the cosignature line.
    pub async fn add_checkpoint(&self, request: &str, now: u64) -> Result<String, Refusal> {
        let (old, proof, note) = parse_request(request)?;
        let origin = note.lines().next().unwrap_or_default();
        let log = self
            .logs
            .iter()
            .find(|l| l.name == origin)
            .ok_or_else(|| Refusal::UnknownLog(origin.to_owned()))?;
        let new = verify_checkpoint_by(log, note).map_err(|e| Refusal::NotSigned(e.to_string()))?;
        let mut all_held = self.held.lock().await;
        if !all_held.contains_key(&log.key_id)
            && let Some(stored) = self.read_held(log)?
        {
            all_held.insert(log.key_id, stored);
        }
        let held = all_held.get(&log.key_id);
        let held_size = held.map_or(0, |h| h.checkpoint.size);
        if old != held_size {
            return Err(Refusal::WrongOld(held_size));
        }
        match held.map(|h| (&h.checkpoint, &h.note)) {
            Some((h, kept)) if new.size == h.size && new.root != h.root => {
                self.keep_evidence(log, kept, note, now)?;
                return Err(Refusal::SplitView(h.size));
            }
            Some((h, _)) if new.size < h.size => return Err(Refusal::WrongOld(h.size)),
            Some((h, _)) if new.size > h.size => {
                verify_consistency(log.suite, h.size, new.size, &proof, &h.root, &new.root)
                    .map_err(|e| Refusal::BadProof(e.to_string()))?;
            }
            None if !proof.is_empty() => {
                return Err(Refusal::BadProof("no proof is needed from size 0".into()));
            }
            _ => {}
        }
        shucang_files::replace_durably(&self.state_path(log), note.as_bytes())?;
        let line = self.cosignature_line(&new, now);
        let note = note.to_owned();
        all_held.insert(
            log.key_id,
            Held {
                checkpoint: new,
                note,
            },
        );
        Ok(line)
    }

    /// The cosignature line of `checkpoint` at `time`.
    fn cosignature_line(&self, checkpoint: &Checkpoint, time: u64) -> String {
        let vkey = self.vkey();
        let signature = self.key.sign(&cosigned_message(time, &checkpoint.body()));
        let mut blob = vkey.key_id.to_vec();
        blob.extend_from_slice(&time.to_be_bytes());
        blob.extend_from_slice(&signature);
        format!("\u{2014} {} {}\n", self.name, STANDARD.encode(blob))
    }

    /// Where the latest cosigned checkpoint of `log` is kept.
    fn state_path(&self, log: &VerifierKey) -> PathBuf {
        self.dir.join("logs").join(hex::encode(log.key_id))
    }

    /// The latest checkpoint cosigned for `log` as stored, if any.
    fn read_held(&self, log: &VerifierKey) -> Result<Option<Held>, Refusal> {
        match std::fs::read_to_string(self.state_path(log)) {
            Ok(note) => verify_checkpoint_by(log, &note)
                .map(|checkpoint| Some(Held { checkpoint, note }))
                .map_err(|e| Refusal::Io(std::io::Error::other(format!("stored state: {e}")))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Keeps the refused checkpoint `note` beside the one `held`, as evidence.
    fn keep_evidence(
        &self,
        log: &VerifierKey,
        held: &str,
        note: &str,
        now: u64,
    ) -> std::io::Result<()> {
        let path = self
            .dir
            .join("evidence")
            .join(format!("{}-{now}.txt", hex::encode(log.key_id)));
        let text =
            format!("# cosigned before\n{held}\n# refused: the same size, another tree\n{note}");
        shucang_files::replace_durably(&path, text.as_bytes())
    }
}

/// `old <size>`, the proof lines, a blank line, the checkpoint.
fn parse_request(request: &str) -> Result<(u64, Vec<Hash>, &str), Refusal> {
    let malformed = |why: &str| Refusal::Malformed(why.to_owned());
    let (head, note) = request
        .split_once("\n\n")
        .ok_or_else(|| malformed("no blank line before the checkpoint"))?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse::<u64>().ok())
        .ok_or_else(|| malformed("the first line is `old <size>`"))?;
    let proof = lines
        .map(|l| {
            STANDARD
                .decode(l)
                .ok()
                .and_then(|b| Hash::try_from(b.as_slice()).ok())
                .ok_or_else(|| malformed("a proof line is not a base64 hash"))
        })
        .collect::<Result<Vec<Hash>, Refusal>>()?;
    if proof.len() > PROOF_HASHES_MAX {
        return Err(malformed("too many proof lines"));
    }
    Ok((old, proof, note))
}

/// Serves the witness on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    witness: Arc<Witness>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    use axum::routing::post;
    let router = axum::Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(witness);
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
        .context("serving the witness")
}

/// `POST /add-checkpoint`.
async fn add_checkpoint(
    axum::extract::State(witness): axum::extract::State<Arc<Witness>>,
    body: String,
) -> Response {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    match witness.add_checkpoint(&body, now).await {
        Ok(line) => ([(CONTENT_TYPE, "text/plain; charset=utf-8")], line).into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_request;

    /// Every cut and every changed byte of a request is parsed or refused,
    /// never a panic.
    #[test]
    fn requests_are_parsed_or_refused_whatever_their_bytes() {
        let good = "old 3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\nlog.example/a\n4\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u{2014} log.example/a AAAA\n";
        let (old, proof, note) = parse_request(good).unwrap();
        assert_eq!((old, proof.len()), (3, 1));
        assert!(note.starts_with("log.example/a\n4\n"));
        let bytes = good.as_bytes();
        for i in 0..bytes.len() {
            if let Ok(cut) = std::str::from_utf8(&bytes[..i]) {
                let _ = parse_request(cut);
            }
            for flip in [0x01u8, 0x20, 0x80] {
                let mut changed = bytes.to_vec();
                changed[i] ^= flip;
                if let Ok(text) = std::str::from_utf8(&changed) {
                    let _ = parse_request(text);
                }
            }
        }
        let many = format!(
            "old 1\n{}\n",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n".repeat(200)
        );
        assert!(parse_request(&many).is_err(), "too many proof lines");
    }
}
