//! Criticality: how urgently a mention needs a response, 0-100, and why.
//!
//! The score adds up factors, each stored with its points and a sentence a reviewer reads:
//!
//! | factor | points | from |
//! |---|---|---|
//! | `negative_sentiment` | up to 55 | the model's p(negative) |
//! | `complaint_cue` | up to 25 | service failures, money, churn and escalation phrases, damped by p(positive) |
//! | `unanswered_question` | up to 5 | a question addressed to the brand, damped by p(positive) |
//! | `reach` | up to 8 | the author's followers (log scale) |
//! | `engagement` | up to 6 | likes, reposts, replies, quotes (log scale) |
//! | `author_history` | up to 9 | the author's negative mentions of the brand in the last 14 days |
//!
//! An unscored post (a language no model covers) gets a zero `unscored` factor and no others:
//! cues are English phrases and would mislead.

use crate::domain::{Criticality, Factor, Post, SentimentOutcome};
use crate::store::AuthorHistory;

/// How far back the author's history counts.
pub const HISTORY_WINDOW_MS: i64 = 14 * 24 * 3600 * 1000;

struct CueGroup {
    name: &'static str,
    first_points: f32,
    phrases: &'static [&'static str],
}

const CUE_GROUPS: &[CueGroup] = &[
    CueGroup {
        name: "service failure",
        first_points: 12.0,
        phrases: &[
            "not working",
            "doesn't work",
            "does not work",
            "stopped working",
            "won't load",
            "can't log in",
            "cannot log in",
            "can't login",
            "broken",
            "outage",
            "is down",
            "are down",
            "crashed",
            "crashes",
            "crashing",
            "error",
            "lost my",
            "lost our",
            "missing",
            "never arrived",
            "never received",
            "still waiting",
            "still haven't",
            "delayed",
            "cancelled my",
            "canceled my",
            "no response",
            "no reply",
            "on hold",
            "hung up",
            "ignored",
            "damaged",
            "wrong order",
            "late again",
            "stuck",
        ],
    },
    CueGroup {
        name: "money",
        first_points: 10.0,
        phrases: &[
            "refund",
            "charged twice",
            "double charged",
            "overcharged",
            "chargeback",
            "money back",
            "hidden fee",
            "hidden fees",
            "scam",
            "ripped off",
            "rip off",
            "fraud",
            "stole",
        ],
    },
    CueGroup {
        name: "churn",
        first_points: 10.0,
        phrases: &[
            "never again",
            "cancel my",
            "cancelling",
            "canceling",
            "switching to",
            "done with",
            "last time",
            "unsubscribe",
            "closing my account",
            "worst",
            "never using",
            "never flying",
            "never buying",
            "take my business",
        ],
    },
    CueGroup {
        name: "escalation",
        first_points: 8.0,
        phrases: &[
            "lawyer",
            "sue",
            "small claims",
            "ombudsman",
            "regulator",
            "trading standards",
            "bbb",
            "report you",
            "going to the press",
            "unacceptable",
            "disgrace",
            "disgusting",
        ],
    },
];

const MAX_CUE_POINTS: f32 = 25.0;
const EXTRA_CUE_POINTS: f32 = 4.0;

/// What criticality is computed from.
pub struct CriticalityInput<'a> {
    pub post: &'a Post,
    pub sentiment: &'a SentimentOutcome,
    /// The brand's own handles, lowercased with `@`.
    pub brand_handles: &'a [String],
    pub history: AuthorHistory,
}

/// Computes the score and its factors.
pub fn assess(input: &CriticalityInput<'_>) -> Criticality {
    let scores = match input.sentiment {
        SentimentOutcome::Scored { scores, .. } => *scores,
        SentimentOutcome::Unscored { reason, .. } => {
            return Criticality::from_factors(vec![Factor {
                name: "unscored".into(),
                points: 0.0,
                detail: format!("not scored: {reason}"),
            }]);
        }
    };
    let mut factors = vec![Factor {
        name: "negative_sentiment".into(),
        points: 55.0 * scores.negative,
        detail: format!(
            "p(negative) = {:.2}, p(neutral) = {:.2}, p(positive) = {:.2}",
            scores.negative, scores.neutral, scores.positive
        ),
    }];
    let words = words_of(&input.post.text);
    let not_positive = 1.0 - scores.positive;

    let mut cue_points = 0.0;
    let mut matched = Vec::new();
    for group in CUE_GROUPS {
        let hits: Vec<&str> = group
            .phrases
            .iter()
            .copied()
            .filter(|p| contains_phrase(&words, p))
            .collect();
        if let Some((first, rest)) = hits.split_first() {
            cue_points += group.first_points + EXTRA_CUE_POINTS * rest.len() as f32;
            matched.push(format!(
                "{}: \"{}\"",
                group.name,
                std::iter::once(*first)
                    .chain(rest.iter().copied())
                    .collect::<Vec<_>>()
                    .join("\", \"")
            ));
        }
    }
    if !matched.is_empty() {
        let points = cue_points.min(MAX_CUE_POINTS) * not_positive;
        factors.push(Factor {
            name: "complaint_cue".into(),
            points,
            detail: matched.join("; "),
        });
    }

    if is_question_to_brand(&input.post.text, &words, input.brand_handles) {
        factors.push(Factor {
            name: "unanswered_question".into(),
            points: 5.0 * not_positive,
            detail: "asks the brand a question".into(),
        });
    }

    if let Some(followers) = input.post.author_followers.filter(|f| *f > 0) {
        let points = ((followers as f32 + 1.0).log10() / 6.0 * 8.0).min(8.0);
        factors.push(Factor {
            name: "reach".into(),
            points,
            detail: format!("{followers} followers"),
        });
    }
    let engagement = input.post.engagement.total();
    if engagement > 0 {
        let points = ((engagement as f32 + 1.0).log10() / 4.0 * 6.0).min(6.0);
        factors.push(Factor {
            name: "engagement".into(),
            points,
            detail: format!("{engagement} likes, reposts, replies and quotes"),
        });
    }
    if input.history.n_negative > 0 {
        let points = (3.0 * input.history.n_negative as f32).min(9.0);
        factors.push(Factor {
            name: "author_history".into(),
            points,
            detail: format!(
                "{} negative of {} mentions in the last 14 days",
                input.history.n_negative, input.history.n_mentions
            ),
        });
    }
    Criticality::from_factors(factors)
}

fn words_of(text: &str) -> Vec<String> {
    text.to_lowercase()
        .replace('’', "'")
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let needle: Vec<&str> = phrase.split(' ').collect();
    words
        .windows(needle.len())
        .any(|window| window.iter().zip(&needle).all(|(w, n)| w == n))
}

fn is_question_to_brand(text: &str, words: &[String], brand_handles: &[String]) -> bool {
    if !text.contains('?') {
        return false;
    }
    let lower = text.to_lowercase();
    let addressed = brand_handles.iter().any(|h| lower.contains(h.as_str()));
    let asks_for_help = ["help", "anyone", "why", "when", "how"]
        .iter()
        .any(|w| words.iter().any(|x| x == w));
    addressed || asks_for_help
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Engagement, Platform, SentimentScores};

    fn post(text: &str, followers: Option<u64>, likes: u64) -> Post {
        Post {
            platform: Platform::X,
            external_id: "1".into(),
            text: text.into(),
            author_handle: "@jo".into(),
            author_name: None,
            author_followers: followers,
            created_at: 0,
            url: None,
            lang: None,
            engagement: Engagement {
                likes,
                ..Engagement::default()
            },
            conversation_id: None,
            in_reply_to: None,
            quote_of: None,
            quoted_text: None,
        }
    }

    fn scored(negative: f32, neutral: f32, positive: f32) -> SentimentOutcome {
        SentimentOutcome::Scored {
            scores: SentimentScores::from_weights(negative, neutral, positive).unwrap(),
            model: "m".into(),
            language: None,
        }
    }

    fn score(text: &str, sentiment: &SentimentOutcome, followers: Option<u64>, history: AuthorHistory) -> Criticality {
        let post = post(text, followers, 0);
        let handles = vec!["@acmeair".to_owned()];
        assess(&CriticalityInput {
            post: &post,
            sentiment,
            brand_handles: &handles,
            history,
        })
    }

    #[test]
    fn an_angry_refund_demand_outranks_a_mild_gripe() {
        let angry = score(
            "@acmeair lost my bag, I want a refund. Never again.",
            &scored(0.9, 0.08, 0.02),
            None,
            AuthorHistory::default(),
        );
        let mild = score(
            "the coffee on board was a bit cold",
            &scored(0.6, 0.35, 0.05),
            None,
            AuthorHistory::default(),
        );

        assert!(angry.score() > 70.0, "angry scored {}", angry.score());
        assert!(mild.score() < 40.0, "mild scored {}", mild.score());
        let cue = angry.factors().iter().find(|f| f.name == "complaint_cue").unwrap();
        assert!(
            cue.detail.contains("\"refund\"") && cue.detail.contains("\"never again\""),
            "{}",
            cue.detail
        );
    }

    #[test]
    fn cues_in_a_thank_you_are_damped() {
        let thanks = score(
            "Thanks @acmeair, the refund came through fast!",
            &scored(0.02, 0.08, 0.9),
            None,
            AuthorHistory::default(),
        );

        assert!(thanks.score() < 10.0, "a thank-you scored {}", thanks.score());
    }

    #[test]
    fn reach_and_history_add_points() {
        let sentiment = scored(0.7, 0.2, 0.1);
        let base = score("this app is broken", &sentiment, None, AuthorHistory::default());
        let history = AuthorHistory {
            n_mentions: 3,
            n_negative: 2,
            n_flagged: 1,
        };
        let loud = score("this app is broken", &sentiment, Some(250_000), history);

        let extra = loud.score() - base.score();
        assert!(
            (extra - (8.0 * 250_001f32.log10() / 6.0 + 6.0)).abs() < 0.01,
            "extra {extra}"
        );
    }

    #[test]
    fn unscored_posts_say_why_and_score_zero() {
        let sentiment = SentimentOutcome::Unscored {
            reason: "no model for language \"fr\"".into(),
            language: Some("fr".into()),
        };
        let result = score(
            "Mon vol est annulé, remboursement svp",
            &sentiment,
            Some(1000),
            AuthorHistory::default(),
        );

        assert_eq!(result.score(), 0.0);
        assert_eq!(result.factors()[0].name, "unscored");
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let words = words_of("The errorless suedehead is down-to-earth");
        assert!(!contains_phrase(&words, "error"));
        assert!(!contains_phrase(&words, "sue"));
    }
}
