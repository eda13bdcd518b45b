//! `SqlStore` as the `AlertStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::{AlertId, BrandId, DeliveryId, Millis};
use crate::store::AlertStore;
use crate::store::{OutboxAlert, SlaTask, StoreError};

use super::super::{SqlStore, alert_holds, alerts, queue};

#[async_trait]
impl AlertStore for SqlStore {
    async fn enqueue_alert(
        &self,
        brand_id: Option<&str>,
        payload: &crate::alerts::AlertPayload,
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let added = alerts::enqueue_alert(&mut tx, brand_id, payload, now).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn due_alerts(&self, now: Millis, limit: usize) -> Result<Vec<OutboxAlert>, StoreError> {
        queue::due_alerts(&self.pool, now, limit).await
    }

    async fn route_alert(&self, alert_id: AlertId, channels: &[String], now: Millis) -> Result<usize, StoreError> {
        let mut tx = self.write().await?;
        let added = alerts::route_alert(&mut tx, alert_id, channels, now).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn route_alert_with_holds(
        &self,
        alert_id: AlertId,
        routes: &[(String, Option<Millis>)],
        now: Millis,
    ) -> Result<usize, StoreError> {
        let mut tx = self.write().await?;
        let added = alert_holds::route_alert_with_holds(&mut tx, alert_id, routes, now).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn held_deliveries_due(
        &self,
        now: Millis,
        limit: usize,
    ) -> Result<Vec<crate::store::HeldDelivery>, StoreError> {
        alert_holds::held_deliveries_due(&self.pool, now, limit).await
    }

    async fn commit_digest(
        &self,
        channel: &str,
        digest: &crate::alerts::AlertPayload,
        held_ids: &[DeliveryId],
        now: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let added = alert_holds::commit_digest(&mut tx, channel, digest, held_ids, now).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn recent_alerts(
        &self,
        kind: &str,
        brand: &BrandId,
        limit: usize,
    ) -> Result<Vec<crate::alerts::AlertPayload>, StoreError> {
        alert_holds::recent_alerts(&self.pool, kind, brand, limit).await
    }

    async fn unanswered_tasks_due(&self, due_before: Millis) -> Result<Vec<SlaTask>, StoreError> {
        alerts::unanswered_tasks_due(&self.pool, due_before).await
    }
}
