//! Signed checkpoints in the C2SP signed-note / tlog-checkpoint text format:
//!
//! ```text
//! <origin>
//! <tree size, decimal>
//! <root hash, base64>
//!
//! — <key name> <base64(4-byte key id ‖ signature)>
//! ```
//!
//! The key name is the origin; the key id is the first four bytes of
//! `SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::vkey::{VerifierKey, open_note, split_note};
use crate::{Hash, Suite};

/// Largest note accepted, in bytes.
pub const NOTE_LEN_MAX: usize = 16 * 1024;
/// Most signature lines accepted (the format asks verifiers to accept 16).
pub const NOTE_SIGNATURES_MAX: usize = 16;

/// What a checkpoint states: this log, at this size, has this root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's name (also the signing key's name).
    pub origin: String,
    /// Leaves in the tree.
    pub size: u64,
    /// The RFC 9162 root hash.
    pub root: Hash,
}

/// Why a checkpoint note is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// Too large, not UTF-8, control characters, or no blank line before
    /// the signatures.
    #[error("malformed signed note: {0}")]
    Malformed(&'static str),
    /// The body is not origin / size / base64 root.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// No signature line from the expected key (name and key id).
    #[error("the checkpoint carries no signature by the expected key")]
    NoSignatureByKey,
    /// The expected key's signature does not verify.
    #[error("the checkpoint signature does not verify")]
    BadSignature,
    /// Fewer witnesses cosigned than the policy needs.
    #[error("{found} witness cosignature(s) verify, {needed} needed")]
    TooFewCosignatures {
        /// Valid cosignatures by distinct configured witnesses.
        found: usize,
        /// The quorum.
        needed: usize,
    },
}

impl Checkpoint {
    /// The note text that is signed: three lines, each ending in a newline.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }
}

/// The key id of a signing key under the signed-note rules.
pub fn key_id(suite: Suite, key_name: &str, public_key: &[u8]) -> [u8; 4] {
    crate::vkey::typed_key_id(key_name, suite.note_signature_type(), public_key)
}

/// The signature line for `signature` (over [`Checkpoint::body`]).
pub fn signature_line(suite: Suite, key_name: &str, public_key: &[u8], signature: &[u8]) -> String {
    let mut blob = key_id(suite, key_name, public_key).to_vec();
    blob.extend_from_slice(signature);
    format!("\u{2014} {key_name} {}\n", STANDARD.encode(blob))
}

/// Parses a signed checkpoint and checks it carries a valid signature by
/// `public_key` under the name of its own origin. Signatures by other keys
/// are ignored, as the format requires.
pub fn verify_checkpoint(
    suite: Suite,
    public_key: &[u8],
    text: &str,
) -> Result<Checkpoint, NoteError> {
    let (body, _) = split_note(text)?;
    let origin = parse_body(body)?.origin;
    verify_checkpoint_by(&VerifierKey::new(suite, &origin, public_key), text)
}

/// Parses a signed checkpoint and checks it carries a valid signature by
/// the key `vkey` names.
pub fn verify_checkpoint_by(vkey: &VerifierKey, text: &str) -> Result<Checkpoint, NoteError> {
    let (body, _) = open_note(text, std::slice::from_ref(vkey))?;
    parse_body(&body)
}

fn parse_body(body: &str) -> Result<Checkpoint, NoteError> {
    let mut lines = body.split('\n');
    let origin = lines
        .next()
        .filter(|o| !o.is_empty())
        .ok_or(NoteError::MalformedCheckpoint("empty origin"))?;
    let size_text = lines
        .next()
        .ok_or(NoteError::MalformedCheckpoint("missing tree size"))?;
    let size_ok = !size_text.is_empty()
        && size_text.bytes().all(|b| b.is_ascii_digit())
        && (size_text == "0" || !size_text.starts_with('0'));
    if !size_ok {
        return Err(NoteError::MalformedCheckpoint(
            "tree size must be a decimal number without leading zeros",
        ));
    }
    let size = size_text
        .parse()
        .map_err(|_| NoteError::MalformedCheckpoint("tree size out of range"))?;
    let root_text = lines
        .next()
        .ok_or(NoteError::MalformedCheckpoint("missing root hash"))?;
    let root: Hash = STANDARD
        .decode(root_text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(NoteError::MalformedCheckpoint(
            "root hash must be 32 bytes of base64",
        ))?;
    Ok(Checkpoint {
        origin: origin.to_owned(),
        size,
        root,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::Signer as _;

    fn signed(cp: &Checkpoint, key: &ed25519_dalek::SigningKey) -> String {
        let body = cp.body();
        let sig = key.sign(body.as_bytes());
        let public = key.verifying_key().to_bytes();
        format!(
            "{body}\n{}",
            signature_line(Suite::Ed25519Sha256, &cp.origin, &public, &sig.to_bytes())
        )
    }

    #[test]
    fn round_trip_and_tampering() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[3u8; 32]);
        let public = key.verifying_key().to_bytes();
        let cp = Checkpoint {
            origin: "shucang.example/chain".into(),
            size: 42,
            root: [5u8; 32],
        };
        let text = signed(&cp, &key);
        assert!(
            text.starts_with("shucang.example/chain\n42\nBQUF"),
            "{text}"
        );
        assert_eq!(
            verify_checkpoint(Suite::Ed25519Sha256, &public, &text),
            Ok(cp.clone())
        );

        let other = ed25519_dalek::SigningKey::from_bytes(&[4u8; 32])
            .verifying_key()
            .to_bytes();
        assert_eq!(
            verify_checkpoint(Suite::Ed25519Sha256, &other, &text),
            Err(NoteError::NoSignatureByKey)
        );
        let forged = text.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(
            verify_checkpoint(Suite::Ed25519Sha256, &public, &forged),
            Err(NoteError::BadSignature)
        );
        // Every single-byte change is refused.
        for i in 0..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[i] ^= 0x01;
            if let Ok(t) = String::from_utf8(bytes) {
                assert!(
                    verify_checkpoint(Suite::Ed25519Sha256, &public, &t).is_err(),
                    "byte {i} changed: {t:?}"
                );
            }
        }
        // An extra signature by an unknown key is ignored.
        let extra = format!("{text}\u{2014} someone.else AAAAAAAAAAAA\n");
        assert_eq!(
            verify_checkpoint(Suite::Ed25519Sha256, &public, &extra),
            Ok(cp)
        );
    }

    #[test]
    fn malformed_notes() {
        let k = [0u8; 32];
        for text in [
            "",
            "a\n1\nAA==\n",
            "a\n01\nAAAA\n\n\u{2014} a AAAAAA==\n",
            "a\n1\nnot base64\n\n\u{2014} a AAAAAA==\n",
            "\n1\nAA==\n\n\u{2014} a AAAAAA==\n",
            "a\n1\n\n\n",
        ] {
            assert!(
                verify_checkpoint(Suite::Ed25519Sha256, &k, text).is_err(),
                "{text:?}"
            );
        }
        let huge = "a".repeat(NOTE_LEN_MAX + 1);
        assert!(verify_checkpoint(Suite::Ed25519Sha256, &k, &huge).is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,300}") {
            let _ = verify_checkpoint(Suite::Ed25519Sha256, &[0u8; 32], &s);
            let _ = verify_checkpoint(Suite::Sm2Sm3, &[4u8; 65], &s);
        }
    }
}
