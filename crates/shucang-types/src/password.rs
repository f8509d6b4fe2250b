//! The password policy of PRODUCT.md §5.1.

/// Shortest password accepted, in characters.
pub const PASSWORD_LEN_MIN: usize = 8;
/// Longest password accepted, in bytes; bounds the hashing cost of one request.
pub const PASSWORD_LEN_MAX: usize = 128;

/// Why a password is refused. The first problem found is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordProblem {
    /// Fewer than [`PASSWORD_LEN_MIN`] characters.
    #[error("the password must be at least 8 characters long")]
    TooShort,
    /// More than [`PASSWORD_LEN_MAX`] bytes.
    #[error("the password must be at most 128 bytes long")]
    TooLong,
    /// Fewer than three of: lower-case letter, upper-case letter, digit, other.
    #[error(
        "the password must mix at least three of: lower-case letters, upper-case letters, digits, symbols"
    )]
    TooFewClasses,
    /// The password contains the account's phone number.
    #[error("the password must not contain the phone number")]
    ContainsPhone,
}

/// Checks a new password against the policy: at least 8 characters, at least
/// 3 of the 4 character classes, and not containing the phone number.
pub fn check_password(password: &str, phone: &str) -> Result<(), PasswordProblem> {
    if password.len() > PASSWORD_LEN_MAX {
        return Err(PasswordProblem::TooLong);
    }
    if password.chars().count() < PASSWORD_LEN_MIN {
        return Err(PasswordProblem::TooShort);
    }
    let (mut lower, mut upper, mut digit, mut other) = (false, false, false, false);
    for c in password.chars() {
        if c.is_ascii_lowercase() {
            lower = true;
        } else if c.is_ascii_uppercase() {
            upper = true;
        } else if c.is_ascii_digit() {
            digit = true;
        } else {
            other = true;
        }
    }
    let classes = [lower, upper, digit, other].iter().filter(|&&b| b).count();
    if classes < 3 {
        return Err(PasswordProblem::TooFewClasses);
    }
    if !phone.is_empty() && password.contains(phone) {
        return Err(PasswordProblem::ContainsPhone);
    }
    Ok(())
}

/// One event a stranger can cause, counted per subject in fixed windows,
/// which a store counts and limits in one atomic statement: a registration
/// from an address, a message to an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowedEvent {
    /// What is counted (`register_ip`, `register_email`).
    pub scope: &'static str,
    /// Whose count (the address, the e-mail address).
    pub subject: String,
    /// When the window began.
    pub window_start: crate::UnixMillis,
    /// How many the window admits.
    pub max: u32,
}

impl WindowedEvent {
    /// The event `scope` of `subject` in the hour-long window holding
    /// `now`, admitting `max`.
    pub fn hourly(scope: &'static str, subject: String, now: crate::UnixMillis, max: u32) -> Self {
        const HOUR_MS: i64 = 3_600_000;
        WindowedEvent {
            scope,
            subject,
            window_start: crate::UnixMillis(now.0 - now.0.rem_euclid(HOUR_MS)),
            max,
        }
    }
}

#[cfg(test)]
mod windowed_tests {
    use super::*;

    #[test]
    fn an_hourly_window_starts_on_the_hour() {
        // The last millisecond of hour 7, then the first of hour 8.
        let at = crate::UnixMillis(8 * 3_600_000 - 1);
        let e = WindowedEvent::hourly("s", "x".into(), at, 3);
        assert_eq!(e.window_start, crate::UnixMillis(7 * 3_600_000));
        let next = WindowedEvent::hourly("s", "x".into(), at.plus_ms(1), 3);
        assert_eq!(next.window_start, crate::UnixMillis(8 * 3_600_000));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PHONE: &str = "13800138000";

    fn check(password: &str, expect: Result<(), PasswordProblem>) {
        assert_eq!(
            check_password(password, PHONE),
            expect,
            "password {password:?}"
        );
    }

    #[test]
    fn policy() {
        check("Abcdef1!", Ok(()));
        check("abcdef12X", Ok(()));
        check("abc-def-12", Ok(()));
        check("密码Abc12345", Ok(()));
        check("Abc1!", Err(PasswordProblem::TooShort));
        check("abcdefgh", Err(PasswordProblem::TooFewClasses));
        check("abcdefg1", Err(PasswordProblem::TooFewClasses));
        check("ABCDEFG1", Err(PasswordProblem::TooFewClasses));
        check("Ab13800138000", Err(PasswordProblem::ContainsPhone));
        check(&"Aa1!".repeat(40), Err(PasswordProblem::TooLong));
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,200}") {
            let _ = check_password(&s, PHONE);
        }
    }
}

/// One failed login, as a store counts it: atomically, in one statement, so
/// that parallel guesses cannot overwrite each other's count or slip past a
/// lock. While a lock holds (`locked_until` after `at`), a failure changes
/// nothing; otherwise the count goes up by one, and the `failures_max`-th
/// failure locks the account until `lock_until` and starts the count again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailedLogin {
    /// When the attempt was made.
    pub at: crate::UnixMillis,
    /// Consecutive failures that lock the account (at least 1).
    pub failures_max: u32,
    /// When a lock set by this failure ends.
    pub lock_until: crate::UnixMillis,
}
