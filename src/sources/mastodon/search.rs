//! Mastodon statuses search: `GET /api/v2/search?type=statuses&q=…&resolve=false` with a user
//! access token (`read:search`). Without a token the API answers only accounts and hashtags,
//! so a search without `access_token` is a config error, and a 401/403 is a health problem.
//! Full-text search covers only what the instance indexes (opted-in public posts), so it adds
//! to hashtags rather than replacing them.
//!
//! Cursor per query: `min_id` (the newest status id committed), plus, while a poll is paging,
//! the `offset` of the next page and the newest id seen on the pages so far. The first poll
//! takes the newest page only; later polls ask for `min_id` and follow full pages with
//! `offset` (as the API documents, `offset` needs `type`), and `min_id` moves only once the
//! last page is committed, so nothing between polls is skipped.

use serde::Deserialize;

use super::{MastodonPage, MastodonSource, newer, statuses_page};
use crate::sources::{SourceError, http};

/// Where one query's polling stands.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(super) struct SearchCursor {
    /// Newest status id committed by a finished poll.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) min_id: Option<String>,
    /// Offset of the next page of the current poll (0 = a new poll starts).
    #[serde(default)]
    pub(super) offset: u32,
    /// Newest status id seen on the current poll's pages so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pending: Option<String>,
}

pub(super) fn validate(queries: &[String], has_token: bool) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (idx, query) in queries.iter().enumerate() {
        if query.trim().is_empty() {
            problems.push((format!("search[{idx}]"), "must not be empty".to_owned()));
        }
    }
    if !queries.is_empty() && !has_token {
        problems.push((
            "access_token".to_owned(),
            "statuses search needs a user access token with read:search (without one Mastodon returns no statuses)"
                .to_owned(),
        ));
    }
    problems
}

#[derive(Debug, Deserialize)]
struct SearchResults {
    #[serde(default)]
    statuses: Vec<serde_json::Value>,
}

/// Fetches one page for `query` and says where the next poll starts.
pub(super) async fn poll_query(
    source: &MastodonSource,
    query: &str,
    previous: Option<SearchCursor>,
) -> Result<(MastodonPage, SearchCursor), SourceError> {
    let state = previous.unwrap_or_default();
    let limit = source.settings.limit;
    let url = http::join(&source.settings.base_url, "/api/v2/search");
    let mut params = vec![
        ("q", query.to_owned()),
        ("type", "statuses".to_owned()),
        ("resolve", "false".to_owned()),
        ("limit", limit.to_string()),
    ];
    if let Some(min_id) = &state.min_id {
        params.push(("min_id", min_id.clone()));
    }
    if state.offset > 0 {
        params.push(("offset", state.offset.to_string()));
    }
    let response = source.get(&url, &params).await?;
    let results: SearchResults = response.json()?;
    let page = statuses_page(&results.statuses, &source.settings.base_url);
    let pending = match (state.pending.clone(), page.newest_id.clone()) {
        (Some(a), Some(b)) => Some(if newer(&b, &a) { b } else { a }),
        (a, b) => a.or(b),
    };
    // Without a min_id (the first poll) only the newest page is taken: no walk through history.
    let more = state.min_id.is_some() && page.n_statuses >= limit as usize;
    let next = if more {
        SearchCursor {
            min_id: state.min_id,
            offset: state.offset + limit,
            pending,
        }
    } else {
        SearchCursor {
            min_id: pending.or(state.min_id),
            offset: 0,
            pending: None,
        }
    };
    Ok((page, next))
}
