//! `SqlStore` as the `DeliveryStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::{DeliveryId, Millis, TaskId};
use crate::store::DeliveryStore;
use crate::store::{ChannelState, DueDelivery, SentRef, StoreError};

use super::super::{SqlStore, alert_holds, alerts};

#[async_trait]
impl DeliveryStore for SqlStore {
    async fn claim_deliveries(
        &self,
        now: Millis,
        lease_until: Millis,
        limit: usize,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let mut tx = self.write().await?;
        let claimed = alerts::claim_deliveries(&mut tx, self.backend, now, lease_until, limit).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn mark_delivery_sent(&self, delivery_id: DeliveryId, sent: &SentRef, at: Millis) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        alerts::mark_sent(&mut tx, delivery_id, sent, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reschedule_delivery(
        &self,
        delivery_id: DeliveryId,
        at: Millis,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        alerts::reschedule(&mut tx, delivery_id, at, error).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn mark_delivery_dead(&self, delivery_id: DeliveryId, error: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        alerts::mark_dead(&mut tx, delivery_id, error).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn first_sent_about_task(
        &self,
        task_id: TaskId,
        channel: &str,
        except: DeliveryId,
    ) -> Result<Option<Millis>, StoreError> {
        alert_holds::first_sent_about_task(&self.pool, task_id, channel, except).await
    }

    async fn disable_channel(&self, name: &str, reason: &str, at: Millis) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        alerts::disable_channel(&mut tx, name, reason, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn enable_channel(&self, name: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        alerts::enable_channel(&mut tx, name).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn channel_states(&self, names: &[String]) -> Result<Vec<ChannelState>, StoreError> {
        alerts::channel_states(&self.pool, names).await
    }
}
