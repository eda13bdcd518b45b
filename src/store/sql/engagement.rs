//! The engagement refresh's rows: which posts of active tasks to re-read, their readings in
//! `engagement_samples`, a post the platform says is gone (blanked and logged in
//! `privacy_log`), and a task's once-only escalation as going viral.

use sqlx::{Any, AnyPool, Transaction};

use super::ACTIVE_TASK_STATUSES;
use super::privacy;
use super::rows::{alert_payload_json, alert_payload_of, brand_at, f32_of, get, platform_at, u64_of};
use super::scoring::insert_event;
use crate::domain::{Engagement, EngagementSample, Factor, Millis, PostId, Priority, UNKNOWN_AUTHOR};
use crate::store::{EngagementTarget, Erasure, StoreError, ViralEscalation};

fn count(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(super) async fn targets(
    pool: &AnyPool,
    written_since: Millis,
    limit: usize,
) -> Result<Vec<EngagementTarget>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT p.id AS post_id, p.platform, p.external_id, p.author_handle, p.text, p.url, m.source_id, m.brand_id, m.id AS mention_id,
                t.id AS task_id, t.criticality, t.priority, t.viral_at_ms
         FROM tasks t
         JOIN assessments a ON a.task_id = t.id
         JOIN mentions m ON m.id = a.mention_id
         JOIN posts p ON p.id = m.post_id
         WHERE t.status IN {ACTIVE_TASK_STATUSES}
           AND p.gone_at_ms IS NULL AND p.created_at_ms >= $1
         ORDER BY COALESCE(p.engagement_checked_at_ms, 0), p.id, t.id
         LIMIT $2"
    ))
    .bind(written_since)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let rank: i64 = get(row, "priority")?;
            Ok(EngagementTarget {
                post_id: get(row, "post_id")?,
                platform: platform_at(row, "platform")?,
                external_id: get(row, "external_id")?,
                author_handle: get(row, "author_handle")?,
                text: get(row, "text")?,
                url: get(row, "url")?,
                source_id: get(row, "source_id")?,
                brand_id: brand_at(row, "brand_id")?,
                mention_id: get(row, "mention_id")?,
                task_id: get(row, "task_id")?,
                task_criticality: f32_of(row, "criticality")?,
                task_priority: Priority::from_rank(rank)
                    .ok_or_else(|| StoreError::Corrupt(format!("task priority rank {rank}")))?,
                task_viral_at_ms: get(row, "viral_at_ms")?,
            })
        })
        .collect()
}

pub(super) async fn record(
    tx: &mut Transaction<'static, Any>,
    checked: &[PostId],
    readings: &[(PostId, Engagement)],
    at: Millis,
) -> Result<(), StoreError> {
    for post_id in checked {
        sqlx::query("UPDATE posts SET engagement_checked_at_ms = $2 WHERE id = $1")
            .bind(post_id)
            .bind(at)
            .execute(&mut **tx)
            .await?;
    }
    for (post_id, engagement) in readings {
        // The history starts with what was stored at ingest.
        sqlx::query(
            "INSERT INTO engagement_samples (post_id, at_ms, likes, reposts, replies, quotes)
             SELECT p.id, p.first_seen_at_ms, p.likes, p.reposts, p.replies, p.quotes FROM posts p
             WHERE p.id = $1 AND p.first_seen_at_ms < $2
               AND NOT EXISTS (SELECT 1 FROM engagement_samples s WHERE s.post_id = p.id)
             ON CONFLICT (post_id, at_ms) DO NOTHING",
        )
        .bind(post_id)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "INSERT INTO engagement_samples (post_id, at_ms, likes, reposts, replies, quotes)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (post_id, at_ms) DO UPDATE SET likes = excluded.likes, reposts = excluded.reposts,
                 replies = excluded.replies, quotes = excluded.quotes",
        )
        .bind(post_id)
        .bind(at)
        .bind(count(engagement.likes))
        .bind(count(engagement.reposts))
        .bind(count(engagement.replies))
        .bind(count(engagement.quotes))
        .execute(&mut **tx)
        .await?;
        sqlx::query(
            "UPDATE posts SET likes = $2, reposts = $3, replies = $4, quotes = $5, engagement_checked_at_ms = $6
             WHERE id = $1",
        )
        .bind(post_id)
        .bind(count(engagement.likes))
        .bind(count(engagement.reposts))
        .bind(count(engagement.replies))
        .bind(count(engagement.quotes))
        .bind(at)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(super) async fn history(
    pool: &AnyPool,
    post_ids: &[PostId],
    since: Millis,
) -> Result<Vec<(PostId, EngagementSample)>, StoreError> {
    if post_ids.is_empty() {
        return Ok(Vec::new());
    }
    let placeholders: Vec<String> = (0..post_ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT post_id, at_ms, likes, reposts, replies, quotes FROM engagement_samples
         WHERE at_ms >= $1 AND post_id IN ({}) ORDER BY post_id, at_ms",
        placeholders.join(", ")
    );
    let mut query = sqlx::query(&sql).bind(since);
    for post_id in post_ids {
        query = query.bind(post_id);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter()
        .map(|row| {
            Ok((
                get(row, "post_id")?,
                EngagementSample {
                    at_ms: get(row, "at_ms")?,
                    likes: u64_of(row, "likes")?,
                    reposts: u64_of(row, "reposts")?,
                    replies: u64_of(row, "replies")?,
                    quotes: u64_of(row, "quotes")?,
                },
            ))
        })
        .collect()
}

pub(super) async fn erase_deleted_post(
    tx: &mut Transaction<'static, Any>,
    post_id: PostId,
    at: Millis,
) -> Result<bool, StoreError> {
    let Some(row) = sqlx::query("SELECT platform, text FROM posts WHERE id = $1 AND gone_at_ms IS NULL")
        .bind(post_id)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(false);
    };
    let platform: String = get(&row, "platform")?;
    let text: String = get(&row, "text")?;
    let mut erased = Erasure {
        n_posts: 1,
        ..Erasure::default()
    };
    erased.n_examples = privacy::forget_text_derived(tx, post_id).await?;
    sqlx::query(
        "UPDATE posts SET text = '', author_handle = $2, author_name = NULL, author_followers = NULL,
             url = NULL, quote_of = NULL, quoted_text = NULL, search_text = '', gone_at_ms = $3
         WHERE id = $1",
    )
    .bind(post_id)
    .bind(UNKNOWN_AUTHOR)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    // Alerts that quote the post (the task's opening alert) lose its text, author and link.
    let alerts = sqlx::query(
        "SELECT o.id, o.payload_json FROM alert_outbox o
         WHERE o.task_id IN (SELECT a.task_id FROM assessments a JOIN mentions m ON m.id = a.mention_id
                             WHERE m.post_id = $1 AND a.task_id IS NOT NULL)",
    )
    .bind(post_id)
    .fetch_all(&mut **tx)
    .await?;
    for alert in &alerts {
        let mut payload = alert_payload_of(alert)?;
        if text.is_empty() || payload.text() != text {
            continue;
        }
        payload.erase_author();
        sqlx::query("UPDATE alert_outbox SET payload_json = $2 WHERE id = $1")
            .bind(get::<i64>(alert, "id")?)
            .bind(alert_payload_json(&payload)?)
            .execute(&mut **tx)
            .await?;
    }
    privacy::log(
        tx,
        "deleted_on_platform",
        Some(&platform),
        None,
        &erased,
        "engagement-refresh",
        at,
    )
    .await?;
    Ok(true)
}

pub(super) async fn escalate_viral(
    tx: &mut Transaction<'static, Any>,
    escalation: &ViralEscalation,
) -> Result<bool, StoreError> {
    let marked = sqlx::query(
        "UPDATE tasks SET viral_at_ms = $2, criticality = $3, priority = $4, updated_at_ms = $2
         WHERE id = $1 AND viral_at_ms IS NULL",
    )
    .bind(escalation.task_id)
    .bind(escalation.at)
    .bind(f64::from(escalation.criticality))
    .bind(escalation.priority.rank())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if marked == 0 {
        return Ok(false);
    }
    let assessment = sqlx::query("SELECT criticality, factors_json FROM assessments WHERE mention_id = $1")
        .bind(escalation.mention_id)
        .fetch_optional(&mut **tx)
        .await?;
    if let Some(row) = assessment {
        let factors_json: String = get(&row, "factors_json")?;
        let mut factors: Vec<Factor> = serde_json::from_str(&factors_json)
            .map_err(|error| StoreError::Corrupt(format!("factors of mention: {error}")))?;
        factors.retain(|f| f.name != escalation.factor.name);
        factors.push(escalation.factor.clone());
        let criticality = (f32_of(&row, "criticality")? + escalation.factor.points).clamp(0.0, 100.0);
        let factors_json = serde_json::to_string(&factors)
            .map_err(|error| StoreError::Corrupt(format!("factors do not serialise: {error}")))?;
        sqlx::query("UPDATE assessments SET criticality = $2, factors_json = $3 WHERE mention_id = $1")
            .bind(escalation.mention_id)
            .bind(f64::from(criticality))
            .bind(factors_json)
            .execute(&mut **tx)
            .await?;
    }
    let detail = serde_json::json!({
        "mention_id": escalation.mention_id,
        "criticality": escalation.criticality,
        "priority": escalation.priority.as_str(),
        "text": escalation.factor.detail,
    });
    insert_event(
        tx,
        escalation.task_id,
        escalation.at,
        "engagement-refresh",
        "viral",
        &detail,
    )
    .await?;
    let brand: Option<String> = sqlx::query("SELECT brand_id FROM tasks WHERE id = $1")
        .bind(escalation.task_id)
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| get(&row, "brand_id"))
        .transpose()?;
    super::alerts::enqueue_alert(tx, brand.as_deref(), &escalation.alert, escalation.at).await?;
    Ok(true)
}
