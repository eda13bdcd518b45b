//! `SqlStore` as the `ReviewStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::{BrandId, Millis};
use crate::store::ReviewStore;
use crate::store::StoreError;
use crate::store::{LabelledExample, ReviewedItem};

use super::super::{SqlStore, mentions, queue_actions};

#[async_trait]
impl ReviewStore for SqlStore {
    async fn labelled_examples(&self) -> Result<Vec<LabelledExample>, StoreError> {
        queue_actions::labelled_examples(&self.pool).await
    }

    async fn threshold_evidence(&self, brand: &BrandId) -> Result<Vec<ReviewedItem>, StoreError> {
        mentions::threshold_evidence(&self.pool, brand).await
    }

    async fn record_follow_ups(&self, now: Millis, resolved_since: Millis) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let n = queue_actions::record_follow_ups(&mut tx, now, resolved_since).await?;
        tx.commit().await?;
        Ok(n)
    }
}
