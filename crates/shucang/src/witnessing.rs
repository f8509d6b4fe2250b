//! The node's side of witnessing: each new checkpoint is sent to the
//! configured witnesses (`[chain] witnesses`) with the consistency proof
//! from the size each last cosigned, and the cosignatures that verify are
//! published with the checkpoint (`shucang_web::Cosigned`). A witness that
//! is down or refuses is tried again on the next pass; one that holds
//! another size (409) is answered from that size.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use shucang_chain::Chain;
use shucang_verify::vkey::{VerifierKey, open_note};
use tokio::sync::Mutex;

/// How long one witness may take to answer.
const WITNESS_TIMEOUT_MS: u64 = 5_000;

/// One configured witness and the size it last cosigned.
struct Remote {
    url: String,
    vkey: VerifierKey,
    held: Mutex<u64>,
}

/// Sends checkpoints to the witnesses and publishes their cosignatures.
pub struct Witnessing {
    chain: Arc<Chain>,
    witnesses: Vec<Arc<Remote>>,
    published: Arc<shucang_web::Cosigned>,
    client: reqwest::Client,
    /// The checkpoint the last pass sent.
    last_sent: Mutex<String>,
}

impl Witnessing {
    /// For `witnesses` (URL and cosigner key), publishing into `published`.
    pub fn new(
        chain: Arc<Chain>,
        witnesses: Vec<(String, VerifierKey)>,
        published: Arc<shucang_web::Cosigned>,
    ) -> anyhow::Result<Witnessing> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(WITNESS_TIMEOUT_MS))
            .build()?;
        let witnesses = witnesses
            .into_iter()
            .map(|(url, vkey)| {
                Arc::new(Remote {
                    url: url.trim_end_matches('/').to_owned(),
                    vkey,
                    held: Mutex::new(0),
                })
            })
            .collect();
        Ok(Witnessing {
            chain,
            witnesses,
            published,
            client,
            last_sent: Mutex::new(String::new()),
        })
    }

    /// [`Witnessing::pass`] when the chain has a checkpoint not yet sent.
    pub async fn pass_if_new(&self) -> anyhow::Result<()> {
        let note = self.chain.checkpoint()?;
        let mut last_sent = self.last_sent.lock().await;
        if *last_sent != note {
            self.send(note.clone()).await?;
            *last_sent = note;
        }
        Ok(())
    }

    /// Sends the chain's latest checkpoint to every witness at once and
    /// publishes the cosignatures that verify; how many.
    pub async fn pass(&self) -> anyhow::Result<usize> {
        self.send(self.chain.checkpoint()?).await
    }

    /// Sends the checkpoint `note` to every witness at once and publishes
    /// the cosignatures that verify; how many.
    async fn send(&self, note: String) -> anyhow::Result<usize> {
        let size: u64 = note
            .lines()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("the node's checkpoint has no size"))?;
        // All at once: a witness that is down costs its timeout, not the others'.
        let note = Arc::new(note);
        let asks: Vec<_> = self
            .witnesses
            .iter()
            .map(|w| {
                let ask = Ask {
                    chain: self.chain.clone(),
                    client: self.client.clone(),
                    witness: w.clone(),
                    note: note.clone(),
                    size,
                };
                tokio::spawn(ask.cosign())
            })
            .collect();
        let mut lines = Vec::new();
        for ask in asks {
            lines.extend(ask.await.ok().flatten());
        }
        let note = Arc::unwrap_or_clone(note);
        let count = lines.len();
        self.published.set(note, lines);
        Ok(count)
    }
}

/// One witness asked to cosign one checkpoint (owned, to run on its own task).
struct Ask {
    chain: Arc<Chain>,
    client: reqwest::Client,
    witness: Arc<Remote>,
    note: Arc<String>,
    size: u64,
}

impl Ask {
    /// One witness's cosignature line for `note` (of `size`), if it gives
    /// one that verifies.
    async fn cosign(self) -> Option<String> {
        let (witness, note, size) = (&self.witness, self.note.as_str(), self.size);
        let mut held = witness.held.lock().await;
        for _ in 0..2 {
            let body = self.request(*held, size, note).ok()?;
            let url = format!("{}/add-checkpoint", witness.url);
            let res = match self.client.post(&url).body(body).send().await {
                Ok(res) => res,
                Err(e) => {
                    tracing::warn!(witness = %witness.url, error = %e, "witness unreachable");
                    return None;
                }
            };
            let status = res.status();
            let text = res.text().await.unwrap_or_default();
            if status == reqwest::StatusCode::CONFLICT {
                // It holds another size: answer from there.
                *held = text.trim().parse().ok()?;
                continue;
            }
            if !status.is_success() {
                tracing::warn!(witness = %witness.url, %status, answer = %text.trim(), "witness refused the checkpoint");
                return None;
            }
            let cosigned = format!("{note}{text}");
            let keys = std::slice::from_ref(&witness.vkey);
            if open_note(&cosigned, keys).is_err() {
                tracing::warn!(witness = %witness.url, "the witness's cosignature does not verify");
                return None;
            }
            *held = size;
            return Some(text);
        }
        None
    }

    /// The add-checkpoint request from `old` to the checkpoint `note` of
    /// `size`.
    fn request(&self, old: u64, size: u64, note: &str) -> anyhow::Result<String> {
        let mut body = format!("old {old}\n");
        if old > 0 && old < size {
            let (proof, _, _) = self
                .chain
                .consistency(old, size)?
                .ok_or_else(|| anyhow::anyhow!("no consistency proof from {old} to {size}"))?;
            for hash in proof {
                body.push_str(&STANDARD.encode(hash));
                body.push('\n');
            }
        }
        body.push('\n');
        body.push_str(note);
        Ok(body)
    }
}
