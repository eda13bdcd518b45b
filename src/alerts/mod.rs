//! Alerts to chat channels: channel settings and the alert payloads the pipeline enqueues.
//!
//! Invariant: alerts leave only through the outbox table (`store`), so a crash or a chat outage
//! neither loses nor repeats one. Nothing in this module reads or writes the store directly.

use crate::config::Secret;
use crate::domain::{BrandId, Priority};

/// A chat destination from config.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSettings {
    /// Unique name, used by `earshot alerts test --channel NAME` and in the UI.
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ChannelKind,
    /// The webhook URL. It carries the credential, so it is a secret.
    pub url: Secret,
    /// Brands whose alerts go here; empty means all.
    #[serde(default)]
    pub brands: Vec<BrandId>,
    /// Least urgent task priority that is sent here.
    #[serde(default = "default_min_priority")]
    pub min_priority: Priority,
    /// Key for Standard Webhooks signatures (`whsec_…`), for `type = "webhook"`.
    #[serde(default)]
    pub signing_secret: Option<Secret>,
}

fn default_min_priority() -> Priority {
    Priority::High
}

/// Chat platforms earshot can post to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    Slack,
    Teams,
    Discord,
    Mattermost,
    GoogleChat,
    Webhook,
}

/// What an alert is about; the outbox stores it as JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertPayload {
    /// A post crossed the brand's threshold and opened a task.
    TaskOpened {
        task_id: i64,
        brand: String,
        priority: Priority,
        criticality: f32,
        platform: String,
        author: String,
        text: String,
        url: Option<String>,
        reasons: Vec<String>,
    },
}

impl AlertPayload {
    /// A key that is the same for the same event, so enqueueing twice stores it once.
    pub fn dedup_key(&self) -> String {
        match self {
            AlertPayload::TaskOpened { task_id, .. } => format!("task_opened:{task_id}"),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            AlertPayload::TaskOpened { .. } => "task_opened",
        }
    }
}
