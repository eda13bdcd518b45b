//! What operators look at: source health, quarantined input, row counts.

use async_trait::async_trait;

use crate::domain::SourceId;
use crate::store::{Counts, QuarantineRow, SourceHealth, StoreError};

#[async_trait]
pub trait HealthStore: Send + Sync {
    async fn source_health(&self) -> Result<Vec<SourceHealth>, StoreError>;

    async fn quarantined(&self, source: Option<&SourceId>, limit: usize) -> Result<Vec<QuarantineRow>, StoreError>;

    async fn counts(&self) -> Result<Counts, StoreError>;
}
