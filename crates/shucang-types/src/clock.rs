//! Time as the domain sees it: an injectable clock and UTC milliseconds.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A point in time: milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixMillis(pub i64);

impl UnixMillis {
    /// This time plus `ms` milliseconds (saturating).
    pub fn plus_ms(self, ms: i64) -> UnixMillis {
        UnixMillis(self.0.saturating_add(ms))
    }

    /// Milliseconds from `earlier` to `self` (negative if `earlier` is later).
    pub fn ms_since(self, earlier: UnixMillis) -> i64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The calendar date in China (UTC+8, no daylight saving time).
    pub fn china_date(self) -> crate::Date {
        crate::Date::from_days_since_epoch(
            self.0.saturating_add(8 * 3_600_000).div_euclid(86_400_000),
        )
    }

    /// RFC 3339 in UTC with milliseconds: `2026-11-28T07:05:09.123Z`.
    pub fn to_rfc3339_utc(self) -> String {
        let days = self.0.div_euclid(86_400_000);
        let ms_of_day = self.0.rem_euclid(86_400_000);
        let date = crate::Date::from_days_since_epoch(days);
        let (y, m, d) = (date.year, date.month, date.day);
        let secs = ms_of_day / 1000;
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            ms_of_day % 1000
        )
    }
}

/// Where the domain gets the current time. Production uses [`SystemClock`];
/// tests inject a [`ManualClock`] and move it forward explicitly, so nothing
/// ever sleeps to make time pass.
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> UnixMillis;
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixMillis {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        UnixMillis(ms)
    }
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock stopped at `start`.
    pub fn new(start: UnixMillis) -> ManualClock {
        ManualClock(AtomicI64::new(start.0))
    }

    /// Moves the clock forward by `ms` milliseconds.
    pub fn advance_ms(&self, ms: i64) {
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixMillis {
        UnixMillis(self.0.load(Ordering::SeqCst))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339() {
        let check = |ms: i64, expect: &str| assert_eq!(UnixMillis(ms).to_rfc3339_utc(), expect);
        check(0, "1970-01-01T00:00:00.000Z");
        check(951_782_400_000, "2000-02-29T00:00:00.000Z");
        check(1_795_849_509_123, "2026-11-28T07:05:09.123Z");
        check(-1, "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn china_date_is_utc_plus_8() {
        // 2026-11-28T15:59:59Z is 23:59:59 in Beijing; one second later it is the 29th.
        let t = UnixMillis(1_795_881_599_000);
        assert_eq!(t.china_date(), crate::Date::new(2026, 11, 28).unwrap());
        assert_eq!(
            t.plus_ms(1000).china_date(),
            crate::Date::new(2026, 11, 29).unwrap()
        );
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let c = ManualClock::new(UnixMillis(1000));
        assert_eq!(c.now(), UnixMillis(1000));
        c.advance_ms(500);
        assert_eq!(c.now(), UnixMillis(1500));
    }
}
