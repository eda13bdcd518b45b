//! Hacker News through the Algolia HN Search API: `GET /api/v1/search_by_date` (newest first,
//! no auth, about 10,000 requests per hour per IP, no rate-limit headers documented).
//!
//! Each poll asks for `numericFilters=created_at_i>{since}` where `since` is the newest
//! `created_at_i` committed minus `overlap_secs` (Algolia indexes with a delay, so a post can
//! appear after newer ones were seen; the overlap re-reads that window and the store's
//! uniqueness drops the repeats). Pages (`page`, `nbPages`) are followed with the same filter;
//! the new `since` is taken only after the last page is committed. Stories map to
//! title + `story_text`, comments to `comment_text` (HTML stripped); permalink
//! `https://news.ycombinator.com/item?id={objectID}`.
//!
//! Engagement re-read (viral escalation): `GET /api/v1/items/{id}`, one item per request (HN
//! has no batch read): `points` as likes, the nested `children` counted as replies. A 404
//! means the item is gone, and it is deleted here too.

use async_trait::async_trait;
use serde::Deserialize;

use super::http::{self, ResetHeader, RetryPolicy};
use super::{EngagementLookup, Lookup, Reading, Source, SourceError, html};
use crate::domain::{Batch, Cursor, Engagement, HttpUrl, Platform, Post, PostDraft, Quarantined, SourceId};

/// Settings of a `type = "hackernews"` source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HackerNewsSettings {
    pub query: String,
    /// Algolia `tags`; the default takes stories and comments.
    #[serde(default = "default_tags")]
    pub tags: String,
    #[serde(default = "default_base_url")]
    pub base_url: String,
    #[serde(default = "default_hits_per_page")]
    pub hits_per_page: u32,
    /// Seconds re-read before the newest post seen, for late indexing.
    #[serde(default = "default_overlap_secs")]
    pub overlap_secs: i64,
}

fn default_tags() -> String {
    "(story,comment)".into()
}
fn default_base_url() -> String {
    "https://hn.algolia.com".into()
}
fn default_hits_per_page() -> u32 {
    100
}
fn default_overlap_secs() -> i64 {
    600
}

impl HackerNewsSettings {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if self.query.trim().is_empty() {
            problems.push(("query".to_owned(), "must not be empty".to_owned()));
        }
        if !(1..=1000).contains(&self.hits_per_page) {
            problems.push(("hits_per_page".to_owned(), "must be between 1 and 1000".to_owned()));
        }
        if self.overlap_secs < 0 {
            problems.push(("overlap_secs".to_owned(), "must not be negative".to_owned()));
        }
        problems.extend(HttpUrl::problem("base_url", &self.base_url));
        problems
    }
}

/// Polls Algolia's HN search by date.
pub struct HackerNewsSource {
    id: SourceId,
    settings: HackerNewsSettings,
    http: reqwest::Client,
}

impl HackerNewsSource {
    pub fn new(id: SourceId, settings: HackerNewsSettings, http: reqwest::Client) -> HackerNewsSource {
        HackerNewsSource { id, settings, http }
    }
}

/// Where a poll stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HnCursor {
    /// Newest `created_at_i` committed by a finished poll.
    pub newest: i64,
    /// Next page of the current poll (0 = a new poll starts).
    pub page: u32,
    /// Newest `created_at_i` seen on the pages of the current poll so far.
    pub pending_newest: i64,
}

#[async_trait]
impl Source for HackerNewsSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn engagement(&self) -> Option<&dyn EngagementLookup> {
        Some(self)
    }

    #[tracing::instrument(skip_all, fields(source = %self.id))]
    async fn poll(&self, cursor: Option<&Cursor>) -> Result<Batch, SourceError> {
        let state: HnCursor = super::cursor::decode(cursor)?;
        let since = if state.newest > 0 {
            state.newest - self.settings.overlap_secs
        } else {
            0
        };
        let url = http::join(&self.settings.base_url, "/api/v1/search_by_date");
        let query = [
            ("query", self.settings.query.clone()),
            ("tags", self.settings.tags.clone()),
            ("numericFilters", format!("created_at_i>{since}")),
            ("hitsPerPage", self.settings.hits_per_page.to_string()),
            ("page", state.page.to_string()),
        ];
        let response = http::send(
            || self.http.get(&url).query(&query),
            ResetHeader::None,
            RetryPolicy::default(),
        )
        .await?;
        let page = parse_search(&response.body)?;
        let pending = state.pending_newest.max(page.newest);
        let next = if state.page + 1 < page.n_pages && page.batch.has_items() {
            HnCursor {
                newest: state.newest,
                page: state.page + 1,
                pending_newest: pending,
            }
        } else {
            HnCursor {
                newest: state.newest.max(pending),
                page: 0,
                pending_newest: 0,
            }
        };
        let mut batch = page.batch;
        batch.has_more = next.page > 0;
        batch.cursor = Some(super::cursor::encode(&next)?);
        Ok(batch)
    }
}

#[async_trait]
impl EngagementLookup for HackerNewsSource {
    fn batch_size(&self) -> usize {
        1
    }

    #[tracing::instrument(skip_all, fields(source = %self.id, n_ids = ids.len()))]
    async fn lookup(&self, ids: &[String]) -> Result<Lookup, SourceError> {
        let mut readings = Vec::with_capacity(ids.len());
        for id in ids {
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            let url = http::join(&self.settings.base_url, &format!("/api/v1/items/{id}"));
            match http::send(|| self.http.get(&url), ResetHeader::None, RetryPolicy::default()).await {
                Ok(response) => {
                    let item: Item = response.json()?;
                    let engagement = Engagement {
                        likes: item.points.unwrap_or(0),
                        replies: item.n_descendants(),
                        ..Engagement::default()
                    };
                    readings.push((id.clone(), Reading::Found(engagement)));
                }
                Err(SourceError::Rejected { status: 404, .. }) => readings.push((id.clone(), Reading::Gone)),
                Err(error) => return Err(error),
            }
        }
        Ok(Lookup {
            readings,
            quota_exhausted: false,
        })
    }
}

/// An Algolia item with its replies nested in `children`.
#[derive(Debug, Deserialize)]
struct Item {
    points: Option<u64>,
    #[serde(default)]
    children: Vec<Item>,
}

impl Item {
    fn n_descendants(&self) -> u64 {
        self.children.iter().map(|child| 1 + child.n_descendants()).sum()
    }
}

#[derive(Debug, Deserialize)]
struct SearchResponse {
    hits: Vec<serde_json::Value>,
    #[serde(default, rename = "nbPages")]
    nb_pages: u32,
}

#[derive(Debug, Deserialize)]
struct Hit {
    #[serde(rename = "objectID")]
    object_id: String,
    author: String,
    created_at_i: i64,
    title: Option<String>,
    story_text: Option<String>,
    comment_text: Option<String>,
    points: Option<u64>,
    num_comments: Option<u64>,
    story_id: Option<u64>,
    parent_id: Option<u64>,
}

/// A parsed page: posts and quarantined hits, the page count and the newest time on it.
pub struct HnPage {
    pub batch: Batch,
    pub n_pages: u32,
    pub newest: i64,
}

/// Maps a `search_by_date` body to posts.
pub fn parse_search(body: &[u8]) -> Result<HnPage, SourceError> {
    let response: SearchResponse = http::decode_json(body)?;
    let mut batch = Batch::default();
    let mut newest = 0;
    for raw in &response.hits {
        let location = format!("hit {}", raw.get("objectID").and_then(|v| v.as_str()).unwrap_or("?"));
        let parsed = serde_json::from_value::<Hit>(raw.clone())
            .map_err(|error| format!("unexpected hit: {error}"))
            .and_then(|hit| {
                newest = newest.max(hit.created_at_i);
                to_post(hit)
            });
        match parsed {
            Ok(post) => batch.posts.push(post),
            Err(reason) => batch
                .quarantined
                .push(Quarantined::new(location, reason, raw.to_string().as_bytes())),
        }
    }
    Ok(HnPage {
        batch,
        n_pages: response.nb_pages,
        newest,
    })
}

fn to_post(hit: Hit) -> Result<Post, String> {
    let text = match (&hit.comment_text, &hit.title) {
        (Some(comment), _) => html::to_text(comment),
        (None, Some(title)) => match hit.story_text.as_deref().map(html::to_text) {
            Some(body) if !body.is_empty() => format!("{title}\n\n{body}"),
            _ => title.clone(),
        },
        (None, None) => String::new(),
    };
    let is_comment = hit.comment_text.is_some();
    let draft = PostDraft {
        url: Some(format!("https://news.ycombinator.com/item?id={}", hit.object_id)),
        external_id: hit.object_id,
        text,
        author_handle: hit.author,
        author_name: None,
        author_followers: None,
        created_at: hit
            .created_at_i
            .checked_mul(1000)
            .ok_or_else(|| format!("created_at_i {} is out of range", hit.created_at_i))?,
        lang: None,
        engagement: Engagement {
            likes: hit.points.unwrap_or(0),
            replies: hit.num_comments.unwrap_or(0),
            ..Engagement::default()
        },
        conversation_id: hit.story_id.map(|id| id.to_string()),
        in_reply_to: if is_comment {
            hit.parent_id.map(|id| id.to_string())
        } else {
            None
        },
        quote_of: None,
        quoted_text: None,
    };
    Post::new(Platform::HackerNews, draft).map_err(|error| error.to_string())
}
