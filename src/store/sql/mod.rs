//! `SqlStore`: the `Store` on SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! The SQL is written once in the dialect both accept: `$N` placeholders,
//! `INSERT … ON CONFLICT … DO NOTHING RETURNING`, `CASE` instead of two-argument MIN/MAX, and
//! casts on aggregates (PostgreSQL's SUM of BIGINT is NUMERIC, which `Any` cannot decode).
//! Write transactions on SQLite start with `BEGIN IMMEDIATE`, so two writers queue on the
//! busy timeout instead of failing when a read lock cannot be upgraded.

pub(super) mod admin;
mod alert_holds;
mod alerts;
mod engagement;
mod exports;
mod ingest;
mod mentions;
mod params;
mod privacy;
mod problems;
mod queue;
mod queue_actions;
mod replies;
mod rows;
mod scoring;
mod templates;

use std::path::Path;

use async_trait::async_trait;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Executor, Transaction};

use super::{
    AdminStore, AlertStore, DeliveryStore, EngagementStore, ExportStore, HealthStore, IngestStore, LeaseStore,
    MentionStore, PrivacyStore, ProblemStore, QueueStore, ReplyStore, ReviewStore, ScoringStore, SpikeStore,
    TemplateStore, UserStore,
};
use super::{ApiTokenRecord, LabelledExample, NewUser, ReviewedItem, SessionUser, TaskChange, UserRecord};
use super::{
    AssessmentOutcome, AuthorHistory, Backend, BrandRecord, ChannelState, Claim, CommitOutcome, Counts, DueDelivery,
    NewAssessment, OutboxAlert, PendingMention, PollCommit, PollFailure, QuarantineRow, SentRef, SlaTask, SourceHealth,
    SourceRecord, StoreError, TaskDetail, TaskFilter, TaskRow,
};
use super::{ExportQuery, ExportRow, ExportRunEnd, ExportRunRow, ExportTask, NewExportRun};
use super::{MentionDetail, MentionFilter, MentionPage, MentionTaskOutcome, MentionTaskRequest};
use crate::config::DatabaseSettings;

/// The statuses of active tasks (`TaskStatus::is_active`) as an SQL list, for `status IN …`.
const ACTIVE_TASK_STATUSES: &str = "('open', 'assigned', 'responded')";
/// The statuses of tasks still waiting for their first response, as an SQL list.
const UNANSWERED_TASK_STATUSES: &str = "('open', 'assigned')";
use crate::domain::{BrandId, Cursor, Millis, Platform, SentimentOutcome, SourceId, now_millis};

/// SQLite migrations, embedded in the binary.
pub static MIGRATOR_SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
/// PostgreSQL migrations, embedded in the binary.
pub static MIGRATOR_POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The store on a SQL database.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
}

impl SqlStore {
    /// Opens (creating if needed) the database the settings name.
    pub async fn connect(settings: &DatabaseSettings) -> Result<SqlStore, StoreError> {
        install_default_drivers();
        let backend = if settings.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let mut url = settings.url.clone();
        if backend == Backend::Sqlite {
            url = sqlite_url_with_create(&url)?;
        }
        let busy_timeout_ms = settings.busy_timeout_ms;
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute(format!("PRAGMA busy_timeout = {busy_timeout_ms}").as_str())
                            .await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        if backend == Backend::Sqlite {
            // WAL lets the web queue read while the pipeline writes; it is a property of the
            // file, so setting it once per open is enough.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        Ok(SqlStore { pool, backend })
    }

    /// The pool, for tests that need to look underneath.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    async fn write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }
}

/// Adds `mode=rwc` (create if missing) and creates the parent folder of a SQLite file.
fn sqlite_url_with_create(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let parent = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent.filter(|_| path != ":memory:") {
        std::fs::create_dir_all(parent).map_err(|error| {
            StoreError::Backend(sqlx::Error::Configuration(
                format!("cannot create folder {} for the database: {error}", parent.display()).into(),
            ))
        })?;
    }
    if query.split('&').any(|pair| pair.starts_with("mode=")) {
        return Ok(url.to_owned());
    }
    let separator = if url.contains('?') { "&" } else { "?" };
    Ok(format!("{url}{separator}mode=rwc"))
}

#[async_trait]
impl AdminStore for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    #[tracing::instrument(skip_all)]
    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &MIGRATOR_SQLITE,
            Backend::Postgres => &MIGRATOR_POSTGRES,
        };
        migrator.run(&self.pool).await?;
        let filled = mentions::backfill_search_text(self).await?;
        if filled > 0 {
            tracing::info!(n_posts = filled, "Filled in the search text of stored posts.");
        }
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn sync_config(&self, brands: &[BrandRecord], sources: &[SourceRecord]) -> Result<(), StoreError> {
        let now = now_millis();
        let mut tx = self.write().await?;
        sqlx::query("UPDATE brands SET active = 0").execute(&mut *tx).await?;
        sqlx::query("UPDATE sources SET active = 0").execute(&mut *tx).await?;
        for brand in brands {
            sqlx::query(
                "INSERT INTO brands (id, name, threshold, settings_json, active, updated_at_ms)
                 VALUES ($1, $2, $3, $4, 1, $5)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, threshold = excluded.threshold,
                     settings_json = excluded.settings_json, active = 1, updated_at_ms = excluded.updated_at_ms",
            )
            .bind(brand.id.as_str())
            .bind(&brand.name)
            .bind(f64::from(brand.threshold))
            .bind(&brand.settings_json)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        for source in sources {
            sqlx::query(
                "INSERT INTO sources (id, brand_id, kind, schedule, active, updated_at_ms)
                 VALUES ($1, $2, $3, $4, 1, $5)
                 ON CONFLICT (id) DO UPDATE SET brand_id = excluded.brand_id, kind = excluded.kind,
                     schedule = excluded.schedule, active = 1, updated_at_ms = excluded.updated_at_ms",
            )
            .bind(source.id.as_str())
            .bind(source.brand.as_str())
            .bind(&source.kind)
            .bind(&source.schedule)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn backup_into(&self, to: &std::path::Path) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                let to = to
                    .to_str()
                    .ok_or_else(|| StoreError::Unsupported("the backup path must be UTF-8".into()))?;
                // One read transaction: the copy is the database as of one moment, while
                // writers go on (WAL).
                sqlx::query("VACUUM INTO $1").bind(to).execute(&self.pool).await?;
                Ok(())
            }
            Backend::Postgres => Err(StoreError::Unsupported(
                "PostgreSQL is backed up with its own tools: pg_dump --format=custom (see README, Backups)".into(),
            )),
        }
    }
}

#[async_trait]
impl HealthStore for SqlStore {
    async fn source_health(&self) -> Result<Vec<SourceHealth>, StoreError> {
        queue::source_health(&self.pool).await
    }

    async fn quarantined(&self, source: Option<&SourceId>, limit: usize) -> Result<Vec<QuarantineRow>, StoreError> {
        queue::quarantined(&self.pool, source, limit).await
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        queue::counts(&self.pool).await
    }
}

#[async_trait]
impl PrivacyStore for SqlStore {
    async fn erase_author(
        &self,
        platform: Platform,
        handle: &str,
        actor: &str,
        at: Millis,
    ) -> Result<super::Erasure, StoreError> {
        let mut tx = self.write().await?;
        let erasure = privacy::erase_author(&mut tx, platform.as_str(), handle, actor, at).await?;
        tx.commit().await?;
        Ok(erasure)
    }

    async fn expire_posts(&self, before: Millis, limit: usize, at: Millis) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let n_expired = privacy::expire_posts(&mut tx, before, limit, at).await?;
        tx.commit().await?;
        Ok(n_expired)
    }
}

#[async_trait]
impl IngestStore for SqlStore {
    async fn cursor(&self, source: &SourceId) -> Result<Option<Cursor>, StoreError> {
        ingest::cursor(&self.pool, source).await
    }

    async fn commit_poll(&self, commit: PollCommit<'_>) -> Result<CommitOutcome, StoreError> {
        let mut tx = self.write().await?;
        let outcome = ingest::commit_poll(&mut tx, &commit).await?;
        fail::fail_point!("store::before_commit_poll", |_| Err(StoreError::Conflict(
            "fail point".into()
        )));
        tx.commit().await?;
        Ok(outcome)
    }

    async fn record_poll_failure(&self, failure: PollFailure<'_>) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        ingest::record_poll_failure(&mut tx, &failure).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl ScoringStore for SqlStore {
    async fn claim_pending_mentions(
        &self,
        claim: &Claim<'_>,
        after: Option<i64>,
        limit: usize,
    ) -> Result<Vec<PendingMention>, StoreError> {
        let mut tx = self.write().await?;
        let claimed = scoring::claim_pending_mentions(&mut tx, self.backend, claim, after, limit).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn save_sentiments(&self, sentiments: &[(i64, SentimentOutcome)], at: Millis) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        scoring::save_sentiments(&mut tx, sentiments, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn author_history(
        &self,
        brand: &BrandId,
        platform: Platform,
        author: &str,
        since: Millis,
    ) -> Result<AuthorHistory, StoreError> {
        scoring::author_history(&self.pool, brand, platform, author, since).await
    }

    async fn author_histories(
        &self,
        keys: &[super::AuthorKey],
        since: Millis,
    ) -> Result<std::collections::HashMap<super::AuthorKey, AuthorHistory>, StoreError> {
        scoring::author_histories(&self.pool, keys, since).await
    }

    async fn save_assessments(&self, assessments: Vec<NewAssessment>) -> Result<Vec<AssessmentOutcome>, StoreError> {
        let mut tx = self.write().await?;
        // PostgreSQL: take every conversation lock of the chunk first, in one order that every
        // instance uses, so two instances' chunks never wait on each other in a cycle; then
        // save in the chunk's order (taking a held lock again is free).
        let mut conversations: Vec<(&BrandId, &super::TaskPlan)> = assessments
            .iter()
            .filter_map(|a| a.task.as_ref().map(|plan| (&a.brand, plan)))
            .collect();
        conversations.sort_by(|a, b| {
            (a.0.as_str(), a.1.platform.as_str(), &a.1.author_handle).cmp(&(
                b.0.as_str(),
                b.1.platform.as_str(),
                &b.1.author_handle,
            ))
        });
        for (brand, plan) in conversations {
            scoring::lock_conversation(&mut tx, self.backend, brand.as_str(), plan).await?;
        }
        let outcomes = scoring::save_assessments(&mut tx, self.backend, assessments).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn save_assessment(&self, assessment: NewAssessment) -> Result<AssessmentOutcome, StoreError> {
        let mut tx = self.write().await?;
        let outcome = scoring::save_assessments(&mut tx, self.backend, vec![assessment])
            .await?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("an assessment had no outcome".into()))?;
        tx.commit().await?;
        Ok(outcome)
    }
}

#[async_trait]
impl LeaseStore for SqlStore {
    async fn try_acquire_lease(&self, name: &str, holder: &str, now: Millis, ttl_ms: i64) -> Result<bool, StoreError> {
        if self.backend == Backend::Sqlite {
            // One instance per SQLite file: nobody to share with, and a restarted process must
            // not wait for the lease of the one it replaces.
            return Ok(true);
        }
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
             WHERE leases.expires_at_ms < $4 OR leases.holder = excluded.holder
             RETURNING holder",
        )
        .bind(name)
        .bind(holder)
        .bind(now.saturating_add(ttl_ms))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.is_some())
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl EngagementStore for SqlStore {
    async fn engagement_targets(
        &self,
        written_since: Millis,
        limit: usize,
    ) -> Result<Vec<super::EngagementTarget>, StoreError> {
        engagement::targets(&self.pool, written_since, limit).await
    }

    async fn record_engagement(
        &self,
        checked: &[i64],
        readings: &[(i64, crate::domain::Engagement)],
        at: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        engagement::record(&mut tx, checked, readings, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn engagement_history(
        &self,
        post_ids: &[i64],
        since: Millis,
    ) -> Result<Vec<(i64, crate::domain::EngagementSample)>, StoreError> {
        engagement::history(&self.pool, post_ids, since).await
    }

    async fn erase_deleted_post(&self, post_id: i64, at: Millis) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let erased = engagement::erase_deleted_post(&mut tx, post_id, at).await?;
        tx.commit().await?;
        Ok(erased)
    }

    async fn escalate_viral(&self, escalation: &super::ViralEscalation) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let escalated = engagement::escalate_viral(&mut tx, escalation).await?;
        tx.commit().await?;
        Ok(escalated)
    }
}

#[async_trait]
impl ProblemStore for SqlStore {
    async fn ungrouped_complaints(
        &self,
        model: &str,
        since: Millis,
        after_mention_id: i64,
        limit: usize,
    ) -> Result<Vec<super::GroupCandidate>, StoreError> {
        problems::ungrouped(&self.pool, model, since, after_mention_id, limit).await
    }

    async fn save_embeddings(
        &self,
        model: &str,
        embeddings: &[(i64, crate::domain::Embedding)],
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        problems::save_embeddings(&mut tx, model, embeddings).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn problem_centroids(
        &self,
        brand: &BrandId,
        seen_since: Millis,
    ) -> Result<Vec<crate::problems::grouping::Centroid>, StoreError> {
        problems::centroids(&self.pool, brand, seen_since).await
    }

    async fn problem_window(
        &self,
        brand: &BrandId,
        model: &str,
        since: Millis,
        limit: usize,
    ) -> Result<Vec<super::WindowMember>, StoreError> {
        problems::window_members(&self.pool, brand, model, since, limit).await
    }

    async fn save_grouping(&self, grouping: &super::Grouping) -> Result<super::GroupingSaved, StoreError> {
        let mut tx = self.write().await?;
        let saved = problems::save_grouping(&mut tx, grouping, false).await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn save_reclustering(&self, grouping: &super::Grouping) -> Result<super::GroupingSaved, StoreError> {
        let mut tx = self.write().await?;
        let saved = problems::save_grouping(&mut tx, grouping, true).await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn set_problem_labels(&self, labels: &[(i64, String, Vec<String>)]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        problems::set_labels(&mut tx, labels).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn problem_growth_counts(
        &self,
        ids: &[i64],
        window_start: Millis,
        baseline_start: Millis,
    ) -> Result<Vec<(i64, i64, i64, Option<Millis>)>, StoreError> {
        problems::growth_counts(&self.pool, ids, window_start, baseline_start).await
    }

    async fn alert_problem_growing(
        &self,
        problem_id: i64,
        payload: &crate::alerts::AlertPayload,
        cooldown_since: Millis,
        at: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let added = problems::alert_growing(&mut tx, problem_id, payload, cooldown_since, at).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn list_problems(&self, filter: &super::ProblemFilter) -> Result<Vec<super::ProblemRow>, StoreError> {
        problems::list(&self.pool, filter).await
    }

    async fn problem_detail(&self, id: i64, now: Millis) -> Result<super::ProblemDetail, StoreError> {
        problems::detail(&self.pool, id, now).await
    }

    async fn update_problem(&self, change: &super::ProblemChange) -> Result<super::ProblemRow, StoreError> {
        let mut tx = self.write().await?;
        problems::update(&mut tx, change).await?;
        tx.commit().await?;
        problems::row(&self.pool, change.id, change.at).await
    }

    async fn task_problem(&self, task_id: i64) -> Result<Option<super::TaskProblem>, StoreError> {
        problems::task_problem(&self.pool, task_id).await
    }
}

#[async_trait]
impl QueueStore for SqlStore {
    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskRow>, StoreError> {
        queue::list_tasks(&self.pool, filter).await
    }

    async fn count_tasks(&self, filter: &TaskFilter) -> Result<i64, StoreError> {
        queue::count_tasks(&self.pool, filter).await
    }

    async fn task_detail(&self, task_id: i64) -> Result<TaskDetail, StoreError> {
        queue::task_detail(&self.pool, task_id).await
    }

    async fn queue_version(&self) -> Result<(Millis, i64), StoreError> {
        queue_actions::queue_version(&self.pool).await
    }

    async fn apply_task_change(&self, change: TaskChange) -> Result<TaskRow, StoreError> {
        let mut tx = self.write().await?;
        let row = queue_actions::apply_task_change(&mut tx, &change).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn relabel_post(
        &self,
        task_id: i64,
        post_id: i64,
        label: &str,
        reviewer: &str,
        at: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        queue_actions::relabel_post(&mut tx, task_id, post_id, label, reviewer, at).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl ReviewStore for SqlStore {
    async fn labelled_examples(&self) -> Result<Vec<LabelledExample>, StoreError> {
        queue_actions::labelled_examples(&self.pool).await
    }

    async fn threshold_evidence(&self, brand: &BrandId) -> Result<Vec<ReviewedItem>, StoreError> {
        mentions::threshold_evidence(&self.pool, brand).await
    }

    async fn record_follow_ups(&self, now: Millis, resolved_since: Millis) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let n = queue_actions::record_follow_ups(&mut tx, now, resolved_since).await?;
        tx.commit().await?;
        Ok(n)
    }
}

#[async_trait]
impl MentionStore for SqlStore {
    async fn list_mentions(&self, filter: &MentionFilter) -> Result<MentionPage, StoreError> {
        mentions::list_mentions(&self.pool, filter).await
    }

    async fn mention_detail(&self, mention_id: i64) -> Result<MentionDetail, StoreError> {
        mentions::mention_detail(&self.pool, mention_id).await
    }

    async fn open_task_from_mention(&self, request: MentionTaskRequest) -> Result<MentionTaskOutcome, StoreError> {
        let mut tx = self.write().await?;
        let outcome = mentions::open_task_from_mention(&mut tx, self.backend, request).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}

#[async_trait]
impl AlertStore for SqlStore {
    async fn enqueue_alert(
        &self,
        brand_id: Option<&str>,
        payload: &crate::alerts::AlertPayload,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let added = alerts::enqueue_alert(&mut tx, brand_id, payload, now).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn due_alerts(&self, now: Millis, limit: usize) -> Result<Vec<OutboxAlert>, StoreError> {
        queue::due_alerts(&self.pool, now, limit).await
    }

    async fn route_alert(&self, alert_id: i64, channels: &[String], now: Millis) -> Result<usize, StoreError> {
        let mut tx = self.write().await?;
        let added = alerts::route_alert(&mut tx, alert_id, channels, now).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn route_alert_with_holds(
        &self,
        alert_id: i64,
        routes: &[(String, Option<Millis>)],
        now: Millis,
    ) -> Result<usize, StoreError> {
        let mut tx = self.write().await?;
        let added = alert_holds::route_alert_with_holds(&mut tx, alert_id, routes, now).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn held_deliveries_due(&self, now: Millis, limit: usize) -> Result<Vec<super::HeldDelivery>, StoreError> {
        alert_holds::held_deliveries_due(&self.pool, now, limit).await
    }

    async fn commit_digest(
        &self,
        channel: &str,
        digest: &crate::alerts::AlertPayload,
        held_ids: &[i64],
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let added = alert_holds::commit_digest(&mut tx, channel, digest, held_ids, now).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn recent_alerts(
        &self,
        kind: &str,
        brand: &BrandId,
        limit: usize,
    ) -> Result<Vec<crate::alerts::AlertPayload>, StoreError> {
        alert_holds::recent_alerts(&self.pool, kind, brand, limit).await
    }

    async fn unanswered_tasks_due(&self, due_before: Millis) -> Result<Vec<SlaTask>, StoreError> {
        alerts::unanswered_tasks_due(&self.pool, due_before).await
    }
}

#[async_trait]
impl DeliveryStore for SqlStore {
    async fn claim_deliveries(
        &self,
        now: Millis,
        lease_until: Millis,
        limit: usize,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let mut tx = self.write().await?;
        let claimed = alerts::claim_deliveries(&mut tx, self.backend, now, lease_until, limit).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn mark_delivery_sent(&self, delivery_id: i64, sent: &SentRef, at: Millis) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        alerts::mark_sent(&mut tx, delivery_id, sent, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reschedule_delivery(&self, delivery_id: i64, at: Millis, error: Option<&str>) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        alerts::reschedule(&mut tx, delivery_id, at, error).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn mark_delivery_dead(&self, delivery_id: i64, error: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        alerts::mark_dead(&mut tx, delivery_id, error).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn first_sent_about_task(
        &self,
        task_id: i64,
        channel: &str,
        except: i64,
    ) -> Result<Option<Millis>, StoreError> {
        alert_holds::first_sent_about_task(&self.pool, task_id, channel, except).await
    }

    async fn disable_channel(&self, name: &str, reason: &str, at: Millis) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        alerts::disable_channel(&mut tx, name, reason, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enable_channel(&self, name: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        alerts::enable_channel(&mut tx, name).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn channel_states(&self, names: &[String]) -> Result<Vec<ChannelState>, StoreError> {
        alerts::channel_states(&self.pool, names).await
    }
}

#[async_trait]
impl SpikeStore for SqlStore {
    async fn negative_counts(
        &self,
        brand: &BrandId,
        start: Millis,
        end: Millis,
        bucket_ms: Millis,
    ) -> Result<Vec<(Millis, i64)>, StoreError> {
        alert_holds::negative_counts(&self.pool, brand, start, end, bucket_ms).await
    }

    async fn negative_posts(
        &self,
        brand: &BrandId,
        start: Millis,
        end: Millis,
        limit: usize,
    ) -> Result<Vec<super::NegativePost>, StoreError> {
        alert_holds::negative_posts(&self.pool, brand, start, end, limit).await
    }

    async fn first_mention_post_at(&self, brand: &BrandId) -> Result<Option<Millis>, StoreError> {
        alert_holds::first_mention_post_at(&self.pool, brand).await
    }
}

#[async_trait]
impl ExportStore for SqlStore {
    async fn export_rows(&self, query: &ExportQuery) -> Result<Vec<ExportRow>, StoreError> {
        exports::export_rows(&self.pool, query).await
    }

    async fn export_tasks(
        &self,
        start: Millis,
        end: Millis,
        brand: Option<&BrandId>,
    ) -> Result<Vec<ExportTask>, StoreError> {
        exports::export_tasks(&self.pool, start, end, brand).await
    }

    async fn export_problems(
        &self,
        start: Millis,
        end: Millis,
        brand: Option<&BrandId>,
        min_complaints: i64,
    ) -> Result<Vec<super::ExportProblem>, StoreError> {
        problems::export(&self.pool, start, end, brand, min_complaints).await
    }

    async fn first_post_at(&self) -> Result<Option<Millis>, StoreError> {
        exports::first_post_at(&self.pool).await
    }

    async fn begin_export_run(&self, run: NewExportRun<'_>) -> Result<Option<i64>, StoreError> {
        let mut tx = self.write().await?;
        let id = exports::begin_export_run(&mut tx, &run).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn finish_export_run(&self, id: i64, end: ExportRunEnd, at: Millis) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        exports::finish_export_run(&mut tx, id, &end, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn export_runs(&self, limit: usize) -> Result<Vec<ExportRunRow>, StoreError> {
        exports::export_runs(&self.pool, limit).await
    }
}

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, user: NewUser) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = queue_actions::create_user(&mut tx, &user).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        queue_actions::user_by_name(&self.pool, username).await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        at: Millis,
        expires_at_ms: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        queue_actions::create_session(&mut tx, token_hash, user_id, csrf_token, at, expires_at_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: Millis) -> Result<Option<SessionUser>, StoreError> {
        queue_actions::session_user(&self.pool, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        queue_actions::delete_session(&self.pool, token_hash).await
    }

    async fn create_api_token(
        &self,
        token_hash: &str,
        name: &str,
        role: crate::auth::Role,
        at: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        queue_actions::create_api_token(&mut tx, token_hash, name, role, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRecord>, StoreError> {
        queue_actions::api_token(&self.pool, token_hash).await
    }
}

#[async_trait]
impl ReplyStore for SqlStore {
    async fn reply_target(&self, task_id: i64) -> Result<Option<(i64, crate::replies::ReplyTarget)>, StoreError> {
        replies::reply_target(&self.pool, task_id).await
    }

    async fn queue_reply(&self, reply: super::NewReply) -> Result<super::ReplyRow, StoreError> {
        let mut tx = self.write().await?;
        let row = replies::queue_reply(&mut tx, &reply).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn task_replies(&self, task_id: i64) -> Result<Vec<super::ReplyRow>, StoreError> {
        replies::task_replies(&self.pool, task_id).await
    }

    async fn reply(&self, reply_id: i64) -> Result<super::ReplyRow, StoreError> {
        replies::reply(&self.pool, reply_id).await
    }

    async fn retry_reply(&self, reply_id: i64, actor: &str, now: Millis) -> Result<super::ReplyRow, StoreError> {
        let mut tx = self.write().await?;
        let row = replies::retry_reply(&mut tx, reply_id, actor, now).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn claim_replies(&self, claim: &Claim<'_>, limit: usize) -> Result<Vec<super::ClaimedReply>, StoreError> {
        let mut tx = self.write().await?;
        let claimed = replies::claim_replies(&mut tx, self.backend, claim, limit).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn begin_reply_attempt(&self, reply_id: i64, holder: &str, now: Millis) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let started = replies::begin_reply_attempt(&mut tx, reply_id, holder, now).await?;
        tx.commit().await?;
        Ok(started)
    }

    async fn record_reply_sent(&self, sent: &super::ReplySent) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let recorded = replies::record_reply_sent(&mut tx, sent).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    async fn record_reply_failure(&self, failure: &super::ReplyFailure, task_id: i64) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        replies::record_reply_failure(&mut tx, failure, task_id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reply_token(&self, account: &str) -> Result<Option<crate::replies::StoredToken>, StoreError> {
        replies::reply_token(&self.pool, account).await
    }

    async fn save_reply_token(
        &self,
        account: &str,
        token: &crate::replies::StoredToken,
        now: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        replies::save_reply_token(&mut tx, account, token, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_account_event(&self, account: &str, event: &super::AccountEvent) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        replies::record_account_event(&mut tx, account, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn account_health(&self) -> Result<Vec<super::AccountHealth>, StoreError> {
        replies::account_health(&self.pool).await
    }
}

#[async_trait]
impl TemplateStore for SqlStore {
    async fn reply_templates(&self, brand: Option<&BrandId>) -> Result<Vec<super::ReplyTemplateRow>, StoreError> {
        templates::list(&self.pool, brand).await
    }

    async fn reply_template(&self, id: i64) -> Result<super::ReplyTemplateRow, StoreError> {
        templates::one(&self.pool, id).await
    }

    async fn save_reply_template(
        &self,
        id: Option<i64>,
        template: &super::NewReplyTemplate,
    ) -> Result<super::ReplyTemplateRow, StoreError> {
        let mut tx = self.write().await?;
        let row = templates::save(&mut tx, id, template).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn delete_reply_template(&self, id: i64) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        templates::delete(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_status_lists_are_the_domain_s() {
        use crate::domain::TaskStatus;
        let list = |statuses: Vec<TaskStatus>| {
            let quoted: Vec<String> = statuses.iter().map(|s| format!("'{}'", s.as_str())).collect();
            format!("({})", quoted.join(", "))
        };
        let active: Vec<TaskStatus> = TaskStatus::ALL.into_iter().filter(|s| s.is_active()).collect();
        assert_eq!(ACTIVE_TASK_STATUSES, list(active));
        // Responded means the first response was given.
        assert_eq!(
            UNANSWERED_TASK_STATUSES,
            list(vec![TaskStatus::Open, TaskStatus::Assigned])
        );
    }

    #[test]
    fn sqlite_urls_get_create_mode_unless_they_set_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested/earshot.db");
        let url = format!("sqlite://{}", file.display());

        assert_eq!(sqlite_url_with_create(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(file.parent().unwrap().is_dir(), "the parent folder is created");
        assert_eq!(
            sqlite_url_with_create("sqlite::memory:?cache=shared").unwrap(),
            "sqlite::memory:?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite://x.db?mode=ro").unwrap(),
            "sqlite://x.db?mode=ro"
        );
    }
}
