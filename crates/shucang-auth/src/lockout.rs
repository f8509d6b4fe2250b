//! The lockout policy: consecutive failed logins lock an account for a while.

use shucang_types::UnixMillis;

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

/// The account's state after one more failed login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginFailure {
    /// The consecutive failures to store (0 again once locked).
    pub failures: u32,
    /// Set when this failure locks the account: until when.
    pub locked_until: Option<UnixMillis>,
}

impl LockoutPolicy {
    /// Whether a lock stored as `locked_until` still holds at `now`; if so,
    /// until when.
    pub fn lock_in_force(locked_until: Option<UnixMillis>, now: UnixMillis) -> Option<UnixMillis> {
        locked_until.filter(|until| *until > now)
    }

    /// When a lock starting at `now` ends.
    pub fn lock_until(&self, now: UnixMillis) -> UnixMillis {
        now.plus_ms(self.lockout_ms)
    }

    /// What to store after a failed login at `now`, when `failures_before`
    /// consecutive ones preceded it: the count restarts from zero when the
    /// account locks. (A store that counts atomically in one statement
    /// applies the same rule with [`LockoutPolicy::failures_max`] and
    /// [`LockoutPolicy::lock_until`].)
    pub fn after_failure(&self, failures_before: u32, now: UnixMillis) -> LoginFailure {
        let failures = failures_before.saturating_add(1);
        if failures >= self.failures_max {
            LoginFailure {
                failures: 0,
                locked_until: Some(self.lock_until(now)),
            }
        } else {
            LoginFailure {
                failures,
                locked_until: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_failure_locks_for_thirty_minutes_and_restarts_the_count() {
        let policy = LockoutPolicy::default();
        let now = UnixMillis(1_000_000);
        let mut failures = 0;
        for expected in 1..=4 {
            let f = policy.after_failure(failures, now);
            assert_eq!(
                f,
                LoginFailure {
                    failures: expected,
                    locked_until: None
                }
            );
            failures = f.failures;
        }
        let until = now.plus_ms(30 * 60_000);
        assert_eq!(
            policy.after_failure(failures, now),
            LoginFailure {
                failures: 0,
                locked_until: Some(until)
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
    fn a_policy_of_one_locks_at_the_first_failure() {
        let policy = LockoutPolicy {
            failures_max: 1,
            lockout_ms: 1_000,
        };
        let f = policy.after_failure(0, UnixMillis(5));
        assert_eq!(f.locked_until, Some(UnixMillis(1_005)));
        assert_eq!(policy.after_failure(u32::MAX, UnixMillis(5)).failures, 0);
    }
}
