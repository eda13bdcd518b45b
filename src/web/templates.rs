//! Reply templates under `/api`: every template a task's reply can start from
//! (`GET /templates`: the config's, for every brand, and the ones leads keep in the database
//! per brand), managing the stored ones (`POST /templates`, `PUT` and `DELETE
//! /templates/{id}`, leads and admins) and a template filled in for a task and the caller
//! (`POST /tasks/{id}/reply-preview`).
//!
//! Checking and filling in are `domain::template`'; this file only reads requests and calls
//! the store.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::Deserialize;

use super::auth::Caller;
use super::{ApiError, AppState};
use crate::domain::template::{self, TemplateValues};
use crate::domain::{BrandId, TaskId, now_millis};
use crate::store::{NewReplyTemplate, ReplyTemplateRow};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/templates", get(list).post(create))
        .route("/templates/{id}", put(replace).delete(remove))
        .route("/tasks/{id}/reply-preview", post(preview))
}

/// A template as the queue lists it: stored ones have an id and a brand; the config's have
/// neither (they serve every brand and are changed in the config file).
#[derive(Debug, serde::Serialize)]
struct TemplateView {
    id: Option<i64>,
    brand: Option<String>,
    name: String,
    text: String,
    /// Offered first on a negative task.
    apology: bool,
    /// `app` (managed in the queue) or `config`.
    source: &'static str,
    updated_by: Option<String>,
    updated_at_ms: Option<i64>,
}

impl From<ReplyTemplateRow> for TemplateView {
    fn from(row: ReplyTemplateRow) -> TemplateView {
        TemplateView {
            id: Some(row.id),
            brand: Some(row.brand.to_string()),
            name: row.name,
            text: row.text,
            apology: row.apology,
            source: "app",
            updated_by: Some(row.updated_by),
            updated_at_ms: Some(row.updated_at_ms),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// Only the templates this brand's tasks can use (its own and the config's).
    brand: Option<String>,
}

fn brand_of(state: &AppState, id: &str) -> Result<BrandId, ApiError> {
    let brand = BrandId::parse(id).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if state.settings.brand(&brand).is_none() {
        return Err(ApiError::BadRequest(format!("brand {id:?} is not configured")));
    }
    Ok(brand)
}

/// The brand's stored templates first (by name), then the config's.
async fn list(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<TemplateView>>, ApiError> {
    let brand = query
        .brand
        .filter(|b| !b.trim().is_empty())
        .map(|b| brand_of(&state, &b))
        .transpose()?;
    let stored = state.store.reply_templates(brand.as_ref()).await?;
    let mut out: Vec<TemplateView> = stored.into_iter().map(TemplateView::from).collect();
    out.extend(state.settings.templates.iter().map(|t| TemplateView {
        id: None,
        brand: None,
        name: t.name.clone(),
        text: t.text.clone(),
        apology: false,
        source: "config",
        updated_by: None,
        updated_at_ms: None,
    }));
    Ok(Json(out))
}

/// A template as a lead writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateRequest {
    brand: String,
    name: String,
    text: String,
    #[serde(default)]
    apology: bool,
}

fn checked(state: &AppState, caller: &Caller, body: TemplateRequest) -> Result<NewReplyTemplate, ApiError> {
    caller.supervisor()?;
    let brand = brand_of(state, &body.brand)?;
    let (name, text) = (body.name.trim().to_owned(), body.text.trim().to_owned());
    template::check_new(&name, &text).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(NewReplyTemplate {
        brand,
        name,
        text,
        apology: body.apology,
        actor: caller.actor.name.clone(),
        at: now_millis(),
    })
}

async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<TemplateRequest>,
) -> Result<(StatusCode, Json<TemplateView>), ApiError> {
    let template = checked(&state, &caller, body)?;
    let row = state.store.save_reply_template(None, &template).await?;
    tracing::info!(template = row.id, brand = %row.brand, actor = %caller.actor.name, "Reply template created.");
    Ok((StatusCode::CREATED, Json(row.into())))
}

async fn replace(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
    Json(body): Json<TemplateRequest>,
) -> Result<Json<TemplateView>, ApiError> {
    let template = checked(&state, &caller, body)?;
    let row = state.store.save_reply_template(Some(id), &template).await?;
    tracing::info!(template = row.id, brand = %row.brand, actor = %caller.actor.name, "Reply template changed.");
    Ok(Json(row.into()))
}

async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    caller.supervisor()?;
    state.store.delete_reply_template(id).await?;
    tracing::info!(template = id, actor = %caller.actor.name, "Reply template deleted.");
    Ok(StatusCode::NO_CONTENT)
}

/// Which template to fill in: a stored one by id, or one by name (the brand's stored
/// template of that name before the config's).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewRequest {
    #[serde(default)]
    template: Option<String>,
    #[serde(default)]
    template_id: Option<i64>,
}

/// The template filled in for this task and the caller.
async fn preview(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<TaskId>,
    Json(body): Json<PreviewRequest>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let detail = state.store.task_detail(id).await?;
    let task = &detail.task;
    let brand = task.brand.clone();
    let stored = state.store.reply_templates(Some(&brand)).await?;
    let (name, text) = match (body.template_id, body.template) {
        (Some(template_id), _) => {
            let row = stored
                .into_iter()
                .find(|t| t.id == template_id)
                .ok_or_else(|| ApiError::NotFound(format!("template {template_id} of brand {brand}")))?;
            (row.name, row.text)
        }
        (None, Some(name)) => match stored.into_iter().find(|t| t.name == name) {
            Some(row) => (row.name, row.text),
            None => {
                let config = (state.settings.templates.iter())
                    .find(|t| t.name == name)
                    .ok_or_else(|| ApiError::NotFound(format!("template {name:?}")))?;
                (config.name.clone(), config.text.clone())
            }
        },
        (None, None) => return Err(ApiError::BadRequest("name a template or a template_id".into())),
    };
    let brand_name = state
        .settings
        .brand(&brand)
        .map_or_else(|| task.brand.to_string(), |b| b.name.clone());
    // The customer's display name from their latest post that has one.
    let display_name = detail
        .posts
        .iter()
        .rev()
        .filter(|p| p.author_handle == task.author_handle)
        .find_map(|p| p.author_name.as_deref());
    let text = template::render(
        &text,
        &TemplateValues {
            author: &task.author_handle,
            first_name: template::first_name(display_name, &task.author_handle),
            brand: &brand_name,
            agent: &caller.actor.name,
            platform: task.platform.as_str(),
        },
    )
    .map_err(|error| ApiError::BadRequest(error.to_string()))?;
    Ok(Json(serde_json::json!({ "template": name, "text": text })))
}
