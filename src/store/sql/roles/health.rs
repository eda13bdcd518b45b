//! `SqlStore` as the `HealthStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::SourceId;
use crate::store::HealthStore;
use crate::store::{Counts, QuarantineRow, SourceHealth, StoreError};

use super::super::{SqlStore, queue};

#[async_trait]
impl HealthStore for SqlStore {
    async fn source_health(&self) -> Result<Vec<SourceHealth>, StoreError> {
        queue::source_health(&self.pool).await
    }

    async fn quarantined(&self, source: Option<&SourceId>, limit: usize) -> Result<Vec<QuarantineRow>, StoreError> {
        queue::quarantined(&self.pool, source, limit).await
    }

    async fn counts(&self) -> Result<Counts, StoreError> {
        queue::counts(&self.pool).await
    }
}
