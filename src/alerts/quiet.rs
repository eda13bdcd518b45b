//! Quiet hours of a routing rule: a daily window in a time zone (it may cross midnight)
//! during which alerts are held for a digest, except the priorities that still go through.
//! Pure: every answer takes `now`.
//!
//! Wall-clock times are compared in the rule's zone, so "22:00–07:00 Europe/London" means
//! that on every day, DST days included. When the end time does not exist on a day (the
//! clocks jump over it) quiet hours end at the first instant after the jump; when it exists
//! twice (clocks go back) they end at its first occurrence.

use chrono::{DateTime, Duration as ChronoDuration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

use crate::domain::{Millis, Priority};

/// `quiet_hours = { timezone = "Europe/London", start = "22:00", end = "07:00" }`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// IANA time zone name.
    pub timezone: String,
    /// Local start time, `HH:MM`.
    pub start: String,
    /// Local end time, `HH:MM`; earlier than `start` means the window crosses midnight.
    pub end: String,
    /// Priorities that go out at once even in quiet hours (e.g. `["critical"]`). Alerts that
    /// are not about a task (spikes, failing or silent sources) count as critical.
    #[serde(default)]
    pub immediate: Vec<Priority>,
}

/// The checked form of `QuietHours`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    tz: Tz,
    start: NaiveTime,
    end: NaiveTime,
}

impl QuietHours {
    /// Problems as (field, message), for config validation.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.timezone.parse::<Tz>().is_err() {
            problems.push((
                "timezone",
                format!(
                    "unknown time zone {:?} (use an IANA name such as Europe/London)",
                    self.timezone
                ),
            ));
        }
        let start = parse_time(&self.start);
        let end = parse_time(&self.end);
        if start.is_none() {
            problems.push(("start", format!("{:?} is not a time of day HH:MM", self.start)));
        }
        if end.is_none() {
            problems.push(("end", format!("{:?} is not a time of day HH:MM", self.end)));
        }
        if start.is_some() && start == end {
            problems.push(("end", "must differ from start".to_owned()));
        }
        problems
    }

    /// When an alert of `priority` routed at `now` may go out: `None` means now, otherwise
    /// the end of the current quiet hours (when its digest goes out).
    pub fn hold_until(&self, now: Millis, priority: Priority) -> Option<Millis> {
        if self.immediate.contains(&priority) {
            return None;
        }
        self.window()?.quiet_until(now)
    }

    fn window(&self) -> Option<Window> {
        Some(Window {
            tz: self.timezone.parse().ok()?,
            start: parse_time(&self.start)?,
            end: parse_time(&self.end)?,
        })
    }
}

impl Window {
    /// The end of the quiet hours `now` falls in, or `None` outside them.
    fn quiet_until(&self, now: Millis) -> Option<Millis> {
        let utc = DateTime::from_timestamp_millis(now)?;
        let local = utc.with_timezone(&self.tz).naive_local();
        let time = local.time();
        let inside = if self.start < self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        };
        if !inside {
            return None;
        }
        let today = local.date();
        let end_day = if time < self.end { today } else { today.succ_opt()? };
        resolve(self.tz, end_day, self.end)
    }
}

/// The instant a local date and time stand for; the first one after a DST jump, the
/// earlier one when the clocks went back.
fn resolve(tz: Tz, day: NaiveDate, time: NaiveTime) -> Option<Millis> {
    let mut local: NaiveDateTime = day.and_time(time);
    // Gaps are at most a few hours; step forward a minute at a time until the clock exists.
    for _ in 0..=(24 * 60) {
        match tz.from_local_datetime(&local) {
            LocalResult::Single(at) => return Some(at.timestamp_millis()),
            LocalResult::Ambiguous(earliest, _) => return Some(earliest.timestamp_millis()),
            LocalResult::None => local += ChronoDuration::minutes(1),
        }
    }
    None
}

fn parse_time(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M").ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet(tz: &str, start: &str, end: &str) -> QuietHours {
        QuietHours {
            timezone: tz.to_owned(),
            start: start.to_owned(),
            end: end.to_owned(),
            immediate: vec![Priority::Critical],
        }
    }

    fn at(rfc3339: &str) -> Millis {
        DateTime::parse_from_rfc3339(rfc3339).unwrap().timestamp_millis()
    }

    #[test]
    fn a_window_across_midnight_holds_until_the_next_morning() {
        let q = quiet("Europe/Berlin", "22:00", "07:00");
        let end = Some(at("2026-06-11T07:00:00+02:00"));
        assert_eq!(q.hold_until(at("2026-06-10T23:30:00+02:00"), Priority::High), end);
        assert_eq!(q.hold_until(at("2026-06-11T03:00:00+02:00"), Priority::Low), end);
        assert_eq!(q.hold_until(at("2026-06-10T22:00:00+02:00"), Priority::High), end);
        assert_eq!(q.hold_until(at("2026-06-11T07:00:00+02:00"), Priority::High), None);
        assert_eq!(q.hold_until(at("2026-06-10T21:59:00+02:00"), Priority::High), None);
        assert_eq!(
            q.hold_until(at("2026-06-10T23:30:00+02:00"), Priority::Critical),
            None,
            "critical goes through"
        );
    }

    #[test]
    fn a_daytime_window_holds_until_its_end_the_same_day() {
        let q = quiet("UTC", "12:00", "13:30");
        assert_eq!(
            q.hold_until(at("2026-01-05T12:10:00Z"), Priority::Medium),
            Some(at("2026-01-05T13:30:00Z"))
        );
        assert_eq!(q.hold_until(at("2026-01-05T13:31:00Z"), Priority::Medium), None);
        assert_eq!(q.hold_until(at("2026-01-05T11:59:59Z"), Priority::Medium), None);
    }

    #[test]
    fn wall_clock_times_hold_on_dst_days() {
        // Europe/London springs forward on 2026-03-29 (01:00 → 02:00) and falls back on
        // 2026-10-25 (02:00 → 01:00).
        let q = quiet("Europe/London", "22:00", "07:00");
        assert_eq!(
            q.hold_until(at("2026-03-28T23:00:00Z"), Priority::High),
            Some(at("2026-03-29T06:00:00Z")),
            "07:00 BST after the spring jump is 06:00 UTC"
        );
        assert_eq!(
            q.hold_until(at("2026-10-24T23:00:00+01:00"), Priority::High),
            Some(at("2026-10-25T07:00:00Z")),
            "07:00 GMT after the autumn fall-back"
        );
        // 06:30 local on the spring day is 05:30 UTC: still quiet.
        assert!(q.hold_until(at("2026-03-29T05:30:00Z"), Priority::High).is_some());
        assert_eq!(q.hold_until(at("2026-03-29T06:00:00Z"), Priority::High), None);
    }

    #[test]
    fn an_end_time_the_clocks_skip_ends_right_after_the_jump() {
        let q = quiet("Europe/London", "00:00", "01:30");
        assert_eq!(
            q.hold_until(at("2026-03-29T00:45:00Z"), Priority::High),
            Some(at("2026-03-29T01:00:00Z")),
            "01:30 does not exist that night; 02:00 BST (01:00 UTC) is the next instant"
        );
        let autumn = quiet("Europe/London", "00:00", "01:30");
        assert_eq!(
            autumn.hold_until(at("2026-10-25T00:10:00+01:00"), Priority::High),
            Some(at("2026-10-25T01:30:00+01:00")),
            "the first 01:30 of the repeated hour"
        );
    }

    #[test]
    fn bad_windows_are_reported_by_field() {
        let bad = QuietHours {
            timezone: "Mars/Base".to_owned(),
            start: "25:00".to_owned(),
            end: "7".to_owned(),
            immediate: Vec::new(),
        };
        let fields: Vec<&str> = bad.validate().into_iter().map(|(field, _)| field).collect();
        assert_eq!(fields, vec!["timezone", "start", "end"]);
        let same = quiet("UTC", "07:00", "07:00");
        assert_eq!(same.validate()[0].0, "end");
        assert!(quiet("UTC", "22:00", "07:00").validate().is_empty());
    }
}
