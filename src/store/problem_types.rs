//! The rows of recurring problems: complaints waiting to be grouped, a brand's window of
//! grouped complaints, a grouping to save, and the problems as the queue and the exports
//! read them.

use crate::domain::{BrandId, Embedding, MentionId, Millis, Platform, PostId, Priority, TaskId, TaskStatus};
use crate::problems::ProblemStatus;

/// A complaint (or negative mention) in no problem yet, with its post's embedding if one
/// was stored.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupCandidate {
    pub mention_id: MentionId,
    pub post_id: PostId,
    pub brand: BrandId,
    pub post_created_at: Millis,
    pub text: String,
    pub embedding: Option<Embedding>,
}

/// A grouped complaint of a brand's recent window, for re-clustering and labels.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowMember {
    pub mention_id: MentionId,
    pub problem_id: i64,
    pub post_created_at: Millis,
    pub embedding: Embedding,
    pub text: String,
    pub lang: Option<String>,
}

/// Which problem a member goes to: one that exists, or the `k`th new one of this grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProblemRef {
    Existing(i64),
    New(usize),
}

/// A grouping to save in one transaction: new problems (by their index), members placed
/// (new ones inserted once; a member already grouped is moved, for a re-clustering) and each
/// touched problem's centroid. Counts, first and last seen are recomputed from the members.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grouping {
    pub brand: Option<BrandId>,
    pub new_problems: usize,
    pub members: Vec<PlacedMember>,
    pub centroids: Vec<(ProblemRef, Embedding)>,
    /// When set, existing problems left without members are marked merged into the problem
    /// that took most of them (re-clustering only).
    pub merges: Vec<(i64, ProblemRef)>,
    pub at: Millis,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlacedMember {
    pub mention_id: MentionId,
    pub problem: ProblemRef,
    pub post_created_at: Millis,
    pub similarity: f32,
}

/// What saving a grouping did: the ids the new problems got (by index) and every problem
/// whose members changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupingSaved {
    pub new_ids: Vec<i64>,
    pub touched: Vec<i64>,
}

/// A problem as listed: what leads set, and counts from its members.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProblemRow {
    pub id: i64,
    pub brand: BrandId,
    pub status: ProblemStatus,
    pub label: String,
    pub terms: Vec<String>,
    pub n_complaints: i64,
    pub first_seen_at_ms: Millis,
    pub last_seen_at_ms: Millis,
    pub owner: Option<String>,
    pub note: Option<String>,
    pub message: Option<String>,
    pub updated_at_ms: Millis,
    /// Complaints in the last 24 hours and in the 24 hours before.
    pub n_last_day: i64,
    pub n_day_before: i64,
    /// Active tasks holding its complaints, and those of them still without a first response.
    pub n_active_tasks: i64,
    pub n_unanswered: i64,
    pub platforms: Vec<String>,
    /// Complaints per day over the last 14 days, oldest first (the sparkline).
    pub daily: Vec<i64>,
}

/// Which problems to list.
#[derive(Debug, Clone, Default)]
pub struct ProblemFilter {
    pub brand: Option<BrandId>,
    pub status: Option<ProblemStatus>,
    /// Only problems holding at least this many complaints.
    pub min_complaints: i64,
    /// Only problems with a complaint written at or after this.
    pub seen_since: Millis,
    pub now: Millis,
    pub limit: usize,
}

/// One complaint of a problem, as shown among its examples.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProblemPost {
    pub mention_id: MentionId,
    pub platform: Platform,
    pub author: String,
    pub text: String,
    pub url: Option<String>,
    pub created_at_ms: Millis,
    pub task_id: Option<TaskId>,
}

/// A task a problem holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProblemTask {
    pub id: TaskId,
    pub status: TaskStatus,
    pub priority: Priority,
    pub platform: Platform,
    pub author: String,
    pub assignee: Option<String>,
    pub first_response_at_ms: Option<Millis>,
    pub opened_at_ms: Millis,
}

/// A problem with its examples and tasks.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ProblemDetail {
    #[serde(flatten)]
    pub problem: ProblemRow,
    pub examples: Vec<ProblemPost>,
    pub tasks: Vec<ProblemTask>,
}

/// A lead's change to a problem; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ProblemChange {
    pub id: i64,
    pub status: Option<ProblemStatus>,
    pub owner: Option<Option<String>>,
    pub note: Option<Option<String>>,
    pub message: Option<Option<String>>,
    pub at: Millis,
}

/// The problem a task's complaints belong to (the one most of them are in).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TaskProblem {
    pub id: i64,
    pub label: String,
    pub status: ProblemStatus,
    pub message: Option<String>,
}

/// A problem's complaints over a week, for the weekly export.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ExportProblem {
    pub id: i64,
    pub brand: BrandId,
    pub label: String,
    pub status: ProblemStatus,
    pub complaints: i64,
    pub unanswered: i64,
    /// Its answered tasks' times from the customer's post to the first response (the SLA
    /// rule's start), sorted; the export turns them into a median.
    pub first_response_waits_ms: Vec<i64>,
    pub first_seen_at_ms: Millis,
    pub last_seen_at_ms: Millis,
}
