//! `TestApp`: the web app as `serve` builds it (the real router over a real store), driven
//! through the router in-process by `Client`s (anonymous, logged in with a session cookie
//! and CSRF token, or with a bearer token), or served on a loopback port (`serve`) for tests
//! that need real sockets: the server loop's limits and the browser tests.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use earshot::auth::Role;
use earshot::config::Settings;
use earshot::store::Store;
use earshot::web::{AppState, ServerLimits, router};

use super::env::TestEnv;
use super::fill::PASSWORD;

/// The real router over a store and its settings.
pub(crate) struct TestApp {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) router: axum::Router,
    /// The state's shutdown: cancelled, long-lived responses end and `serve` stops.
    shutdown: CancellationToken,
}

impl TestApp {
    /// The router over `store` and `settings`.
    pub(crate) fn new(store: &Arc<dyn Store>, settings: &Arc<Settings>) -> TestApp {
        TestApp::with_state(AppState::new(store.clone(), settings.clone()))
    }

    /// The router over `state` (for a state with a model probe).
    pub(crate) fn with_state(state: AppState) -> TestApp {
        TestApp {
            store: state.store.clone(),
            shutdown: state.shutdown.clone(),
            router: router(state),
        }
    }

    /// The router over a fresh store (migrated, config mirrored) on `env`'s database with
    /// `settings`.
    pub(crate) async fn start(settings: Settings) -> TestApp {
        let settings = Arc::new(settings);
        let store = earshot::app::open_store(&settings).await.expect("store opens");
        TestApp::new(&store, &settings)
    }

    /// The router over a fresh store on `env`'s database with its standard config.
    pub(crate) async fn on(env: &TestEnv) -> TestApp {
        TestApp::start(env.settings()).await
    }

    /// A caller without a session or token.
    pub(crate) fn anonymous(&self) -> Client {
        Client {
            app: self.router.clone(),
            cookie: None,
            csrf: None,
            bearer: None,
        }
    }

    /// A caller logged in as `username` (password `PASSWORD`): session cookie and CSRF token.
    pub(crate) async fn login(&self, username: &str) -> Client {
        let mut client = self.anonymous();
        let (status, headers, body) = client
            .send(
                "POST",
                "/login",
                Some(json!({ "username": username, "password": PASSWORD })),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let cookie = headers[header::SET_COOKIE].to_str().unwrap().to_owned();
        client.cookie = Some(cookie.split(';').next().unwrap().to_owned());
        client.csrf = body["csrf_token"].as_str().map(str::to_owned);
        client
    }

    /// A caller with a new machine token of `role`.
    pub(crate) async fn bearer(&self, role: Role) -> Client {
        let authorization = api_bearer(&self.store, role).await;
        let mut client = self.anonymous();
        client.bearer = Some(authorization.trim_start_matches("Bearer ").to_owned());
        client
    }

    /// Serves the router on a free loopback port with the default server limits.
    pub(crate) async fn serve(&self) -> Served {
        self.serve_with(ServerLimits::default()).await
    }

    /// Serves the router on a free loopback port with `limits`; stopped when the `Served`
    /// is dropped.
    pub(crate) async fn serve_with(&self, limits: ServerLimits) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stopped = tokio::spawn(earshot::web::serve(
            listener,
            self.router.clone(),
            self.shutdown.clone().cancelled_owned(),
            limits,
        ));
        Served {
            addr,
            base: format!("http://{addr}"),
            store: self.store.clone(),
            shutdown: self.shutdown.clone(),
            stopped,
        }
    }
}

/// The app on a loopback port, stopped on drop.
pub(crate) struct Served {
    pub(crate) addr: SocketAddr,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) shutdown: CancellationToken,
    /// The server loop, ending when the shutdown is cancelled and its connections are done.
    pub(crate) stopped: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Stops serving, as a crashed or unreachable server looks to a client.
    pub(crate) fn stop(&self) {
        self.shutdown.cancel();
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A caller of the router: anonymous, logged in (cookie and CSRF token) or with a bearer
/// token.
pub(crate) struct Client {
    pub(crate) app: axum::Router,
    pub(crate) cookie: Option<String>,
    pub(crate) csrf: Option<String>,
    pub(crate) bearer: Option<String>,
}

impl Client {
    /// A request for `method uri` with the caller's cookie, CSRF token and bearer token.
    fn request(&self, method: &str, uri: &str) -> axum::http::request::Builder {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(cookie) = &self.cookie {
            request = request.header(header::COOKIE, cookie);
        }
        if let Some(csrf) = &self.csrf {
            request = request.header("x-csrf-token", csrf);
        }
        if let Some(token) = &self.bearer {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request
    }

    /// `method uri` with `body` as JSON; the answer's status, headers and body (JSON, or the
    /// text as a JSON string).
    pub(crate) async fn send(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, HeaderMap, Value) {
        let mut request = self.request(method, uri);
        let body = match body {
            Some(json) => {
                request = request.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let response = self.app.clone().oneshot(request.body(body).unwrap()).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, headers, json)
    }

    /// `POST uri` with `body` as it is (no content type): the answer's status and body (JSON,
    /// or the text as a JSON string).
    pub(crate) async fn post_raw(&self, uri: &str, body: impl Into<Body>) -> (StatusCode, Value) {
        let request = self.request("POST", uri).body(body.into()).unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, json)
    }

    /// `GET uri` with `headers` besides the caller's own: the whole answer, for bodies that
    /// are not JSON (files, pages, compressed answers).
    pub(crate) async fn get_raw(&self, uri: &str, headers: &[(&str, &str)]) -> axum::response::Response {
        let mut request = self.request("GET", uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.app
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    pub(crate) async fn get(&self, uri: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.send("GET", uri, None).await;
        (status, body)
    }

    pub(crate) async fn post_json(&self, uri: &str, body: Value) -> (StatusCode, Value) {
        let (status, _, body) = self.send("POST", uri, Some(body)).await;
        (status, body)
    }

    /// A task action (`POST /api/tasks/{id}/actions`).
    pub(crate) async fn act(&self, id: i64, action: Value) -> (StatusCode, Value) {
        self.post_json(&format!("/api/tasks/{id}/actions"), action).await
    }
}

/// Creates a machine token for API tests (the API needs a session or a token) and returns
/// the `authorization` header value for it (one token per role: names are unique).
pub(crate) async fn api_bearer(store: &Arc<dyn Store>, role: Role) -> String {
    let token = earshot::auth::new_token();
    store
        .create_api_token(
            &earshot::auth::token_hash(&token),
            &format!("tests-{}", role.as_str()),
            role,
            earshot::domain::now_millis(),
        )
        .await
        .expect("create an API token");
    format!("Bearer {token}")
}
