//! Alert delivery: routing outbox alerts to per-channel deliveries, claiming due ones,
//! recording outcomes, and channel state.

use sqlx::{Any, AnyPool, Row, Transaction};

use super::super::{Backend, ChannelState, DeliveryStatus, DueDelivery, OutboxStatus, SentRef, SlaTask, StoreError};
use super::UNANSWERED_TASK_STATUSES;
use super::rows::{alert_payload_json, alert_payload_of, brand_at, get, platform_at};
use crate::alerts::AlertPayload;
use crate::domain::Priority;
use crate::domain::{AlertId, DeliveryId, Millis, TaskId};

/// Fans an alert out to `channels` at once and marks it routed; running it twice adds
/// nothing. (`alert_holds::route_alert_with_holds` with no holds.)
pub(super) async fn route_alert(
    tx: &mut Transaction<'static, Any>,
    alert_id: AlertId,
    channels: &[String],
    now: Millis,
) -> Result<usize, StoreError> {
    let routes: Vec<(String, Option<Millis>)> = channels.iter().map(|channel| (channel.clone(), None)).collect();
    super::alert_holds::route_alert_with_holds(tx, alert_id, &routes, now).await
}

/// Takes up to `limit` pending deliveries due at `now` on enabled channels and leases them
/// until `lease_until`, so a second runner does not pick them up meanwhile.
///
/// On PostgreSQL several instances claim at once: the rows are locked `FOR UPDATE OF d SKIP
/// LOCKED`, so a delivery another transaction is claiming is skipped rather than taken twice
/// (and a row changed under us is re-checked against the condition before it is locked). On
/// SQLite the `BEGIN IMMEDIATE` write transaction already makes claimers take turns.
pub(super) async fn claim_deliveries(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    now: Millis,
    lease_until: Millis,
    limit: usize,
) -> Result<Vec<DueDelivery>, StoreError> {
    let lock = match backend {
        Backend::Postgres => " FOR UPDATE OF d SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let rows = sqlx::query(&format!(
        "SELECT d.id, d.alert_id, d.channel, d.attempts, o.dedup_key, o.task_id, o.payload_json
         FROM alert_deliveries d
         JOIN alert_outbox o ON o.id = d.alert_id
         LEFT JOIN channel_state c ON c.name = d.channel
         WHERE d.status = $3 AND d.next_attempt_at_ms <= $1 AND COALESCE(c.disabled, 0) = 0
         ORDER BY d.id
         LIMIT $2{lock}"
    ))
    .bind(now)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .bind(DeliveryStatus::Pending.as_str())
    .fetch_all(&mut **tx)
    .await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in &rows {
        let id: DeliveryId = get(row, "id")?;
        let channel: String = get(row, "channel")?;
        let task_id: Option<TaskId> = get(row, "task_id")?;
        let payload = alert_payload_of(row)?;
        sqlx::query("UPDATE alert_deliveries SET next_attempt_at_ms = $2 WHERE id = $1")
            .bind(id)
            .bind(lease_until)
            .execute(&mut **tx)
            .await?;
        let previous_external_id = match task_id {
            Some(task_id) => previous_message(tx, task_id, &channel, id).await?,
            None => None,
        };
        claimed.push(DueDelivery {
            id,
            alert_id: get(row, "alert_id")?,
            dedup_key: get(row, "dedup_key")?,
            channel,
            attempts: get(row, "attempts")?,
            payload,
            previous_external_id,
        });
    }
    Ok(claimed)
}

/// The first message sent about the task on the channel, if any.
async fn previous_message(
    tx: &mut Transaction<'static, Any>,
    task_id: TaskId,
    channel: &str,
    except: DeliveryId,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT d.external_id FROM alert_deliveries d JOIN alert_outbox o ON o.id = d.alert_id
         WHERE o.task_id = $1 AND d.channel = $2 AND d.status = $4 AND d.id <> $3
               AND d.external_id IS NOT NULL
         ORDER BY d.id LIMIT 1",
    )
    .bind(task_id)
    .bind(channel)
    .bind(except)
    .bind(DeliveryStatus::Sent.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    match row {
        Some(row) => Ok(get(&row, "external_id")?),
        None => Ok(None),
    }
}

pub(super) async fn mark_sent(
    tx: &mut Transaction<'static, Any>,
    delivery_id: DeliveryId,
    sent: &SentRef,
    at: Millis,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE alert_deliveries SET status = $5, attempts = attempts + 1, sent_at_ms = $2,
             external_id = $3, thread_key = $4, last_error = NULL
         WHERE id = $1 AND status = $6",
    )
    .bind(delivery_id)
    .bind(at)
    .bind(sent.external_id.as_deref())
    .bind(sent.thread_key.as_deref())
    .bind(DeliveryStatus::Sent.as_str())
    .bind(DeliveryStatus::Pending.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn reschedule(
    tx: &mut Transaction<'static, Any>,
    delivery_id: DeliveryId,
    at: Millis,
    error: Option<&str>,
) -> Result<(), StoreError> {
    let query = match error {
        Some(_) => {
            "UPDATE alert_deliveries SET next_attempt_at_ms = $2, attempts = attempts + 1, last_error = $3
             WHERE id = $1 AND status = $4"
        }
        None => {
            "UPDATE alert_deliveries SET next_attempt_at_ms = $2, last_error = COALESCE($3, last_error)
             WHERE id = $1 AND status = $4"
        }
    };
    sqlx::query(query)
        .bind(delivery_id)
        .bind(at)
        .bind(error)
        .bind(DeliveryStatus::Pending.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(super) async fn mark_dead(
    tx: &mut Transaction<'static, Any>,
    delivery_id: DeliveryId,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE alert_deliveries SET status = $3, attempts = attempts + 1, last_error = $2
         WHERE id = $1 AND status = $4",
    )
    .bind(delivery_id)
    .bind(error)
    .bind(DeliveryStatus::Dead.as_str())
    .bind(DeliveryStatus::Pending.as_str())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn disable_channel(
    tx: &mut Transaction<'static, Any>,
    name: &str,
    reason: &str,
    at: Millis,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO channel_state (name, disabled, disabled_reason, disabled_at_ms) VALUES ($1, 1, $2, $3)
         ON CONFLICT (name) DO UPDATE SET disabled = 1, disabled_reason = excluded.disabled_reason,
             disabled_at_ms = excluded.disabled_at_ms",
    )
    .bind(name)
    .bind(reason)
    .bind(at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn enable_channel(tx: &mut Transaction<'static, Any>, name: &str) -> Result<(), StoreError> {
    sqlx::query("UPDATE channel_state SET disabled = 0, disabled_reason = NULL, disabled_at_ms = NULL WHERE name = $1")
        .bind(name)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// State of each named channel (configured ones are passed in, so a channel with no
/// deliveries yet is listed too).
pub(super) async fn channel_states(pool: &AnyPool, names: &[String]) -> Result<Vec<ChannelState>, StoreError> {
    let mut states = Vec::with_capacity(names.len());
    for name in names {
        let state = sqlx::query("SELECT disabled, disabled_reason, disabled_at_ms FROM channel_state WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?;
        let counts = sqlx::query(
            "SELECT
                CAST(COALESCE(SUM(CASE WHEN status = $2 THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending,
                CAST(COALESCE(SUM(CASE WHEN status = $3 THEN 1 ELSE 0 END), 0) AS BIGINT) AS held,
                CAST(COALESCE(SUM(CASE WHEN status = $4 THEN 1 ELSE 0 END), 0) AS BIGINT) AS sent,
                CAST(COALESCE(SUM(CASE WHEN status = $5 THEN 1 ELSE 0 END), 0) AS BIGINT) AS dead,
                CAST(MIN(CASE WHEN status = $2 THEN created_at_ms END) AS BIGINT) AS oldest_pending_at_ms
             FROM alert_deliveries WHERE channel = $1",
        )
        .bind(name)
        .bind(DeliveryStatus::Pending.as_str())
        .bind(DeliveryStatus::Held.as_str())
        .bind(DeliveryStatus::Sent.as_str())
        .bind(DeliveryStatus::Dead.as_str())
        .fetch_one(pool)
        .await?;
        let last_error = sqlx::query(
            "SELECT last_error FROM alert_deliveries WHERE channel = $1 AND last_error IS NOT NULL
             ORDER BY id DESC LIMIT 1",
        )
        .bind(name)
        .fetch_optional(pool)
        .await?;
        let (disabled, disabled_reason, disabled_at_ms) = match state {
            Some(row) => (
                get::<i64>(&row, "disabled")? != 0,
                get::<Option<String>>(&row, "disabled_reason")?,
                get::<Option<i64>>(&row, "disabled_at_ms")?,
            ),
            None => (false, None, None),
        };
        states.push(ChannelState {
            name: name.clone(),
            disabled,
            disabled_reason,
            disabled_at_ms,
            pending: get(&counts, "pending")?,
            held: get(&counts, "held")?,
            oldest_pending_at_ms: get(&counts, "oldest_pending_at_ms")?,
            sent: get(&counts, "sent")?,
            dead: get(&counts, "dead")?,
            last_error: match last_error {
                Some(row) => row.try_get::<Option<String>, _>("last_error")?,
                None => None,
            },
        });
    }
    Ok(states)
}

/// Active tasks without a first response that are due at or before `due_before`.
pub(super) async fn unanswered_tasks_due(pool: &AnyPool, due_before: Millis) -> Result<Vec<SlaTask>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT t.id, t.brand_id, t.priority, t.platform, t.author_handle, t.due_at_ms, t.sla_started_at_ms,
                (SELECT p.text FROM assessments a JOIN mentions m ON m.id = a.mention_id JOIN posts p ON p.id = m.post_id
                 WHERE a.task_id = t.id ORDER BY a.mention_id LIMIT 1) AS first_text
         FROM tasks t
         WHERE t.status IN {UNANSWERED_TASK_STATUSES} AND t.first_response_at_ms IS NULL AND t.due_at_ms <= $1
         ORDER BY t.due_at_ms"
    ))
    .bind(due_before)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let rank: i64 = get(row, "priority")?;
            Ok(SlaTask {
                task_id: get(row, "id")?,
                brand_id: brand_at(row, "brand_id")?,
                priority: Priority::from_rank(rank)
                    .ok_or_else(|| StoreError::Corrupt(format!("task priority {rank}")))?,
                platform: platform_at(row, "platform")?,
                author_handle: get(row, "author_handle")?,
                due_at_ms: get(row, "due_at_ms")?,
                sla_started_at_ms: get(row, "sla_started_at_ms")?,
                text: get::<Option<String>>(row, "first_text")?.unwrap_or_default(),
            })
        })
        .collect()
}

/// Puts an alert in the outbox, waiting for routing, unless one with its dedup key is there;
/// true if added.
pub(super) async fn enqueue_alert(
    tx: &mut Transaction<'static, Any>,
    brand_id: Option<&str>,
    payload: &AlertPayload,
    now: Millis,
) -> Result<bool, StoreError> {
    Ok(insert_outbox(tx, brand_id, payload, OutboxStatus::Pending, now)
        .await?
        .is_some())
}

/// The one outbox insert: `payload` with `status` (`pending`: routing decides its channels;
/// `routed`: the caller adds its deliveries) unless an alert with its dedup key is there.
/// Returns the new alert's id, `None` if it was there already.
pub(super) async fn insert_outbox(
    tx: &mut Transaction<'static, Any>,
    brand_id: Option<&str>,
    payload: &AlertPayload,
    status: OutboxStatus,
    now: Millis,
) -> Result<Option<i64>, StoreError> {
    let payload_json = alert_payload_json(payload)?;
    let inserted = sqlx::query(
        "INSERT INTO alert_outbox (dedup_key, kind, brand_id, task_id, payload_json, created_at_ms, status,
                                   attempts, next_attempt_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $6)
         ON CONFLICT (dedup_key) DO NOTHING
         RETURNING id",
    )
    .bind(payload.dedup_key())
    .bind(payload.kind())
    .bind(brand_id)
    .bind(payload.task_id())
    .bind(payload_json)
    .bind(now)
    .bind(status.as_str())
    .fetch_optional(&mut **tx)
    .await?;
    inserted.map(|row| get(&row, "id")).transpose()
}
