//! Silence detection for sources: a source that usually brings new mentions every so often
//! and has brought none for much longer than that, while its polls succeed, is reported (a
//! revoked search permission, a changed API or a dead feed often look exactly like this).

use super::time::Millis;

/// How many usual gaps of quiet make a source silent.
pub const SILENCE_FACTOR: i64 = 4;
/// Quiet shorter than this is never reported (sources with busy brands poll every minute).
pub const MIN_SILENCE_MS: Millis = 60 * 60 * 1000;
/// Gaps shorter than this (pages of one poll) do not count towards the usual gap.
pub const MIN_GAP_MS: Millis = 60 * 1000;

/// The usual gap and the time of the last new mentions after a poll at `now` brought new
/// mentions, from the stored ones: the usual gap is a moving average of the gaps between such
/// polls (3/4 old, 1/4 new; the first gap is taken as it is). A gap shorter than `MIN_GAP_MS`
/// (pages of one poll, or a clock that went back) counts for nothing and keeps `last_new_at`.
pub fn after_new_mentions(
    usual_gap: Option<Millis>,
    last_new_at: Option<Millis>,
    now: Millis,
) -> (Option<Millis>, Millis) {
    let Some(last_new_at) = last_new_at else {
        return (usual_gap, now);
    };
    let gap = now.saturating_sub(last_new_at);
    if gap < MIN_GAP_MS {
        return (usual_gap, last_new_at);
    }
    let usual = match usual_gap {
        None => gap,
        Some(usual) => usual.saturating_mul(3).saturating_add(gap) / 4,
    };
    (Some(usual), now)
}

/// Why a source counts as silent, or `None` while it is not.
///
/// `last_new_at` is when it last committed new mentions, `usual_gap` the moving average of
/// the time between such polls, `last_success_at` its last successful poll.
pub fn silence(
    last_new_at: Option<Millis>,
    usual_gap: Option<Millis>,
    last_success_at: Option<Millis>,
    now: Millis,
) -> Option<String> {
    let (last_new_at, usual_gap, last_success_at) = (last_new_at?, usual_gap?, last_success_at?);
    // Failing polls are reported as errors, not as silence.
    if last_success_at <= last_new_at {
        return None;
    }
    let quiet = now.saturating_sub(last_new_at);
    let limit = usual_gap.saturating_mul(SILENCE_FACTOR).max(MIN_SILENCE_MS);
    (quiet > limit).then(|| {
        format!(
            "no new mentions for {} although polls succeed; usually every {}",
            human(quiet),
            human(usual_gap)
        )
    })
}

/// `3h 05m`, `12m`, `2d 4h`.
fn human(ms: Millis) -> String {
    let minutes = ms / 60_000;
    let (days, hours, mins) = (minutes / 1440, (minutes / 60) % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{mins}m"),
        (0, _) => format!("{hours}h {mins:02}m"),
        _ => format!("{days}d {hours}h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: Millis = 3_600_000;

    #[test]
    fn quiet_far_beyond_the_usual_gap_is_silence() {
        let reason = silence(Some(0), Some(H), Some(9 * H), 10 * H).unwrap();
        assert_eq!(
            reason,
            "no new mentions for 10h 00m although polls succeed; usually every 1h 00m"
        );
    }

    #[test]
    fn the_usual_gap_is_a_moving_average_of_gaps_between_new_mentions() {
        assert_eq!(
            after_new_mentions(None, None, 5 * H),
            (None, 5 * H),
            "the first new mentions"
        );
        assert_eq!(
            after_new_mentions(None, Some(H), 3 * H),
            (Some(2 * H), 3 * H),
            "the first gap"
        );
        assert_eq!(
            after_new_mentions(Some(2 * H), Some(3 * H), 7 * H),
            (Some((2 * H * 3 + 4 * H) / 4), 7 * H),
            "3/4 old, 1/4 new"
        );
        let pages = after_new_mentions(Some(2 * H), Some(3 * H), 3 * H + MIN_GAP_MS - 1);
        assert_eq!(pages, (Some(2 * H), 3 * H), "pages of one poll do not count");
        assert_eq!(
            after_new_mentions(Some(2 * H), Some(3 * H), 3 * H + MIN_GAP_MS),
            (Some((2 * H * 3 + MIN_GAP_MS) / 4), 3 * H + MIN_GAP_MS),
            "a gap of exactly the minimum counts"
        );
        assert_eq!(
            after_new_mentions(None, Some(3 * H), 2 * H),
            (None, 3 * H),
            "a clock that went back"
        );
        // Integer division rounds down, as the SQL it replaces did.
        assert_eq!(
            after_new_mentions(Some(MIN_GAP_MS), Some(0), MIN_GAP_MS + 1).0,
            Some(MIN_GAP_MS)
        );
    }

    #[test]
    fn usual_quiet_failures_and_missing_history_are_not() {
        assert_eq!(silence(Some(0), Some(H), Some(3 * H), 3 * H), None, "within 4 gaps");
        assert_eq!(
            silence(Some(0), Some(H), Some(0), 10 * H),
            None,
            "polls fail: an error, not silence"
        );
        assert_eq!(silence(Some(0), None, Some(9 * H), 10 * H), None, "no usual gap yet");
        assert_eq!(
            silence(Some(0), Some(60_000), Some(H / 2), H / 2),
            None,
            "below the floor"
        );
    }
}
