//! Sending one alert to one chat channel over HTTP, and classifying what came back.
//!
//! `AlertSink` posts the body `render` built to the channel's webhook (the URL is a secret:
//! it is exposed only to build the request, and errors are stripped of it), and maps the
//! answer to `Sent` or a `SendError` the caller can act on: retry later (`RateLimited`,
//! `Transient`), give up on this alert (`Rejected`), or disable the channel (`Gone`).
//! Platform specifics: Discord is called with `?wait=true` so the message id comes back, and
//! an update to a task already posted there edits that message (`PATCH …/messages/{id}`);
//! Google Chat threads by task (`threadKey` plus `messageReplyOption`); the generic webhook is
//! signed the Standard Webhooks way.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use sha2::Sha256;

use super::render::{self, UpdateOf, render_with, thread_key};
use super::{AlertPayload, ChannelKind, ChannelSettings};
use crate::domain::Millis;

/// How much of an error body is kept for the UI.
const ERROR_BODY_MAX: usize = 200;
/// Slack answers these (with 4xx) when the webhook is revoked or its channel is gone.
const SLACK_GONE: [&str; 4] = [
    "no_service",
    "channel_not_found",
    "channel_is_archived",
    "no_active_hooks",
];

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
        let body = render_with(self.settings.kind, payload, update);
        let body_bytes = serde_json::to_vec(&body)
            .map_err(|error| SendError::Rejected(format!("body does not serialise: {error}")))?;
        let mut url = url::Url::parse(self.settings.url.expose())
            .map_err(|_| SendError::Rejected("the channel URL is not a valid URL".to_owned()))?;
        let mut method = reqwest::Method::POST;
        match self.settings.kind {
            ChannelKind::Discord => match previous {
                Some(id) => {
                    url.path_segments_mut()
                        .map_err(|()| SendError::Rejected("the channel URL cannot have a path".to_owned()))?
                        .pop_if_empty()
                        .push("messages")
                        .push(id);
                    method = reqwest::Method::PATCH;
                }
                None => {
                    url.query_pairs_mut().append_pair("wait", "true");
                }
            },
            ChannelKind::GoogleChat => {
                url.query_pairs_mut()
                    .append_pair("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD");
            }
            _ => {}
        }
        let mut request = self
            .client
            .request(method, url)
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if self.settings.kind == ChannelKind::Webhook {
            let timestamp = now.div_euclid(1000);
            let signature = match &self.settings.signing_secret {
                Some(secret) => Some(
                    sign_standard_webhook(secret.expose(), message_id, timestamp, &body_bytes)
                        .ok_or_else(|| SendError::Rejected("the signing secret is not whsec_<base64>".to_owned()))?,
                ),
                None => None,
            };
            request = request
                .header("webhook-id", message_id)
                .header("webhook-timestamp", timestamp.to_string());
            if let Some(signature) = signature {
                request = request.header("webhook-signature", signature);
            }
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
        if self.settings.kind == ChannelKind::Discord
            && previous.is_some()
            && status == StatusCode::NOT_FOUND
            && is_discord_unknown_message(&text)
        {
            // Someone deleted the message this update would edit; the webhook itself is fine
            // (a gone webhook says "Unknown Webhook"), so post the update as a new message.
            tracing::info!(channel = %self.settings.name, "The earlier Discord message was deleted; posting anew.");
            return Box::pin(self.send_with(payload, message_id, None, update, now)).await;
        }
        classify(self.settings.kind, status, retry_after, &text, thread_key(payload))
    }
}

/// Discord's JSON error code 10008, "Unknown Message" (10015 would be "Unknown Webhook").
fn is_discord_unknown_message(body: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(body).is_ok_and(|v| v["code"].as_i64() == Some(10_008))
}

/// Maps the platform's answer to the outcome.
fn classify(
    kind: ChannelKind,
    status: StatusCode,
    header_retry_after: Option<Duration>,
    body: &str,
    thread_key: Option<String>,
) -> Result<Sent, SendError> {
    let snippet = render::truncate_chars(body.trim(), ERROR_BODY_MAX);
    if kind == ChannelKind::Slack && SLACK_GONE.iter().any(|gone| body.trim() == *gone) {
        return Err(SendError::Gone(format!("HTTP {}: {snippet}", status.as_u16())));
    }
    if status.is_success() {
        let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
        let external_id = match kind {
            ChannelKind::Discord => json.as_ref().and_then(|v| v["id"].as_str()).map(str::to_owned),
            ChannelKind::GoogleChat => json.as_ref().and_then(|v| v["name"].as_str()).map(str::to_owned),
            _ => None,
        };
        let thread_key = match kind {
            ChannelKind::GoogleChat => thread_key,
            _ => None,
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

/// `Retry-After` (seconds), else Discord's `X-RateLimit-Reset-After`, else
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

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, keyed by the base64 after `whsec_`.
pub fn sign_standard_webhook(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = BASE64.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_by_what_to_do() {
        let ok = classify(ChannelKind::Discord, StatusCode::OK, None, r#"{"id":"42"}"#, None).unwrap();
        assert_eq!(ok.external_id.as_deref(), Some("42"));
        assert!(matches!(
            classify(ChannelKind::Slack, StatusCode::FORBIDDEN, None, "no_service", None),
            Err(SendError::Gone(_))
        ));
        assert!(matches!(
            classify(
                ChannelKind::Slack,
                StatusCode::BAD_REQUEST,
                None,
                "invalid_payload",
                None
            ),
            Err(SendError::Rejected(_))
        ));
        assert_eq!(
            classify(
                ChannelKind::Discord,
                StatusCode::TOO_MANY_REQUESTS,
                None,
                r#"{"retry_after": 1.5}"#,
                None
            ),
            Err(SendError::RateLimited {
                retry_after: Some(Duration::from_millis(1500))
            })
        );
        assert!(matches!(
            classify(ChannelKind::Teams, StatusCode::BAD_GATEWAY, None, "", None),
            Err(SendError::Transient(_))
        ));
    }

    #[test]
    fn a_secret_that_is_not_base64_cannot_sign() {
        assert!(sign_standard_webhook("whsec_***", "id", 1, b"{}").is_none());
        assert!(sign_standard_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id", 1, b"{}").is_some());
    }
}
