//! C2SP verifier keys and the verification of any signed note by them.
//!
//! A verifier key names a signing key in one line:
//! `<name>+<key id, 8 hex digits>+<base64(signature type ‖ public key)>`,
//! the key id being `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`
//! (c2sp.org/signed-note). Ed25519 keys have type `0x01`; this chain's SM2
//! keys use the format's private-use type `0xFF` followed by
//! `shucang/sm2-sm3`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::Suite;
use crate::note::{NOTE_LEN_MAX, NOTE_SIGNATURES_MAX, NoteError, key_id};

/// A signing key as a verifier knows it: name, id, suite and public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    /// The key's name (for the chain's node: the log's origin).
    pub name: String,
    /// The key id, from the name, type and public key.
    pub key_id: [u8; 4],
    /// The signature algorithm.
    pub suite: Suite,
    /// The public key.
    pub public_key: Vec<u8>,
}

/// Why a verifier key is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VkeyError {
    /// Not `name+hex id+base64`.
    #[error("a verifier key is <name>+<8 hex digits>+<base64>: {0}")]
    Malformed(&'static str),
    /// A signature type this verifier does not implement.
    #[error("unsupported signature type in the verifier key")]
    UnsupportedType,
    /// The key id does not belong to the name, type and key.
    #[error("the key id does not match the name and key")]
    WrongKeyId,
}

impl VerifierKey {
    /// The verifier key of `public_key` under `name`.
    pub fn new(suite: Suite, name: &str, public_key: &[u8]) -> VerifierKey {
        VerifierKey {
            name: name.to_owned(),
            key_id: key_id(suite, name, public_key),
            suite,
            public_key: public_key.to_vec(),
        }
    }

    /// Parses `name+id+base64`, checking the type, the key's length and the
    /// key id.
    pub fn parse(text: &str) -> Result<VerifierKey, VkeyError> {
        let text = text.trim();
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(VkeyError::Malformed("three parts joined by '+'"));
        };
        if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(VkeyError::Malformed("the name is empty or has spaces"));
        }
        if id.len() != 8 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(VkeyError::Malformed("the key id is 8 hex digits"));
        }
        let id = u32::from_str_radix(id, 16)
            .map_err(|_| VkeyError::Malformed("the key id is 8 hex digits"))?;
        let key_id = id.to_be_bytes();
        let typed = STANDARD
            .decode(b64)
            .map_err(|_| VkeyError::Malformed("the key is not base64"))?;
        let suite = [Suite::Ed25519Sha256, Suite::Sm2Sm3]
            .into_iter()
            .find(|s| typed.starts_with(s.note_signature_type()))
            .ok_or(VkeyError::UnsupportedType)?;
        let public_key = &typed[suite.note_signature_type().len()..];
        if public_key.len() != suite.public_key_len() {
            return Err(VkeyError::Malformed("the public key has the wrong length"));
        }
        let key = VerifierKey::new(suite, name, public_key);
        if key.key_id != key_id {
            return Err(VkeyError::WrongKeyId);
        }
        Ok(key)
    }
}

impl std::fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut typed = self.suite.note_signature_type().to_vec();
        typed.extend_from_slice(&self.public_key);
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            u32::from_be_bytes(self.key_id),
            STANDARD.encode(typed)
        )
    }
}

/// A signature line of a note: the key name and `key id ‖ signature`.
pub(crate) struct SignatureLine<'a> {
    pub name: &'a str,
    pub blob: Vec<u8>,
}

/// Splits a signed note into its text (ending in a newline) and its
/// signature lines, refusing what the format does not allow.
pub(crate) fn split_note(text: &str) -> Result<(&str, Vec<SignatureLine<'_>>), NoteError> {
    if text.len() > NOTE_LEN_MAX {
        return Err(NoteError::Malformed("longer than 16 KiB"));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(NoteError::Malformed("control characters"));
    }
    let split = text
        .rfind("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let (body, sigs) = (&text[..split + 1], &text[split + 2..]);
    let mut lines = Vec::new();
    for line in sigs.split_inclusive('\n') {
        if lines.len() == NOTE_SIGNATURES_MAX {
            return Err(NoteError::Malformed("too many signatures"));
        }
        let line = line
            .strip_suffix('\n')
            .ok_or(NoteError::Malformed("signature line without newline"))?;
        let rest = line.strip_prefix("\u{2014} ").ok_or(NoteError::Malformed(
            "signature line must start with an em dash",
        ))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(NoteError::Malformed("signature line without signature"))?;
        if name.is_empty() || b64.contains(' ') {
            return Err(NoteError::Malformed("bad signature line"));
        }
        let blob = STANDARD
            .decode(b64)
            .map_err(|_| NoteError::Malformed("signature is not base64"))?;
        if blob.len() < 5 {
            return Err(NoteError::Malformed("signature too short"));
        }
        lines.push(SignatureLine { name, blob });
    }
    if lines.is_empty() {
        return Err(NoteError::Malformed("no signature lines"));
    }
    Ok((body, lines))
}

/// Opens a signed note: its text, once a signature by one of `keys`
/// verifies. Signatures by other keys are ignored; a signature by a known
/// key that fails rejects the note.
pub fn open_note<'k>(
    text: &str,
    keys: &'k [VerifierKey],
) -> Result<(String, Vec<&'k VerifierKey>), NoteError> {
    let (body, lines) = split_note(text)?;
    let mut signed_by = Vec::new();
    for line in &lines {
        let Some(key) = keys
            .iter()
            .find(|k| k.name == line.name && line.blob[..4] == k.key_id)
        else {
            continue;
        };
        key.suite
            .verify(&key.public_key, body.as_bytes(), &line.blob[4..])
            .map_err(|_| NoteError::BadSignature)?;
        if !signed_by.contains(&key) {
            signed_by.push(key);
        }
    }
    if signed_by.is_empty() {
        return Err(NoteError::NoSignatureByKey);
    }
    Ok((body.to_owned(), signed_by))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The verifier key and signed note of the tests of Go's
    /// golang.org/x/mod/sumdb/note (an independent implementation).
    const PETER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const PETER_TEXT: &str = "If you think cryptography is the answer to your problem,\n\
                              then you don't know what your problem is.\n";
    const PETER_NOTE_SIG: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn the_go_signed_note_vector_verifies() {
        let key = VerifierKey::parse(PETER).unwrap();
        assert_eq!(
            (key.suite, key.name.as_str()),
            (Suite::Ed25519Sha256, "PeterNeumann")
        );
        assert_eq!(key.to_string(), PETER, "it prints back the same");
        let note = format!("{PETER_TEXT}\n{PETER_NOTE_SIG}");
        let (text, by) = open_note(&note, std::slice::from_ref(&key)).unwrap();
        assert_eq!(text, PETER_TEXT);
        assert_eq!(by, vec![&key]);
        // One changed character of the text: refused.
        let forged = note.replacen("answer", "Answer", 1);
        assert_eq!(
            open_note(&forged, std::slice::from_ref(&key)),
            Err(NoteError::BadSignature)
        );
        // Another key: no signature it knows.
        let other = VerifierKey::new(Suite::Ed25519Sha256, "PeterNeumann", &[9; 32]);
        assert_eq!(open_note(&note, &[other]), Err(NoteError::NoSignatureByKey));
    }

    #[test]
    fn mangled_verifier_keys_are_refused() {
        let bytes = PETER.as_bytes();
        // Every cut and every changed character is refused (or, for a
        // change the base64 ignores, still names the same key).
        for i in 0..bytes.len() {
            let cut = String::from_utf8(bytes[..i].to_vec()).unwrap();
            assert!(VerifierKey::parse(&cut).is_err(), "{cut}");
            let mut changed = bytes.to_vec();
            changed[i] ^= 0x01;
            if let Ok(text) = String::from_utf8(changed)
                && let Ok(key) = VerifierKey::parse(&text)
            {
                assert_eq!(key, VerifierKey::parse(PETER).unwrap(), "{text}");
            }
        }
        for bad in [
            "",
            "a+b",
            "x+00000000+AQ==",
            "x+zzzzzzzz+AQ==",
            "a b+00000000+AQ==",
        ] {
            assert!(VerifierKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn both_suites_print_and_parse() {
        for (suite, key) in [
            (Suite::Ed25519Sha256, vec![7; 32]),
            (Suite::Sm2Sm3, vec![4; 65]),
        ] {
            let vkey = VerifierKey::new(suite, "shucang.example/chain", &key);
            assert_eq!(VerifierKey::parse(&vkey.to_string()), Ok(vkey));
        }
    }
}
