//! `/api/channels`: each configured alert channel, its kind, whether a permanent failure
//! disabled it (and why), and its delivery counts; never the webhook URL. A lead or admin
//! turns a disabled channel back on once its webhook is fixed, and its waiting deliveries go
//! out on the next delivery run.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

use super::auth::Caller;
use super::{ApiError, AppState};
use crate::alerts::ChannelSettings;
use crate::store::ChannelState;

#[derive(Debug, serde::Serialize)]
struct ChannelView {
    /// The platform, as its `type` in config.
    kind: String,
    #[serde(flatten)]
    state: ChannelState,
}

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/channels", get(channels))
        .route("/channels/{name}/enable", post(enable))
}

async fn views(state: &AppState, configured: &[&ChannelSettings]) -> Result<Vec<ChannelView>, ApiError> {
    let names: Vec<String> = configured.iter().map(|channel| channel.name.clone()).collect();
    let states = state.store.channel_states(&names).await?;
    Ok(configured
        .iter()
        .zip(states)
        .map(|(channel, state)| ChannelView {
            kind: channel.kind.type_name(),
            state,
        })
        .collect())
}

async fn channels(State(state): State<AppState>) -> Result<Json<Vec<ChannelView>>, ApiError> {
    let configured: Vec<&ChannelSettings> = state.settings.alerts.channels.iter().collect();
    Ok(Json(views(&state, &configured).await?))
}

/// Turns a disabled channel back on (leads and admins); answers with its state.
async fn enable(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<Json<ChannelView>, ApiError> {
    caller.supervisor()?;
    let channel = state
        .settings
        .alerts
        .channels
        .iter()
        .find(|channel| channel.name == name)
        .ok_or_else(|| ApiError::NotFound(format!("channel {name}")))?;
    state.store.enable_channel(&channel.name).await?;
    tracing::info!(channel = %channel.name, actor = %caller.actor.name, "Channel re-enabled.");
    let mut view = views(&state, &[channel]).await?;
    Ok(Json(view.remove(0)))
}
