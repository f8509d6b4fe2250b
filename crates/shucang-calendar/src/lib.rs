//! China's working-day calendar: which dates are working days, given the
//! statutory holidays and the adjusted working days (调休) that the State
//! Council announces each year.
//!
//! The years 2019–2026 are built in (`data/cn-holidays.txt`, the project's
//! own format). Later years are added as validated overrides
//! ([`Calendar::with_year`]): a schedule must name every statutory holiday
//! and only dates of its own year. A computation that reaches a year with
//! no schedule returns [`CalendarError::YearUnknown`] naming the year —
//! never a guess.
//!
//! Counting follows the filing rules: it starts the day after the event;
//! weekends are off unless listed as adjusted working days. Dates are
//! calendar dates in China (Asia/Shanghai).
//!
//! **Architecture invariant:** no I/O, no clock; callers pass dates in and
//! load overrides themselves (and audit that they did).
//!
//! ```
//! use shucang_calendar::Calendar;
//! use shucang_types::Date;
//! let cal = Calendar::embedded();
//! // 2026-02-14 is a Saturday made a working day before the Spring Festival.
//! assert!(cal.is_working_day(Date::new(2026, 2, 14).unwrap()).unwrap());
//! // Ten working days after 2026-09-28 (a Monday), across the National Day break.
//! assert_eq!(cal.add_working_days(Date::new(2026, 9, 28).unwrap(), 10).unwrap(), Date::new(2026, 10, 16).unwrap());
//! ```

use std::collections::{BTreeMap, BTreeSet};

use shucang_types::Date;

/// The statutory holidays every year's schedule must cover.
pub const STATUTORY_HOLIDAYS: [&str; 7] = [
    "元旦",
    "春节",
    "清明节",
    "劳动节",
    "端午节",
    "中秋节",
    "国庆节",
];

/// The built-in schedules.
const EMBEDDED: &str = include_str!("../data/cn-holidays.txt");

/// Most days one computation walks (about 27 years), a bound on work.
pub const WALK_DAYS_MAX: u32 = 10_000;

/// Why a date question has no answer, or a schedule is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// No schedule is known for this year.
    #[error("no holiday schedule is known for {0}; load that year's schedule first")]
    YearUnknown(i32),
    /// A schedule line does not parse; names the line.
    #[error("line {line}: {reason}")]
    Syntax {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A schedule is for another year than claimed, or a date is outside it.
    #[error("the schedule for {year} lists {date}, which is not in {year}")]
    WrongYear {
        /// The schedule's year.
        year: i32,
        /// The date.
        date: String,
    },
    /// A statutory holiday has no line.
    #[error("the schedule for {year} is incomplete: no {holiday}")]
    Incomplete {
        /// The year.
        year: i32,
        /// The missing holiday.
        holiday: &'static str,
    },
    /// A date is both a holiday and a working day.
    #[error("{0} is listed as both a holiday and a working day")]
    Contradiction(String),
    /// The computation would walk too far.
    #[error("the span is longer than {WALK_DAYS_MAX} days")]
    TooFar,
}

/// One year's holidays and adjusted working days.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct YearSchedule {
    /// Statutory holidays (off, even on weekdays).
    pub off: BTreeSet<Date>,
    /// Adjusted working days (working, even on weekends).
    pub work: BTreeSet<Date>,
    /// The holidays named, as written.
    pub holidays: Vec<String>,
    /// The notices the schedule comes from.
    pub notices: Vec<String>,
}

/// An answer of the calendar, and whether it is provisional.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reckoned<T> {
    /// The date or count.
    pub value: T,
    /// The first year the computation reached that has no schedule: its
    /// weekdays were counted as working days, so the answer holds only
    /// until that year's holidays are known. `None`: exact.
    pub provisional: Option<i32>,
}

impl<T> Reckoned<T> {
    /// The value if it is exact; otherwise the year that is missing.
    pub fn exact(self) -> Result<T, CalendarError> {
        match self.provisional {
            None => Ok(self.value),
            Some(year) => Err(CalendarError::YearUnknown(year)),
        }
    }
}

/// The calendar: known years and their schedules.
#[derive(Debug, Clone)]
pub struct Calendar {
    years: BTreeMap<i32, YearSchedule>,
}

/// Monday = 0 … Sunday = 6.
fn weekday(d: Date) -> i64 {
    (d.days_since_epoch() + 3).rem_euclid(7)
}

fn next_day(d: Date) -> Date {
    Date::from_days_since_epoch(d.days_since_epoch() + 1)
}

/// Parses schedules in the data-file format; returns them by year, each
/// checked (own dates only, complete, no contradiction).
pub fn parse_schedules(text: &str) -> Result<BTreeMap<i32, YearSchedule>, CalendarError> {
    let mut years: BTreeMap<i32, YearSchedule> = BTreeMap::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |reason: &str| CalendarError::Syntax {
            line: i + 1,
            reason: reason.to_owned(),
        };
        let mut words = line.split_whitespace();
        let year: i32 = words
            .next()
            .and_then(|y| y.parse().ok())
            .filter(|y| (1949..=9999).contains(y))
            .ok_or_else(|| bad("a line starts with a year"))?;
        let name = words
            .next()
            .ok_or_else(|| bad("a year is followed by a holiday name or `notice`"))?;
        let schedule = years.entry(year).or_default();
        if name == "notice" {
            schedule.notices.push(words.collect::<Vec<_>>().join(" "));
            continue;
        }
        schedule.holidays.push(name.to_owned());
        let mut target: Option<bool> = None;
        let mut count = 0;
        for w in words {
            match w {
                "off" => target = Some(true),
                "work" => target = Some(false),
                md => {
                    let off = target.ok_or_else(|| bad("dates follow `off` or `work`"))?;
                    let (m, d) = md.split_once('-').ok_or_else(|| bad("dates are MM-DD"))?;
                    let parse = |s: &str| s.parse::<u32>().ok().filter(|_| s.len() == 2);
                    let date = parse(m)
                        .zip(parse(d))
                        .and_then(|(m, d)| Date::new(year, m, d))
                        .ok_or_else(|| bad(&format!("{md} is not a date of {year}")))?;
                    if off {
                        &mut schedule.off
                    } else {
                        &mut schedule.work
                    }
                    .insert(date);
                    count += 1;
                }
            }
        }
        if count == 0 {
            return Err(bad("a holiday line lists at least one date"));
        }
    }
    for (&year, schedule) in &years {
        check_schedule(year, schedule)?;
    }
    Ok(years)
}

fn check_schedule(year: i32, s: &YearSchedule) -> Result<(), CalendarError> {
    for d in s.off.iter().chain(&s.work) {
        if d.year != year {
            return Err(CalendarError::WrongYear {
                year,
                date: d.to_string(),
            });
        }
    }
    if let Some(d) = s.off.intersection(&s.work).next() {
        return Err(CalendarError::Contradiction(d.to_string()));
    }
    for holiday in STATUTORY_HOLIDAYS {
        if !s.holidays.iter().any(|h| h.contains(holiday)) {
            return Err(CalendarError::Incomplete { year, holiday });
        }
    }
    Ok(())
}

impl Calendar {
    /// The built-in years (2019–2026).
    pub fn embedded() -> Calendar {
        Calendar {
            years: parse_schedules(EMBEDDED).expect("the built-in schedules are valid (tested)"),
        }
    }

    /// This calendar with `year`'s schedule added or replaced, after the
    /// checks of [`parse_schedules`].
    pub fn with_year(&self, year: i32, schedule: YearSchedule) -> Result<Calendar, CalendarError> {
        check_schedule(year, &schedule)?;
        let mut years = self.years.clone();
        years.insert(year, schedule);
        Ok(Calendar { years })
    }

    /// The years with a schedule.
    pub fn years(&self) -> impl Iterator<Item = i32> + '_ {
        self.years.keys().copied()
    }

    /// A year's schedule.
    pub fn schedule(&self, year: i32) -> Option<&YearSchedule> {
        self.years.get(&year)
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: Date) -> Result<bool, CalendarError> {
        let s = self
            .years
            .get(&date.year)
            .ok_or(CalendarError::YearUnknown(date.year))?;
        Ok(if s.off.contains(&date) {
            false
        } else if s.work.contains(&date) {
            true
        } else {
            weekday(date) < 5
        })
    }

    /// Whether `date` is a working day, counting Monday to Friday in a
    /// year with no schedule, and the first such year the answer relied on.
    fn working_day_or_weekday(&self, date: Date, guessed: &mut Option<i32>) -> bool {
        match self.is_working_day(date) {
            Ok(working) => working,
            Err(_) => {
                guessed.get_or_insert(date.year);
                weekday(date) < 5
            }
        }
    }

    /// The `n`th working day after `start` (counting starts the day after;
    /// `n = 0` gives `start`).
    pub fn add_working_days(&self, start: Date, n: u32) -> Result<Date, CalendarError> {
        self.add_working_days_provisionally(start, n)?.exact()
    }

    /// The `n`th working day after `start`, also when the walk reaches a
    /// year with no schedule: that year's weekdays count as working days
    /// and the answer says it is provisional (its holidays are unknown, so
    /// the true date is the same or later). Fails only on a walk too long.
    pub fn add_working_days_provisionally(
        &self,
        start: Date,
        n: u32,
    ) -> Result<Reckoned<Date>, CalendarError> {
        let mut guessed = None;
        let mut d = start;
        let mut left = n;
        let mut walked = 0;
        while left > 0 {
            d = next_day(d);
            walked += 1;
            if walked > WALK_DAYS_MAX {
                return Err(CalendarError::TooFar);
            }
            if self.working_day_or_weekday(d, &mut guessed) {
                left -= 1;
            }
        }
        Ok(Reckoned {
            value: d,
            provisional: guessed,
        })
    }

    /// Working days after `from` up to and including `to` (0 if `to <= from`).
    pub fn working_days_between(&self, from: Date, to: Date) -> Result<u32, CalendarError> {
        self.working_days_between_provisionally(from, to)?.exact()
    }

    /// Working days after `from` up to and including `to`, with the
    /// weekdays of a year with no schedule counted (see
    /// [`Calendar::add_working_days_provisionally`]).
    pub fn working_days_between_provisionally(
        &self,
        from: Date,
        to: Date,
    ) -> Result<Reckoned<u32>, CalendarError> {
        let mut guessed = None;
        if to.days_since_epoch() - from.days_since_epoch() > i64::from(WALK_DAYS_MAX) {
            return Err(CalendarError::TooFar);
        }
        let mut d = from;
        let mut count = 0;
        while d < to {
            d = next_day(d);
            if self.working_day_or_weekday(d, &mut guessed) {
                count += 1;
            }
        }
        Ok(Reckoned {
            value: count,
            provisional: guessed,
        })
    }

    /// From 1 November, the next year if its schedule is missing (a warning
    /// for the reviewer console).
    pub fn missing_next_year(&self, today: Date) -> Option<i32> {
        let next = today.year + 1;
        (today.month >= 11 && !self.years.contains_key(&next)).then_some(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> Date {
        Date::new(y, m, day).unwrap()
    }

    #[test]
    fn the_built_in_years_are_2019_to_2026() {
        let cal = Calendar::embedded();
        assert_eq!(
            cal.years().collect::<Vec<_>>(),
            (2019..=2026).collect::<Vec<_>>()
        );
        assert!(cal.schedule(2026).unwrap().notices[0].contains("gov.cn"));
    }

    #[test]
    fn golden_2026() {
        let cal = Calendar::embedded();
        for (m, day) in [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)] {
            assert_eq!(
                cal.is_working_day(d(2026, m, day)),
                Ok(true),
                "2026-{m}-{day} is an adjusted working day"
            );
        }
        for (m, day) in [(2, 16), (10, 5), (1, 1), (10, 1), (5, 1)] {
            assert_eq!(
                cal.is_working_day(d(2026, m, day)),
                Ok(false),
                "2026-{m}-{day} is a holiday"
            );
        }
        assert_eq!(
            cal.is_working_day(d(2026, 11, 28)),
            Ok(false),
            "an ordinary Saturday"
        );
        assert_eq!(
            cal.is_working_day(d(2026, 11, 27)),
            Ok(true),
            "an ordinary Friday"
        );
        // 2026-02-13 (Fri) + 1 working day = 02-14 (the adjusted Saturday).
        assert_eq!(cal.add_working_days(d(2026, 2, 13), 1), Ok(d(2026, 2, 14)));
        // Then the Spring Festival: the next is 02-24.
        assert_eq!(cal.add_working_days(d(2026, 2, 14), 1), Ok(d(2026, 2, 24)));
        assert_eq!(
            cal.working_days_between(d(2026, 2, 13), d(2026, 2, 28)),
            Ok(6)
        );
    }

    #[test]
    fn unknown_years_are_errors_naming_the_year() {
        let cal = Calendar::embedded();
        assert_eq!(
            cal.is_working_day(d(2027, 1, 4)),
            Err(CalendarError::YearUnknown(2027))
        );
        assert_eq!(
            cal.add_working_days(d(2026, 12, 25), 10),
            Err(CalendarError::YearUnknown(2027))
        );
        // The day counted from is not itself counted, so only 2019 matters:
        // 01-01 is a holiday, 01-02..01-04 are working days, 01-05 a Saturday.
        assert_eq!(
            cal.working_days_between(d(2018, 12, 31), d(2019, 1, 5)),
            Ok(3)
        );
        assert_eq!(
            cal.is_working_day(d(2018, 6, 1)),
            Err(CalendarError::YearUnknown(2018))
        );
        assert_eq!(cal.missing_next_year(d(2026, 11, 1)), Some(2027));
        assert_eq!(cal.missing_next_year(d(2026, 10, 31)), None);
        assert_eq!(cal.missing_next_year(d(2025, 11, 1)), None);
    }

    #[test]
    fn a_year_without_a_schedule_gives_a_provisional_answer_never_a_refusal() {
        let cal = Calendar::embedded();
        // From Sunday 2026-12-20: 9 weekdays left in 2026 (21–25, 28–31),
        // then 11 weekdays of 2027 counted as working days (1, 4–8, 11–15).
        let due = cal.add_working_days_provisionally(d(2026, 12, 20), 20);
        assert_eq!(
            due,
            Ok(Reckoned {
                value: d(2027, 1, 15),
                provisional: Some(2027)
            })
        );
        assert_eq!(due.unwrap().exact(), Err(CalendarError::YearUnknown(2027)));
        // Within known years the answer is exact and equals the strict one.
        let exact = cal
            .add_working_days_provisionally(d(2026, 9, 28), 10)
            .unwrap();
        assert_eq!(exact.provisional, None);
        assert_eq!(exact.value, d(2026, 10, 16));
        let left = cal.working_days_between_provisionally(d(2026, 12, 30), d(2027, 1, 4));
        assert_eq!(
            left,
            Ok(Reckoned {
                value: 3,
                provisional: Some(2027)
            })
        );
        // Once the year is loaded the same question has an exact answer:
        // with 2027-01-01 a holiday the deadline moves a day later.
        let mut y2027 = YearSchedule::default();
        for (i, h) in STATUTORY_HOLIDAYS.iter().enumerate() {
            y2027.holidays.push((*h).to_owned());
            y2027.off.insert(d(2027, 1 + i as u32, 1));
        }
        let cal = cal.with_year(2027, y2027).unwrap();
        let due = cal.add_working_days_provisionally(d(2026, 12, 20), 20);
        assert_eq!(
            due,
            Ok(Reckoned {
                value: d(2027, 1, 18),
                provisional: None
            })
        );
    }

    #[test]
    fn overrides_are_checked() {
        let cal = Calendar::embedded();
        let full = "2027 元旦 off 01-01\n2027 春节 off 02-06 02-07 work 02-14\n2027 清明节 off 04-05\n2027 劳动节 off 05-01\n2027 端午节 off 06-09\n2027 中秋节 off 09-15\n2027 国庆节 off 10-01\n";
        let years = parse_schedules(full).unwrap();
        let cal2 = cal.with_year(2027, years[&2027].clone()).unwrap();
        assert_eq!(cal2.is_working_day(d(2027, 2, 14)), Ok(true));
        assert_eq!(
            cal2.add_working_days(d(2026, 12, 30), 1),
            Ok(d(2026, 12, 31))
        );
        assert_eq!(cal2.missing_next_year(d(2026, 11, 2)), None);

        let incomplete = "2027 元旦 off 01-01\n";
        assert_eq!(
            parse_schedules(incomplete),
            Err(CalendarError::Incomplete {
                year: 2027,
                holiday: "春节"
            })
        );
        let mut wrong = years[&2027].clone();
        wrong.off.insert(d(2028, 1, 1));
        assert!(matches!(
            cal.with_year(2027, wrong),
            Err(CalendarError::WrongYear { year: 2027, .. })
        ));
        let contradiction =
            full.replace("2027 清明节 off 04-05", "2027 清明节 off 04-05 work 04-05");
        assert_eq!(
            parse_schedules(&contradiction),
            Err(CalendarError::Contradiction("2027-04-05".into()))
        );
        for bad in [
            "x 元旦 off 01-01",
            "2027",
            "2027 元旦 01-01",
            "2027 元旦 off 13-01",
            "2027 元旦 off 1-1",
            "2027 元旦 off",
            "2027 元旦 off 02-30",
        ] {
            assert!(
                matches!(
                    parse_schedules(bad),
                    Err(CalendarError::Syntax { line: 1, .. })
                ),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn add_and_between_agree(start in 17_897i64..20_800, n in 0u32..120) {
            // Starts from 2019-01-01 through early 2026.
            let cal = Calendar::embedded();
            let s = Date::from_days_since_epoch(start);
            if let Ok(end) = cal.add_working_days(s, n) {
                prop_assert_eq!(cal.working_days_between(s, end), Ok(n));
                if n > 0 {
                    prop_assert_eq!(cal.is_working_day(end), Ok(true));
                    let before = Date::from_days_since_epoch(end.days_since_epoch() - 1);
                    prop_assert_eq!(cal.working_days_between(s, before), Ok(n - 1));
                }
            }
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,200}") {
            let _ = parse_schedules(&text);
        }
    }
}
