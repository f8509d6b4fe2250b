//! Block and genesis decoding: never panics; canonical round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shucang_chain::{Block, Genesis};

fuzz_target!(|data: &[u8]| {
    if let Ok(block) = Block::decode(data) {
        assert_eq!(block.encode(), data, "decoding accepted a non-canonical block");
        let _ = block.verify_signature();
    }
    if let Ok(genesis) = Genesis::decode(data) {
        assert_eq!(genesis.encode(), data, "decoding accepted a non-canonical genesis");
    }
});
