//! The first-response SLA, in one place: when the customer's clock starts, when a task is
//! due, how long the first response took, and whether the SLA was met. The task rules, the
//! queue, the exports and the SLA alerts all use these functions, so they cannot disagree.
//!
//! The clock starts when the customer posted (the opening post's `created_at`), not when
//! earshot opened the task: a post found ten hours late has already waited ten hours. A
//! platform timestamp later than the moment earshot first saw the post is a skewed clock
//! (a post cannot be seen before it is written), so the start is never later than that.
//!
//! Invariant: pure functions of instants and settings; no IO.

use crate::domain::{BusinessCalendar, Millis};

/// When the customer's clock starts for a post written at `posted_at` (the platform's
/// `created_at`) that earshot first saw at `first_seen_at`.
pub fn clock_start(posted_at: Millis, first_seen_at: Millis) -> Millis {
    posted_at.min(first_seen_at)
}

/// When a task whose clock started at `start` with an SLA of `sla_ms` is due: counted in
/// business hours when the brand has them, around the clock otherwise.
pub fn due(start: Millis, sla_ms: i64, calendar: Option<&BusinessCalendar>) -> Millis {
    match calendar {
        Some(calendar) => calendar.add(start, sla_ms),
        None => start.saturating_add(sla_ms),
    }
}

/// How long the customer waited for the first response: from the clock start to the moment
/// the platform accepted the reply (or the manual reply was recorded). Never negative.
pub fn response_ms(start: Millis, first_response_at: Millis) -> i64 {
    first_response_at.saturating_sub(start).max(0)
}

/// When and how a task's SLA was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlaOutcome {
    pub decided_at_ms: Millis,
    pub breached: bool,
}

/// Whether a task met its SLA: it is answered by its first reply, or by its resolution if it
/// was resolved without a reply; answered by the due time, the SLA was met then; otherwise
/// it was breached at the due time, once that has passed at `now`. A dismissed task (false
/// positive, spam, not ours) needed no answer: `None`, as for a task still within its time.
pub fn outcome(
    status: &str,
    due_at_ms: Millis,
    first_response_at_ms: Option<Millis>,
    resolved_at_ms: Option<Millis>,
    now: Millis,
) -> Option<SlaOutcome> {
    if status == "dismissed" {
        return None;
    }
    let resolved = resolved_at_ms.filter(|_| status == "resolved");
    match first_response_at_ms.or(resolved) {
        Some(at) if at <= due_at_ms => Some(SlaOutcome {
            decided_at_ms: at,
            breached: false,
        }),
        _ if due_at_ms <= now => Some(SlaOutcome {
            decided_at_ms: due_at_ms,
            breached: true,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::BusinessHoursSettings;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn the_clock_starts_when_the_customer_posted() {
        let seen = 100 * HOUR;
        assert_eq!(clock_start(90 * HOUR, seen), 90 * HOUR, "found ten hours late");
        assert_eq!(clock_start(seen, seen), seen);
    }

    #[test]
    fn a_timestamp_from_the_future_starts_the_clock_when_earshot_saw_the_post() {
        let seen = 100 * HOUR;
        assert_eq!(
            clock_start(seen + 5 * HOUR, seen),
            seen,
            "a skewed clock never delays the SLA"
        );
    }

    #[test]
    fn a_post_found_late_is_due_from_when_it_was_written() {
        // The demo: posted 10 hours before earshot saw it, with a 4-hour SLA the task
        // is already six hours late when it opens.
        let seen = 100 * HOUR;
        let start = clock_start(seen - 10 * HOUR, seen);
        let due_at = due(start, 4 * HOUR, None);
        assert_eq!(due_at, seen - 6 * HOUR);
        assert_eq!(
            outcome("open", due_at, None, None, seen),
            Some(SlaOutcome {
                decided_at_ms: due_at,
                breached: true
            })
        );
    }

    #[test]
    fn without_business_hours_the_clock_runs_around_the_clock() {
        // 2026-11-20 22:00 UTC, a Friday night.
        let start = 1_795_212_000_000;
        assert_eq!(due(start, 4 * HOUR, None), start + 4 * HOUR);
    }

    #[test]
    fn business_hours_still_apply_from_the_customer_post() {
        let calendar = BusinessCalendar::from_settings(&BusinessHoursSettings {
            timezone: "UTC".into(),
            days: ["mon", "tue", "wed", "thu", "fri"].map(str::to_owned).to_vec(),
            open: "09:00".into(),
            close: "17:00".into(),
            holidays: vec![],
        })
        .unwrap();
        // 2026-11-20 is a Friday: posted 15:00, seen Saturday noon; 4 business hours are two
        // on Friday and two on Monday.
        let friday_15 = 1_795_186_800_000;
        let start = clock_start(friday_15, friday_15 + 21 * HOUR);
        assert_eq!(due(start, 4 * HOUR, Some(&calendar)), friday_15 + (3 * 24 - 4) * HOUR);
    }

    #[test]
    fn the_response_time_counts_from_the_clock_start_and_is_never_negative() {
        assert_eq!(response_ms(10 * HOUR, 13 * HOUR), 3 * HOUR);
        assert_eq!(response_ms(10 * HOUR, 9 * HOUR), 0);
    }

    #[test]
    fn a_dismissed_task_has_no_sla_and_a_resolution_without_reply_answers_it() {
        assert_eq!(outcome("dismissed", 5, None, None, 100), None);
        assert_eq!(outcome("open", 50, None, None, 10), None, "still within its time");
        assert_eq!(
            outcome("resolved", 50, None, Some(40), 100),
            Some(SlaOutcome {
                decided_at_ms: 40,
                breached: false
            })
        );
    }
}
