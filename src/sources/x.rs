//! X API v2 recent search (`GET /2/tweets/search/recent`), app-only bearer token.
//!
//! Polling follows X's documented pattern: the first request of a poll sends `since_id` = the
//! newest id already committed; while the answer carries `meta.next_token`, the same
//! `since_id` is kept and the pages are followed with `next_token`; once the last page is
//! committed, the next poll's `since_id` is the `meta.newest_id` of the **first** page. The
//! cursor (JSON) holds exactly that state, so a crash between pages resumes at the page that
//! was not committed and never skips one.
//!
//! Fields: `expansions=author_id,referenced_tweets.id,referenced_tweets.id.author_id` with
//! `user.fields=username,name,public_metrics`, and the post field list under the configured
//! parameter name (`tweet.fields` in the prose docs, `post.fields` in the OpenAPI since
//! 2026-08); responses are read in either spelling (`referenced_tweets`/`referenced_posts`,
//! `retweet_count`/`repost_count`). Retweets are unwrapped to the original post (from
//! `includes.tweets`), or skipped when the original is not included. Permalink:
//! `https://x.com/{username}/status/{id}`.
//!
//! Text: `note_tweet` and `entities` are requested; a long post (over 280 characters) is
//! stored whole from `note_tweet.text`, and every `t.co` link in the stored text is replaced
//! by where it leads (`entities.urls[].unwound_url`, else `expanded_url`), so links read and
//! match as written; the `t.co` form is not kept.
//!
//! A `since_id` older than the 7-day window is refused (400) at every poll: the poll then
//! starts again with `start_time` = the window's start (plus five minutes), and the gap is
//! quarantined (location `since_id …`, X's message) so source health shows it.
//!
//! Rate limits: 450 requests / 15 min per app; 429 carries `x-rate-limit-reset` (epoch seconds).
//!
//! Engagement re-read (viral escalation): `GET /2/tweets?ids=` with up to 100 ids and the
//! field list `public_metrics` (3,500 requests / 15 min per app). Deleted or unavailable
//! posts still answer 200: `data` holds the ones found and `errors[]` names the others;
//! `type …/resource-not-found` means the post is gone (its content is then deleted here, as
//! X's terms require); other errors (`not-authorized-for-resource`: protected or suspended)
//! leave the post as it is.

use std::collections::HashMap;

use async_trait::async_trait;
use serde::Deserialize;

use super::http::{self, ResetHeader, RetryPolicy};
use super::{EngagementLookup, Lookup, Reading, Source, SourceError};
use crate::domain::{Batch, Cursor, Engagement, HttpUrl, Platform, Post, PostDraft, Quarantined, SourceId};
use crate::secret::Secret;

/// Settings of a `type = "x"` source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XSettings {
    /// Search query in X's operator syntax, e.g. `"acme air" OR @AcmeAir -is:retweet`.
    pub query: String,
    pub bearer_token: Secret,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Posts per page, 10-100.
    #[serde(default = "default_max_results")]
    pub max_results: u32,
    /// Name of the post field-list parameter: `tweet.fields` or `post.fields`.
    #[serde(default = "default_fields_param")]
    pub fields_param: String,
}

fn default_base_url() -> String {
    "https://api.x.com".into()
}
fn default_max_results() -> u32 {
    100
}
fn default_fields_param() -> String {
    "tweet.fields".into()
}

impl XSettings {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if self.query.trim().is_empty() {
            problems.push(("query".to_owned(), "must not be empty".to_owned()));
        }
        if self.query.chars().count() > 4096 {
            problems.push(("query".to_owned(), "is longer than 4096 characters".to_owned()));
        }
        if !(10..=100).contains(&self.max_results) {
            problems.push(("max_results".to_owned(), "must be between 10 and 100".to_owned()));
        }
        if self.fields_param != "tweet.fields" && self.fields_param != "post.fields" {
            problems.push((
                "fields_param".to_owned(),
                "must be \"tweet.fields\" or \"post.fields\"".to_owned(),
            ));
        }
        problems.extend(HttpUrl::problem("base_url", &self.base_url));
        problems
    }
}

/// Polls X recent search.
pub struct XSource {
    id: SourceId,
    settings: XSettings,
    http: reqwest::Client,
    retry: RetryPolicy,
}

impl XSource {
    pub fn new(id: SourceId, settings: XSettings, http: reqwest::Client) -> XSource {
        XSource {
            id,
            settings,
            http,
            retry: RetryPolicy::default(),
        }
    }
}

/// Where a poll stands: see the module doc.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct XCursor {
    /// `since_id` for every request of the current poll.
    pub since_id: Option<String>,
    /// The next page of the current poll, if one is still to be fetched.
    pub next_token: Option<String>,
    /// The first page's `newest_id`, to become `since_id` once the last page is committed.
    pub pending_newest: Option<String>,
}

const POST_FIELDS: &str = "author_id,created_at,lang,public_metrics,conversation_id,referenced_tweets,\
in_reply_to_user_id,note_tweet,entities";

#[async_trait]
impl Source for XSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn engagement(&self) -> Option<&dyn EngagementLookup> {
        Some(self)
    }

    #[tracing::instrument(skip_all, fields(source = %self.id))]
    async fn poll(&self, cursor: Option<&Cursor>) -> Result<Batch, SourceError> {
        let state: XCursor = super::cursor::decode(cursor)?;
        let mut gap = None;
        let (response, state) = match self.search(&state, None).await {
            // X refuses a since_id older than recent search's 7 days, at every poll: start
            // again from the window's start, and say what could not be read.
            Err(SourceError::Rejected { status: 400, detail })
                if state.since_id.is_some() && detail.contains("since_id") =>
            {
                let start = chrono::Utc::now() - chrono::Duration::days(7) + chrono::Duration::minutes(5);
                let start = start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                let old = state.since_id.clone().unwrap_or_default();
                tracing::warn!(since_id = %old, start_time = %start, "X since_id is older than recent search reaches; posts before start_time were not read.");
                gap = Some(Quarantined::new(
                    format!("since_id {old}"),
                    format!(
                        "gap: since_id {old} is older than X's 7-day recent search; polling restarted at \
                         {start}, posts between them were not read (X: {detail})"
                    ),
                    detail.as_bytes(),
                ));
                let fresh = XCursor::default();
                (self.search(&fresh, Some(start)).await?, fresh)
            }
            other => (other?, state),
        };
        let page = parse_search(&response.body)?;
        let next = next_cursor(&state, &page.meta);
        let mut batch = page.batch;
        batch.quarantined.extend(gap);
        batch.has_more = next.next_token.is_some() && !response.quota_exhausted();
        batch.cursor = Some(super::cursor::encode(&next)?);
        Ok(batch)
    }
}

impl XSource {
    /// One recent-search request from `state`, or from `start_time` (ISO 8601) without one.
    async fn search(&self, state: &XCursor, start_time: Option<String>) -> Result<http::Response, SourceError> {
        let url = http::join(&self.settings.base_url, "/2/tweets/search/recent");
        let mut query: Vec<(&str, String)> = vec![
            ("query", self.settings.query.clone()),
            ("max_results", self.settings.max_results.to_string()),
            (
                "expansions",
                "author_id,referenced_tweets.id,referenced_tweets.id.author_id".into(),
            ),
            ("user.fields", "username,name,public_metrics".into()),
            (self.settings.fields_param.as_str(), POST_FIELDS.into()),
        ];
        if let Some(since_id) = &state.since_id {
            query.push(("since_id", since_id.clone()));
        }
        if let Some(token) = &state.next_token {
            query.push(("next_token", token.clone()));
        }
        if let Some(start) = start_time {
            query.push(("start_time", start));
        }
        http::send(
            || {
                self.http
                    .get(&url)
                    .query(&query)
                    .bearer_auth(self.settings.bearer_token.expose())
            },
            ResetHeader::EpochSeconds("x-rate-limit-reset"),
            self.retry,
        )
        .await
    }
}

/// Most ids one `GET /2/tweets` takes.
pub const LOOKUP_BATCH: usize = 100;

#[async_trait]
impl EngagementLookup for XSource {
    fn batch_size(&self) -> usize {
        LOOKUP_BATCH
    }

    #[tracing::instrument(skip_all, fields(source = %self.id, n_ids = ids.len()))]
    async fn lookup(&self, ids: &[String]) -> Result<Lookup, SourceError> {
        let url = http::join(&self.settings.base_url, "/2/tweets");
        let query = [
            ("ids", ids.join(",")),
            (self.settings.fields_param.as_str(), "public_metrics".to_owned()),
        ];
        let response = http::send(
            || {
                self.http
                    .get(&url)
                    .query(&query)
                    .bearer_auth(self.settings.bearer_token.expose())
            },
            ResetHeader::EpochSeconds("x-rate-limit-reset"),
            self.retry,
        )
        .await?;
        Ok(Lookup {
            readings: parse_lookup(&response.body)?,
            quota_exhausted: response.quota_exhausted(),
        })
    }
}

/// The answer of `GET /2/tweets?ids=`.
#[derive(Debug, Deserialize)]
struct LookupResponse {
    #[serde(default)]
    data: Vec<LookupPost>,
    #[serde(default)]
    errors: Vec<LookupError>,
}

#[derive(Debug, Deserialize)]
struct LookupPost {
    id: String,
    public_metrics: Option<TweetMetrics>,
}

/// A partial error: one id that could not be returned.
#[derive(Debug, Deserialize)]
struct LookupError {
    resource_id: Option<String>,
    value: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// The readings in a `GET /2/tweets` body: found posts with their metrics, and posts X says
/// it cannot find (`…/resource-not-found`) as gone.
pub fn parse_lookup(body: &[u8]) -> Result<Vec<(String, Reading)>, SourceError> {
    let response: LookupResponse = http::decode_json(body)?;
    let mut readings: Vec<(String, Reading)> = response
        .data
        .into_iter()
        .map(|post| {
            let metrics = post.public_metrics.unwrap_or_default();
            let engagement = Engagement {
                likes: metrics.like_count,
                reposts: metrics.retweet_count,
                replies: metrics.reply_count,
                quotes: metrics.quote_count,
            };
            (post.id, Reading::Found(engagement))
        })
        .collect();
    for error in response.errors {
        let gone = error
            .kind
            .as_deref()
            .is_some_and(|k| k.ends_with("/resource-not-found"));
        if let (true, Some(id)) = (gone, error.resource_id.or(error.value)) {
            readings.push((id, Reading::Gone));
        }
    }
    Ok(readings)
}

/// The cursor after committing a page with `meta`, following X's polling pattern.
pub fn next_cursor(state: &XCursor, meta: &Meta) -> XCursor {
    let first_page = state.next_token.is_none();
    let newest = if first_page {
        meta.newest_id.clone().or_else(|| state.since_id.clone())
    } else {
        state.pending_newest.clone()
    };
    match &meta.next_token {
        Some(token) => XCursor {
            since_id: state.since_id.clone(),
            next_token: Some(token.clone()),
            pending_newest: newest,
        },
        None => XCursor {
            since_id: newest.or_else(|| state.since_id.clone()),
            next_token: None,
            pending_newest: None,
        },
    }
}

/// One page of recent search.
#[derive(Debug, Deserialize)]
struct SearchResponse {
    #[serde(default)]
    data: Vec<serde_json::Value>,
    #[serde(default)]
    includes: Includes,
    #[serde(default)]
    meta: Meta,
}

#[derive(Debug, Default, Deserialize)]
struct Includes {
    #[serde(default)]
    users: Vec<User>,
    #[serde(default, alias = "posts")]
    tweets: Vec<serde_json::Value>,
}

/// `meta` of a search page.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Meta {
    pub newest_id: Option<String>,
    pub next_token: Option<String>,
}

#[derive(Debug, Deserialize)]
struct User {
    id: String,
    username: String,
    name: Option<String>,
    public_metrics: Option<UserMetrics>,
}

#[derive(Debug, Deserialize)]
struct UserMetrics {
    followers_count: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Tweet {
    id: String,
    text: String,
    author_id: Option<String>,
    created_at: Option<String>,
    lang: Option<String>,
    conversation_id: Option<String>,
    public_metrics: Option<TweetMetrics>,
    #[serde(default, alias = "referenced_posts")]
    referenced_tweets: Vec<Reference>,
    /// A post over 280 characters: `text` is cut short, the whole text is here.
    #[serde(alias = "note_post")]
    note_tweet: Option<NoteTweet>,
    entities: Option<Entities>,
}

#[derive(Debug, Deserialize)]
struct NoteTweet {
    text: String,
    entities: Option<Entities>,
}

#[derive(Debug, Default, Deserialize)]
struct Entities {
    #[serde(default)]
    urls: Vec<UrlEntity>,
}

/// A link in the text: the `t.co` form written there and where it leads.
#[derive(Debug, Deserialize)]
struct UrlEntity {
    url: String,
    expanded_url: Option<String>,
    /// The final target after redirects, with the URL enrichment add-on.
    unwound_url: Option<String>,
}

impl Tweet {
    /// The whole text, plain: `note_tweet.text` for a long post, else `text`; HTML entities
    /// decoded (X escapes `&`, `<`, `>`), and each `t.co` link replaced by where it leads.
    fn full_text(&self) -> String {
        let (text, entities) = match &self.note_tweet {
            Some(note) => (&note.text, note.entities.as_ref().or(self.entities.as_ref())),
            None => (&self.text, self.entities.as_ref()),
        };
        let mut text = html_escape::decode_html_entities(text).into_owned();
        for link in entities.map(|e| e.urls.as_slice()).unwrap_or_default() {
            let target = link.unwound_url.as_deref().or(link.expanded_url.as_deref());
            if let Some(target) = target.filter(|t| !t.is_empty() && !link.url.is_empty()) {
                text = text.replace(&link.url, target);
            }
        }
        text
    }
}

#[derive(Debug, Default, Deserialize)]
struct TweetMetrics {
    #[serde(default, alias = "repost_count")]
    retweet_count: u64,
    #[serde(default)]
    reply_count: u64,
    #[serde(default)]
    like_count: u64,
    #[serde(default)]
    quote_count: u64,
}

#[derive(Debug, Deserialize)]
struct Reference {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

/// A parsed page: the batch (cursor not yet set) and its `meta`.
pub struct Page {
    pub batch: Batch,
    pub meta: Meta,
}

/// Maps a recent-search response body to posts. A body that is not the documented envelope is
/// `Malformed`; a single post that cannot be read is quarantined with its id.
pub fn parse_search(body: &[u8]) -> Result<Page, SourceError> {
    let response: SearchResponse = http::decode_json(body)?;
    let users: HashMap<&str, &User> = response.includes.users.iter().map(|u| (u.id.as_str(), u)).collect();
    let included: HashMap<String, &serde_json::Value> = response
        .includes
        .tweets
        .iter()
        .filter_map(|t| Some((t.get("id")?.as_str()?.to_owned(), t)))
        .collect();
    let mut batch = Batch::default();
    for raw in &response.data {
        let location = format!("post {}", raw.get("id").and_then(|v| v.as_str()).unwrap_or("?"));
        let tweet: Tweet = match serde_json::from_value(raw.clone()) {
            Ok(tweet) => tweet,
            Err(error) => {
                batch.quarantined.push(Quarantined::new(
                    location,
                    format!("unexpected post: {error}"),
                    raw.to_string().as_bytes(),
                ));
                continue;
            }
        };
        // A retweet carries a truncated "RT @…" text: use the original post instead.
        let retweeted = tweet.referenced_tweets.iter().find(|r| r.kind == "retweeted");
        let tweet = match retweeted {
            Some(reference) => match included
                .get(&reference.id)
                .map(|v| serde_json::from_value::<Tweet>((*v).clone()))
            {
                Some(Ok(original)) => original,
                // The original was not included (deleted or protected): nothing to unwrap.
                _ => continue,
            },
            None => tweet,
        };
        match to_post(tweet, &users, &included) {
            Ok(post) => batch.posts.push(post),
            Err(reason) => batch
                .quarantined
                .push(Quarantined::new(location, reason, raw.to_string().as_bytes())),
        }
    }
    Ok(Page {
        batch,
        meta: response.meta,
    })
}

fn to_post(
    tweet: Tweet,
    users: &HashMap<&str, &User>,
    included: &HashMap<String, &serde_json::Value>,
) -> Result<Post, String> {
    let author = tweet
        .author_id
        .as_deref()
        .and_then(|id| users.get(id))
        .ok_or_else(|| format!("author of post {} is not in includes.users", tweet.id))?;
    let created_at = match &tweet.created_at {
        Some(value) => http::rfc3339_millis(value)?,
        None => return Err("created_at is missing (tweet.fields/post.fields not honoured?)".into()),
    };
    let text = tweet.full_text();
    let metrics = tweet.public_metrics.unwrap_or_default();
    let in_reply_to = tweet
        .referenced_tweets
        .iter()
        .find(|r| r.kind == "replied_to")
        .map(|r| r.id.clone());
    // A quote post: the quoted post is in `includes.tweets` (expansion referenced_tweets.id).
    let quote_of = tweet
        .referenced_tweets
        .iter()
        .find(|r| r.kind == "quoted")
        .map(|r| r.id.clone());
    let quoted_text = quote_of
        .as_ref()
        .and_then(|id| included.get(id))
        .and_then(|quoted| serde_json::from_value::<Tweet>((*quoted).clone()).ok())
        .map(|quoted| quoted.full_text());
    let draft = PostDraft {
        url: Some(format!("https://x.com/{}/status/{}", author.username, tweet.id)),
        external_id: tweet.id,
        text,
        author_handle: format!("@{}", author.username),
        author_name: author.name.clone(),
        author_followers: author.public_metrics.as_ref().and_then(|m| m.followers_count),
        created_at,
        lang: tweet.lang.filter(|l| l != "und" && l != "zxx"),
        engagement: Engagement {
            likes: metrics.like_count,
            reposts: metrics.retweet_count,
            replies: metrics.reply_count,
            quotes: metrics.quote_count,
        },
        conversation_id: tweet.conversation_id,
        in_reply_to,
        quote_of,
        quoted_text,
    };
    Post::new(Platform::X, draft).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(newest: Option<&str>, next: Option<&str>) -> Meta {
        Meta {
            newest_id: newest.map(str::to_owned),
            next_token: next.map(str::to_owned),
        }
    }

    #[test]
    fn since_id_stays_while_paging_and_becomes_the_first_pages_newest() {
        let start = XCursor {
            since_id: Some("100".into()),
            ..XCursor::default()
        };
        let after_first = next_cursor(&start, &meta(Some("300"), Some("t1")));
        assert_eq!(after_first.since_id.as_deref(), Some("100"));
        assert_eq!(after_first.next_token.as_deref(), Some("t1"));
        let after_second = next_cursor(&after_first, &meta(Some("250"), Some("t2")));
        assert_eq!(
            after_second.pending_newest.as_deref(),
            Some("300"),
            "first page's newest kept"
        );
        let done = next_cursor(&after_second, &meta(Some("200"), None));
        assert_eq!(
            done,
            XCursor {
                since_id: Some("300".into()),
                next_token: None,
                pending_newest: None
            }
        );
    }

    #[test]
    fn an_empty_poll_keeps_since_id() {
        let start = XCursor {
            since_id: Some("100".into()),
            ..XCursor::default()
        };
        assert_eq!(next_cursor(&start, &meta(None, None)), start);
    }
}
