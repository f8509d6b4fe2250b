//! Personal data at rest: AES-256-GCM encryption bound to its context, and
//! keyed hashes for lookups (so an ID number can be found without being
//! stored in the clear).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;

const NONCE_LEN: usize = 12;

/// What text sealed by [`PiiCipher::seal_text`] starts with.
const SEALED_TEXT: &str = "enc:v1:";

/// Stored ciphertext did not decrypt: wrong key, wrong context or damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("personal data does not decrypt (wrong key, wrong record or damaged)")]
pub struct PiiError;

/// Encrypts and hashes personal data under the PII key.
pub struct PiiCipher {
    cipher: Aes256Gcm,
    lookup_key: [u8; 32],
}

fn derive(key: &[u8; 32], label: &[u8]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

impl PiiCipher {
    /// A cipher from the 32-byte PII key; separate subkeys for encryption
    /// and lookups are derived from it.
    pub fn new(key: &[u8; 32]) -> PiiCipher {
        let enc = derive(key, b"shucang/pii/encryption");
        PiiCipher {
            cipher: Aes256Gcm::new(&enc.into()),
            lookup_key: derive(key, b"shucang/pii/lookup"),
        }
    }

    /// Encrypts `plaintext`; `context` (say `identity.id_number:42`) is
    /// authenticated, so a ciphertext moved to another row does not decrypt.
    pub fn encrypt(&self, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .expect("AES-GCM encryption of bounded data cannot fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        out
    }

    /// Decrypts what [`PiiCipher::encrypt`] produced for the same context.
    pub fn decrypt(&self, context: &str, data: &[u8]) -> Result<Vec<u8>, PiiError> {
        if data.len() < NONCE_LEN {
            return Err(PiiError);
        }
        let (nonce, sealed) = data.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| PiiError)
    }

    /// `plain` encrypted for `context` as storable text: `enc:v1:` and the
    /// hex of nonce and ciphertext. Text that is sealed already is kept.
    pub fn seal_text(&self, context: &str, plain: &str) -> String {
        if plain.starts_with(SEALED_TEXT) {
            return plain.to_owned();
        }
        let sealed = self.encrypt(context, plain.as_bytes());
        format!("{SEALED_TEXT}{}", hex::encode(sealed))
    }

    /// The plaintext of text [`PiiCipher::seal_text`] stored for
    /// `context`; text without the prefix (stored before sealing existed)
    /// is returned as it is.
    pub fn open_text(&self, context: &str, stored: &str) -> Result<String, PiiError> {
        let Some(sealed) = stored.strip_prefix(SEALED_TEXT) else {
            return Ok(stored.to_owned());
        };
        let bytes = hex::decode(sealed).map_err(|_| PiiError)?;
        String::from_utf8(self.decrypt(context, &bytes)?).map_err(|_| PiiError)
    }

    /// A keyed hash for finding a value without storing it (hex).
    pub fn lookup_hash(&self, context: &str, value: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.lookup_key)
            .expect("HMAC takes any key length");
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_bound_to_context_and_key() {
        let c = PiiCipher::new(&[1; 32]);
        let sealed = c.encrypt("identity.id_number:1", b"11010519491231002X");
        assert!(!sealed.windows(6).any(|w| w == b"110105"));
        assert_eq!(
            c.decrypt("identity.id_number:1", &sealed).unwrap(),
            b"11010519491231002X"
        );
        assert_eq!(c.decrypt("identity.id_number:2", &sealed), Err(PiiError));
        assert_eq!(
            PiiCipher::new(&[2; 32]).decrypt("identity.id_number:1", &sealed),
            Err(PiiError)
        );
        let mut damaged = sealed.clone();
        damaged[14] ^= 1;
        assert_eq!(c.decrypt("identity.id_number:1", &damaged), Err(PiiError));
        assert_eq!(c.decrypt("x", &[1, 2]), Err(PiiError));
        assert_ne!(
            c.encrypt("a", b"same"),
            c.encrypt("a", b"same"),
            "fresh nonces"
        );
    }

    #[test]
    fn sealed_text_opens_for_its_context_only_and_legacy_text_reads_as_is() {
        let c = PiiCipher::new(&[1; 32]);
        let sealed = c.seal_text("form.id:7", "11010519491231002X");
        assert!(sealed.starts_with("enc:v1:") && !sealed.contains("110105"));
        assert_eq!(c.seal_text("form.id:7", &sealed), sealed, "sealed once");
        assert_eq!(
            c.open_text("form.id:7", &sealed).unwrap(),
            "11010519491231002X"
        );
        assert_eq!(c.open_text("form.id:8", &sealed), Err(PiiError));
        assert_eq!(c.open_text("form.id:7", "enc:v1:zz"), Err(PiiError));
        assert_eq!(c.open_text("form.id:7", "plain").unwrap(), "plain");
    }

    #[test]
    fn lookup_hashes_are_keyed_and_stable() {
        let c = PiiCipher::new(&[1; 32]);
        assert_eq!(c.lookup_hash("id", "x"), c.lookup_hash("id", "x"));
        assert_ne!(
            c.lookup_hash("id", "x"),
            PiiCipher::new(&[2; 32]).lookup_hash("id", "x")
        );
        assert_ne!(c.lookup_hash("id", "x"), c.lookup_hash("phone", "x"));
    }
}
