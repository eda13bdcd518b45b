//! Reply text counted the way each platform counts it, so the queue can say "312 / 300" before
//! anything is sent and a too-long reply is refused here rather than by the platform.
//!
//! - X (twitter-text configuration v3): text NFC-normalised; each URL counts 23; each emoji
//!   (a grapheme with an emoji code point: skin tones and ZWJ families are one) counts 2;
//!   code points in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F and U+2032–U+2037 count 1,
//!   everything else (CJK, kana, Hangul, most symbols) 2; the limit is 280. URLs are found as
//!   `http(s)://…` and `www.…` only (twitter-text also finds bare domains such as `acme.com`;
//!   those are counted by their characters here, which over-counts them, never under-counts).
//! - Mastodon: grapheme clusters, each URL counting 23 and `@user@server` counting as
//!   `@user`; the limit is the instance's `max_characters` (default 500).
//! - Bluesky: 300 grapheme clusters and 3,000 UTF-8 bytes, URLs counted in full.
//! - Reddit: 10,000 characters. YouTube: 10,000 characters (the documented error is
//!   `commentTextTooLong`; the number is the commonly cited one, not in the API reference).
//!
//! Invariant: pure functions, no IO.

use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// A text measured against a platform's limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TextCheck {
    /// As the platform counts.
    pub count: usize,
    pub limit: usize,
    /// What is counted: `characters` (X's weighted characters, Reddit, YouTube) or
    /// `graphemes` (Bluesky, Mastodon).
    pub unit: &'static str,
    /// Bluesky's second limit: UTF-8 bytes, when the platform has one.
    pub bytes: Option<(usize, usize)>,
}

impl TextCheck {
    /// Whether the text fits every limit.
    pub fn fits(&self) -> bool {
        self.count <= self.limit && self.bytes.is_none_or(|(bytes, max)| bytes <= max)
    }

    /// Why it does not fit, in words an agent can act on.
    pub fn problem(&self) -> Option<String> {
        if self.count > self.limit {
            return Some(format!(
                "the reply is {} {} long; the limit is {} (remove {})",
                self.count,
                self.unit,
                self.limit,
                self.count - self.limit
            ));
        }
        match self.bytes {
            Some((bytes, max)) if bytes > max => Some(format!("the reply is {bytes} bytes long; the limit is {max}")),
            _ => None,
        }
    }
}

/// What a link counts on X and Mastodon.
pub const URL_WEIGHT: usize = 23;
pub const X_LIMIT: usize = 280;
pub const BLUESKY_GRAPHEMES: usize = 300;
pub const BLUESKY_BYTES: usize = 3_000;
pub const MASTODON_DEFAULT_LIMIT: usize = 500;
pub const REDDIT_LIMIT: usize = 10_000;
pub const YOUTUBE_LIMIT: usize = 10_000;

#[allow(clippy::expect_used, reason = "a constant pattern, checked by the tests")]
static URL: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(?i)\b(?:https?://|www\.)[^\s<>]+[^\s<>.,:;!?'\x22)\]]").expect("URL pattern")
});

#[allow(clippy::expect_used, reason = "a constant pattern, checked by the tests")]
static REMOTE_MENTION: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"(^|[^\w/])(@[A-Za-z0-9_]+(?:[.-]+[A-Za-z0-9_]+)*)@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
        .expect("mention pattern")
});

/// The byte ranges of the links in `text` (for counting and Bluesky link facets).
pub fn links(text: &str) -> Vec<std::ops::Range<usize>> {
    URL.find_iter(text).map(|m| m.range()).collect()
}

/// X's weighted length (twitter-text v3).
pub fn x_weighted_length(text: &str) -> usize {
    let text: String = text.nfc().collect();
    let mut total = 0;
    let mut at = 0;
    for link in links(&text) {
        total += x_plain_weight(&text[at..link.start]) + URL_WEIGHT;
        at = link.end;
    }
    total + x_plain_weight(&text[at..])
}

fn x_plain_weight(text: &str) -> usize {
    text.graphemes(true)
        .map(|grapheme| {
            if grapheme.chars().any(is_emoji) {
                2
            } else {
                grapheme.chars().map(x_char_weight).sum()
            }
        })
        .sum()
}

fn x_char_weight(c: char) -> usize {
    match u32::from(c) {
        0x0000..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
        _ => 2,
    }
}

/// Code points that make a grapheme an emoji for counting: the pictographic blocks, regional
/// indicators (flags) and the emoji presentation selector.
fn is_emoji(c: char) -> bool {
    matches!(
        u32::from(c),
        0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0x231A..=0x23FF | 0xFE0F
    )
}

/// Mastodon's count for a status: graphemes, links as 23, `@user@server` as `@user`.
pub fn mastodon_length(text: &str) -> usize {
    let local = REMOTE_MENTION.replace_all(text, "$1$2");
    let mut total = 0;
    let mut at = 0;
    for link in links(&local) {
        total += local[at..link.start].graphemes(true).count() + URL_WEIGHT;
        at = link.end;
    }
    total + local[at..].graphemes(true).count()
}

pub fn graphemes(text: &str) -> usize {
    text.graphemes(true).count()
}

pub fn x_check(text: &str) -> TextCheck {
    TextCheck {
        count: x_weighted_length(text),
        limit: X_LIMIT,
        unit: "characters",
        bytes: None,
    }
}

pub fn bluesky_check(text: &str) -> TextCheck {
    TextCheck {
        count: graphemes(text),
        limit: BLUESKY_GRAPHEMES,
        unit: "graphemes",
        bytes: Some((text.len(), BLUESKY_BYTES)),
    }
}

pub fn mastodon_check(text: &str, limit: usize) -> TextCheck {
    TextCheck {
        count: mastodon_length(text),
        limit,
        unit: "graphemes",
        bytes: None,
    }
}

pub fn chars_check(text: &str, limit: usize) -> TextCheck {
    TextCheck {
        count: text.chars().count(),
        limit,
        unit: "characters",
        bytes: None,
    }
}

/// A text against the platform's own limit, for a reply written here and posted by hand
/// (the brand has no reply account there): X 280, Bluesky 300, Mastodon's default 500,
/// Reddit and YouTube 10,000. `None` where no limit is known (Hacker News, feeds, imports).
pub fn platform_check(platform: crate::domain::Platform, text: &str) -> Option<TextCheck> {
    use crate::domain::Platform;
    match platform {
        Platform::X => Some(x_check(text)),
        Platform::Bluesky => Some(bluesky_check(text)),
        Platform::Mastodon => Some(mastodon_check(text, MASTODON_DEFAULT_LIMIT)),
        Platform::Reddit => Some(chars_check(text, REDDIT_LIMIT)),
        Platform::YouTube => Some(chars_check(text, YOUTUBE_LIMIT)),
        Platform::HackerNews | Platform::Rss | Platform::Other => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_an_account_a_reply_is_counted_against_the_platform_s_own_limit() {
        use crate::domain::Platform;
        let x = platform_check(Platform::X, &"a".repeat(281)).unwrap();
        assert_eq!((x.count, x.limit, x.fits()), (281, 280, false));
        let mastodon = platform_check(Platform::Mastodon, "hi @jo@example.social").unwrap();
        assert_eq!((mastodon.count, mastodon.limit), (6, 500));
        assert_eq!(platform_check(Platform::Bluesky, "hi").unwrap().limit, 300);
        assert!(platform_check(Platform::HackerNews, "hi").is_none());
    }

    #[test]
    fn x_counts_latin_as_one_cjk_as_two_links_as_23_and_emoji_sequences_as_two() {
        assert_eq!(x_weighted_length("Sorry about that"), 16);
        assert_eq!(x_weighted_length("ごめんなさい"), 12, "kana count 2");
        assert_eq!(
            x_weighted_length("see https://status.acme.example/incidents/2026-11-20/very/long/path"),
            4 + 23
        );
        assert_eq!(
            x_weighted_length("www.acme.example/help."),
            23 + 1,
            "the final dot is not part of it"
        );
        assert_eq!(x_weighted_length("👍"), 2);
        assert_eq!(x_weighted_length("👍🏽"), 2, "a skin tone is part of the emoji");
        assert_eq!(x_weighted_length("👨‍👩‍👧‍👦"), 2, "a ZWJ family is one emoji");
        assert_eq!(x_weighted_length("“quoted” – ok"), 13, "general punctuation counts 1");
        // NFC: e + combining acute is one code point after normalisation.
        assert_eq!(x_weighted_length("cafe\u{301}"), 4);
        let long = "a".repeat(280);
        assert!(x_check(&long).fits());
        assert!(!x_check(&format!("{long}!")).fits());
        assert_eq!(
            x_check(&format!("{long}!")).problem().unwrap(),
            "the reply is 281 characters long; the limit is 280 (remove 1)"
        );
    }

    #[test]
    fn mastodon_counts_links_as_23_and_remote_mentions_by_their_local_part() {
        assert_eq!(mastodon_length("@ann@example.social thanks"), "@ann thanks".len());
        assert_eq!(
            mastodon_length("fixed: https://acme.example/a/very/long/status/page/that/goes/on"),
            7 + 23
        );
        assert_eq!(mastodon_length("👨‍👩‍👧‍👦 ok"), 4, "graphemes, not code points");
        assert_eq!(
            mastodon_length("mail ann@example.com"),
            20,
            "an e-mail address is not a mention"
        );
    }

    #[test]
    fn bluesky_has_a_grapheme_and_a_byte_limit() {
        let text = "é".repeat(300);
        let check = bluesky_check(&text);
        assert_eq!((check.count, check.bytes), (300, Some((600, 3000))));
        assert!(check.fits());
        assert!(!bluesky_check(&"a".repeat(301)).fits());
        let heavy = "👨‍👩‍👧‍👦".repeat(200);
        let check = bluesky_check(&heavy);
        assert_eq!(check.count, 200);
        assert!(!check.fits(), "200 graphemes but {} bytes", heavy.len());
        assert!(check.problem().unwrap().contains("bytes"));
    }

    #[test]
    fn links_are_found_with_their_byte_ranges() {
        let text = "Hi @ann.bsky.social, see https://acme.example/fix (today).";
        let found = links(text);
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].clone()], "https://acme.example/fix");
    }
}
