//! Reddit search with app-only OAuth.
//!
//! Token: `POST {auth_url}/api/v1/access_token` with HTTP Basic (client id and secret) and
//! `grant_type=client_credentials`; kept until a minute before `expires_in` runs out, and
//! fetched again after a 401. Search: `GET {base_url}/search` (or `/r/{subreddit}/search`
//! with `restrict_sr=1`), `sort=new`, `type=link`, `raw_json=1`, with `Authorization: bearer`
//! and the configured User-Agent (Reddit requires a unique, descriptive one such as
//! `linux:earshot:0.1 (by /u/acme_care)`).
//!
//! Cursor: the fullname (`t3_…`) and `created_utc` of the newest post committed. A poll reads
//! the newest page and stops at that fullname or at anything not newer than it; if the page
//! ends first, the following pages are fetched (`after`) in the same way, the pipeline
//! committing each before the next. The newest fullname becomes the cursor only once the last
//! page is committed.
//!
//! Text: the title, then the selftext (Markdown source: its HTML entities such as `&#x200B;`
//! decoded) unless it is the `[deleted]`/`[removed]` placeholder. A deleted account
//! (`[deleted]`) is stored as `UNKNOWN_AUTHOR`, never as one user `u/[deleted]`.
//!
//! Rate limits: 100 queries/minute per client id; `X-Ratelimit-Reset` is seconds until reset.
//!
//! Engagement re-read (viral escalation): `GET {base_url}/api/info?id=t3_…,t3_…` with up to
//! 100 fullnames and the same token; `score` is read as likes and `num_comments` as replies.
//! Deleted things still come back: a `[deleted]` or `[removed]` body (or a
//! `removed_by_category`) means the post is gone, and Reddit's terms require deleting what
//! was stored of it.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::http::{self, ResetHeader, RetryPolicy};
use super::{EngagementLookup, Lookup, Reading, Source, SourceError};
use crate::domain::{Batch, Cursor, Engagement, HttpUrl, Platform, Post, PostDraft, Quarantined, SourceId};
use crate::secret::Secret;

/// Settings of a `type = "reddit"` source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedditSettings {
    pub query: String,
    /// Search one subreddit only (without `r/`).
    #[serde(default)]
    pub subreddit: Option<String>,
    pub client_id: String,
    pub client_secret: Secret,
    /// `<platform>:<app id>:<version> (by /u/<username>)`, as Reddit asks.
    pub user_agent: String,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    #[serde(default = "default_auth_url")]
    pub auth_url: String,
    #[serde(default = "default_limit")]
    pub limit: u32,
}

fn default_base_url() -> String {
    "https://oauth.reddit.com".into()
}
fn default_auth_url() -> String {
    "https://www.reddit.com".into()
}
fn default_limit() -> u32 {
    100
}

impl RedditSettings {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if self.query.trim().is_empty() || self.query.chars().count() > 512 {
            problems.push(("query".to_owned(), "must be 1-512 characters".to_owned()));
        }
        if self.client_id.trim().is_empty() {
            problems.push(("client_id".to_owned(), "must not be empty".to_owned()));
        }
        if !self.user_agent.contains(':') || !self.user_agent.contains("/u/") {
            problems.push((
                "user_agent".to_owned(),
                "must look like \"linux:earshot:0.1 (by /u/yourname)\"".to_owned(),
            ));
        }
        if !(1..=100).contains(&self.limit) {
            problems.push(("limit".to_owned(), "must be between 1 and 100".to_owned()));
        }
        problems.extend(HttpUrl::problem("base_url", &self.base_url));
        problems.extend(HttpUrl::problem("auth_url", &self.auth_url));
        problems
    }
}

/// Polls Reddit search.
pub struct RedditSource {
    id: SourceId,
    settings: RedditSettings,
    http: reqwest::Client,
    token: Mutex<Option<(String, Instant)>>,
}

impl RedditSource {
    pub fn new(id: SourceId, settings: RedditSettings, http: reqwest::Client) -> RedditSource {
        RedditSource {
            id,
            settings,
            http,
            token: Mutex::new(None),
        }
    }

    /// A valid access token, from the cache or freshly requested.
    async fn access_token(&self) -> Result<String, SourceError> {
        let mut cached = self.token.lock().await;
        if let Some((token, expires)) = cached.as_ref()
            && Instant::now() < *expires
        {
            return Ok(token.clone());
        }
        let url = http::join(&self.settings.auth_url, "/api/v1/access_token");
        let response = http::send(
            || {
                self.http
                    .post(&url)
                    .basic_auth(&self.settings.client_id, Some(self.settings.client_secret.expose()))
                    .header(reqwest::header::USER_AGENT, &self.settings.user_agent)
                    .form(&[("grant_type", "client_credentials")])
            },
            ResetHeader::SecondsFromNow("x-ratelimit-reset"),
            RetryPolicy::default(),
        )
        .await?;
        let grant: TokenResponse = response.credentials_json()?;
        let Some(token) = grant.access_token else {
            // Reddit answers a bad grant with 200 and `{"error": "invalid_grant"}`.
            return Err(SourceError::Unauthorized {
                status: response.status,
                detail: http::error_detail(&response.body),
            });
        };
        let lifetime = Duration::from_secs(grant.expires_in.unwrap_or(3600).saturating_sub(60));
        *cached = Some((token.clone(), Instant::now() + lifetime));
        Ok(token)
    }

    async fn search(&self, after: Option<&str>) -> Result<http::Response, SourceError> {
        let path = match &self.settings.subreddit {
            Some(sub) => format!("/r/{sub}/search"),
            None => "/search".to_owned(),
        };
        let url = http::join(&self.settings.base_url, &path);
        let mut query = vec![
            ("q", self.settings.query.clone()),
            ("sort", "new".to_owned()),
            ("type", "link".to_owned()),
            ("raw_json", "1".to_owned()),
            ("limit", self.settings.limit.to_string()),
        ];
        if self.settings.subreddit.is_some() {
            query.push(("restrict_sr", "1".to_owned()));
        }
        if let Some(after) = after {
            query.push(("after", after.to_owned()));
        }
        self.authed_get(&url, &query).await
    }

    /// GETs an API URL with the app token, fetching a new token once if it was refused.
    async fn authed_get(&self, url: &str, query: &[(&str, String)]) -> Result<http::Response, SourceError> {
        let mut renewed = false;
        loop {
            let token = self.access_token().await?;
            let outcome = http::send(
                || {
                    self.http
                        .get(url)
                        .query(query)
                        .bearer_auth(&token)
                        .header(reqwest::header::USER_AGENT, &self.settings.user_agent)
                },
                ResetHeader::SecondsFromNow("x-ratelimit-reset"),
                RetryPolicy::default(),
            )
            .await;
            match outcome {
                // The token may have been revoked or expired early: fetch a new one, once.
                Err(SourceError::Unauthorized { status: 401, .. }) if !renewed => {
                    renewed = true;
                    *self.token.lock().await = None;
                }
                other => return other,
            }
        }
    }
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    expires_in: Option<u64>,
}

/// Where a poll stands.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RedditCursor {
    /// Newest post committed by a finished poll.
    pub newest: Option<Seen>,
    /// `after` of the next page of the current poll.
    pub after: Option<String>,
    /// Newest post of the current poll's first page.
    pub pending: Option<Seen>,
}

/// A post's fullname and creation time.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Seen {
    pub name: String,
    pub created_utc: f64,
}

#[async_trait]
impl Source for RedditSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn engagement(&self) -> Option<&dyn EngagementLookup> {
        Some(self)
    }

    #[tracing::instrument(skip_all, fields(source = %self.id))]
    async fn poll(&self, cursor: Option<&Cursor>) -> Result<Batch, SourceError> {
        let state: RedditCursor = super::cursor::decode(cursor)?;
        let response = self.search(state.after.as_deref()).await?;
        let page = parse_listing(&response.body, state.newest.as_ref())?;
        let pending = if state.after.is_none() {
            page.first.clone()
        } else {
            state.pending.clone()
        };
        let next = match (&page.after, page.reached_seen) {
            (Some(after), false) if page.batch.has_items() => RedditCursor {
                newest: state.newest.clone(),
                after: Some(after.clone()),
                pending,
            },
            _ => RedditCursor {
                newest: pending.or(state.newest),
                after: None,
                pending: None,
            },
        };
        let mut batch = page.batch;
        batch.has_more = next.after.is_some() && !response.quota_exhausted();
        batch.cursor = Some(super::cursor::encode(&next)?);
        Ok(batch)
    }
}

#[derive(Debug, Deserialize)]
struct Listing {
    data: ListingData,
}

#[derive(Debug, Deserialize)]
struct ListingData {
    after: Option<String>,
    children: Vec<Thing>,
}

#[derive(Debug, Deserialize)]
struct Thing {
    data: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct Link {
    name: String,
    title: String,
    #[serde(default)]
    selftext: String,
    author: String,
    created_utc: f64,
    permalink: String,
    #[serde(default)]
    score: i64,
    #[serde(default)]
    num_comments: u64,
    /// A crosspost names the post it shares (`t3_…`) and carries it in `crosspost_parent_list`.
    crosspost_parent: Option<String>,
    #[serde(default)]
    crosspost_parent_list: Vec<CrosspostParent>,
}

#[derive(Debug, Deserialize)]
struct CrosspostParent {
    #[serde(default)]
    title: String,
    #[serde(default)]
    selftext: String,
}

/// A parsed search page.
pub struct RedditPage {
    pub batch: Batch,
    /// The listing's `after`, to fetch the next (older) page.
    pub after: Option<String>,
    /// The newest post on the page.
    pub first: Option<Seen>,
    /// Whether the page reached the newest post already committed.
    pub reached_seen: bool,
}

/// Maps a search listing to posts, stopping at `seen` (the newest post already committed).
pub fn parse_listing(body: &[u8], seen: Option<&Seen>) -> Result<RedditPage, SourceError> {
    let listing: Listing = http::decode_json(body)?;
    let mut batch = Batch::default();
    let mut first = None;
    let mut reached_seen = false;
    for thing in &listing.data.children {
        let raw = &thing.data;
        let location = format!("post {}", raw.get("name").and_then(|v| v.as_str()).unwrap_or("?"));
        let link = match serde_json::from_value::<Link>(raw.clone()) {
            Ok(link) => link,
            Err(error) => {
                batch.quarantined.push(Quarantined::new(
                    location,
                    format!("unexpected post: {error}"),
                    raw.to_string().as_bytes(),
                ));
                continue;
            }
        };
        if let Some(seen) = seen
            && (link.name == seen.name || link.created_utc < seen.created_utc)
        {
            reached_seen = true;
            break;
        }
        if first.is_none() {
            first = Some(Seen {
                name: link.name.clone(),
                created_utc: link.created_utc,
            });
        }
        match to_post(link) {
            Ok(post) => batch.posts.push(post),
            Err(reason) => batch
                .quarantined
                .push(Quarantined::new(location, reason, raw.to_string().as_bytes())),
        }
    }
    Ok(RedditPage {
        batch,
        after: listing.data.after,
        first,
        reached_seen,
    })
}

/// Most fullnames one `/api/info` takes.
pub const LOOKUP_BATCH: usize = 100;

#[async_trait]
impl EngagementLookup for RedditSource {
    fn batch_size(&self) -> usize {
        LOOKUP_BATCH
    }

    #[tracing::instrument(skip_all, fields(source = %self.id, n_ids = ids.len()))]
    async fn lookup(&self, ids: &[String]) -> Result<Lookup, SourceError> {
        let url = http::join(&self.settings.base_url, "/api/info");
        let query = [("id", ids.join(",")), ("raw_json", "1".to_owned())];
        let response = self.authed_get(&url, &query).await?;
        Ok(Lookup {
            readings: parse_info(&response.body)?,
            quota_exhausted: response.quota_exhausted(),
        })
    }
}

/// A thing in an `/api/info` listing, read for its counts and whether it is still there.
#[derive(Debug, Deserialize)]
struct InfoThing {
    name: String,
    #[serde(default)]
    score: i64,
    #[serde(default)]
    num_comments: u64,
    /// A post's text; a comment has `body` instead.
    #[serde(default)]
    selftext: String,
    #[serde(default)]
    body: Option<String>,
    /// Set when a moderator, an admin or the author took the post down.
    #[serde(default)]
    removed_by_category: Option<String>,
}

/// The readings in an `/api/info` listing: a post whose body is `[deleted]` or `[removed]`
/// (or that says who removed it) is gone; the others are found with their score and comments.
pub fn parse_info(body: &[u8]) -> Result<Vec<(String, Reading)>, SourceError> {
    let listing: Listing = http::decode_json(body)?;
    let mut readings = Vec::new();
    for thing in listing.data.children {
        let Ok(info) = serde_json::from_value::<InfoThing>(thing.data) else {
            continue;
        };
        let text = info.body.as_deref().unwrap_or(&info.selftext).trim();
        let reading = if PLACEHOLDERS.contains(&text) || info.removed_by_category.is_some() {
            Reading::Gone
        } else {
            Reading::Found(Engagement {
                likes: info.score.max(0) as u64,
                replies: info.num_comments,
                ..Engagement::default()
            })
        };
        readings.push((info.name, reading));
    }
    Ok(readings)
}

/// The body Reddit leaves in place of a deleted (`[deleted]`) or moderator-removed
/// (`[removed]`) post's text.
const PLACEHOLDERS: [&str; 2] = ["[deleted]", "[removed]"];

/// Title and selftext as the post reads: the selftext is Markdown source, so its HTML
/// entities are decoded (the new editor writes `&#x200B;` for an empty line; the zero-width
/// spaces and the blank lines they leave are dropped) and a placeholder body is no body.
fn post_text(title: &str, selftext: &str) -> String {
    let decoded = html_escape::decode_html_entities(selftext).replace('\u{200B}', "");
    let mut lines: Vec<&str> = Vec::new();
    for line in decoded.lines().map(str::trim_end) {
        if !(line.is_empty() && lines.last().is_none_or(|last| last.is_empty())) {
            lines.push(line);
        }
    }
    let body = lines.join("\n");
    let body = body.trim();
    if body.is_empty() || PLACEHOLDERS.contains(&body) {
        title.to_owned()
    } else {
        format!("{title}\n\n{body}")
    }
}

fn to_post(link: Link) -> Result<Post, String> {
    let text = post_text(&link.title, &link.selftext);
    if !link.created_utc.is_finite() {
        return Err("created_utc is not a number".into());
    }
    let quoted_text = link
        .crosspost_parent_list
        .first()
        .map(|parent| post_text(&parent.title, &parent.selftext));
    // A deleted account is `[deleted]`: unknown, not one user.
    let author_handle = if link.author.is_empty() || PLACEHOLDERS.contains(&link.author.as_str()) {
        crate::domain::UNKNOWN_AUTHOR.to_owned()
    } else {
        format!("u/{}", link.author)
    };
    let draft = PostDraft {
        url: Some(format!("https://www.reddit.com{}", link.permalink)),
        conversation_id: Some(link.name.clone()),
        external_id: link.name,
        text,
        author_handle,
        author_name: None,
        author_followers: None,
        created_at: (link.created_utc * 1000.0) as i64,
        lang: None,
        engagement: Engagement {
            likes: link.score.max(0) as u64,
            replies: link.num_comments,
            ..Engagement::default()
        },
        in_reply_to: None,
        quote_of: link.crosspost_parent,
        quoted_text,
    };
    Post::new(Platform::Reddit, draft).map_err(|error| error.to_string())
}
