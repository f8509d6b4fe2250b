//! The registry's value parsers and upload sniffing: never panic; a filing
//! number that parses composes back to itself; a holiday schedule that
//! parses has only its own year's dates.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shucang_types::{CreditCode, Email, FilingNumber, FilingNumberParts, WebUrl};

fuzz_target!(|data: &[u8]| {
    let _ = shucang_registry::sniff("upload.pdf", data);
    let _ = shucang_registry::sniff("upload", data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = CreditCode::parse(text);
    let _ = Email::parse(text);
    let _ = WebUrl::parse(text);
    if let Ok(n) = FilingNumber::parse(text) {
        let body = n.body();
        let parts = FilingNumberParts {
            district: body[..6].to_owned(),
            year: body[6..8].parse::<u16>().expect("digits") + 2000,
            serial: body[8..16].parse().expect("digits"),
            service: body[16..19].parse().expect("digits"),
        };
        if parts.service > 0 {
            let composed = FilingNumber::compose(&parts).expect("parts of a valid number");
            assert_eq!(composed.body(), body);
        }
    }
    if let Ok(years) = shucang_calendar::parse_schedules(text) {
        for (year, schedule) in years {
            assert!(schedule.off.iter().chain(&schedule.work).all(|d| d.year == year));
        }
    }
});
