//! Replies sent from earshot: the outbox rows (queued before anything is sent, claimed by the
//! reply worker, marked in doubt before each send, then sent or failed), and the reply
//! accounts' rotated refresh tokens and health.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Transaction};

use super::super::{
    AccountEvent, AccountHealth, Backend, Claim, ClaimedReply, NewReply, ReplyFailure, ReplyRow, ReplySent,
    ReplyStatus, StoreError,
};
use super::queue_actions::apply_task_change;
use super::rows::{brand_at, get, platform_at};
use super::scoring::insert_event;
use crate::domain::{Millis, PostId, ReplyId, TaskId};
use crate::replies::{ReplyTarget, StoredToken};

const REPLY_COLUMNS: &str = "r.id, r.task_id, r.post_id, r.brand_id, r.platform, r.text, r.idempotency_key,
    r.requested_by, r.resolve_after, r.status, r.attempts, r.in_doubt, r.next_attempt_at_ms, r.external_id, r.url,
    r.error, r.error_kind, r.created_at_ms, r.sent_at_ms";

fn reply_row_of(row: &AnyRow) -> Result<ReplyRow, StoreError> {
    Ok(ReplyRow {
        id: get(row, "id")?,
        task_id: get(row, "task_id")?,
        post_id: get(row, "post_id")?,
        brand: brand_at(row, "brand_id")?,
        platform: platform_at(row, "platform")?,
        text: get(row, "text")?,
        requested_by: get(row, "requested_by")?,
        resolve_after: get::<i64>(row, "resolve_after")? != 0,
        status: get(row, "status")?,
        attempts: get(row, "attempts")?,
        in_doubt: get::<i64>(row, "in_doubt")? != 0,
        next_attempt_at_ms: get(row, "next_attempt_at_ms")?,
        external_id: get(row, "external_id")?,
        url: get(row, "url")?,
        error: get(row, "error")?,
        error_kind: get(row, "error_kind")?,
        created_at_ms: get(row, "created_at_ms")?,
        sent_at_ms: get(row, "sent_at_ms")?,
        idempotency_key: get(row, "idempotency_key")?,
    })
}

/// The post a task's reply answers: its most recent post (the customer's latest word).
pub(super) async fn reply_target(pool: &AnyPool, task_id: TaskId) -> Result<Option<(PostId, ReplyTarget)>, StoreError> {
    let row = sqlx::query(
        "SELECT p.id, p.platform, p.external_id, p.author_handle, p.text, p.url, p.conversation_id
         FROM assessments a JOIN mentions m ON m.id = a.mention_id JOIN posts p ON p.id = m.post_id
         WHERE a.task_id = $1 ORDER BY p.created_at_ms DESC, p.id DESC LIMIT 1",
    )
    .bind(task_id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| target_of(&row, "id")).transpose()
}

fn target_of(row: &AnyRow, id_column: &str) -> Result<(PostId, ReplyTarget), StoreError> {
    let platform = platform_at(row, "platform")?;
    Ok((
        get(row, id_column)?,
        ReplyTarget {
            platform,
            external_id: get(row, "external_id")?,
            author_handle: get(row, "author_handle")?,
            text: get(row, "text")?,
            url: get(row, "url")?,
            conversation_id: get(row, "conversation_id")?,
        },
    ))
}

pub(super) async fn queue_reply(tx: &mut Transaction<'static, Any>, reply: &NewReply) -> Result<ReplyRow, StoreError> {
    if let Some(claim) = &reply.claim {
        apply_task_change(tx, claim).await?;
    }
    let inserted = sqlx::query(
        "INSERT INTO replies (task_id, post_id, brand_id, platform, text, idempotency_key, requested_by, resolve_after,
                              status, attempts, in_doubt, next_attempt_at_ms, created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $10, 0, 0, $9, $9, $9)
         ON CONFLICT DO NOTHING
         RETURNING id",
    )
    .bind(reply.task_id)
    .bind(reply.post_id)
    .bind(reply.brand.as_str())
    .bind(reply.platform.as_str())
    .bind(&reply.text)
    .bind(&reply.idempotency_key)
    .bind(&reply.requested_by)
    .bind(i64::from(reply.resolve_after))
    .bind(reply.at)
    .bind(ReplyStatus::Queued.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    let Some(inserted) = inserted else {
        return Err(StoreError::Conflict(format!(
            "task {} already has a reply waiting to be sent",
            reply.task_id
        )));
    };
    let id: ReplyId = get(&inserted, "id")?;
    insert_event(
        tx,
        reply.task_id,
        reply.at,
        &reply.requested_by,
        "reply_queued",
        &serde_json::json!({ "reply_id": id, "text": reply.text, "platform": reply.platform.as_str(),
                             "resolve_after": reply.resolve_after }),
    )
    .await?;
    let row = sqlx::query(&format!("SELECT {REPLY_COLUMNS} FROM replies r WHERE r.id = $1"))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    reply_row_of(&row)
}

pub(super) async fn task_replies(pool: &AnyPool, task_id: TaskId) -> Result<Vec<ReplyRow>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {REPLY_COLUMNS} FROM replies r WHERE r.task_id = $1 ORDER BY r.id"
    ))
    .bind(task_id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(reply_row_of).collect()
}

pub(super) async fn reply(pool: &AnyPool, reply_id: ReplyId) -> Result<ReplyRow, StoreError> {
    let row = sqlx::query(&format!("SELECT {REPLY_COLUMNS} FROM replies r WHERE r.id = $1"))
        .bind(reply_id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("reply {reply_id}")))?;
    reply_row_of(&row)
}

/// Claims due queued replies. Claims of other holders are respected until they expire, on
/// both backends (a reply must never be sent by two workers); a holder's own claims are its
/// to resume after a restart with the same instance id.
pub(super) async fn claim_replies(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    claim: &Claim<'_>,
    limit: usize,
) -> Result<Vec<ClaimedReply>, StoreError> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let until = claim.now.saturating_add(claim.ttl_ms);
    let claimed = sqlx::query(&format!(
        "UPDATE replies SET claimed_by = $1, claimed_until_ms = $2
         WHERE id IN (
             SELECT id FROM replies
             WHERE status = $5 AND next_attempt_at_ms <= $3
               AND (claimed_until_ms IS NULL OR claimed_until_ms < $3 OR claimed_by = $1)
             ORDER BY next_attempt_at_ms, id LIMIT $4{lock})
         RETURNING id"
    ))
    .bind(claim.holder)
    .bind(until)
    .bind(claim.now)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .bind(ReplyStatus::Queued.as_str())
    .fetch_all(&mut **tx)
    .await?;
    if claimed.is_empty() {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT {REPLY_COLUMNS}, p.platform AS p_platform, p.external_id, p.author_handle, p.text AS p_text, p.url AS p_url,
                p.conversation_id
         FROM replies r JOIN posts p ON p.id = r.post_id
         WHERE r.status = $3 AND r.claimed_by = $1 AND r.claimed_until_ms = $2
         ORDER BY r.next_attempt_at_ms, r.id"
    ))
    .bind(claim.holder)
    .bind(until)
    .bind(ReplyStatus::Queued.as_str())
    .fetch_all(&mut **tx)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(ClaimedReply {
                row: reply_row_of(row)?,
                target: ReplyTarget {
                    platform: platform_at(row, "p_platform")?,
                    external_id: get(row, "external_id")?,
                    author_handle: get(row, "author_handle")?,
                    text: get(row, "p_text")?,
                    url: get(row, "p_url")?,
                    conversation_id: get(row, "conversation_id")?,
                },
            })
        })
        .collect()
}

/// Marks that a send is starting: committed before the request leaves, so a crash after it
/// leaves the row in doubt. False when the claim was lost.
pub(super) async fn begin_reply_attempt(
    tx: &mut Transaction<'static, Any>,
    reply_id: ReplyId,
    holder: &str,
    now: Millis,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE replies SET in_doubt = 1, attempts = attempts + 1, updated_at_ms = $3
         WHERE id = $1 AND claimed_by = $2 AND status = $4",
    )
    .bind(reply_id)
    .bind(holder)
    .bind(now)
    .bind(ReplyStatus::Queued.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn record_reply_sent(
    tx: &mut Transaction<'static, Any>,
    sent: &ReplySent,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE replies SET status = $6, in_doubt = 0, external_id = $3, url = $4, sent_at_ms = $5,
             error = NULL, error_kind = NULL, claimed_by = NULL, claimed_until_ms = NULL, updated_at_ms = $5
         WHERE id = $1 AND claimed_by = $2 AND status = $7",
    )
    .bind(sent.reply_id)
    .bind(&sent.holder)
    .bind(&sent.external_id)
    .bind(sent.url.as_deref())
    .bind(sent.at)
    .bind(ReplyStatus::Sent.as_str())
    .bind(ReplyStatus::Queued.as_str())
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if let Some(change) = &sent.change {
        apply_task_change(tx, change).await?;
    }
    Ok(true)
}

pub(super) async fn record_reply_failure(
    tx: &mut Transaction<'static, Any>,
    failure: &ReplyFailure,
    task_id: TaskId,
) -> Result<(), StoreError> {
    let (status, next) = match failure.retry_at {
        Some(at) => (ReplyStatus::Queued, at),
        None => (ReplyStatus::Failed, failure.at),
    };
    let done = sqlx::query(
        "UPDATE replies SET status = $3, next_attempt_at_ms = $4, error = $5, error_kind = $6, in_doubt = $7,
             claimed_by = NULL, claimed_until_ms = NULL, updated_at_ms = $8
         WHERE id = $1 AND claimed_by = $2 AND status = $9",
    )
    .bind(failure.reply_id)
    .bind(&failure.holder)
    .bind(status.as_str())
    .bind(next)
    .bind(&failure.error)
    .bind(&failure.kind)
    .bind(i64::from(failure.in_doubt))
    .bind(failure.at)
    .bind(ReplyStatus::Queued.as_str())
    .execute(&mut **tx)
    .await?;
    if done.rows_affected() == 1 && failure.retry_at.is_none() {
        insert_event(
            tx,
            task_id,
            failure.at,
            "earshot",
            "reply_failed",
            &serde_json::json!({ "reply_id": failure.reply_id, "error": failure.error, "kind": failure.kind }),
        )
        .await?;
    }
    Ok(())
}

/// A failed reply back in the queue (the agent's "Retry") with a fresh budget of attempts,
/// sent as soon as a worker runs; one still in doubt is looked for first.
pub(super) async fn retry_reply(
    tx: &mut Transaction<'static, Any>,
    reply_id: ReplyId,
    actor: &str,
    now: Millis,
) -> Result<ReplyRow, StoreError> {
    let row = sqlx::query(&format!("SELECT {REPLY_COLUMNS} FROM replies r WHERE r.id = $1"))
        .bind(reply_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("reply {reply_id}")))?;
    let reply = reply_row_of(&row)?;
    if ReplyStatus::parse(&reply.status) != Some(ReplyStatus::Failed) {
        return Err(StoreError::Conflict(format!(
            "reply {reply_id} is {}: only a failed reply can be retried",
            reply.status
        )));
    }
    let done = sqlx::query(
        "UPDATE replies SET status = $3, attempts = 0, next_attempt_at_ms = $2, updated_at_ms = $2
         WHERE id = $1 AND status = $4",
    )
    .bind(reply_id)
    .bind(now)
    .bind(ReplyStatus::Queued.as_str())
    .bind(ReplyStatus::Failed.as_str())
    .execute(&mut **tx)
    .await;
    match done {
        Ok(_) => {}
        // The partial unique index: another reply of the task is queued already.
        Err(sqlx::Error::Database(error)) if error.is_unique_violation() => {
            return Err(StoreError::Conflict(format!(
                "task {} already has a reply waiting to be sent",
                reply.task_id
            )));
        }
        Err(error) => return Err(error.into()),
    }
    insert_event(
        tx,
        reply.task_id,
        now,
        actor,
        "reply_retried",
        &serde_json::json!({ "reply_id": reply_id }),
    )
    .await?;
    let row = sqlx::query(&format!("SELECT {REPLY_COLUMNS} FROM replies r WHERE r.id = $1"))
        .bind(reply_id)
        .fetch_one(&mut **tx)
        .await?;
    reply_row_of(&row)
}

pub(super) async fn reply_token(pool: &AnyPool, account: &str) -> Result<Option<StoredToken>, StoreError> {
    let row = sqlx::query("SELECT origin_fingerprint, refresh_token FROM reply_tokens WHERE account = $1")
        .bind(account)
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok(StoredToken {
            origin_fingerprint: get(&row, "origin_fingerprint")?,
            token: get(&row, "refresh_token")?,
        })
    })
    .transpose()
}

pub(super) async fn save_reply_token(
    tx: &mut Transaction<'static, Any>,
    account: &str,
    token: &StoredToken,
    now: Millis,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO reply_tokens (account, origin_fingerprint, refresh_token, updated_at_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (account) DO UPDATE SET origin_fingerprint = excluded.origin_fingerprint,
             refresh_token = excluded.refresh_token, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(account)
    .bind(&token.origin_fingerprint)
    .bind(&token.token)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn record_account_event(
    tx: &mut Transaction<'static, Any>,
    account: &str,
    event: &AccountEvent,
) -> Result<(), StoreError> {
    match event {
        AccountEvent::Worked { handle, at } => {
            sqlx::query(
                "INSERT INTO reply_account_health (account, handle, last_success_at_ms) VALUES ($1, $2, $3)
                 ON CONFLICT (account) DO UPDATE SET handle = COALESCE(excluded.handle, reply_account_health.handle),
                     last_success_at_ms = excluded.last_success_at_ms, last_error = NULL, last_error_kind = NULL,
                     last_error_at_ms = NULL",
            )
            .bind(account)
            .bind(handle.as_deref())
            .bind(*at)
            .execute(&mut **tx)
            .await?;
        }
        AccountEvent::Failed { error, kind, at } => {
            sqlx::query(
                "INSERT INTO reply_account_health (account, last_error, last_error_kind, last_error_at_ms)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (account) DO UPDATE SET last_error = excluded.last_error,
                     last_error_kind = excluded.last_error_kind, last_error_at_ms = excluded.last_error_at_ms",
            )
            .bind(account)
            .bind(error)
            .bind(kind)
            .bind(*at)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

pub(super) async fn account_health(pool: &AnyPool) -> Result<Vec<AccountHealth>, StoreError> {
    let rows = sqlx::query(
        "SELECT account, handle, last_success_at_ms, last_error, last_error_kind, last_error_at_ms
         FROM reply_account_health ORDER BY account",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(AccountHealth {
                account: get(row, "account")?,
                handle: get(row, "handle")?,
                last_success_at_ms: get(row, "last_success_at_ms")?,
                last_error: get(row, "last_error")?,
                last_error_kind: get(row, "last_error_kind")?,
                last_error_at_ms: get(row, "last_error_at_ms")?,
            })
        })
        .collect()
}
