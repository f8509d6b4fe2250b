//! The registry's application form as a filer sends it: any bytes parse
//! or are refused, and validation of whatever parses never panics and
//! always reports something for a form that is not complete.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shucang_registry::{ApplicationForm, codec, validate};
use shucang_types::Date;

fuzz_target!(|data: &[u8]| {
    if let Ok(form) = serde_json::from_slice::<ApplicationForm>(data) {
        let today = Date::new(2026, 11, 28).expect("a real date");
        let findings = validate(&form, &[1, 2, 3], today);
        if form.services.is_empty() {
            assert!(findings.problems.iter().any(|p| p.path == "services"));
        }
        // The stored document reads back as the same form.
        let stored = codec::encode_form(&form);
        let again = codec::decode_form(&stored).expect("a stored form reads back");
        assert_eq!(again, form);
    }
});
