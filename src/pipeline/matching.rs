//! Which posts are mentions of a brand: keywords and handles, minus exclusions and the
//! brand's own posts.

use crate::config::BrandSettings;
use crate::domain::Post;

/// Why a post was not taken as a mention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Mention,
    /// Written by one of the brand's own accounts.
    OwnPost,
    /// Matched an exclusion phrase.
    Excluded,
    /// No keyword or handle of the brand in it.
    Unrelated,
}

/// A brand's keywords, handles and exclusions, prepared for matching.
#[derive(Debug, Clone)]
pub struct BrandMatcher {
    keywords: Vec<Vec<String>>,
    handles: Vec<String>,
    exclude: Vec<Vec<String>>,
}

impl BrandMatcher {
    pub fn new(brand: &BrandSettings) -> BrandMatcher {
        let phrases =
            |list: &[String]| -> Vec<Vec<String>> { list.iter().map(|p| words(p)).filter(|w| !w.is_empty()).collect() };
        BrandMatcher {
            keywords: phrases(&brand.keywords),
            handles: brand
                .handles
                .iter()
                .map(|h| normalise_handle(h))
                .filter(|h| h.len() > 1)
                .collect(),
            exclude: phrases(&brand.exclude),
        }
    }

    /// The brand's handles, lowercased with a leading `@`.
    pub fn handles(&self) -> &[String] {
        &self.handles
    }

    /// Like `verdict`; without `match_keywords`, a post without a keyword or handle is a
    /// mention too (the source's content is about the brand already).
    pub fn verdict_for(&self, post: &Post, match_keywords: bool) -> Verdict {
        match self.verdict(post) {
            Verdict::Unrelated if !match_keywords => Verdict::Mention,
            verdict => verdict,
        }
    }

    pub fn verdict(&self, post: &Post) -> Verdict {
        if self.handles.contains(&normalise_handle(&post.author_handle)) {
            return Verdict::OwnPost;
        }
        let text_words = words(&post.text);
        if self.exclude.iter().any(|phrase| contains(&text_words, phrase)) {
            return Verdict::Excluded;
        }
        let lower = post.text.to_lowercase();
        let by_handle = self.handles.iter().any(|handle| mentions_handle(&lower, handle));
        if by_handle || self.keywords.iter().any(|phrase| contains(&text_words, phrase)) {
            Verdict::Mention
        } else {
            Verdict::Unrelated
        }
    }
}

fn normalise_handle(handle: &str) -> String {
    let trimmed = handle.trim().trim_start_matches('@').to_lowercase();
    format!("@{trimmed}")
}

/// Lowercased words; `#` is dropped so `#AcmeAir` matches the keyword `acmeair`.
fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '&'))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn contains(words: &[String], phrase: &[String]) -> bool {
    words.windows(phrase.len()).any(|window| window == phrase)
}

/// `@acme` in the text, not followed by more handle characters (so not `@acmebank`).
fn mentions_handle(lower_text: &str, handle: &str) -> bool {
    lower_text.match_indices(handle).any(|(idx, _)| {
        let after = lower_text[idx + handle.len()..].chars().next();
        !after.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.')
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{BrandId, Platform, PostDraft};

    fn matcher() -> BrandMatcher {
        BrandMatcher::new(&BrandSettings {
            id: BrandId::parse("northwind").unwrap(),
            name: "Northwind Air".into(),
            keywords: vec!["Northwind Air".into(), "northwindair".into()],
            handles: vec!["@NorthwindAir".into()],
            exclude: vec!["northwind traders".into()],
            threshold: 55.0,
            business_hours: None,
        })
    }

    fn post(author: &str, text: &str) -> Post {
        let draft = PostDraft {
            external_id: "1".into(),
            text: text.into(),
            author_handle: author.into(),
            ..PostDraft::default()
        };
        Post::new(Platform::X, draft).unwrap()
    }

    #[test]
    fn verdicts() {
        let m = matcher();
        let cases = [
            ("@jo", "Flying Northwind Air today", Verdict::Mention),
            ("@jo", "#NorthwindAir lost my bag", Verdict::Mention),
            ("@jo", "hey @northwindair where is my bag", Verdict::Mention),
            ("@jo", "hey @northwindairfan nice pic", Verdict::Unrelated),
            (
                "@northwindair",
                "We're sorry to hear that, Northwind Air here",
                Verdict::OwnPost,
            ),
            ("@jo", "Northwind Traders stock is up", Verdict::Excluded),
            ("@jo", "Northwind is a database sample", Verdict::Unrelated),
        ];
        for (author, text, expected) in cases {
            assert_eq!(m.verdict(&post(author, text)), expected, "{author}: {text}");
        }
    }
}
