//! Sending replies from the queue under `/api`: the task's reply account and its replies
//! (`GET /tasks/{id}/replies`), the count in the platform's limit
//! (`POST /tasks/{id}/reply-check`), "Send reply" and "Send & resolve"
//! (`POST /tasks/{id}/replies`: the reply is queued, the reply worker publishes it), "Retry"
//! (`POST /replies/{id}/retry`) and the reply accounts' health (`GET /reply-accounts`).
//!
//! Nothing is sent from here (no outbound HTTP in `web`): a reply is a row the worker sends.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;

use super::auth::Caller;
use super::{ApiError, AppState};
use crate::domain::{Millis, ReplyId, TaskId, now_millis};
use crate::replies::{ReplyAccountSettings, ReplyTarget, TextCheck, account_key, can_publish_on};
use crate::store::{NewReply, ReplyRow};
use crate::tasks::actions::decide_send;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/tasks/{id}/replies", get(task_replies).post(send))
        .route("/tasks/{id}/reply-check", post(check))
        .route("/replies/{id}/retry", post(retry))
        .route("/reply-accounts", get(accounts))
}

/// The account a task's replies go out from, and whether this caller can send one now.
#[derive(Debug, serde::Serialize)]
struct SendAccount {
    platform: String,
    /// Who earshot posts as (from the last check of the account, else the config).
    posts_as: String,
    /// Whether earshot can send the reply at all; `reason` says why not.
    can_send: bool,
    reason: Option<String>,
    /// The account's last error (a revoked token), if it has not worked since.
    account_error: Option<String>,
    /// The limit and unit replies are counted in.
    limit: Option<usize>,
    unit: Option<&'static str>,
}

#[derive(Debug, serde::Serialize)]
struct TaskReplies {
    account: SendAccount,
    replies: Vec<ReplyRow>,
}

async fn task_account(state: &AppState, caller: &Caller, task_id: TaskId) -> Result<SendAccount, ApiError> {
    let task = state.store.task_detail(task_id).await?.task;
    let target = state.store.reply_target(task_id).await?.map(|(_, target)| target);
    let brand = task.brand.clone();
    let account = state
        .settings
        .brand(&brand)
        .and_then(|b| b.reply_account(task.platform));
    let health = match account {
        Some(account) => {
            let key = account_key(&brand, account.platform());
            state
                .store
                .account_health()
                .await?
                .into_iter()
                .find(|h| h.account == key)
        }
        None => None,
    };
    let reason = why_not(state, caller, task.platform.as_str(), account, target.as_ref());
    Ok(SendAccount {
        platform: task.platform.to_string(),
        posts_as: account
            .map(|a| {
                health
                    .as_ref()
                    .and_then(|h| h.handle.clone())
                    .unwrap_or_else(|| a.label())
            })
            .unwrap_or_default(),
        can_send: reason.is_none(),
        reason,
        account_error: health.and_then(|h| h.last_error),
        limit: account.map(|a| a.check_text("").limit),
        unit: account.map(|a| a.check_text("").unit),
    })
}

/// Why this caller cannot send on this task's platform, or `None`.
fn why_not(
    state: &AppState,
    caller: &Caller,
    platform: &str,
    account: Option<&ReplyAccountSettings>,
    target: Option<&ReplyTarget>,
) -> Option<String> {
    let publishable = platform.parse().is_ok_and(can_publish_on);
    if !publishable {
        return Some(format!(
            "{platform} has no write API: copy the reply, open the original and post it there, then record it"
        ));
    }
    let Some(account) = account else {
        return Some(format!(
            "the brand has no {platform} reply account configured; record the reply instead"
        ));
    };
    let min_role = state.settings.tasks.send_role;
    if caller.actor.role < min_role || !caller.actor.role.is_for_users() {
        return Some(format!(
            "sending replies as the brand needs the {min_role} role or higher; record the reply instead"
        ));
    }
    let target = target?;
    account.check_target(target).err()
}

async fn task_replies(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<TaskId>,
) -> Result<Json<TaskReplies>, ApiError> {
    Ok(Json(TaskReplies {
        account: task_account(&state, &caller, id).await?,
        replies: state.store.task_replies(id).await?,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CheckRequest {
    text: String,
}

#[derive(Debug, serde::Serialize)]
struct CheckResponse {
    #[serde(flatten)]
    check: TextCheck,
    fits: bool,
    /// What to change when it does not fit.
    problem: Option<String>,
}

/// Counts `text` as the task's platform counts it: by the brand's reply account there, or,
/// without one (a reply posted by hand), by the platform's own limit.
async fn check(
    State(state): State<AppState>,
    Path(id): Path<TaskId>,
    Json(body): Json<CheckRequest>,
) -> Result<Json<CheckResponse>, ApiError> {
    let task = state.store.task_detail(id).await?.task;
    let platform = task.platform;
    let account = state
        .settings
        .brand(&task.brand)
        .and_then(|b| b.reply_account(platform));
    let check = match account {
        Some(account) => account.check_text(&body.text),
        None => crate::replies::text::platform_check(platform, &body.text)
            .ok_or_else(|| ApiError::Conflict(format!("{platform} has no known reply limit")))?,
    };
    Ok(Json(CheckResponse {
        fits: check.fits(),
        problem: check.problem(),
        check,
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SendRequest {
    text: String,
    /// "Send & resolve": resolve the task once the platform accepted the reply.
    #[serde(default)]
    resolve: bool,
    #[serde(default)]
    expected_updated_at_ms: Option<Millis>,
}

/// Queues a reply (claiming the task if nobody has); the reply worker publishes it. 202.
async fn send(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<TaskId>,
    Json(body): Json<SendRequest>,
) -> Result<(StatusCode, Json<ReplyRow>), ApiError> {
    let row = queue_reply(
        &state,
        &caller,
        id,
        &body.text,
        body.resolve,
        body.expected_updated_at_ms,
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(row)))
}

/// The one way a reply enters the reply outbox, for one task or a problem's bulk answer:
/// the caller's role, the task's state, the account and the platform's text limit are
/// checked, the task claimed if nobody has it, and the reply row written before anything is
/// sent.
pub(super) async fn queue_reply(
    state: &AppState,
    caller: &Caller,
    id: TaskId,
    text: &str,
    resolve: bool,
    expected_updated_at_ms: Option<Millis>,
) -> Result<ReplyRow, ApiError> {
    let task = state.store.task_detail(id).await?.task;
    let (post_id, target) = state
        .store
        .reply_target(id)
        .await?
        .ok_or_else(|| ApiError::Conflict(format!("task {id} has no post to answer")))?;
    let brand = task.brand.clone();
    let account = state
        .settings
        .brand(&brand)
        .and_then(|b| b.reply_account(target.platform));
    if let Some(reason) = why_not(state, caller, target.platform.as_str(), account, Some(&target)) {
        return Err(ApiError::Conflict(reason));
    }
    let Some(account) = account else {
        return Err(ApiError::Conflict("no reply account".into()));
    };
    let text = text.trim().to_owned();
    if let Some(problem) = account.check_text(&text).problem() {
        return Err(ApiError::BadRequest(problem));
    }
    let now = now_millis();
    let claim = decide_send(
        &task,
        &caller.actor,
        &text,
        expected_updated_at_ms,
        now,
        state.settings.tasks.send_role,
    )?;
    let row = state
        .store
        .queue_reply(NewReply {
            task_id: id,
            post_id,
            brand,
            platform: target.platform,
            text,
            idempotency_key: account.new_key(now),
            requested_by: caller.actor.name.clone(),
            resolve_after: resolve,
            at: now,
            claim,
        })
        .await?;
    tracing::info!(task = id.get(), reply = row.id.get(), actor = %caller.actor.name, platform = %row.platform, "Reply queued.");
    Ok(row)
}

/// Queues a failed reply again (the same text and key). Anyone who may send on the task.
async fn retry(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<ReplyId>,
) -> Result<Json<ReplyRow>, ApiError> {
    let reply = state.store.reply(id).await?;
    let task = state.store.task_detail(reply.task_id).await?.task;
    decide_send(
        &task,
        &caller.actor,
        &reply.text,
        None,
        now_millis(),
        state.settings.tasks.send_role,
    )?;
    let row = state.store.retry_reply(id, &caller.actor.name, now_millis()).await?;
    tracing::info!(reply = id.get(), actor = %caller.actor.name, "Reply queued again.");
    Ok(Json(row))
}

async fn accounts(State(state): State<AppState>) -> Result<Json<Vec<serde_json::Value>>, ApiError> {
    let health = state.store.account_health().await?;
    let mut out = Vec::new();
    for brand in &state.settings.brands {
        for account in &brand.reply_accounts {
            let key = account_key(&brand.id, account.platform());
            let known = health.iter().find(|h| h.account == key);
            out.push(serde_json::json!({
                "account": key,
                "brand": brand.id.as_str(),
                "platform": account.platform().as_str(),
                "posts_as": known.and_then(|h| h.handle.clone()).unwrap_or_else(|| account.label()),
                "last_success_at_ms": known.and_then(|h| h.last_success_at_ms),
                "last_error": known.and_then(|h| h.last_error.clone()),
                "last_error_kind": known.and_then(|h| h.last_error_kind.clone()),
                "last_error_at_ms": known.and_then(|h| h.last_error_at_ms),
            }));
        }
    }
    Ok(Json(out))
}
