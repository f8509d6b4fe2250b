//! The two crypto suites a chain may be created with.

use sha2::Digest as _;

/// A 32-byte hash (SHA-256 and SM3 both give 32 bytes).
pub type Hash = [u8; 32];

/// Bytes in an address: the last 20 bytes of the suite's hash of the public key.
pub const ADDRESS_LEN: usize = 20;

/// The default SM2 user id (distinguishing identifier) of GB/T 35276 / GM/T 0009.
pub const SM2_DEFAULT_USER_ID: &str = "1234567812345678";

/// A crypto suite: one hash function and one signature scheme, fixed at genesis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Suite {
    /// Ed25519 (RFC 8032) signatures, SHA-256 hashing.
    Ed25519Sha256,
    /// SM2 signatures (GB/T 32918.2, default user id), SM3 hashing (GB/T 32905).
    Sm2Sm3,
}

/// A signature did not verify, or its key or encoding is malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The public key has the wrong length or is not a valid curve point.
    #[error("malformed public key")]
    MalformedPublicKey,
    /// The signature has the wrong length or is out of range.
    #[error("malformed signature")]
    MalformedSignature,
    /// Well-formed, but not a signature of this message by this key.
    #[error("signature does not verify")]
    Invalid,
}

impl Suite {
    /// Every suite.
    pub const ALL: [Suite; 2] = [Suite::Ed25519Sha256, Suite::Sm2Sm3];

    /// The stable name: `ed25519-sha256` or `sm2-sm3`.
    pub fn name(self) -> &'static str {
        match self {
            Suite::Ed25519Sha256 => "ed25519-sha256",
            Suite::Sm2Sm3 => "sm2-sm3",
        }
    }

    /// The suite with this name.
    pub fn parse(name: &str) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.name() == name)
    }

    /// The stable one-byte code used in binary encodings.
    pub fn code(self) -> u8 {
        match self {
            Suite::Ed25519Sha256 => 1,
            Suite::Sm2Sm3 => 2,
        }
    }

    /// The suite with this code.
    pub fn from_code(code: u8) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Bytes in a public key: 32 (Ed25519) or 65 (SM2, uncompressed SEC1).
    pub fn public_key_len(self) -> usize {
        match self {
            Suite::Ed25519Sha256 => 32,
            Suite::Sm2Sm3 => 65,
        }
    }

    /// Bytes in a signature: 64 for both (Ed25519 R‖S; SM2 r‖s).
    pub fn signature_len(self) -> usize {
        64
    }

    /// The suite's hash of the concatenation of `parts`.
    pub fn hash_parts(self, parts: &[&[u8]]) -> Hash {
        match self {
            Suite::Ed25519Sha256 => {
                let mut h = sha2::Sha256::new();
                for p in parts {
                    h.update(p);
                }
                h.finalize().into()
            }
            Suite::Sm2Sm3 => {
                let mut h = sm3::Sm3::new();
                for p in parts {
                    h.update(p);
                }
                h.finalize().into()
            }
        }
    }

    /// The suite's hash of `data`.
    pub fn hash(self, data: &[u8]) -> Hash {
        self.hash_parts(&[data])
    }

    /// The address of a public key: the last 20 bytes of its hash.
    pub fn address(self, public_key: &[u8]) -> [u8; ADDRESS_LEN] {
        let h = self.hash(public_key);
        let mut a = [0u8; ADDRESS_LEN];
        a.copy_from_slice(&h[32 - ADDRESS_LEN..]);
        a
    }

    /// Checks `signature` over `message` under `public_key`.
    pub fn verify(
        self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        match self {
            Suite::Ed25519Sha256 => {
                let key: &[u8; 32] = public_key
                    .try_into()
                    .map_err(|_| SignatureError::MalformedPublicKey)?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(key)
                    .map_err(|_| SignatureError::MalformedPublicKey)?;
                let sig = ed25519_dalek::Signature::from_slice(signature)
                    .map_err(|_| SignatureError::MalformedSignature)?;
                // Strict verification refuses small-order keys and
                // non-canonical signatures, so a signature has one encoding.
                key.verify_strict(message, &sig)
                    .map_err(|_| SignatureError::Invalid)
            }
            Suite::Sm2Sm3 => sm2_verify(SM2_DEFAULT_USER_ID, public_key, message, signature),
        }
    }

    /// The signed-note signature type of C2SP signed-note: `0x01` for
    /// Ed25519; for SM2, `0xff` followed by a long identifier, as the
    /// specification recommends for unassigned types.
    pub fn note_signature_type(self) -> &'static [u8] {
        match self {
            Suite::Ed25519Sha256 => &[0x01],
            Suite::Sm2Sm3 => b"\xffshucang/sm2-sm3",
        }
    }
}

pub(crate) fn sm2_verify(
    user_id: &str,
    public_key: &[u8],
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    use sm2::dsa::signature::Verifier as _;
    if public_key.len() != 65 {
        return Err(SignatureError::MalformedPublicKey);
    }
    let key = sm2::dsa::VerifyingKey::from_sec1_bytes(user_id, public_key)
        .map_err(|_| SignatureError::MalformedPublicKey)?;
    let sig = sm2::dsa::Signature::from_slice(signature)
        .map_err(|_| SignatureError::MalformedSignature)?;
    key.verify(message, &sig)
        .map_err(|_| SignatureError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn sha256_published_vectors() {
        // FIPS 180-2 examples.
        let s = Suite::Ed25519Sha256;
        assert_eq!(
            s.hash(b"abc").to_vec(),
            h("ba7816bf 8f01cfea 414140de 5dae2223 b00361a3 96177a9c b410ff61 f20015ad")
        );
        assert_eq!(
            s.hash(b"").to_vec(),
            h("e3b0c442 98fc1c14 9afbf4c8 996fb924 27ae41e4 649b934c a495991b 7852b855")
        );
    }

    #[test]
    fn sm3_published_vectors() {
        // GB/T 32905-2016 Appendix A, examples 1 and 2.
        let s = Suite::Sm2Sm3;
        assert_eq!(
            s.hash(b"abc").to_vec(),
            h("66c7f0f4 62eeedd9 d1f2d46b dc10e4e2 4167c487 5cf2f7a2 297da02b 8f4ba8e0")
        );
        assert_eq!(
            s.hash(&b"abcd".repeat(16)).to_vec(),
            h("debe9ff9 2275b8a1 38604889 c18e5a4d 6fdb70e5 387e5765 293dcba3 9c0c5732")
        );
        assert_eq!(s.hash_parts(&[b"a", b"bc"]), s.hash(b"abc"));
    }

    #[test]
    fn ed25519_rfc8032_test_1() {
        // RFC 8032 §7.1, TEST 1: empty message.
        let public = h("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        let sig = h(
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        );
        let s = Suite::Ed25519Sha256;
        assert_eq!(s.verify(&public, b"", &sig), Ok(()));
        assert_eq!(s.verify(&public, b"x", &sig), Err(SignatureError::Invalid));
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert_eq!(s.verify(&public, b"", &bad), Err(SignatureError::Invalid));
        assert_eq!(
            s.verify(&public[..31], b"", &sig),
            Err(SignatureError::MalformedPublicKey)
        );
        assert_eq!(
            s.verify(&public, b"", &sig[..63]),
            Err(SignatureError::MalformedSignature)
        );
    }

    /// The published example of GM/T 0003.5-2012 Appendix A (the same in
    /// GB/T 32918.5): the recommended curve, the default user id, message
    /// "message digest".
    pub(crate) const GMT_0003_5_PUBLIC: &str = "04\
        09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020\
        CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";

    #[test]
    fn sm2_published_example_of_gmt_0003_5() {
        let public = h(GMT_0003_5_PUBLIC);
        let sig = h(
            "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3\
                     B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA",
        );
        let s = Suite::Sm2Sm3;
        assert_eq!(s.verify(&public, b"message digest", &sig), Ok(()));
        assert_eq!(
            s.verify(&public, b"message digest.", &sig),
            Err(SignatureError::Invalid)
        );
    }

    #[test]
    fn sm2_signature_made_by_openssl_with_the_default_user_id() {
        // `openssl pkeyutl -sign -rawin -digest sm3 -pkeyopt distid:1234567812345678`
        // over "shucang" (OpenSSL 3.0.19), r‖s from the DER signature.
        let public = h(
            "047ee8e8213544625960762b7cae2eb059369522742f2bb1bb66ce30b8a738dd1d186f8f9270a1a45c9b247a5ad51a4d79d082875f3cbf7249cda21d2b19e1c1b0",
        );
        let sig = h(
            "CDFCB48D7E3CA857E5F634CD760A98AD014821D050B5FDB678C330919AB73CC8990444124A829E510A8768B52741AA04DEC00238D4A0AD807409AC2853EDD260",
        );
        let s = Suite::Sm2Sm3;
        assert_eq!(s.verify(&public, b"shucang", &sig), Ok(()));
        assert_eq!(
            s.verify(&public, b"shucanG", &sig),
            Err(SignatureError::Invalid)
        );
        // The user id is part of what is signed.
        assert_eq!(
            sm2_verify("ALICE123@YAHOO.COM", &public, b"shucang", &sig),
            Err(SignatureError::Invalid)
        );
        let mut bad_key = public.clone();
        bad_key[64] ^= 1;
        assert_eq!(
            s.verify(&bad_key, b"shucang", &sig),
            Err(SignatureError::MalformedPublicKey)
        );
    }

    #[test]
    fn sm2_vector_with_a_custom_user_id() {
        // The RustCrypto sm2 crate's OpenSSL-made vector: user id
        // "example@rustcrypto.org", message "testing".
        let public = h(
            "0408D77AE04C01CC4C1104360DD8AF6B6F7DF334283D7C1A6AFD5652407B87BEE5014E2A57C36C150D16324DC664E31E6432359609C4E79847A5B161C8C7364C8A",
        );
        let sig = h(
            "d1dcccedd9fb785e0f67c16b7c52901625c0b69de9bca2144acc7be713cad2fcf7d1eae6e3a157b36c65f672f738ca8b46298bf149a6510072c431b49cd88b1c",
        );
        assert_eq!(
            sm2_verify("example@rustcrypto.org", &public, b"testing", &sig),
            Ok(())
        );
    }

    #[test]
    fn addresses_are_the_last_20_bytes_of_the_key_hash() {
        let s = Suite::Ed25519Sha256;
        let key = [7u8; 32];
        assert_eq!(s.address(&key).to_vec(), s.hash(&key)[12..].to_vec());
        assert_ne!(Suite::Sm2Sm3.address(&key), s.address(&key));
    }

    #[test]
    fn names_and_codes_round_trip() {
        for s in Suite::ALL {
            assert_eq!(Suite::parse(s.name()), Some(s));
            assert_eq!(Suite::from_code(s.code()), Some(s));
        }
        assert_eq!(Suite::parse("rsa"), None);
        assert_eq!(Suite::from_code(0), None);
    }
}
