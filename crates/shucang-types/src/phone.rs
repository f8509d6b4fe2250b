//! Mainland China mobile numbers.

use std::fmt;

/// A mainland China mobile number, normalised to its 11 digits.
///
/// Accepted input: optional `+86` / `0086` / `86` country prefix, spaces and
/// dashes anywhere between digits. The normalised number must match
/// `^1[3-9]\d{9}$`.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

/// Why a string is not a mainland mobile number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    /// The input, once spaces, dashes and the country prefix are removed, is
    /// not eleven digits starting with 1 and then 3–9.
    #[error("not a mainland China mobile number (11 digits, starting 13–19)")]
    Invalid,
}

/// Longest raw input we even look at; anything longer is rejected before
/// normalisation so that a huge string costs nothing.
const PHONE_INPUT_LEN_MAX: usize = 32;

impl Phone {
    /// Parses and normalises a phone number typed by a person.
    pub fn parse(input: &str) -> Result<Phone, PhoneError> {
        if input.len() > PHONE_INPUT_LEN_MAX {
            return Err(PhoneError::Invalid);
        }
        let trimmed = input.trim();
        let (has_plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut digits = String::with_capacity(16);
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => return Err(PhoneError::Invalid),
            }
        }
        let national = if has_plus {
            digits.strip_prefix("86").ok_or(PhoneError::Invalid)?
        } else if let Some(n) = digits.strip_prefix("0086") {
            n
        } else if digits.len() == 13 {
            digits.strip_prefix("86").ok_or(PhoneError::Invalid)?
        } else {
            &digits
        };
        let b = national.as_bytes();
        let valid = b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]);
        if !valid {
            return Err(PhoneError::Invalid);
        }
        Ok(Phone(national.to_owned()))
    }

    /// The number with its middle four digits hidden: `138****8000`.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

text_value!(Phone, "The eleven digits.");

impl fmt::Debug for Phone {
    // Phone numbers are personal data: debug output (and so logs) masks them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(input: &str, expect: Option<&str>) {
        let got = Phone::parse(input).ok();
        assert_eq!(got.as_ref().map(Phone::as_str), expect, "input {input:?}");
    }

    #[test]
    fn accepts_common_spellings() {
        check("13800138000", Some("13800138000"));
        check(" 13800138000 ", Some("13800138000"));
        check("+8613800138000", Some("13800138000"));
        check("+86 138 0013 8000", Some("13800138000"));
        check("+86-138-0013-8000", Some("13800138000"));
        check("008613800138000", Some("13800138000"));
        check("8613800138000", Some("13800138000"));
        check("19912345678", Some("19912345678"));
    }

    #[test]
    fn rejects_non_mobile_numbers() {
        check("", None);
        check("12800138000", None);
        check("10800138000", None);
        check("1380013800", None);
        check("138001380001", None);
        check("+85213800138000", None);
        check("+13800138000", None);
        check("138O0138000", None);
        check("１３８００１３８０００", None);
        check("138.0013.8000", None);
        check(&"1".repeat(1000), None);
    }

    #[test]
    fn masks_middle_digits() {
        let p = Phone::parse("13800138000").unwrap();
        assert_eq!(p.masked(), "138****8000");
        assert_eq!(format!("{p:?}"), "Phone(138****8000)");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Phone::parse(&s);
        }

        #[test]
        fn normalised_form_is_a_fixed_point(s in "(\\+86|0086)?[ -]?1[3-9][0-9 -]{9,14}") {
            if let Ok(p) = Phone::parse(&s) {
                let again = Phone::parse(p.as_str()).unwrap();
                prop_assert_eq!(again, p);
            }
        }
    }
}
