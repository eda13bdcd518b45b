//! Scoring: pending mentions, sentiments, author history, and the assess → task → outbox step.

use std::collections::{HashMap, HashSet};

use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Row, Transaction};

use super::super::Backend;

use super::super::{
    AssessmentOutcome, AuthorHistory, AuthorKey, Claim, NewAssessment, PendingMention, StoreError, TaskPlan,
};
use super::ACTIVE_TASK_STATUSES;
use super::params::{ROWS_PER_INSERT, placeholders, value_rows};
use super::rows::{get, post_of, sentiment_of, severity_json};
use crate::domain::{BrandId, MentionId, Millis, Platform, PostId, SentimentOutcome, TaskId};

pub(super) async fn claim_pending_mentions(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    claim: &Claim<'_>,
    after: Option<MentionId>,
    limit: usize,
) -> Result<Vec<PendingMention>, StoreError> {
    // PostgreSQL: several instances share the database, so skip rows another transaction is
    // claiming and respect live claims of other instances. SQLite is the single-instance
    // default: any unassessed mention is ours, so a restart resumes a crashed run at once
    // instead of waiting for its claims to expire.
    let (lock, respect_claims) = match backend {
        Backend::Postgres => (
            " FOR UPDATE OF m SKIP LOCKED",
            "AND (m.claimed_until_ms IS NULL OR m.claimed_until_ms < $3 OR m.claimed_by = $1)",
        ),
        Backend::Sqlite => ("", "AND $3 = $3"),
    };
    let until = claim.now.saturating_add(claim.ttl_ms);
    let claimed = sqlx::query(&format!(
        "UPDATE mentions SET claimed_by = $1, claimed_until_ms = $2
         WHERE id IN (
             SELECT m.id FROM mentions m
             WHERE m.assessed = 0 AND m.id > $5 {respect_claims}
             ORDER BY m.id LIMIT $4{lock})
         RETURNING id"
    ))
    .bind(claim.holder)
    .bind(until)
    .bind(claim.now)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .bind(after.map_or(0, MentionId::get))
    .fetch_all(&mut **tx)
    .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(
        "SELECT m.id AS mention_id, m.post_id, m.brand_id,
                p.platform, p.external_id, p.author_handle, p.author_name, p.author_followers, p.text, p.url,
                p.lang, p.created_at_ms, p.first_seen_at_ms, p.likes, p.reposts, p.replies, p.quotes, p.conversation_id,
                p.in_reply_to, p.quote_of, p.quoted_text,
                s.status AS s_status, s.negative AS s_negative, s.neutral AS s_neutral, s.positive AS s_positive,
                s.model AS s_model, s.language AS s_language, s.reason AS s_reason,
                s.complaint AS s_complaint, s.severity_json AS s_severity_json
         FROM mentions m
         JOIN posts p ON p.id = m.post_id
         LEFT JOIN sentiments s ON s.post_id = m.post_id
         WHERE m.assessed = 0 AND m.claimed_by = $1 AND m.claimed_until_ms = $2 AND m.id > $3
         ORDER BY m.id",
    )
    .bind(claim.holder)
    .bind(until)
    .bind(after.map_or(0, MentionId::get))
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| {
            let brand: String = get(row, "brand_id")?;
            Ok(PendingMention {
                mention_id: get(row, "mention_id")?,
                post_id: get(row, "post_id")?,
                brand: BrandId::parse(&brand).map_err(|error| StoreError::Corrupt(error.to_string()))?,
                post: post_of(row)?,
                first_seen_at: get(row, "first_seen_at_ms")?,
                sentiment: sentiment_of(row)?,
            })
        })
        .collect()
}

/// The sentiments of a chunk's posts, many rows per statement; a post scored before keeps
/// its first sentiment.
pub(super) async fn save_sentiments(
    tx: &mut Transaction<'static, Any>,
    sentiments: &[(PostId, SentimentOutcome)],
    at: Millis,
) -> Result<(), StoreError> {
    const COLUMNS: usize = 13;
    for rows in sentiments.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO sentiments (post_id, status, label, negative, neutral, positive, model, language, reason,
                                     scored_at_ms, complaint, severity, severity_json)
             VALUES {}
             ON CONFLICT (post_id) DO NOTHING",
            value_rows(rows.len(), COLUMNS)
        );
        let mut query = sqlx::query(&sql);
        for (post_id, outcome) in rows {
            query = bind_sentiment(query, *post_id, outcome, at);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// One `sentiments` row's 13 values.
fn bind_sentiment<'q>(
    query: Query<'q, Any, AnyArguments<'q>>,
    post_id: PostId,
    outcome: &SentimentOutcome,
    at: Millis,
) -> Query<'q, Any, AnyArguments<'q>> {
    let query = query.bind(post_id);
    let query = match outcome {
        SentimentOutcome::Scored {
            scores,
            model,
            language,
            ..
        } => query
            .bind("scored")
            .bind(Some(scores.label().as_str()))
            .bind(Some(f64::from(scores.negative)))
            .bind(Some(f64::from(scores.neutral)))
            .bind(Some(f64::from(scores.positive)))
            .bind(Some(model.clone()))
            .bind(language.clone())
            .bind(None::<String>),
        SentimentOutcome::Unscored { reason, language } => query
            .bind("unscored")
            .bind(None::<String>)
            .bind(None::<f64>)
            .bind(None::<f64>)
            .bind(None::<f64>)
            .bind(None::<String>)
            .bind(language.clone())
            .bind(Some(reason.clone())),
    };
    let complaint = match outcome {
        SentimentOutcome::Scored {
            complaint: Some(complaint),
            ..
        } => Some(complaint),
        _ => None,
    };
    query
        .bind(at)
        .bind(complaint.map(|c| f64::from(c.probability)))
        .bind(complaint.map(|c| c.severity_if_complaint().as_str()))
        .bind(complaint.map(severity_json))
}

pub(super) async fn author_history(
    pool: &AnyPool,
    brand: &BrandId,
    platform: Platform,
    author: &str,
    since: Millis,
) -> Result<AuthorHistory, StoreError> {
    // One query for one author or a chunk's: `author_histories` with a single key.
    let key = AuthorKey {
        brand: brand.clone(),
        platform,
        author: author.to_owned(),
    };
    let mut histories = author_histories(pool, std::slice::from_ref(&key), since).await?;
    Ok(histories.remove(&key).unwrap_or_default())
}

/// The recent record of each author in `keys`: one query per brand and platform. Only
/// assessed mentions count, so a mention being assessed never counts itself. Authors with no
/// assessed mentions are absent from the answer; `UNKNOWN_AUTHOR` is never looked up (posts
/// of deleted accounts are not one person's record).
pub(super) async fn author_histories(
    pool: &AnyPool,
    keys: &[AuthorKey],
    since: Millis,
) -> Result<HashMap<AuthorKey, AuthorHistory>, StoreError> {
    let mut groups: HashMap<(&str, Platform), Vec<&str>> = HashMap::new();
    for key in keys {
        if key.author != crate::domain::UNKNOWN_AUTHOR {
            groups
                .entry((key.brand.as_str(), key.platform))
                .or_default()
                .push(key.author.as_str());
        }
    }
    let mut histories = HashMap::new();
    for ((brand, platform), mut authors) in groups {
        authors.sort_unstable();
        authors.dedup();
        for authors in authors.chunks(HISTORY_AUTHORS_PER_QUERY) {
            let placeholders: Vec<String> = (0..authors.len()).map(|i| format!("${}", i + 4)).collect();
            let sql = format!(
                "SELECT p.author_handle AS author, COUNT(*) AS n_mentions,
                        CAST(COALESCE(SUM(CASE WHEN s.label = 'negative' THEN 1 ELSE 0 END), 0) AS BIGINT) AS n_negative,
                        CAST(COALESCE(SUM(a.flagged), 0) AS BIGINT) AS n_flagged
                 FROM mentions m
                 JOIN posts p ON p.id = m.post_id
                 JOIN assessments a ON a.mention_id = m.id
                 LEFT JOIN sentiments s ON s.post_id = p.id
                 WHERE m.brand_id = $1 AND p.platform = $2 AND p.created_at_ms >= $3
                   AND p.author_handle IN ({})
                 GROUP BY p.author_handle",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(&sql).bind(brand).bind(platform.as_str()).bind(since);
            for author in authors {
                query = query.bind(*author);
            }
            for row in query.fetch_all(pool).await? {
                let count = |column| get::<i64>(&row, column).map(|v| u64::try_from(v).unwrap_or(0));
                let key = AuthorKey {
                    brand: BrandId::parse(brand).map_err(|error| StoreError::Corrupt(error.to_string()))?,
                    platform,
                    author: get(&row, "author")?,
                };
                histories.insert(
                    key,
                    AuthorHistory {
                        n_mentions: count("n_mentions")?,
                        n_negative: count("n_negative")?,
                        n_flagged: count("n_flagged")?,
                    },
                );
            }
        }
    }
    Ok(histories)
}

/// Authors per history query: bounded well below every backend's limit on bound parameters.
const HISTORY_AUTHORS_PER_QUERY: usize = 500;

/// Saves a chunk's assessments in `tx`, in order: every assessment row first (many per
/// statement; a mention assessed before keeps its first assessment and is reported
/// `AlreadyAssessed`), the mentions taken off the unassessed index, then each new flagged
/// mention's task opened or joined in the chunk's order, so a later mention of a
/// conversation joins the task an earlier one opened.
pub(super) async fn save_assessments(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    assessments: Vec<NewAssessment>,
) -> Result<Vec<AssessmentOutcome>, StoreError> {
    const COLUMNS: usize = 5;
    let mut inserted = HashSet::with_capacity(assessments.len());
    for rows in assessments.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO assessments (mention_id, criticality, factors_json, flagged, assessed_at_ms)
             VALUES {}
             ON CONFLICT (mention_id) DO NOTHING RETURNING mention_id",
            value_rows(rows.len(), COLUMNS)
        );
        let mut query = sqlx::query(&sql);
        for assessment in rows {
            let factors_json = serde_json::to_string(assessment.criticality.factors())
                .map_err(|error| StoreError::Corrupt(format!("factors do not serialise: {error}")))?;
            query = query
                .bind(assessment.mention_id)
                .bind(f64::from(assessment.criticality.score()))
                .bind(factors_json)
                .bind(i64::from(assessment.task.is_some()))
                .bind(assessment.at);
        }
        for row in query.fetch_all(&mut **tx).await? {
            inserted.insert(row.try_get::<MentionId, _>("mention_id")?);
        }
    }
    // Off the unassessed index, in the same transaction as the assessments (migration 0009).
    let new_ids: Vec<MentionId> = inserted.iter().copied().collect();
    for ids in new_ids.chunks(ROWS_PER_INSERT * 8) {
        let sql = format!(
            "UPDATE mentions SET assessed = 1 WHERE id IN ({})",
            placeholders(1, ids.len())
        );
        let mut query = sqlx::query(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        query.execute(&mut **tx).await?;
    }
    let mut outcomes = Vec::with_capacity(assessments.len());
    let mut task_of = Vec::new();
    for assessment in assessments {
        if !inserted.contains(&assessment.mention_id) {
            outcomes.push(AssessmentOutcome::AlreadyAssessed);
            continue;
        }
        let Some(plan) = assessment.task else {
            outcomes.push(AssessmentOutcome::Recorded);
            continue;
        };
        let criticality = assessment.criticality.score();
        let brand = assessment.brand.as_str();
        lock_conversation(tx, backend, brand, &plan).await?;
        let outcome = match active_task(tx, brand, &plan).await? {
            Some(task_id) => {
                join_task(
                    tx,
                    task_id,
                    assessment.mention_id,
                    criticality,
                    &plan,
                    assessment.at,
                    &PIPELINE,
                )
                .await?;
                AssessmentOutcome::Joined { task_id }
            }
            None => {
                let task_id = open_task(
                    tx,
                    brand,
                    assessment.mention_id,
                    criticality,
                    plan,
                    assessment.at,
                    &PIPELINE,
                )
                .await?;
                AssessmentOutcome::Opened { task_id }
            }
        };
        if let AssessmentOutcome::Joined { task_id } | AssessmentOutcome::Opened { task_id } = outcome {
            task_of.push((assessment.mention_id, task_id));
        }
        outcomes.push(outcome);
    }
    // Each flagged assessment points at its task.
    for pairs in task_of.chunks(ROWS_PER_INSERT) {
        let mut cases = String::new();
        for i in 0..pairs.len() {
            cases.push_str(&format!(" WHEN ${} THEN ${}", 2 * i + 1, 2 * i + 2));
        }
        let sql = format!(
            "UPDATE assessments SET task_id = CASE mention_id{cases} END WHERE mention_id IN ({})",
            placeholders(2 * pairs.len() + 1, pairs.len())
        );
        let mut query = sqlx::query(&sql);
        for (mention_id, task_id) in pairs {
            query = query.bind(*mention_id).bind(*task_id);
        }
        for (mention_id, _) in pairs {
            query = query.bind(*mention_id);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(outcomes)
}

/// Who opens or joins a task: the pipeline, or a reviewer who found the mention in the
/// sweep ("this needed an answer"). The task's history names them.
pub(super) struct Opener<'a> {
    pub(super) actor: &'a str,
    pub(super) by_reviewer: bool,
}

/// The pipeline, opening tasks for flagged mentions.
pub(super) const PIPELINE: Opener<'static> = Opener {
    actor: "earshot",
    by_reviewer: false,
};

/// On PostgreSQL, serialises work on the plan's conversation until commit, so two instances
/// (or a reviewer and the pipeline) handling posts of one conversation at once do not both
/// open a task. SQLite writers are serial already.
pub(super) async fn lock_conversation(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    brand: &str,
    plan: &TaskPlan,
) -> Result<(), StoreError> {
    if backend == Backend::Postgres {
        let key = format!("{brand}\u{1f}{}\u{1f}{}", plan.platform, plan.author_handle);
        sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock(hashtext($1))) AS l")
            .bind(key)
            .fetch_one(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The conversation's active task: same brand, platform and author, with the same
/// conversation key or activity inside the window.
pub(super) async fn active_task(
    tx: &mut Transaction<'static, Any>,
    brand: &str,
    plan: &TaskPlan,
) -> Result<Option<TaskId>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT id FROM tasks
         WHERE brand_id = $1 AND platform = $2 AND author_handle = $3
           AND status IN {ACTIVE_TASK_STATUSES}
           AND (last_activity_at_ms >= $4 OR (conversation_key IS NOT NULL AND conversation_key = $5))
         ORDER BY last_activity_at_ms DESC
         LIMIT 1"
    ))
    .bind(brand)
    .bind(plan.platform.as_str())
    .bind(&plan.author_handle)
    .bind(plan.window_start)
    .bind(plan.conversation_key.clone())
    .fetch_optional(&mut **tx)
    .await?;
    match row {
        Some(row) => Ok(Some(row.try_get::<TaskId, _>("id")?)),
        None => Ok(None),
    }
}

pub(super) async fn join_task(
    tx: &mut Transaction<'static, Any>,
    task_id: TaskId,
    mention_id: MentionId,
    criticality: f32,
    plan: &TaskPlan,
    at: Millis,
    opener: &Opener<'_>,
) -> Result<(), StoreError> {
    // A more urgent post raises the task's priority and can only bring its due time forward.
    let row = sqlx::query(
        "UPDATE tasks SET
             last_activity_at_ms = $2,
             updated_at_ms = $2,
             criticality = CASE WHEN criticality < $3 THEN $3 ELSE criticality END,
             due_at_ms = CASE WHEN priority > $4 AND due_at_ms > $5 THEN $5 ELSE due_at_ms END,
             priority = CASE WHEN priority > $4 THEN $4 ELSE priority END
         WHERE id = $1
         RETURNING priority",
    )
    .bind(task_id)
    .bind(at)
    .bind(f64::from(criticality))
    .bind(plan.priority.rank())
    .bind(plan.due_at)
    .fetch_one(&mut **tx)
    .await?;
    let priority: i64 = row.try_get("priority")?;
    let mut detail = serde_json::json!({ "mention_id": mention_id, "criticality": criticality, "priority": priority });
    if opener.by_reviewer {
        detail["by_reviewer"] = serde_json::json!(true);
    }
    insert_event(tx, task_id, at, opener.actor, "post_added", &detail).await
}

pub(super) async fn open_task(
    tx: &mut Transaction<'static, Any>,
    brand: &str,
    mention_id: MentionId,
    criticality: f32,
    plan: TaskPlan,
    at: Millis,
    opener: &Opener<'_>,
) -> Result<TaskId, StoreError> {
    let row = sqlx::query(
        "INSERT INTO tasks (brand_id, platform, author_handle, conversation_key, status, priority, criticality,
                            opened_at_ms, due_at_ms, last_activity_at_ms, updated_at_ms, sla_started_at_ms)
         VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $7, $7, $9)
         RETURNING id",
    )
    .bind(brand)
    .bind(plan.platform.as_str())
    .bind(&plan.author_handle)
    .bind(plan.conversation_key.clone())
    .bind(plan.priority.rank())
    .bind(f64::from(criticality))
    .bind(at)
    .bind(plan.due_at)
    .bind(plan.sla_started_at)
    .fetch_one(&mut **tx)
    .await?;
    let task_id: TaskId = row.try_get("id")?;
    let mut detail = serde_json::json!({
        "mention_id": mention_id,
        "criticality": criticality,
        "priority": plan.priority.as_str(),
        "due_at_ms": plan.due_at,
        "sla_started_at_ms": plan.sla_started_at,
    });
    if opener.by_reviewer {
        detail["by_reviewer"] = serde_json::json!(true);
    }
    insert_event(tx, task_id, at, opener.actor, "opened", &detail).await?;
    if let Some(alert) = plan.alert {
        let payload = alert.into_payload(task_id, plan.priority, criticality);
        super::alerts::enqueue_alert(tx, Some(brand), &payload, at).await?;
    }
    Ok(task_id)
}

pub(super) async fn insert_event(
    tx: &mut Transaction<'static, Any>,
    task_id: TaskId,
    at: Millis,
    actor: &str,
    kind: &str,
    detail: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO task_events (task_id, at_ms, actor, kind, detail_json) VALUES ($1, $2, $3, $4, $5)")
        .bind(task_id)
        .bind(at)
        .bind(actor)
        .bind(kind)
        .bind(detail.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
