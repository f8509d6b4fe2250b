//! Money: an integer number of fen (分), RMB only.

use std::fmt;

/// An amount of RMB in fen. Never negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fen(u64);

/// Largest amount accepted for one price: ¥1,000,000.00.
pub const FEN_PRICE_MAX: u64 = 100_000_000;

/// An amount that is negative or too large.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("an amount is a whole number of fen from 0 to 100000000 (¥1,000,000.00)")]
pub struct FenError;

impl Fen {
    /// A price, checked against [`FEN_PRICE_MAX`].
    pub fn price(fen: i64) -> Result<Fen, FenError> {
        u64::try_from(fen)
            .ok()
            .filter(|f| *f <= FEN_PRICE_MAX)
            .map(Fen)
            .ok_or(FenError)
    }

    /// An amount read back from storage (any non-negative value).
    pub fn from_stored(fen: i64) -> Option<Fen> {
        u64::try_from(fen).ok().map(Fen)
    }

    /// The number of fen.
    pub fn get(self) -> u64 {
        self.0
    }

    /// `self × n`, if it fits.
    pub fn times(self, n: u64) -> Option<Fen> {
        self.0.checked_mul(n).map(Fen)
    }
}

impl fmt::Display for Fen {
    /// `¥12.50`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "¥{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices() {
        assert_eq!(Fen::price(1250).unwrap().to_string(), "¥12.50");
        assert_eq!(Fen::price(0).unwrap().to_string(), "¥0.00");
        assert_eq!(Fen::price(-1), Err(FenError));
        assert_eq!(Fen::price(100_000_001), Err(FenError));
        assert_eq!(Fen::price(999).unwrap().times(3), Some(Fen(2997)));
        assert_eq!(Fen(u64::MAX).times(2), None);
    }
}
