//! Persistence: posts, mentions, scores, tasks, the alert outbox, quarantine, export runs.
//!
//! Invariant: there is no SQL outside this module, and this module holds no business rules
//! (thresholds, priorities, alert policy arrive as data from `tasks` and `pipeline`).
//! Uniqueness lives in the schema: a post is stored once per platform and external id, a
//! mention once per post and brand, an alert once per dedup key.
//!
//! One implementation, `SqlStore`, runs the same SQL on SQLite and PostgreSQL through sqlx's
//! `Any` driver; the URL scheme picks the backend.

mod queue_types;
mod sql;
mod types;

use async_trait::async_trait;

pub use queue_types::*;
pub use sql::{MIGRATOR_POSTGRES, MIGRATOR_SQLITE, SqlStore};
pub use types::*;

use crate::domain::{BrandId, Cursor, Millis, Platform, SourceId};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found: {0}")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("database error")]
    Backend(#[from] sqlx::Error),
    #[error("migration failed")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Everything earshot keeps. Methods are named by intent and speak domain types.
#[async_trait]
pub trait Store: Send + Sync {
    /// Which database this is, for logs and backend-specific behaviour.
    fn backend(&self) -> Backend;

    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Makes the brands and sources tables mirror the config; ones no longer configured stay
    /// (their posts refer to them) but are marked inactive.
    async fn sync_config(&self, brands: &[BrandRecord], sources: &[SourceRecord]) -> Result<(), StoreError>;

    // --- Ingest ------------------------------------------------------------------------------

    /// Where the source stopped.
    async fn cursor(&self, source: &SourceId) -> Result<Option<Cursor>, StoreError>;

    /// Stores a poll's posts, quarantined items and new cursor in one transaction, and
    /// records the poll in the source's health. Posts already stored are not stored again.
    async fn commit_poll(&self, commit: PollCommit<'_>) -> Result<CommitOutcome, StoreError>;

    /// Records a failed poll in the source's health (the cursor is untouched); `raw` goes to
    /// quarantine when the failure was a malformed response.
    async fn record_poll_failure(&self, failure: PollFailure<'_>) -> Result<(), StoreError>;

    // --- Scoring -----------------------------------------------------------------------------

    /// Mentions not yet assessed, oldest first, with their post and any stored sentiment.
    async fn pending_mentions(&self, limit: usize) -> Result<Vec<PendingMention>, StoreError>;

    /// Stores sentiments for posts; a post that already has one keeps it.
    async fn save_sentiments(
        &self,
        sentiments: &[(i64, crate::domain::SentimentOutcome)],
        at: Millis,
    ) -> Result<(), StoreError>;

    /// How many of the author's mentions of the brand since `since` were negative, and how
    /// many were flagged.
    async fn author_history(
        &self,
        brand: &BrandId,
        platform: Platform,
        author: &str,
        since: Millis,
    ) -> Result<AuthorHistory, StoreError>;

    /// Stores an assessment and, in the same transaction, opens or joins a task and enqueues
    /// the alert the plan asks for. A mention assessed before is left as it is.
    async fn save_assessment(&self, assessment: NewAssessment) -> Result<AssessmentOutcome, StoreError>;

    // --- Queue and reports -------------------------------------------------------------------

    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskRow>, StoreError>;
    async fn task_detail(&self, task_id: i64) -> Result<TaskDetail, StoreError>;
    async fn source_health(&self) -> Result<Vec<SourceHealth>, StoreError>;
    async fn quarantined(&self, source: Option<&SourceId>, limit: usize) -> Result<Vec<QuarantineRow>, StoreError>;
    async fn counts(&self) -> Result<Counts, StoreError>;

    // --- Alert outbox -------------------------------------------------------------------------

    /// Alerts due for delivery at `now`, oldest first.
    async fn due_alerts(&self, now: Millis, limit: usize) -> Result<Vec<OutboxAlert>, StoreError>;

    // --- Users, sessions and task actions (the review queue) -------------------------------

    /// Creates a user; `Conflict` if the username is taken.
    async fn create_user(&self, user: NewUser) -> Result<i64, StoreError>;
    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;
    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        at: Millis,
        expires_at_ms: Millis,
    ) -> Result<(), StoreError>;
    /// The user of an unexpired session of an enabled user.
    async fn session_user(&self, token_hash: &str, now: Millis) -> Result<Option<SessionUser>, StoreError>;
    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;
    /// Creates a machine token; `Conflict` if the name is taken.
    async fn create_api_token(
        &self,
        token_hash: &str,
        name: &str,
        role: crate::auth::Role,
        at: Millis,
    ) -> Result<(), StoreError>;
    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRecord>, StoreError>;

    /// Applies a task change, its event and its label in one transaction, if the task was
    /// not changed since `expected_updated_at_ms`; returns the task as it is now.
    async fn apply_task_change(&self, change: TaskChange) -> Result<TaskRow, StoreError>;
    /// Stores a label for one post of a task, with an event, in one transaction.
    async fn relabel_post(
        &self,
        task_id: i64,
        post_id: i64,
        label: &str,
        reviewer: &str,
        at: Millis,
    ) -> Result<(), StoreError>;
    /// Every labelled example, oldest first.
    async fn labelled_examples(&self) -> Result<Vec<LabelledExample>, StoreError>;
    /// The brand's reviewed tasks (responded, resolved, or dismissed as false positive).
    async fn reviewed_tasks(&self, brand: &BrandId) -> Result<Vec<ReviewedTask>, StoreError>;
    /// For resolved tasks without one yet: records the author's next post to the brand after
    /// resolution, its sentiment, and `recovered` (that post is not negative). Returns how
    /// many tasks were updated.
    async fn record_follow_ups(&self) -> Result<u64, StoreError>;
    /// The latest task change time and the task count: cheap "did anything change?".
    async fn queue_version(&self) -> Result<(Millis, i64), StoreError>;
}

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}
