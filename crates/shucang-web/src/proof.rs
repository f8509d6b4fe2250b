//! The JSON proof bundle: what `GET /api/v1/chain/txs/{hash}/proof` serves
//! and what `shucang chain verify-proof` reads.

use serde::{Deserialize, Serialize};
use shucang_chain::ProofBundle;
use shucang_verify::bundle::{Bundle, Verified, verify_bundle};
use shucang_verify::note::verify_checkpoint_by;
use shucang_verify::vkey::VerifierKey;
use shucang_verify::{Hash, Suite};
use utoipa::ToSchema;

/// The format tag of proof bundles.
pub const PROOF_FORMAT: &str = "shucang-proof/v2";

/// A transaction's inclusion proof against a signed checkpoint, verifiable
/// offline with the node's public key. Every field is covered by a check
/// (v1 also carried the block height, which no check covered; the block is
/// found from the transaction hash through the API or the explorer).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProofBundleJson {
    /// Always `shucang-proof/v2`.
    #[schema(example = "shucang-proof/v2")]
    pub format: String,
    /// `ed25519-sha256` or `sm2-sm3`.
    pub suite: String,
    /// The transaction hash, hex.
    pub tx_hash: String,
    /// The canonical encoding of the signed transaction (the leaf data), hex.
    pub tx: String,
    /// The leaf index in the log.
    pub leaf_index: u64,
    /// The log size the path is for (the checkpoint's).
    pub tree_size: u64,
    /// RFC 9162 inclusion path, hex hashes, leaf to root.
    pub inclusion_path: Vec<String>,
    /// The signed checkpoint (C2SP signed-note text).
    pub checkpoint: String,
}

impl From<&ProofBundle> for ProofBundleJson {
    fn from(b: &ProofBundle) -> ProofBundleJson {
        ProofBundleJson {
            format: PROOF_FORMAT.to_owned(),
            suite: b.suite.name().to_owned(),
            tx_hash: hex::encode(b.tx_hash),
            tx: hex::encode(&b.tx),
            leaf_index: b.leaf_index,
            tree_size: b.tree_size,
            inclusion_path: b.path.iter().map(hex::encode).collect(),
            checkpoint: b.checkpoint.clone(),
        }
    }
}

fn hash_hex(s: &str, what: &str) -> Result<Hash, String> {
    hex::decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("{what} is not 64 hexadecimal digits"))
}

/// How the node's key is given to the verifier.
#[derive(Debug, Clone)]
pub enum NodeKey {
    /// The public key, hex (the suite is the bundle's).
    Hex(String),
    /// The C2SP verifier key, `name+id+base64(type ‖ key)`.
    Vkey(String),
}

/// Parses a bundle's JSON text and verifies it under the node's key.
/// The error says what is wrong, for people.
pub fn verify_bundle_json(text: &str, key: &NodeKey) -> Result<(Suite, Verified), String> {
    let format = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(str::to_owned));
    if format.as_deref() == Some("shucang-proof/v1") {
        return Err(
            "a shucang-proof/v1 bundle carries a block height that no check covers; \
             download the proof again (shucang-proof/v2)"
                .to_owned(),
        );
    }
    let json: ProofBundleJson =
        serde_json::from_str(text).map_err(|e| format!("not a proof bundle: {e}"))?;
    if json.format != PROOF_FORMAT {
        return Err(format!("unknown bundle format {:?}", json.format));
    }
    let suite =
        Suite::parse(&json.suite).ok_or_else(|| format!("unknown suite {:?}", json.suite))?;
    let public_key = match key {
        NodeKey::Hex(hex) => {
            hex::decode(hex.trim()).map_err(|_| "the public key is not hexadecimal".to_owned())?
        }
        NodeKey::Vkey(text) => {
            let vkey = VerifierKey::parse(text).map_err(|e| e.to_string())?;
            if vkey.suite != suite {
                return Err(format!(
                    "the verifier key is a {} key, the bundle {}",
                    vkey.suite.name(),
                    suite.name()
                ));
            }
            // The checkpoint must be signed under the key's name and id.
            verify_checkpoint_by(&vkey, &json.checkpoint)
                .map_err(|e| format!("checkpoint: {e}"))?;
            vkey.public_key
        }
    };
    if public_key.len() != suite.public_key_len() {
        return Err(format!(
            "a {} public key has {} bytes, not {}",
            suite.name(),
            suite.public_key_len(),
            public_key.len()
        ));
    }
    let tx = hex::decode(&json.tx).map_err(|_| "tx is not hexadecimal".to_owned())?;
    let tx_hash = hash_hex(&json.tx_hash, "tx_hash")?;
    let path = json
        .inclusion_path
        .iter()
        .map(|h| hash_hex(h, "an inclusion path entry"))
        .collect::<Result<Vec<_>, _>>()?;
    let bundle = Bundle {
        tx: &tx,
        tx_hash: Some(tx_hash),
        leaf_index: json.leaf_index,
        tree_size: Some(json.tree_size),
        path: &path,
        checkpoint: &json.checkpoint,
    };
    verify_bundle(suite, &public_key, &bundle)
        .map(|v| (suite, v))
        .map_err(|e| e.to_string())
}
