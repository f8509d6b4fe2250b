//! Signing keys of the two suites (the verifying side is `shucang-verify`).

use shucang_verify::{SM2_DEFAULT_USER_ID, Suite};

/// A private signing key of one suite. `Debug` never shows the secret.
#[derive(Clone)]
pub enum SigningKey {
    /// An Ed25519 key.
    Ed25519(ed25519_dalek::SigningKey),
    /// An SM2 key with the default user id.
    Sm2(sm2::dsa::SigningKey),
}

/// The 32 secret bytes are not a valid key for the suite (SM2 needs a scalar
/// in `1..n-1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the secret bytes are not a valid {0} key")]
pub struct InvalidSecret(pub &'static str);

impl SigningKey {
    /// The key with these 32 secret bytes.
    pub fn from_secret(suite: Suite, secret: &[u8; 32]) -> Result<SigningKey, InvalidSecret> {
        match suite {
            Suite::Ed25519Sha256 => Ok(SigningKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                secret,
            ))),
            Suite::Sm2Sm3 => sm2::dsa::SigningKey::from_slice(SM2_DEFAULT_USER_ID, secret)
                .map(SigningKey::Sm2)
                .map_err(|_| InvalidSecret(suite.name())),
        }
    }

    /// The suite the key belongs to.
    pub fn suite(&self) -> Suite {
        match self {
            SigningKey::Ed25519(_) => Suite::Ed25519Sha256,
            SigningKey::Sm2(_) => Suite::Sm2Sm3,
        }
    }

    /// The public key: 32 bytes (Ed25519) or 65 bytes (SM2, uncompressed SEC1).
    pub fn public_key(&self) -> Vec<u8> {
        match self {
            SigningKey::Ed25519(k) => k.verifying_key().to_bytes().to_vec(),
            SigningKey::Sm2(k) => k.verifying_key().to_sec1_bytes().to_vec(),
        }
    }

    /// Signs `message`: 64 bytes. Both schemes sign deterministically
    /// (Ed25519 by design, SM2 with RFC 6979 nonces).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        match self {
            SigningKey::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                k.sign(message).to_bytes()
            }
            SigningKey::Sm2(k) => {
                use sm2::dsa::signature::Signer as _;
                let sig: sm2::dsa::Signature = k.sign(message);
                sig.to_bytes()
            }
        }
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey({}, public {})",
            self.suite().name(),
            hex::encode(self.public_key())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_verify_with_the_offline_verifier() {
        for suite in Suite::ALL {
            let key = SigningKey::from_secret(suite, &[0x42; 32]).unwrap();
            assert_eq!(key.suite(), suite);
            let public = key.public_key();
            assert_eq!(public.len(), suite.public_key_len());
            let sig = key.sign(b"mint #1");
            assert_eq!(sig, key.sign(b"mint #1"), "deterministic");
            assert_eq!(suite.verify(&public, b"mint #1", &sig), Ok(()));
            assert!(suite.verify(&public, b"mint #2", &sig).is_err());
            assert!(!format!("{key:?}").contains("4242"));
        }
    }

    #[test]
    fn the_published_sm2_private_key_gives_its_public_key() {
        // GM/T 0003.5-2012 Appendix A signing example key pair.
        let d = hex::decode("3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8")
            .unwrap();
        let key = SigningKey::from_secret(Suite::Sm2Sm3, &d.try_into().unwrap()).unwrap();
        assert_eq!(
            hex::encode_upper(key.public_key()),
            "0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020\
             CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
        );
        let sig = key.sign(b"message digest");
        assert_eq!(
            Suite::Sm2Sm3.verify(&key.public_key(), b"message digest", &sig),
            Ok(())
        );
    }

    #[test]
    fn invalid_sm2_secrets_are_refused() {
        assert!(SigningKey::from_secret(Suite::Sm2Sm3, &[0; 32]).is_err());
        assert!(SigningKey::from_secret(Suite::Sm2Sm3, &[0xff; 32]).is_err());
    }
}
