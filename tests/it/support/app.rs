//! `TestApp`: the web app as `serve` runs it (the real router over a real store, behind
//! `earshot::web::serve`'s server loop with the `[http]` limits of its settings), listening
//! on a free loopback port from the moment it is made. `Client`s (anonymous, logged in with
//! a session cookie and CSRF token, or with a bearer token) send real HTTP requests to that
//! port, so every test sees what a browser or script would: the peer address the login's
//! per-client limit reads, `Content-Length`, compression only when asked, redirects as 3xx.
//! The server stops when the app and every client from it are dropped, or on `stop`.
//!
//! There is no in-process path: every test that used one runs the same over the socket.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode, header};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use earshot::auth::Role;
use earshot::config::Settings;
use earshot::store::Store;
use earshot::web::{AppState, ServerLimits, router};

use super::fill::PASSWORD;

/// The real app served on a loopback port.
pub(crate) struct TestApp {
    pub(crate) store: Arc<dyn Store>,
    /// `127.0.0.1` and the port picked for this app.
    pub(crate) addr: SocketAddr,
    server: Arc<Server>,
}

/// The running server, shared by the app and its clients; stopped when the last of them goes.
pub(crate) struct Server {
    /// `http://127.0.0.1:PORT`.
    base: String,
    /// The state's shutdown: cancelled, long-lived responses end and the server loop stops.
    shutdown: CancellationToken,
    /// The server loop, ending when the shutdown is cancelled and its connections are done.
    stopped: Mutex<Option<JoinHandle<std::io::Result<()>>>>,
    /// Redirects not followed, no cookie store, no compression unless a test asks for it,
    /// no pooled connections (each request opens its own, so none is ever reused after the
    /// server's idle timeout closed it).
    http: reqwest::Client,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestApp {
    /// The app over `store` and `settings`, serving.
    pub(crate) fn new(store: &Arc<dyn Store>, settings: &Arc<Settings>) -> TestApp {
        TestApp::with_state(AppState::new(store.clone(), settings.clone()))
    }

    /// The app over `state` (for a state with a model probe), serving on a free loopback
    /// port with the limits of the state's `[http]` settings.
    pub(crate) fn with_state(state: AppState) -> TestApp {
        // Bound here, synchronously, so the port takes connections before `new` returns.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let listener = tokio::net::TcpListener::from_std(listener).unwrap();
        let store = state.store.clone();
        let shutdown = state.shutdown.clone();
        let limits = ServerLimits::from_settings(&state.settings.http);
        let stopped = tokio::spawn(earshot::web::serve(
            listener,
            router(state),
            shutdown.clone().cancelled_owned(),
            limits,
        ));
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_gzip()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        TestApp {
            store,
            addr,
            server: Arc::new(Server {
                base: format!("http://{addr}"),
                shutdown,
                stopped: Mutex::new(Some(stopped)),
                http,
            }),
        }
    }

    /// The app over a fresh store (migrated, config mirrored) on the database of `settings`.
    pub(crate) async fn start(settings: Settings) -> TestApp {
        let settings = Arc::new(settings);
        let store = earshot::app::open_store(&settings).await.expect("store opens");
        TestApp::new(&store, &settings)
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    /// Stops serving, as a crashed or unreachable server looks to a client: the listener
    /// closes and open responses (the event stream) end.
    pub(crate) fn stop(&self) {
        self.server.shutdown.cancel();
    }

    /// Waits for the server loop to end (after `stop`) and returns how it ended.
    pub(crate) async fn stopped(&self) -> std::io::Result<()> {
        let handle = self.server.stopped.lock().unwrap().take();
        handle
            .expect("the server loop is awaited once")
            .await
            .expect("the server loop does not panic")
    }

    /// A caller without a session or token.
    pub(crate) fn anonymous(&self) -> Client {
        Client {
            server: self.server.clone(),
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
}

/// A caller of the app over HTTP: anonymous, logged in (cookie and CSRF token) or with a
/// bearer token. The cookie is sent as it is set here, never picked up from answers. It
/// keeps the app serving while it lives.
pub(crate) struct Client {
    pub(crate) server: Arc<Server>,
    pub(crate) cookie: Option<String>,
    pub(crate) csrf: Option<String>,
    pub(crate) bearer: Option<String>,
}

impl Client {
    /// A request for `method uri` with the caller's cookie, CSRF token and bearer token.
    fn request(&self, method: &str, uri: &str) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("an HTTP method");
        let mut request = self.server.http.request(method, format!("{}{uri}", self.server.base));
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

    /// Sends `request`; the answer's status, headers and whole body.
    async fn answer(request: reqwest::RequestBuilder) -> (StatusCode, HeaderMap, axum::body::Bytes) {
        let response = request.send().await.expect("the app answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("the whole body");
        (status, headers, bytes)
    }

    /// `method uri` with `body` as JSON; the answer's status, headers and body (JSON, or the
    /// text as a JSON string).
    pub(crate) async fn send(&self, method: &str, uri: &str, body: Option<Value>) -> (StatusCode, HeaderMap, Value) {
        let mut request = self.request(method, uri);
        if let Some(json) = body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(json.to_string());
        }
        let (status, headers, bytes) = Client::answer(request).await;
        (status, headers, json_or_text(&bytes))
    }

    /// `POST uri` with `body` as it is (no content type): the answer's status and body (JSON,
    /// or the text as a JSON string).
    pub(crate) async fn post_raw(&self, uri: &str, body: impl Into<reqwest::Body>) -> (StatusCode, Value) {
        let (status, _, bytes) = Client::answer(self.request("POST", uri).body(body)).await;
        (status, json_or_text(&bytes))
    }

    /// `GET uri` with `headers` besides the caller's own: the whole answer, for bodies that
    /// are not JSON (files, pages, compressed answers), as it came off the socket.
    pub(crate) async fn get_raw(&self, uri: &str, headers: &[(&str, &str)]) -> axum::response::Response {
        let mut request = self.request("GET", uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let (status, headers, bytes) = Client::answer(request).await;
        let mut response = axum::response::Response::new(axum::body::Body::from(bytes));
        *response.status_mut() = status;
        *response.headers_mut() = headers;
        response
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

/// `bytes` as JSON, or as the text in a JSON string.
fn json_or_text(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
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
