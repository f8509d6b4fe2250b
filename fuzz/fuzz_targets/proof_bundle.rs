//! Proof-bundle parsing and verification (what `shucang chain verify-proof`
//! runs on a file): never panics, whatever the JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;

const ED25519_KEY: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = shucang_web::proof::verify_bundle_json(text, ED25519_KEY);
    }
});
