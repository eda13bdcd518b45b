//! Persistence: posts, mentions, scores, tasks, the alert outbox, quarantine, export runs.
//!
//! Invariant: there is no SQL outside this module, and this module holds no business rules
//! (thresholds, priorities, alert policy arrive as data from `tasks` and `pipeline`).
//! Uniqueness lives in the schema: a post is stored once per platform and external id, a
//! mention once per post and brand, an alert once per dedup key.
//!
//! One implementation, `SqlStore`, runs the same SQL on SQLite and PostgreSQL through sqlx's
//! `Any` driver; the URL scheme picks the backend.

mod export_types;
mod sql;
mod types;

use async_trait::async_trait;

pub use export_types::*;
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

    // --- Exports ------------------------------------------------------------------------------

    /// One page of the mentions whose post was created in the range, by mention id.
    async fn export_rows(&self, query: &ExportQuery) -> Result<Vec<ExportRow>, StoreError>;

    /// Tasks opened, answered, resolved or dismissed in `[start, end)`.
    async fn export_tasks(
        &self,
        start: Millis,
        end: Millis,
        brand: Option<&BrandId>,
    ) -> Result<Vec<ExportTask>, StoreError>;

    /// When the earliest stored post was created, if there is one.
    async fn first_post_at(&self) -> Result<Option<Millis>, StoreError>;

    /// Records a run as `running` and returns its id. A scheduled run is recorded only if
    /// no scheduled run of the same week and scope is done or (freshly) running: `None`
    /// means someone else has it. A manual run is always recorded.
    async fn begin_export_run(&self, run: NewExportRun<'_>) -> Result<Option<i64>, StoreError>;

    /// Marks a run done or failed.
    async fn finish_export_run(&self, id: i64, end: ExportRunEnd, at: Millis) -> Result<(), StoreError>;

    /// The most recent runs, newest first.
    async fn export_runs(&self, limit: usize) -> Result<Vec<ExportRunRow>, StoreError>;
}

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}
