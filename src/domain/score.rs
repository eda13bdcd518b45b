//! Sentiment probabilities and the 0-100 criticality with the factors that made it.

/// Softmax probabilities over the three sentiment classes; they sum to 1.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SentimentScores {
    pub negative: f32,
    pub neutral: f32,
    pub positive: f32,
}

impl SentimentScores {
    /// Normalises three non-negative weights into probabilities; `None` if they are not
    /// finite or all zero.
    pub fn from_weights(negative: f32, neutral: f32, positive: f32) -> Option<Self> {
        let sum = negative + neutral + positive;
        let valid = [negative, neutral, positive].iter().all(|v| v.is_finite() && *v >= 0.0);
        if !valid || !sum.is_finite() || sum <= 0.0 {
            return None;
        }
        Some(SentimentScores {
            negative: negative / sum,
            neutral: neutral / sum,
            positive: positive / sum,
        })
    }

    /// The most probable class.
    pub fn label(&self) -> SentimentLabel {
        if self.negative >= self.neutral && self.negative >= self.positive {
            SentimentLabel::Negative
        } else if self.positive >= self.neutral {
            SentimentLabel::Positive
        } else {
            SentimentLabel::Neutral
        }
    }
}

/// The three classes, in the index order every model uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SentimentLabel {
    Negative,
    Neutral,
    Positive,
}

impl SentimentLabel {
    pub const ALL: [SentimentLabel; 3] = [
        SentimentLabel::Negative,
        SentimentLabel::Neutral,
        SentimentLabel::Positive,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SentimentLabel::Negative => "negative",
            SentimentLabel::Neutral => "neutral",
            SentimentLabel::Positive => "positive",
        }
    }

    pub fn index(self) -> usize {
        match self {
            SentimentLabel::Negative => 0,
            SentimentLabel::Neutral => 1,
            SentimentLabel::Positive => 2,
        }
    }

    /// Parses a label name or its index ("negative" or "0").
    pub fn parse(value: &str) -> Option<SentimentLabel> {
        let value = value.trim().to_ascii_lowercase();
        SentimentLabel::ALL
            .into_iter()
            .find(|l| l.as_str() == value || l.index().to_string() == value)
    }
}

/// Complaint severity, in increasing threat to the brand's face (Trosborg 1995, as used by
/// Jin & Aletras, NAACL 2021); `None` is "not a complaint".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    None,
    NoExplicitReproach,
    Disapproval,
    Accusation,
    Blame,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::None,
        Severity::NoExplicitReproach,
        Severity::Disapproval,
        Severity::Accusation,
        Severity::Blame,
    ];

    /// The label as the model manifest and the training data write it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::None => "none",
            Severity::NoExplicitReproach => "no explicit reproach",
            Severity::Disapproval => "disapproval",
            Severity::Accusation => "accusation",
            Severity::Blame => "blame",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Parses a name (`disapproval`, `No explicit reproach`, `no_explicit_reproach`,
    /// `Non-Complaint`) or an index `0`-`4`.
    pub fn parse(value: &str) -> Option<Severity> {
        let value = value.trim().to_ascii_lowercase().replace(['_', '-'], " ");
        if value == "non complaint" || value == "not a complaint" {
            return Some(Severity::None);
        }
        Severity::ALL
            .into_iter()
            .find(|s| s.as_str() == value || s.index().to_string() == value)
    }
}

/// The complaint heads of a model: p(complaint) and the severity distribution.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ComplaintScores {
    /// p(complaint), 0-1.
    pub probability: f32,
    /// Softmax over [`Severity::ALL`], in that order.
    pub severity: [f32; 5],
}

impl ComplaintScores {
    /// `None` unless every value is a probability and the severities sum to about 1.
    pub fn new(probability: f32, severity: [f32; 5]) -> Option<ComplaintScores> {
        let in_range = |v: f32| v.is_finite() && (0.0..=1.0).contains(&v);
        let sum: f32 = severity.iter().sum();
        (in_range(probability) && severity.iter().all(|v| in_range(*v)) && (sum - 1.0).abs() < 1e-3)
            .then_some(ComplaintScores { probability, severity })
    }

    /// The most probable severity among the complaint levels (never `None`): how bad the
    /// complaint is if it is one.
    pub fn severity_if_complaint(&self) -> Severity {
        let mut best = Severity::NoExplicitReproach;
        for level in &Severity::ALL[1..] {
            if self.severity[level.index()] > self.severity[best.index()] {
                best = *level;
            }
        }
        best
    }

    /// Expected severity on a 0-1 scale given that the post is a complaint
    /// (no explicit reproach 0, disapproval 1/3, accusation 2/3, blame 1).
    pub fn severity_weight(&self) -> f32 {
        let mass: f32 = self.severity[1..].iter().sum();
        if mass <= f32::EPSILON {
            return 0.0;
        }
        self.severity[1..]
            .iter()
            .enumerate()
            .map(|(i, p)| p * i as f32 / 3.0)
            .sum::<f32>()
            / mass
    }
}

/// What scoring made of one post.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum SentimentOutcome {
    Scored {
        scores: SentimentScores,
        /// The model's name and version, e.g. `complaint-minilm-l6@1.0.0`.
        model: String,
        language: Option<String>,
        /// The complaint and severity heads, from models that have them (`None` for
        /// sentiment-only models such as `sentiment-minilm-l6-tweeteval`).
        complaint: Option<ComplaintScores>,
    },
    /// Deliberately not scored (a language no model covers); never silently scored wrong.
    Unscored { reason: String, language: Option<String> },
}

impl SentimentOutcome {
    /// Scored, with negative as the most likely label (what the store keeps as `label`).
    pub fn is_negative(&self) -> bool {
        matches!(self, SentimentOutcome::Scored { scores, .. } if scores.label() == SentimentLabel::Negative)
    }
}

/// One reason a post is (or is not) critical, in points of the 0-100 score.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Factor {
    /// A stable machine name, e.g. `negative_sentiment`, `complaint_cue`, `reach`.
    pub name: String,
    pub points: f32,
    /// What a reviewer reads, e.g. `p(negative) = 0.91` or `mentions "refund"`.
    pub detail: String,
}

/// How urgently a post needs a response, 0-100, with the factors that add up to it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Criticality {
    score: f32,
    factors: Vec<Factor>,
}

impl Criticality {
    /// Sums the factors and clamps the total into 0-100.
    pub fn from_factors(factors: Vec<Factor>) -> Criticality {
        let total: f32 = factors.iter().map(|f| f.points).filter(|p| p.is_finite()).sum();
        Criticality {
            score: total.clamp(0.0, 100.0),
            factors,
        }
    }

    pub fn score(&self) -> f32 {
        self.score
    }

    pub fn factors(&self) -> &[Factor] {
        &self.factors
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_normalise_and_invalid_weights_are_refused() {
        let s = SentimentScores::from_weights(2.0, 1.0, 1.0).unwrap();
        assert!((s.negative - 0.5).abs() < 1e-6);
        assert_eq!(s.label(), SentimentLabel::Negative);
        assert!(SentimentScores::from_weights(f32::NAN, 1.0, 1.0).is_none());
        assert!(SentimentScores::from_weights(0.0, 0.0, 0.0).is_none());
        assert!(SentimentScores::from_weights(-1.0, 1.0, 1.0).is_none());
    }

    #[test]
    fn criticality_is_clamped_to_0_100() {
        let factor = |points| Factor {
            name: "x".into(),
            points,
            detail: String::new(),
        };
        assert_eq!(
            Criticality::from_factors(vec![factor(80.0), factor(50.0)]).score(),
            100.0
        );
        assert_eq!(Criticality::from_factors(vec![factor(-20.0)]).score(), 0.0);
        assert_eq!(
            Criticality::from_factors(vec![factor(30.0), factor(f32::NAN)]).score(),
            30.0
        );
    }

    #[test]
    fn labels_parse_from_names_and_indices() {
        assert_eq!(SentimentLabel::parse("Negative"), Some(SentimentLabel::Negative));
        assert_eq!(SentimentLabel::parse("2"), Some(SentimentLabel::Positive));
        assert_eq!(SentimentLabel::parse("meh"), None);
    }
}
