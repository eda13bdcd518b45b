//! The records the store takes and returns.

use crate::alerts::AlertPayload;
use crate::domain::{
    AlertId, BrandId, Criticality, Cursor, Factor, MentionId, Millis, Platform, Post, PostId, Priority, Quarantined,
    SearchTerm, SentimentOutcome, SentimentScores, SourceId, TaskId, TaskStatus,
};

/// A brand as the store mirrors it from config.
#[derive(Debug, Clone)]
pub struct BrandRecord {
    pub id: BrandId,
    pub name: String,
    pub threshold: f32,
    pub settings_json: String,
}

/// A source as the store mirrors it from config.
#[derive(Debug, Clone)]
pub struct SourceRecord {
    pub id: SourceId,
    pub brand: BrandId,
    pub kind: String,
    pub schedule: String,
}

/// One poll's worth of ingest, committed atomically.
#[derive(Debug)]
pub struct PollCommit<'a> {
    pub source: &'a SourceId,
    pub brand: &'a BrandId,
    pub posts: &'a [Post],
    pub quarantined: &'a [Quarantined],
    /// The cursor after these posts; `None` keeps the stored one.
    pub cursor: Option<&'a Cursor>,
    pub at: Millis,
}

/// What a commit changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CommitOutcome {
    /// Mentions stored for the first time.
    pub n_new: usize,
    /// Posts this brand had already seen.
    pub n_duplicates: usize,
    pub n_quarantined: usize,
}

/// A failed poll.
#[derive(Debug)]
pub struct PollFailure<'a> {
    pub source: &'a SourceId,
    pub kind: &'a str,
    pub message: &'a str,
    pub quarantine: Option<Quarantined>,
    pub at: Millis,
}

/// Who claims work, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct Claim<'a> {
    pub holder: &'a str,
    pub now: Millis,
    pub ttl_ms: i64,
}

/// A mention waiting for its assessment.
#[derive(Debug, Clone)]
pub struct PendingMention {
    pub mention_id: MentionId,
    pub post_id: PostId,
    pub brand: BrandId,
    pub post: Post,
    /// When earshot first stored the post (bounds the SLA clock start).
    pub first_seen_at: Millis,
    /// Set when the post was scored before (for another brand, or before a crash).
    pub sentiment: Option<SentimentOutcome>,
}

/// One author of one platform, as a brand sees them: the key of an author's history.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AuthorKey {
    pub brand: BrandId,
    pub platform: Platform,
    pub author: String,
}

/// The author's recent record with a brand.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AuthorHistory {
    pub n_mentions: u64,
    pub n_negative: u64,
    pub n_flagged: u64,
}

/// An assessment to store, with the task decision already made by `tasks`.
#[derive(Debug, Clone)]
pub struct NewAssessment {
    pub mention_id: MentionId,
    pub brand: BrandId,
    pub criticality: Criticality,
    pub at: Millis,
    /// Present when the mention is at or above the brand's threshold.
    pub task: Option<TaskPlan>,
}

/// What to do with a flagged mention: join the conversation's active task or open one.
#[derive(Debug, Clone)]
pub struct TaskPlan {
    pub platform: Platform,
    pub author_handle: String,
    pub conversation_key: Option<String>,
    /// Active tasks with activity at or after this time count as the same conversation.
    pub window_start: Millis,
    pub priority: Priority,
    /// When the customer's SLA clock started (`tasks::sla::clock_start` of the opening post).
    pub sla_started_at: Millis,
    pub due_at: Millis,
    /// The alert to enqueue if a task is opened; it gets the new task's id.
    pub alert: Option<TaskAlert>,
}

/// An alert for a new task, before the task has an id.
#[derive(Debug, Clone)]
pub struct TaskAlert {
    /// The brand's name as chat shows it (not its id).
    pub brand: String,
    pub platform: Platform,
    pub author: String,
    pub text: String,
    pub url: Option<String>,
    pub reasons: Vec<String>,
}

impl TaskAlert {
    pub fn into_payload(self, task_id: TaskId, priority: Priority, criticality: f32) -> AlertPayload {
        AlertPayload::TaskOpened {
            task_id,
            brand: self.brand,
            priority,
            criticality,
            platform: self.platform,
            author: self.author,
            text: self.text,
            url: self.url,
            reasons: self.reasons,
        }
    }
}

/// What `save_assessment` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssessmentOutcome {
    /// Below threshold: stored, no task.
    Recorded,
    Opened {
        task_id: TaskId,
    },
    Joined {
        task_id: TaskId,
    },
    /// The mention had been assessed already (a rerun after a crash); nothing changed.
    AlreadyAssessed,
}

/// How a page of tasks is ordered; active tasks always come before closed ones.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TaskSort {
    /// Highest priority first, then the nearest deadline.
    #[default]
    Urgency,
    /// Nearest deadline first (overdue first).
    Sla,
    /// Most critical first.
    Criticality,
    /// Most recent activity (a new post, an action) first.
    Newest,
}

/// Filters for the task queue; `None` means any.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    pub brand: Option<BrandId>,
    pub statuses: Vec<TaskStatus>,
    pub platform: Option<String>,
    pub assignee: Option<String>,
    /// Only tasks nobody is assigned to.
    pub unassigned: bool,
    pub priority: Option<Priority>,
    /// Matched, case-insensitively, against the handle, name and text of any of the task's
    /// posts (the mentions sweep's search).
    pub q: Option<SearchTerm>,
    /// Only active, unanswered tasks due before this time (overdue, or about to be).
    pub unanswered_due_before: Option<Millis>,
    pub sort: TaskSort,
    pub limit: usize,
    pub offset: usize,
    /// Only resolved tasks whose follow-up is due at this time and not yet recorded.
    pub follow_ups_due_at: Option<Millis>,
    /// Only tasks of this author (the handle as stored).
    pub author: Option<String>,
    /// Only tasks whose latest post's sentiment label is this (`negative`, `neutral`,
    /// `positive`).
    pub sentiment: Option<crate::domain::SentimentLabel>,
    /// Only tasks opened in `[opened_from, opened_before)`.
    pub opened_from: Option<Millis>,
    pub opened_before: Option<Millis>,
}

/// A task as the queue lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskRow {
    pub id: TaskId,
    pub brand: BrandId,
    pub platform: Platform,
    pub author_handle: String,
    pub status: TaskStatus,
    pub priority: Priority,
    pub criticality: f32,
    pub assignee: Option<String>,
    pub opened_at_ms: Millis,
    /// When the customer's SLA clock started: their post (`tasks::sla::clock_start`); the
    /// queue shows the wait from here.
    pub sla_started_at_ms: Millis,
    pub due_at_ms: Millis,
    pub first_response_at_ms: Option<Millis>,
    pub resolved_at_ms: Option<Millis>,
    pub dismissed_reason: Option<String>,
    pub last_activity_at_ms: Millis,
    pub n_posts: i64,
    /// The most recent post's text and link.
    pub latest_text: String,
    pub latest_url: Option<String>,
    /// Changes with every action; send it back as `expected_updated_at_ms`.
    pub updated_at_ms: Millis,
    /// When to ask the customer whether they are happy now (set on resolve).
    pub follow_up_at_ms: Option<Millis>,
    /// Whether the author's next post to the brand after resolution was not negative.
    pub recovered: Option<bool>,
    /// The sentiment label of that next post, once recorded.
    pub next_post_sentiment: Option<String>,
}

/// A post of a task, with its scores.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskPost {
    pub post_id: PostId,
    pub mention_id: MentionId,
    pub platform: Platform,
    pub external_id: String,
    pub author_handle: String,
    pub author_name: Option<String>,
    pub author_followers: Option<i64>,
    pub text: String,
    pub url: Option<String>,
    pub lang: Option<String>,
    pub created_at_ms: Millis,
    pub likes: i64,
    pub reposts: i64,
    pub replies: i64,
    pub quotes: i64,
    /// The platform id of the post this one replies to.
    pub in_reply_to: Option<String>,
    /// The post this one quotes: its platform id, and its text when the platform sent it.
    pub quote_of: Option<String>,
    pub quoted_text: Option<String>,
    /// The post `in_reply_to` names, when earshot has it.
    pub parent: Option<ParentPost>,
    pub sentiment: Option<SentimentScores>,
    pub sentiment_status: Option<String>,
    pub sentiment_reason: Option<String>,
    pub model: Option<String>,
    pub criticality: f32,
    pub factors: Vec<Factor>,
    /// The engagement readings of the refresh, oldest first (the first is what was stored at
    /// ingest); empty before the first refresh.
    pub engagement_history: Vec<crate::domain::EngagementSample>,
    /// The growth over that history, e.g. "likes 12 → 340 in 50 min".
    pub growth: Option<crate::domain::Growth>,
}

/// The post a task's post answers: a post earshot stored, or a reply it sent as the brand
/// (`ours`; then `author_handle` is the user who sent it).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ParentPost {
    pub author_handle: String,
    pub text: String,
    pub url: Option<String>,
    pub ours: bool,
}

/// Something that happened to a task.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskEvent {
    pub at_ms: Millis,
    pub actor: String,
    pub kind: String,
    pub detail: serde_json::Value,
}

/// A task with its posts and history.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TaskDetail {
    pub task: TaskRow,
    pub posts: Vec<TaskPost>,
    pub events: Vec<TaskEvent>,
}

/// How a source's polls have gone.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceHealth {
    pub source: String,
    pub brand: BrandId,
    pub kind: String,
    pub schedule: String,
    pub active: bool,
    pub last_poll_at_ms: Option<Millis>,
    pub last_success_at_ms: Option<Millis>,
    pub last_error: Option<String>,
    pub last_error_kind: Option<String>,
    pub last_error_at_ms: Option<Millis>,
    pub consecutive_failures: i64,
    pub last_poll_new: Option<i64>,
    pub total_new: i64,
    /// When the source last committed new mentions.
    pub last_new_at_ms: Option<Millis>,
    /// Moving average of the time between polls that brought new mentions.
    pub usual_gap_ms: Option<Millis>,
    /// Set when the source has been quiet far longer than usual (`domain::silence`).
    pub silent: Option<String>,
}

/// A quarantined input.
#[derive(Debug, Clone, serde::Serialize)]
pub struct QuarantineRow {
    pub id: i64,
    pub source: String,
    pub received_at_ms: Millis,
    pub location: String,
    pub reason: String,
    pub raw: String,
}

/// Totals for the dashboard and the demo's summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub posts: i64,
    pub mentions: i64,
    pub scored: i64,
    pub unscored: i64,
    pub pending: i64,
    pub tasks_active: i64,
    pub tasks_total: i64,
    pub alerts_pending: i64,
    pub quarantined: i64,
}

/// An alert waiting in the outbox.
#[derive(Debug, Clone)]
pub struct OutboxAlert {
    pub id: AlertId,
    pub dedup_key: String,
    pub brand: Option<String>,
    pub task_id: Option<TaskId>,
    pub payload: AlertPayload,
    pub attempts: i64,
    pub created_at_ms: Millis,
}

/// What an erasure (or a retention pass) touched.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Erasure {
    /// Posts blanked (erasure) or deleted (retention).
    pub n_posts: u64,
    /// Tasks whose author was blanked; the tasks, their counts and times stay.
    pub n_tasks: u64,
    /// Training examples (reviewers' labels) deleted.
    pub n_examples: u64,
}
