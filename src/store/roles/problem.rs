//! Recurring problems: complaints to embed and group, groupings, labels, growth, and the leads'
//! view of them.

use async_trait::async_trait;

use crate::alerts::AlertPayload;
use crate::domain::{BrandId, MentionId, Millis, PostId, TaskId};
use crate::store::{
    GroupCandidate, Grouping, GroupingSaved, ProblemChange, ProblemDetail, ProblemFilter, ProblemRow, StoreError,
    TaskProblem, WindowMember,
};

#[async_trait]
pub trait ProblemStore: Send + Sync {
    /// Up to `limit` mentions after `after_mention_id` (in id order) whose post is a scored
    /// complaint (p ≥ 0.5) or negative, was written at or after `since`, still has its text,
    /// and is in no problem yet; each with its post's embedding of `model` if stored.
    async fn ungrouped_complaints(
        &self,
        model: &str,
        since: Millis,
        after_mention_id: MentionId,
        limit: usize,
    ) -> Result<Vec<GroupCandidate>, StoreError>;

    /// Stores posts' embeddings of `model` (replacing another model's).
    async fn save_embeddings(
        &self,
        model: &str,
        embeddings: &[(PostId, crate::domain::Embedding)],
    ) -> Result<(), StoreError>;

    /// The brand's problems (not merged) with a complaint written at or after `seen_since`.
    async fn problem_centroids(
        &self,
        brand: &BrandId,
        seen_since: Millis,
    ) -> Result<Vec<crate::problems::grouping::Centroid>, StoreError>;

    /// The brand's grouped complaints written at or after `since` with an embedding of
    /// `model`: the `limit` most recent, oldest first, with their text.
    async fn problem_window(
        &self,
        brand: &BrandId,
        model: &str,
        since: Millis,
        limit: usize,
    ) -> Result<Vec<WindowMember>, StoreError>;

    /// Saves new complaints' problems in one transaction: new problems created, each member
    /// inserted once (a mention another instance grouped first keeps its problem, and a new
    /// problem left empty by that is dropped), centroids written, counts recomputed from the
    /// members; a fixed problem that gains members becomes acknowledged again.
    async fn save_grouping(&self, grouping: &Grouping) -> Result<GroupingSaved, StoreError>;

    /// Saves a re-clustering of the brand's window in one transaction: members moved to their
    /// problem (new ones created), centroids written, problems left empty marked merged into
    /// the one that took their members, counts of all the brand's problems recomputed.
    async fn save_reclustering(&self, grouping: &Grouping) -> Result<GroupingSaved, StoreError>;

    /// Sets problems' labels and terms.
    async fn set_problem_labels(&self, labels: &[(i64, String, Vec<String>)]) -> Result<(), StoreError>;

    /// For each problem: complaints written at or after `window_start`, those written in
    /// `[baseline_start, window_start)`, and when it last alerted as growing.
    async fn problem_growth_counts(
        &self,
        ids: &[i64],
        window_start: Millis,
        baseline_start: Millis,
    ) -> Result<Vec<(i64, i64, i64, Option<Millis>)>, StoreError>;

    /// In one transaction, unless the problem alerted as growing at or after
    /// `cooldown_since`: records the alert time and enqueues `payload`. False (and nothing
    /// changes) when it is cooling down.
    async fn alert_problem_growing(
        &self,
        problem_id: i64,
        payload: &AlertPayload,
        cooldown_since: Millis,
        at: Millis,
    ) -> Result<bool, StoreError>;

    /// Problems the filter selects (most recently seen first), with counts from their members.
    async fn list_problems(&self, filter: &ProblemFilter) -> Result<Vec<ProblemRow>, StoreError>;

    /// One problem with example posts and its tasks; `NotFound` if there is none (or it was
    /// merged into another).
    async fn problem_detail(&self, id: i64, now: Millis) -> Result<ProblemDetail, StoreError>;

    /// Applies a lead's change; returns the problem as it is now.
    async fn update_problem(&self, change: &ProblemChange) -> Result<ProblemRow, StoreError>;

    /// The problem most of the task's complaints are in, if any.
    async fn task_problem(&self, task_id: TaskId) -> Result<Option<TaskProblem>, StoreError>;
}
