//! Bluesky post search: `GET /xrpc/app.bsky.feed.searchPosts` with an app-password session.
//!
//! Unauthenticated search was switched off in 2025, so the source logs in with
//! `com.atproto.server.createSession` (identifier + app password) once, keeps the session in
//! memory, and when the access token expires (401, or 400 `ExpiredToken`) refreshes it with
//! `com.atproto.server.refreshSession`, logging in again only if that fails too
//! (`createSession` is limited to 30 per 5 minutes per account).
//!
//! Polling: `sort=latest&since={newest sortAt committed minus overlap_secs}` (`since` is
//! inclusive and compared to `sortAt`, the earlier of `createdAt` and `indexedAt`); the
//! response's `cursor` is followed for further pages; dedup is on the post `uri` (the store's
//! uniqueness drops the overlap). The new `since` is taken only after the last page is
//! committed. Permalink `https://bsky.app/profile/{handle}/post/{rkey}`; an author whose
//! handle does not resolve (`handle.invalid`) is stored, and linked, by DID instead. A link
//! facet's full `uri` replaces the shortened link text. Search results carry no follower
//! counts. Rate limits: `RateLimit-Reset` (epoch seconds) on 429.
//!
//! Engagement re-read (viral escalation): `app.bsky.feed.getPosts?uris=…` with up to 25 URIs,
//! with the same session. A deleted or unavailable post is silently left out of the answer,
//! so an asked URI that does not come back is gone.

use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::http::{self, ResetHeader, RetryPolicy};
use super::{EngagementLookup, Lookup, Reading, Source, SourceError};
use crate::domain::{Batch, Cursor, Engagement, HttpUrl, Millis, Platform, Post, PostDraft, Quarantined, SourceId};
use crate::secret::Secret;

/// Settings of a `type = "bluesky"` source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueskySettings {
    /// Search query (Lucene-like syntax), e.g. `"acme air"`.
    pub query: String,
    /// Handle or DID of the account that searches.
    pub identifier: String,
    /// An app password (Settings → App passwords), never the account password.
    pub app_password: Secret,
    /// The PDS or entryway that proxies search to the AppView.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    #[serde(default = "default_limit")]
    pub limit: u32,
    /// Seconds re-read before the newest post committed, for late indexing.
    #[serde(default = "default_overlap_secs")]
    pub overlap_secs: i64,
}

fn default_base_url() -> String {
    "https://bsky.social".into()
}
fn default_limit() -> u32 {
    100
}
fn default_overlap_secs() -> i64 {
    300
}

impl BlueskySettings {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if self.query.trim().is_empty() {
            problems.push(("query".to_owned(), "must not be empty".to_owned()));
        }
        if self.identifier.trim().is_empty() {
            problems.push(("identifier".to_owned(), "must not be empty".to_owned()));
        }
        if !(1..=100).contains(&self.limit) {
            problems.push(("limit".to_owned(), "must be between 1 and 100".to_owned()));
        }
        if self.overlap_secs < 0 {
            problems.push(("overlap_secs".to_owned(), "must not be negative".to_owned()));
        }
        problems.extend(HttpUrl::problem("base_url", &self.base_url));
        problems
    }
}

#[derive(Clone, Deserialize)]
struct Session {
    #[serde(rename = "accessJwt")]
    access: String,
    #[serde(rename = "refreshJwt")]
    refresh: String,
}

/// Searches Bluesky posts.
pub struct BlueskySource {
    id: SourceId,
    settings: BlueskySettings,
    http: reqwest::Client,
    session: Mutex<Option<Session>>,
}

impl BlueskySource {
    pub fn new(id: SourceId, settings: BlueskySettings, http: reqwest::Client) -> BlueskySource {
        BlueskySource {
            id,
            settings,
            http,
            session: Mutex::new(None),
        }
    }

    async fn create_session(&self) -> Result<Session, SourceError> {
        let url = http::join(&self.settings.base_url, "/xrpc/com.atproto.server.createSession");
        let body = serde_json::json!({
            "identifier": self.settings.identifier,
            "password": self.settings.app_password.expose(),
        });
        let response = http::send(
            || self.http.post(&url).json(&body),
            ResetHeader::EpochSeconds("ratelimit-reset"),
            RetryPolicy::default(),
        )
        .await
        .map_err(login_failure)?;
        response.credentials_json()
    }

    async fn refresh_session(&self, refresh: &str) -> Result<Session, SourceError> {
        let url = http::join(&self.settings.base_url, "/xrpc/com.atproto.server.refreshSession");
        let response = http::send(
            || self.http.post(&url).bearer_auth(refresh),
            ResetHeader::EpochSeconds("ratelimit-reset"),
            RetryPolicy::default(),
        )
        .await?;
        response.credentials_json()
    }

    async fn search(&self, query: &[(&str, String)]) -> Result<http::Response, SourceError> {
        self.xrpc_get("app.bsky.feed.searchPosts", query).await
    }

    /// GETs an XRPC method with the session, logging in or refreshing it as needed.
    async fn xrpc_get(&self, method: &str, query: &[(&str, String)]) -> Result<http::Response, SourceError> {
        let url = http::join(&self.settings.base_url, &format!("/xrpc/{method}"));
        let mut session = self.session.lock().await;
        let mut renewed = false;
        loop {
            let current = match session.as_ref() {
                Some(current) => current.clone(),
                None => {
                    let created = self.create_session().await?;
                    *session = Some(created.clone());
                    created
                }
            };
            let outcome = http::send(
                || self.http.get(&url).query(query).bearer_auth(&current.access),
                ResetHeader::EpochSeconds("ratelimit-reset"),
                RetryPolicy::default(),
            )
            .await;
            match outcome {
                Err(error) if is_expired(&error) && !renewed => {
                    renewed = true;
                    // Refresh first; if the refresh token is no good either, log in again.
                    *session = match self.refresh_session(&current.refresh).await {
                        Ok(refreshed) => Some(refreshed),
                        Err(error) if is_expired(&error) || matches!(error, SourceError::Rejected { .. }) => {
                            Some(self.create_session().await?)
                        }
                        Err(error) => return Err(error),
                    };
                }
                other => return other,
            }
        }
    }
}

/// A rejected login is a credentials problem, whatever status the PDS used.
fn login_failure(error: SourceError) -> SourceError {
    match error {
        SourceError::Rejected { status, detail } => SourceError::Unauthorized { status, detail },
        other => other,
    }
}

/// Whether the access token has expired or been revoked.
fn is_expired(error: &SourceError) -> bool {
    match error {
        SourceError::Unauthorized { status: 401, .. } => true,
        SourceError::Rejected { status: 400, detail } => detail.to_ascii_lowercase().contains("expired"),
        _ => false,
    }
}

/// Where a poll stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BlueskyCursor {
    /// Newest `sortAt` committed by a finished poll, Unix ms.
    pub newest_ms: Millis,
    /// The search cursor of the next page of the current poll.
    pub page: Option<String>,
    /// Newest `sortAt` seen on the current poll's pages so far.
    pub pending_ms: Millis,
}

#[async_trait]
impl Source for BlueskySource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn engagement(&self) -> Option<&dyn EngagementLookup> {
        Some(self)
    }

    #[tracing::instrument(skip_all, fields(source = %self.id))]
    async fn poll(&self, cursor: Option<&Cursor>) -> Result<Batch, SourceError> {
        let state: BlueskyCursor = super::cursor::decode(cursor)?;
        let mut query = vec![
            ("q", self.settings.query.clone()),
            ("sort", "latest".to_owned()),
            ("limit", self.settings.limit.to_string()),
        ];
        if state.newest_ms > 0 {
            let since_ms = state.newest_ms - self.settings.overlap_secs.saturating_mul(1000);
            let since = chrono::DateTime::from_timestamp_millis(since_ms).unwrap_or_default();
            query.push(("since", since.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
        }
        if let Some(page) = &state.page {
            query.push(("cursor", page.clone()));
        }
        let response = self.search(&query).await?;
        let page = parse_search(&response.body)?;
        let pending_ms = state.pending_ms.max(page.newest_ms);
        let next = match page.cursor {
            Some(next_page) if page.batch.has_items() => BlueskyCursor {
                newest_ms: state.newest_ms,
                page: Some(next_page),
                pending_ms,
            },
            _ => BlueskyCursor {
                newest_ms: state.newest_ms.max(pending_ms),
                page: None,
                pending_ms: 0,
            },
        };
        let mut batch = page.batch;
        batch.has_more = next.page.is_some() && !response.quota_exhausted();
        batch.cursor = Some(super::cursor::encode(&next)?);
        Ok(batch)
    }
}

/// Most URIs one `app.bsky.feed.getPosts` takes.
pub const LOOKUP_BATCH: usize = 25;

#[async_trait]
impl EngagementLookup for BlueskySource {
    fn batch_size(&self) -> usize {
        LOOKUP_BATCH
    }

    #[tracing::instrument(skip_all, fields(source = %self.id, n_ids = uris.len()))]
    async fn lookup(&self, uris: &[String]) -> Result<Lookup, SourceError> {
        let query: Vec<(&str, String)> = uris.iter().map(|uri| ("uris", uri.clone())).collect();
        let response = self.xrpc_get("app.bsky.feed.getPosts", &query).await?;
        Ok(Lookup {
            readings: parse_get_posts(&response.body, uris)?,
            quota_exhausted: response.quota_exhausted(),
        })
    }
}

#[derive(Debug, Deserialize)]
struct GetPostsResponse {
    posts: Vec<CountsView>,
}

/// The counts of a post view.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CountsView {
    uri: String,
    #[serde(default)]
    like_count: u64,
    #[serde(default)]
    repost_count: u64,
    #[serde(default)]
    reply_count: u64,
    #[serde(default)]
    quote_count: u64,
}

/// The readings in a `getPosts` body for the `asked` URIs: the posts it returns, and every
/// asked URI it leaves out as gone (deleted and unavailable posts are silently omitted).
pub fn parse_get_posts(body: &[u8], asked: &[String]) -> Result<Vec<(String, Reading)>, SourceError> {
    let response: GetPostsResponse = http::decode_json(body)?;
    let mut readings: Vec<(String, Reading)> = response
        .posts
        .into_iter()
        .map(|view| {
            let engagement = Engagement {
                likes: view.like_count,
                reposts: view.repost_count,
                replies: view.reply_count,
                quotes: view.quote_count,
            };
            (view.uri, Reading::Found(engagement))
        })
        .collect();
    let missing: Vec<String> = asked
        .iter()
        .filter(|uri| !readings.iter().any(|(found, _)| found == *uri))
        .cloned()
        .collect();
    readings.extend(missing.into_iter().map(|uri| (uri, Reading::Gone)));
    Ok(readings)
}

#[derive(Debug, Deserialize)]
struct SearchResponse {
    cursor: Option<String>,
    posts: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PostView {
    uri: String,
    author: Author,
    record: Record,
    indexed_at: String,
    #[serde(default)]
    like_count: u64,
    #[serde(default)]
    repost_count: u64,
    #[serde(default)]
    reply_count: u64,
    #[serde(default)]
    quote_count: u64,
    /// The hydrated embed: for a quote post `app.bsky.embed.record#view` (or
    /// `…recordWithMedia#view` around one), read loosely since embeds come in many kinds.
    embed: Option<serde_json::Value>,
}

/// The quoted post of a post view's embed: its at:// URI and text, if the embed quotes one.
fn quoted_record(embed: Option<&serde_json::Value>) -> (Option<String>, Option<String>) {
    let Some(embed) = embed else {
        return (None, None);
    };
    let record = match embed.get("$type").and_then(|t| t.as_str()) {
        Some("app.bsky.embed.record#view") => embed.get("record"),
        Some("app.bsky.embed.recordWithMedia#view") => embed.get("record").and_then(|r| r.get("record")),
        _ => None,
    };
    let Some(record) =
        record.filter(|r| r.get("$type").and_then(|t| t.as_str()) == Some("app.bsky.embed.record#viewRecord"))
    else {
        return (None, None);
    };
    let uri = record.get("uri").and_then(|u| u.as_str()).map(str::to_owned);
    let text = record
        .pointer("/value/text")
        .and_then(|t| t.as_str())
        .map(str::to_owned);
    (uri, text)
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Author {
    #[serde(default)]
    did: String,
    handle: String,
    display_name: Option<String>,
}

/// What the AppView puts in `handle` when the account's handle does not resolve.
const INVALID_HANDLE: &str = "handle.invalid";

impl Author {
    /// The handle, or the DID when the handle is `handle.invalid` (many accounts share
    /// that; a DID names one and works in `bsky.app` profile links).
    fn identity(&self) -> &str {
        let invalid = self.handle.is_empty() || self.handle.eq_ignore_ascii_case(INVALID_HANDLE);
        if invalid && !self.did.is_empty() {
            &self.did
        } else {
            &self.handle
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Record {
    #[serde(default)]
    text: String,
    created_at: String,
    #[serde(default)]
    langs: Vec<String>,
    reply: Option<ReplyRef>,
    #[serde(default)]
    facets: Vec<Facet>,
}

/// A rich-text facet (`app.bsky.richtext.facet`): UTF-8 byte range of the text, and features.
#[derive(Debug, Deserialize)]
struct Facet {
    index: ByteSlice,
    #[serde(default)]
    features: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ByteSlice {
    byte_start: usize,
    byte_end: usize,
}

/// The text with each link facet's range replaced by its full `uri`: apps show links
/// shortened ("example.com/very/lo…") and keep the whole link only in the facet. A range
/// that is not on character boundaries or overlaps another is left as it is.
fn with_full_links(text: &str, facets: &[Facet]) -> String {
    let mut links: Vec<(usize, usize, &str)> = facets
        .iter()
        .filter_map(|facet| {
            let uri = facet.features.iter().find_map(|f| {
                (f.get("$type").and_then(|t| t.as_str()) == Some("app.bsky.richtext.facet#link"))
                    .then(|| f.get("uri").and_then(|u| u.as_str()))
                    .flatten()
            })?;
            let (start, end) = (facet.index.byte_start, facet.index.byte_end);
            (start < end && text.get(start..end).is_some()).then_some((start, end, uri))
        })
        .collect();
    links.sort_by_key(|(start, _, _)| *start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end, uri) in links {
        if start < at {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(uri);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[derive(Debug, Deserialize)]
struct ReplyRef {
    root: StrongRef,
    parent: StrongRef,
}

#[derive(Debug, Deserialize)]
struct StrongRef {
    uri: String,
}

/// A parsed search page.
pub struct BlueskyPage {
    pub batch: Batch,
    pub cursor: Option<String>,
    /// Newest `sortAt` on the page, Unix ms (0 if none).
    pub newest_ms: Millis,
}

/// Maps a searchPosts body to posts.
pub fn parse_search(body: &[u8]) -> Result<BlueskyPage, SourceError> {
    let response: SearchResponse = http::decode_json(body)?;
    let mut batch = Batch::default();
    let mut newest_ms = 0;
    for raw in &response.posts {
        let location = format!("post {}", raw.get("uri").and_then(|v| v.as_str()).unwrap_or("?"));
        let parsed = serde_json::from_value::<PostView>(raw.clone())
            .map_err(|error| format!("unexpected post: {error}"))
            .and_then(|view| {
                let (post, sort_at) = to_post(view)?;
                newest_ms = newest_ms.max(sort_at);
                Ok(post)
            });
        match parsed {
            Ok(post) => batch.posts.push(post),
            Err(reason) => batch
                .quarantined
                .push(Quarantined::new(location, reason, raw.to_string().as_bytes())),
        }
    }
    Ok(BlueskyPage {
        batch,
        cursor: response.cursor.filter(|c| !c.is_empty()),
        newest_ms,
    })
}

fn to_post(view: PostView) -> Result<(Post, Millis), String> {
    let created_at = http::rfc3339_millis(&view.record.created_at)?;
    let indexed_at = http::rfc3339_millis(&view.indexed_at)?;
    let rkey = view
        .uri
        .rsplit('/')
        .next()
        .filter(|k| !k.is_empty())
        .ok_or_else(|| format!("uri {:?} has no record key", view.uri))?;
    let (conversation_id, in_reply_to) = match &view.record.reply {
        Some(reply) => (Some(reply.root.uri.clone()), Some(reply.parent.uri.clone())),
        None => (Some(view.uri.clone()), None),
    };
    let (quote_of, quoted_text) = quoted_record(view.embed.as_ref());
    let identity = view.author.identity();
    let draft = PostDraft {
        url: Some(format!("https://bsky.app/profile/{identity}/post/{rkey}")),
        external_id: view.uri.clone(),
        text: with_full_links(&view.record.text, &view.record.facets),
        author_handle: format!("@{identity}"),
        author_name: view.author.display_name,
        author_followers: None,
        created_at,
        lang: view.record.langs.into_iter().next(),
        engagement: Engagement {
            likes: view.like_count,
            reposts: view.repost_count,
            replies: view.reply_count,
            quotes: view.quote_count,
        },
        conversation_id,
        in_reply_to,
        quote_of,
        quoted_text,
    };
    let post = Post::new(Platform::Bluesky, draft).map_err(|error| error.to_string())?;
    Ok((post, created_at.min(indexed_at)))
}
