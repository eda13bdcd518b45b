//! What operators and their tooling read: `GET /metrics` (Prometheus text format),
//! `GET /readyz` (ready to take traffic) beside `/healthz` (the process answers), and the
//! middleware that counts every request by route template, method and status.
//!
//! `/metrics` takes `Authorization: Bearer <token>` with `[http] metrics_token` or an admin
//! API token; anything else is 401, and without an installed recorder (the service installs
//! one at start) it is 404. Store-backed gauges are read at scrape time. Nothing here writes.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState, auth};
use crate::auth::{Role, same_secret};
use crate::domain::now_millis;
use crate::metrics as names;

/// Counts the request and times its answer (until the response head; a stream's body is
/// not included).
pub(super) async fn track(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::histogram!(names::HTTP_REQUEST_SECONDS, "route" => route.clone()).record(started.elapsed().as_secs_f64());
    metrics::counter!(names::HTTP_REQUESTS, "route" => route, "method" => method, "status" => status).increment(1);
    response
}

/// Whether the request carries the metrics token or an admin API token.
async fn may_scrape(state: &AppState, headers: &HeaderMap) -> Result<bool, ApiError> {
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let (Some(sent), Some(expected)) = (sent, &state.settings.http.metrics_token)
        && same_secret(sent, expected.expose())
    {
        return Ok(true);
    }
    Ok(auth::identify(state, headers)
        .await?
        .is_some_and(|caller| caller.csrf_token.is_none() && caller.actor.role == Role::Admin))
}

/// `GET /metrics`.
pub(super) async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if !may_scrape(&state, &headers).await? {
        return Err(ApiError::Unauthorized);
    }
    let Some(handle) = crate::metrics::install() else {
        return Err(ApiError::NotFound("metrics recorder".into()));
    };
    let counts = state.store.counts().await?;
    metrics::gauge!(names::PENDING_MENTIONS).set(counts.pending as f64);
    metrics::gauge!(names::TASKS_ACTIVE).set(counts.tasks_active as f64);
    metrics::gauge!(names::OUTBOX_PENDING).set(counts.alerts_pending as f64);
    metrics::gauge!(names::QUARANTINED).set(counts.quarantined as f64);
    let channels: Vec<String> = state.settings.alerts.channels.iter().map(|c| c.name.clone()).collect();
    let now = now_millis();
    for channel in state.store.channel_states(&channels).await? {
        for (status, n) in [
            ("pending", channel.pending),
            ("held", channel.held),
            ("sent", channel.sent),
            ("dead", channel.dead),
        ] {
            metrics::gauge!(names::CHANNEL_DELIVERIES, "channel" => channel.name.clone(), "status" => status)
                .set(n as f64);
        }
        let lag_ms = channel.oldest_pending_at_ms.map_or(0, |at| (now - at).max(0));
        metrics::gauge!(names::CHANNEL_DELIVERY_LAG, "channel" => channel.name.clone()).set(lag_ms as f64 / 1000.0);
    }
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
        .into_response())
}

/// `GET /readyz`: 200 when the database answers (its schema was migrated before the server
/// started listening) and the scoring model is loaded and its thread running; 503 naming
/// what is not.
pub(super) async fn readyz(State(state): State<AppState>) -> Response {
    let database = match state.store.counts().await {
        Ok(_) => "ok".to_owned(),
        Err(error) => {
            tracing::warn!(error = %crate::telemetry::error_chain(&error), "Readiness: the database did not answer.");
            "unreachable".to_owned()
        }
    };
    let model = match &state.model_running {
        Some(running) if running() => "loaded",
        Some(_) => "stopped",
        None => "not used here",
    };
    let ready = database == "ok" && model != "stopped";
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = serde_json::json!({ "ready": ready, "database": database, "model": model });
    (status, axum::Json(body)).into_response()
}
