//! Threshold suggestions from reviewed history: the lowest criticality that keeps the
//! precision of flagged tasks at or above a target.

use crate::store::ReviewedTask;

/// A suggested threshold and the counts behind it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ThresholdSuggestion {
    /// `None` when no threshold reaches the target (or nothing was reviewed).
    pub threshold: Option<f32>,
    pub target_precision: f32,
    /// Precision of reviewed tasks at or above the suggested threshold.
    pub precision: Option<f32>,
    pub n_reviewed: usize,
    pub n_relevant: usize,
    pub n_false_positive: usize,
    /// Relevant tasks that would still be flagged at the suggestion.
    pub n_relevant_kept: usize,
}

/// The lowest criticality among reviewed tasks such that tasks at or above it have
/// precision ≥ `target`.
pub fn suggest_threshold(reviewed: &[ReviewedTask], target: f32) -> ThresholdSuggestion {
    let mut sorted: Vec<ReviewedTask> = reviewed.to_vec();
    sorted.sort_by(|a, b| b.criticality.total_cmp(&a.criticality));
    let n_relevant = reviewed.iter().filter(|r| r.relevant).count();
    let mut best: Option<(f32, f32, usize)> = None;
    let (mut kept, mut kept_relevant) = (0usize, 0usize);
    let mut idx = 0;
    while idx < sorted.len() {
        // Take every task with this exact criticality together: a threshold cannot split them.
        let value = sorted[idx].criticality;
        while idx < sorted.len() && sorted[idx].criticality == value {
            kept += 1;
            kept_relevant += usize::from(sorted[idx].relevant);
            idx += 1;
        }
        let precision = kept_relevant as f32 / kept as f32;
        if precision >= target {
            best = Some((value, precision, kept_relevant));
        }
    }
    ThresholdSuggestion {
        threshold: best.map(|b| b.0),
        target_precision: target,
        precision: best.map(|b| b.1),
        n_reviewed: reviewed.len(),
        n_relevant,
        n_false_positive: reviewed.len() - n_relevant,
        n_relevant_kept: best.map_or(0, |b| b.2),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(criticality: f32, relevant: bool) -> ReviewedTask {
        ReviewedTask { criticality, relevant }
    }

    #[test]
    fn the_suggestion_is_the_lowest_value_that_keeps_precision() {
        let reviewed = [
            r(90.0, true),
            r(80.0, true),
            r(70.0, false),
            r(60.0, true),
            r(50.0, false),
            r(45.0, false),
        ];
        let s = suggest_threshold(&reviewed, 0.75);
        assert_eq!(s.threshold, Some(60.0));
        assert_eq!(s.precision, Some(0.75));
        assert_eq!(
            (s.n_reviewed, s.n_relevant, s.n_false_positive, s.n_relevant_kept),
            (6, 3, 3, 3)
        );
        assert_eq!(suggest_threshold(&[], 0.8).threshold, None);
        assert_eq!(suggest_threshold(&[r(50.0, false)], 0.8).threshold, None);
    }
}
