//! `SqlStore` as the `EngagementStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::{Millis, PostId};
use crate::store::EngagementStore;
use crate::store::StoreError;

use super::super::{SqlStore, engagement};

#[async_trait]
impl EngagementStore for SqlStore {
    async fn engagement_targets(
        &self,
        written_since: Millis,
        limit: usize,
    ) -> Result<Vec<crate::store::EngagementTarget>, StoreError> {
        engagement::targets(&self.pool, written_since, limit).await
    }

    async fn record_engagement(
        &self,
        checked: &[PostId],
        readings: &[(PostId, crate::domain::Engagement)],
        at: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        engagement::record(&mut tx, checked, readings, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn engagement_history(
        &self,
        post_ids: &[PostId],
        since: Millis,
    ) -> Result<Vec<(PostId, crate::domain::EngagementSample)>, StoreError> {
        engagement::history(&self.pool, post_ids, since).await
    }

    async fn erase_deleted_post(&self, post_id: PostId, at: Millis) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let erased = engagement::erase_deleted_post(&mut tx, post_id, at).await?;
        tx.commit().await?;
        Ok(erased)
    }

    async fn escalate_viral(&self, escalation: &crate::store::ViralEscalation) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let escalated = engagement::escalate_viral(&mut tx, escalation).await?;
        tx.commit().await?;
        Ok(escalated)
    }
}
