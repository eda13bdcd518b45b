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
mod sql;
mod template_types;
mod types;

use async_trait::async_trait;

pub use delivery::*;
pub use engagement_types::*;
pub use export_types::*;
pub use mention_types::*;
pub use problem_types::*;
pub use queue_types::*;
pub use reply_types::*;
pub use sql::admin::{create_scratch_database, drop_scratch_database};
pub use sql::{MIGRATOR_POSTGRES, MIGRATOR_SQLITE, SqlStore};
pub use template_types::*;
pub use types::*;

use crate::alerts::AlertPayload;
use crate::domain::{BrandId, Cursor, Engagement, EngagementSample, Millis, Platform, SourceId};

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

/// Everything earshot keeps. Methods are named by intent and speak domain types.
#[async_trait]
pub trait Store: Send + Sync {
    /// Which database this is, for logs and backend-specific behaviour.
    fn backend(&self) -> Backend;

    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Erases what identifies one author on one platform (handle matched case-insensitively):
    /// their posts' text, handle, name, followers and links; their tasks' author, event texts
    /// and alert texts; reviewers' examples from their posts. Counts, scores and times stay.
    /// Logged in `privacy_log` with the handle's sha256, never the handle.
    async fn erase_author(
        &self,
        platform: Platform,
        handle: &str,
        actor: &str,
        at: Millis,
    ) -> Result<Erasure, StoreError>;

    /// Deletes up to `limit` posts first seen before `before` that no task holds, with their
    /// mention, score, assessment and examples, and quarantined input received before then;
    /// returns how many posts went. Call until it returns fewer than `limit`.
    async fn expire_posts(&self, before: Millis, limit: usize, at: Millis) -> Result<u64, StoreError>;

    /// A consistent copy of the whole database in a new file at `to`, taken while the service
    /// runs (SQLite's `VACUUM INTO`). PostgreSQL: `Unsupported` (use `pg_dump`).
    async fn backup_into(&self, to: &std::path::Path) -> Result<(), StoreError>;

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

    /// Claims up to `limit` mentions not yet assessed (oldest first) for `claim.holder` until
    /// `claim.now + claim.ttl_ms`, and returns them with their post and any stored sentiment.
    /// Mentions claimed by another holder whose claim has not expired are skipped (on
    /// PostgreSQL without waiting: `FOR UPDATE SKIP LOCKED`), so several instances share the
    /// work and a killed instance's claims are taken over when they expire. On SQLite (one
    /// instance per file) claims are recorded but not enforced. With `after`, only mentions
    /// with a greater id are claimed: the caller still holds the ones up to it in flight.
    async fn claim_pending_mentions(
        &self,
        claim: &Claim<'_>,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<PendingMention>, StoreError>;

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
    /// [`Store::author_history`] for many authors at once (a chunk's), in one query per
    /// brand and platform; authors without assessed mentions since `since` are absent.
    async fn author_histories(
        &self,
        keys: &[AuthorKey],
        since: Millis,
    ) -> Result<std::collections::HashMap<AuthorKey, AuthorHistory>, StoreError>;

    /// [`Store::save_assessment`] for a chunk, in one transaction: the outcomes in the order
    /// of `assessments`, each as if saved alone in that order. All or nothing on a crash.
    async fn save_assessments(&self, assessments: Vec<NewAssessment>) -> Result<Vec<AssessmentOutcome>, StoreError>;

    async fn save_assessment(&self, assessment: NewAssessment) -> Result<AssessmentOutcome, StoreError>;

    // --- Coordination between instances -----------------------------------------------------

    /// Takes or renews the named lease for `holder` until `now + ttl_ms`; false when another
    /// holder has it and it has not expired. Always true on SQLite (one instance per file).
    async fn try_acquire_lease(&self, name: &str, holder: &str, now: Millis, ttl_ms: i64) -> Result<bool, StoreError>;

    /// Gives the lease back if `holder` still has it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;

    // --- Engagement refresh (viral escalation) ---------------------------------------------

    /// Up to `limit` posts of active tasks (open, assigned, responded) written at or after
    /// `written_since` and not gone from their platform, the least recently re-read first,
    /// each with its task and the source that found it (one row per post and task).
    async fn engagement_targets(
        &self,
        written_since: Millis,
        limit: usize,
    ) -> Result<Vec<EngagementTarget>, StoreError>;

    /// Records a refresh at `at`: every post in `checked` was asked for; `readings` are the
    /// counts the platform gave. A post's first reading is preceded in its history by the
    /// counts stored at ingest (at its `first_seen_at_ms`); the post's counts become the new
    /// ones. One transaction.
    async fn record_engagement(
        &self,
        checked: &[i64],
        readings: &[(i64, Engagement)],
        at: Millis,
    ) -> Result<(), StoreError>;

    /// The engagement readings of `post_ids` at or after `since`, oldest first, per post id.
    async fn engagement_history(
        &self,
        post_ids: &[i64],
        since: Millis,
    ) -> Result<Vec<(i64, EngagementSample)>, StoreError>;

    /// The platform says the post was deleted: blanks its text, author (to `UNKNOWN_AUTHOR`),
    /// name, followers, link and quoted text, keeping its row, counts and scores (so a
    /// re-poll cannot bring it back) and its readings, deletes reviewers' examples of it,
    /// blanks the alerts that quote it, marks it gone (not re-read again) and logs
    /// `deleted_on_platform` in `privacy_log`. False if it was already gone.
    async fn erase_deleted_post(&self, post_id: i64, at: Millis) -> Result<bool, StoreError>;

    /// In one transaction, if the task was never escalated as viral: marks it, sets its
    /// criticality and priority, adds the factor to the mention's assessment, records a
    /// `viral` event and enqueues the alert. False (and nothing changes) if it was already.
    async fn escalate_viral(&self, escalation: &ViralEscalation) -> Result<bool, StoreError>;

    // --- Recurring problems ------------------------------------------------------------------

    /// Up to `limit` mentions after `after_mention_id` (in id order) whose post is a scored
    /// complaint (p ≥ 0.5) or negative, was written at or after `since`, still has its text,
    /// and is in no problem yet; each with its post's embedding of `model` if stored.
    async fn ungrouped_complaints(
        &self,
        model: &str,
        since: Millis,
        after_mention_id: i64,
        limit: usize,
    ) -> Result<Vec<GroupCandidate>, StoreError>;

    /// Stores posts' embeddings of `model` (replacing another model's).
    async fn save_embeddings(
        &self,
        model: &str,
        embeddings: &[(i64, crate::domain::Embedding)],
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
    async fn task_problem(&self, task_id: i64) -> Result<Option<TaskProblem>, StoreError>;
    /// Problems with complaints written in `[start, end)` (at least `min_complaints` of them),
    /// most complaints first, for the weekly export.
    async fn export_problems(
        &self,
        start: Millis,
        end: Millis,
        brand: Option<&BrandId>,
        min_complaints: i64,
    ) -> Result<Vec<ExportProblem>, StoreError>;

    // --- Queue and reports -------------------------------------------------------------------

    /// One page of the tasks `filter` selects (its `limit` and `offset`), most urgent first.
    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskRow>, StoreError>;
    /// How many tasks `filter` selects in all, ignoring its `limit` and `offset`.
    async fn count_tasks(&self, filter: &TaskFilter) -> Result<i64, StoreError>;
    async fn task_detail(&self, task_id: i64) -> Result<TaskDetail, StoreError>;
    async fn source_health(&self) -> Result<Vec<SourceHealth>, StoreError>;
    async fn quarantined(&self, source: Option<&SourceId>, limit: usize) -> Result<Vec<QuarantineRow>, StoreError>;
    async fn counts(&self) -> Result<Counts, StoreError>;

    // --- Alert outbox -------------------------------------------------------------------------

    /// Alerts due for delivery at `now`, oldest first.
    async fn due_alerts(&self, now: Millis, limit: usize) -> Result<Vec<OutboxAlert>, StoreError>;

    // --- Alert delivery -----------------------------------------------------------------------

    /// Fans an outbox alert out to one delivery per channel and marks it routed, in one
    /// transaction; routing it again adds nothing. Returns how many deliveries were added.
    async fn route_alert(&self, alert_id: i64, channels: &[String], now: Millis) -> Result<usize, StoreError>;

    /// Pending deliveries due at `now` on channels not disabled, oldest first, leased until
    /// `lease_until` (a crash mid-send makes them due again then).
    async fn claim_deliveries(
        &self,
        now: Millis,
        lease_until: Millis,
        limit: usize,
    ) -> Result<Vec<DueDelivery>, StoreError>;

    /// Records a delivery as sent, with where the platform put it.
    async fn mark_delivery_sent(&self, delivery_id: i64, sent: &SentRef, at: Millis) -> Result<(), StoreError>;

    /// Makes a delivery due again at `at`; with an error, the attempt counts and the error is kept.
    async fn reschedule_delivery(&self, delivery_id: i64, at: Millis, error: Option<&str>) -> Result<(), StoreError>;

    /// Gives up on a delivery.
    async fn mark_delivery_dead(&self, delivery_id: i64, error: &str) -> Result<(), StoreError>;

    /// Turns a channel off after a permanent failure; its deliveries wait until it is enabled.
    async fn disable_channel(&self, name: &str, reason: &str, at: Millis) -> Result<(), StoreError>;

    /// Turns a disabled channel back on.
    async fn enable_channel(&self, name: &str) -> Result<(), StoreError>;

    /// Delivery state of the named channels.
    async fn channel_states(&self, names: &[String]) -> Result<Vec<ChannelState>, StoreError>;

    /// Active tasks with no first response due at or before `due_before`, soonest first.
    async fn unanswered_tasks_due(&self, due_before: Millis) -> Result<Vec<SlaTask>, StoreError>;

    /// Puts an alert in the outbox; an alert with the same dedup key is kept, not doubled.
    /// Returns whether it was added.
    async fn enqueue_alert(
        &self,
        brand_id: Option<&str>,
        payload: &AlertPayload,
        now: Millis,
    ) -> Result<bool, StoreError>;

    /// Like `route_alert`, with a hold per channel: `Some(until)` stores the delivery as held
    /// by quiet hours until then (for the digest) instead of due now.
    async fn route_alert_with_holds(
        &self,
        alert_id: i64,
        routes: &[(String, Option<Millis>)],
        now: Millis,
    ) -> Result<usize, StoreError>;

    /// Held deliveries whose hold ended at or before `now`, oldest first.
    async fn held_deliveries_due(&self, now: Millis, limit: usize) -> Result<Vec<HeldDelivery>, StoreError>;

    /// In one transaction: puts the digest in the outbox (already routed), adds its one
    /// delivery to `channel`, and marks the held deliveries it carries as digested. If a
    /// digest with the same dedup key exists, the held deliveries are made due at once
    /// instead (nothing held is lost). Returns whether the digest was added.
    async fn commit_digest(
        &self,
        channel: &str,
        digest: &AlertPayload,
        held_ids: &[i64],
        now: Millis,
    ) -> Result<bool, StoreError>;

    /// When the first message about `task_id` was sent to `channel` (by a delivery other
    /// than `except`), if one was.
    async fn first_sent_about_task(
        &self,
        task_id: i64,
        channel: &str,
        except: i64,
    ) -> Result<Option<Millis>, StoreError>;

    /// Negative mentions of `brand` per bucket of `bucket_ms` (keyed by bucket start), for
    /// posts written in `[start, end)`; buckets without any are left out.
    async fn negative_counts(
        &self,
        brand: &BrandId,
        start: Millis,
        end: Millis,
        bucket_ms: Millis,
    ) -> Result<Vec<(Millis, i64)>, StoreError>;

    /// Up to `limit` negative mentions of `brand` written in `[start, end)`, newest first.
    async fn negative_posts(
        &self,
        brand: &BrandId,
        start: Millis,
        end: Millis,
        limit: usize,
    ) -> Result<Vec<NegativePost>, StoreError>;

    /// When the oldest post that mentions `brand` was written.
    async fn first_mention_post_at(&self, brand: &BrandId) -> Result<Option<Millis>, StoreError>;

    /// The newest `limit` outbox alerts of `kind` about `brand`, newest first.
    async fn recent_alerts(&self, kind: &str, brand: &BrandId, limit: usize) -> Result<Vec<AlertPayload>, StoreError>;

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
    /// Every labelled post once, with the latest sentiment and complaint labels reviewers
    /// gave it, in the order of its latest label.
    async fn labelled_examples(&self) -> Result<Vec<LabelledExample>, StoreError>;
    /// The brand's evidence for its threshold: flagged tasks once reviewed (responded or
    /// resolved: complaints; dismissed as false positive: not), and mentions below the
    /// threshold a reviewer opened a task from (missed complaints), each with its criticality.
    async fn threshold_evidence(&self, brand: &BrandId) -> Result<Vec<ReviewedItem>, StoreError>;
    /// For tasks resolved at or after `resolved_since` without one yet: records the author's
    /// next scored post to the brand after resolution, its sentiment, and `recovered` (that
    /// post is not negative), with a `follow_up_recorded` event at `now`. Each task is
    /// recorded once, even by concurrent callers. Returns how many tasks were updated.
    async fn record_follow_ups(&self, now: Millis, resolved_since: Millis) -> Result<u64, StoreError>;
    /// The latest task change time and the task count: cheap "did anything change?".
    async fn queue_version(&self) -> Result<(Millis, i64), StoreError>;

    // --- The mentions sweep -------------------------------------------------------------------

    /// One page of mentions matching the filter, with how many match in all.
    async fn list_mentions(&self, filter: &MentionFilter) -> Result<MentionPage, StoreError>;
    /// One mention with its post; `NotFound` if there is none.
    async fn mention_detail(&self, mention_id: i64) -> Result<MentionDetail, StoreError>;
    /// "This needed an answer": in one transaction, joins the conversation's active task or
    /// opens one (with its event naming the reviewer and the new-task alert), links the
    /// mention to it, and records a missed-complaint example. A mention that has a task
    /// already gets `Existing` and nothing changes, so repeating the request is harmless;
    /// `Conflict` if the mention is not assessed yet.
    async fn open_task_from_mention(&self, request: MentionTaskRequest) -> Result<MentionTaskOutcome, StoreError>;

    // --- Replies sent from earshot (the reply outbox) -----------------------------------------

    /// The post a reply to the task answers (its most recent post) and its id.
    async fn reply_target(&self, task_id: i64) -> Result<Option<(i64, crate::replies::ReplyTarget)>, StoreError>;
    /// Writes the reply (and the claim of the task, if given) before anything is sent;
    /// `Conflict` when the task already has a reply waiting.
    async fn queue_reply(&self, reply: NewReply) -> Result<ReplyRow, StoreError>;
    async fn task_replies(&self, task_id: i64) -> Result<Vec<ReplyRow>, StoreError>;
    async fn reply(&self, reply_id: i64) -> Result<ReplyRow, StoreError>;
    /// Claims up to `limit` queued replies due at `claim.now` for `claim.ttl_ms`.
    async fn claim_replies(&self, claim: &Claim<'_>, limit: usize) -> Result<Vec<ClaimedReply>, StoreError>;
    /// Marks a send as starting (the row is in doubt until its outcome is recorded); false
    /// when the claim was lost.
    async fn begin_reply_attempt(&self, reply_id: i64, holder: &str, now: Millis) -> Result<bool, StoreError>;
    /// Records the platform's acceptance and applies the task change in one transaction;
    /// false when the row was no longer this holder's. `Conflict` when the task changed
    /// meanwhile (nothing is written; decide again).
    async fn record_reply_sent(&self, sent: &ReplySent) -> Result<bool, StoreError>;
    async fn record_reply_failure(&self, failure: &ReplyFailure, task_id: i64) -> Result<(), StoreError>;
    /// A failed reply queued again by `actor`.
    async fn retry_reply(&self, reply_id: i64, actor: &str, now: Millis) -> Result<ReplyRow, StoreError>;
    async fn reply_token(&self, account: &str) -> Result<Option<crate::replies::StoredToken>, StoreError>;
    async fn save_reply_token(
        &self,
        account: &str,
        token: &crate::replies::StoredToken,
        now: Millis,
    ) -> Result<(), StoreError>;
    async fn record_account_event(&self, account: &str, event: &AccountEvent) -> Result<(), StoreError>;
    async fn account_health(&self) -> Result<Vec<AccountHealth>, StoreError>;

    // --- Reply templates managed in the queue ---------------------------------------------

    /// The stored templates, of one brand or of all, by brand and name.
    async fn reply_templates(&self, brand: Option<&BrandId>) -> Result<Vec<ReplyTemplateRow>, StoreError>;
    /// One stored template; `NotFound` if there is none.
    async fn reply_template(&self, id: i64) -> Result<ReplyTemplateRow, StoreError>;
    /// Stores a new template (`id` `None`) or replaces template `id`; `Conflict` when the
    /// brand has another template of that name, `NotFound` when `id` is not stored.
    async fn save_reply_template(
        &self,
        id: Option<i64>,
        template: &NewReplyTemplate,
    ) -> Result<ReplyTemplateRow, StoreError>;
    /// Deletes a template; `NotFound` if there is none.
    async fn delete_reply_template(&self, id: i64) -> Result<(), StoreError>;
}

/// The database behind a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}
