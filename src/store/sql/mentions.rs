//! The mentions sweep: listing mentions with their scores and assessment (filters, text
//! search, paging, a total), opening a task from one ("this needed an answer") with its
//! missed-complaint example, the evidence a threshold is tuned on, and filling in the search
//! text of posts stored before migration 0014.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Transaction};

use super::super::{
    Backend, MentionDetail, MentionFilter, MentionPage, MentionRow, MentionSentiment, MentionSort, MentionTaskOutcome,
    MentionTaskRequest, ReviewedItem, ReviewerOpened, StoreError,
};
use super::rows::{brand_at, f32_of, get, platform_at, post_of};
use super::scoring::{Opener, active_task, join_task, lock_conversation, open_task};
use crate::domain::{BrandId, Factor, MentionId, PostId, TaskId, TaskStatus};

const MENTION_COLUMNS: &str = "m.id AS mention_id, m.brand_id, m.found_at_ms,
    p.id AS post_id, p.platform, p.external_id, p.author_handle, p.author_name, p.author_followers, p.text,
    p.url, p.lang, p.created_at_ms, p.first_seen_at_ms, p.likes, p.reposts, p.replies, p.quotes, p.conversation_id, p.in_reply_to,
    p.quote_of, p.quoted_text,
    s.status AS s_status, s.label AS s_label, s.negative AS s_negative, s.neutral AS s_neutral,
    s.positive AS s_positive, s.model AS s_model, s.reason AS s_reason, s.complaint AS s_complaint,
    s.severity AS s_severity,
    a.mention_id AS a_mention_id, a.criticality, a.factors_json, a.flagged, a.task_id,
    a.reviewer_opened_by, a.reviewer_opened_at_ms, t.status AS task_status";

const MENTION_FROM: &str = "FROM mentions m
    JOIN posts p ON p.id = m.post_id
    LEFT JOIN sentiments s ON s.post_id = p.id
    LEFT JOIN assessments a ON a.mention_id = m.id
    LEFT JOIN tasks t ON t.id = a.task_id";

/// A value bound to a numbered placeholder.
enum Bind {
    Text(String),
    Int(i64),
}

/// `value` as a LIKE pattern that matches it anywhere, with `\` as the escape character.
pub(super) fn contains_pattern(value: &str) -> String {
    let mut pattern = String::with_capacity(value.len() + 2);
    pattern.push('%');
    for c in value.chars() {
        if matches!(c, '\\' | '%' | '_') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// The condition that post `p` matches the LIKE pattern bound at `placeholder`. `search_text`
/// is folded by earshot (Unicode lower case) when the post is stored; a post without one
/// (none after `migrate`) is still found through LOWER().
pub(super) fn post_matches(placeholder: &str) -> String {
    format!("COALESCE(p.search_text, LOWER(p.author_handle) || ' ' || LOWER(p.text)) LIKE {placeholder} ESCAPE '\\'")
}

/// The WHERE clause of a filter and its bound values.
fn where_clause(filter: &MentionFilter) -> (String, Vec<Bind>) {
    let mut conditions: Vec<String> = Vec::new();
    let mut binds: Vec<Bind> = Vec::new();
    let mut next = |bind: Bind| {
        binds.push(bind);
        format!("${}", binds.len())
    };
    if let Some(brand) = &filter.brand {
        conditions.push(format!("m.brand_id = {}", next(Bind::Text(brand.to_string()))));
    }
    if let Some(platform) = filter.platform {
        conditions.push(format!(
            "p.platform = {}",
            next(Bind::Text(platform.as_str().to_owned()))
        ));
    }
    if let Some(sentiment) = filter.sentiment {
        let label = next(Bind::Text(sentiment.as_str().to_owned()));
        conditions.push(format!("s.status = 'scored' AND s.label = {label}"));
    }
    if filter.below_threshold {
        conditions.push("a.flagged = 0".to_owned());
    }
    if let Some(since) = filter.since {
        conditions.push(format!("p.created_at_ms >= {}", next(Bind::Int(since))));
    }
    if let Some(until) = filter.until {
        conditions.push(format!("p.created_at_ms < {}", next(Bind::Int(until))));
    }
    if let Some(q) = &filter.q {
        let pattern = next(Bind::Text(contains_pattern(q.as_str())));
        conditions.push(post_matches(&pattern));
    }
    if conditions.is_empty() {
        (String::new(), binds)
    } else {
        (format!(" WHERE {}", conditions.join(" AND ")), binds)
    }
}

fn bind_all<'q>(
    mut query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    binds: Vec<Bind>,
) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
    for bind in binds {
        query = match bind {
            Bind::Text(text) => query.bind(text),
            Bind::Int(value) => query.bind(value),
        };
    }
    query
}

pub(super) async fn list_mentions(pool: &AnyPool, filter: &MentionFilter) -> Result<MentionPage, StoreError> {
    let (where_sql, binds) = where_clause(filter);
    let order = match filter.sort {
        MentionSort::Criticality => {
            "CASE WHEN a.criticality IS NULL THEN 1 ELSE 0 END, a.criticality DESC, p.created_at_ms DESC, m.id DESC"
        }
        MentionSort::Newest => "p.created_at_ms DESC, m.id DESC",
    };
    // Numbers the web layer bounded, never user text.
    let sql = format!(
        "SELECT {MENTION_COLUMNS} {MENTION_FROM}{where_sql} ORDER BY {order} LIMIT {} OFFSET {}",
        filter.limit, filter.offset
    );
    let rows = bind_all(sqlx::query(&sql), binds).fetch_all(pool).await?;
    let items = rows.iter().map(mention_row_of).collect::<Result<Vec<_>, _>>()?;
    let (where_sql, binds) = where_clause(filter);
    let count_sql = format!("SELECT COUNT(*) AS n {MENTION_FROM}{where_sql}");
    let total: i64 = get(&bind_all(sqlx::query(&count_sql), binds).fetch_one(pool).await?, "n")?;
    Ok(MentionPage { total, items })
}

pub(super) async fn mention_detail(pool: &AnyPool, mention_id: MentionId) -> Result<MentionDetail, StoreError> {
    let sql = format!("SELECT {MENTION_COLUMNS} {MENTION_FROM} WHERE m.id = $1");
    let row = sqlx::query(&sql)
        .bind(mention_id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("mention {mention_id}")))?;
    Ok(MentionDetail {
        row: mention_row_of(&row)?,
        brand: brand_at(&row, "brand_id")?,
        post: post_of(&row)?,
        first_seen_at: get(&row, "first_seen_at_ms")?,
    })
}

fn mention_row_of(row: &AnyRow) -> Result<MentionRow, StoreError> {
    let sentiment = match get::<Option<String>>(row, "s_status")? {
        None => None,
        Some(status) => {
            let probability = |column| get::<Option<f64>>(row, column).map(|v| v.map(|v| v as f32));
            Some(MentionSentiment {
                status,
                label: get(row, "s_label")?,
                negative: probability("s_negative")?,
                neutral: probability("s_neutral")?,
                positive: probability("s_positive")?,
                model: get(row, "s_model")?,
                reason: get(row, "s_reason")?,
                complaint: probability("s_complaint")?,
                severity: get(row, "s_severity")?,
            })
        }
    };
    let assessed = get::<Option<i64>>(row, "a_mention_id")?.is_some();
    let factors: Vec<Factor> = match get::<Option<String>>(row, "factors_json")? {
        Some(json) => {
            serde_json::from_str(&json).map_err(|error| StoreError::Corrupt(format!("factors of mention: {error}")))?
        }
        None => Vec::new(),
    };
    let task_status = get::<Option<String>>(row, "task_status")?
        .map(|status| {
            status
                .parse::<TaskStatus>()
                .map_err(|error| StoreError::Corrupt(error.to_string()))
        })
        .transpose()?;
    let reviewer_opened = match (
        get::<Option<String>>(row, "reviewer_opened_by")?,
        get::<Option<i64>>(row, "reviewer_opened_at_ms")?,
    ) {
        (Some(by), Some(at_ms)) => Some(ReviewerOpened { by, at_ms }),
        _ => None,
    };
    Ok(MentionRow {
        mention_id: get(row, "mention_id")?,
        brand: brand_at(row, "brand_id")?,
        platform: platform_at(row, "platform")?,
        post_id: get(row, "post_id")?,
        external_id: get(row, "external_id")?,
        text: get(row, "text")?,
        author_handle: get(row, "author_handle")?,
        author_name: get(row, "author_name")?,
        author_followers: get(row, "author_followers")?,
        url: get(row, "url")?,
        lang: get(row, "lang")?,
        created_at_ms: get(row, "created_at_ms")?,
        found_at_ms: get(row, "found_at_ms")?,
        sentiment,
        assessed,
        criticality: get::<Option<f64>>(row, "criticality")?.map(|v| v as f32),
        factors,
        flagged: get::<Option<i64>>(row, "flagged")?.unwrap_or(0) != 0,
        task_id: get(row, "task_id")?,
        task_status,
        reviewer_opened,
    })
}

pub(super) async fn open_task_from_mention(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    request: MentionTaskRequest,
) -> Result<MentionTaskOutcome, StoreError> {
    // The claim: only a mention without a task gets one. On PostgreSQL a second request for
    // the same mention waits here for the first to commit, then finds the task set.
    let claimed = sqlx::query(
        "UPDATE assessments SET reviewer_opened_by = $2, reviewer_opened_at_ms = $3
         WHERE mention_id = $1 AND task_id IS NULL
         RETURNING mention_id",
    )
    .bind(request.mention_id)
    .bind(&request.reviewer)
    .bind(request.at)
    .fetch_optional(&mut **tx)
    .await?;
    if claimed.is_none() {
        let row = sqlx::query("SELECT task_id FROM assessments WHERE mention_id = $1")
            .bind(request.mention_id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("mention {} is not assessed yet", request.mention_id)))?;
        let task_id: Option<TaskId> = get(&row, "task_id")?;
        let task_id = task_id.ok_or_else(|| StoreError::Corrupt("assessment claim failed".into()))?;
        return Ok(MentionTaskOutcome::Existing { task_id });
    }
    let brand = request.brand.as_str();
    let opener = Opener {
        actor: &request.reviewer,
        by_reviewer: true,
    };
    lock_conversation(tx, backend, brand, &request.plan).await?;
    let outcome = match active_task(tx, brand, &request.plan).await? {
        Some(task_id) => {
            join_task(
                tx,
                task_id,
                request.mention_id,
                request.criticality,
                &request.plan,
                request.at,
                &opener,
            )
            .await?;
            MentionTaskOutcome::Joined { task_id }
        }
        None => {
            let task_id = open_task(
                tx,
                brand,
                request.mention_id,
                request.criticality,
                request.plan,
                request.at,
                &opener,
            )
            .await?;
            MentionTaskOutcome::Opened { task_id }
        }
    };
    let task_id = outcome.task_id();
    sqlx::query("UPDATE assessments SET task_id = $1 WHERE mention_id = $2")
        .bind(task_id)
        .bind(request.mention_id)
        .execute(&mut **tx)
        .await?;
    // The missed-complaint example: a complaint the threshold let through.
    sqlx::query(
        "INSERT INTO labelled_examples (task_id, post_id, text, label, complaint, reviewer, at_ms)
         SELECT $1, p.id, p.text, $2, 1, $3, $4 FROM mentions m JOIN posts p ON p.id = m.post_id WHERE m.id = $5",
    )
    .bind(task_id)
    .bind(request.label.map(|label| label.as_str().to_owned()))
    .bind(&request.reviewer)
    .bind(request.at)
    .bind(request.mention_id)
    .execute(&mut **tx)
    .await?;
    Ok(outcome)
}

/// Whether a reviewed task or reviewer-opened mention counts as a complaint: answered,
/// resolved or still being worked is a complaint, a false-positive dismissal is not, and
/// other dismissals (spam, not ours) say nothing about the threshold.
fn complaint_of(row: &AnyRow) -> Result<Option<bool>, StoreError> {
    let status: Option<String> = get(row, "status")?;
    let reason: Option<String> = get(row, "dismissed_reason")?;
    Ok(match status.as_deref() {
        Some("dismissed") => reason
            .as_deref()
            .is_some_and(|r| r.starts_with("false_positive"))
            .then_some(false),
        _ => Some(true),
    })
}

pub(super) async fn threshold_evidence(pool: &AnyPool, brand: &BrandId) -> Result<Vec<ReviewedItem>, StoreError> {
    // Tasks the pipeline flagged (at least one flagged post), once reviewed: answered or
    // resolved, or dismissed as a false positive.
    let flagged = sqlx::query(
        "SELECT t.criticality, t.status, t.dismissed_reason FROM tasks t
         WHERE t.brand_id = $1
           AND (t.status IN ('responded', 'resolved')
                OR (t.status = 'dismissed' AND t.dismissed_reason LIKE 'false_positive%'))
           AND EXISTS (SELECT 1 FROM assessments a WHERE a.task_id = t.id AND a.flagged = 1)",
    )
    .bind(brand.as_str())
    .fetch_all(pool)
    .await?;
    // Mentions the pipeline let through that a reviewer opened a task from, with the
    // criticality they had.
    let missed = sqlx::query(
        "SELECT a.criticality, t.status, t.dismissed_reason FROM assessments a
         JOIN mentions m ON m.id = a.mention_id
         LEFT JOIN tasks t ON t.id = a.task_id
         WHERE m.brand_id = $1 AND a.flagged = 0 AND a.reviewer_opened_by IS NOT NULL",
    )
    .bind(brand.as_str())
    .fetch_all(pool)
    .await?;
    let mut items = Vec::with_capacity(flagged.len() + missed.len());
    for (rows, is_missed) in [(&flagged, false), (&missed, true)] {
        for row in rows {
            if let Some(complaint) = complaint_of(row)? {
                items.push(ReviewedItem {
                    criticality: f32_of(row, "criticality")?,
                    complaint,
                    missed: is_missed,
                });
            }
        }
    }
    Ok(items)
}

/// Posts updated per transaction while filling in search text.
const SEARCH_BACKFILL_CHUNK: i64 = 500;

/// Fills in the search text of posts stored without one (before migration 0014), a chunk
/// per transaction; returns how many it filled.
pub(super) async fn backfill_search_text(store: &super::SqlStore) -> Result<u64, StoreError> {
    let mut filled = 0u64;
    loop {
        let rows = sqlx::query(
            "SELECT id, author_handle, author_name, text FROM posts WHERE search_text IS NULL ORDER BY id LIMIT $1",
        )
        .bind(SEARCH_BACKFILL_CHUNK)
        .fetch_all(store.pool())
        .await?;
        if rows.is_empty() {
            return Ok(filled);
        }
        let mut tx = store.write().await?;
        for row in &rows {
            let author_name: Option<String> = get(row, "author_name")?;
            let text = crate::domain::search_text(
                &get::<String>(row, "author_handle")?,
                author_name.as_deref(),
                &get::<String>(row, "text")?,
            );
            sqlx::query("UPDATE posts SET search_text = $1 WHERE id = $2 AND search_text IS NULL")
                .bind(text)
                .bind(get::<PostId>(row, "id")?)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        filled += rows.len() as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_the_escape_character() {
        assert_eq!(contains_pattern("lost bag"), "%lost bag%");
        assert_eq!(contains_pattern("100%_\\"), "%100\\%\\_\\\\%");
    }
}
