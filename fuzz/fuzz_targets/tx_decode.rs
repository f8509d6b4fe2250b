//! Transaction decoding: never panics; whatever decodes re-encodes to the
//! same bytes (one encoding per value).
#![no_main]

use libfuzzer_sys::fuzz_target;
use shucang_chain::SignedTransaction;

fuzz_target!(|data: &[u8]| {
    if let Ok(tx) = SignedTransaction::decode(data) {
        assert_eq!(tx.encode(), data, "decoding accepted a non-canonical encoding");
        let _ = tx.verify_signature();
    }
});
