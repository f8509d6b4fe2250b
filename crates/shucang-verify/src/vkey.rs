//! C2SP verifier keys and the verification of any signed note by them.
//!
//! A verifier key names a signing key in one line:
//! `<name>+<key id, 8 hex digits>+<base64(signature type ‖ public key)>`,
//! the key id being `SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4]`
//! (c2sp.org/signed-note). Ed25519 keys have type `0x01`; this chain's SM2
//! keys use the format's private-use type `0xFF` followed by
//! `shucang/sm2-sm3`; witnesses' Ed25519 cosigning keys have type `0x04`
//! (c2sp.org/tlog-cosignature, `cosignature/v1`: the signature covers
//! `cosignature/v1\ntime <t>\n` and the note text, and carries the time).

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
    /// A plain note signature, or a witness's cosignature.
    pub kind: KeyKind,
    /// The public key.
    pub public_key: Vec<u8>,
}

/// What a key's signatures are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// A signature over the note text (the log's own).
    Note,
    /// A timestamped Ed25519 witness cosignature (`cosignature/v1`, type
    /// `0x04`).
    CosignatureV1,
}

/// The type byte of `cosignature/v1` keys.
const COSIGNATURE_V1: u8 = 0x04;

/// The message a `cosignature/v1` signature covers.
pub fn cosigned_message(timestamp: u64, text: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{text}").into_bytes()
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
            kind: KeyKind::Note,
            public_key: public_key.to_vec(),
        }
    }

    /// The `cosignature/v1` verifier key of a witness's Ed25519 key.
    pub fn cosigner(name: &str, public_key: &[u8]) -> VerifierKey {
        VerifierKey {
            name: name.to_owned(),
            key_id: typed_key_id(name, &[COSIGNATURE_V1], public_key),
            suite: Suite::Ed25519Sha256,
            kind: KeyKind::CosignatureV1,
            public_key: public_key.to_vec(),
        }
    }

    /// The type bytes this key is printed with.
    fn type_bytes(&self) -> &'static [u8] {
        match self.kind {
            KeyKind::Note => self.suite.note_signature_type(),
            KeyKind::CosignatureV1 => &[COSIGNATURE_V1],
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
        let (suite, kind) = if typed.first() == Some(&COSIGNATURE_V1) {
            (Suite::Ed25519Sha256, KeyKind::CosignatureV1)
        } else {
            let suite = [Suite::Ed25519Sha256, Suite::Sm2Sm3]
                .into_iter()
                .find(|s| typed.starts_with(s.note_signature_type()))
                .ok_or(VkeyError::UnsupportedType)?;
            (suite, KeyKind::Note)
        };
        let type_len = match kind {
            KeyKind::Note => suite.note_signature_type().len(),
            KeyKind::CosignatureV1 => 1,
        };
        let public_key = &typed[type_len..];
        if public_key.len() != suite.public_key_len() {
            return Err(VkeyError::Malformed("the public key has the wrong length"));
        }
        let key = match kind {
            KeyKind::Note => VerifierKey::new(suite, name, public_key),
            KeyKind::CosignatureV1 => VerifierKey::cosigner(name, public_key),
        };
        if key.key_id != key_id {
            return Err(VkeyError::WrongKeyId);
        }
        Ok(key)
    }
}

impl std::fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut typed = self.type_bytes().to_vec();
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

/// `SHA-256(name ‖ 0x0A ‖ type ‖ key)[:4]`.
pub(crate) fn typed_key_id(name: &str, typ: &[u8], public_key: &[u8]) -> [u8; 4] {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    h.update(name.as_bytes());
    h.update([0x0a]);
    h.update(typ);
    h.update(public_key);
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// Checks one signature line's `signature` (after the key id) by `key`
/// over the note text `body`.
fn check_line(key: &VerifierKey, body: &str, signature: &[u8]) -> Result<(), NoteError> {
    match key.kind {
        KeyKind::Note => key
            .suite
            .verify(&key.public_key, body.as_bytes(), signature)
            .map_err(|_| NoteError::BadSignature),
        KeyKind::CosignatureV1 => {
            if signature.len() != 8 + 64 {
                return Err(NoteError::BadSignature);
            }
            let time = u64::from_be_bytes(signature[..8].try_into().expect("8 bytes"));
            if time > i64::MAX as u64 {
                return Err(NoteError::BadSignature);
            }
            key.suite
                .verify(
                    &key.public_key,
                    &cosigned_message(time, body),
                    &signature[8..],
                )
                .map_err(|_| NoteError::BadSignature)
        }
    }
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
        check_line(key, body, &line.blob[4..])?;
        if !signed_by.contains(&key) {
            signed_by.push(key);
        }
    }
    if signed_by.is_empty() {
        return Err(NoteError::NoSignatureByKey);
    }
    Ok((body.to_owned(), signed_by))
}

/// Opens a note signed by `log` and cosigned by at least `quorum` of
/// `witnesses` (distinct keys): the text, or why not.
pub fn open_witnessed(
    text: &str,
    log: &VerifierKey,
    witnesses: &[VerifierKey],
    quorum: usize,
) -> Result<String, NoteError> {
    let mut keys = vec![log.clone()];
    keys.extend(witnesses.iter().cloned());
    let (body, signed_by) = open_note(text, &keys)?;
    if !signed_by.contains(&log) {
        return Err(NoteError::NoSignatureByKey);
    }
    let cosigned = signed_by.iter().filter(|k| **k != log).count();
    if cosigned < quorum {
        return Err(NoteError::TooFewCosignatures {
            found: cosigned,
            needed: quorum,
        });
    }
    Ok(body)
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

    /// A cosignature line by `key` (named `name`) at `time` over `text`.
    fn cosign(name: &str, key: &ed25519_dalek::SigningKey, time: u64, text: &str) -> String {
        use ed25519_dalek::Signer as _;
        let vkey = VerifierKey::cosigner(name, &key.verifying_key().to_bytes());
        let mut blob = vkey.key_id.to_vec();
        blob.extend_from_slice(&time.to_be_bytes());
        blob.extend_from_slice(&key.sign(&cosigned_message(time, text)).to_bytes());
        format!("\u{2014} {name} {}\n", STANDARD.encode(blob))
    }

    #[test]
    fn witness_cosignatures_count_towards_a_quorum() {
        use ed25519_dalek::Signer as _;
        let log_key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]);
        let log = VerifierKey::new(
            Suite::Ed25519Sha256,
            "log.example/a",
            &log_key.verifying_key().to_bytes(),
        );
        let text = "log.example/a\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let signature = {
            let mut blob = log.key_id.to_vec();
            blob.extend_from_slice(&log_key.sign(text.as_bytes()).to_bytes());
            format!("\u{2014} log.example/a {}\n", STANDARD.encode(blob))
        };
        let w: Vec<ed25519_dalek::SigningKey> = (2..5)
            .map(|i| ed25519_dalek::SigningKey::from_bytes(&[i; 32]))
            .collect();
        let witnesses: Vec<VerifierKey> = w
            .iter()
            .enumerate()
            .map(|(i, k)| {
                VerifierKey::cosigner(&format!("w{i}.example"), &k.verifying_key().to_bytes())
            })
            .collect();
        let note = format!(
            "{text}\n{signature}{}{}",
            cosign("w0.example", &w[0], 1_700_000_000, text),
            cosign("w1.example", &w[1], 1_700_000_001, text)
        );
        assert_eq!(
            open_witnessed(&note, &log, &witnesses, 2).as_deref(),
            Ok(text)
        );
        assert_eq!(
            open_witnessed(&note, &log, &witnesses, 3),
            Err(NoteError::TooFewCosignatures {
                found: 2,
                needed: 3
            })
        );
        // A cosignature over other text, or at another time than it says:
        // refused.
        let forged = format!(
            "{text}\n{signature}{}",
            cosign("w0.example", &w[0], 5, "x\n")
        );
        assert_eq!(
            open_witnessed(&forged, &log, &witnesses, 1),
            Err(NoteError::BadSignature)
        );
        // Without the log's own signature nothing counts.
        let unsigned = format!("{text}\n{}", cosign("w0.example", &w[0], 5, text));
        assert_eq!(
            open_witnessed(&unsigned, &log, &witnesses, 0),
            Err(NoteError::NoSignatureByKey)
        );
        // The witness keys print and parse as type 0x04.
        for k in &witnesses {
            assert_eq!(VerifierKey::parse(&k.to_string()).as_ref(), Ok(k));
            assert!(
                k.to_string().split('+').nth(2).unwrap().starts_with('B'),
                "0x04"
            );
        }
    }

    #[test]
    fn a_published_cosigner_key_parses_with_its_key_id() {
        // A type-0x04 verifier key of transparency-dev/formats' tests: its
        // key id is derived as c2sp.org/tlog-cosignature says.
        let key = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2";
        let vkey = VerifierKey::parse(key).unwrap();
        assert_eq!(vkey.kind, KeyKind::CosignatureV1);
        assert_eq!(vkey.to_string(), key);
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
