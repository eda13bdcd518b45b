//! `earshot match-bench`: how fast `pipeline::matching` tells mentions apart, for many brands
//! at once (one pass per post for all of them).
//!
//! The posts are `bench::generate_posts` (mentions of Northwind Air in every form: `@handle`,
//! hashtag, name); the brands are Northwind Air plus made-up ones, each with `keywords`
//! keywords of one to three words, two handles and two exclusions, so most posts mention one
//! brand and the automaton still holds every brand's patterns.

use std::time::Instant;

use crate::config::BrandSettings;
use crate::domain::{BrandId, Platform, Post, PostDraft};
use crate::pipeline::matching::{BrandMatcher, Verdict};
use crate::tools::bench;

/// What one run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MatchBenchReport {
    pub n_brands: usize,
    pub n_keywords_per_brand: usize,
    pub n_posts: usize,
    /// Posts with at least one brand's `Mention` verdict.
    pub n_mentions: usize,
    pub seconds: f64,
    pub posts_per_second: f64,
}

const SYLLABLES: &[&str] = &[
    "ka", "lo", "mi", "ter", "van", "dor", "sel", "qui", "bra", "nox", "ul", "pen", "zar", "ith", "mo", "gle",
];

/// `n_brands` brands (the first is Northwind Air) of `n_keywords` keywords each.
pub fn brands(n_brands: usize, n_keywords: usize) -> Vec<BrandSettings> {
    let mut state = 7u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize
    };
    let mut word = || -> String {
        (0..2 + next() % 2)
            .map(|_| SYLLABLES[next() % SYLLABLES.len()])
            .collect()
    };
    (0..n_brands)
        .map(|b| {
            let name = if b == 0 {
                "Northwind Air".to_owned()
            } else {
                format!("{} {}", word(), word())
            };
            let mut keywords = vec![name.clone()];
            while keywords.len() < n_keywords {
                let n_words = 1 + keywords.len() % 3;
                keywords.push((0..n_words).map(|_| word()).collect::<Vec<_>>().join(" "));
            }
            let glued: String = name.split(' ').collect();
            BrandSettings {
                handles: vec![
                    format!("@{glued}"),
                    format!("bluesky:{}.bsky.social", glued.to_lowercase()),
                ],
                exclude: vec![format!("{} stock", word()), format!("{} traders", word())],
                threshold: 55.0,
                ..BrandSettings::new(
                    BrandId::parse(&format!("brand{b}")).expect("a valid brand id"),
                    name,
                    keywords,
                )
            }
        })
        .collect()
}

/// Matches `n_posts` generated posts against `n_brands` × `n_keywords`, timing only the
/// matching.
pub fn run(n_brands: usize, n_keywords: usize, n_posts: usize) -> MatchBenchReport {
    let matcher = BrandMatcher::for_brands(&brands(n_brands, n_keywords));
    let posts: Vec<Post> = bench::generate_posts(n_posts, 42)
        .into_iter()
        .filter_map(|p| {
            let draft = PostDraft {
                external_id: p.id,
                text: p.text,
                author_handle: p.author,
                ..PostDraft::default()
            };
            Post::new(Platform::X, draft).ok()
        })
        .collect();
    let started = Instant::now();
    let n_mentions = posts
        .iter()
        .filter(|post| matcher.verdicts(post).contains(&Verdict::Mention))
        .count();
    let seconds = started.elapsed().as_secs_f64();
    MatchBenchReport {
        n_brands,
        n_keywords_per_brand: n_keywords,
        n_posts: posts.len(),
        n_mentions,
        seconds,
        posts_per_second: posts.len() as f64 / seconds.max(f64::EPSILON),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_generated_post_mentions_the_first_brand_and_brands_have_their_keywords() {
        let brands = brands(50, 20);
        assert_eq!(brands.len(), 50);
        assert!(brands.iter().all(|b| b.keywords.len() == 20));
        let report = run(50, 20, 500);
        assert_eq!((report.n_posts, report.n_mentions), (500, 500));
    }
}
