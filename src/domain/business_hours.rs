//! Business-hours SLAs: a brand may give its team's opening hours (time zone, open weekdays,
//! one daily window, holidays); the SLA clock then runs only while the team is open. Without
//! them the clock runs around the clock.
//!
//! Invariant: pure functions of the settings and instants; no IO. The window is in local
//! time, so across a DST change the hours counted are the real hours the team is open (a
//! 09:00–17:00 day is still eight hours; a 00:00–24:00 day is 23 or 25).

use std::collections::BTreeSet;

use chrono::{Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use super::time::Millis;

/// The day names `days` accepts, Monday first.
const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// Minutes in a day; `close = "24:00"` means the end of the day.
const DAY_MINUTES: u32 = 24 * 60;
/// How far ahead a due time is looked for before giving up on the calendar (ten years).
const MAX_DAYS: u32 = 3660;

/// A brand's opening hours (`[brands.business_hours]`) as written, parsed by config load
/// into the brand's `calendar` ([`BusinessCalendar::from_settings`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHoursSettings {
    /// IANA time zone of the hours below, e.g. `Europe/London`.
    pub timezone: String,
    /// Open days: `mon` … `sun`. Default Monday to Friday.
    #[serde(default = "default_business_days")]
    pub days: Vec<String>,
    /// Opening and closing time, local, `HH:MM` (`close` may be `24:00`).
    pub open: String,
    pub close: String,
    /// Local dates (`YYYY-MM-DD`) when the team is off.
    #[serde(default)]
    pub holidays: Vec<String>,
}

fn default_business_days() -> Vec<String> {
    ["mon", "tue", "wed", "thu", "fri"].map(String::from).to_vec()
}

/// Parsed, validated opening hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessCalendar {
    timezone: Tz,
    /// Open on each weekday, Monday first.
    days: [bool; 7],
    /// Minutes after local midnight.
    open: u32,
    close: u32,
    holidays: BTreeSet<NaiveDate>,
}

/// One problem with the settings: the field (relative to the `business_hours` table) and why.
pub type CalendarProblem = (&'static str, String);

impl BusinessCalendar {
    /// Parses the settings, reporting every problem with its field.
    pub fn from_settings(settings: &BusinessHoursSettings) -> Result<BusinessCalendar, Vec<CalendarProblem>> {
        let mut problems = Vec::new();
        let timezone = settings.timezone.parse::<Tz>().map_err(|_| {
            problems.push((
                "timezone",
                format!(
                    "unknown time zone {:?} (use an IANA name such as Europe/London)",
                    settings.timezone
                ),
            ))
        });
        let mut days = [false; 7];
        if settings.days.is_empty() {
            problems.push(("days", "at least one open day is needed".to_owned()));
        }
        for day in &settings.days {
            match DAY_NAMES.iter().position(|name| name.eq_ignore_ascii_case(day.trim())) {
                Some(idx) if days[idx] => problems.push(("days", format!("{day:?} is listed twice"))),
                Some(idx) => days[idx] = true,
                None => problems.push((
                    "days",
                    format!("unknown day {day:?}; expected {}", DAY_NAMES.join(", ")),
                )),
            }
        }
        let open = clock_minutes(&settings.open, false).map_err(|message| problems.push(("open", message)));
        let close = clock_minutes(&settings.close, true).map_err(|message| problems.push(("close", message)));
        if let (Ok(open), Ok(close)) = (open, close)
            && open >= close
        {
            problems.push((
                "close",
                format!(
                    "must be after open ({} is not after {}); overnight windows are not supported",
                    settings.close, settings.open
                ),
            ));
        }
        let mut holidays = BTreeSet::new();
        for holiday in &settings.holidays {
            match NaiveDate::parse_from_str(holiday.trim(), "%Y-%m-%d") {
                Ok(date) => {
                    holidays.insert(date);
                }
                Err(_) => problems.push(("holidays", format!("{holiday:?} is not a date like 2026-12-25"))),
            }
        }
        match (timezone, open, close) {
            (Ok(timezone), Ok(open), Ok(close)) if problems.is_empty() => Ok(BusinessCalendar {
                timezone,
                days,
                open,
                close,
                holidays,
            }),
            _ => Err(problems),
        }
    }

    fn is_open_on(&self, date: NaiveDate) -> bool {
        self.days[date.weekday().num_days_from_monday() as usize] && !self.holidays.contains(&date)
    }

    /// The instant of a local clock time; a time skipped by a DST change moves to the first
    /// valid minute after it, a repeated one takes its first occurrence.
    fn instant(&self, date: NaiveDate, minutes: u32) -> Option<Millis> {
        let (date, minutes) = if minutes >= DAY_MINUTES {
            (date.succ_opt()?, minutes - DAY_MINUTES)
        } else {
            (date, minutes)
        };
        let mut local: NaiveDateTime = date.and_hms_opt(minutes / 60, minutes % 60, 0)?;
        // DST gaps are at most a few hours; look minute by minute, bounded.
        for _ in 0..=(4 * 60) {
            match self.timezone.from_local_datetime(&local) {
                LocalResult::Single(at) | LocalResult::Ambiguous(at, _) => return Some(at.timestamp_millis()),
                LocalResult::None => local += chrono::Duration::minutes(1),
            }
        }
        None
    }

    /// `start` plus `duration_ms` of open time. A start outside opening hours begins counting
    /// at the next opening.
    pub fn add(&self, start: Millis, duration_ms: i64) -> Millis {
        let fallback = start.saturating_add(duration_ms);
        if duration_ms <= 0 {
            return start;
        }
        let Some(start_utc) = chrono::DateTime::from_timestamp_millis(start) else {
            return fallback;
        };
        let mut date = start_utc.with_timezone(&self.timezone).date_naive();
        let mut remaining = duration_ms;
        for _ in 0..MAX_DAYS {
            if self.is_open_on(date)
                && let (Some(open), Some(close)) = (self.instant(date, self.open), self.instant(date, self.close))
            {
                let from = open.max(start);
                if close > from {
                    let available = close - from;
                    if remaining <= available {
                        return from + remaining;
                    }
                    remaining -= available;
                }
            }
            let Some(next) = date.succ_opt() else {
                return fallback;
            };
            date = next;
        }
        fallback
    }
}

/// `"HH:MM"` as minutes after midnight; `"24:00"` only where `end_of_day` is allowed.
fn clock_minutes(text: &str, end_of_day: bool) -> Result<u32, String> {
    let invalid = || format!("{text:?} is not a time like 09:00 (24-hour clock)");
    let (hours, minutes) = text.trim().split_once(':').ok_or_else(invalid)?;
    if hours.len() != 2 || minutes.len() != 2 {
        return Err(invalid());
    }
    let hours: u32 = hours.parse().map_err(|_| invalid())?;
    let minutes: u32 = minutes.parse().map_err(|_| invalid())?;
    match (hours, minutes) {
        (24, 0) if end_of_day => Ok(DAY_MINUTES),
        (0..=23, 0..=59) => Ok(hours * 60 + minutes),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    const HOUR: i64 = 3600 * 1000;

    fn settings(timezone: &str, days: &[&str], open: &str, close: &str, holidays: &[&str]) -> BusinessHoursSettings {
        BusinessHoursSettings {
            timezone: timezone.into(),
            days: days.iter().map(|d| (*d).to_owned()).collect(),
            open: open.into(),
            close: close.into(),
            holidays: holidays.iter().map(|d| (*d).to_owned()).collect(),
        }
    }

    fn weekdays_9_to_5(timezone: &str) -> BusinessCalendar {
        BusinessCalendar::from_settings(&settings(
            timezone,
            &["mon", "tue", "wed", "thu", "fri"],
            "09:00",
            "17:00",
            &[],
        ))
        .unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Millis {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap().timestamp_millis()
    }

    #[test]
    fn an_evening_post_is_due_the_next_morning() {
        let calendar = weekdays_9_to_5("Europe/Berlin");
        // Tuesday 2026-11-17 16:00 Berlin (15:00 UTC), 4 hours: 1 today, 3 tomorrow.
        let due = calendar.add(utc(2026, 11, 17, 15, 0), 4 * HOUR);
        assert_eq!(due, utc(2026, 11, 18, 11, 0), "Wednesday 12:00 Berlin");
        // Tuesday 20:00 Berlin, after closing: the clock starts Wednesday 09:00.
        let due = calendar.add(utc(2026, 11, 17, 19, 0), HOUR);
        assert_eq!(due, utc(2026, 11, 18, 9, 0), "Wednesday 10:00 Berlin");
        // Within the day.
        let due = calendar.add(utc(2026, 11, 17, 9, 0), HOUR);
        assert_eq!(due, utc(2026, 11, 17, 10, 0));
    }

    #[test]
    fn weekends_and_holidays_do_not_count() {
        let calendar = weekdays_9_to_5("UTC");
        // Friday 2026-11-20 15:00, 4 hours: 2 on Friday, 2 on Monday.
        assert_eq!(
            calendar.add(utc(2026, 11, 20, 15, 0), 4 * HOUR),
            utc(2026, 11, 23, 11, 0)
        );
        // Saturday: nothing counts until Monday 09:00.
        assert_eq!(
            calendar.add(utc(2026, 11, 21, 12, 0), 30 * 60 * 1000),
            utc(2026, 11, 23, 9, 30)
        );
        // 24 business hours = three full days.
        assert_eq!(
            calendar.add(utc(2026, 11, 23, 9, 0), 24 * HOUR),
            utc(2026, 11, 25, 17, 0)
        );
        let with_holiday = BusinessCalendar::from_settings(&settings(
            "UTC",
            &["mon", "tue", "wed", "thu", "fri"],
            "09:00",
            "17:00",
            &["2026-11-23"],
        ))
        .unwrap();
        assert_eq!(
            with_holiday.add(utc(2026, 11, 20, 15, 0), 4 * HOUR),
            utc(2026, 11, 24, 11, 0),
            "Monday is a holiday"
        );
    }

    #[test]
    fn a_dst_change_moves_the_opening_in_utc_and_counts_real_hours() {
        // Europe/London moves to BST on Sunday 2026-03-29.
        let calendar = weekdays_9_to_5("Europe/London");
        // Friday 2026-03-27 16:00 GMT, 2 hours: 1 on Friday, 1 from Monday 09:00 BST (08:00 UTC).
        assert_eq!(calendar.add(utc(2026, 3, 27, 16, 0), 2 * HOUR), utc(2026, 3, 30, 9, 0));
        // Open around the clock every day: the short night of the change counts 23 hours.
        let always =
            BusinessCalendar::from_settings(&settings("Europe/London", &DAY_NAMES, "00:00", "24:00", &[])).unwrap();
        let start = utc(2026, 3, 28, 12, 0);
        assert_eq!(always.add(start, 24 * HOUR), start + 24 * HOUR);
        // Back to GMT on 2026-10-25: the long night counts 25 hours, still real time.
        let start = utc(2026, 10, 24, 12, 0);
        assert_eq!(always.add(start, 48 * HOUR), start + 48 * HOUR);
        // An opening inside the skipped hour starts at the first valid minute.
        let early =
            BusinessCalendar::from_settings(&settings("Europe/London", &["sun"], "01:30", "05:00", &[])).unwrap();
        assert_eq!(
            early.add(utc(2026, 3, 28, 12, 0), HOUR),
            utc(2026, 3, 29, 2, 0),
            "opens 02:00 BST (01:00 UTC), due an hour later"
        );
    }

    #[test]
    fn bad_settings_are_reported_field_by_field() {
        let problems = BusinessCalendar::from_settings(&settings(
            "Mars/Olympus",
            &["mon", "funday", "mon"],
            "9am",
            "24:30",
            &["25.12."],
        ))
        .unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|(field, _)| *field).collect();
        assert_eq!(
            fields,
            ["timezone", "days", "days", "open", "close", "holidays"],
            "{problems:?}"
        );
        let problems = BusinessCalendar::from_settings(&settings("UTC", &[], "17:00", "09:00", &[])).unwrap_err();
        let fields: Vec<&str> = problems.iter().map(|(field, _)| *field).collect();
        assert_eq!(fields, ["days", "close"], "{problems:?}");
        assert!(problems[1].1.contains("after open"), "{problems:?}");
    }
}
