//! `GET /api/channels`: each configured alert channel, its kind, whether a permanent failure
//! disabled it (and why), and its delivery counts. Never the webhook URL.

use axum::Json;
use axum::extract::State;
use axum::routing::get;
use axum::{Router, response::IntoResponse};

use super::{ApiError, AppState};
use crate::alerts::ChannelKind;
use crate::store::ChannelState;

#[derive(Debug, serde::Serialize)]
struct ChannelView {
    kind: ChannelKind,
    #[serde(flatten)]
    state: ChannelState,
}

pub(super) fn routes() -> Router<AppState> {
    Router::new().route("/channels", get(channels))
}

async fn channels(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let configured = &state.settings.alerts.channels;
    let names: Vec<String> = configured.iter().map(|channel| channel.name.clone()).collect();
    let states = state.store.channel_states(&names).await?;
    let views: Vec<ChannelView> = configured
        .iter()
        .zip(states)
        .map(|(channel, state)| ChannelView {
            kind: channel.kind,
            state,
        })
        .collect();
    Ok(Json(views))
}
