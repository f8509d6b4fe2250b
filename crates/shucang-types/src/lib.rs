//! Validated values shared by every shucang crate.
//!
//! Values from outside (HTTP bodies, CLI arguments, configuration) are parsed
//! here, at the edge, into types that cannot hold an invalid value: a
//! [`Phone`] is always a normalised mainland mobile number, a [`Role`] is
//! always one of the roles of PRODUCT.md §2.
//!
//! **Architecture invariant:** this crate does no I/O and knows nothing of
//! HTTP, SQL, JSON or the chain. It depends on nothing but `thiserror`.
//!
//! ```
//! use shucang_types::Phone;
//! let phone = Phone::parse("+86 138-0013-8000").unwrap();
//! assert_eq!(phone.as_str(), "13800138000");
//! ```

/// Gives a validated value that is held as its text an `as_str` (with the
/// given doc) and a `Display` that writes the text.
macro_rules! text_value {
    ($name:ident, $doc:literal) => {
        impl $name {
            #[doc = $doc]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

mod clock;
mod contact;
mod credit_code;
mod date;
mod filing_number;
mod id_number;
mod money;
mod password;
mod phone;
mod role;

pub use clock::{Clock, ManualClock, SystemClock, UnixMillis};
pub use contact::{EMAIL_LEN_MAX, Email, EmailError, URL_LEN_MAX, WebUrl, WebUrlError};
pub use credit_code::{CreditCode, CreditCodeError, credit_code_check_character};
pub use date::{Date, days_in_month, is_leap_year};
pub use filing_number::{
    FilingNumber, FilingNumberError, FilingNumberParts, mod11_2_check_character,
    province_abbreviation,
};
pub use id_number::{IdNumber, IdNumberError, id_check_character};
pub use money::{FEN_PRICE_MAX, Fen, FenError};
pub use password::{
    FailedLogin, PASSWORD_LEN_MAX, PASSWORD_LEN_MIN, PasswordProblem, WindowedEvent, check_password,
};
pub use phone::{Phone, PhoneError};
pub use role::{Role, RoleError};
