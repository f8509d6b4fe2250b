//! Session tokens: 256 random bits given to the client once; only their
//! HMAC-SHA-256 under the session key is stored.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;

/// Longest bearer token looked at; ours are 43 characters (older registry
/// sessions carry 64).
pub const SESSION_TOKEN_LEN_MAX: usize = 128;

/// A bearer token. Its `Debug` output hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// A new token: 256 bits from the operating system's generator,
    /// base64url without padding (43 characters).
    pub fn generate() -> SessionToken {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        SessionToken(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Wraps a token received from a client.
    pub fn from_client(token: &str) -> SessionToken {
        SessionToken(token.to_owned())
    }

    /// The token as sent to the client.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the token could be one of ours: not empty, not longer than
    /// [`SESSION_TOKEN_LEN_MAX`]. Others need no lookup.
    pub fn is_plausible(&self) -> bool {
        !self.0.is_empty() && self.0.len() <= SESSION_TOKEN_LEN_MAX
    }
}

impl std::fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionToken(…)")
    }
}

/// The 32-byte key under which tokens (and other bearer secrets) are
/// stored as HMAC-SHA-256. Its `Debug` output hides it.
#[derive(Clone)]
pub struct SessionKey([u8; 32]);

impl SessionKey {
    /// The key from its bytes.
    pub fn new(bytes: [u8; 32]) -> SessionKey {
        SessionKey(bytes)
    }

    /// What is stored for `token`: its keyed hash, hex.
    pub fn token_hash(&self, token: &SessionToken) -> String {
        self.keyed_hash(token.0.as_bytes())
    }

    /// HMAC-SHA-256 of `data` under this key, hex (64 digits).
    pub fn keyed_hash(&self, data: &[u8]) -> String {
        // HMAC accepts keys of any length; 32 bytes can never be refused.
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(data);
        hex::encode(mac.finalize().into_bytes())
    }
}

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(…)")
    }
}

/// A one-time code of six decimal digits for an SMS, uniform over
/// 000000–999999 (draws above the largest multiple of a million that fits
/// in 32 bits are drawn again, so no code is likelier than another).
pub fn six_digit_code() -> String {
    const CODES: u32 = 1_000_000;
    let zone = u32::MAX - u32::MAX % CODES;
    loop {
        let draw = OsRng.next_u32();
        if draw < zone {
            return format!("{:06}", draw % CODES);
        }
    }
}

/// Whether two stored hashes are equal, in time that depends only on their
/// lengths (no early exit at the first differing byte).
pub fn hashes_equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..1000 {
            let code = six_digit_code();
            assert_eq!(code.len(), 6);
            assert!(code.bytes().all(|b| b.is_ascii_digit()), "{code}");
        }
    }

    #[test]
    fn tokens_are_256_random_bits_and_hidden_from_debug() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_eq!(a.expose().len(), 43);
        assert_eq!(URL_SAFE_NO_PAD.decode(a.expose()).unwrap().len(), 32);
        assert_ne!(a, b);
        assert_eq!(format!("{a:?}"), "SessionToken(…)");
        assert!(a.is_plausible());
        assert!(!SessionToken::from_client("").is_plausible());
        assert!(!SessionToken::from_client(&"a".repeat(129)).is_plausible());
        assert!(SessionToken::from_client(&"a".repeat(64)).is_plausible());
    }

    #[test]
    fn only_the_keyed_hash_is_stored() {
        // Expected values from Python's hmac module.
        let key = SessionKey::new(std::array::from_fn(|i| i as u8));
        assert_eq!(
            key.token_hash(&SessionToken::from_client("token")),
            "799ef35acf21da6109953721bac8e63fcef145cf7d97915acf277349c7282a9c"
        );
        assert_eq!(
            SessionKey::new([7; 32]).keyed_hash(b"sms:13912345678:123456"),
            "464c0d037a0326c75d9fd7f84bcf1e963574b0bbb3b4f319e7d1479501f5de12"
        );
        let token = SessionToken::generate();
        let other_key = SessionKey::new([1; 32]);
        assert_ne!(key.token_hash(&token), other_key.token_hash(&token));
        assert!(!key.token_hash(&token).contains(token.expose()));
        assert_eq!(format!("{key:?}"), "SessionKey(…)");
    }
}
