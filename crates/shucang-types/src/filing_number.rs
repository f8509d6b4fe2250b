//! Blockchain information service filing numbers (区块链信息服务备案编号),
//! e.g. `京网信备1101081963896882001X号`.
//!
//! The shape: the province abbreviation, `网信备`, 20 characters and `号`.
//! The 20 are the 6-digit district code of the filer's registered place,
//! a 2-digit year, 8 digits unique within the registry, the 3-digit
//! counter of that filer's services, and one check character by ISO 7064
//! MOD 11-2 over the 19 before it (the algorithm of the ID-card check;
//! `X` stands for 10). The abbreviation follows the district code's first
//! two digits. The registry issues numbers with [`FilingNumber::compose`];
//! the platform checks its configured number with [`FilingNumber::parse`].

/// Province-level regions: the first two digits of a district code
/// (GB/T 2260) and the abbreviation filing numbers begin with.
const PROVINCES: [(&str, &str); 31] = [
    ("11", "京"),
    ("12", "津"),
    ("13", "冀"),
    ("14", "晋"),
    ("15", "蒙"),
    ("21", "辽"),
    ("22", "吉"),
    ("23", "黑"),
    ("31", "沪"),
    ("32", "苏"),
    ("33", "浙"),
    ("34", "皖"),
    ("35", "闽"),
    ("36", "赣"),
    ("37", "鲁"),
    ("41", "豫"),
    ("42", "鄂"),
    ("43", "湘"),
    ("44", "粤"),
    ("45", "桂"),
    ("46", "琼"),
    ("50", "渝"),
    ("51", "川"),
    ("52", "黔"),
    ("53", "滇"),
    ("54", "藏"),
    ("61", "陕"),
    ("62", "甘"),
    ("63", "青"),
    ("64", "宁"),
    ("65", "新"),
];

/// The province abbreviation of a 6-digit district code, if its first two
/// digits name a province-level region.
pub fn province_abbreviation(district: &str) -> Option<&'static str> {
    let prefix = district.get(..2)?;
    PROVINCES
        .iter()
        .find(|(code, _)| *code == prefix)
        .map(|(_, abbr)| *abbr)
}

/// ISO 7064 MOD 11-2 over ASCII digits: the character that completes
/// `digits` (`0`–`9` or `X`). For 17 digits it is the ID-card check.
pub fn mod11_2_check_character(digits: &[u8]) -> u8 {
    let n = digits.len() as u32;
    let mut sum = 0u32;
    for (i, d) in digits.iter().enumerate() {
        // Weight 2^(n - i) mod 11, computed without overflow.
        let mut w = 1u32;
        for _ in 0..(n - i as u32) % 10 {
            w = w * 2 % 11;
        }
        sum += u32::from(d - b'0') * w;
    }
    b"10X98765432"[(sum % 11) as usize]
}

/// A filing number with a valid shape, province and check character.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FilingNumber(String);

/// Why a string is not a valid filing number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FilingNumberError {
    /// Not `<省>网信备` + 20 characters + `号`.
    #[error(
        "a filing number is a province abbreviation, 网信备, 19 digits and a check character, then 号"
    )]
    Format,
    /// The abbreviation does not belong to the district code's province.
    #[error("the filing number's province does not match its district code")]
    Province,
    /// The check character does not match.
    #[error("the filing number's check character is wrong")]
    CheckCharacter,
}

/// The parts a registry composes a number from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilingNumberParts {
    /// The 6-digit district code of the registered place.
    pub district: String,
    /// The year of issue (only its last two digits are printed).
    pub year: u16,
    /// Unique within the registry, below 10^8.
    pub serial: u32,
    /// The filer's service counter, 1–999.
    pub service: u16,
}

impl FilingNumber {
    /// Parses and checks a number (surrounding spaces ignored).
    pub fn parse(input: &str) -> Result<FilingNumber, FilingNumberError> {
        let s = input.trim();
        let mut chars = s.chars();
        let abbr = chars.next().ok_or(FilingNumberError::Format)?;
        let rest = chars.as_str();
        let body = rest
            .strip_prefix("网信备")
            .and_then(|r| r.strip_suffix('号'))
            .ok_or(FilingNumberError::Format)?;
        let b = body.as_bytes();
        if b.len() != 20
            || !b[..19].iter().all(u8::is_ascii_digit)
            || !(b[19].is_ascii_digit() || b[19] == b'X')
        {
            return Err(FilingNumberError::Format);
        }
        let expected = province_abbreviation(&body[..6]).ok_or(FilingNumberError::Province)?;
        if !expected.starts_with(abbr) {
            return Err(FilingNumberError::Province);
        }
        if mod11_2_check_character(&b[..19]) != b[19] {
            return Err(FilingNumberError::CheckCharacter);
        }
        Ok(FilingNumber(s.to_owned()))
    }

    /// Composes the number of `parts`, or `None` if a part is out of range
    /// or the district names no province.
    pub fn compose(parts: &FilingNumberParts) -> Option<FilingNumber> {
        let p = parts;
        let district_ok = p.district.len() == 6 && p.district.bytes().all(|b| b.is_ascii_digit());
        if !district_ok || p.serial >= 100_000_000 || !(1..=999).contains(&p.service) {
            return None;
        }
        let abbr = province_abbreviation(&p.district)?;
        let digits = format!(
            "{}{:02}{:08}{:03}",
            p.district,
            p.year % 100,
            p.serial,
            p.service
        );
        let check = mod11_2_check_character(digits.as_bytes()) as char;
        Some(FilingNumber(format!("{abbr}网信备{digits}{check}号")))
    }

    /// The 20 characters between `网信备` and `号`.
    pub fn body(&self) -> &str {
        let start = self.0.find("网信备").map_or(0, |i| i + "网信备".len());
        &self.0[start..self.0.len() - "号".len()]
    }
}

text_value!(FilingNumber, "The number.");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_of_the_specification_checks() {
        let n = FilingNumber::parse("京网信备1101081963896882001X号").unwrap();
        assert_eq!(n.body(), "1101081963896882001X");
        let parts = FilingNumberParts {
            district: "110108".into(),
            year: 2019,
            serial: 63_896_882,
            service: 1,
        };
        assert_eq!(FilingNumber::compose(&parts), Some(n));
    }

    #[test]
    fn the_check_is_the_id_card_check_over_17_digits() {
        // GB 11643-1999's example: 11010519491231002X.
        assert_eq!(mod11_2_check_character(b"11010519491231002"), b'X');
        assert_eq!(
            mod11_2_check_character(b"11010519491231002"),
            crate::id_check_character(b"11010519491231002")
        );
    }

    #[test]
    fn near_misses_are_refused_with_the_reason() {
        use FilingNumberError::*;
        for (input, why) in [
            ("京网信备11010819638968820010号", CheckCharacter),
            ("沪网信备1101081963896882001X号", Province),
            ("京网信备1101081963896882001X", Format),
            ("京网信备110108196389688200X号", Format),
            ("京网信备1101081963896882001x号", Format),
            ("京网备1101081963896882001X号", Format),
            ("京网信备9901081963896882001X号", Province),
            ("", Format),
            ("京", Format),
        ] {
            assert_eq!(FilingNumber::parse(input), Err(why), "{input}");
        }
    }

    #[test]
    fn composed_numbers_always_parse_and_carry_their_parts() {
        for (district, serial, service) in [
            ("440305", 1, 1),
            ("650102", 99_999_999, 999),
            ("520102", 12_345, 17),
        ] {
            let parts = FilingNumberParts {
                district: district.into(),
                year: 2026,
                serial,
                service,
            };
            let n = FilingNumber::compose(&parts).unwrap();
            assert_eq!(FilingNumber::parse(n.as_str()), Ok(n.clone()));
            assert!(
                n.body()
                    .starts_with(&format!("{district}26{serial:08}{service:03}"))
            );
        }
        let bad = |district: &str, serial, service| {
            FilingNumber::compose(&FilingNumberParts {
                district: district.into(),
                year: 2026,
                serial,
                service,
            })
        };
        assert_eq!(bad("990101", 1, 1), None);
        assert_eq!(bad("11010", 1, 1), None);
        assert_eq!(bad("110108", 100_000_000, 1), None);
        assert_eq!(bad("110108", 1, 0), None);
        assert_eq!(bad("110108", 1, 1000), None);
    }
}
