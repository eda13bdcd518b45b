//! The web queue and its JSON API (axum), served by the binary itself.
//!
//! Invariant: no SQL and no HTTP clients here; handlers call the store and turn its records
//! into JSON. Post text is hostile input: the page renders everything with `textContent`,
//! only `http(s)` links become anchors, and a strict Content-Security-Policy forbids inline
//! script, so nothing a post contains can run.

mod actions;
mod api;
pub mod auth;
mod channels;
mod dashboard;
mod error;
mod exports;
mod ingest;
mod login_guard;
mod mentions;
pub mod openapi;
mod ops;
mod privacy;
mod problems;
mod replies;
mod server;
mod templates;

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use error::ApiError;
pub use server::{ServerLimits, serve};

use crate::config::Settings;
use crate::store::Store;

/// What handlers share.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<Settings>,
    /// Cancelled when the service stops: long-lived responses (the event stream) end then.
    pub shutdown: CancellationToken,
    /// Whether the scoring model is loaded and its thread running, for `/readyz`; `None`
    /// where this process scores nothing.
    pub model_running: Option<Arc<dyn Fn() -> bool + Send + Sync>>,
}

impl AppState {
    /// State for a router that runs until `shutdown` of the returned state is cancelled.
    pub fn new(store: Arc<dyn Store>, settings: Arc<Settings>) -> AppState {
        AppState {
            store,
            settings,
            shutdown: CancellationToken::new(),
            model_running: None,
        }
    }

    /// The same state, `/readyz` asking `running` whether the scoring model is up.
    pub fn with_model_probe(self, running: Arc<dyn Fn() -> bool + Send + Sync>) -> AppState {
        AppState {
            model_running: Some(running),
            ..self
        }
    }

    /// The same state, its long-lived responses ending when `shutdown` is cancelled.
    pub fn with_shutdown(self, shutdown: CancellationToken) -> AppState {
        AppState { shutdown, ..self }
    }
}

const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// `Strict-Transport-Security` when the UI is reached over HTTPS: a year.
const HSTS: &str = "max-age=31536000";

/// The routes of the UI and API.
pub fn router(state: AppState) -> Router {
    let https = state.settings.http.secure_cookies;
    let router = Router::new()
        .route("/", get(index))
        .route("/login", get(login_page).post(auth::login))
        .route("/assets/app.js", get(app_js))
        .route("/assets/login.js", get(login_js))
        .route("/assets/app.css", get(app_css))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .nest(
            "/api",
            api::routes()
                .merge(actions::routes())
                .merge(channels::routes())
                .merge(dashboard::routes())
                .merge(mentions::routes())
                .merge(privacy::routes())
                .merge(problems::routes())
                .merge(replies::routes())
                .merge(templates::routes())
                .route("/me", get(auth::me))
                .route("/logout", post(auth::logout))
                .route("/openapi.json", get(|| async { axum::Json(openapi::document()) }))
                .route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require))
                // After the layer: ingest checks its own bearer token (role ingest or admin).
                .merge(ingest::routes()),
        )
        .merge(exports::routes().route_layer(axum::middleware::from_fn_with_state(state.clone(), auth::require)))
        .with_state(state)
        .layer(axum::middleware::from_fn(ops::track))
        // gzip for clients that ask (the queue's JSON, the page and scripts); never for the
        // event stream, images or tiny answers (tower-http's default predicate).
        .layer(tower_http::compression::CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ));
    // Served over HTTPS (`secure_cookies`): browsers are told to never use plain HTTP here.
    if https {
        router.layer(SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        ))
    } else {
        router
    }
}

/// The queue page; without a valid session, the login page.
async fn index(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match auth::identify(&state, &headers).await {
        Ok(Some(_)) => Html(include_str!("assets/index.html")).into_response(),
        Ok(None) => Redirect::to("/login").into_response(),
        Err(error) => error.into_response(),
    }
}

async fn login_page() -> Html<&'static str> {
    Html(include_str!("assets/login.html"))
}

async fn login_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/login.js"),
    )
}

async fn app_js() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("assets/app.js"),
    )
}

async fn app_css() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("assets/app.css"),
    )
}
