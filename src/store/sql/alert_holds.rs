//! Quiet-hours holds and digests, update references, and the reads behind spike alerts.

use sqlx::{Any, AnyPool, Transaction};

use super::super::{DeliveryStatus, HeldDelivery, NegativePost, OutboxStatus, StoreError};
use super::rows::{alert_payload_of, get};
use crate::alerts::AlertPayload;
use crate::domain::{AlertId, BrandId, DeliveryId, Millis, TaskId};

/// Fans an alert out to each route's channel and marks it routed; running it twice adds
/// nothing. A channel without a hold gets a `pending` delivery due now, one with a hold a
/// `held` delivery that waits until the hold's end.
pub(super) async fn route_alert_with_holds(
    tx: &mut Transaction<'static, Any>,
    alert_id: AlertId,
    routes: &[(String, Option<Millis>)],
    now: Millis,
) -> Result<usize, StoreError> {
    let mut added = 0;
    for (channel, hold) in routes {
        let (status, at) = match hold {
            Some(until) => (DeliveryStatus::Held, *until),
            None => (DeliveryStatus::Pending, now),
        };
        let result = sqlx::query(
            "INSERT INTO alert_deliveries (alert_id, channel, status, attempts, next_attempt_at_ms, created_at_ms)
             VALUES ($1, $2, $3, 0, $4, $5)
             ON CONFLICT (alert_id, channel) DO NOTHING",
        )
        .bind(alert_id)
        .bind(channel)
        .bind(status.as_str())
        .bind(at)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        added += usize::try_from(result.rows_affected()).unwrap_or(0);
    }
    sqlx::query("UPDATE alert_outbox SET status = $2 WHERE id = $1 AND status = $3")
        .bind(alert_id)
        .bind(OutboxStatus::Routed.as_str())
        .bind(OutboxStatus::Pending.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(added)
}

pub(super) async fn held_deliveries_due(
    pool: &AnyPool,
    now: Millis,
    limit: usize,
) -> Result<Vec<HeldDelivery>, StoreError> {
    let rows = sqlx::query(
        "SELECT d.id, d.channel, d.next_attempt_at_ms, o.brand_id, o.payload_json
         FROM alert_deliveries d JOIN alert_outbox o ON o.id = d.alert_id
         WHERE d.status = $3 AND d.next_attempt_at_ms <= $1
         ORDER BY d.id
         LIMIT $2",
    )
    .bind(now)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .bind(DeliveryStatus::Held.as_str())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(HeldDelivery {
                id: get(row, "id")?,
                channel: get(row, "channel")?,
                held_until_ms: get(row, "next_attempt_at_ms")?,
                brand: get(row, "brand_id")?,
                payload: alert_payload_of(row)?,
            })
        })
        .collect()
}

pub(super) async fn commit_digest(
    tx: &mut Transaction<'static, Any>,
    channel: &str,
    digest: &AlertPayload,
    held_ids: &[DeliveryId],
    now: Millis,
) -> Result<bool, StoreError> {
    let inserted = super::alerts::insert_outbox(tx, None, digest, OutboxStatus::Routed, now).await?;
    let Some(digest_id) = inserted else {
        // A digest for this channel and window went out already (another instance, or a
        // hold that ended while it was being built): these go out on their own instead.
        for id in held_ids {
            sqlx::query(
                "UPDATE alert_deliveries SET status = $3, next_attempt_at_ms = $2 WHERE id = $1 AND status = $4",
            )
            .bind(id)
            .bind(now)
            .bind(DeliveryStatus::Pending.as_str())
            .bind(DeliveryStatus::Held.as_str())
            .execute(&mut **tx)
            .await?;
        }
        return Ok(false);
    };
    sqlx::query(
        "INSERT INTO alert_deliveries (alert_id, channel, status, attempts, next_attempt_at_ms, created_at_ms)
         VALUES ($1, $2, $4, 0, $3, $3)
         ON CONFLICT (alert_id, channel) DO NOTHING",
    )
    .bind(digest_id)
    .bind(channel)
    .bind(now)
    .bind(DeliveryStatus::Pending.as_str())
    .execute(&mut **tx)
    .await?;
    for id in held_ids {
        sqlx::query("UPDATE alert_deliveries SET status = $3, digest_alert_id = $2 WHERE id = $1 AND status = $4")
            .bind(id)
            .bind(digest_id)
            .bind(DeliveryStatus::Digested.as_str())
            .bind(DeliveryStatus::Held.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(true)
}

pub(super) async fn first_sent_about_task(
    pool: &AnyPool,
    task_id: TaskId,
    channel: &str,
    except: DeliveryId,
) -> Result<Option<Millis>, StoreError> {
    let row = sqlx::query(
        "SELECT d.sent_at_ms FROM alert_deliveries d JOIN alert_outbox o ON o.id = d.alert_id
         WHERE o.task_id = $1 AND d.channel = $2 AND d.status = $4 AND d.id <> $3
         ORDER BY d.id LIMIT 1",
    )
    .bind(task_id)
    .bind(channel)
    .bind(except)
    .bind(DeliveryStatus::Sent.as_str())
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => Ok(get(&row, "sent_at_ms")?),
        None => Ok(None),
    }
}

pub(super) async fn negative_counts(
    pool: &AnyPool,
    brand: &BrandId,
    start: Millis,
    end: Millis,
    bucket_ms: Millis,
) -> Result<Vec<(Millis, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT CAST((p.created_at_ms / $4) * $4 AS BIGINT) AS bucket, CAST(COUNT(*) AS BIGINT) AS n
         FROM mentions m
         JOIN posts p ON p.id = m.post_id
         JOIN sentiments s ON s.post_id = m.post_id
         WHERE m.brand_id = $1 AND s.status = 'scored' AND s.label = 'negative'
               AND p.created_at_ms >= $2 AND p.created_at_ms < $3
         GROUP BY 1
         ORDER BY 1",
    )
    .bind(brand.as_str())
    .bind(start)
    .bind(end)
    .bind(bucket_ms.max(1))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| Ok((get(row, "bucket")?, get(row, "n")?)))
        .collect()
}

pub(super) async fn negative_posts(
    pool: &AnyPool,
    brand: &BrandId,
    start: Millis,
    end: Millis,
    limit: usize,
) -> Result<Vec<NegativePost>, StoreError> {
    let rows = sqlx::query(
        "SELECT p.created_at_ms, p.text, p.lang, p.url
         FROM mentions m
         JOIN posts p ON p.id = m.post_id
         JOIN sentiments s ON s.post_id = m.post_id
         WHERE m.brand_id = $1 AND s.status = 'scored' AND s.label = 'negative'
               AND p.created_at_ms >= $2 AND p.created_at_ms < $3
         ORDER BY p.created_at_ms DESC, p.id DESC
         LIMIT $4",
    )
    .bind(brand.as_str())
    .bind(start)
    .bind(end)
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(NegativePost {
                created_at_ms: get(row, "created_at_ms")?,
                text: get(row, "text")?,
                lang: get(row, "lang")?,
                url: get(row, "url")?,
            })
        })
        .collect()
}

pub(super) async fn first_mention_post_at(pool: &AnyPool, brand: &BrandId) -> Result<Option<Millis>, StoreError> {
    let row = sqlx::query(
        "SELECT p.created_at_ms FROM mentions m JOIN posts p ON p.id = m.post_id
         WHERE m.brand_id = $1 ORDER BY p.created_at_ms LIMIT 1",
    )
    .bind(brand.as_str())
    .fetch_optional(pool)
    .await?;
    match row {
        Some(row) => Ok(Some(get(&row, "created_at_ms")?)),
        None => Ok(None),
    }
}

pub(super) async fn recent_alerts(
    pool: &AnyPool,
    kind: &str,
    brand: &BrandId,
    limit: usize,
) -> Result<Vec<AlertPayload>, StoreError> {
    let rows = sqlx::query(
        "SELECT payload_json FROM alert_outbox WHERE kind = $1 AND brand_id = $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(kind)
    .bind(brand.as_str())
    .bind(i64::try_from(limit).unwrap_or(i64::MAX))
    .fetch_all(pool)
    .await?;
    rows.iter().map(alert_payload_of).collect()
}
