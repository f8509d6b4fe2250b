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

    /// Parses an RFC 3339 time with an explicit offset:
    /// `2026-11-28T20:00:00+08:00`, `2026-11-28T12:00:00.5Z`.
    pub fn parse_rfc3339(s: &str) -> Option<UnixMillis> {
        let b = s.as_bytes();
        if b.len() < 20
            || b[4] != b'-'
            || b[7] != b'-'
            || !matches!(b[10], b'T' | b't' | b' ')
            || b[13] != b':'
            || b[16] != b':'
        {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let t = s.get(r)?;
            t.bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| t.parse().ok())?
        };
        let date = crate::Date::new(num(0..4)? as i32, num(5..7)? as u32, num(8..10)? as u32)?;
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if hour > 23 || minute > 59 || second > 59 {
            return None;
        }
        let mut rest = &s[19..];
        let mut millis = 0;
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 || digits > 9 {
                return None;
            }
            let padded = format!("{:0<3}", &frac[..digits.min(3)]);
            millis = padded.parse::<i64>().ok()?;
            rest = &frac[digits..];
        }
        let offset_min = match rest {
            "Z" | "z" => 0,
            _ => {
                let sign = match rest.as_bytes().first()? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let ob = rest.as_bytes();
                if ob.len() != 6 || ob[3] != b':' {
                    return None;
                }
                let (h, m) = (
                    rest[1..3].parse::<i64>().ok()?,
                    rest[4..6].parse::<i64>().ok()?,
                );
                if h > 23 || m > 59 {
                    return None;
                }
                sign * (h * 60 + m)
            }
        };
        let days = date.days_since_epoch();
        let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
        Some(UnixMillis(secs * 1000 + millis))
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
    fn parse_rfc3339() {
        let p = UnixMillis::parse_rfc3339;
        assert_eq!(
            p("2026-11-28T07:05:09.123Z"),
            Some(UnixMillis(1_795_849_509_123))
        );
        assert_eq!(
            p("2026-11-28T15:05:09.123+08:00"),
            Some(UnixMillis(1_795_849_509_123))
        );
        assert_eq!(
            p("2026-11-28T07:05:09Z"),
            Some(UnixMillis(1_795_849_509_000))
        );
        assert_eq!(
            p("2026-11-28T07:05:09.5Z"),
            Some(UnixMillis(1_795_849_509_500))
        );
        assert_eq!(p("1970-01-01T00:00:00-01:00"), Some(UnixMillis(3_600_000)));
        for bad in [
            "",
            "2026-11-28",
            "2026-11-28T07:05:09",
            "2026-02-30T00:00:00Z",
            "2026-11-28T24:00:00Z",
            "2026-11-28T07:05:09+8:00",
            "2026-11-28T07:05:09.Z",
            "2026-11-28T07:05:09Zjunk",
            "２０２６-11-28T07:05:09Z",
        ] {
            assert_eq!(p(bad), None, "{bad}");
        }
        for ms in [0i64, 1_795_849_509_123, 4_102_444_800_000] {
            assert_eq!(p(&UnixMillis(ms).to_rfc3339_utc()), Some(UnixMillis(ms)));
        }
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,40}", t in "20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9]\\PC{0,10}") {
            let _ = UnixMillis::parse_rfc3339(&s);
            let _ = UnixMillis::parse_rfc3339(&t);
        }
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
