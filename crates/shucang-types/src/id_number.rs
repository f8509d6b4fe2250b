//! Resident identity card numbers (居民身份证号码, GB 11643-1999).

use std::fmt;

use crate::date::Date;

/// An 18-character resident ID number whose check character, birth date and
/// province prefix are valid. `Debug` and [`IdNumber::masked`] hide the
/// middle; the full number is only for encryption and keyed hashing.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdNumber(String);

/// Why a string is not a valid resident ID number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Not 17 digits followed by a digit or an upper-case `X`.
    #[error("an ID number is 17 digits followed by a digit or an upper-case X")]
    Format,
    /// The first two digits name no province-level region.
    #[error("the ID number's region code is unknown")]
    Region,
    /// Digits 7–14 are not a real date from 1900 up to today.
    #[error("the ID number's birth date is not a real date up to today")]
    BirthDate,
    /// The check character does not match (GB 11643-1999).
    #[error("the ID number's check character is wrong")]
    CheckCharacter,
}

/// Province-level region codes (GB/T 2260) that begin ID numbers, including
/// 81/82/83 of the residence permits for Hong Kong, Macao and Taiwan residents.
const REGION_PREFIXES: [&str; 35] = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
    "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
    "81", "82", "83",
];

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: &[u8; 11] = b"10X98765432";

/// The GB 11643-1999 check character of the first 17 digits.
pub fn id_check_character(first17: &[u8]) -> u8 {
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK_CHARS[(sum % 11) as usize]
}

impl IdNumber {
    /// Parses and validates an ID number; `today` (in China) bounds the birth date.
    pub fn parse(input: &str, today: Date) -> Result<IdNumber, IdNumberError> {
        let s = input.trim();
        let b = s.as_bytes();
        let format_ok = b.len() == 18
            && b[..17].iter().all(u8::is_ascii_digit)
            && (b[17].is_ascii_digit() || b[17] == b'X');
        if !format_ok {
            return Err(IdNumberError::Format);
        }
        if !REGION_PREFIXES.contains(&&s[..2]) {
            return Err(IdNumberError::Region);
        }
        let num =
            |r: std::ops::Range<usize>| s[r].parse::<u32>().map_err(|_| IdNumberError::Format);
        let birth = Date::new(num(6..10)? as i32, num(10..12)?, num(12..14)?)
            .ok_or(IdNumberError::BirthDate)?;
        if birth.year < 1900 || birth > today {
            return Err(IdNumberError::BirthDate);
        }
        if id_check_character(&b[..17]) != b[17] {
            return Err(IdNumberError::CheckCharacter);
        }
        Ok(IdNumber(s.to_owned()))
    }

    /// The full number. Encrypt or hash it; never log or display it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The birth date the number encodes.
    pub fn birth_date(&self) -> Date {
        let n = |r: std::ops::Range<usize>| self.0[r].parse::<u32>().expect("validated digits");
        Date::new(n(6..10) as i32, n(10..12), n(12..14)).expect("validated date")
    }

    /// Whether the holder is 18 or older on `today`.
    pub fn is_adult_on(&self, today: Date) -> bool {
        self.birth_date().years_until(today) >= 18
    }

    /// The first 6 and last 4 characters with 8 stars between:
    /// `110105********002X`.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.0[..6], &self.0[14..])
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TODAY: Date = Date {
        year: 2026,
        month: 11,
        day: 28,
    };

    /// A valid number from a 17-digit prefix.
    pub(crate) fn with_check(first17: &str) -> String {
        let c = id_check_character(first17.as_bytes());
        format!("{first17}{}", c as char)
    }

    #[test]
    fn the_standard_example_and_friends() {
        // The GB 11643-1999 example number.
        assert!(IdNumber::parse("11010519491231002X", TODAY).is_ok());
        assert_eq!(id_check_character(b"11010519491231002"), b'X');
        let n = IdNumber::parse(&with_check("44030420080229123"), TODAY).unwrap();
        assert_eq!(n.birth_date(), Date::new(2008, 2, 29).unwrap());
        assert!(n.is_adult_on(TODAY));
        assert_eq!(n.masked(), format!("440304********{}", &n.expose()[14..]));
        assert!(!format!("{n:?}").contains("20080229"));
    }

    #[test]
    fn bad_numbers_say_why() {
        let check = |s: &str, e| assert_eq!(IdNumber::parse(s, TODAY), Err(e), "{s}");
        check("11010519491231002x", IdNumberError::Format);
        check("1101051949123100", IdNumberError::Format);
        check("11010519491231002XX", IdNumberError::Format);
        check("A1010519491231002X", IdNumberError::Format);
        check(&with_check("99010519491231002"), IdNumberError::Region);
        check(&with_check("11010519490231002"), IdNumberError::BirthDate);
        check(&with_check("11010518991231002"), IdNumberError::BirthDate);
        check(&with_check("11010520261129002"), IdNumberError::BirthDate);
        check(&with_check("11010520250229002"), IdNumberError::BirthDate);
        check("110105194912310021", IdNumberError::CheckCharacter);
    }

    #[test]
    fn adulthood_turns_on_the_18th_birthday() {
        let n = IdNumber::parse(&with_check("11010520081128001"), TODAY).unwrap();
        assert!(n.is_adult_on(TODAY));
        assert!(!n.is_adult_on(Date::new(2026, 11, 27).unwrap()));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,30}") {
            let _ = IdNumber::parse(&s, TODAY);
        }

        #[test]
        fn exactly_one_check_character_is_accepted(prefix in "(11|44|65)[0-9]{4}(19[5-9][0-9]|200[0-7])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}") {
            let accepted: Vec<char> = "0123456789X".chars()
                .filter(|c| IdNumber::parse(&format!("{prefix}{c}"), TODAY).is_ok())
                .collect();
            prop_assert_eq!(accepted.len(), 1);
        }
    }
}
