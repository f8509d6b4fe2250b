//! The lockout policy: consecutive failed logins lock an account for a while.

use shucang_types::{FailedLogin, UnixMillis};

/// How many consecutive failures lock an account, and for how long. During
/// the lock even the right password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Consecutive failed logins that lock the account (at least 1).
    pub failures_max: u32,
    /// How long a lock lasts, in milliseconds.
    pub lockout_ms: i64,
}

impl Default for LockoutPolicy {
    /// PRODUCT.md §5.1: 5 failures, 30 minutes.
    fn default() -> LockoutPolicy {
        LockoutPolicy {
            failures_max: 5,
            lockout_ms: 30 * 60_000,
        }
    }
}

/// What the password step of a login came to
/// ([`crate::PasswordHasher::check_login`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginCheck {
    /// The account is locked until then; nothing was hashed.
    Locked {
        /// When the lock ends.
        until: UnixMillis,
    },
    /// No such user (the dummy hash was checked).
    UnknownUser,
    /// The password does not match: record the failure.
    WrongPassword,
    /// The password matches.
    Valid,
}

/// What a store keeps for a login: the row's id, its password hash and
/// the lock it holds, if any.
#[derive(Debug, Clone, Copy)]
pub struct StoredLogin<'a> {
    /// The account's (or user's) id.
    pub id: i64,
    /// The stored PHC password hash.
    pub password_hash: &'a str,
    /// When the account's lock ends, if it has one.
    pub locked_until: Option<UnixMillis>,
}

impl<'a> StoredLogin<'a> {
    /// A stored login: the row's id, its password hash, its lock.
    pub fn new(id: i64, password_hash: &'a str, locked_until: Option<UnixMillis>) -> Self {
        StoredLogin {
            id,
            password_hash,
            locked_until,
        }
    }
}

/// Why a login was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Unknown phone or wrong password, alike.
    InvalidCredentials,
    /// The account is locked until then, whatever the password.
    Locked {
        /// When the lock ends.
        until: UnixMillis,
    },
}

impl LockoutPolicy {
    /// Whether a lock stored as `locked_until` still holds at `now`; if so,
    /// until when.
    pub fn lock_in_force(locked_until: Option<UnixMillis>, now: UnixMillis) -> Option<UnixMillis> {
        locked_until.filter(|until| *until > now)
    }

    /// A failed login at `now`, for the store to count atomically.
    pub fn failed_login(&self, now: UnixMillis) -> FailedLogin {
        FailedLogin {
            at: now,
            failures_max: self.failures_max.max(1),
            lock_until: self.lock_until(now),
        }
    }

    /// When a lock starting at `now` ends.
    pub fn lock_until(&self, now: UnixMillis) -> UnixMillis {
        now.plus_ms(self.lockout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_carries_the_limit_and_when_its_lock_would_end() {
        let policy = LockoutPolicy::default();
        let now = UnixMillis(1_000_000);
        let until = now.plus_ms(30 * 60_000);
        assert_eq!(
            policy.failed_login(now),
            FailedLogin {
                at: now,
                failures_max: 5,
                lock_until: until
            }
        );
        assert_eq!(LockoutPolicy::lock_in_force(Some(until), now), Some(until));
        assert_eq!(
            LockoutPolicy::lock_in_force(Some(until), until),
            None,
            "ends on time"
        );
        assert_eq!(LockoutPolicy::lock_in_force(None, now), None);
    }

    #[test]
    fn a_policy_of_zero_still_needs_one_failure() {
        let policy = LockoutPolicy {
            failures_max: 0,
            lockout_ms: 1_000,
        };
        let f = policy.failed_login(UnixMillis(5));
        assert_eq!((f.failures_max, f.lock_until), (1, UnixMillis(1_005)));
    }
}
