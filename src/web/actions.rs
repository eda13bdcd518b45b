//! The review queue's write side under `/api`: task actions (single and bulk), re-labelling, the training-data export, threshold suggestions, author history
//! and the live-update stream.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use futures::{Stream, StreamExt};
use serde::Deserialize;

use super::auth::Caller;
use super::{ApiError, AppState};
use crate::domain::{BrandId, Millis, PostId, TaskId, TaskStatus, UNKNOWN_AUTHOR, now_millis, secs_to_millis};
use crate::store::{TaskFilter, TaskRow, TaskSort};
use crate::tasks::actions::{Action, ReviewLabel, decide};
use crate::tasks::feedback::{ThresholdSuggestion, suggest_threshold};

/// Most tasks one bulk request may touch.
const MAX_BULK: usize = 200;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks/{id}/actions", post(act))
        .route("/tasks/bulk", post(bulk))
        .route("/tasks/{id}/author-history", get(author_history))
        .route("/tasks/{id}/posts/{post_id}/label", post(relabel))
        .route("/feedback/export", get(export))
        .route("/brands/{id}/threshold-suggestion", get(threshold_suggestion))
        .route("/follow-ups/record", post(record_follow_ups))
        .route("/events", get(events))
}

/// An action with the version the caller saw.
#[derive(Debug, Deserialize)]
pub(super) struct ActionRequest {
    /// The task's `updated_at_ms` when the caller read it; a mismatch is 409.
    #[serde(default)]
    expected_updated_at_ms: Option<Millis>,
    #[serde(flatten)]
    action: Action,
}

fn follow_up_ms(state: &AppState) -> i64 {
    secs_to_millis(state.settings.tasks.follow_up_secs)
}

async fn apply(
    state: &AppState,
    caller: &Caller,
    id: TaskId,
    action: &Action,
    expected: Option<Millis>,
) -> Result<TaskRow, ApiError> {
    let task = state.store.task_detail(id).await?.task;
    let change = decide(
        &task,
        &caller.actor,
        action,
        expected,
        now_millis(),
        follow_up_ms(state),
    )?;
    let row = state.store.apply_task_change(change).await?;
    tracing::info!(task = id.get(), actor = %caller.actor.name, action = action.kind(), "Task changed.");
    Ok(row)
}

async fn act(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<TaskId>,
    Json(body): Json<ActionRequest>,
) -> Result<Json<TaskRow>, ApiError> {
    Ok(Json(
        apply(&state, &caller, id, &body.action, body.expected_updated_at_ms).await?,
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BulkRequest {
    ids: Vec<TaskId>,
    action: Action,
}

#[derive(Debug, serde::Serialize)]
struct BulkResult {
    id: TaskId,
    ok: bool,
    status: u16,
    error: Option<String>,
}

/// One action on many tasks; each succeeds or fails on its own.
async fn bulk(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<BulkRequest>,
) -> Result<Json<Vec<BulkResult>>, ApiError> {
    if body.ids.is_empty() || body.ids.len() > MAX_BULK {
        return Err(ApiError::BadRequest(format!("ids: between 1 and {MAX_BULK} tasks")));
    }
    if matches!(body.action, Action::Reply { .. }) {
        return Err(ApiError::BadRequest("replies are written one task at a time".into()));
    }
    let mut results = Vec::with_capacity(body.ids.len());
    for id in body.ids {
        let result = apply(&state, &caller, id, &body.action, None).await;
        results.push(match result {
            Ok(_) => BulkResult {
                id,
                ok: true,
                status: 200,
                error: None,
            },
            Err(error) => BulkResult {
                id,
                ok: false,
                status: error.status().as_u16(),
                error: Some(error.to_string()),
            },
        });
    }
    Ok(Json(results))
}

/// Most earlier tasks of one author the author card lists (their outcomes are counted over
/// up to `PRIOR_COUNTED`).
const PRIOR_LISTED: usize = 10;
const PRIOR_COUNTED: usize = 200;

/// The author's record with the brand: mentions over the last 90 days, and their earlier
/// tasks with how each ended (recovered, still unhappy, dismissed, still open), so an agent
/// can tell a first contact from a chronic complainer.
async fn author_history(
    State(state): State<AppState>,
    Path(id): Path<TaskId>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let task = state.store.task_detail(id).await?.task;
    let brand = task.brand.clone();
    let platform = task.platform;
    let since = now_millis() - 90 * 24 * 3600 * 1000;
    let history = state
        .store
        .author_history(&brand, platform, &task.author_handle, since)
        .await?;
    let prior: Vec<TaskRow> = if task.author_handle == UNKNOWN_AUTHOR {
        Vec::new()
    } else {
        let filter = TaskFilter {
            brand: Some(brand),
            platform: Some(task.platform.as_str().to_owned()),
            author: Some(task.author_handle.clone()),
            sort: TaskSort::Newest,
            limit: PRIOR_COUNTED + 1,
            ..TaskFilter::default()
        };
        let mut rows = state.store.list_tasks(&filter).await?;
        rows.retain(|t| t.id != task.id);
        rows.sort_by_key(|t| std::cmp::Reverse((t.opened_at_ms, t.id)));
        rows
    };
    let outcome = |t: &TaskRow| match (t.status, t.recovered) {
        (TaskStatus::Resolved, Some(true)) => "recovered",
        (TaskStatus::Resolved, Some(false)) => "still unhappy",
        (TaskStatus::Resolved, None) => "resolved",
        (TaskStatus::Dismissed, _) => "dismissed",
        _ => "open",
    };
    let count = |name: &str| prior.iter().filter(|t| outcome(t) == name).count();
    Ok(Json(serde_json::json!({
        "author": task.author_handle,
        "days": 90,
        "mentions": history.n_mentions,
        "negative": history.n_negative,
        "flagged": history.n_flagged,
        "prior_tasks": prior.len(),
        "recovered": count("recovered"),
        "still_unhappy": count("still unhappy"),
        "tasks": prior.iter().take(PRIOR_LISTED).map(|t| serde_json::json!({
            "id": t.id,
            "status": t.status,
            "opened_at_ms": t.opened_at_ms,
            "outcome": outcome(t),
            "latest_text": t.latest_text,
        })).collect::<Vec<_>>(),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LabelRequest {
    label: ReviewLabel,
}

/// Re-labels a post's sentiment; stored as a labelled example.
async fn relabel(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, post_id)): Path<(TaskId, PostId)>,
    Json(body): Json<LabelRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    state
        .store
        .relabel_post(id, post_id, body.label.as_str(), &caller.actor.name, now_millis())
        .await?;
    Ok(Json(serde_json::json!({ "ok": true })))
}

/// Labelled examples as JSONL, for `earshot model train --extra-train`: false positives
/// (complaint 0, with their real sentiment), missed complaints (complaint 1) and re-labels.
async fn export(State(state): State<AppState>, Extension(caller): Extension<Caller>) -> Result<Response, ApiError> {
    caller.supervisor()?;
    let mut body = String::new();
    for example in state.store.labelled_examples().await? {
        body.push_str(&example.training_line().to_string());
        body.push('\n');
    }
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8")], body).into_response())
}

async fn threshold_suggestion(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.supervisor()?;
    let brand = BrandId::parse(&id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let current = state
        .settings
        .brands
        .iter()
        .find(|b| b.id == brand)
        .ok_or_else(|| ApiError::NotFound(format!("brand {id}")))?
        .threshold;
    let evidence = state.store.threshold_evidence(&brand).await?;
    let suggestion: ThresholdSuggestion = suggest_threshold(&evidence, current);
    Ok(Json(serde_json::json!({
        "brand": brand.as_str(),
        "current_threshold": current,
        "suggestion": suggestion,
    })))
}

/// Records the next post of authors of resolved tasks now (the scheduler also runs this).
async fn record_follow_ups(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let updated = crate::pipeline::follow_up::record_follow_ups(state.store.as_ref(), now_millis()).await?;
    Ok(Json(serde_json::json!({ "updated": updated })))
}

/// Server-sent events: `tasks` whenever the queue changed (checked every two seconds). The
/// stream ends when the service shuts down, so it never holds the shutdown up; the page's
/// `EventSource` reconnects to whichever instance answers next.
async fn events(State(state): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let stopped = state.shutdown.clone().cancelled_owned();
    let ticker = tokio::time::interval(Duration::from_secs(2));
    let stream = futures::stream::unfold((state, ticker, None), |(state, mut ticker, last)| async move {
        loop {
            ticker.tick().await;
            let Ok(version) = state.store.queue_version().await else {
                continue;
            };
            if last != Some(version) {
                let event = Event::default()
                    .event("tasks")
                    .data(format!("{{\"updated_at_ms\":{},\"tasks\":{}}}", version.0, version.1));
                return Some((Ok(event), (state, ticker, Some(version))));
            }
        }
    });
    Sse::new(stream.take_until(stopped)).keep_alive(KeepAlive::default())
}
