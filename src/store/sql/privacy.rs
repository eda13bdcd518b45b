//! Personal data: one author's posts erased on request, posts past the retention window
//! deleted, and both written to `privacy_log`.
//!
//! Erasure keeps the rows and blanks what identifies the person (text, handle, name,
//! followers, link, quoted text), so counts, scores, response times and the platform's id —
//! which stops a later poll from storing the post again — stay. Retention deletes whole posts
//! that no task holds, with their mention, score, assessment and examples. Which rows are
//! personal is decided here, with the schema; what a redacted alert looks like is
//! `AlertPayload::erase_author`.

use sqlx::{Any, Transaction};

use super::rows::{alert_payload_json, alert_payload_of, get};
use crate::domain::{Millis, PostId, TaskId, UNKNOWN_AUTHOR};
use crate::store::{Erasure, ReplyStatus, StoreError};

/// A handle as the log keeps it: the sha256 of its lowercase form, hex.
fn subject_hash(handle: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(handle.to_lowercase().as_bytes()))
}

async fn ids<Id>(
    tx: &mut Transaction<'static, Any>,
    sql: &str,
    platform: &str,
    handle: &str,
) -> Result<Vec<Id>, StoreError>
where
    Id: for<'r> sqlx::Decode<'r, Any> + sqlx::Type<Any>,
{
    let rows = sqlx::query(sql)
        .bind(platform)
        .bind(handle)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter().map(|row| get::<Id>(row, "id")).collect()
}

pub(super) async fn erase_author(
    tx: &mut Transaction<'static, Any>,
    platform: &str,
    handle: &str,
    actor: &str,
    at: Millis,
) -> Result<Erasure, StoreError> {
    let posts: Vec<PostId> = ids(
        tx,
        "SELECT id FROM posts WHERE platform = $1 AND LOWER(author_handle) = LOWER($2) ORDER BY id",
        platform,
        handle,
    )
    .await?;
    let tasks: Vec<TaskId> = ids(
        tx,
        "SELECT id FROM tasks WHERE platform = $1 AND LOWER(author_handle) = LOWER($2) ORDER BY id",
        platform,
        handle,
    )
    .await?;
    let mut erasure = Erasure {
        n_posts: posts.len() as u64,
        n_tasks: tasks.len() as u64,
        ..Erasure::default()
    };
    for post_id in &posts {
        erasure.n_examples += forget_text_derived(tx, *post_id).await?;
        sqlx::query(
            "UPDATE posts SET text = '', author_handle = $2, author_name = NULL, author_followers = NULL,
                 url = NULL, quote_of = NULL, quoted_text = NULL, search_text = ''
             WHERE id = $1",
        )
        .bind(post_id)
        .bind(UNKNOWN_AUTHOR)
        .execute(&mut **tx)
        .await?;
    }
    for task_id in &tasks {
        sqlx::query("UPDATE tasks SET author_handle = $2 WHERE id = $1")
            .bind(task_id)
            .bind(UNKNOWN_AUTHOR)
            .execute(&mut **tx)
            .await?;
        // Notes and replies about the person: the events stay (who did what, when), their
        // text goes.
        sqlx::query("UPDATE task_events SET detail_json = '{}' WHERE task_id = $1")
            .bind(task_id)
            .execute(&mut **tx)
            .await?;
        // Replies sent from earshot name the person too: the rows stay (sent, when, the
        // platform's id), their text goes, and one not sent yet is not sent at all.
        sqlx::query(
            "UPDATE replies SET text = '',
                 error = CASE WHEN status = $2 THEN 'erased before it was sent' ELSE error END,
                 status = CASE WHEN status = $2 THEN $3 ELSE status END
             WHERE task_id = $1",
        )
        .bind(task_id)
        .bind(ReplyStatus::Queued.as_str())
        .bind(ReplyStatus::Failed.as_str())
        .execute(&mut **tx)
        .await?;
        let alerts = sqlx::query("SELECT id, payload_json FROM alert_outbox WHERE task_id = $1")
            .bind(task_id)
            .fetch_all(&mut **tx)
            .await?;
        for alert in &alerts {
            let mut payload = alert_payload_of(alert)?;
            payload.erase_author();
            sqlx::query("UPDATE alert_outbox SET payload_json = $2 WHERE id = $1")
                .bind(get::<i64>(alert, "id")?)
                .bind(alert_payload_json(&payload)?)
                .execute(&mut **tx)
                .await?;
        }
    }
    log(
        tx,
        "erase",
        Some(platform),
        Some(&subject_hash(handle)),
        &erasure,
        actor,
        at,
    )
    .await?;
    Ok(erasure)
}

/// Deletes up to `limit` posts first seen before `before` that no task holds (as one of its
/// posts or as a resolved task's follow-up) and that are assessed, with everything derived
/// from them; logs the count. Returns how many were deleted.
/// Deletes what was derived from a post's text before the text is blanked: reviewers'
/// examples of it and its embedding (its problem membership, a count, stays). Returns how
/// many examples went. Shared by an author's erasure and a post deleted on its platform.
pub(super) async fn forget_text_derived(
    tx: &mut Transaction<'static, Any>,
    post_id: PostId,
) -> Result<u64, StoreError> {
    let n_examples = sqlx::query("DELETE FROM labelled_examples WHERE post_id = $1")
        .bind(post_id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    sqlx::query("DELETE FROM post_embeddings WHERE post_id = $1")
        .bind(post_id)
        .execute(&mut **tx)
        .await?;
    Ok(n_examples)
}

pub(super) async fn expire_posts(
    tx: &mut Transaction<'static, Any>,
    before: Millis,
    limit: usize,
    at: Millis,
) -> Result<u64, StoreError> {
    let rows = sqlx::query(
        "SELECT p.id FROM posts p
         WHERE p.first_seen_at_ms < $1
           AND NOT EXISTS (SELECT 1 FROM mentions m JOIN assessments a ON a.mention_id = m.id
                           WHERE m.post_id = p.id AND a.task_id IS NOT NULL)
           AND NOT EXISTS (SELECT 1 FROM mentions m WHERE m.post_id = p.id AND m.assessed = 0)
           AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.next_post_id = p.id)
         ORDER BY p.id LIMIT $2",
    )
    .bind(before)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(&mut **tx)
    .await?;
    let mut expired = Erasure::default();
    for row in &rows {
        let post_id: PostId = get(row, "id")?;
        expired.n_examples += sqlx::query("DELETE FROM labelled_examples WHERE post_id = $1")
            .bind(post_id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        for sql in [
            "DELETE FROM assessments WHERE mention_id IN (SELECT id FROM mentions WHERE post_id = $1)",
            "DELETE FROM problem_members WHERE mention_id IN (SELECT id FROM mentions WHERE post_id = $1)",
            "DELETE FROM mentions WHERE post_id = $1",
            "DELETE FROM post_embeddings WHERE post_id = $1",
            "DELETE FROM sentiments WHERE post_id = $1",
            "DELETE FROM engagement_samples WHERE post_id = $1",
            "DELETE FROM posts WHERE id = $1",
        ] {
            sqlx::query(sql).bind(post_id).execute(&mut **tx).await?;
        }
        expired.n_posts += 1;
    }
    // Quarantined input is raw text from the same people.
    sqlx::query("DELETE FROM quarantine WHERE received_at_ms < $1")
        .bind(before)
        .execute(&mut **tx)
        .await?;
    if expired.n_posts > 0 {
        log(tx, "retention", None, None, &expired, "retention", at).await?;
    }
    Ok(expired.n_posts)
}

pub(super) async fn log(
    tx: &mut Transaction<'static, Any>,
    kind: &str,
    platform: Option<&str>,
    subject: Option<&str>,
    counts: &Erasure,
    actor: &str,
    at: Millis,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO privacy_log (kind, platform, subject_sha256, n_posts, n_tasks, n_examples, actor, at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(kind)
    .bind(platform)
    .bind(subject)
    .bind(i64::try_from(counts.n_posts).unwrap_or(i64::MAX))
    .bind(i64::try_from(counts.n_tasks).unwrap_or(i64::MAX))
    .bind(i64::try_from(counts.n_examples).unwrap_or(i64::MAX))
    .bind(actor)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
