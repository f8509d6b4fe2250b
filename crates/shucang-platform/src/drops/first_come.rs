//! First come, first served (先到先得): the drop's own sale window, its
//! per-account limit, and its price times the quantity. Stock goes to
//! whoever reaches the store's atomic step first.

use crate::store::{DropRecord, PurchaseTerms};

/// The terms of buying `quantity` editions of a first-come `drop`; `None`
/// when the amount does not fit.
pub fn terms(drop: &DropRecord, quantity: u32) -> Option<PurchaseTerms> {
    let amount = drop.drop.price.times(u64::from(quantity))?;
    i64::try_from(amount.get()).ok()?;
    Some(PurchaseTerms {
        opens_at: drop.drop.starts_at,
        closes_at: drop.drop.ends_at,
        per_account_limit: drop.drop.per_user_limit,
        amount,
    })
}

#[cfg(test)]
mod tests {
    use shucang_types::{Fen, UnixMillis};

    use super::*;
    use crate::drops::DropKind;
    use crate::store::NewDrop;

    fn drop_priced(price: Fen) -> DropRecord {
        DropRecord {
            id: 1,
            drop: NewDrop {
                work_id: 2,
                kind: DropKind::FirstCome,
                title: "首发".into(),
                price,
                supply: 10,
                starts_at: UnixMillis(1_000),
                ends_at: UnixMillis(2_000),
                per_user_limit: 3,
                created_by: 4,
                created_at: UnixMillis(500),
            },
            edition_start: 1,
            sold: 9,
        }
    }

    #[test]
    fn the_drops_window_limit_and_price_times_quantity() {
        let drop = drop_priced(Fen::price(990).unwrap());
        assert_eq!(
            terms(&drop, 2),
            Some(PurchaseTerms {
                opens_at: UnixMillis(1_000),
                closes_at: UnixMillis(2_000),
                per_account_limit: 3,
                amount: Fen::price(1_980).unwrap(),
            })
        );
        // Stock and the limit are the store's to hold: the terms do not
        // look at what is sold.
        assert_eq!(terms(&drop, 5).unwrap().amount.get(), 4_950);
        assert_eq!(DropKind::FirstCome.terms(&drop, 2), terms(&drop, 2));
        assert_eq!(
            terms(&drop_priced(Fen::price(0).unwrap()), 1)
                .unwrap()
                .amount
                .get(),
            0
        );
    }

    #[test]
    fn an_amount_that_does_not_fit_has_no_terms() {
        let huge = Fen::from_stored(i64::MAX / 2).unwrap();
        assert_eq!(terms(&drop_priced(huge), 1).map(|t| t.amount), Some(huge));
        assert_eq!(terms(&drop_priced(huge), 3), None, "past i64");
        assert_eq!(
            terms(&drop_priced(Fen::from_stored(i64::MAX).unwrap()), 100),
            None
        );
    }
}
