//! Per-channel send rate limits: a token bucket per channel, sized per platform, plus a
//! "blocked until" time set when the platform answers 429. Driven by explicit times (Unix ms)
//! so tests control the clock; no IO.

use std::collections::HashMap;

use super::ChannelKind;
use crate::domain::Millis;

/// Burst size and sustained rate (messages per second) for a platform.
pub fn rate_of(kind: ChannelKind) -> (f64, f64) {
    match kind {
        // About one message per second, short bursts tolerated.
        ChannelKind::Slack => (3.0, 1.0),
        // Undocumented for Workflows: stay slow.
        ChannelKind::Teams => (3.0, 1.0),
        // Per-webhook buckets of about 5 per 2 s.
        ChannelKind::Discord => (5.0, 2.5),
        // Server default when enabled: 10/s, burst 100.
        ChannelKind::Mattermost => (10.0, 10.0),
        // 60 writes per minute per space.
        ChannelKind::GoogleChat => (1.0, 1.0),
        ChannelKind::Webhook => (10.0, 10.0),
    }
}

#[derive(Debug, Clone)]
struct Bucket {
    tokens: f64,
    updated: Millis,
    blocked_until: Millis,
}

/// Token buckets by channel name.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: HashMap<String, Bucket>,
}

impl RateLimiter {
    pub fn new() -> RateLimiter {
        RateLimiter::default()
    }

    /// Takes a token for `channel` at `now`, or says when one will be available.
    pub fn try_acquire(&mut self, channel: &str, kind: ChannelKind, now: Millis) -> Result<(), Millis> {
        let (burst, per_second) = rate_of(kind);
        let bucket = self.buckets.entry(channel.to_owned()).or_insert(Bucket {
            tokens: burst,
            updated: now,
            blocked_until: Millis::MIN,
        });
        if now < bucket.blocked_until {
            return Err(bucket.blocked_until);
        }
        let elapsed_s = (now - bucket.updated).max(0) as f64 / 1000.0;
        bucket.tokens = (bucket.tokens + elapsed_s * per_second).min(burst);
        bucket.updated = bucket.updated.max(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait_ms = ((1.0 - bucket.tokens) / per_second * 1000.0).ceil() as i64;
            Err(now + wait_ms.max(1))
        }
    }

    /// No sends to `channel` before `until` (the platform said 429).
    pub fn block_until(&mut self, channel: &str, until: Millis) {
        let bucket = self.buckets.entry(channel.to_owned()).or_insert(Bucket {
            tokens: 0.0,
            updated: until,
            blocked_until: until,
        });
        bucket.blocked_until = bucket.blocked_until.max(until);
        bucket.tokens = 0.0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_allowed_then_the_rate_holds() {
        let mut limiter = RateLimiter::new();
        for _ in 0..3 {
            assert!(limiter.try_acquire("ops", ChannelKind::Slack, 1_000).is_ok());
        }
        assert_eq!(limiter.try_acquire("ops", ChannelKind::Slack, 1_000), Err(2_000));
        assert!(limiter.try_acquire("ops", ChannelKind::Slack, 2_000).is_ok());
        assert!(
            limiter.try_acquire("other", ChannelKind::Slack, 1_000).is_ok(),
            "buckets are per channel"
        );
    }

    #[test]
    fn a_429_blocks_the_channel_until_the_reset() {
        let mut limiter = RateLimiter::new();
        limiter.block_until("ops", 5_000);
        assert_eq!(limiter.try_acquire("ops", ChannelKind::Discord, 1_000), Err(5_000));
        assert!(limiter.try_acquire("ops", ChannelKind::Discord, 6_000).is_ok());
    }
}
