//! What the spike job reads: negative mentions per bucket, their posts, when a brand was first
//! mentioned.

use async_trait::async_trait;

use crate::domain::{BrandId, Millis};
use crate::store::{NegativePost, StoreError};

#[async_trait]
pub trait SpikeStore: Send + Sync {
    /// Negative mentions of `brand` per bucket of `bucket_ms` (keyed by bucket start), for
    /// posts written in `[start, end)`; buckets without any are left out.
    async fn negative_counts(
        &self,
        brand: &BrandId,
        start: Millis,
        end: Millis,
        bucket_ms: Millis,
    ) -> Result<Vec<(Millis, i64)>, StoreError>;

    /// Up to `limit` negative mentions of `brand` written in `[start, end)`, newest first.
    async fn negative_posts(
        &self,
        brand: &BrandId,
        start: Millis,
        end: Millis,
        limit: usize,
    ) -> Result<Vec<NegativePost>, StoreError>;

    /// When the oldest post that mentions `brand` was written.
    async fn first_mention_post_at(&self, brand: &BrandId) -> Result<Option<Millis>, StoreError>;
}
