//! Signed-checkpoint parsing: never panics, for either suite.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shucang_verify::Suite;
use shucang_verify::note::verify_checkpoint;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = verify_checkpoint(Suite::Ed25519Sha256, &[7; 32], text);
        let _ = verify_checkpoint(Suite::Sm2Sm3, &[4; 65], text);
    }
});
