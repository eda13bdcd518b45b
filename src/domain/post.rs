//! A brand mention as earshot stores it, and what one poll of a source returns.

use std::fmt;
use std::str::FromStr;

use super::time::Millis;

/// Where a post was published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Platform {
    X,
    Bluesky,
    Mastodon,
    Reddit,
    HackerNews,
    YouTube,
    Rss,
    /// Reviews, forums, e-mail or anything else that arrives through an import.
    Other,
}

impl Platform {
    pub const ALL: [Platform; 8] = [
        Platform::X,
        Platform::Bluesky,
        Platform::Mastodon,
        Platform::Reddit,
        Platform::HackerNews,
        Platform::YouTube,
        Platform::Rss,
        Platform::Other,
    ];

    /// The stable lowercase name used in config, the store and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::X => "x",
            Platform::Bluesky => "bluesky",
            Platform::Mastodon => "mastodon",
            Platform::Reddit => "reddit",
            Platform::HackerNews => "hackernews",
            Platform::YouTube => "youtube",
            Platform::Rss => "rss",
            Platform::Other => "other",
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Platform {
    type Err = PostError;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let lower = value.trim().to_ascii_lowercase();
        let platform = match lower.as_str() {
            "x" | "twitter" => Platform::X,
            "bluesky" | "bsky" => Platform::Bluesky,
            "mastodon" => Platform::Mastodon,
            "reddit" => Platform::Reddit,
            "hackernews" | "hacker_news" | "hn" => Platform::HackerNews,
            "youtube" => Platform::YouTube,
            "rss" | "atom" => Platform::Rss,
            "other" => Platform::Other,
            _ => return Err(PostError::UnknownPlatform(value.to_owned())),
        };
        Ok(platform)
    }
}

/// Why a post could not be accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostError {
    #[error("unknown platform {0:?}")]
    UnknownPlatform(String),
    #[error("external id is empty")]
    EmptyId,
    #[error("external id is longer than {max} bytes")]
    IdTooLong { max: usize },
    #[error("post text is empty")]
    EmptyText,
    #[error("author is empty")]
    EmptyAuthor,
}

/// Likes, reposts, replies and quotes, as the platform reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Engagement {
    pub likes: u64,
    pub reposts: u64,
    pub replies: u64,
    pub quotes: u64,
}

impl Engagement {
    pub fn total(&self) -> u64 {
        self.likes
            .saturating_add(self.reposts)
            .saturating_add(self.replies)
            .saturating_add(self.quotes)
    }
}

/// What a source maps a platform item into, before validation.
#[derive(Debug, Clone, Default)]
pub struct PostDraft {
    pub external_id: String,
    pub text: String,
    pub author_handle: String,
    pub author_name: Option<String>,
    pub author_followers: Option<u64>,
    pub created_at: Millis,
    pub url: Option<String>,
    pub lang: Option<String>,
    pub engagement: Engagement,
    /// Thread or conversation the post belongs to (X conversation id, Reddit link, HN story).
    pub conversation_id: Option<String>,
    /// The post this one replies to, if any.
    pub in_reply_to: Option<String>,
    /// The post this one quotes (or crossposts), if any: its platform id.
    pub quote_of: Option<String>,
    /// The quoted post's text, when the platform sends it along.
    pub quoted_text: Option<String>,
}

/// The author handle of a post whose author the platform no longer says (a deleted Reddit
/// account). Such posts are never joined by author: not into one task, not into an author's
/// history, not as a resolved task's follow-up.
pub const UNKNOWN_AUTHOR: &str = "[deleted]";

/// A validated post. Text and names are cleaned of NUL and control characters (PostgreSQL
/// rejects NUL, terminals and spreadsheets misbehave on the others) and bounded in length.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Post {
    pub platform: Platform,
    pub external_id: String,
    pub text: String,
    pub author_handle: String,
    pub author_name: Option<String>,
    pub author_followers: Option<u64>,
    pub created_at: Millis,
    pub url: Option<String>,
    pub lang: Option<String>,
    pub engagement: Engagement,
    pub conversation_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub quote_of: Option<String>,
    /// Cut to `MAX_QUOTED_CHARS`.
    pub quoted_text: Option<String>,
}

/// Longest quoted text kept with a post, in characters.
pub(crate) const MAX_QUOTED_CHARS: usize = 2_000;

/// Longest text kept for a post, in characters; longer text is cut and marked.
pub(crate) const MAX_TEXT_CHARS: usize = 10_000;
const MAX_ID_BYTES: usize = 512;
const MAX_NAME_CHARS: usize = 200;

impl Post {
    /// Whether the platform says who wrote it (see `UNKNOWN_AUTHOR`).
    pub fn author_is_known(&self) -> bool {
        self.author_handle != UNKNOWN_AUTHOR
    }

    /// Validates and cleans a draft from `platform`.
    pub fn new(platform: Platform, draft: PostDraft) -> Result<Post, PostError> {
        let external_id = draft.external_id.trim().to_owned();
        if external_id.is_empty() {
            return Err(PostError::EmptyId);
        }
        if external_id.len() > MAX_ID_BYTES {
            return Err(PostError::IdTooLong { max: MAX_ID_BYTES });
        }
        let text = clean_text(&draft.text, MAX_TEXT_CHARS);
        if text.trim().is_empty() {
            return Err(PostError::EmptyText);
        }
        let author_handle = clean_line(&draft.author_handle, MAX_NAME_CHARS);
        if author_handle.is_empty() {
            return Err(PostError::EmptyAuthor);
        }
        let optional_line = |value: Option<String>, max| value.map(|v| clean_line(&v, max)).filter(|v| !v.is_empty());
        Ok(Post {
            platform,
            external_id,
            text,
            author_handle,
            author_name: optional_line(draft.author_name, MAX_NAME_CHARS),
            author_followers: draft.author_followers,
            created_at: draft.created_at,
            // Only web links are kept: a `javascript:` or `data:` URL never reaches a page.
            url: optional_line(draft.url, 2048).filter(|u| is_web_url(u)),
            lang: optional_line(draft.lang, 16).map(|l| l.to_ascii_lowercase()),
            engagement: draft.engagement,
            conversation_id: optional_line(draft.conversation_id, MAX_ID_BYTES),
            in_reply_to: optional_line(draft.in_reply_to, MAX_ID_BYTES),
            quote_of: optional_line(draft.quote_of, MAX_ID_BYTES),
            quoted_text: draft
                .quoted_text
                .map(|text| clean_text(&text, MAX_QUOTED_CHARS))
                .filter(|text| !text.trim().is_empty()),
        })
    }
}

fn is_web_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")) && !url.contains(char::is_whitespace)
}

/// Removes NUL and control characters other than newline and tab, and cuts to `max` chars.
fn clean_text(value: &str, max: usize) -> String {
    let mut out: String = value
        .chars()
        .filter(|c| *c == '\n' || *c == '\t' || !c.is_control())
        .take(max)
        .collect();
    if value.chars().count() > max {
        out.push_str(" […]");
    }
    out
}

/// Like `clean_text`, but on one line.
fn clean_line(value: &str, max: usize) -> String {
    value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(max)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// A source's position: opaque text only the source that wrote it understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

/// Something a source received but could not turn into a post, kept with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quarantined {
    /// Where it came from: a line number, a page, an item id.
    pub location: String,
    pub reason: String,
    /// The raw bytes as text (lossily decoded), cut to a bounded size.
    pub raw: String,
}

/// Longest raw payload kept in quarantine, in bytes.
pub(crate) const MAX_QUARANTINE_RAW_BYTES: usize = 64 * 1024;

impl Quarantined {
    pub fn new(location: impl Into<String>, reason: impl Into<String>, raw: &[u8]) -> Self {
        let cut = raw.len().min(MAX_QUARANTINE_RAW_BYTES);
        let raw = String::from_utf8_lossy(&raw[..cut]).replace('\0', "\u{FFFD}");
        Quarantined {
            location: location.into(),
            reason: reason.into(),
            raw,
        }
    }
}

/// What one poll returns. The cursor covers exactly these posts and quarantined items: the
/// pipeline stores it in the same transaction, so it never runs ahead of what was committed.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub posts: Vec<Post>,
    pub quarantined: Vec<Quarantined>,
    /// The position after this batch; `None` keeps the current one.
    pub cursor: Option<Cursor>,
    /// True when the source has more to give right away (another page); the pipeline polls
    /// again after committing this batch.
    pub has_more: bool,
}

impl Batch {
    /// Whether the page carried any item, a post or a quarantined one. Paging stops at an
    /// empty page, never at a page whose every item was malformed: the pages behind it
    /// still hold posts.
    pub fn has_items(&self) -> bool {
        !self.posts.is_empty() || !self.quarantined.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft(text: &str) -> PostDraft {
        PostDraft {
            external_id: "1".into(),
            text: text.into(),
            author_handle: "@someone".into(),
            ..PostDraft::default()
        }
    }

    #[test]
    fn control_characters_and_nul_are_removed_but_newlines_kept() {
        let post = Post::new(Platform::X, draft("bad\0 day\u{7}\nreally")).unwrap();

        assert_eq!(post.text, "bad day\nreally");
    }

    #[test]
    fn overlong_text_is_cut_and_marked() {
        let post = Post::new(Platform::X, draft(&"a".repeat(MAX_TEXT_CHARS + 5))).unwrap();

        assert!(post.text.ends_with(" […]"));
        assert_eq!(post.text.chars().count(), MAX_TEXT_CHARS + 4);
    }

    #[test]
    fn only_http_links_are_kept() {
        let with_url = |url: &str| {
            let mut d = draft("hi");
            d.url = Some(url.into());
            Post::new(Platform::X, d).unwrap().url
        };
        assert_eq!(
            with_url("https://x.com/a/status/1").as_deref(),
            Some("https://x.com/a/status/1")
        );
        assert_eq!(with_url("javascript:alert(1)"), None);
        assert_eq!(with_url("data:text/html,<script>"), None);
    }

    #[test]
    fn empty_text_id_or_author_is_rejected() {
        assert_eq!(Post::new(Platform::X, draft("  \n")), Err(PostError::EmptyText));
        let mut no_id = draft("hi");
        no_id.external_id = " ".into();
        assert_eq!(Post::new(Platform::X, no_id), Err(PostError::EmptyId));
        let mut no_author = draft("hi");
        no_author.author_handle = "\u{1}".into();
        assert_eq!(Post::new(Platform::X, no_author), Err(PostError::EmptyAuthor));
    }

    #[test]
    fn platform_names_round_trip_and_aliases_parse() {
        for platform in Platform::ALL {
            assert_eq!(platform.as_str().parse::<Platform>(), Ok(platform));
        }
        assert_eq!("Twitter".parse::<Platform>(), Ok(Platform::X));
        assert!("myspace".parse::<Platform>().is_err());
    }
}
