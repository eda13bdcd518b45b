//! A transparent keyword baseline for comparison with the model: it counts positive and
//! negative words from a short, readable list. It is never the default scorer.

use super::{ScoreInput, Scorer, ScoringError};
use crate::domain::{SentimentOutcome, SentimentScores};

const NEGATIVE: &[&str] = &[
    "angry",
    "awful",
    "bad",
    "broken",
    "cancel",
    "cancelled",
    "crash",
    "crashed",
    "delay",
    "delayed",
    "disappointed",
    "disappointing",
    "down",
    "error",
    "fail",
    "failed",
    "fails",
    "frustrated",
    "furious",
    "hate",
    "horrible",
    "lost",
    "missing",
    "never",
    "outage",
    "overcharged",
    "pathetic",
    "poor",
    "refund",
    "rude",
    "scam",
    "sucks",
    "terrible",
    "unacceptable",
    "useless",
    "worst",
    "wrong",
    "ridiculous",
    "stuck",
    "waiting",
    "unhappy",
];
const POSITIVE: &[&str] = &[
    "amazing",
    "awesome",
    "best",
    "brilliant",
    "excellent",
    "fantastic",
    "fast",
    "great",
    "happy",
    "helpful",
    "love",
    "loved",
    "perfect",
    "quick",
    "recommend",
    "smooth",
    "thank",
    "thanks",
    "wonderful",
    "good",
    "nice",
    "fixed",
    "resolved",
    "glad",
];

/// Keyword counting: `p(negative)` grows with negative words, `p(positive)` with positive.
#[derive(Debug, Default)]
pub struct LexiconScorer;

impl LexiconScorer {
    pub fn scores(text: &str) -> SentimentScores {
        let lower = text.to_lowercase();
        let words: Vec<&str> = lower
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .filter(|w| !w.is_empty())
            .collect();
        let n_negative = words.iter().filter(|w| NEGATIVE.contains(w)).count() as f32;
        let n_positive = words.iter().filter(|w| POSITIVE.contains(w)).count() as f32;
        // One neutral pseudo-count keeps texts without cues neutral.
        SentimentScores::from_weights(n_negative, 1.0, n_positive).expect("weights are finite and sum to at least 1")
    }
}

impl Scorer for LexiconScorer {
    fn name(&self) -> &str {
        "lexicon-baseline@1"
    }

    fn score_batch(&mut self, inputs: &[ScoreInput]) -> Result<Vec<SentimentOutcome>, ScoringError> {
        Ok(inputs
            .iter()
            .map(|input| SentimentOutcome::Scored {
                scores: LexiconScorer::scores(&input.text),
                model: self.name().to_owned(),
                language: input.lang_hint.clone(),
                complaint: None,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SentimentLabel;

    #[test]
    fn counts_words_not_substrings() {
        assert_eq!(
            LexiconScorer::scores("Worst airline, lost my bag").label(),
            SentimentLabel::Negative
        );
        assert_eq!(
            LexiconScorer::scores("Thanks, great help!").label(),
            SentimentLabel::Positive
        );
        assert_eq!(
            LexiconScorer::scores("Downtown office opens at nine").label(),
            SentimentLabel::Neutral
        );
    }
}
