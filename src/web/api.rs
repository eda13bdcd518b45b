//! JSON endpoints under `/api`.

use axum::extract::{Path, Query, State};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

use super::{ApiError, AppState};
use crate::domain::{BrandId, Priority, SourceId, TaskStatus};
use crate::store::{Counts, QuarantineRow, SourceHealth, TaskDetail, TaskFilter, TaskRow};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks", get(list_tasks))
        .route("/tasks/{id}", get(task_detail))
        .route("/stats", get(stats))
        .route("/sources", get(sources))
        .route("/quarantine", get(quarantine))
        .route("/brands", get(brands))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskQuery {
    brand: Option<String>,
    /// Comma-separated statuses; `active` means open, assigned and responded.
    status: Option<String>,
    platform: Option<String>,
    assignee: Option<String>,
    priority: Option<String>,
    limit: Option<usize>,
    offset: Option<usize>,
    /// `true`: only resolved tasks whose follow-up is due now.
    follow_ups_due: Option<bool>,
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty())
}

impl TaskQuery {
    fn into_filter(self) -> Result<TaskFilter, ApiError> {
        let brand = non_empty(self.brand)
            .map(|b| BrandId::parse(&b).map_err(|e| ApiError::BadRequest(e.to_string())))
            .transpose()?;
        let mut statuses = Vec::new();
        for name in non_empty(self.status).iter().flat_map(|s| s.split(',')) {
            match name.trim() {
                "active" => statuses.extend(TaskStatus::ALL.into_iter().filter(|s| s.is_active())),
                other => statuses.push(
                    other
                        .parse::<TaskStatus>()
                        .map_err(|e| ApiError::BadRequest(e.to_string()))?,
                ),
            }
        }
        let priority = non_empty(self.priority)
            .map(|p| p.parse::<Priority>().map_err(|e| ApiError::BadRequest(e.to_string())))
            .transpose()?;
        Ok(TaskFilter {
            brand,
            statuses,
            platform: non_empty(self.platform),
            assignee: non_empty(self.assignee),
            priority,
            limit: self.limit.unwrap_or(200),
            offset: self.offset.unwrap_or(0),
            follow_ups_due_at: self.follow_ups_due.unwrap_or(false).then(crate::domain::now_millis),
        })
    }
}

async fn list_tasks(
    State(state): State<AppState>,
    Query(query): Query<TaskQuery>,
) -> Result<Json<Vec<TaskRow>>, ApiError> {
    let filter = query.into_filter()?;
    Ok(Json(state.store.list_tasks(&filter).await?))
}

async fn task_detail(State(state): State<AppState>, Path(id): Path<i64>) -> Result<Json<TaskDetail>, ApiError> {
    Ok(Json(state.store.task_detail(id).await?))
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
    let source = non_empty(query.source)
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
