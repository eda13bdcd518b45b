//! Threshold suggestions from reviewed evidence: flagged tasks reviewers answered or
//! dismissed as false positives, and mentions below the threshold a reviewer opened a task
//! from (missed complaints). The suggestion is the highest threshold that still turns at
//! least `TARGET_RECALL` of the known complaints into tasks (the goal: never miss one), with
//! the precision that costs; below a minimum sample there is no suggestion.
//!
//! Precision counts reviewed items only: a mention below the current threshold that nobody
//! opened a task from is not known to be a false positive, so at thresholds below the
//! current one the expected precision is an upper bound.

use crate::store::ReviewedItem;

/// Share of known complaints a suggested threshold must keep, in percent.
pub const TARGET_RECALL_PERCENT: usize = 90;
/// Fewer reviewed items than this: "not enough reviews yet".
pub const MIN_REVIEWED: usize = 20;
/// Fewer known complaints than this: "not enough reviews yet".
pub const MIN_COMPLAINTS: usize = 5;

/// What a threshold is expected to do, judged on the reviewed evidence.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ThresholdPoint {
    pub threshold: f32,
    /// Complaints at or above the threshold, over reviewed items at or above it.
    pub precision: Option<f32>,
    /// Complaints at or above the threshold, over all known complaints (missed ones too).
    pub recall: Option<f32>,
    pub complaints_kept: usize,
    pub false_positives_kept: usize,
}

/// A suggested threshold for one brand, or why there is none.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ThresholdSuggestion {
    /// Whether the evidence reaches the minimum sample.
    pub enough: bool,
    /// One sentence for people: the suggestion and its cost, or "not enough reviews yet".
    pub message: String,
    /// `None` below the minimum sample.
    pub threshold: Option<f32>,
    /// What the suggested threshold is expected to do.
    pub suggested: Option<ThresholdPoint>,
    /// What the brand's current threshold is expected to do.
    pub current: ThresholdPoint,
    pub target_recall: f32,
    pub min_reviewed: usize,
    pub min_complaints: usize,
    /// Reviewed items: flagged tasks answered, resolved or dismissed as false positives,
    /// plus mentions a reviewer opened a task from.
    pub n_reviewed: usize,
    pub n_complaints: usize,
    /// Complaints the pipeline had not flagged (a reviewer opened their task).
    pub n_missed: usize,
    pub n_false_positive: usize,
    /// Expected precision and recall every 5 points from 0 to 100.
    pub curve: Vec<ThresholdPoint>,
}

/// The expected precision and recall of `threshold` on `items`.
pub fn point(items: &[ReviewedItem], threshold: f32) -> ThresholdPoint {
    let n_complaints = items.iter().filter(|i| i.complaint).count();
    let kept = items.iter().filter(|i| i.criticality >= threshold);
    let (complaints_kept, false_positives_kept) =
        kept.fold((0, 0), |(c, f), i| if i.complaint { (c + 1, f) } else { (c, f + 1) });
    let ratio = |num: usize, den: usize| (den > 0).then(|| num as f32 / den as f32);
    ThresholdPoint {
        threshold,
        precision: ratio(complaints_kept, complaints_kept + false_positives_kept),
        recall: ratio(complaints_kept, n_complaints),
        complaints_kept,
        false_positives_kept,
    }
}

fn percent(value: Option<f32>) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{:.0}%", v * 100.0))
}

/// The highest whole-number threshold that keeps at least `TARGET_RECALL_PERCENT` of the
/// known complaints, given the brand's `current` threshold; `threshold: None` below
/// `MIN_REVIEWED` items or `MIN_COMPLAINTS` complaints.
pub fn suggest_threshold(items: &[ReviewedItem], current: f32) -> ThresholdSuggestion {
    let mut complaints: Vec<f32> = items.iter().filter(|i| i.complaint).map(|i| i.criticality).collect();
    complaints.sort_by(|a, b| b.total_cmp(a));
    let n_complaints = complaints.len();
    let n_missed = items.iter().filter(|i| i.complaint && i.missed).count();
    let n_reviewed = items.len();
    let current_point = point(items, current);
    let enough = n_reviewed >= MIN_REVIEWED && n_complaints >= MIN_COMPLAINTS;
    let suggested = enough.then(|| {
        // Keep the `needed` most critical complaints: the threshold is the criticality of the
        // last of them, rounded down so it is kept too.
        let needed = (n_complaints * TARGET_RECALL_PERCENT).div_ceil(100).max(1);
        let threshold = complaints[needed - 1].floor().clamp(0.0, 100.0);
        point(items, threshold)
    });
    let message = match &suggested {
        None => format!(
            "not enough reviews yet: {n_reviewed} reviewed ({MIN_REVIEWED} needed) with {n_complaints} \
             complaints ({MIN_COMPLAINTS} needed)"
        ),
        Some(s) => format!(
            "{:.0} turns {} of the {n_complaints} known complaints ({n_missed} of them missed) into tasks \
             (recall {}); precision {} among reviewed tasks. Now, at {current:.0}: recall {}, precision {}.",
            s.threshold,
            s.complaints_kept,
            percent(s.recall),
            percent(s.precision),
            percent(current_point.recall),
            percent(current_point.precision),
        ),
    };
    ThresholdSuggestion {
        enough,
        message,
        threshold: suggested.as_ref().map(|s| s.threshold),
        suggested,
        current: current_point,
        target_recall: TARGET_RECALL_PERCENT as f32 / 100.0,
        min_reviewed: MIN_REVIEWED,
        min_complaints: MIN_COMPLAINTS,
        n_reviewed,
        n_complaints,
        n_missed,
        n_false_positive: n_reviewed - n_complaints,
        curve: (0..=20u8).map(|step| point(items, f32::from(step) * 5.0)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flagged(criticality: f32, complaint: bool) -> ReviewedItem {
        ReviewedItem {
            criticality,
            complaint,
            missed: false,
        }
    }

    fn missed(criticality: f32) -> ReviewedItem {
        ReviewedItem {
            criticality,
            complaint: true,
            missed: true,
        }
    }

    /// 16 flagged complaints (56..=86), 2 false positives, and missed complaints at 40 and
    /// 31.5: 20 items, 18 complaints.
    fn evidence() -> Vec<ReviewedItem> {
        let mut items: Vec<ReviewedItem> = (0..16).map(|i| flagged(56.0 + 2.0 * i as f32, true)).collect();
        items.push(flagged(58.5, false));
        items.push(flagged(60.0, false));
        items.push(missed(40.0));
        items.push(missed(31.5));
        items
    }

    #[test]
    fn the_suggestion_is_the_highest_threshold_that_keeps_nine_in_ten_complaints() {
        let s = suggest_threshold(&evidence(), 55.0);
        assert!(s.enough);
        // 18 complaints: 17 must stay (ceil of 16.2). The 17th most critical is the missed
        // one at 40, so 40 is the highest threshold that keeps 90%.
        assert_eq!(s.threshold, Some(40.0));
        let at = s.suggested.unwrap();
        assert_eq!((at.complaints_kept, at.false_positives_kept), (17, 2));
        assert!((at.recall.unwrap() - 17.0 / 18.0).abs() < 1e-6);
        assert!((at.precision.unwrap() - 17.0 / 19.0).abs() < 1e-6);
        // At 55 the two missed complaints are lost.
        assert_eq!((s.current.complaints_kept, s.current.false_positives_kept), (16, 2));
        assert!((s.current.recall.unwrap() - 16.0 / 18.0).abs() < 1e-6);
        assert_eq!(
            (s.n_reviewed, s.n_complaints, s.n_missed, s.n_false_positive),
            (20, 18, 2, 2)
        );
        assert!(
            s.message
                .starts_with("40 turns 17 of the 18 known complaints (2 of them missed)"),
            "{}",
            s.message
        );
        assert_eq!(s.curve.len(), 21);
        assert_eq!(s.curve[8].threshold, 40.0);
        assert_eq!(s.curve[8].complaints_kept, 17);
    }

    #[test]
    fn a_fractional_criticality_rounds_the_threshold_down_so_the_complaint_stays() {
        let mut items: Vec<ReviewedItem> = (0..15).map(|_| flagged(95.0, false)).collect();
        items.extend([90.0, 80.0, 70.0, 60.0].map(|c| flagged(c, true)));
        items.push(missed(57.25));
        // 5 complaints: all 5 must stay (ceil of 4.5), the last at 57.25.
        let s = suggest_threshold(&items, 55.0);
        assert_eq!(s.threshold, Some(57.0));
        let at = s.suggested.unwrap();
        assert_eq!((at.complaints_kept, at.false_positives_kept), (5, 15));
        assert_eq!(at.precision, Some(0.25));
        assert_eq!(point(&items, 58.0).complaints_kept, 4, "one point higher loses it");
    }

    #[test]
    fn too_little_evidence_suggests_nothing() {
        let one = [flagged(78.0, true)];
        let s = suggest_threshold(&one, 55.0);
        assert_eq!((s.enough, s.threshold, s.suggested.clone()), (false, None, None));
        assert!(s.message.starts_with("not enough reviews yet"), "{}", s.message);
        assert_eq!(s.current.recall, Some(1.0));

        // Plenty reviewed, but almost all false positives: still not enough complaints.
        let mut items: Vec<ReviewedItem> = (0..30).map(|i| flagged(60.0 + i as f32, false)).collect();
        items.extend((0..4).map(|i| flagged(70.0 + i as f32, true)));
        let s = suggest_threshold(&items, 55.0);
        assert_eq!(s.threshold, None);
        assert!(s.message.contains("4 complaints (5 needed)"), "{}", s.message);

        let s = suggest_threshold(&[], 55.0);
        assert_eq!((s.current.precision, s.current.recall), (None, None));
    }
}
