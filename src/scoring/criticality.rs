//! Criticality: how urgently a mention needs a response, 0-100, and why.
//!
//! The score adds up factors, each stored with its points and a sentence a reviewer reads.
//! With a complaint model (the shipped one) the complaint heads lead:
//!
//! | factor | points | from |
//! |---|---|---|
//! | `complaint` | up to 60 | the model's p(complaint) |
//! | `severity` | up to 12 | p(complaint) × the expected severity (no explicit reproach 0 … blame 1) |
//! | `negative_sentiment` | up to 12 | the model's p(negative) |
//! | `complaint_cue` | up to 5 | service failures, money, churn and escalation phrases, damped by p(positive) |
//! | `unanswered_question` | up to 5 | a question addressed to the brand, damped by p(positive) |
//! | `reach` | up to 12 | the author's followers (log scale: 2.4k ≈ 6.8, 480k ≈ 11.4) |
//! | `engagement` | up to 6 | likes, reposts, replies, quotes (log scale) |
//! | `author_history` | up to 9 | the author's negative mentions of the brand in the last 14 days |
//! | `vip`, `high_reach` | 0 | the author is on the brand's VIP list / has at least the brand's `high_reach_followers`: `tasks` then halves the threshold and raises the priority to at least high |
//! | `viral` | 15 | added later, once, by the engagement refresh when the post goes viral (`tasks::viral`): the task's criticality rises by as much and its priority to at least high |
//!
//! With a sentiment-only model (kept loadable for comparison) the older weights apply:
//! `negative_sentiment` up to 55, `complaint_cue` up to 25, `reach` up to 8, the rest as above.
//!
//! An unscored post (a language no model covers) gets a zero `unscored` factor and no others:
//! cues are English phrases and would mislead.

use crate::domain::{ComplaintScores, Criticality, Factor, Post, SentimentOutcome};
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

/// Points of the `viral` factor.
pub const VIRAL_POINTS: f32 = 15.0;

/// The `viral` factor: the post's engagement grew fast after it was first seen; `detail`
/// says how ("likes 12 → 340 in 50 min").
pub fn viral_factor(detail: String) -> Factor {
    Factor {
        name: "viral".into(),
        points: VIRAL_POINTS,
        detail,
    }
}

/// The names of the zero-point factors that escalate a mention (`tasks::is_escalated`).
pub const ESCALATION_FACTORS: [&str; 2] = ["vip", "high_reach"];

/// Whether the author is someone the brand must not keep waiting.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Escalation {
    /// The author is on the brand's `vip_handles`.
    pub vip: bool,
    /// The brand's `high_reach_followers` (0: no high-reach rule).
    pub high_reach_followers: u64,
}

/// What criticality is computed from.
pub struct CriticalityInput<'a> {
    pub post: &'a Post,
    pub sentiment: &'a SentimentOutcome,
    /// The brand's own handles, lowercased with `@`.
    pub brand_handles: &'a [String],
    pub history: AuthorHistory,
    pub escalation: Escalation,
}

/// The weights of one kind of model.
struct Weights {
    negative: f32,
    cues: f32,
    reach: f32,
}

const COMPLAINT_MODEL: Weights = Weights {
    negative: 12.0,
    cues: 5.0,
    reach: 12.0,
};
const SENTIMENT_MODEL: Weights = Weights {
    negative: 55.0,
    cues: MAX_CUE_POINTS,
    reach: 8.0,
};
const COMPLAINT_POINTS: f32 = 60.0;
const SEVERITY_POINTS: f32 = 12.0;

/// Computes the score and its factors.
pub fn assess(input: &CriticalityInput<'_>) -> Criticality {
    let (scores, complaint) = match input.sentiment {
        SentimentOutcome::Scored { scores, complaint, .. } => (*scores, *complaint),
        SentimentOutcome::Unscored { reason, .. } => {
            return Criticality::from_factors(vec![Factor {
                name: "unscored".into(),
                points: 0.0,
                detail: format!("not scored: {reason}"),
            }]);
        }
    };
    let weights = if complaint.is_some() {
        &COMPLAINT_MODEL
    } else {
        &SENTIMENT_MODEL
    };
    let mut factors = complaint.map(complaint_factors).unwrap_or_default();
    factors.push(Factor {
        name: "negative_sentiment".into(),
        points: weights.negative * scores.negative,
        detail: format!(
            "p(negative) = {:.2}, p(neutral) = {:.2}, p(positive) = {:.2}",
            scores.negative, scores.neutral, scores.positive
        ),
    });
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
        let points = cue_points.min(MAX_CUE_POINTS) / MAX_CUE_POINTS * weights.cues * not_positive;
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
        let points = ((followers as f32 + 1.0).log10() / 6.0 * weights.reach).min(weights.reach);
        factors.push(Factor {
            name: "reach".into(),
            points,
            detail: format!("{} followers", compact_count(followers)),
        });
        let rule = input.escalation.high_reach_followers;
        if rule > 0 && followers >= rule {
            factors.push(Factor {
                name: "high_reach".into(),
                points: 0.0,
                detail: format!(
                    "{} followers, at least the brand's {}: escalated",
                    compact_count(followers),
                    compact_count(rule)
                ),
            });
        }
    }
    if input.escalation.vip {
        factors.push(Factor {
            name: "vip".into(),
            points: 0.0,
            detail: format!("{} is on the brand's VIP list: escalated", input.post.author_handle),
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

/// `complaint` and `severity`, from the complaint heads.
fn complaint_factors(complaint: ComplaintScores) -> Vec<Factor> {
    let level = complaint.severity_if_complaint();
    vec![
        Factor {
            name: "complaint".into(),
            points: COMPLAINT_POINTS * complaint.probability,
            detail: format!("p(complaint) = {:.2}", complaint.probability),
        },
        Factor {
            name: "severity".into(),
            points: SEVERITY_POINTS * complaint.probability * complaint.severity_weight(),
            detail: format!(
                "most likely {} (p = {:.2}) if it is a complaint",
                level.as_str(),
                complaint.severity[level.index()]
            ),
        },
    ]
}

/// 950, 2.4k, 480k, 1.2M: follower counts as people write them.
pub fn compact_count(n: u64) -> String {
    match n {
        0..=999 => n.to_string(),
        1_000..=999_999 => trim_decimal(n as f64 / 1e3, "k"),
        _ => trim_decimal(n as f64 / 1e6, "M"),
    }
}

fn trim_decimal(value: f64, unit: &str) -> String {
    if value >= 100.0 {
        format!("{value:.0}{unit}")
    } else {
        let text = format!("{value:.1}");
        format!("{}{unit}", text.strip_suffix(".0").unwrap_or(&text))
    }
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
            complaint: None,
        }
    }

    fn complaint_scored(p_complaint: f32, severity: [f32; 5], negative: f32) -> SentimentOutcome {
        let rest = (1.0 - negative) / 2.0;
        SentimentOutcome::Scored {
            scores: SentimentScores::from_weights(negative, rest, rest).unwrap(),
            model: "complaint".into(),
            language: None,
            complaint: Some(ComplaintScores::new(p_complaint, severity).unwrap()),
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
            escalation: Escalation::default(),
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
    fn a_complaint_model_leads_with_p_complaint_and_severity() {
        let polite = score(
            "@acmeair 2 hours of hold music, lovely",
            &complaint_scored(0.9, [0.05, 0.7, 0.2, 0.03, 0.02], 0.3),
            None,
            AuthorHistory::default(),
        );
        let sad = score(
            "so sad the tour is over",
            &complaint_scored(0.05, [0.95, 0.02, 0.01, 0.01, 0.01], 0.95),
            None,
            AuthorHistory::default(),
        );
        let blame = score(
            "@acmeair you lost my bag and lied about it",
            &complaint_scored(0.97, [0.01, 0.02, 0.07, 0.1, 0.8], 0.9),
            None,
            AuthorHistory::default(),
        );

        assert!(
            polite.score() > sad.score() + 30.0,
            "polite {} vs sad {}",
            polite.score(),
            sad.score()
        );
        assert!(
            blame.score() > polite.score() + 10.0,
            "blame {} vs polite {}",
            blame.score(),
            polite.score()
        );
        let names: Vec<&str> = blame.factors().iter().map(|f| f.name.as_str()).collect();
        assert_eq!(&names[..3], ["complaint", "severity", "negative_sentiment"]);
        let severity = &blame.factors()[1];
        assert!(severity.detail.contains("blame"), "{}", severity.detail);
        assert!((blame.factors()[0].points - 60.0 * 0.97).abs() < 1e-3);
    }

    #[test]
    fn reach_matters_and_high_reach_or_vip_is_recorded() {
        let sentiment = complaint_scored(0.8, [0.2, 0.5, 0.2, 0.05, 0.05], 0.6);
        let post_small = post("my card was declined twice", Some(2_400), 0);
        let post_big = post("my card was declined twice", Some(480_000), 0);
        let handles = vec!["@acmeair".to_owned()];
        let escalation = Escalation {
            vip: false,
            high_reach_followers: 50_000,
        };
        let assess_with = |post: &Post, escalation: Escalation| {
            assess(&CriticalityInput {
                post,
                sentiment: &sentiment,
                brand_handles: &handles,
                history: AuthorHistory::default(),
                escalation,
            })
        };
        let small = assess_with(&post_small, escalation);
        let big = assess_with(&post_big, escalation);

        let reach = |c: &Criticality| c.factors().iter().find(|f| f.name == "reach").unwrap().points;
        assert!(
            reach(&big) > 11.0 && reach(&small) < 7.0,
            "{} {}",
            reach(&big),
            reach(&small)
        );
        let high = big
            .factors()
            .iter()
            .find(|f| f.name == "high_reach")
            .expect("escalated");
        assert_eq!(high.points, 0.0);
        assert!(
            high.detail.contains("480k") && high.detail.contains("50k"),
            "{}",
            high.detail
        );
        assert!(
            !small
                .factors()
                .iter()
                .any(|f| ESCALATION_FACTORS.contains(&f.name.as_str()))
        );

        let vip = assess_with(
            &post_small,
            Escalation {
                vip: true,
                high_reach_followers: 0,
            },
        );
        assert!(vip.factors().iter().any(|f| f.name == "vip"));
    }

    #[test]
    fn follower_counts_read_as_people_write_them() {
        assert_eq!(compact_count(950), "950");
        assert_eq!(compact_count(2_400), "2.4k");
        assert_eq!(compact_count(50_000), "50k");
        assert_eq!(compact_count(480_000), "480k");
        assert_eq!(compact_count(1_240_000), "1.2M");
    }

    #[test]
    fn phrases_match_whole_words_only() {
        let words = words_of("The errorless suedehead is down-to-earth");
        assert!(!contains_phrase(&words, "error"));
        assert!(!contains_phrase(&words, "sue"));
    }
}
