//! Ingest: cursors, committing a poll's posts, poll health.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::{Any, AnyPool, Row, Transaction};

use super::super::{CommitOutcome, PollCommit, PollFailure, StoreError};
use super::params::{ROWS_PER_INSERT, value_rows};
use super::rows::get;
use crate::domain::{Cursor, Post, PostId, Quarantined, SourceId, silence};

pub(super) async fn cursor(pool: &AnyPool, source: &SourceId) -> Result<Option<Cursor>, StoreError> {
    let row = sqlx::query("SELECT cursor FROM source_state WHERE source_id = $1")
        .bind(source.as_str())
        .fetch_optional(pool)
        .await?;
    let cursor = match row {
        Some(row) => row.try_get::<Option<String>, _>("cursor")?.map(Cursor),
        None => None,
    };
    Ok(cursor)
}

pub(super) async fn commit_poll(
    tx: &mut Transaction<'static, Any>,
    commit: &PollCommit<'_>,
) -> Result<CommitOutcome, StoreError> {
    let mut outcome = CommitOutcome::default();
    let post_ids = upsert_posts(tx, commit.posts, commit.at).await?;
    for ids in post_ids.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO mentions (post_id, brand_id, source_id, found_at_ms) VALUES {}
             ON CONFLICT (post_id, brand_id) DO NOTHING RETURNING id",
            value_rows(ids.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for post_id in ids {
            query = query
                .bind(*post_id)
                .bind(commit.brand.as_str())
                .bind(commit.source.as_str())
                .bind(commit.at);
        }
        let n_new = query.fetch_all(&mut **tx).await?.len();
        outcome.n_new += n_new;
        outcome.n_duplicates += ids.len() - n_new;
    }
    for item in commit.quarantined {
        if insert_quarantine(tx, commit.source, item, commit.at).await? {
            outcome.n_quarantined += 1;
        }
    }

    let n_new = i64::try_from(outcome.n_new).unwrap_or(i64::MAX);
    let state = sqlx::query(
        "INSERT INTO source_state (source_id, cursor, cursor_updated_at_ms, last_poll_at_ms, last_success_at_ms,
                                   consecutive_failures, last_poll_new, total_new)
         VALUES ($1, $2, $3, $3, $3, 0, $4, $4)
         ON CONFLICT (source_id) DO UPDATE SET
             cursor = COALESCE(excluded.cursor, source_state.cursor),
             cursor_updated_at_ms = CASE WHEN excluded.cursor IS NULL THEN source_state.cursor_updated_at_ms
                                         ELSE excluded.cursor_updated_at_ms END,
             last_poll_at_ms = excluded.last_poll_at_ms,
             last_success_at_ms = excluded.last_success_at_ms,
             consecutive_failures = 0,
             last_poll_new = excluded.last_poll_new,
             total_new = source_state.total_new + excluded.total_new
         RETURNING usual_gap_ms, last_new_at_ms",
    )
    .bind(commit.source.as_str())
    .bind(commit.cursor.map(|c| c.0.clone()))
    .bind(commit.at)
    .bind(n_new)
    .fetch_one(&mut **tx)
    .await?;
    if n_new > 0 {
        // Silence detection: the usual gap between polls that brought something new (the
        // rule is `silence::after_new_mentions`; the row is locked by the upsert above).
        let (usual_gap_ms, last_new_at_ms) =
            silence::after_new_mentions(get(&state, "usual_gap_ms")?, get(&state, "last_new_at_ms")?, commit.at);
        sqlx::query("UPDATE source_state SET usual_gap_ms = $2, last_new_at_ms = $3 WHERE source_id = $1")
            .bind(commit.source.as_str())
            .bind(usual_gap_ms)
            .bind(last_new_at_ms)
            .execute(&mut **tx)
            .await?;
    }
    Ok(outcome)
}

/// Inserts the posts not stored yet, many per statement; returns each post's id, in order,
/// whether it was new or not.
async fn upsert_posts(tx: &mut Transaction<'static, Any>, posts: &[Post], at: i64) -> Result<Vec<PostId>, StoreError> {
    const COLUMNS: usize = 19;
    let mut ids = Vec::with_capacity(posts.len());
    for rows in posts.chunks(ROWS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO posts (platform, external_id, author_handle, author_name, author_followers, text, url, lang,
                                created_at_ms, first_seen_at_ms, likes, reposts, replies, quotes, conversation_id,
                                in_reply_to, quote_of, quoted_text, search_text)
             VALUES {}
             ON CONFLICT (platform, external_id) DO NOTHING RETURNING id, platform, external_id",
            value_rows(rows.len(), COLUMNS)
        );
        let mut query = sqlx::query(&sql);
        for post in rows {
            query = query
                .bind(post.platform.as_str())
                .bind(&post.external_id)
                .bind(&post.author_handle)
                .bind(post.author_name.clone())
                .bind(post.author_followers.map(saturating_i64))
                .bind(&post.text)
                .bind(post.url.clone())
                .bind(post.lang.clone())
                .bind(post.created_at)
                .bind(at)
                .bind(saturating_i64(post.engagement.likes))
                .bind(saturating_i64(post.engagement.reposts))
                .bind(saturating_i64(post.engagement.replies))
                .bind(saturating_i64(post.engagement.quotes))
                .bind(post.conversation_id.clone())
                .bind(post.in_reply_to.clone())
                .bind(post.quote_of.clone())
                .bind(post.quoted_text.clone())
                .bind(crate::domain::search_text(
                    &post.author_handle,
                    post.author_name.as_deref(),
                    &post.text,
                ));
        }
        let mut inserted: HashMap<(String, String), PostId> = HashMap::with_capacity(rows.len());
        for row in query.fetch_all(&mut **tx).await? {
            inserted.insert(
                (row.try_get("platform")?, row.try_get("external_id")?),
                row.try_get("id")?,
            );
        }
        for post in rows {
            // Each row inserted answers for its post's first copy in the batch; a post stored
            // before, or a later copy in the same batch, refreshes the stored one.
            let id = match inserted.remove(&(post.platform.as_str().to_owned(), post.external_id.clone())) {
                Some(id) => id,
                None => refresh_post(tx, post).await?,
            };
            ids.push(id);
        }
    }
    Ok(ids)
}

/// A post seen before: its reach and engagement refreshed; returns its id.
async fn refresh_post(tx: &mut Transaction<'static, Any>, post: &Post) -> Result<PostId, StoreError> {
    // Seen before: keep the first text, refresh reach and engagement, which grow over time.
    let row = sqlx::query(
        "UPDATE posts SET likes = $3, reposts = $4, replies = $5, quotes = $6,
             author_followers = COALESCE($7, author_followers)
         WHERE platform = $1 AND external_id = $2 RETURNING id",
    )
    .bind(post.platform.as_str())
    .bind(&post.external_id)
    .bind(saturating_i64(post.engagement.likes))
    .bind(saturating_i64(post.engagement.reposts))
    .bind(saturating_i64(post.engagement.replies))
    .bind(saturating_i64(post.engagement.quotes))
    .bind(post.author_followers.map(saturating_i64))
    .fetch_one(&mut **tx)
    .await?;
    Ok(row.try_get::<PostId, _>("id")?)
}

/// Quarantines an item unless the same one (location and raw text) is quarantined for the
/// source already; returns whether it was added.
async fn insert_quarantine(
    tx: &mut Transaction<'static, Any>,
    source: &SourceId,
    item: &Quarantined,
    at: i64,
) -> Result<bool, StoreError> {
    let mut hasher = Sha256::new();
    hasher.update(item.location.as_bytes());
    hasher.update(b"\n");
    hasher.update(item.raw.as_bytes());
    let dedup_key = hex::encode(hasher.finalize());
    let inserted = sqlx::query(
        "INSERT INTO quarantine (source_id, received_at_ms, location, reason, raw, dedup_key)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (source_id, dedup_key) DO NOTHING",
    )
    .bind(source.as_str())
    .bind(at)
    .bind(&item.location)
    .bind(&item.reason)
    .bind(&item.raw)
    .bind(dedup_key)
    .execute(&mut **tx)
    .await?;
    Ok(inserted.rows_affected() > 0)
}

pub(super) async fn record_poll_failure(
    tx: &mut Transaction<'static, Any>,
    failure: &PollFailure<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO source_state (source_id, last_poll_at_ms, last_error, last_error_kind, last_error_at_ms, consecutive_failures)
         VALUES ($1, $2, $3, $4, $2, 1)
         ON CONFLICT (source_id) DO UPDATE SET
             last_poll_at_ms = excluded.last_poll_at_ms,
             last_error = excluded.last_error,
             last_error_kind = excluded.last_error_kind,
             last_error_at_ms = excluded.last_error_at_ms,
             consecutive_failures = source_state.consecutive_failures + 1",
    )
    .bind(failure.source.as_str())
    .bind(failure.at)
    .bind(failure.message)
    .bind(failure.kind)
    .execute(&mut **tx)
    .await?;
    if let Some(item) = &failure.quarantine {
        insert_quarantine(tx, failure.source, item, failure.at).await?;
    }
    Ok(())
}

pub(super) fn saturating_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
