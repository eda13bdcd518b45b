//! Per-channel send rate limits: a token bucket per channel, sized by the platform's `Rate`, plus a
//! "blocked until" time set when the platform answers 429. Driven by explicit times (Unix ms)
//! so tests control the clock; no IO.

use std::collections::HashMap;

use crate::domain::Millis;

/// How fast one channel may be sent to: a burst, then a sustained rate. Each platform says
/// its own (`channels::ChatPlatform::rate`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Messages that may go at once.
    pub burst: f64,
    /// Messages per second after the burst.
    pub per_second: f64,
}

impl Rate {
    pub const fn new(burst: f64, per_second: f64) -> Rate {
        Rate { burst, per_second }
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
    pub fn try_acquire(&mut self, channel: &str, rate: Rate, now: Millis) -> Result<(), Millis> {
        let Rate { burst, per_second } = rate;
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
    use crate::alerts::channels::{ChatPlatform, Discord, Slack};

    #[test]
    fn a_burst_is_allowed_then_the_rate_holds() {
        let mut limiter = RateLimiter::new();
        for _ in 0..3 {
            assert!(limiter.try_acquire("ops", Slack.rate(), 1_000).is_ok());
        }
        assert_eq!(limiter.try_acquire("ops", Slack.rate(), 1_000), Err(2_000));
        assert!(limiter.try_acquire("ops", Slack.rate(), 2_000).is_ok());
        assert!(
            limiter.try_acquire("other", Slack.rate(), 1_000).is_ok(),
            "buckets are per channel"
        );
    }

    #[test]
    fn a_429_blocks_the_channel_until_the_reset() {
        let mut limiter = RateLimiter::new();
        limiter.block_until("ops", 5_000);
        assert_eq!(limiter.try_acquire("ops", Discord.rate(), 1_000), Err(5_000));
        assert!(limiter.try_acquire("ops", Discord.rate(), 6_000).is_ok());
    }
}
