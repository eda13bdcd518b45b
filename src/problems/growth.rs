//! When a problem is growing: its complaints in the last window against its usual rate,
//! judged the way a lead would ("12 in the last hour, it usually gets 1 an hour"), with a
//! cool-down so one problem alerts once per stretch of growth. Pure.

/// `[problems.growth]`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrowthSettings {
    /// Whether growing problems are alerted.
    #[serde(default = "default_true")]
    pub alert: bool,
    /// The recent window compared with the baseline.
    #[serde(default = "default_window_minutes")]
    pub window_minutes: u32,
    /// The baseline: this many hours before the window.
    #[serde(default = "default_baseline_hours")]
    pub baseline_hours: u32,
    /// At least this many complaints in the window.
    #[serde(default = "default_min_count")]
    pub min_count: u32,
    /// And at least this many times the baseline's rate per window (counted as at least one
    /// per window).
    #[serde(default = "default_factor")]
    pub factor: f64,
    /// After an alert, the same problem is not alerted again for this long.
    #[serde(default = "default_cooldown_hours")]
    pub cooldown_hours: u32,
}

fn default_true() -> bool {
    true
}
fn default_window_minutes() -> u32 {
    60
}
fn default_baseline_hours() -> u32 {
    7 * 24
}
fn default_min_count() -> u32 {
    5
}
fn default_factor() -> f64 {
    3.0
}
fn default_cooldown_hours() -> u32 {
    6
}

impl Default for GrowthSettings {
    fn default() -> Self {
        GrowthSettings {
            alert: true,
            window_minutes: default_window_minutes(),
            baseline_hours: default_baseline_hours(),
            min_count: default_min_count(),
            factor: default_factor(),
            cooldown_hours: default_cooldown_hours(),
        }
    }
}

impl GrowthSettings {
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if !(5..=24 * 60).contains(&self.window_minutes) {
            out.push((
                "problems.growth.window_minutes",
                "must be between 5 and 1440".to_owned(),
            ));
        }
        if !(1..=24 * 90).contains(&self.baseline_hours)
            || i64::from(self.baseline_hours) * 60 < i64::from(self.window_minutes)
        {
            out.push((
                "problems.growth.baseline_hours",
                "must be between 1 and 2160 hours and at least one window long".to_owned(),
            ));
        }
        if self.min_count == 0 {
            out.push(("problems.growth.min_count", "must be at least 1".to_owned()));
        }
        if !(self.factor.is_finite() && self.factor >= 1.0) {
            out.push(("problems.growth.factor", "must be a number of at least 1".to_owned()));
        }
        if self.cooldown_hours > 24 * 30 {
            out.push(("problems.growth.cooldown_hours", "must be at most 720 hours".to_owned()));
        }
        out
    }

    pub fn window_ms(&self) -> i64 {
        i64::from(self.window_minutes) * 60_000
    }

    pub fn baseline_ms(&self) -> i64 {
        i64::from(self.baseline_hours) * 3_600_000
    }

    pub fn cooldown_ms(&self) -> i64 {
        i64::from(self.cooldown_hours) * 3_600_000
    }
}

/// A problem's counts: complaints in the window and in the baseline before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    pub in_window: u32,
    pub in_baseline: u32,
}

/// The verdict on a problem's counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Verdict {
    Growing {
        /// The usual number per window (the baseline's rate).
        usual_per_window: f64,
        /// How many times the usual rate the window holds.
        growth: f64,
    },
    Steady,
}

/// Growing when the window holds at least `min_count` complaints and at least `factor` times
/// the baseline's rate per window, the usual rate counted as at least one per window (so a
/// brand-new problem needs `max(min_count, factor)` complaints in one window).
pub fn judge(settings: &GrowthSettings, counts: Counts) -> Verdict {
    let windows_in_baseline = (settings.baseline_ms() as f64 / settings.window_ms().max(1) as f64).max(1.0);
    let usual = f64::from(counts.in_baseline) / windows_in_baseline;
    let growth = f64::from(counts.in_window) / usual.max(1.0);
    if counts.in_window >= settings.min_count && growth >= settings.factor {
        Verdict::Growing {
            usual_per_window: usual,
            growth,
        }
    } else {
        Verdict::Steady
    }
}

/// Whether a problem alerted at `last_alert_at` is still cooling down at `now`.
pub fn cooling_down(settings: &GrowthSettings, last_alert_at: Option<i64>, now: i64) -> bool {
    last_alert_at.is_some_and(|at| now - at < settings.cooldown_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_well_above_the_usual_rate_is_growing_and_a_steady_stream_is_not() {
        let s = GrowthSettings::default();
        // 168 windows of baseline; 84 complaints there is 0.5 an hour.
        assert!(matches!(
            judge(&s, Counts { in_window: 12, in_baseline: 84 }),
            Verdict::Growing { growth, usual_per_window } if growth == 12.0 && usual_per_window == 0.5
        ));
        assert_eq!(
            judge(
                &s,
                Counts {
                    in_window: 4,
                    in_baseline: 0
                }
            ),
            Verdict::Steady,
            "below min_count"
        );
        assert!(matches!(
            judge(
                &s,
                Counts {
                    in_window: 5,
                    in_baseline: 0
                }
            ),
            Verdict::Growing { .. }
        ));
        // 3 an hour usually: 8 in the last hour is not three times that.
        assert_eq!(
            judge(
                &s,
                Counts {
                    in_window: 8,
                    in_baseline: 504
                }
            ),
            Verdict::Steady
        );
        assert!(matches!(
            judge(
                &s,
                Counts {
                    in_window: 12,
                    in_baseline: 504
                }
            ),
            Verdict::Growing { .. }
        ));
    }

    #[test]
    fn cool_down_holds_for_its_hours() {
        let s = GrowthSettings::default();
        let hour = 3_600_000;
        assert!(!cooling_down(&s, None, 10 * hour));
        assert!(cooling_down(&s, Some(5 * hour), 10 * hour));
        assert!(!cooling_down(&s, Some(4 * hour), 10 * hour));
    }

    #[test]
    fn settings_are_checked() {
        let bad = GrowthSettings {
            window_minutes: 1,
            factor: 0.5,
            min_count: 0,
            ..GrowthSettings::default()
        };
        let keys: Vec<&str> = bad.problems().into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            [
                "problems.growth.window_minutes",
                "problems.growth.min_count",
                "problems.growth.factor"
            ]
        );
        assert!(GrowthSettings::default().problems().is_empty());
    }
}
