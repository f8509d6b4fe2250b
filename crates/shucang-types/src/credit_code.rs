//! Unified social credit codes (统一社会信用代码, GB 32100-2015).

/// The code's alphabet: digits and upper-case letters without I, O, S, V
/// and Z; a character's value is its position.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// The weights of the first 17 characters (3^i mod 31).
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// An 18-character unified social credit code with a valid check
/// character.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CreditCode(String);

/// Why a string is not a valid unified social credit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreditCodeError {
    /// Not 18 characters of the code's alphabet.
    #[error("a unified social credit code is 18 characters of 0-9 and A-Z without I, O, S, V, Z")]
    Format,
    /// The check character does not match.
    #[error("the unified social credit code's check character is wrong")]
    CheckCharacter,
}

fn value(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|a| *a == c).map(|p| p as u32)
}

/// The check character of the first 17 characters, `None` if one is not of
/// the alphabet.
pub fn credit_code_check_character(first17: &[u8]) -> Option<u8> {
    let mut sum = 0;
    for (c, w) in first17.iter().zip(WEIGHTS) {
        sum += value(*c)? * w;
    }
    Some(ALPHABET[((31 - sum % 31) % 31) as usize])
}

impl CreditCode {
    /// Parses and checks a code (surrounding spaces ignored; letters must
    /// be upper case, as printed on licences).
    pub fn parse(input: &str) -> Result<CreditCode, CreditCodeError> {
        let s = input.trim();
        let b = s.as_bytes();
        if b.len() != 18 || b.iter().any(|c| value(*c).is_none()) {
            return Err(CreditCodeError::Format);
        }
        if credit_code_check_character(&b[..17]) != Some(b[17]) {
            return Err(CreditCodeError::CheckCharacter);
        }
        Ok(CreditCode(s.to_owned()))
    }
}

text_value!(CreditCode, "The code.");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_check_and_near_misses_do_not() {
        // Codes printed on public business licences.
        for ok in [
            "91350100M000100Y43",
            "91110000802100433B",
            "91440300708461136T",
        ] {
            assert!(CreditCode::parse(ok).is_ok(), "{ok}");
        }
        assert_eq!(
            CreditCode::parse("91350100M000100Y44"),
            Err(CreditCodeError::CheckCharacter)
        );
        for bad in [
            "",
            "91350100M000100Y4",
            "91350100M000100Y433",
            "91350100m000100Y43",
            "9135010OM000100Y43",
        ] {
            assert_eq!(
                CreditCode::parse(bad),
                Err(CreditCodeError::Format),
                "{bad}"
            );
        }
    }

    #[test]
    fn every_17_character_body_has_exactly_one_valid_check_character() {
        let body = b"91110108MA01ABCDE";
        let good = credit_code_check_character(body).unwrap();
        let valid = ALPHABET
            .iter()
            .filter(|c| {
                let mut code = body.to_vec();
                code.push(**c);
                CreditCode::parse(std::str::from_utf8(&code).unwrap()).is_ok()
            })
            .count();
        assert_eq!(valid, 1);
        assert!(ALPHABET.contains(&good));
    }
}
