//! `SqlStore` as the `SpikeStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::{BrandId, Millis};
use crate::store::SpikeStore;
use crate::store::StoreError;

use super::super::{SqlStore, alert_holds};

#[async_trait]
impl SpikeStore for SqlStore {
    async fn negative_counts(
        &self,
        brand: &BrandId,
        start: Millis,
        end: Millis,
        bucket_ms: Millis,
    ) -> Result<Vec<(Millis, i64)>, StoreError> {
        alert_holds::negative_counts(&self.pool, brand, start, end, bucket_ms).await
    }

    async fn negative_posts(
        &self,
        brand: &BrandId,
        start: Millis,
        end: Millis,
        limit: usize,
    ) -> Result<Vec<crate::store::NegativePost>, StoreError> {
        alert_holds::negative_posts(&self.pool, brand, start, end, limit).await
    }

    async fn first_mention_post_at(&self, brand: &BrandId) -> Result<Option<Millis>, StoreError> {
        alert_holds::first_mention_post_at(&self.pool, brand).await
    }
}
