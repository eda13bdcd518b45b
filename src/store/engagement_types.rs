//! The records of the engagement refresh: which posts to re-read, and a task's escalation as
//! going viral.

use crate::alerts::AlertPayload;
use crate::domain::{BrandId, Factor, MentionId, Millis, Platform, PostId, Priority, TaskId};

/// A post of an active task whose engagement is due for a re-read, with the task it belongs
/// to and the source that found it (whose credentials read it again).
#[derive(Debug, Clone, PartialEq)]
pub struct EngagementTarget {
    pub post_id: PostId,
    pub platform: Platform,
    pub external_id: String,
    /// The post's author, text and link, for the "going viral" alert.
    pub author_handle: String,
    pub text: String,
    pub url: Option<String>,
    pub source_id: String,
    pub brand_id: BrandId,
    pub mention_id: MentionId,
    pub task_id: TaskId,
    pub task_criticality: f32,
    pub task_priority: Priority,
    /// When the task was escalated as going viral, if it was.
    pub task_viral_at_ms: Option<Millis>,
}

/// A task going viral, decided by `tasks::viral`: applied at most once per task.
#[derive(Debug, Clone)]
pub struct ViralEscalation {
    pub task_id: TaskId,
    /// The mention whose post went viral: its assessment gets the `viral` factor.
    pub mention_id: MentionId,
    pub factor: Factor,
    /// The task's criticality and priority from now on.
    pub criticality: f32,
    pub priority: Priority,
    /// The "going viral" alert, enqueued with the escalation.
    pub alert: AlertPayload,
    pub at: Millis,
}
