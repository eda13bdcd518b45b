//! The generic webhook: earshot's own JSON (`{"type": "alert.<kind>", "data": …}`, the raw
//! alert, unescaped: the receiver decides how to show it) POSTed to any HTTPS receiver and
//! signed the Standard Webhooks way (`webhook-id`, `webhook-timestamp`, `webhook-signature`).
//! The signing secret is required by the type; it is only exposed to sign. No edits, no
//! threads; an update carries `update_of`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::{Attempt, ChatPlatform, Outgoing};
use crate::alerts::AlertPayload;
use crate::alerts::limiter::Rate;
use crate::alerts::render::{Summary, UpdateOf};
use crate::alerts::weekly::WeeklyReport;
use crate::secret::Secret;

/// What a person is told when a webhook channel has no signing secret. Config parsing reports
/// an error of the form "missing field `x`: why" at the field `x`.
const MISSING_SECRET: &str = "missing field `signing_secret`: a webhook channel is signed the Standard Webhooks way: set whsec_<base64>, shared with the receiver";

/// `type = "webhook"`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "WebhookKeys")]
pub struct Webhook {
    /// Key for Standard Webhooks signatures (`whsec_…`), shared with the receiver.
    pub signing_secret: Secret,
}

/// The keys as written, so a missing secret is explained rather than just named.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct WebhookKeys {
    #[serde(default)]
    signing_secret: Option<Secret>,
}

impl TryFrom<WebhookKeys> for Webhook {
    type Error = &'static str;

    fn try_from(keys: WebhookKeys) -> Result<Webhook, &'static str> {
        let signing_secret = keys.signing_secret.ok_or(MISSING_SECRET)?;
        Ok(Webhook { signing_secret })
    }
}

impl ChatPlatform for Webhook {
    fn render(&self, payload: &AlertPayload, _summary: &Summary, update: Option<UpdateOf>) -> Value {
        let mut body = json!({
            "type": format!("alert.{}", payload.kind()),
            "data": payload,
        });
        if let Some(update) = update {
            body["update_of"] = json!({"task_id": update.task_id, "first_sent_at_ms": update.first_sent_at_ms});
        }
        body
    }

    fn render_weekly(&self, report: &WeeklyReport) -> Value {
        json!({"type": "alert.weekly_summary", "data": report})
    }

    fn prepare(&self, request: &mut Outgoing, attempt: &Attempt<'_>) -> Result<(), String> {
        let timestamp = attempt.now.div_euclid(1000);
        let signature = sign_standard_webhook(
            self.signing_secret.expose(),
            attempt.message_id,
            timestamp,
            attempt.body,
        )
        .ok_or_else(|| "the signing secret is not whsec_<base64>".to_owned())?;
        request.headers.push(("webhook-id", attempt.message_id.to_owned()));
        request.headers.push(("webhook-timestamp", timestamp.to_string()));
        request.headers.push(("webhook-signature", signature));
        Ok(())
    }

    fn validate(&self) -> Vec<(String, String)> {
        if sign_standard_webhook(self.signing_secret.expose(), "check", 0, b"").is_none() {
            return vec![(
                "signing_secret".to_owned(),
                "must be whsec_ followed by base64".to_owned(),
            )];
        }
        Vec::new()
    }

    fn rate(&self) -> Rate {
        Rate::new(10.0, 10.0)
    }
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
    fn a_secret_that_is_not_base64_cannot_sign() {
        assert!(sign_standard_webhook("whsec_***", "id", 1, b"{}").is_none());
        assert!(sign_standard_webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "id", 1, b"{}").is_some());
    }
}
