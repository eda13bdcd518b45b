//! The alert outbox: enqueueing, routing to channels (with quiet-hour holds), digests, and the
//! tasks SLA alerts watch.

use async_trait::async_trait;

use crate::alerts::AlertPayload;
use crate::domain::{AlertId, BrandId, DeliveryId, Millis};
use crate::store::{HeldDelivery, OutboxAlert, SlaTask, StoreError};

#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Puts an alert in the outbox; an alert with the same dedup key is kept, not doubled.
    /// Returns whether it was added.
    async fn enqueue_alert(
        &self,
        brand_id: Option<&str>,
        payload: &AlertPayload,
        now: Millis,
    ) -> Result<bool, StoreError>;

    /// Alerts due for delivery at `now`, oldest first.
    async fn due_alerts(&self, now: Millis, limit: usize) -> Result<Vec<OutboxAlert>, StoreError>;

    /// Fans an outbox alert out to one delivery per channel and marks it routed, in one
    /// transaction; routing it again adds nothing. Returns how many deliveries were added.
    async fn route_alert(&self, alert_id: AlertId, channels: &[String], now: Millis) -> Result<usize, StoreError>;

    /// Like `route_alert`, with a hold per channel: `Some(until)` stores the delivery as held
    /// by quiet hours until then (for the digest) instead of due now.
    async fn route_alert_with_holds(
        &self,
        alert_id: AlertId,
        routes: &[(String, Option<Millis>)],
        now: Millis,
    ) -> Result<usize, StoreError>;

    /// Held deliveries whose hold ended at or before `now`, oldest first.
    async fn held_deliveries_due(&self, now: Millis, limit: usize) -> Result<Vec<HeldDelivery>, StoreError>;

    /// In one transaction: puts the digest in the outbox (already routed), adds its one
    /// delivery to `channel`, and marks the held deliveries it carries as digested. If a
    /// digest with the same dedup key exists, the held deliveries are made due at once
    /// instead (nothing held is lost). Returns whether the digest was added.
    async fn commit_digest(
        &self,
        channel: &str,
        digest: &AlertPayload,
        held_ids: &[DeliveryId],
        now: Millis,
    ) -> Result<bool, StoreError>;

    /// The newest `limit` outbox alerts of `kind` about `brand`, newest first.
    async fn recent_alerts(&self, kind: &str, brand: &BrandId, limit: usize) -> Result<Vec<AlertPayload>, StoreError>;

    /// Active tasks with no first response due at or before `due_before`, soonest first.
    async fn unanswered_tasks_due(&self, due_before: Millis) -> Result<Vec<SlaTask>, StoreError>;
}
