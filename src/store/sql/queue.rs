//! Reading for the queue, health and the outbox.

use sqlx::AnyPool;

use super::super::{
    Counts, OutboxAlert, OutboxStatus, ParentPost, QuarantineRow, ReplyStatus, SourceHealth, StoreError, TaskDetail,
    TaskEvent, TaskFilter, TaskPost, TaskRow, TaskSort,
};
use super::mentions::{contains_pattern, post_matches};
use super::rows::{alert_payload_of, f32_of, get, platform_at, scores_of, source_health_of, task_row_of};
use super::{ACTIVE_TASK_STATUSES, UNANSWERED_TASK_STATUSES};
use crate::domain::{Factor, Millis, PostId, SourceId, TaskId};

pub(super) const TASK_COLUMNS: &str =
    "t.id, t.brand_id, t.platform, t.author_handle, t.status, t.priority, t.criticality,
    t.assignee, t.opened_at_ms, t.sla_started_at_ms, t.due_at_ms, t.first_response_at_ms, t.resolved_at_ms, t.dismissed_reason,
    t.last_activity_at_ms, t.updated_at_ms, t.follow_up_at_ms, t.recovered, t.next_post_sentiment,
    (SELECT COUNT(*) FROM assessments a WHERE a.task_id = t.id) AS n_posts,
    (SELECT p.text FROM assessments a JOIN mentions m ON m.id = a.mention_id JOIN posts p ON p.id = m.post_id
      WHERE a.task_id = t.id ORDER BY p.created_at_ms DESC, p.id DESC LIMIT 1) AS latest_text,
    (SELECT p.url FROM assessments a JOIN mentions m ON m.id = a.mention_id JOIN posts p ON p.id = m.post_id
      WHERE a.task_id = t.id ORDER BY p.created_at_ms DESC, p.id DESC LIMIT 1) AS latest_url";

/// The WHERE clause of a task filter and its bound texts.
fn task_conditions(filter: &TaskFilter) -> (String, Vec<String>) {
    let mut conditions = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let next = |value: String, texts: &mut Vec<String>| {
        texts.push(value);
        format!("${}", texts.len())
    };
    if let Some(brand) = &filter.brand {
        conditions.push(format!("t.brand_id = {}", next(brand.to_string(), &mut texts)));
    }
    if !filter.statuses.is_empty() {
        let placeholders: Vec<String> = filter
            .statuses
            .iter()
            .map(|s| next(s.as_str().to_owned(), &mut texts))
            .collect();
        conditions.push(format!("t.status IN ({})", placeholders.join(", ")));
    }
    if let Some(platform) = &filter.platform {
        conditions.push(format!("t.platform = {}", next(platform.clone(), &mut texts)));
    }
    if let Some(assignee) = &filter.assignee {
        conditions.push(format!("t.assignee = {}", next(assignee.clone(), &mut texts)));
    }
    if filter.unassigned {
        conditions.push("t.assignee IS NULL".to_owned());
    }
    if let Some(at) = filter.follow_ups_due_at {
        // A number we computed, never user text.
        conditions.push(format!(
            "t.status = 'resolved' AND t.follow_up_at_ms <= {at} AND t.next_post_id IS NULL"
        ));
    }
    if let Some(at) = filter.unanswered_due_before {
        // A number we computed, never user text.
        conditions.push(format!(
            "t.status IN {UNANSWERED_TASK_STATUSES} AND t.first_response_at_ms IS NULL AND t.due_at_ms < {at}"
        ));
    }
    if let Some(priority) = filter.priority {
        // Ranks are integers chosen by us, never user text, so they can be inlined.
        conditions.push(format!("t.priority = {}", priority.rank()));
    }
    if let Some(author) = &filter.author {
        conditions.push(format!("t.author_handle = {}", next(author.clone(), &mut texts)));
    }
    if let Some(label) = filter.sentiment {
        let label = next(label.as_str().to_owned(), &mut texts);
        conditions.push(format!(
            "(SELECT s.label FROM assessments a JOIN mentions m ON m.id = a.mention_id JOIN posts p ON p.id = m.post_id
              JOIN sentiments s ON s.post_id = p.id
              WHERE a.task_id = t.id ORDER BY p.created_at_ms DESC, p.id DESC LIMIT 1) = {label}"
        ));
    }
    // Numbers we computed, never user text.
    if let Some(from) = filter.opened_from {
        conditions.push(format!("t.opened_at_ms >= {from}"));
    }
    if let Some(before) = filter.opened_before {
        conditions.push(format!("t.opened_at_ms < {before}"));
    }
    if let Some(q) = &filter.q {
        let pattern = next(contains_pattern(q.as_str()), &mut texts);
        conditions.push(format!(
            "EXISTS (SELECT 1 FROM assessments a JOIN mentions m ON m.id = a.mention_id
                     JOIN posts p ON p.id = m.post_id WHERE a.task_id = t.id AND {})",
            post_matches(&pattern)
        ));
    }
    if conditions.is_empty() {
        (String::new(), texts)
    } else {
        (format!(" WHERE {}", conditions.join(" AND ")), texts)
    }
}

pub(super) async fn list_tasks(pool: &AnyPool, filter: &TaskFilter) -> Result<Vec<TaskRow>, StoreError> {
    let (where_sql, texts) = task_conditions(filter);
    // Active work first, then the order asked for; the id last, so pages never overlap.
    let order = match filter.sort {
        TaskSort::Urgency => "t.priority, t.due_at_ms, t.id",
        TaskSort::Sla => "t.due_at_ms, t.priority, t.id",
        TaskSort::Criticality => "t.criticality DESC, t.due_at_ms, t.id",
        TaskSort::Newest => "t.last_activity_at_ms DESC, t.id DESC",
    };
    let mut sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks t{where_sql}
         ORDER BY CASE WHEN t.status IN {ACTIVE_TASK_STATUSES} THEN 0 ELSE 1 END, {order}"
    );
    let limit = if filter.limit == 0 { 200 } else { filter.limit.min(1000) };
    sql.push_str(&format!(" LIMIT {limit} OFFSET {}", filter.offset));
    let mut query = sqlx::query(&sql);
    for text in texts {
        query = query.bind(text);
    }
    let rows = query.fetch_all(pool).await?;
    rows.iter().map(task_row_of).collect()
}

pub(super) async fn count_tasks(pool: &AnyPool, filter: &TaskFilter) -> Result<i64, StoreError> {
    let (where_sql, texts) = task_conditions(filter);
    let sql = format!("SELECT COUNT(*) AS n FROM tasks t{where_sql}");
    let mut query = sqlx::query(&sql);
    for text in texts {
        query = query.bind(text);
    }
    get(&query.fetch_one(pool).await?, "n")
}

pub(super) async fn task_detail(pool: &AnyPool, task_id: TaskId) -> Result<TaskDetail, StoreError> {
    let sql = format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = $1");
    let row = sqlx::query(&sql)
        .bind(task_id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("task {task_id}")))?;
    let task = task_row_of(&row)?;
    let post_rows = sqlx::query(
        "SELECT p.id AS post_id, m.id AS mention_id, p.platform, p.external_id, p.author_handle, p.author_name,
                p.author_followers, p.text, p.url, p.lang, p.created_at_ms, p.likes, p.reposts, p.replies, p.quotes,
                p.in_reply_to, p.quote_of, p.quoted_text,
                s.status AS s_status, s.negative AS s_negative, s.neutral AS s_neutral, s.positive AS s_positive,
                s.model AS s_model, s.reason AS s_reason, a.criticality, a.factors_json,
                pp.author_handle AS pp_author, pp.text AS pp_text, pp.url AS pp_url,
                rr.requested_by AS rr_by, rr.text AS rr_text, rr.url AS rr_url
         FROM assessments a
         JOIN mentions m ON m.id = a.mention_id
         JOIN posts p ON p.id = m.post_id
         LEFT JOIN sentiments s ON s.post_id = p.id
         LEFT JOIN posts pp ON pp.platform = p.platform AND pp.external_id = p.in_reply_to
         LEFT JOIN replies rr ON rr.platform = p.platform AND rr.external_id = p.in_reply_to AND rr.status = $2
         WHERE a.task_id = $1
         ORDER BY p.created_at_ms, p.id",
    )
    .bind(task_id)
    .bind(ReplyStatus::Sent.as_str())
    .fetch_all(pool)
    .await?;
    let mut posts = Vec::with_capacity(post_rows.len());
    for row in &post_rows {
        let factors_json: String = get(row, "factors_json")?;
        let factors: Vec<Factor> = serde_json::from_str(&factors_json)
            .map_err(|error| StoreError::Corrupt(format!("factors of mention: {error}")))?;
        posts.push(TaskPost {
            post_id: get(row, "post_id")?,
            mention_id: get(row, "mention_id")?,
            platform: platform_at(row, "platform")?,
            external_id: get(row, "external_id")?,
            author_handle: get(row, "author_handle")?,
            author_name: get(row, "author_name")?,
            author_followers: get(row, "author_followers")?,
            text: get(row, "text")?,
            url: get(row, "url")?,
            lang: get(row, "lang")?,
            created_at_ms: get(row, "created_at_ms")?,
            likes: get(row, "likes")?,
            reposts: get(row, "reposts")?,
            replies: get(row, "replies")?,
            quotes: get(row, "quotes")?,
            in_reply_to: get(row, "in_reply_to")?,
            quote_of: get(row, "quote_of")?,
            quoted_text: get(row, "quoted_text")?,
            parent: parent_of(row)?,
            sentiment: scores_of(row)?,
            sentiment_status: get(row, "s_status")?,
            sentiment_reason: get(row, "s_reason")?,
            model: get(row, "s_model")?,
            criticality: f32_of(row, "criticality")?,
            factors,
            engagement_history: Vec::new(),
            growth: None,
        });
    }
    let post_ids: Vec<PostId> = posts.iter().map(|p| p.post_id).collect();
    for (post_id, sample) in super::engagement::history(pool, &post_ids, i64::MIN).await? {
        if let Some(post) = posts.iter_mut().find(|p| p.post_id == post_id) {
            post.engagement_history.push(sample);
        }
    }
    for post in &mut posts {
        post.growth = crate::domain::Growth::over(&post.engagement_history);
    }
    let event_rows =
        sqlx::query("SELECT at_ms, actor, kind, detail_json FROM task_events WHERE task_id = $1 ORDER BY at_ms, id")
            .bind(task_id)
            .fetch_all(pool)
            .await?;
    let mut events = Vec::with_capacity(event_rows.len());
    for row in &event_rows {
        let detail_json: String = get(row, "detail_json")?;
        events.push(TaskEvent {
            at_ms: get(row, "at_ms")?,
            actor: get(row, "actor")?,
            kind: get(row, "kind")?,
            detail: serde_json::from_str(&detail_json).unwrap_or(serde_json::Value::String(detail_json)),
        });
    }
    Ok(TaskDetail { task, posts, events })
}

/// The post a task's post answers, when earshot has it: a reply earshot sent as the brand
/// (ours), or a stored post.
fn parent_of(row: &sqlx::any::AnyRow) -> Result<Option<ParentPost>, StoreError> {
    if let (Some(by), Some(text)) = (
        get::<Option<String>>(row, "rr_by")?,
        get::<Option<String>>(row, "rr_text")?,
    ) {
        return Ok(Some(ParentPost {
            author_handle: by,
            text,
            url: get(row, "rr_url")?,
            ours: true,
        }));
    }
    let (Some(author_handle), Some(text)) = (
        get::<Option<String>>(row, "pp_author")?,
        get::<Option<String>>(row, "pp_text")?,
    ) else {
        return Ok(None);
    };
    Ok(Some(ParentPost {
        author_handle,
        text,
        url: get(row, "pp_url")?,
        ours: false,
    }))
}

pub(super) async fn source_health(pool: &AnyPool) -> Result<Vec<SourceHealth>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.id, s.brand_id, s.kind, s.schedule, s.active, st.last_poll_at_ms, st.last_success_at_ms,
                st.last_error, st.last_error_kind, st.last_error_at_ms, st.consecutive_failures, st.last_poll_new,
                st.total_new, st.last_new_at_ms, st.usual_gap_ms
         FROM sources s LEFT JOIN source_state st ON st.source_id = s.id
         ORDER BY s.id",
    )
    .fetch_all(pool)
    .await?;
    let now = crate::domain::now_millis();
    rows.iter()
        .map(|row| {
            let mut health = source_health_of(row)?;
            health.silent = crate::domain::silence::silence(
                health.last_new_at_ms,
                health.usual_gap_ms,
                health.last_success_at_ms,
                now,
            );
            Ok(health)
        })
        .collect()
}

pub(super) async fn quarantined(
    pool: &AnyPool,
    source: Option<&SourceId>,
    limit: usize,
) -> Result<Vec<QuarantineRow>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows =
        match source {
            Some(source) => {
                sqlx::query(
                    "SELECT id, source_id, received_at_ms, location, reason, raw FROM quarantine
                 WHERE source_id = $1 ORDER BY id DESC LIMIT $2",
                )
                .bind(source.as_str())
                .bind(limit)
                .fetch_all(pool)
                .await?
            }
            None => sqlx::query(
                "SELECT id, source_id, received_at_ms, location, reason, raw FROM quarantine ORDER BY id DESC LIMIT $1",
            )
            .bind(limit)
            .fetch_all(pool)
            .await?,
        };
    rows.iter()
        .map(|row| {
            Ok(QuarantineRow {
                id: get(row, "id")?,
                source: get(row, "source_id")?,
                received_at_ms: get(row, "received_at_ms")?,
                location: get(row, "location")?,
                reason: get(row, "reason")?,
                raw: get(row, "raw")?,
            })
        })
        .collect()
}

pub(super) async fn counts(pool: &AnyPool) -> Result<Counts, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT
            (SELECT COUNT(*) FROM posts) AS posts,
            (SELECT COUNT(*) FROM mentions) AS mentions,
            (SELECT COUNT(*) FROM sentiments WHERE status = 'scored') AS scored,
            (SELECT COUNT(*) FROM sentiments WHERE status <> 'scored') AS unscored,
            (SELECT COUNT(*) FROM mentions WHERE assessed = 0) AS pending,
            (SELECT COUNT(*) FROM tasks WHERE status IN {ACTIVE_TASK_STATUSES}) AS tasks_active,
            (SELECT COUNT(*) FROM tasks) AS tasks_total,
            (SELECT COUNT(*) FROM alert_outbox WHERE status = $1) AS alerts_pending,
            (SELECT COUNT(*) FROM quarantine) AS quarantined"
    ))
    .bind(OutboxStatus::Pending.as_str())
    .fetch_one(pool)
    .await?;
    Ok(Counts {
        posts: get(&row, "posts")?,
        mentions: get(&row, "mentions")?,
        scored: get(&row, "scored")?,
        unscored: get(&row, "unscored")?,
        pending: get(&row, "pending")?,
        tasks_active: get(&row, "tasks_active")?,
        tasks_total: get(&row, "tasks_total")?,
        alerts_pending: get(&row, "alerts_pending")?,
        quarantined: get(&row, "quarantined")?,
    })
}

pub(super) async fn due_alerts(pool: &AnyPool, now: Millis, limit: usize) -> Result<Vec<OutboxAlert>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, dedup_key, brand_id, task_id, payload_json, attempts, created_at_ms FROM alert_outbox
         WHERE status = $3 AND next_attempt_at_ms <= $1 ORDER BY id LIMIT $2",
    )
    .bind(now)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .bind(OutboxStatus::Pending.as_str())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(OutboxAlert {
                id: get(row, "id")?,
                dedup_key: get(row, "dedup_key")?,
                brand: get(row, "brand_id")?,
                task_id: get(row, "task_id")?,
                payload: alert_payload_of(row)?,
                attempts: get(row, "attempts")?,
                created_at_ms: get(row, "created_at_ms")?,
            })
        })
        .collect()
}
