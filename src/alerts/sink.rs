//! Sending one alert to one chat channel over HTTP, and classifying what came back.
//!
//! `AlertSink` posts the body the channel's platform renders to the channel's webhook (the
//! URL is a secret: it is exposed only to build the request, and errors are stripped of it),
//! and maps the answer to `Sent` or a `SendError` the caller can act on: retry later
//! (`RateLimited`, `Transient`), give up on this alert (`Rejected`), or disable the channel
//! (`Gone`). What differs per platform (the request's shape, signing, the sent message's id,
//! threads, edits, answers that mean "gone") is asked of `alerts::channels`; nothing here
//! names a platform.

use std::time::Duration;

use reqwest::StatusCode;

use super::channels::{Attempt, ChatPlatform, Outgoing};
use super::render::{UpdateOf, truncate_chars};
use super::{AlertPayload, ChannelSettings};
use crate::domain::Millis;

/// How much of an error body is kept for the UI.
const ERROR_BODY_MAX: usize = 200;

/// Where the platform put a message, for later edits and threads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sent {
    pub status: u16,
    pub external_id: Option<String>,
    pub thread_key: Option<String>,
}

/// Why a send failed, by what the caller should do about it. Messages never hold the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 429: wait `retry_after` (when the platform said) and try again.
    #[error("rate limited")]
    RateLimited { retry_after: Option<Duration> },
    /// 5xx, timeouts, connection failures: back off and try again.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// The destination no longer exists or was revoked (404, 410, Slack `no_service`, …):
    /// the channel is disabled until someone fixes its config.
    #[error("destination gone: {0}")]
    Gone(String),
    /// The platform refused this message (other 4xx) or the channel is misconfigured;
    /// retrying the same request would not help.
    #[error("rejected: {0}")]
    Rejected(String),
}

/// One configured channel and the shared HTTP client.
#[derive(Debug, Clone)]
pub struct AlertSink {
    settings: ChannelSettings,
    client: reqwest::Client,
}

impl AlertSink {
    pub fn new(settings: ChannelSettings, client: reqwest::Client) -> AlertSink {
        AlertSink { settings, client }
    }

    pub fn name(&self) -> &str {
        &self.settings.name
    }

    pub fn settings(&self) -> &ChannelSettings {
        &self.settings
    }

    /// Sends `payload`. `message_id` is stable across retries of the same delivery (the
    /// Standard Webhooks `webhook-id`); `previous` is the platform id of the message already
    /// posted about the same task on this channel, if any.
    pub async fn send(
        &self,
        payload: &AlertPayload,
        message_id: &str,
        previous: Option<&str>,
        now: Millis,
    ) -> Result<Sent, SendError> {
        self.send_with(payload, message_id, previous, None, now).await
    }

    /// Like `send`; `update` marks the message as an update of a task posted before, for
    /// platforms where it cannot edit or thread (see `render::UpdateOf`).
    pub async fn send_with(
        &self,
        payload: &AlertPayload,
        message_id: &str,
        previous: Option<&str>,
        update: Option<UpdateOf>,
        now: Millis,
    ) -> Result<Sent, SendError> {
        let platform = self.settings.platform();
        let body = self.settings.kind.render(payload, update);
        let body_bytes = serde_json::to_vec(&body)
            .map_err(|error| SendError::Rejected(format!("body does not serialise: {error}")))?;
        let url = url::Url::parse(self.settings.url.expose())
            .map_err(|_| SendError::Rejected("the channel URL is not a valid URL".to_owned()))?;
        let mut outgoing = Outgoing {
            method: reqwest::Method::POST,
            url,
            headers: Vec::new(),
        };
        let attempt = Attempt {
            message_id,
            previous,
            now,
            body: &body_bytes,
        };
        platform.prepare(&mut outgoing, &attempt).map_err(SendError::Rejected)?;
        let mut request = self
            .client
            .request(outgoing.method, outgoing.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        for (name, value) in outgoing.headers {
            request = request.header(name, value);
        }
        let response = request.body(body_bytes).send().await.map_err(|error| {
            let error = error.without_url();
            if error.is_timeout() {
                SendError::Transient("timed out".to_owned())
            } else if error.is_connect() {
                SendError::Transient("could not connect".to_owned())
            } else {
                SendError::Transient(format!("request failed: {error}"))
            }
        })?;
        let status = response.status();
        let retry_after = retry_after(response.headers(), now);
        let text = response
            .text()
            .await
            .map_err(|error| SendError::Transient(format!("reading the answer failed: {}", error.without_url())))?;
        if previous.is_some() && platform.earlier_message_deleted(status.as_u16(), &text) {
            // Someone deleted the message this update would edit; the channel itself is fine,
            // so post the update as a new message.
            tracing::info!(channel = %self.settings.name, "The earlier message was deleted; posting anew.");
            return Box::pin(self.send_with(payload, message_id, None, update, now)).await;
        }
        classify(platform, status, retry_after, &text, payload)
    }
}

/// Maps the platform's answer to the outcome.
fn classify(
    platform: &dyn ChatPlatform,
    status: StatusCode,
    header_retry_after: Option<Duration>,
    body: &str,
    payload: &AlertPayload,
) -> Result<Sent, SendError> {
    let snippet = truncate_chars(body.trim(), ERROR_BODY_MAX);
    if platform.says_gone(body) {
        return Err(SendError::Gone(format!("HTTP {}: {snippet}", status.as_u16())));
    }
    if status.is_success() {
        let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
        let external_id = json.as_ref().and_then(|answer| platform.sent_id(answer));
        let thread_key = if platform.capabilities().threads {
            platform.thread_key(payload)
        } else {
            None
        };
        return Ok(Sent {
            status: status.as_u16(),
            external_id,
            thread_key,
        });
    }
    match status.as_u16() {
        429 => {
            let body_retry = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v["retry_after"].as_f64())
                .and_then(|secs| Duration::try_from_secs_f64(secs).ok());
            Err(SendError::RateLimited {
                retry_after: header_retry_after.or(body_retry),
            })
        }
        401 | 403 | 404 | 410 => Err(SendError::Gone(format!("HTTP {}: {snippet}", status.as_u16()))),
        408 | 500..=599 => Err(SendError::Transient(format!("HTTP {}: {snippet}", status.as_u16()))),
        code => Err(SendError::Rejected(format!("HTTP {code}: {snippet}"))),
    }
}

/// `Retry-After` (seconds), else `X-RateLimit-Reset-After` (Discord sends it), else
/// `X-RateLimit-Reset` (epoch seconds) relative to `now`.
fn retry_after(headers: &reqwest::header::HeaderMap, now: Millis) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<f64>().ok())
            .filter(|value| value.is_finite() && *value >= 0.0)
    };
    if let Some(secs) = number("retry-after").or_else(|| number("x-ratelimit-reset-after")) {
        return Duration::try_from_secs_f64(secs).ok();
    }
    let reset = number("x-ratelimit-reset")?;
    let wait_ms = (reset * 1000.0) as i64 - now;
    Some(Duration::from_millis(u64::try_from(wait_ms).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::channels::{Discord, Slack, Teams};

    #[test]
    fn answers_are_classified_by_what_to_do() {
        let alert = AlertPayload::sample();
        let ok = classify(&Discord, StatusCode::OK, None, r#"{"id":"42"}"#, &alert).unwrap();
        assert_eq!(ok.external_id.as_deref(), Some("42"));
        assert!(matches!(
            classify(&Slack, StatusCode::FORBIDDEN, None, "no_service", &alert),
            Err(SendError::Gone(_))
        ));
        assert!(matches!(
            classify(&Slack, StatusCode::BAD_REQUEST, None, "invalid_payload", &alert),
            Err(SendError::Rejected(_))
        ));
        assert_eq!(
            classify(
                &Discord,
                StatusCode::TOO_MANY_REQUESTS,
                None,
                r#"{"retry_after": 1.5}"#,
                &alert
            ),
            Err(SendError::RateLimited {
                retry_after: Some(Duration::from_millis(1500))
            })
        );
        assert!(matches!(
            classify(&Teams, StatusCode::BAD_GATEWAY, None, "", &alert),
            Err(SendError::Transient(_))
        ));
    }
}
