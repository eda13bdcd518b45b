//! Engagement over time: the readings of a post's likes, reposts, replies and quotes, and the
//! growth between two of them as a reviewer reads it ("likes 12 → 340 in 50 min").

use super::post::Engagement;
use super::time::Millis;

/// One reading of a post's engagement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct EngagementSample {
    pub at_ms: Millis,
    pub likes: u64,
    pub reposts: u64,
    pub replies: u64,
    pub quotes: u64,
}

impl EngagementSample {
    pub fn new(at_ms: Millis, engagement: Engagement) -> EngagementSample {
        EngagementSample {
            at_ms,
            likes: engagement.likes,
            reposts: engagement.reposts,
            replies: engagement.replies,
            quotes: engagement.quotes,
        }
    }

    pub fn engagement(&self) -> Engagement {
        Engagement {
            likes: self.likes,
            reposts: self.reposts,
            replies: self.replies,
            quotes: self.quotes,
        }
    }

    /// Likes, reposts, replies and quotes together.
    pub fn total(&self) -> u64 {
        self.engagement().total()
    }

    fn metrics(&self) -> [(&'static str, u64); 4] {
        [
            ("likes", self.likes),
            ("reposts", self.reposts),
            ("replies", self.replies),
            ("quotes", self.quotes),
        ]
    }
}

/// How much a post's engagement grew between two readings, told by the metric that grew most.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Growth {
    /// `likes`, `reposts`, `replies` or `quotes`.
    pub metric: &'static str,
    pub from: u64,
    pub to: u64,
    pub from_total: u64,
    pub to_total: u64,
    pub from_at_ms: Millis,
    pub to_at_ms: Millis,
    /// "likes 12 → 340 in 50 min".
    pub text: String,
}

impl Growth {
    /// The growth from `from` to `to`, or `None` when nothing grew.
    pub fn between(from: &EngagementSample, to: &EngagementSample) -> Option<Growth> {
        let (metric, before, after) = from
            .metrics()
            .into_iter()
            .zip(to.metrics())
            .map(|((name, before), (_, after))| (name, before, after))
            .max_by_key(|(_, before, after)| after.saturating_sub(*before))?;
        if after <= before {
            return None;
        }
        let minutes = (to.at_ms - from.at_ms).max(0) / 60_000;
        Some(Growth {
            metric,
            from: before,
            to: after,
            from_total: from.total(),
            to_total: to.total(),
            from_at_ms: from.at_ms,
            to_at_ms: to.at_ms,
            text: format!("{metric} {before} → {after} in {}", duration_words(minutes)),
        })
    }

    /// The growth over a post's whole history (oldest reading to newest), if any.
    pub fn over(history: &[EngagementSample]) -> Option<Growth> {
        Growth::between(history.first()?, history.last()?)
    }
}

/// 50 min, 3 h 5 min, 2 d 4 h.
fn duration_words(minutes: i64) -> String {
    match minutes {
        ..=119 => format!("{minutes} min"),
        120..=2879 if minutes % 60 == 0 => format!("{} h", minutes / 60),
        120..=2879 => format!("{} h {} min", minutes / 60, minutes % 60),
        _ => format!("{} d {} h", minutes / 1440, (minutes % 1440) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_min: i64, likes: u64, reposts: u64) -> EngagementSample {
        EngagementSample {
            at_ms: at_min * 60_000,
            likes,
            reposts,
            replies: 0,
            quotes: 0,
        }
    }

    #[test]
    fn growth_names_the_metric_that_grew_most() {
        let growth = Growth::between(&sample(0, 12, 3), &sample(50, 340, 40)).unwrap();
        assert_eq!(growth.text, "likes 12 → 340 in 50 min");
        assert_eq!((growth.from_total, growth.to_total), (15, 380));
        let growth = Growth::between(&sample(0, 12, 3), &sample(185, 13, 90)).unwrap();
        assert_eq!(growth.text, "reposts 3 → 90 in 3 h 5 min");
        assert_eq!(Growth::between(&sample(0, 5, 5), &sample(10, 5, 4)), None);
        assert_eq!(Growth::over(&[]), None);
        assert_eq!(duration_words(3 * 1440 + 125), "3 d 2 h");
        assert_eq!(duration_words(240), "4 h");
    }
}
