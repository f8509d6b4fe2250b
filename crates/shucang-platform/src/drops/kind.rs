//! How a drop sells. Each kind is a variant here and a module of its own
//! beside this one with the function that works out a purchase's
//! [`PurchaseTerms`]; the store only holds a purchase to the terms it is
//! given, so a new kind needs no new storage code for its purchases.

use crate::store::{DropRecord, PurchaseTerms};

use super::first_come;

/// How a drop sells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropKind {
    /// First come, first served (先到先得): anyone verified buys within the
    /// sale window, up to the per-account limit, at the drop's price.
    FirstCome,
}

impl DropKind {
    /// Every kind.
    pub const ALL: [DropKind; 1] = [DropKind::FirstCome];

    /// The stable code (stored in `drops.kind`).
    pub fn code(self) -> &'static str {
        match self {
            DropKind::FirstCome => "first_come",
        }
    }

    /// The kind with this code.
    pub fn from_code(code: &str) -> Option<DropKind> {
        DropKind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// What buying `quantity` editions of `drop` may be: the window, the
    /// per-account limit and the amount. `None` when the amount does not
    /// fit (only a corrupt stored price can do that).
    pub fn terms(self, drop: &DropRecord, quantity: u32) -> Option<PurchaseTerms> {
        match self {
            DropKind::FirstCome => first_come::terms(drop, quantity),
        }
    }
}

/// The terms of buying `quantity` editions of `drop`, by its kind: the rule
/// a [`crate::Reservation`] carries for the store to apply inside the
/// purchase's transaction.
pub fn purchase_terms(drop: &DropRecord, quantity: u32) -> Option<PurchaseTerms> {
    drop.drop.kind.terms(drop, quantity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for kind in DropKind::ALL {
            assert_eq!(DropKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(DropKind::from_code("lottery"), None);
    }
}
