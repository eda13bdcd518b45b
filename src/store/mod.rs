//! Persistence: posts, mentions, scores, tasks, the alert outbox, quarantine, export runs.
//!
//! Invariant: there is no SQL outside this module, and this module holds no business rules
//! (thresholds, priorities, alert policy arrive as data from `tasks` and `pipeline`).
//! Uniqueness lives in the schema: a post is stored once per platform and external id, a
//! mention once per post and brand, an alert once per dedup key.
//!
//! One implementation, `SqlStore`, runs the same SQL on SQLite and PostgreSQL through sqlx's
//! `Any` driver; the URL scheme picks the backend.

mod delivery;
mod engagement_types;
mod export_types;
mod mention_types;
mod problem_types;
mod queue_types;
mod reply_types;
mod roles;
mod sql;
mod status;
mod template_types;
mod types;

pub use delivery::{ChannelState, DueDelivery, HeldDelivery, NegativePost, SentRef, SlaTask};
pub use engagement_types::{EngagementTarget, ViralEscalation};
pub use export_types::{ExportQuery, ExportRow, ExportRunEnd, ExportRunRow, ExportTask, ExportTrigger, NewExportRun};
pub use mention_types::{
    MentionDetail, MentionFilter, MentionPage, MentionRow, MentionSentiment, MentionSort, MentionTaskOutcome,
    MentionTaskRequest, ReviewedItem, ReviewerOpened,
};
pub use problem_types::{
    ExportProblem, GroupCandidate, Grouping, GroupingSaved, PlacedMember, ProblemChange, ProblemDetail, ProblemFilter,
    ProblemPost, ProblemRef, ProblemRow, ProblemTask, TaskProblem, WindowMember,
};
pub use queue_types::{ApiTokenRecord, LabelledExample, NewLabel, NewUser, SessionUser, TaskChange, UserRecord};
pub use reply_types::{AccountEvent, AccountHealth, ClaimedReply, NewReply, ReplyFailure, ReplyRow, ReplySent};
pub use roles::{
    AdminStore, AlertStore, DeliveryStore, EngagementStore, ExportStore, HealthStore, IngestStore, LeaseStore,
    MentionStore, PrivacyStore, ProblemStore, QueueStore, ReplyStore, ReviewStore, ScoringStore, SpikeStore,
    TemplateStore, UserStore,
};
pub use sql::admin::{create_scratch_database, drop_scratch_database};
pub use sql::{MIGRATOR_POSTGRES, MIGRATOR_SQLITE, SqlStore};
pub use status::{DeliveryStatus, OutboxStatus, ReplyStatus};
pub use template_types::{NewReplyTemplate, ReplyTemplateRow};
pub use types::{
    AssessmentOutcome, AuthorHistory, AuthorKey, BrandRecord, Claim, CommitOutcome, Counts, Erasure, NewAssessment,
    OutboxAlert, ParentPost, PendingMention, PollCommit, PollFailure, QuarantineRow, SourceHealth, SourceRecord,
    TaskAlert, TaskDetail, TaskEvent, TaskFilter, TaskPlan, TaskPost, TaskRow, TaskSort,
};

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
    /// The backend cannot do this; the message says what to use instead.
    #[error("{0}")]
    Unsupported(String),
}

/// `Store` as the sum of the roles named once, with the blanket impl that makes whatever
/// implements every role a `Store`.
macro_rules! store_of_roles {
    ($(#[$doc:meta])* $($role:ident),+ $(,)?) => {
        $(#[$doc])*
        pub trait Store: $($role +)+ {}

        impl<T: $($role +)+ ?Sized> Store for T {}
    };
}

store_of_roles! {
    /// Everything earshot keeps: every role at once. Each role is its own trait (`roles/`, one
    /// file each: what the ingest, scoring, queue, alert, export and admin sides use), with
    /// methods named by intent that speak domain types. `SqlStore` implements them all;
    /// whatever does is a `Store`, so the wiring holds one `Arc<dyn Store>` and hands it to
    /// every side.
    AdminStore, HealthStore, PrivacyStore, IngestStore, ScoringStore, LeaseStore, EngagementStore, ProblemStore,
    QueueStore, ReviewStore, MentionStore, AlertStore, DeliveryStore, SpikeStore, ExportStore, UserStore, ReplyStore,
    TemplateStore,
}

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}
