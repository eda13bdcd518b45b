//! Which posts are mentions of a brand: keywords and handles, minus exclusions and the
//! brand's own posts.

use crate::config::BrandSettings;
use crate::domain::{Platform, Post};

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
    /// The `@name` forms, for mentions in post text.
    handles: Vec<String>,
    own_accounts: Vec<OwnAccount>,
    exclude: Vec<Vec<String>>,
}

/// One of the brand's own accounts, from a `handles` entry: `@AcmeAir` on any platform, or
/// `platform:name` on one (`reddit:u/AcmeAir`, `youtube:UC…` for a channel id,
/// `bluesky:acmeair.bsky.social`, `mastodon:acmeair@mastodon.social`).
#[derive(Debug, Clone, PartialEq)]
struct OwnAccount {
    platform: Option<Platform>,
    /// `account_name` of the entry.
    name: String,
}

impl OwnAccount {
    fn parse(entry: &str) -> OwnAccount {
        let entry = entry.trim();
        let on_platform = entry
            .split_once(':')
            .and_then(|(prefix, name)| Some((prefix.parse::<Platform>().ok()?, name)));
        match on_platform {
            Some((platform, name)) => OwnAccount {
                platform: Some(platform),
                name: account_name(name),
            },
            None => OwnAccount {
                platform: None,
                name: account_name(entry),
            },
        }
    }

    /// Whether this account is `author` (an `account_name`) on `platform`.
    fn is(&self, platform: Platform, author: &str) -> bool {
        self.platform.is_none_or(|own| own == platform) && self.name == author
    }
}

/// An account name as the connectors store authors, compared case-insensitively: without
/// the leading `@` (X, Bluesky, Mastodon) or `u/` (Reddit). A Mastodon account on another
/// server keeps its `@server`, so `@acme` on one server is not `@acme@other.social`.
fn account_name(handle: &str) -> String {
    let lower = handle.trim().to_lowercase();
    let name = lower.trim_start_matches('@');
    let name = name
        .strip_prefix("/u/")
        .or_else(|| name.strip_prefix("u/"))
        .unwrap_or(name);
    name.to_owned()
}

impl BrandMatcher {
    pub fn new(brand: &BrandSettings) -> BrandMatcher {
        let phrases =
            |list: &[String]| -> Vec<Vec<String>> { list.iter().map(|p| words(p)).filter(|w| !w.is_empty()).collect() };
        let own_accounts: Vec<OwnAccount> = brand
            .handles
            .iter()
            .map(|entry| OwnAccount::parse(entry))
            .filter(|account| !account.name.is_empty())
            .collect();
        let mut handles: Vec<String> = own_accounts
            .iter()
            .map(|account| format!("@{}", account.name))
            .collect();
        handles.sort();
        handles.dedup();
        BrandMatcher {
            keywords: phrases(&brand.keywords),
            handles,
            own_accounts,
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
        let author = account_name(&post.author_handle);
        if self
            .own_accounts
            .iter()
            .any(|account| account.is(post.platform, &author))
        {
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
    use crate::domain::{BrandId, PostDraft};

    fn matcher_settings() -> BrandSettings {
        BrandSettings {
            id: BrandId::parse("northwind").unwrap(),
            name: "Northwind Air".into(),
            keywords: vec!["Northwind Air".into(), "northwindair".into()],
            handles: vec!["@NorthwindAir".into()],
            exclude: vec!["northwind traders".into()],
            threshold: 55.0,
            business_hours: None,
        }
    }

    fn matcher() -> BrandMatcher {
        BrandMatcher::new(&matcher_settings())
    }

    fn post(author: &str, text: &str) -> Post {
        post_on(Platform::X, author, text)
    }

    fn post_on(platform: Platform, author: &str, text: &str) -> Post {
        let draft = PostDraft {
            external_id: "1".into(),
            text: text.into(),
            author_handle: author.into(),
            ..PostDraft::default()
        };
        Post::new(platform, draft).unwrap()
    }

    #[test]
    fn own_accounts_are_recognised_as_each_connector_stores_its_authors() {
        let m = BrandMatcher::new(&BrandSettings {
            handles: vec![
                "@NorthwindAir".into(),
                "reddit:u/Northwind_Care".into(),
                "youtube:UCnorthwind123".into(),
                "bluesky:northwind.bsky.social".into(),
                "mastodon:northwind@mastodon.social".into(),
            ],
            ..matcher_settings()
        });
        let text = "Sorry to hear that, Northwind Air here";
        let own = [
            (Platform::X, "@northwindair"),
            (Platform::HackerNews, "NorthwindAir"),
            (Platform::Reddit, "u/Northwind_Care"),
            (Platform::YouTube, "UCnorthwind123"),
            (Platform::Bluesky, "@northwind.bsky.social"),
            (Platform::Mastodon, "@northwind@mastodon.social"),
        ];
        for (platform, author) in own {
            assert_eq!(
                m.verdict(&post_on(platform, author, text)),
                Verdict::OwnPost,
                "{platform} {author}"
            );
        }
        let others = [
            // A platform-bound account is that platform's only.
            (Platform::X, "@northwind_care"),
            (Platform::Reddit, "u/ucnorthwind123"),
            // The same name on another Mastodon server is someone else.
            (Platform::Mastodon, "@northwind@other.social"),
        ];
        for (platform, author) in others {
            assert_eq!(
                m.verdict(&post_on(platform, author, text)),
                Verdict::Mention,
                "{platform} {author}"
            );
        }
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
