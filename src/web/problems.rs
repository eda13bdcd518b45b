//! Recurring problems under `/api`: the list ranked by growth and unanswered count
//! (`GET /problems`), one problem with its examples and tasks (`GET /problems/{id}`), a
//! lead's status, owner, note and known-issue message (`PATCH /problems/{id}`), and the bulk
//! answer (`POST /problems/{id}/answer`): each task gets its own reply through the normal
//! reply path (role, task state, account and platform limit checked, the reply outbox and
//! its rate limits), and the answer lists what was queued and what was skipped and why.
//!
//! Read-only over what the problems jobs computed; nothing is grouped on a request.

use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;

use super::auth::Caller;
use super::{ApiError, AppState};
use crate::domain::template::{self, TemplateValues};
use crate::domain::{BrandId, TaskId, now_millis};
use crate::problems::ProblemStatus;
use crate::store::{ProblemChange, ProblemDetail, ProblemFilter, ProblemRow};

/// Problems listed at most.
const LIST_LIMIT: usize = 200;
/// Replies one bulk answer queues at most (the reply worker paces them per account).
const BULK_LIMIT: usize = 500;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/problems", get(list))
        .route("/problems/{id}", get(detail).patch(update))
        .route("/problems/{id}/answer", post(answer))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    brand: Option<String>,
    status: Option<String>,
    /// Also problems smaller than `[problems] min_members` (default false).
    #[serde(default)]
    all: bool,
}

#[derive(Debug, serde::Serialize)]
struct ListedProblem {
    #[serde(flatten)]
    problem: ProblemRow,
    /// New complaints in the last day beyond the day before's count.
    growth: i64,
}

/// How urgent a problem is for the list: its unanswered tasks plus how much faster it grew
/// in the last day than in the day before.
fn rank(problem: &ProblemRow) -> i64 {
    problem.n_unanswered + (problem.n_last_day - problem.n_day_before).max(0)
}

async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let brand = match query.brand.as_deref().filter(|b| !b.is_empty()) {
        Some(brand) => Some(BrandId::parse(brand).map_err(|e| ApiError::BadRequest(e.to_string()))?),
        None => None,
    };
    let status =
        match query.status.as_deref().filter(|s| !s.is_empty()) {
            Some(status) => Some(ProblemStatus::parse(status).ok_or_else(|| {
                ApiError::BadRequest(format!("unknown status {status:?}: new, acknowledged or fixed"))
            })?),
            None => None,
        };
    let now = now_millis();
    let settings = &state.settings.problems;
    let mut problems = state
        .store
        .list_problems(&ProblemFilter {
            brand,
            status,
            min_complaints: if query.all { 1 } else { i64::from(settings.min_members) },
            seen_since: now - settings.window_ms(),
            now,
            limit: LIST_LIMIT,
        })
        .await?;
    problems.sort_by(|a, b| {
        rank(b)
            .cmp(&rank(a))
            .then(b.last_seen_at_ms.cmp(&a.last_seen_at_ms))
            .then(a.id.cmp(&b.id))
    });
    let listed: Vec<ListedProblem> = problems
        .into_iter()
        .map(|problem| ListedProblem {
            growth: (problem.n_last_day - problem.n_day_before).max(0),
            problem,
        })
        .collect();
    Ok(Json(
        serde_json::json!({ "problems": listed, "min_complaints": settings.min_members }),
    ))
}

async fn detail(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<ProblemDetail>, ApiError> {
    Ok(Json(state.store.problem_detail(id, now_millis()).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateRequest {
    status: Option<ProblemStatus>,
    /// `""` clears it.
    owner: Option<String>,
    note: Option<String>,
    /// The known-issue message: the reply every task of the problem is offered first.
    message: Option<String>,
}

/// Text fields: trimmed, `""` clears, bounded.
fn field(value: Option<String>, what: &str, max_chars: usize) -> Result<Option<Option<String>>, ApiError> {
    value
        .map(|v| {
            let v = v.trim().to_owned();
            if v.chars().count() > max_chars {
                return Err(ApiError::BadRequest(format!(
                    "{what} is longer than {max_chars} characters"
                )));
            }
            if v.chars().any(|c| c.is_control() && c != '\n') {
                return Err(ApiError::BadRequest(format!("{what} has control characters")));
            }
            Ok((!v.is_empty()).then_some(v))
        })
        .transpose()
}

/// A lead's change. The message is checked as a template (its placeholders must be known).
async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<UpdateRequest>,
) -> Result<Json<ProblemRow>, ApiError> {
    caller.supervisor()?;
    let message = field(body.message, "message", 2_000)?;
    if let Some(Some(message)) = &message {
        template::render(message, &placeholder_values()).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    }
    let change = ProblemChange {
        id,
        status: body.status,
        owner: field(body.owner, "owner", 100)?,
        note: field(body.note, "note", 4_000)?,
        message,
        at: now_millis(),
    };
    let row = state.store.update_problem(&change).await?;
    tracing::info!(problem = id, actor = %caller.actor.name, status = row.status.as_str(), "Problem updated.");
    Ok(Json(row))
}

fn placeholder_values() -> TemplateValues<'static> {
    TemplateValues {
        author: "@author",
        first_name: "first_name",
        brand: "brand",
        agent: "agent",
        platform: "platform",
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerRequest {
    /// The text to send; default: the problem's known-issue message. Placeholders are filled
    /// in per task.
    text: Option<String>,
    /// `unanswered` (default): active tasks without a first response; `active`: every active
    /// task (the follow-up once the problem is fixed).
    #[serde(default)]
    scope: AnswerScope,
    /// Resolve each task once its reply is accepted.
    #[serde(default)]
    resolve: bool,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum AnswerScope {
    #[default]
    Unanswered,
    Active,
}

#[derive(Debug, serde::Serialize)]
struct Skipped {
    task_id: TaskId,
    reason: String,
}

/// Queues one reply per task of the problem; 200 with what was queued and what was not.
async fn answer(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<AnswerRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.supervisor()?;
    let detail = state.store.problem_detail(id, now_millis()).await?;
    let text = body
        .text
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .or(detail.problem.message.clone())
        .ok_or_else(|| ApiError::BadRequest("write the known-issue message first, or pass a text".into()))?;
    let brand_name = state
        .settings
        .brands
        .iter()
        .find(|b| b.id == detail.problem.brand)
        .map_or_else(|| detail.problem.brand.to_string(), |b| b.name.clone());
    let mut queued = Vec::new();
    let mut skipped = Vec::new();
    let targets = detail
        .tasks
        .iter()
        .filter(|t| t.status.is_active() && (body.scope == AnswerScope::Active || t.first_response_at_ms.is_none()));
    for task in targets.take(BULK_LIMIT) {
        let filled = template::render(
            &text,
            &TemplateValues {
                author: &task.author,
                first_name: template::first_name(None, &task.author),
                brand: &brand_name,
                agent: &caller.actor.name,
                platform: task.platform.as_str(),
            },
        )
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        match super::replies::queue_reply(&state, &caller, task.id, &filled, body.resolve, None).await {
            Ok(row) => queued.push(serde_json::json!({ "task_id": task.id, "reply_id": row.id })),
            Err(ApiError::Internal(error)) => return Err(ApiError::Internal(error)),
            Err(refused) => skipped.push(Skipped {
                task_id: task.id,
                reason: refused.to_string(),
            }),
        }
    }
    tracing::info!(
        problem = id,
        actor = %caller.actor.name,
        n_queued = queued.len(),
        n_skipped = skipped.len(),
        "Problem answered in bulk."
    );
    Ok(Json(serde_json::json!({ "queued": queued, "skipped": skipped })))
}
