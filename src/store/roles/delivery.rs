//! Alert deliveries: claimed, sent, retried or given up, earlier messages for edits and
//! threads, channel state.

use async_trait::async_trait;

use crate::domain::{DeliveryId, Millis, TaskId};
use crate::store::{ChannelState, DueDelivery, SentRef, StoreError};

#[async_trait]
pub trait DeliveryStore: Send + Sync {
    /// Pending deliveries due at `now` on channels not disabled, oldest first, leased until
    /// `lease_until` (a crash mid-send makes them due again then).
    async fn claim_deliveries(
        &self,
        now: Millis,
        lease_until: Millis,
        limit: usize,
    ) -> Result<Vec<DueDelivery>, StoreError>;

    /// Records a delivery as sent, with where the platform put it.
    async fn mark_delivery_sent(&self, delivery_id: DeliveryId, sent: &SentRef, at: Millis) -> Result<(), StoreError>;

    /// Makes a delivery due again at `at`; with an error, the attempt counts and the error is kept.
    async fn reschedule_delivery(
        &self,
        delivery_id: DeliveryId,
        at: Millis,
        error: Option<&str>,
    ) -> Result<(), StoreError>;

    /// Gives up on a delivery.
    async fn mark_delivery_dead(&self, delivery_id: DeliveryId, error: &str) -> Result<(), StoreError>;

    /// When the first message about `task_id` was sent to `channel` (by a delivery other
    /// than `except`), if one was.
    async fn first_sent_about_task(
        &self,
        task_id: TaskId,
        channel: &str,
        except: DeliveryId,
    ) -> Result<Option<Millis>, StoreError>;

    /// Turns a channel off after a permanent failure; its deliveries wait until it is enabled.
    async fn disable_channel(&self, name: &str, reason: &str, at: Millis) -> Result<(), StoreError>;

    /// Turns a disabled channel back on.
    async fn enable_channel(&self, name: &str) -> Result<(), StoreError>;

    /// Delivery state of the named channels.
    async fn channel_states(&self, names: &[String]) -> Result<Vec<ChannelState>, StoreError>;
}
