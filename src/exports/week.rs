//! ISO 8601 weeks in a time zone: `2026-W47` ↔ the UTC millisecond range it covers.
//!
//! A week runs from Monday 00:00 local time to the next Monday 00:00 local time, so a week
//! containing a daylight-saving change is 167 or 169 hours long. Local midnights that do not
//! exist (a zone that springs forward at midnight) resolve to the first instant after the gap.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;

use crate::domain::Millis;

/// An ISO 8601 week: ISO year and week number (1-53).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IsoWeek {
    year: i32,
    week: u32,
}

/// Text that is not an ISO week such as `2026-W47`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an ISO week like 2026-W47")]
pub struct WeekParseError(String);

impl IsoWeek {
    /// The week with this ISO year and number, if it exists (W53 only in long years).
    pub fn new(year: i32, week: u32) -> Option<IsoWeek> {
        NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).map(|_| IsoWeek { year, week })
    }

    pub fn year(self) -> i32 {
        self.year
    }

    pub fn week(self) -> u32 {
        self.week
    }

    /// The week a calendar date belongs to.
    pub fn of_date(date: NaiveDate) -> IsoWeek {
        let iso = date.iso_week();
        IsoWeek {
            year: iso.year(),
            week: iso.week(),
        }
    }

    /// The week an instant falls in, in `tz`.
    pub fn containing(at: Millis, tz: Tz) -> IsoWeek {
        IsoWeek::of_date(local_date(at, tz))
    }

    /// The last week that has fully ended at `now` in `tz`.
    pub fn last_full(now: Millis, tz: Tz) -> IsoWeek {
        IsoWeek::containing(now, tz).previous()
    }

    /// Its Monday.
    pub fn monday(self) -> NaiveDate {
        NaiveDate::from_isoywd_opt(self.year, self.week, Weekday::Mon).unwrap_or(NaiveDate::MIN)
    }

    /// The seven dates, Monday first.
    pub fn days(self) -> [NaiveDate; 7] {
        let monday = self.monday();
        std::array::from_fn(|i| monday + Duration::days(i as i64))
    }

    pub fn previous(self) -> IsoWeek {
        IsoWeek::of_date(self.monday() - Duration::days(7))
    }

    pub fn next(self) -> IsoWeek {
        IsoWeek::of_date(self.monday() + Duration::days(7))
    }

    /// `[start, end)` in Unix ms: local Monday 00:00 to the next local Monday 00:00.
    pub fn bounds(self, tz: Tz) -> (Millis, Millis) {
        let monday = self.monday();
        (
            local_midnight(monday, tz),
            local_midnight(monday + Duration::days(7), tz),
        )
    }
}

/// The local calendar date of an instant in `tz`.
pub fn local_date(at: Millis, tz: Tz) -> NaiveDate {
    match chrono::DateTime::from_timestamp_millis(at) {
        Some(utc) => utc.with_timezone(&tz).date_naive(),
        None => NaiveDate::MIN,
    }
}

/// The first instant of a local date in `tz`, in Unix ms.
pub fn local_midnight(date: NaiveDate, tz: Tz) -> Millis {
    let mut naive = NaiveDateTime::new(date, NaiveTime::MIN);
    // A gap is at most a few hours; step through it a quarter hour at a time.
    for _ in 0..(4 * 24) {
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(at) => return at.timestamp_millis(),
            LocalResult::Ambiguous(earliest, _) => return earliest.timestamp_millis(),
            LocalResult::None => naive += Duration::minutes(15),
        }
    }
    naive.and_utc().timestamp_millis()
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

impl FromStr for IsoWeek {
    type Err = WeekParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || WeekParseError(text.to_owned());
        let (year, week) = text.split_once("-W").ok_or_else(bad)?;
        if year.len() != 4 || week.len() != 2 || !year.bytes().chain(week.bytes()).all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let year: i32 = year.parse().map_err(|_| bad())?;
        let week: u32 = week.parse().map_err(|_| bad())?;
        IsoWeek::new(year, week).ok_or_else(bad)
    }
}

impl serde::Serialize for IsoWeek {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn weeks_parse_and_format_round_trip_and_reject_junk() {
        let week: IsoWeek = "2026-W47".parse().unwrap();
        assert_eq!((week.year(), week.week()), (2026, 47));
        assert_eq!(week.to_string(), "2026-W47");
        assert_eq!(week.monday(), NaiveDate::from_ymd_opt(2026, 11, 16).unwrap());
        for junk in [
            "2026-W54",
            "2025-W53",
            "2026-47",
            "2026-W4",
            "26-W47",
            "2026-W00",
            "../x",
            "2026-W4７",
        ] {
            assert!(junk.parse::<IsoWeek>().is_err(), "{junk}");
        }
        assert!("2026-W53".parse::<IsoWeek>().is_ok(), "2026 is a long ISO year");
    }

    #[test]
    fn iso_years_differ_from_calendar_years_at_the_turn() {
        let date = NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
        assert_eq!(IsoWeek::of_date(date).to_string(), "2026-W53");
        assert_eq!("2026-W53".parse::<IsoWeek>().unwrap().next().to_string(), "2027-W01");
        assert_eq!(
            "2027-W01".parse::<IsoWeek>().unwrap().previous().to_string(),
            "2026-W53"
        );
    }

    #[test]
    fn weeks_with_a_dst_change_are_167_or_169_hours_long() {
        let london = chrono_tz::Europe::London;
        // Clocks go forward on 2026-03-29 and back on 2026-10-25 (both Sundays, W13 and W43).
        let (start, end) = "2026-W13".parse::<IsoWeek>().unwrap().bounds(london);
        assert_eq!(end - start, 167 * HOUR);
        let (start, end) = "2026-W43".parse::<IsoWeek>().unwrap().bounds(london);
        assert_eq!(end - start, 169 * HOUR);
        let (start, end) = "2026-W47".parse::<IsoWeek>().unwrap().bounds(london);
        assert_eq!(end - start, 168 * HOUR);
        assert_eq!(
            start,
            chrono::Utc
                .with_ymd_and_hms(2026, 11, 16, 0, 0, 0)
                .unwrap()
                .timestamp_millis()
        );
    }

    #[test]
    fn a_midnight_that_does_not_exist_starts_the_day_after_the_gap() {
        // Chile springs forward at 00:00 local: 2026-09-06 begins at 01:00.
        let santiago = chrono_tz::America::Santiago;
        let date = NaiveDate::from_ymd_opt(2026, 9, 6).unwrap();
        let start = local_midnight(date, santiago);
        assert_eq!(local_date(start, santiago), date);
        assert_ne!(local_date(start - 1, santiago), date);
    }

    #[test]
    fn the_last_full_week_is_the_one_before_now_in_the_zone() {
        let tokyo = chrono_tz::Asia::Tokyo;
        // Sunday 2026-11-22 20:00 UTC is already Monday 05:00 in Tokyo.
        let now = chrono::Utc
            .with_ymd_and_hms(2026, 11, 22, 20, 0, 0)
            .unwrap()
            .timestamp_millis();
        assert_eq!(IsoWeek::last_full(now, tokyo).to_string(), "2026-W47");
        assert_eq!(IsoWeek::last_full(now, chrono_tz::UTC).to_string(), "2026-W46");
    }
}
