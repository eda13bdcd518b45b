//! Where mentions come from: one module per platform behind the `Source` trait.
//!
//! Invariant: sources never write to the store. A poll returns a `Batch` (posts, quarantined
//! items, the cursor after them); the pipeline commits it and the scheduler decides when to
//! poll again and waits out rate limits. The only waiting inside a poll is `http::send`'s
//! bounded retry of 5xx answers and timeouts.

pub mod bluesky;
pub mod csv_file;
pub mod cursor;
pub mod hackernews;
pub mod html;
pub mod http;
pub mod import;
pub mod jsonl;
pub mod mastodon;
pub mod push;
pub mod reddit;
pub mod rss;
pub mod x;
pub mod youtube;

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{Batch, Cursor, Engagement, SourceId};

/// A pollable source of brand mentions.
#[async_trait]
pub trait Source: Send + Sync {
    /// The id from config.
    fn id(&self) -> &SourceId;

    /// Fetches what is new after `cursor` (from the start when `None`). Must not write
    /// anywhere: the returned cursor is stored only once the batch is committed.
    async fn poll(&self, cursor: Option<&Cursor>) -> Result<Batch, SourceError>;

    /// How this platform re-reads the engagement of posts it found (viral escalation), with
    /// the same credentials and base URL; `None` where the platform has no lookup (feeds,
    /// imports).
    fn engagement(&self) -> Option<&dyn EngagementLookup> {
        None
    }
}

/// What a platform said about one post whose engagement was re-read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reading {
    /// The post is there, with these counts now.
    Found(Engagement),
    /// The platform says it was deleted or is no longer available (X `resource-not-found`,
    /// Reddit `[deleted]`/`[removed]`, a 404 on Mastodon or Hacker News, missing from
    /// Bluesky's getPosts): its content must be deleted here too.
    Gone,
}

/// One lookup request's answer: a reading per post the answer speaks about (posts it does not
/// mention are left as they are), and whether the rate-limit window is used up.
#[derive(Debug, Default)]
pub struct Lookup {
    pub readings: Vec<(String, Reading)>,
    /// No requests left in the platform's window: the refresh stops for this source until the
    /// next run instead of running into a 429.
    pub quota_exhausted: bool,
}

/// A platform's batch lookup of posts by their stored external ids (the `engagement` side of
/// a `Source`). Errors are `SourceError`s, mapped as for a poll: a 429 is `RateLimited` with
/// the reset time, and the caller waits it out instead of retrying.
#[async_trait]
pub trait EngagementLookup: Send + Sync {
    /// Most ids one `lookup` takes (X 100, Reddit 100, Bluesky 25, Mastodon 20, YouTube 50,
    /// Hacker News 1).
    fn batch_size(&self) -> usize;

    /// Re-reads at most `batch_size` posts in one request.
    async fn lookup(&self, ids: &[String]) -> Result<Lookup, SourceError>;
}

/// Why a poll failed. The variants say what the scheduler should do next.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("rate limited")]
    RateLimited { retry_after: Option<Duration> },
    #[error("credentials rejected (HTTP {status}): {detail}")]
    Unauthorized { status: u16, detail: String },
    #[error("request failed")]
    Transport(#[source] reqwest::Error),
    /// The platform refused the request as made (HTTP 4xx other than 401/403/429): the
    /// query or settings need changing.
    #[error("request rejected (HTTP {status}): {detail}")]
    Rejected { status: u16, detail: String },
    #[error("server error (HTTP {status})")]
    Server { status: u16 },
    /// The whole response could not be understood; the raw body goes to quarantine.
    #[error("malformed response: {reason}")]
    Malformed { reason: String, raw: Vec<u8> },
    /// The stored cursor cannot be read (see `cursor`): nothing is polled until it is
    /// looked at, rather than silently starting again from the beginning.
    #[error("stored cursor cannot be read: {reason}")]
    UnreadableCursor { reason: String },
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    /// Whether trying again later can succeed without someone changing something.
    pub fn is_retriable(&self) -> bool {
        match self {
            SourceError::RateLimited { .. } | SourceError::Transport(_) | SourceError::Server { .. } => true,
            SourceError::Io { .. } => true,
            SourceError::Unauthorized { .. }
            | SourceError::Rejected { .. }
            | SourceError::Malformed { .. }
            | SourceError::UnreadableCursor { .. } => false,
        }
    }

    /// A short machine-readable kind for health records and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceError::RateLimited { .. } => "rate_limited",
            SourceError::Unauthorized { .. } => "unauthorized",
            SourceError::Transport(_) => "transport",
            SourceError::Rejected { .. } => "rejected",
            SourceError::Server { .. } => "server",
            SourceError::Malformed { .. } => "malformed",
            SourceError::UnreadableCursor { .. } => "cursor",
            SourceError::Io { .. } => "io",
        }
    }
}

/// The platform-specific part of a source's config, tagged by `type`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceKind {
    /// Mentions exported from elsewhere, one JSON object per line.
    Jsonl(jsonl::JsonlSettings),
    /// X API v2 recent search.
    X(x::XSettings),
    /// Reddit search with app-only OAuth.
    Reddit(reddit::RedditSettings),
    /// Mastodon hashtag timelines.
    Mastodon(mastodon::MastodonSettings),
    /// Bluesky post search with an app-password session.
    Bluesky(bluesky::BlueskySettings),
    /// YouTube comment threads of a channel or a video.
    #[serde(rename = "youtube")]
    YouTube(youtube::YouTubeSettings),
    /// Hacker News through Algolia's search_by_date.
    #[serde(rename = "hackernews")]
    HackerNews(hackernews::HackerNewsSettings),
    /// An RSS 2.0, RSS 1.0 or Atom feed (Google Alerts included).
    #[serde(alias = "atom")]
    Rss(rss::RssSettings),
    /// Mentions exported from elsewhere as CSV with a header row.
    Csv(csv_file::CsvSettings),
    /// Posts pushed to `POST /api/ingest/{source_id}`; not polled.
    Push(push::PushSettings),
}

impl SourceKind {
    /// Checks serde cannot make, as `(field, message)` pairs.
    pub fn validate(&self) -> Vec<(String, String)> {
        match self {
            SourceKind::Jsonl(settings) => settings.validate(),
            SourceKind::X(settings) => settings.validate(),
            SourceKind::Reddit(settings) => settings.validate(),
            SourceKind::Mastodon(settings) => settings.validate(),
            SourceKind::HackerNews(settings) => settings.validate(),
            SourceKind::Bluesky(settings) => settings.validate(),
            SourceKind::YouTube(settings) => settings.validate(),
            SourceKind::Rss(settings) => settings.validate(),
            SourceKind::Csv(settings) => settings.validate(),
            SourceKind::Push(settings) => settings.validate(),
        }
    }

    /// Whether a post needs a brand keyword or handle to be a mention. Only the imports, the
    /// push endpoint and feeds can say no: their content may be about the brand already.
    pub fn match_keywords(&self) -> bool {
        match self {
            SourceKind::Jsonl(settings) => settings.match_keywords,
            SourceKind::Csv(settings) => settings.match_keywords,
            SourceKind::Push(settings) => settings.match_keywords,
            SourceKind::Rss(settings) => settings.match_keywords,
            _ => true,
        }
    }

    /// Whether the scheduler polls this source (all but push sources, which need no schedule).
    pub fn is_polled(&self) -> bool {
        !matches!(self, SourceKind::Push(_))
    }

    /// The type name as written in config.
    pub fn type_name(&self) -> &'static str {
        match self {
            SourceKind::Jsonl(_) => "jsonl",
            SourceKind::X(_) => "x",
            SourceKind::Reddit(_) => "reddit",
            SourceKind::Mastodon(_) => "mastodon",
            SourceKind::HackerNews(_) => "hackernews",
            SourceKind::Bluesky(_) => "bluesky",
            SourceKind::YouTube(_) => "youtube",
            SourceKind::Rss(_) => "rss",
            SourceKind::Csv(_) => "csv",
            SourceKind::Push(_) => "push",
        }
    }

    /// Builds the source. `http` is the shared client (timeouts, user agent). `None` for a
    /// push source: posts arrive through the API, nothing is polled.
    pub fn build(&self, id: SourceId, http: &reqwest::Client) -> Option<Box<dyn Source>> {
        let source: Box<dyn Source> = match self {
            SourceKind::Jsonl(settings) => Box::new(jsonl::JsonlSource::new(id, settings.clone())),
            SourceKind::X(settings) => Box::new(x::XSource::new(id, settings.clone(), http.clone())),
            SourceKind::Reddit(settings) => Box::new(reddit::RedditSource::new(id, settings.clone(), http.clone())),
            SourceKind::Mastodon(settings) => {
                Box::new(mastodon::MastodonSource::new(id, settings.clone(), http.clone()))
            }
            SourceKind::Bluesky(settings) => Box::new(bluesky::BlueskySource::new(id, settings.clone(), http.clone())),
            SourceKind::YouTube(settings) => Box::new(youtube::YouTubeSource::new(id, settings.clone(), http.clone())),
            SourceKind::HackerNews(settings) => {
                Box::new(hackernews::HackerNewsSource::new(id, settings.clone(), http.clone()))
            }
            SourceKind::Rss(settings) => Box::new(rss::RssSource::new(id, settings.clone(), http.clone())),
            SourceKind::Csv(settings) => Box::new(csv_file::CsvSource::new(id, settings.clone())),
            SourceKind::Push(_) => return None,
        };
        Some(source)
    }
}
