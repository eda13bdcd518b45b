//! The records of the mentions sweep: filters, a page of mentions with their scores and
//! assessment, opening a task from a mention, and the evidence a threshold is tuned on.

use crate::domain::{
    BrandId, Factor, MentionId, Millis, Platform, Post, PostId, SearchTerm, SentimentLabel, TaskId, TaskStatus,
};

use super::TaskPlan;

/// How a page of mentions is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MentionSort {
    /// Most critical first (mentions not assessed yet last), then newest.
    #[default]
    Criticality,
    /// Newest post first.
    Newest,
}

/// Filters for the mentions sweep; `None` means any. The web layer bounds `limit` and
/// `offset`.
#[derive(Debug, Clone, Default)]
pub struct MentionFilter {
    pub brand: Option<BrandId>,
    pub platform: Option<Platform>,
    /// Matched, case-insensitively, against the author's handle and name and the post text.
    pub q: Option<SearchTerm>,
    pub sentiment: Option<SentimentLabel>,
    /// Only assessed mentions the pipeline did not flag (below the brand's threshold then).
    pub below_threshold: bool,
    /// Posts written at or after this time.
    pub since: Option<Millis>,
    /// Posts written before this time.
    pub until: Option<Millis>,
    pub sort: MentionSort,
    pub limit: usize,
    pub offset: usize,
}

/// One page of mentions and how many match in all.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MentionPage {
    pub total: i64,
    pub items: Vec<MentionRow>,
}

/// What the model made of a mention's post. Further heads (complaint probability, severity)
/// arrive as further optional fields.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MentionSentiment {
    /// `scored`, or `unscored` with a `reason` (a language no model covers).
    pub status: String,
    pub label: Option<String>,
    pub negative: Option<f32>,
    pub neutral: Option<f32>,
    pub positive: Option<f32>,
    pub model: Option<String>,
    pub reason: Option<String>,
    /// p(complaint), from a complaint model.
    pub complaint: Option<f32>,
    /// The most likely severity if it is a complaint (`disapproval`, `blame`, …).
    pub severity: Option<String>,
}

/// A reviewer who opened a task from a mention the pipeline had not flagged.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ReviewerOpened {
    pub by: String,
    pub at_ms: Millis,
}

/// A mention as the sweep lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MentionRow {
    pub mention_id: MentionId,
    pub brand: BrandId,
    pub platform: Platform,
    pub post_id: PostId,
    /// The post's id on its platform.
    pub external_id: String,
    pub text: String,
    pub author_handle: String,
    pub author_name: Option<String>,
    pub author_followers: Option<i64>,
    pub url: Option<String>,
    pub lang: Option<String>,
    pub created_at_ms: Millis,
    pub found_at_ms: Millis,
    /// `None` until the post is scored.
    pub sentiment: Option<MentionSentiment>,
    /// Whether the mention has its assessment (criticality and task decision) yet.
    pub assessed: bool,
    pub criticality: Option<f32>,
    pub factors: Vec<Factor>,
    /// Whether the pipeline flagged it (at or above the brand's threshold when assessed).
    pub flagged: bool,
    /// The task it opened or joined, by the pipeline or by a reviewer.
    pub task_id: Option<TaskId>,
    pub task_status: Option<TaskStatus>,
    /// Set when a reviewer opened a task from it ("this needed an answer").
    pub reviewer_opened: Option<ReviewerOpened>,
}

/// A mention with its post, for opening a task from it.
#[derive(Debug, Clone)]
pub struct MentionDetail {
    pub row: MentionRow,
    pub brand: BrandId,
    pub post: Post,
    /// When earshot first stored the post (bounds the SLA clock start).
    pub first_seen_at: Millis,
}

/// "This needed an answer": open (or join) a task for a mention, decided by `tasks`.
#[derive(Debug, Clone)]
pub struct MentionTaskRequest {
    pub mention_id: MentionId,
    pub brand: BrandId,
    pub criticality: f32,
    pub plan: TaskPlan,
    pub reviewer: String,
    /// The post's sentiment if the reviewer gave it; kept with the missed-complaint example.
    pub label: Option<SentimentLabel>,
    pub at: Millis,
}

/// What opening a task from a mention did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "outcome", rename_all = "lowercase")]
pub enum MentionTaskOutcome {
    /// A new task, with the new-task alert in the outbox.
    Opened { task_id: TaskId },
    /// The author's conversation had an active task; the mention joined it.
    Joined { task_id: TaskId },
    /// The mention had a task already (flagged by the pipeline, or opened before); nothing
    /// changed.
    Existing { task_id: TaskId },
}

impl MentionTaskOutcome {
    pub fn task_id(self) -> TaskId {
        match self {
            MentionTaskOutcome::Opened { task_id }
            | MentionTaskOutcome::Joined { task_id }
            | MentionTaskOutcome::Existing { task_id } => task_id,
        }
    }
}

/// One piece of reviewed evidence for a brand's threshold, with the criticality it had.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReviewedItem {
    pub criticality: f32,
    /// A real complaint (answered or resolved, or opened by a reviewer) or a false positive.
    pub complaint: bool,
    /// A mention below the threshold that a reviewer opened a task from.
    pub missed: bool,
}
