//! `POST /api/ingest/{source_id}`: posts pushed by other systems into a `type = "push"` source.
//!
//! Authenticated by an API bearer token of role `ingest` (made for this and nothing else) or
//! `admin`; sessions are not accepted, so no CSRF applies. Statuses: 401 without a valid
//! token, 403 for another role or a disabled source, 404 for a source that does not exist or
//! is not a push source, 413 for a body over the source's `max_body_bytes` or with more than
//! `max_items` items, 400 for a body that is not a JSON array or NDJSON (nothing is stored
//! then). Otherwise the items go through the pipeline's commit path and the answer is a
//! summary: counts, and an entry for each of the first `LISTED_ITEMS` items that were not
//! accepted (quarantined or skipped) — bounded, whatever the body held: 200 when every item
//! was a valid post, 207 when some were quarantined.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;

use super::{ApiError, AppState, auth};
use crate::domain::{Batch, SourceId};
use crate::pipeline::matching::Verdict;
use crate::pipeline::{PipelineError, commit_pushed};
use crate::sources::SourceKind;
use crate::sources::push::{BodyError, parse_body};

/// Items listed in an answer; the rest are counted in `items_not_listed`.
const LISTED_ITEMS: usize = 100;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/ingest/{source_id}", post(ingest))
}

/// What happened to one pushed item.
#[derive(Debug, serde::Serialize)]
struct ItemResult {
    location: String,
    /// `accepted` (a mention, stored or already stored), `own_post`, `excluded`, `unrelated`
    /// (valid, but not a mention of the brand), or `quarantined`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

/// The answer to a push.
#[derive(Debug, serde::Serialize)]
struct IngestSummary {
    source: String,
    received: usize,
    /// Mentions stored now or before (`new` + `duplicates`).
    accepted: usize,
    new: usize,
    duplicates: usize,
    quarantined: usize,
    /// Valid posts that are not mentions: the brand's own, excluded, or without a keyword.
    skipped: usize,
    /// The first `LISTED_ITEMS` items that were not accepted, with their reason.
    items: Vec<ItemResult>,
    /// Items not accepted beyond those listed.
    items_not_listed: usize,
}

async fn ingest(
    State(state): State<AppState>,
    Path(source_id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let caller = match auth::identify(&state, &headers).await? {
        Some(caller) if caller.csrf_token.is_none() => caller,
        _ => return Err(ApiError::Unauthorized),
    };
    if !caller.actor.role.may_ingest() {
        return Err(ApiError::Forbidden(
            "only ingest and admin tokens may push posts".into(),
        ));
    }
    let not_found = || ApiError::NotFound(format!("push source {source_id:?}"));
    let id = SourceId::parse(&source_id).map_err(|_| not_found())?;
    let source = state.settings.source(&id).ok_or_else(not_found)?;
    let SourceKind::Push(settings) = &source.kind else {
        return Err(not_found());
    };
    if !source.enabled {
        return Err(ApiError::Forbidden(format!("source {source_id:?} is disabled")));
    }
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            axum::Json(serde_json::json!({
                "error": format!("the body is larger than {} bytes", settings.max_body_bytes)
            })),
        )
            .into_response()
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > settings.max_body_bytes) {
        return Ok(too_large());
    }
    // Without a Content-Length the limit is enforced while reading. (A body that fails to
    // arrive at all also ends here; that client is gone and never reads the answer.)
    let Ok(bytes) = axum::body::to_bytes(body, settings.max_body_bytes).await else {
        return Ok(too_large());
    };
    let items = match parse_body(&bytes, settings.platform, settings.max_items) {
        Ok(items) => items,
        Err(error @ BodyError::TooManyItems { .. }) => {
            return Ok((
                StatusCode::PAYLOAD_TOO_LARGE,
                axum::Json(serde_json::json!({ "error": error.to_string() })),
            )
                .into_response());
        }
        Err(error) => return Err(ApiError::BadRequest(error.to_string())),
    };
    drop(bytes);

    let mut batch = Batch::default();
    let mut results = Vec::with_capacity(items.len());
    for item in items {
        match item.outcome {
            Ok(post) => {
                results.push(ItemResult {
                    location: item.location,
                    status: "accepted",
                    id: Some(post.external_id.clone()),
                    reason: None,
                });
                batch.posts.push(post);
            }
            Err(quarantined) => {
                results.push(ItemResult {
                    location: item.location,
                    status: "quarantined",
                    id: None,
                    reason: Some(quarantined.reason.clone()),
                });
                batch.quarantined.push(quarantined);
            }
        }
    }
    let n_quarantined = batch.quarantined.len();
    let (report, verdicts) = commit_pushed(state.store.as_ref(), &state.settings, &id, batch)
        .await
        .map_err(|error| match error {
            PipelineError::Store(error) => ApiError::from(error),
            other => ApiError::NotFound(other.to_string()),
        })?;
    let mut verdicts = verdicts.into_iter();
    for result in results.iter_mut().filter(|r| r.status == "accepted") {
        result.status = match verdicts.next() {
            Some(Verdict::OwnPost) => "own_post",
            Some(Verdict::Excluded) => "excluded",
            Some(Verdict::Unrelated) => "unrelated",
            Some(Verdict::Mention) | None => "accepted",
        };
    }
    let received = results.len();
    let mut not_accepted = results.into_iter().filter(|r| r.status != "accepted");
    let items: Vec<ItemResult> = not_accepted.by_ref().take(LISTED_ITEMS).collect();
    let items_not_listed = not_accepted.count();
    let summary = IngestSummary {
        source: source_id,
        received,
        accepted: report.n_new + report.n_duplicates,
        new: report.n_new,
        duplicates: report.n_duplicates,
        quarantined: n_quarantined,
        skipped: report.n_own_posts + report.n_excluded + report.n_unrelated,
        items,
        items_not_listed,
    };
    let status = if n_quarantined == 0 {
        StatusCode::OK
    } else {
        StatusCode::MULTI_STATUS
    };
    Ok((status, axum::Json(summary)).into_response())
}
