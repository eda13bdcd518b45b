//! What the store keeps about replies sent from earshot: the outbox rows, their outcomes, and
//! the reply accounts' rotated tokens and health.

use crate::domain::{BrandId, Millis, Platform, PostId, ReplyId, TaskId};
use crate::replies::ReplyTarget;

/// A reply to queue: written before anything is sent.
#[derive(Debug, Clone)]
pub struct NewReply {
    pub task_id: TaskId,
    /// The post answered.
    pub post_id: PostId,
    pub brand: BrandId,
    pub platform: Platform,
    pub text: String,
    /// Chosen by the caller (`replies::…::key`): the `Idempotency-Key` or record key.
    pub idempotency_key: String,
    pub requested_by: String,
    /// Resolve the task once the platform accepted the reply ("Send & resolve").
    pub resolve_after: bool,
    pub at: Millis,
    /// When set, the task is first claimed by `requested_by` (sending claims an unclaimed
    /// task): the change is applied in the same transaction.
    pub claim: Option<super::TaskChange>,
}

/// A reply as the queue shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplyRow {
    pub id: ReplyId,
    pub task_id: TaskId,
    pub post_id: PostId,
    pub brand: BrandId,
    pub platform: Platform,
    pub text: String,
    pub requested_by: String,
    pub resolve_after: bool,
    /// `queued`, `sent` or `failed`.
    pub status: String,
    pub attempts: i64,
    /// A send started and its outcome was not recorded; it is looked for before resending.
    pub in_doubt: bool,
    pub next_attempt_at_ms: Millis,
    pub external_id: Option<String>,
    pub url: Option<String>,
    /// The platform's message (or earshot's reason) for the last failure.
    pub error: Option<String>,
    pub error_kind: Option<String>,
    pub created_at_ms: Millis,
    pub sent_at_ms: Option<Millis>,
    #[serde(skip)]
    pub idempotency_key: String,
}

/// A reply claimed by the worker, with the post it answers.
#[derive(Debug, Clone)]
pub struct ClaimedReply {
    pub row: ReplyRow,
    pub target: ReplyTarget,
}

/// The platform accepted a reply.
#[derive(Debug, Clone)]
pub struct ReplySent {
    pub reply_id: ReplyId,
    pub holder: String,
    pub external_id: String,
    pub url: Option<String>,
    /// When the platform accepted it: the task's first response.
    pub at: Millis,
    /// The task's new state (responded or resolved; first response), decided by
    /// `tasks::actions`, applied only if the task did not change meanwhile.
    pub change: Option<super::TaskChange>,
}

/// A failed attempt: `retry_at` `None` is final (the reason is shown on the task).
#[derive(Debug, Clone)]
pub struct ReplyFailure {
    pub reply_id: ReplyId,
    pub holder: String,
    pub error: String,
    pub kind: String,
    pub retry_at: Option<Millis>,
    /// Whether the reply may exist on the platform (look before sending again).
    pub in_doubt: bool,
    pub at: Millis,
}

/// A reply account's health, as `accounts test` and the queue show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountHealth {
    /// `brand/platform`.
    pub account: String,
    pub handle: Option<String>,
    pub last_success_at_ms: Option<Millis>,
    pub last_error: Option<String>,
    pub last_error_kind: Option<String>,
    pub last_error_at_ms: Option<Millis>,
}

/// What happened when an account was used.
#[derive(Debug, Clone)]
pub enum AccountEvent {
    Worked { handle: Option<String>, at: Millis },
    Failed { error: String, kind: String, at: Millis },
}
