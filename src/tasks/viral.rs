//! Going viral: whether a post's engagement history, re-read by the engagement refresh, shows
//! it spreading (grew `growth_factor` times within `window_mins`, from at least
//! `min_engagement`, or reached the brand's `threshold`), and how its task is escalated: the
//! `viral` factor's points on the criticality, and at least high priority. Pure.

use crate::config::{PriorityCutoffs, ViralSettings};
use crate::domain::{EngagementSample, Factor, Growth, Priority};
use crate::scoring::criticality::{VIRAL_POINTS, viral_factor};

/// Why a post counts as going viral.
#[derive(Debug, Clone, PartialEq)]
pub struct ViralFinding {
    /// The growth behind it, when there was one ("likes 12 → 340 in 50 min").
    pub growth: Option<Growth>,
    /// The sentence reviewers and the alert read.
    pub reason: String,
}

/// Whether `history` (one post's readings, oldest first) shows it going viral under `rule`.
pub fn assess(history: &[EngagementSample], rule: &ViralSettings) -> Option<ViralFinding> {
    let latest = history.last()?;
    let window_ms = i64::try_from(rule.window_mins.saturating_mul(60_000)).unwrap_or(i64::MAX);
    let total = latest.total();
    if total >= rule.min_engagement {
        // The earliest reading within the window that the latest is `growth_factor` times.
        let fast = history.iter().find(|earlier| {
            earlier.at_ms < latest.at_ms
                && latest.at_ms - earlier.at_ms <= window_ms
                && total as f64 >= rule.growth_factor * earlier.total().max(1) as f64
        });
        if let Some(earlier) = fast
            && let Some(growth) = Growth::between(earlier, latest)
        {
            let reason = format!(
                "{} (engagement {} → {}, ×{:.0} within {} min)",
                growth.text,
                growth.from_total,
                growth.to_total,
                total as f64 / earlier.total().max(1) as f64,
                rule.window_mins
            );
            return Some(ViralFinding {
                growth: Some(growth),
                reason,
            });
        }
    }
    if rule.threshold > 0 && total >= rule.threshold {
        let growth = Growth::over(history);
        let reason = match &growth {
            Some(growth) => format!(
                "{} (engagement {}, at least the brand's {})",
                growth.text, total, rule.threshold
            ),
            None => format!("engagement {total}, at least the brand's {}", rule.threshold),
        };
        return Some(ViralFinding { growth, reason });
    }
    None
}

/// A task's criticality and priority once it goes viral, and the factor that says why.
#[derive(Debug, Clone, PartialEq)]
pub struct Escalated {
    pub criticality: f32,
    pub priority: Priority,
    pub factor: Factor,
}

/// The escalation of a task at `criticality` and `priority`: the `viral` factor's points
/// added (at most 100), the priority the new criticality earns, and at least high.
pub fn escalate(criticality: f32, priority: Priority, finding: &ViralFinding, cutoffs: &PriorityCutoffs) -> Escalated {
    let criticality = (criticality + VIRAL_POINTS).clamp(0.0, 100.0);
    // `Priority` sorts most urgent first, so the smallest is the most urgent.
    let priority = priority
        .min(super::priority_for(criticality, cutoffs))
        .min(Priority::High);
    Escalated {
        criticality,
        priority,
        factor: viral_factor(finding.reason.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(minutes: i64, likes: u64) -> EngagementSample {
        EngagementSample {
            at_ms: minutes * 60_000,
            likes,
            reposts: 0,
            replies: 0,
            quotes: 0,
        }
    }

    #[test]
    fn five_times_within_the_hour_from_a_real_start_is_viral() {
        let rule = ViralSettings::default();
        let finding = assess(&[at(0, 12), at(20, 30), at(50, 340)], &rule).unwrap();
        assert_eq!(finding.growth.unwrap().text, "likes 12 → 340 in 50 min");
        assert!(finding.reason.contains("×28 within 60 min"), "{}", finding.reason);
        // Too slow: ×5 took longer than the window.
        assert_eq!(assess(&[at(0, 12), at(90, 70)], &rule), None);
        // Fast but small: 1 → 9 is not viral.
        assert_eq!(assess(&[at(0, 1), at(10, 9)], &rule), None);
        // Only ×3.
        assert_eq!(assess(&[at(0, 100), at(30, 300)], &rule), None);
    }

    #[test]
    fn the_brands_number_makes_a_post_viral_whatever_its_speed() {
        let rule = ViralSettings {
            threshold: 500,
            ..ViralSettings::default()
        };
        let finding = assess(&[at(0, 300), at(600, 520)], &rule).unwrap();
        assert!(
            finding.reason.contains("at least the brand's 500"),
            "{}",
            finding.reason
        );
        let off = ViralSettings {
            threshold: 0,
            ..ViralSettings::default()
        };
        assert_eq!(assess(&[at(0, 300), at(600, 520)], &off), None);
        assert_eq!(assess(&[], &rule), None);
    }

    #[test]
    fn escalation_adds_the_points_and_makes_the_task_at_least_high() {
        let finding = assess(&[at(0, 12), at(50, 340)], &ViralSettings::default()).unwrap();
        let cutoffs = PriorityCutoffs::default();
        let low = escalate(20.0, Priority::Low, &finding, &cutoffs);
        assert_eq!((low.criticality, low.priority), (35.0, Priority::High));
        assert_eq!(low.factor.name, "viral");
        let critical = escalate(95.0, Priority::Critical, &finding, &cutoffs);
        assert_eq!((critical.criticality, critical.priority), (100.0, Priority::Critical));
    }
}
