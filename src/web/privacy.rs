//! `/api/privacy/erase`: an admin erases what identifies one author (their erasure request),
//! the same as `earshot privacy erase`. The answer counts what was touched; the audit log
//! keeps the actor and the handle's sha256, never the handle.

use axum::extract::State;
use axum::routing::post;
use axum::{Extension, Json, Router};

use super::auth::Caller;
use super::{ApiError, AppState};
use crate::auth::Role;
use crate::domain::{Platform, now_millis};
use crate::store::Erasure;

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/privacy/erase", post(erase))
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EraseRequest {
    platform: Platform,
    /// The handle as the queue shows it; case does not matter.
    author: String,
}

async fn erase(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Json(request): Json<EraseRequest>,
) -> Result<Json<Erasure>, ApiError> {
    if caller.actor.role != Role::Admin {
        return Err(ApiError::Forbidden("admins only".into()));
    }
    let author = request.author.trim();
    if author.is_empty() || author.len() > 500 {
        return Err(ApiError::BadRequest("author must be 1 to 500 characters".into()));
    }
    let erased = state
        .store
        .erase_author(request.platform, author, &caller.actor.name, now_millis())
        .await?;
    tracing::info!(
        actor = %caller.actor.name,
        n_posts = erased.n_posts,
        n_tasks = erased.n_tasks,
        "Erased an author's personal data."
    );
    Ok(Json(erased))
}
