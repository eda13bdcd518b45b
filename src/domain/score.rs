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

/// What scoring made of one post.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum SentimentOutcome {
    Scored {
        scores: SentimentScores,
        /// The model's name and version, e.g. `sentiment-minilm-l6-tweeteval@1.0.0`.
        model: String,
        language: Option<String>,
    },
    /// Deliberately not scored (a language no model covers); never silently scored wrong.
    Unscored { reason: String, language: Option<String> },
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
