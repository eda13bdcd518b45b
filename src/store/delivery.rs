//! Records for alert delivery: one delivery per (outbox alert, channel), and channel state.

use crate::alerts::AlertPayload;
use crate::domain::{AlertId, BrandId, DeliveryId, Millis, Platform, TaskId};

/// A delivery claimed for sending, with the alert it carries.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: DeliveryId,
    pub alert_id: AlertId,
    pub dedup_key: String,
    pub channel: String,
    pub attempts: i64,
    pub payload: AlertPayload,
    /// The platform's id for an earlier message about the same task on this channel (what
    /// `ChatPlatform::sent_id` read from its answer), so an update can edit or thread.
    pub previous_external_id: Option<String>,
}

/// Where a sent message can be found again for edits and threads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SentRef {
    pub external_id: Option<String>,
    pub thread_key: Option<String>,
}

/// A channel's delivery state, for the UI.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ChannelState {
    pub name: String,
    pub disabled: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at_ms: Option<Millis>,
    pub pending: i64,
    /// Held by quiet hours, waiting for the digest.
    pub held: i64,
    /// When the oldest delivery still pending was enqueued: the channel's delivery lag.
    pub oldest_pending_at_ms: Option<Millis>,
    pub sent: i64,
    pub dead: i64,
    pub last_error: Option<String>,
}

/// An active task with no first response, for SLA alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaTask {
    pub task_id: TaskId,
    pub brand_id: BrandId,
    pub priority: crate::domain::Priority,
    pub platform: Platform,
    pub author_handle: String,
    pub due_at_ms: Millis,
    /// When the customer posted: the SLA clock's start.
    pub sla_started_at_ms: Millis,
    /// The text of the post that opened the task.
    pub text: String,
}

/// A delivery held by quiet hours whose hold has ended, with the alert it carries.
#[derive(Debug, Clone)]
pub struct HeldDelivery {
    pub id: DeliveryId,
    pub channel: String,
    /// The end of the quiet hours it was held for.
    pub held_until_ms: Millis,
    pub brand: Option<String>,
    pub payload: AlertPayload,
}

/// A negative mention of a brand, for naming the terms of a spike.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegativePost {
    pub created_at_ms: Millis,
    pub text: String,
    pub lang: Option<String>,
    pub url: Option<String>,
}
