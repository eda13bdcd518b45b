//! YouTube Data API v3 comment threads: `GET /youtube/v3/commentThreads` with an API key,
//! `part=snippet`, `order=time`, `textFormat=plainText`, for one video (`video_id`) or every
//! video of a channel (`channel_id`, `allThreadsRelatedToChannelId`), optionally filtered by
//! `search_terms` on the server.
//!
//! There is no "since" parameter: a poll reads the newest page and stops at the newest comment
//! already committed (by id, or anything published before it); if the page ends first, the
//! next pages (`pageToken`) are read the same way, each committed before the next. The newest
//! comment becomes the cursor only once the last page is committed.
//!
//! Quota: 10,000 units a day, reset at midnight Pacific time. A 403 with reason
//! `quotaExceeded` (or `rateLimitExceeded`) is `RateLimited` until that midnight; any other
//! 403 (key restricted, comments disabled) is `Unauthorized` with Google's message.
//! Permalink: `https://www.youtube.com/watch?v={videoId}&lc={commentId}`. Text: `textOriginal`
//! when sent (only to the comment's author), else `textDisplay`, which `plainText` makes plain
//! text, kept verbatim.
//!
//! Engagement re-read (viral escalation): `commentThreads.list?part=snippet&id=…` with up to
//! 50 thread ids (a thread's id is its top-level comment's, which is what is stored), 1 quota
//! unit per call: `likeCount` as likes, `totalReplyCount` as replies. A comment missing from
//! the answer is left as it is (what YouTube answers for a deleted one is not documented).

use async_trait::async_trait;
use chrono::{Datelike, TimeZone};
use serde::Deserialize;

use super::http::{self, ResetHeader, RetryPolicy};
use super::{EngagementLookup, Lookup, Reading, Source, SourceError};
use crate::domain::{Batch, Cursor, Engagement, HttpUrl, Millis, Platform, Post, PostDraft, Quarantined, SourceId};
use crate::secret::Secret;

/// Settings of a `type = "youtube"` source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YouTubeSettings {
    pub api_key: Secret,
    /// Comments on every video of this channel (`allThreadsRelatedToChannelId`).
    #[serde(default)]
    pub channel_id: Option<String>,
    /// Comments on this one video.
    #[serde(default)]
    pub video_id: Option<String>,
    /// Server-side keyword filter.
    #[serde(default)]
    pub search_terms: Option<String>,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    #[serde(default = "default_max_results")]
    pub max_results: u32,
}

fn default_base_url() -> String {
    "https://www.googleapis.com".into()
}
fn default_max_results() -> u32 {
    100
}

impl YouTubeSettings {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if self.channel_id.is_some() == self.video_id.is_some() {
            problems.push((
                "channel_id".to_owned(),
                "set exactly one of channel_id and video_id".to_owned(),
            ));
        }
        if !(1..=100).contains(&self.max_results) {
            problems.push(("max_results".to_owned(), "must be between 1 and 100".to_owned()));
        }
        problems.extend(HttpUrl::problem("base_url", &self.base_url));
        problems
    }
}

/// Polls YouTube comment threads.
pub struct YouTubeSource {
    id: SourceId,
    settings: YouTubeSettings,
    http: reqwest::Client,
}

impl YouTubeSource {
    pub fn new(id: SourceId, settings: YouTubeSettings, http: reqwest::Client) -> YouTubeSource {
        YouTubeSource { id, settings, http }
    }
}

/// A comment's id and publication time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SeenComment {
    pub id: String,
    pub published_ms: Millis,
}

/// Where a poll stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct YouTubeCursor {
    pub newest: Option<SeenComment>,
    pub page_token: Option<String>,
    pub pending: Option<SeenComment>,
}

#[async_trait]
impl Source for YouTubeSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn engagement(&self) -> Option<&dyn EngagementLookup> {
        Some(self)
    }

    #[tracing::instrument(skip_all, fields(source = %self.id))]
    async fn poll(&self, cursor: Option<&Cursor>) -> Result<Batch, SourceError> {
        let state: YouTubeCursor = super::cursor::decode(cursor)?;
        let url = http::join(&self.settings.base_url, "/youtube/v3/commentThreads");
        let mut query = vec![
            ("part", "snippet".to_owned()),
            ("order", "time".to_owned()),
            ("textFormat", "plainText".to_owned()),
            ("maxResults", self.settings.max_results.to_string()),
        ];
        if let Some(channel) = &self.settings.channel_id {
            query.push(("allThreadsRelatedToChannelId", channel.clone()));
        }
        if let Some(video) = &self.settings.video_id {
            query.push(("videoId", video.clone()));
        }
        if let Some(terms) = &self.settings.search_terms {
            query.push(("searchTerms", terms.clone()));
        }
        if let Some(token) = &state.page_token {
            query.push(("pageToken", token.clone()));
        }
        let response = self.get(&url, &query).await?;
        let page = parse_threads(&response.body, state.newest.as_ref())?;
        let pending = if state.page_token.is_none() {
            page.first.clone()
        } else {
            state.pending.clone()
        };
        let next = match (&page.next_page_token, page.reached_seen) {
            (Some(token), false) if page.batch.has_items() => YouTubeCursor {
                newest: state.newest.clone(),
                page_token: Some(token.clone()),
                pending,
            },
            _ => YouTubeCursor {
                newest: pending.or(state.newest),
                page_token: None,
                pending: None,
            },
        };
        let mut batch = page.batch;
        batch.has_more = next.page_token.is_some();
        batch.cursor = Some(super::cursor::encode(&next)?);
        Ok(batch)
    }
}

impl YouTubeSource {
    /// GETs an API URL with the key; a quota 403 becomes `RateLimited` until it resets.
    async fn get(&self, url: &str, query: &[(&str, String)]) -> Result<http::Response, SourceError> {
        let response = http::send_unchecked(
            || {
                self.http
                    .get(url)
                    .query(query)
                    .query(&[("key", self.settings.api_key.expose())])
            },
            RetryPolicy::default(),
        )
        .await?;
        if response.status == 403
            && let Some(reason) = quota_reason(&response.body)
        {
            // The daily quota resets at Pacific midnight; `rateLimitExceeded` is a short-term
            // per-second/per-user limit, over in moments.
            let retry_after = if reason == "rateLimitExceeded" {
                SHORT_RATE_LIMIT_WAIT
            } else {
                until_pacific_midnight(chrono::Utc::now())
            };
            tracing::warn!(
                reason,
                wait_secs = retry_after.as_secs(),
                "YouTube refused for quota; waiting."
            );
            return Err(SourceError::RateLimited {
                retry_after: Some(retry_after),
            });
        }
        let response = http::classify(response, ResetHeader::None)?;
        Ok(response)
    }
}

/// Most ids one `commentThreads.list?id=` is given (Google's usual cap; not documented).
pub const LOOKUP_BATCH: usize = 50;

#[async_trait]
impl EngagementLookup for YouTubeSource {
    fn batch_size(&self) -> usize {
        LOOKUP_BATCH
    }

    #[tracing::instrument(skip_all, fields(source = %self.id, n_ids = ids.len()))]
    async fn lookup(&self, ids: &[String]) -> Result<Lookup, SourceError> {
        let url = http::join(&self.settings.base_url, "/youtube/v3/commentThreads");
        let query = [
            ("part", "snippet".to_owned()),
            ("id", ids.join(",")),
            ("textFormat", "plainText".to_owned()),
        ];
        let response = self.get(&url, &query).await?;
        Ok(Lookup {
            readings: parse_thread_counts(&response.body)?,
            quota_exhausted: false,
        })
    }
}

#[derive(Debug, Deserialize)]
struct CountsList {
    #[serde(default)]
    items: Vec<CountsThread>,
}

#[derive(Debug, Deserialize)]
struct CountsThread {
    snippet: CountsThreadSnippet,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CountsThreadSnippet {
    #[serde(default)]
    total_reply_count: u64,
    top_level_comment: CountsComment,
}

#[derive(Debug, Deserialize)]
struct CountsComment {
    id: String,
    snippet: CountsCommentSnippet,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CountsCommentSnippet {
    #[serde(default)]
    like_count: u64,
}

/// The readings in a `commentThreads.list?id=` body, by top-level comment id. A comment that
/// is not in the answer is left as it is: YouTube does not document what a deleted one looks
/// like.
pub fn parse_thread_counts(body: &[u8]) -> Result<Vec<(String, Reading)>, SourceError> {
    let list: CountsList = http::decode_json(body)?;
    Ok(list
        .items
        .into_iter()
        .map(|thread| {
            let engagement = Engagement {
                likes: thread.snippet.top_level_comment.snippet.like_count,
                replies: thread.snippet.total_reply_count,
                ..Engagement::default()
            };
            (thread.snippet.top_level_comment.id, Reading::Found(engagement))
        })
        .collect())
}

/// The quota reason of a 403 body (`error.errors[].reason`), if it is one.
/// How long to wait after YouTube's short-term `rateLimitExceeded`.
const SHORT_RATE_LIMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

fn quota_reason(body: &[u8]) -> Option<&'static str> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let errors = value.pointer("/error/errors")?.as_array()?;
    errors.iter().find_map(|e| match e.get("reason")?.as_str()? {
        "quotaExceeded" => Some("quotaExceeded"),
        "rateLimitExceeded" => Some("rateLimitExceeded"),
        "dailyLimitExceeded" => Some("dailyLimitExceeded"),
        _ => None,
    })
}

/// Time from `now` until the next midnight in America/Los_Angeles, when the quota resets.
pub fn until_pacific_midnight(now: chrono::DateTime<chrono::Utc>) -> std::time::Duration {
    let pacific = now.with_timezone(&chrono_tz::America::Los_Angeles);
    let tomorrow = pacific.date_naive().succ_opt().unwrap_or(pacific.date_naive());
    let midnight = chrono_tz::America::Los_Angeles
        .with_ymd_and_hms(tomorrow.year(), tomorrow.month(), tomorrow.day(), 0, 0, 0)
        .earliest();
    midnight
        .and_then(|m| (m.with_timezone(&chrono::Utc) - now).to_std().ok())
        .unwrap_or(std::time::Duration::from_secs(3600))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThreadList {
    #[serde(default)]
    items: Vec<serde_json::Value>,
    next_page_token: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Thread {
    id: String,
    snippet: ThreadSnippet,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThreadSnippet {
    video_id: Option<String>,
    #[serde(default)]
    total_reply_count: u64,
    top_level_comment: Comment,
}

#[derive(Debug, Deserialize)]
struct Comment {
    id: String,
    snippet: CommentSnippet,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CommentSnippet {
    author_display_name: String,
    author_channel_id: Option<ChannelRef>,
    text_original: Option<String>,
    #[serde(default)]
    text_display: String,
    #[serde(default)]
    like_count: u64,
    published_at: String,
}

#[derive(Debug, Deserialize)]
struct ChannelRef {
    value: String,
}

/// A parsed page of comment threads.
pub struct YouTubePage {
    pub batch: Batch,
    pub next_page_token: Option<String>,
    pub first: Option<SeenComment>,
    pub reached_seen: bool,
}

/// Maps a commentThreads body to posts, stopping at `seen`.
pub fn parse_threads(body: &[u8], seen: Option<&SeenComment>) -> Result<YouTubePage, SourceError> {
    let list: ThreadList = http::decode_json(body)?;
    let mut batch = Batch::default();
    let mut first = None;
    let mut reached_seen = false;
    for raw in &list.items {
        let location = format!("thread {}", raw.get("id").and_then(|v| v.as_str()).unwrap_or("?"));
        let parsed = serde_json::from_value::<Thread>(raw.clone())
            .map_err(|error| format!("unexpected comment thread: {error}"))
            .and_then(|thread| {
                let published = http::rfc3339_millis(&thread.snippet.top_level_comment.snippet.published_at)?;
                Ok((thread, published))
            });
        let (thread, published_ms) = match parsed {
            Ok(parsed) => parsed,
            Err(reason) => {
                batch
                    .quarantined
                    .push(Quarantined::new(location, reason, raw.to_string().as_bytes()));
                continue;
            }
        };
        if let Some(seen) = seen
            && (thread.id == seen.id || published_ms < seen.published_ms)
        {
            reached_seen = true;
            break;
        }
        if first.is_none() {
            first = Some(SeenComment {
                id: thread.id.clone(),
                published_ms,
            });
        }
        match to_post(thread, published_ms) {
            Ok(post) => batch.posts.push(post),
            Err(reason) => batch
                .quarantined
                .push(Quarantined::new(location, reason, raw.to_string().as_bytes())),
        }
    }
    Ok(YouTubePage {
        batch,
        next_page_token: list.next_page_token,
        first,
        reached_seen,
    })
}

fn to_post(thread: Thread, published_ms: Millis) -> Result<Post, String> {
    let comment = thread.snippet.top_level_comment;
    let snippet = comment.snippet;
    // `textFormat=plainText` was asked for, so `textDisplay` is plain text already: taken
    // verbatim ("from <$100 to >$250" is not markup). `textOriginal` comes only to a
    // comment's author.
    let text = snippet.text_original.unwrap_or(snippet.text_display);
    let draft = PostDraft {
        url: thread
            .snippet
            .video_id
            .as_ref()
            .map(|video| format!("https://www.youtube.com/watch?v={video}&lc={}", comment.id)),
        external_id: comment.id,
        text,
        author_handle: snippet
            .author_channel_id
            .map(|c| c.value)
            .unwrap_or_else(|| snippet.author_display_name.clone()),
        author_name: Some(snippet.author_display_name),
        author_followers: None,
        created_at: published_ms,
        lang: None,
        engagement: Engagement {
            likes: snippet.like_count,
            replies: thread.snippet.total_reply_count,
            ..Engagement::default()
        },
        conversation_id: thread.snippet.video_id,
        in_reply_to: None,
        quote_of: None,
        quoted_text: None,
    };
    Post::new(Platform::YouTube, draft).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_waits_until_the_next_pacific_midnight() {
        // 2026-11-23 20:00 UTC is 12:00 in Los Angeles (PST, UTC-8): twelve hours to go.
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 23, 20, 0, 0).unwrap();
        assert_eq!(until_pacific_midnight(now).as_secs(), 12 * 3600);
        // In July (PDT, UTC-7) 06:30 UTC is 23:30 the day before: thirty minutes.
        let now = chrono::Utc.with_ymd_and_hms(2026, 7, 2, 6, 30, 0).unwrap();
        assert_eq!(until_pacific_midnight(now).as_secs(), 30 * 60);
    }
}
