//! The records of users, sessions, API tokens, task changes and review labels.

use crate::auth::Role;
use crate::domain::{Millis, PostId, TaskId, TaskStatus};

/// A user to create; the password is already hashed.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub at: Millis,
}

/// A stored user.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub id: i64,
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub disabled: bool,
}

/// The user behind a live session.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
    pub csrf_token: String,
    pub expires_at_ms: Millis,
}

/// A machine token's name and role.
#[derive(Debug, Clone)]
pub struct ApiTokenRecord {
    pub name: String,
    pub role: Role,
}

/// A label a reviewer gave: `post_id` `None` labels every post of the task. `label` is the
/// sentiment; `complaint` whether the posts are complaints (`Some(false)` for a false
/// positive), `None` when the reviewer did not say.
#[derive(Debug, Clone)]
pub struct NewLabel {
    pub post_id: Option<PostId>,
    pub label: String,
    pub complaint: Option<bool>,
}

/// The new state of a task after an action, decided by `tasks::actions`, and the event that
/// records it. The store applies it only if the task's `updated_at_ms` still equals
/// `expected_updated_at_ms` (otherwise `StoreError::Conflict`).
#[derive(Debug, Clone)]
pub struct TaskChange {
    pub task_id: TaskId,
    pub expected_updated_at_ms: Millis,
    pub status: TaskStatus,
    pub assignee: Option<String>,
    pub first_response_at_ms: Option<Millis>,
    pub resolved_at_ms: Option<Millis>,
    pub dismissed_reason: Option<String>,
    pub follow_up_at_ms: Option<Millis>,
    pub updated_at_ms: Millis,
    pub actor: String,
    pub event_kind: String,
    pub event_detail: serde_json::Value,
    pub label: Option<NewLabel>,
}

/// One reviewed post for the training export: the reviewer's latest word on its sentiment
/// and on whether it is a complaint (each `None` when no reviewer said).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelledExample {
    pub text: String,
    pub sentiment: Option<String>,
    pub complaint: Option<bool>,
}

impl LabelledExample {
    /// One line of the training export (`GET /api/feedback/export`, `earshot model train`):
    /// `text`, `sentiment` (and the older `label`, the same) when a reviewer gave it,
    /// `complaint` 0/1 when a reviewer said.
    pub fn training_line(&self) -> serde_json::Value {
        let mut line = serde_json::json!({ "text": self.text });
        if let Some(sentiment) = &self.sentiment {
            line["sentiment"] = serde_json::json!(sentiment);
            line["label"] = serde_json::json!(sentiment);
        }
        if let Some(complaint) = self.complaint {
            line["complaint"] = serde_json::json!(u8::from(complaint));
        }
        line
    }
}
