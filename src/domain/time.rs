//! Time as Unix milliseconds: the one representation the store, the API and the exports share,
//! and the one conversion of seconds and `Duration`s into it.

use std::time::Duration;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// The current time in Unix milliseconds.
pub fn now_millis() -> Millis {
    chrono::Utc::now().timestamp_millis()
}

/// A span of time in milliseconds, saturating (a span past `Millis::MAX` is `Millis::MAX`).
pub fn duration_millis(span: Duration) -> Millis {
    Millis::try_from(span.as_millis()).unwrap_or(Millis::MAX)
}

/// Seconds (a `_secs` setting) in milliseconds, saturating.
pub fn secs_to_millis(secs: u64) -> Millis {
    duration_millis(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_spans_become_milliseconds_saturating() {
        assert_eq!(secs_to_millis(0), 0);
        assert_eq!(secs_to_millis(7 * 24 * 3600), 604_800_000);
        assert_eq!(secs_to_millis(u64::MAX), Millis::MAX);
        assert_eq!(duration_millis(Duration::from_millis(1_500)), 1_500);
        assert_eq!(duration_millis(Duration::MAX), Millis::MAX);
    }
}
