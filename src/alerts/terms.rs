//! The terms that set a spike apart: words used by many more of the spike's negative posts
//! than of the baseline's, so the alert points at the likely cause ("refund", "baggage").
//! Pure.
//!
//! Each post counts a word once (document frequency). Stop words (the post's language and
//! English, from the `stop-words` crate), the brand's own names, links, numbers and words of
//! fewer than three letters are left out. A term's weight is its spike count times the log of
//! how much more often it appears in spike posts than in baseline posts (add-one smoothed,
//! so a term the baseline never used still gets a finite weight).

use std::collections::{BTreeMap, HashSet};

/// A post's text and its language code (`en`, `de`, …) if known.
#[derive(Debug, Clone, PartialEq)]
pub struct TermInput<'a> {
    pub text: &'a str,
    pub lang: Option<&'a str>,
}

/// One over-represented term.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SpikeTerm {
    pub term: String,
    /// Spike posts that use it.
    pub spike_posts: u32,
    /// Share of baseline posts that use it, in percent.
    pub baseline_percent: f64,
}

/// The `limit` terms most over-represented in `spike` compared with `baseline`, heaviest
/// first; `ignore` holds words never to name (the brand's names and handles).
pub fn top_terms(
    spike: &[TermInput<'_>],
    baseline: &[TermInput<'_>],
    ignore: &HashSet<String>,
    limit: usize,
) -> Vec<SpikeTerm> {
    let spike_df = document_frequency(spike, ignore);
    let baseline_df = document_frequency(baseline, ignore);
    let n_spike = spike.len().max(1) as f64;
    let n_baseline = baseline.len() as f64;
    // A term named by a single post is an anecdote, not a cause.
    let min_posts = if spike.len() >= 4 { 2 } else { 1 };
    let mut scored: Vec<(f64, SpikeTerm)> = spike_df
        .into_iter()
        .filter(|(_, count)| *count >= min_posts)
        .filter_map(|(term, count)| {
            let in_baseline = baseline_df.get(&term).copied().unwrap_or(0);
            let spike_rate = f64::from(count) / n_spike;
            let baseline_rate = (f64::from(in_baseline) + 1.0) / (n_baseline + 2.0);
            let lift = spike_rate / baseline_rate;
            (lift > 1.0).then(|| {
                let weight = f64::from(count) * lift.ln();
                let baseline_percent = if n_baseline > 0.0 {
                    (f64::from(in_baseline) / n_baseline * 1000.0).round() / 10.0
                } else {
                    0.0
                };
                (
                    weight,
                    SpikeTerm {
                        term,
                        spike_posts: count,
                        baseline_percent,
                    },
                )
            })
        })
        .collect();
    scored.sort_by(|(a_weight, a), (b_weight, b)| b_weight.total_cmp(a_weight).then_with(|| a.term.cmp(&b.term)));
    scored.into_iter().take(limit).map(|(_, term)| term).collect()
}

/// In how many posts each term appears (sorted by term, so ties break the same way).
pub(crate) fn document_frequency(posts: &[TermInput<'_>], ignore: &HashSet<String>) -> BTreeMap<String, u32> {
    let english = stop_words::lookup("en").unwrap_or(&[]);
    let mut df: BTreeMap<String, u32> = BTreeMap::new();
    for post in posts {
        let own = post
            .lang
            .and_then(|lang| stop_words::lookup(lang.to_ascii_lowercase()))
            .unwrap_or(&[]);
        let terms: HashSet<String> = words(post.text)
            .filter(|word| !english.contains(&word.as_str()) && !own.contains(&word.as_str()))
            .filter(|word| !ignore.contains(word))
            .collect();
        for term in terms {
            *df.entry(term).or_insert(0) += 1;
        }
    }
    df
}

/// Lower-cased words of at least three letters, without links, mentions' `@`, or numbers.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split_whitespace()
        .filter(|token| !token.contains("://") && !token.starts_with("www."))
        .flat_map(|token| token.split(|c: char| !(c.is_alphanumeric() || c == '\'')))
        .map(|word| word.trim_matches('\'').to_lowercase())
        .filter(|word| word.chars().count() >= 3 && word.chars().any(char::is_alphabetic))
}

/// Words that name the brand itself (config keywords and handles), which every post uses.
pub fn brand_words<'a>(names: impl IntoIterator<Item = &'a str>) -> HashSet<String> {
    names
        .into_iter()
        .flat_map(|name| words(name).collect::<Vec<_>>())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn posts(texts: &[&'static str]) -> Vec<TermInput<'static>> {
        texts.iter().map(|text| TermInput { text, lang: None }).collect()
    }

    #[test]
    fn names_the_words_the_spike_adds_and_not_the_usual_ones() {
        let spike = posts(&[
            "@AcmeAir my baggage is lost again, the worst",
            "Acme Air lost baggage, I am furious",
            "where is my baggage acme air?? https://x.com/a/b",
            "acme air baggage claim is a disaster, the worst",
            "acme air delayed and the baggage never came",
        ]);
        let baseline = posts(&[
            "acme air the worst delay",
            "acme air delayed again",
            "acme air worst service",
            "acme air customer service is the worst",
        ]);
        let ignore = brand_words(["acme air", "@AcmeAir"]);

        let terms = top_terms(&spike, &baseline, &ignore, 3);

        let names: Vec<&str> = terms.iter().map(|t| t.term.as_str()).collect();
        assert_eq!(names[0], "baggage", "{terms:?}");
        assert_eq!(terms[0].spike_posts, 5);
        assert_eq!(terms[0].baseline_percent, 0.0);
        assert!(names.contains(&"lost"), "{terms:?}");
        assert!(!names.contains(&"worst"), "usual in the baseline: {terms:?}");
        for unwanted in ["the", "acme", "air", "acmeair", "https", "is", "my"] {
            assert!(!names.contains(&unwanted), "{unwanted}: {terms:?}");
        }
    }

    #[test]
    fn stop_words_follow_the_posts_language() {
        let spike = posts(&[]);
        let german = [
            TermInput {
                text: "die Erstattung fehlt und die Hotline",
                lang: Some("de"),
            },
            TermInput {
                text: "die Erstattung und nichts",
                lang: Some("de"),
            },
        ];
        let terms = top_terms(&german, &spike, &HashSet::new(), 5);
        let names: Vec<&str> = terms.iter().map(|t| t.term.as_str()).collect();
        assert!(names.contains(&"erstattung"), "{terms:?}");
        assert!(!names.contains(&"die") && !names.contains(&"und"), "{terms:?}");
    }

    #[test]
    fn no_spike_posts_give_no_terms() {
        assert!(top_terms(&[], &posts(&["a baseline post"]), &HashSet::new(), 5).is_empty());
    }
}
