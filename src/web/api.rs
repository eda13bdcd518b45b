//! JSON endpoints under `/api`.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;

use super::mentions::{bad, bounded, instant, present};
use super::{ApiError, AppState};
use crate::domain::{BrandId, Millis, Priority, SearchTerm, SentimentLabel, SourceId, TaskId, TaskStatus, now_millis};
use crate::store::{Counts, QuarantineRow, SourceHealth, TaskDetail, TaskFilter, TaskRow, TaskSort};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list_tasks))
        .route("/tasks/{id}", get(task_detail))
        .route("/stats", get(stats))
        .route("/sources", get(sources))
        .route("/quarantine", get(quarantine))
        .route("/brands", get(brands))
}

/// Tasks per page when the request does not say.
const DEFAULT_LIMIT: usize = 50;
/// Most tasks one page may hold.
const MAX_LIMIT: usize = 200;
/// Deepest page start accepted; narrow the filters to go further.
const MAX_OFFSET: usize = 100_000;
/// Furthest ahead `due_within_mins` looks: a week.
const MAX_DUE_WITHIN_MINS: usize = 7 * 24 * 60;

/// The query string of `GET /api/tasks`, as text: every value is parsed here, so a bad one
/// is a 400 that says which and why.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskQuery {
    brand: Option<String>,
    /// Comma-separated statuses; `active` means open, assigned and responded.
    status: Option<String>,
    platform: Option<String>,
    assignee: Option<String>,
    /// `true`: only tasks nobody is assigned to.
    unassigned: Option<String>,
    priority: Option<String>,
    /// Text search over the task's posts: text, author handle and name.
    q: Option<String>,
    /// Only active, unanswered tasks overdue or due within this many minutes.
    due_within_mins: Option<String>,
    /// `urgency` (default), `sla`, `criticality` or `newest`.
    sort: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    /// `true`: only resolved tasks whose follow-up is due now.
    follow_ups_due: Option<String>,
    /// Only tasks of this author (the handle as stored, e.g. `@jo`).
    author: Option<String>,
    /// Only tasks whose latest post reads `negative`, `neutral` or `positive`.
    sentiment: Option<String>,
    /// Only tasks opened at or after this instant (RFC 3339, or a date: midnight UTC)…
    since: Option<String>,
    /// …and before this one.
    until: Option<String>,
}

fn flag(name: &str, value: Option<String>) -> Result<bool, ApiError> {
    match present(value).as_deref() {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(bad(format!("{name} must be true or false, not {other:?}"))),
    }
}

impl TaskQuery {
    fn into_filter(self, now: Millis) -> Result<TaskFilter, ApiError> {
        let brand = present(self.brand)
            .map(|b| BrandId::parse(&b).map_err(|e| bad(e.to_string())))
            .transpose()?;
        let mut statuses = Vec::new();
        for name in present(self.status).iter().flat_map(|s| s.split(',')) {
            match name.trim() {
                "active" => statuses.extend(TaskStatus::ALL.into_iter().filter(|s| s.is_active())),
                other => statuses.push(other.parse::<TaskStatus>().map_err(|e| bad(e.to_string()))?),
            }
        }
        let priority = present(self.priority)
            .map(|p| p.parse::<Priority>().map_err(|e| bad(e.to_string())))
            .transpose()?;
        let q = present(self.q)
            .map(|q| SearchTerm::parse(&q).map_err(|e| bad(e.to_string())))
            .transpose()?;
        let unanswered_due_before = match present(self.due_within_mins.clone()) {
            None => None,
            Some(_) => {
                let mins = bounded("due_within_mins", self.due_within_mins, 0, 0, MAX_DUE_WITHIN_MINS)?;
                Some(now + i64::try_from(mins).unwrap_or(0) * 60_000)
            }
        };
        let sort = match present(self.sort).as_deref() {
            None | Some("urgency") => TaskSort::Urgency,
            Some("sla") => TaskSort::Sla,
            Some("criticality") => TaskSort::Criticality,
            Some("newest") => TaskSort::Newest,
            Some(other) => {
                return Err(bad(format!(
                    "sort must be urgency, sla, criticality or newest, not {other:?}"
                )));
            }
        };
        let sentiment = present(self.sentiment)
            .map(|s| {
                SentimentLabel::ALL
                    .into_iter()
                    .find(|l| l.as_str() == s)
                    .ok_or_else(|| bad(format!("sentiment must be negative, neutral or positive, not {s:?}")))
            })
            .transpose()?;
        Ok(TaskFilter {
            author: present(self.author),
            sentiment,
            opened_from: instant("since", self.since)?,
            opened_before: instant("until", self.until)?,
            sort,
            brand,
            statuses,
            platform: present(self.platform),
            assignee: present(self.assignee),
            unassigned: flag("unassigned", self.unassigned)?,
            priority,
            q,
            unanswered_due_before,
            limit: bounded("limit", self.limit, DEFAULT_LIMIT, 1, MAX_LIMIT)?,
            offset: bounded("offset", self.offset, 0, 0, MAX_OFFSET)?,
            follow_ups_due_at: flag("follow_ups_due", self.follow_ups_due)?.then_some(now),
        })
    }
}

/// A page of tasks, how many match in all and the paging that produced it.
#[derive(Debug, serde::Serialize)]
struct TasksResponse {
    total: i64,
    limit: usize,
    offset: usize,
    items: Vec<TaskRow>,
}

async fn list_tasks(
    State(state): State<AppState>,
    query: Result<Query<TaskQuery>, QueryRejection>,
) -> Result<Json<TasksResponse>, ApiError> {
    let Query(query) = query.map_err(|rejection| bad(rejection.body_text()))?;
    let filter = query.into_filter(now_millis())?;
    let items = state.store.list_tasks(&filter).await?;
    let total = state.store.count_tasks(&filter).await?;
    Ok(Json(TasksResponse {
        total,
        limit: filter.limit,
        offset: filter.offset,
        items,
    }))
}

/// A task with the recurring problem its complaints belong to; the problem's known-issue
/// message, filled in for this task and caller, is the reply the queue offers first.
#[derive(Debug, serde::Serialize)]
struct TaskDetailView {
    #[serde(flatten)]
    detail: TaskDetail,
    problem: Option<TaskProblemView>,
}

#[derive(Debug, serde::Serialize)]
struct TaskProblemView {
    #[serde(flatten)]
    problem: crate::store::TaskProblem,
    /// The known-issue message with its placeholders filled in, if there is one.
    reply_text: Option<String>,
}

async fn task_detail(
    State(state): State<AppState>,
    Extension(caller): Extension<super::auth::Caller>,
    Path(id): Path<TaskId>,
) -> Result<Json<TaskDetailView>, ApiError> {
    let detail = state.store.task_detail(id).await?;
    let problem = state.store.task_problem(id).await?.map(|problem| {
        let brand = state
            .settings
            .brands
            .iter()
            .find(|b| b.id == detail.task.brand)
            .map_or_else(|| detail.task.brand.to_string(), |b| b.name.clone());
        let reply_text = problem.message.as_deref().and_then(|message| {
            crate::domain::template::render(
                message,
                &crate::domain::template::TemplateValues {
                    author: &detail.task.author_handle,
                    first_name: crate::domain::template::first_name(
                        detail
                            .posts
                            .iter()
                            .rev()
                            .filter(|p| p.author_handle == detail.task.author_handle)
                            .find_map(|p| p.author_name.as_deref()),
                        &detail.task.author_handle,
                    ),
                    brand: &brand,
                    agent: &caller.actor.name,
                    platform: detail.task.platform.as_str(),
                },
            )
            .ok()
        });
        TaskProblemView { problem, reply_text }
    });
    Ok(Json(TaskDetailView { detail, problem }))
}

async fn stats(State(state): State<AppState>) -> Result<Json<Counts>, ApiError> {
    Ok(Json(state.store.counts().await?))
}

async fn sources(State(state): State<AppState>) -> Result<Json<Vec<SourceHealth>>, ApiError> {
    Ok(Json(state.store.source_health().await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct QuarantineQuery {
    source: Option<String>,
    limit: Option<usize>,
}

async fn quarantine(
    State(state): State<AppState>,
    Query(query): Query<QuarantineQuery>,
) -> Result<Json<Vec<QuarantineRow>>, ApiError> {
    let source = present(query.source)
        .map(|s| SourceId::parse(&s).map_err(|e| ApiError::BadRequest(e.to_string())))
        .transpose()?;
    let limit = query.limit.unwrap_or(100).min(1000);
    Ok(Json(state.store.quarantined(source.as_ref(), limit).await?))
}

#[derive(Debug, serde::Serialize)]
struct BrandView {
    id: String,
    name: String,
    threshold: f32,
}

async fn brands(State(state): State<AppState>) -> Json<Vec<BrandView>> {
    Json(
        state
            .settings
            .brands
            .iter()
            .map(|b| BrandView {
                id: b.id.to_string(),
                name: b.name.clone(),
                threshold: b.threshold,
            })
            .collect(),
    )
}
