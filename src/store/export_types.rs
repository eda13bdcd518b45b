//! The records the store takes and returns for weekly exports and their run log.

use crate::domain::{BrandId, MentionId, Millis, Platform, PostId, TaskId};

/// One page of a week's mentions, in mention-id order after `after_mention_id`.
#[derive(Debug, Clone)]
pub struct ExportQuery {
    /// Posts created at or after this instant...
    pub start_ms: Millis,
    /// ...and before this one.
    pub end_ms: Millis,
    /// One brand, or all.
    pub brand: Option<BrandId>,
    /// Keyset cursor: the last mention id of the previous page (0 for the first).
    pub after_mention_id: MentionId,
    pub limit: usize,
}

/// One mention as the export lists it: the post, its scores, its task.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExportRow {
    pub mention_id: MentionId,
    pub post_id: PostId,
    pub created_at_ms: Millis,
    pub brand: BrandId,
    pub platform: Platform,
    pub author: String,
    pub text: String,
    pub permalink: Option<String>,
    /// `negative`, `neutral` or `positive`; `None` when unscored or not scored yet.
    pub sentiment: Option<String>,
    pub negative: Option<f32>,
    pub neutral: Option<f32>,
    pub positive: Option<f32>,
    pub criticality: Option<f32>,
    pub task_id: Option<TaskId>,
    pub task_status: Option<String>,
    pub task_opened_at_ms: Option<Millis>,
    /// When the task's SLA clock started: the customer's post (`tasks::sla::clock_start`).
    pub task_sla_started_at_ms: Option<Millis>,
    pub first_response_at_ms: Option<Millis>,
    pub resolved_at_ms: Option<Millis>,
    pub due_at_ms: Option<Millis>,
}

/// A task that was opened, answered or closed inside an export's range.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExportTask {
    pub id: TaskId,
    pub brand: BrandId,
    pub status: String,
    pub opened_at_ms: Millis,
    /// When the SLA clock started: the customer's post (`tasks::sla::clock_start`).
    pub sla_started_at_ms: Millis,
    pub due_at_ms: Millis,
    pub first_response_at_ms: Option<Millis>,
    pub resolved_at_ms: Option<Millis>,
    /// When a dismissed task was (last) dismissed, from its events.
    pub dismissed_at_ms: Option<Millis>,
    /// The follow-up after resolution: whether the author's next post was not negative;
    /// `None` until they post again (or for tasks never resolved).
    pub recovered: Option<bool>,
    /// Who the task is assigned to, if anyone (the dashboard's per-agent numbers).
    pub assignee: Option<String>,
}

/// Why an export ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportTrigger {
    /// The weekly job (or its catch-up): at most one successful run per week and scope.
    Scheduled,
    /// `earshot export`: always runs, always recorded.
    Manual,
}

impl ExportTrigger {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportTrigger::Scheduled => "scheduled",
            ExportTrigger::Manual => "manual",
        }
    }
}

/// A run to record as started.
#[derive(Debug, Clone)]
pub struct NewExportRun<'a> {
    pub week: &'a str,
    pub scope: &'a str,
    pub trigger: ExportTrigger,
    pub at: Millis,
    /// A scheduled run still `running` that started before this is taken as crashed and
    /// may be replaced.
    pub stale_before: Millis,
}

/// How a run ended.
#[derive(Debug, Clone)]
pub enum ExportRunEnd {
    Done { files: Vec<String>, n_rows: u64 },
    Failed { error: String },
}

/// A recorded export run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExportRunRow {
    pub id: i64,
    pub week: String,
    pub scope: String,
    pub trigger: String,
    pub status: String,
    pub started_at_ms: Millis,
    pub finished_at_ms: Option<Millis>,
    pub files: Vec<String>,
    pub n_rows: Option<i64>,
    pub error: Option<String>,
}
