//! Spike detection: is a brand's negative-mention count in one time bucket far above its
//! usual level? Pure: counts in, a verdict out; `pipeline::spikes` reads the store.
//!
//! The baseline is robust, so one earlier spike does not hide the next: the median of the
//! baseline buckets, and their spread as the median absolute deviation (scaled to match a
//! standard deviation), never less than the square root of the median (counts are roughly
//! Poisson) nor less than one. A bucket is a spike when its count is at least `min_count`
//! and its robust z-score is at least `z_threshold`. The baseline buckets are either the
//! ones just before (`recent`) or the same bucket of the day on the days before
//! (`time_of_day`, for brands whose complaints follow office hours).

use crate::domain::Millis;

const MINUTE_MS: Millis = 60_000;
const DAY_MS: Millis = 24 * 60 * MINUTE_MS;
/// MAD × this estimates the standard deviation of normally distributed data.
const MAD_TO_SIGMA: f64 = 1.4826;

/// `[alerts.spikes]`: sensitivity and timing of spike alerts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpikeSettings {
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Length of one time bucket.
    #[serde(default = "default_bucket_minutes")]
    pub bucket_minutes: u32,
    /// How many buckets form the baseline (`recent`: the buckets just before; `time_of_day`:
    /// the same bucket on this many days before).
    #[serde(default = "default_baseline_buckets")]
    pub baseline_buckets: u32,
    #[serde(default)]
    pub baseline: BaselineKind,
    /// Robust z-score at or above which a bucket is a spike.
    #[serde(default = "default_z_threshold")]
    pub z_threshold: f64,
    /// Fewest negative mentions in a bucket for a spike, so 0 → 2 is not one.
    #[serde(default = "default_min_count")]
    pub min_count: u32,
    /// After a spike alert, no other for the brand within this long.
    #[serde(default = "default_cooldown_minutes")]
    pub cooldown_minutes: u32,
    /// How many over-represented terms the alert names.
    #[serde(default = "default_top_terms")]
    pub top_terms: u32,
}

/// Which buckets the baseline is made of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BaselineKind {
    /// The `baseline_buckets` buckets just before.
    #[default]
    Recent,
    /// The same bucket of the day on each of the `baseline_buckets` days before.
    TimeOfDay,
}

fn default_true() -> bool {
    true
}
fn default_bucket_minutes() -> u32 {
    15
}
fn default_baseline_buckets() -> u32 {
    96
}
fn default_z_threshold() -> f64 {
    4.0
}
fn default_min_count() -> u32 {
    5
}
fn default_cooldown_minutes() -> u32 {
    120
}
fn default_top_terms() -> u32 {
    5
}

impl Default for SpikeSettings {
    fn default() -> Self {
        SpikeSettings {
            enabled: true,
            bucket_minutes: default_bucket_minutes(),
            baseline_buckets: default_baseline_buckets(),
            baseline: BaselineKind::default(),
            z_threshold: default_z_threshold(),
            min_count: default_min_count(),
            cooldown_minutes: default_cooldown_minutes(),
            top_terms: default_top_terms(),
        }
    }
}

impl SpikeSettings {
    /// Config problems as (field, message), for `config::load`.
    pub fn validate(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.bucket_minutes == 0 || DAY_MS % (Millis::from(self.bucket_minutes) * MINUTE_MS) != 0 {
            problems.push((
                "bucket_minutes",
                "must be a whole divisor of a day (5, 10, 15, 30, 60, …)".to_owned(),
            ));
        }
        if !(3..=2000).contains(&self.baseline_buckets) {
            problems.push(("baseline_buckets", "must be between 3 and 2000".to_owned()));
        }
        if !self.z_threshold.is_finite() || self.z_threshold <= 0.0 {
            problems.push(("z_threshold", "must be a positive number".to_owned()));
        }
        if self.min_count == 0 {
            problems.push(("min_count", "must be at least 1".to_owned()));
        }
        if self.top_terms > 20 {
            problems.push(("top_terms", "must be at most 20".to_owned()));
        }
        problems
    }

    pub fn bucket_ms(&self) -> Millis {
        Millis::from(self.bucket_minutes.max(1)) * MINUTE_MS
    }

    pub fn cooldown_ms(&self) -> Millis {
        Millis::from(self.cooldown_minutes) * MINUTE_MS
    }

    /// The start of the bucket holding `at`.
    pub fn bucket_of(&self, at: Millis) -> Millis {
        at.div_euclid(self.bucket_ms()) * self.bucket_ms()
    }

    /// The starts of the baseline buckets of the bucket starting at `bucket`, oldest first.
    pub fn baseline_buckets(&self, bucket: Millis) -> Vec<Millis> {
        let step = match self.baseline {
            BaselineKind::Recent => self.bucket_ms(),
            BaselineKind::TimeOfDay => DAY_MS,
        };
        (1..=Millis::from(self.baseline_buckets))
            .rev()
            .map(|back| bucket - back * step)
            .collect()
    }

    /// The earliest time the baseline of `bucket` reaches back to.
    pub fn baseline_start(&self, bucket: Millis) -> Millis {
        self.baseline_buckets(bucket).first().copied().unwrap_or(bucket)
    }
}

/// A brand's usual level: the robust centre and spread of the baseline counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Baseline {
    pub median: f64,
    pub spread: f64,
}

impl Baseline {
    /// From the counts of the baseline buckets (missing buckets count as zero).
    pub fn of(counts: &[u32]) -> Baseline {
        let values: Vec<f64> = counts.iter().map(|&count| f64::from(count)).collect();
        let median = median(&values);
        let deviations: Vec<f64> = values.iter().map(|value| (value - median).abs()).collect();
        let mad = median_of(deviations);
        let spread = (mad * MAD_TO_SIGMA).max(median.sqrt()).max(1.0);
        Baseline { median, spread }
    }

    /// How many spreads `count` lies above the median.
    pub fn z_score(&self, count: u32) -> f64 {
        (f64::from(count) - self.median) / self.spread
    }
}

/// The verdict on one bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    pub count: u32,
    pub baseline: Baseline,
    pub z_score: f64,
    pub is_spike: bool,
}

/// Judges a bucket's count against its baseline counts.
pub fn judge(settings: &SpikeSettings, count: u32, baseline_counts: &[u32]) -> Verdict {
    let baseline = Baseline::of(baseline_counts);
    let z_score = baseline.z_score(count);
    Verdict {
        count,
        baseline,
        z_score,
        is_spike: count >= settings.min_count && z_score >= settings.z_threshold,
    }
}

/// Whether a spike in `bucket` falls within the cool-down of an earlier alerted spike.
pub fn cooling_down(settings: &SpikeSettings, bucket: Millis, alerted_buckets: &[Millis]) -> bool {
    alerted_buckets
        .iter()
        .any(|&alerted| alerted != bucket && (bucket - alerted).abs() < settings.cooldown_ms().max(1))
}

fn median(values: &[f64]) -> f64 {
    median_of(values.to_vec())
}

fn median_of(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SpikeSettings {
        SpikeSettings::default()
    }

    #[test]
    fn a_jump_far_above_a_steady_baseline_is_a_spike() {
        let baseline = [2, 3, 1, 2, 4, 2, 3, 2, 1, 3];
        let verdict = judge(&settings(), 25, &baseline);
        assert!(verdict.is_spike, "{verdict:?}");
        assert_eq!(verdict.baseline.median, 2.0);
        assert!(verdict.z_score > 10.0, "{verdict:?}");
    }

    #[test]
    fn usual_noise_is_not_a_spike() {
        let baseline = [8, 12, 9, 11, 10, 7, 13, 10, 9, 11];
        assert!(!judge(&settings(), 14, &baseline).is_spike);
        assert!(!judge(&settings(), 10, &baseline).is_spike);
    }

    #[test]
    fn a_few_posts_on_a_silent_brand_are_below_the_minimum_count() {
        let verdict = judge(&settings(), 2, &[0; 20]);
        assert!(verdict.z_score >= 2.0);
        assert!(!verdict.is_spike, "0 → 2 is not a spike");
        assert!(judge(&settings(), 5, &[0; 20]).is_spike, "0 → 5 is");
    }

    #[test]
    fn one_earlier_spike_does_not_inflate_the_baseline() {
        let mut baseline = vec![3; 20];
        baseline[10] = 60;
        let verdict = judge(&settings(), 30, &baseline);
        assert_eq!(verdict.baseline.median, 3.0);
        assert!(verdict.is_spike, "{verdict:?}");
    }

    #[test]
    fn sensitivity_is_configurable() {
        let baseline = [10; 12];
        let strict = SpikeSettings {
            z_threshold: 6.0,
            ..settings()
        };
        // Spread floor is sqrt(10) ≈ 3.16: 25 is 4.7 spreads above.
        assert!(judge(&settings(), 25, &baseline).is_spike);
        assert!(!judge(&strict, 25, &baseline).is_spike);
    }

    #[test]
    fn baseline_buckets_are_recent_or_the_same_time_on_earlier_days() {
        let recent = SpikeSettings {
            baseline_buckets: 3,
            ..settings()
        };
        let bucket = 10 * DAY_MS + 15 * MINUTE_MS;
        assert_eq!(
            recent.baseline_buckets(bucket),
            vec![10 * DAY_MS - 30 * MINUTE_MS, 10 * DAY_MS - 15 * MINUTE_MS, 10 * DAY_MS]
        );
        let daily = SpikeSettings {
            baseline: BaselineKind::TimeOfDay,
            ..recent
        };
        assert_eq!(
            daily.baseline_buckets(bucket),
            vec![
                7 * DAY_MS + 15 * MINUTE_MS,
                8 * DAY_MS + 15 * MINUTE_MS,
                9 * DAY_MS + 15 * MINUTE_MS
            ]
        );
        assert_eq!(daily.baseline_start(bucket), 7 * DAY_MS + 15 * MINUTE_MS);
        assert_eq!(recent.bucket_of(bucket + 14 * MINUTE_MS), bucket);
    }

    #[test]
    fn the_cooldown_covers_neighbouring_buckets_but_not_the_same_one() {
        let s = settings();
        let alerted = [1000 * MINUTE_MS];
        assert!(cooling_down(&s, 1015 * MINUTE_MS, &alerted));
        assert!(
            cooling_down(&s, 985 * MINUTE_MS, &alerted),
            "a late-judged earlier bucket too"
        );
        assert!(!cooling_down(&s, 1120 * MINUTE_MS, &alerted));
        assert!(!cooling_down(&s, 1000 * MINUTE_MS, &alerted));
    }

    #[test]
    fn bad_settings_are_reported_by_field() {
        let bad = SpikeSettings {
            bucket_minutes: 7,
            baseline_buckets: 1,
            z_threshold: f64::NAN,
            min_count: 0,
            ..settings()
        };
        let fields: Vec<&str> = bad.validate().into_iter().map(|(field, _)| field).collect();
        assert_eq!(
            fields,
            vec!["bucket_minutes", "baseline_buckets", "z_threshold", "min_count"]
        );
        assert!(settings().validate().is_empty());
    }
}
