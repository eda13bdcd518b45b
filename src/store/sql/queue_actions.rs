//! Writing for the review queue: users, sessions, API tokens, task changes with their events,
//! review labels, follow-ups; and the training examples reviewers made.

use sqlx::{Any, AnyPool, Transaction};

use std::collections::HashMap;

use super::super::{
    ApiTokenRecord, LabelledExample, NewLabel, NewUser, SessionUser, StoreError, TaskChange, TaskRow, UserRecord,
};
use super::queue::TASK_COLUMNS;
use super::rows::{get, task_row_of};
use super::scoring::insert_event;
use crate::auth::Role;
use crate::domain::{Millis, PostId, TaskId};

fn role_of(value: &str) -> Result<Role, StoreError> {
    value
        .parse::<Role>()
        .map_err(|error| StoreError::Corrupt(error.to_string()))
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

pub(super) async fn create_user(tx: &mut Transaction<'static, Any>, user: &NewUser) -> Result<i64, StoreError> {
    let result = sqlx::query(
        "INSERT INTO users (username, password_hash, role, created_at_ms, disabled) VALUES ($1, $2, $3, $4, 0)
         RETURNING id",
    )
    .bind(&user.username)
    .bind(&user.password_hash)
    .bind(user.role.as_str())
    .bind(user.at)
    .fetch_one(&mut **tx)
    .await;
    match result {
        Ok(row) => get(&row, "id"),
        Err(error) if is_unique_violation(&error) => {
            Err(StoreError::Conflict(format!("user {:?} exists", user.username)))
        }
        Err(error) => Err(error.into()),
    }
}

pub(super) async fn user_by_name(pool: &AnyPool, username: &str) -> Result<Option<UserRecord>, StoreError> {
    let row = sqlx::query("SELECT id, username, password_hash, role, disabled FROM users WHERE username = $1")
        .bind(username)
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok(UserRecord {
            id: get(&row, "id")?,
            username: get(&row, "username")?,
            password_hash: get(&row, "password_hash")?,
            role: role_of(&get::<String>(&row, "role")?)?,
            disabled: get::<i64>(&row, "disabled")? != 0,
        })
    })
    .transpose()
}

pub(super) async fn create_session(
    tx: &mut Transaction<'static, Any>,
    token_hash: &str,
    user_id: i64,
    csrf_token: &str,
    at: Millis,
    expires_at_ms: Millis,
) -> Result<(), StoreError> {
    // Expired sessions are swept whenever someone logs in.
    sqlx::query("DELETE FROM sessions WHERE expires_at_ms <= $1")
        .bind(at)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at_ms, expires_at_ms)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(csrf_token)
    .bind(at)
    .bind(expires_at_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn session_user(
    pool: &AnyPool,
    token_hash: &str,
    now: Millis,
) -> Result<Option<SessionUser>, StoreError> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.role, s.csrf_token, s.expires_at_ms FROM sessions s
         JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = $1 AND s.expires_at_ms > $2 AND u.disabled = 0",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(SessionUser {
            user_id: get(&row, "id")?,
            username: get(&row, "username")?,
            role: role_of(&get::<String>(&row, "role")?)?,
            csrf_token: get(&row, "csrf_token")?,
            expires_at_ms: get(&row, "expires_at_ms")?,
        })
    })
    .transpose()
}

pub(super) async fn delete_session(pool: &AnyPool, token_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn create_api_token(
    tx: &mut Transaction<'static, Any>,
    token_hash: &str,
    name: &str,
    role: Role,
    at: Millis,
) -> Result<(), StoreError> {
    let result = sqlx::query("INSERT INTO api_tokens (token_hash, name, role, created_at_ms) VALUES ($1, $2, $3, $4)")
        .bind(token_hash)
        .bind(name)
        .bind(role.as_str())
        .bind(at)
        .execute(&mut **tx)
        .await;
    match result {
        Ok(_) => Ok(()),
        Err(error) if is_unique_violation(&error) => Err(StoreError::Conflict(format!("token {name:?} exists"))),
        Err(error) => Err(error.into()),
    }
}

pub(super) async fn api_token(pool: &AnyPool, token_hash: &str) -> Result<Option<ApiTokenRecord>, StoreError> {
    let row = sqlx::query("SELECT name, role FROM api_tokens WHERE token_hash = $1")
        .bind(token_hash)
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok(ApiTokenRecord {
            name: get(&row, "name")?,
            role: role_of(&get::<String>(&row, "role")?)?,
        })
    })
    .transpose()
}

async fn insert_labels(
    tx: &mut Transaction<'static, Any>,
    task_id: TaskId,
    label: &NewLabel,
    reviewer: &str,
    at: Millis,
) -> Result<u64, StoreError> {
    let base = "INSERT INTO labelled_examples (task_id, post_id, text, label, complaint, reviewer, at_ms)
         SELECT a.task_id, p.id, p.text, $2, $3, $4, $5 FROM assessments a
         JOIN mentions m ON m.id = a.mention_id JOIN posts p ON p.id = m.post_id
         WHERE a.task_id = $1";
    let sql = match label.post_id {
        Some(_) => format!("{base} AND p.id = $6"),
        None => base.to_owned(),
    };
    let mut query = sqlx::query(&sql)
        .bind(task_id)
        .bind(label.label.as_str())
        .bind(label.complaint.map(i64::from))
        .bind(reviewer)
        .bind(at);
    if let Some(post_id) = label.post_id {
        query = query.bind(post_id);
    }
    Ok(query.execute(&mut **tx).await?.rows_affected())
}

pub(super) async fn apply_task_change(
    tx: &mut Transaction<'static, Any>,
    change: &TaskChange,
) -> Result<TaskRow, StoreError> {
    let done = sqlx::query(
        "UPDATE tasks SET status = $1, assignee = $2, first_response_at_ms = $3, resolved_at_ms = $4,
             dismissed_reason = $5, follow_up_at_ms = $6, updated_at_ms = $7
         WHERE id = $8 AND updated_at_ms = $9",
    )
    .bind(change.status.as_str())
    .bind(change.assignee.as_deref())
    .bind(change.first_response_at_ms)
    .bind(change.resolved_at_ms)
    .bind(change.dismissed_reason.as_deref())
    .bind(change.follow_up_at_ms)
    .bind(change.updated_at_ms)
    .bind(change.task_id)
    .bind(change.expected_updated_at_ms)
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        let exists = sqlx::query("SELECT id FROM tasks WHERE id = $1")
            .bind(change.task_id)
            .fetch_optional(&mut **tx)
            .await?;
        return Err(match exists {
            Some(_) => StoreError::Conflict(format!("task {} was changed by someone else", change.task_id)),
            None => StoreError::NotFound(format!("task {}", change.task_id)),
        });
    }
    if change.event_kind == "reopened" && change.event_detail["from"] == "dismissed" {
        // Reopening a dismissed task says the dismissal was wrong: the examples it labelled
        // (written at the dismissal's time) are withdrawn. Re-labels of single posts stay.
        sqlx::query(
            "DELETE FROM labelled_examples WHERE task_id = $1 AND at_ms =
                 (SELECT MAX(e.at_ms) FROM task_events e WHERE e.task_id = $1 AND e.kind = 'dismissed')",
        )
        .bind(change.task_id)
        .execute(&mut **tx)
        .await?;
    }
    insert_event(
        tx,
        change.task_id,
        change.updated_at_ms,
        &change.actor,
        &change.event_kind,
        &change.event_detail,
    )
    .await?;
    if let Some(label) = &change.label {
        insert_labels(tx, change.task_id, label, &change.actor, change.updated_at_ms).await?;
    }
    let row = sqlx::query(&format!("SELECT {TASK_COLUMNS} FROM tasks t WHERE t.id = $1"))
        .bind(change.task_id)
        .fetch_one(&mut **tx)
        .await?;
    task_row_of(&row)
}

pub(super) async fn relabel_post(
    tx: &mut Transaction<'static, Any>,
    task_id: TaskId,
    post_id: PostId,
    label: &str,
    reviewer: &str,
    at: Millis,
) -> Result<(), StoreError> {
    let sentiment = NewLabel {
        post_id: Some(post_id),
        label: label.to_owned(),
        complaint: None,
    };
    let n = insert_labels(tx, task_id, &sentiment, reviewer, at).await?;
    if n == 0 {
        return Err(StoreError::NotFound(format!("post {post_id} of task {task_id}")));
    }
    insert_event(
        tx,
        task_id,
        at,
        reviewer,
        "relabelled",
        &serde_json::json!({ "post_id": post_id, "label": label }),
    )
    .await
}

pub(super) async fn labelled_examples(pool: &AnyPool) -> Result<Vec<LabelledExample>, StoreError> {
    // A post labelled more than once (re-labelled, opened from the sweep, dismissed again
    // after a reopen) is one example: for its sentiment and for whether it is a complaint,
    // the reviewer's latest word on each.
    let rows = sqlx::query("SELECT post_id, text, label, complaint FROM labelled_examples ORDER BY id")
        .fetch_all(pool)
        .await?;
    let mut by_post: HashMap<PostId, (usize, LabelledExample)> = HashMap::new();
    for (order, row) in rows.iter().enumerate() {
        let post_id: PostId = get(row, "post_id")?;
        let label: Option<String> = get(row, "label")?;
        let complaint = get::<Option<i64>>(row, "complaint")?.map(|c| c != 0);
        let text: String = get(row, "text")?;
        let (latest, example) = by_post.entry(post_id).or_insert_with(|| {
            (
                order,
                LabelledExample {
                    text: String::new(),
                    sentiment: None,
                    complaint: None,
                },
            )
        });
        *latest = order;
        example.text = text;
        if label.is_some() {
            example.sentiment = label;
        }
        if complaint.is_some() {
            example.complaint = complaint;
        }
    }
    let mut examples: Vec<(usize, LabelledExample)> = by_post.into_values().collect();
    examples.sort_by_key(|(latest, _)| *latest);
    Ok(examples.into_iter().map(|(_, example)| example).collect())
}

pub(super) async fn record_follow_ups(
    tx: &mut Transaction<'static, Any>,
    now: Millis,
    resolved_since: Millis,
) -> Result<u64, StoreError> {
    let tasks = sqlx::query(
        "SELECT id, brand_id, platform, author_handle, resolved_at_ms FROM tasks
         WHERE status = 'resolved' AND next_post_id IS NULL AND resolved_at_ms IS NOT NULL
           AND resolved_at_ms >= $1 AND author_handle <> $2
         ORDER BY id",
    )
    .bind(resolved_since)
    // A deleted account's next post would be anybody's.
    .bind(crate::domain::UNKNOWN_AUTHOR)
    .fetch_all(&mut **tx)
    .await?;
    let mut updated = 0;
    for task in &tasks {
        let task_id: TaskId = get(task, "id")?;
        let next = sqlx::query(
            "SELECT p.id, s.label FROM posts p
             JOIN mentions m ON m.post_id = p.id
             JOIN sentiments s ON s.post_id = p.id
             WHERE m.brand_id = $1 AND p.platform = $2 AND p.author_handle = $3 AND p.created_at_ms >= $4
               AND s.status = 'scored'
             ORDER BY p.created_at_ms, p.id LIMIT 1",
        )
        .bind(get::<String>(task, "brand_id")?)
        .bind(get::<String>(task, "platform")?)
        .bind(get::<String>(task, "author_handle")?)
        .bind(get::<i64>(task, "resolved_at_ms")?)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(next) = next else { continue };
        let post_id: PostId = get(&next, "id")?;
        let label: Option<String> = get(&next, "label")?;
        let recovered = label.as_deref() != Some("negative");
        // `next_post_id IS NULL` again: a concurrent run that got here first wins, once.
        let done = sqlx::query(
            "UPDATE tasks SET next_post_id = $1, next_post_sentiment = $2, recovered = $3, updated_at_ms = $4
             WHERE id = $5 AND next_post_id IS NULL",
        )
        .bind(post_id)
        .bind(label.as_deref())
        .bind(i64::from(recovered))
        .bind(now)
        .bind(task_id)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() == 0 {
            continue;
        }
        let detail = serde_json::json!({ "post_id": post_id, "sentiment": label, "recovered": recovered });
        insert_event(tx, task_id, now, "earshot", "follow_up_recorded", &detail).await?;
        updated += 1;
    }
    Ok(updated)
}

pub(super) async fn queue_version(pool: &AnyPool) -> Result<(Millis, i64), StoreError> {
    let row = sqlx::query(
        "SELECT CAST(COALESCE(MAX(updated_at_ms), 0) AS BIGINT) AS v, CAST(COUNT(*) AS BIGINT) AS n FROM tasks",
    )
    .fetch_one(pool)
    .await?;
    Ok((get(&row, "v")?, get(&row, "n")?))
}
