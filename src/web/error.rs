//! `ApiError`: the one HTTP-facing error, mapped to a status in one `match`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;
use crate::telemetry::error_chain;

/// An error a handler returns.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 404: the thing does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// 400: the request is malformed; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no valid session or token.
    #[error("log in first")]
    Unauthorized,
    /// 403: the role, the assignment or a missing CSRF token forbids it.
    #[error("{0}")]
    Forbidden(String),
    /// 409: the task is not in a state for this, or someone else changed it.
    #[error("{0}")]
    Conflict(String),
    /// 429: too many attempts; try again after `retry_after_secs`.
    #[error("too many failed logins for this user or address; try again in {retry_after_secs} s")]
    TooManyAttempts { retry_after_secs: u64 },
    /// 500: details are logged, never sent.
    #[error("internal error")]
    Internal(#[source] StoreError),
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict(what) => ApiError::Conflict(what),
            other => ApiError::Internal(other),
        }
    }
}

impl From<crate::tasks::actions::ActionError> for ApiError {
    fn from(error: crate::tasks::actions::ActionError) -> Self {
        use crate::tasks::actions::ActionError;
        match error {
            ActionError::Forbidden(what) => ApiError::Forbidden(what),
            ActionError::Conflict(what) => ApiError::Conflict(what),
            ActionError::Invalid(what) => ApiError::BadRequest(what),
        }
    }
}

impl ApiError {
    /// The HTTP status this error maps to.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(error) = &self {
            tracing::error!(error = %error_chain(error), "Request failed.");
        }
        let body = Json(serde_json::json!({ "error": self.to_string() }));
        let mut response = (self.status(), body).into_response();
        if let ApiError::TooManyAttempts { retry_after_secs } = self {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
        }
        response
    }
}
