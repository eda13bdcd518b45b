//! The lead dashboard under `/api` (`GET /dashboard`, leads and admins): a week's numbers
//! from the export's own functions (`Exporter::dashboard`: volume and sentiment per brand per
//! day, time to first response and SLA attainment per brand and per agent, recovered
//! customers, complaint terms against last week), and the queue now: the open backlog by age
//! and the SLAs breached right now, counted by the queue's own filter.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;

use super::auth::Caller;
use super::mentions::{bad, present};
use super::{ApiError, AppState};
use crate::domain::{BrandId, Millis, TaskStatus, now_millis};
use crate::exports::dashboard::Dashboard;
use crate::exports::week::IsoWeek;
use crate::exports::{ExportError, Exporter};
use crate::store::{StoreError, TaskFilter};

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/dashboard", get(dashboard))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DashboardQuery {
    /// An ISO week (`2026-W49`); the current week (in the exports' time zone) by default.
    week: Option<String>,
    brand: Option<String>,
}

/// Open tasks by how long ago they were opened: the bucket's name and its age range.
const BACKLOG_BUCKETS: [(&str, i64, Option<i64>); 5] = [
    ("under 1 h", 0, Some(HOUR)),
    ("1–4 h", HOUR, Some(4 * HOUR)),
    ("4–24 h", 4 * HOUR, Some(24 * HOUR)),
    ("1–3 days", 24 * HOUR, Some(72 * HOUR)),
    ("over 3 days", 72 * HOUR, None),
];
const HOUR: Millis = 3_600_000;

#[derive(Debug, serde::Serialize)]
struct Bucket {
    age: &'static str,
    tasks: i64,
}

#[derive(Debug, serde::Serialize)]
struct DashboardView {
    week: String,
    timezone: String,
    #[serde(flatten)]
    numbers: Dashboard,
    /// Active tasks by age, now.
    backlog: Vec<Bucket>,
    /// Active tasks without an answer past their deadline, now.
    breaches_now: i64,
}

fn export_error(error: ExportError) -> ApiError {
    match error {
        ExportError::Store(store) => store.into(),
        other => ApiError::Internal(StoreError::Corrupt(other.to_string())),
    }
}

async fn dashboard(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<DashboardQuery>, QueryRejection>,
) -> Result<Json<DashboardView>, ApiError> {
    caller.supervisor()?;
    let Query(query) = query.map_err(|rejection| bad(rejection.body_text()))?;
    let brand = present(query.brand)
        .map(|b| BrandId::parse(&b).map_err(|e| bad(e.to_string())))
        .transpose()?;
    let exporter = Exporter::new(state.store.clone(), &state.settings.exports).map_err(export_error)?;
    let now = now_millis();
    let week = match present(query.week) {
        Some(week) => week.parse::<IsoWeek>().map_err(|e| bad(format!("week: {e}")))?,
        None => IsoWeek::containing(now, exporter.timezone()),
    };
    let numbers = exporter
        .dashboard(week, brand.as_ref(), now)
        .await
        .map_err(export_error)?;
    let active: Vec<TaskStatus> = TaskStatus::ALL.into_iter().filter(|s| s.is_active()).collect();
    let mut backlog = Vec::with_capacity(BACKLOG_BUCKETS.len());
    for (age, youngest, oldest) in BACKLOG_BUCKETS {
        let filter = TaskFilter {
            brand: brand.clone(),
            statuses: active.clone(),
            opened_from: oldest.map(|oldest| now - oldest),
            // The youngest bucket has no upper bound (a task opened this very millisecond).
            opened_before: (youngest > 0).then_some(now - youngest),
            ..TaskFilter::default()
        };
        backlog.push(Bucket {
            age,
            tasks: state.store.count_tasks(&filter).await?,
        });
    }
    let overdue = TaskFilter {
        brand,
        statuses: active,
        unanswered_due_before: Some(now),
        ..TaskFilter::default()
    };
    Ok(Json(DashboardView {
        week: week.to_string(),
        timezone: exporter.timezone().to_string(),
        numbers,
        backlog,
        breaches_now: state.store.count_tasks(&overdue).await?,
    }))
}
