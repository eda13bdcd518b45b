//! Who is asking: session cookies for people (with a CSRF token on every state-changing
//! request), bearer tokens for machines; the login and logout endpoints.
//!
//! The cookie is `HttpOnly; SameSite=Strict; Path=/`, and `Secure` with `[http]
//! secure_cookies`; the database keeps only the sha256 of the cookie value and of API
//! tokens. Password checks run on the blocking pool (argon2 is deliberately slow), guarded
//! against floods and guessing by `login_guard`.

use std::time::Instant;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::login_guard::LOGIN_GUARD;
use super::{ApiError, AppState};
use crate::auth::{Role, new_token, same_secret, token_hash};
use crate::domain::now_millis;
use crate::tasks::actions::Actor;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "earshot_session";
/// Checked against when the username is unknown, so that costs the same time.
static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| crate::auth::hash_password("not a real password").unwrap_or_default());
/// How long a session lasts.
const SESSION_MS: i64 = 12 * 3600 * 1000;

/// The authenticated caller, put in the request's extensions by [`require`].
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    /// Set for a browser session: the token the page must echo in `x-csrf-token`.
    pub csrf_token: Option<String>,
}

impl Caller {
    /// 403 unless the caller is a lead or admin.
    pub fn supervisor(&self) -> Result<(), ApiError> {
        if self.actor.role.supervises() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("leads and admins only".into()))
        }
    }
}

fn cookie_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The caller behind a request's headers, if any; CSRF is not checked here.
pub(super) async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    if let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let Some(token) = value.strip_prefix("Bearer ") else {
            return Ok(None);
        };
        return Ok(state.store.api_token(&token_hash(token.trim())).await?.map(|t| Caller {
            actor: Actor {
                name: format!("token:{}", t.name),
                role: t.role,
            },
            csrf_token: None,
        }));
    }
    let Some(cookie) = cookie_value(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    Ok(state
        .store
        .session_user(&token_hash(cookie), now_millis())
        .await?
        .map(|user| Caller {
            actor: Actor {
                name: user.username,
                role: user.role,
            },
            csrf_token: Some(user.csrf_token),
        }))
}

/// Middleware: 401 without a valid session or token, 403 on a state-changing session
/// request without the right `x-csrf-token`.
pub(super) async fn require(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let caller = match identify(&state, request.headers()).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return ApiError::Unauthorized.into_response(),
        Err(error) => return error.into_response(),
    };
    if caller.actor.role == Role::Ingest {
        return ApiError::Forbidden("an ingest token may only post to /api/ingest/{source_id}".into()).into_response();
    }
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if let (false, Some(expected)) = (safe, &caller.csrf_token) {
        let sent = request
            .headers()
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !same_secret(sent, expected) {
            return ApiError::Forbidden("missing or wrong CSRF token".into()).into_response();
        }
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Debug, serde::Serialize)]
pub(super) struct Me {
    username: String,
    role: Role,
    /// Send it back in `x-csrf-token` on POST requests (absent for API tokens).
    csrf_token: Option<String>,
}

/// The client's address, when the server put it on the request (`web::serve` does).
#[derive(Debug, Clone, Copy)]
pub(super) struct ClientAddr(Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

/// `POST /login`: checks the password, starts a session, sets the cookie. The attempt is
/// counted against the username and the client address before the password is checked.
pub(super) async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    Json(body): Json<LoginRequest>,
) -> Result<Response, ApiError> {
    let guard = &*LOGIN_GUARD;
    let attempt = match guard.begin(&body.username, client, Instant::now()) {
        Ok(attempt) => attempt,
        Err(left) => {
            tracing::warn!("Login refused: too many failed attempts for this username or address.");
            return Err(ApiError::TooManyAttempts {
                retry_after_secs: left.as_secs().max(1),
            });
        }
    };
    let user = state.store.user_by_name(&body.username).await?;
    // A missing user still costs one hash check, so timing does not reveal usernames.
    let stored = user
        .as_ref()
        .map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let ok = guard.verify(body.password, stored).await && user.is_some();
    let user = match user {
        Some(user) if ok && !user.disabled => user,
        _ => {
            tracing::info!("Login refused.");
            return Err(ApiError::Unauthorized);
        }
    };
    guard.succeeded(attempt);
    let session = new_token();
    let csrf = new_token();
    let now = now_millis();
    state
        .store
        .create_session(&token_hash(&session), user.id, &csrf, now, now + SESSION_MS)
        .await?;
    tracing::info!(user = %user.username, "Logged in.");
    let secure = if state.settings.http.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}{secure}",
        SESSION_MS / 1000
    );
    let mut response = Json(Me {
        username: user.username,
        role: user.role,
        csrf_token: Some(csrf),
    })
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    Ok(response)
}

/// `POST /api/logout`: ends the session and clears the cookie.
pub(super) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(cookie) = cookie_value(&headers, SESSION_COOKIE) {
        state.store.delete_session(&token_hash(cookie)).await?;
    }
    let mut response = Json(serde_json::json!({ "ok": true })).into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("earshot_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(response)
}

/// `GET /api/me`: who is logged in, and the CSRF token for the page.
pub(super) async fn me(axum::Extension(caller): axum::Extension<Caller>) -> Json<Me> {
    Json(Me {
        username: caller.actor.name,
        role: caller.actor.role,
        csrf_token: caller.csrf_token,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; earshot_session=abc; b=2"),
        );
        assert_eq!(cookie_value(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie_value(&headers, "c"), None);
    }
}
