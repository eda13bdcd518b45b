//! `SqlStore` as the `PrivacyStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::{Millis, Platform};
use crate::store::PrivacyStore;
use crate::store::StoreError;

use super::super::{SqlStore, privacy};

#[async_trait]
impl PrivacyStore for SqlStore {
    async fn erase_author(
        &self,
        platform: Platform,
        handle: &str,
        actor: &str,
        at: Millis,
    ) -> Result<crate::store::Erasure, StoreError> {
        let mut tx = self.write().await?;
        let erasure = privacy::erase_author(&mut tx, platform.as_str(), handle, actor, at).await?;
        tx.commit().await?;
        Ok(erasure)
    }

    async fn expire_posts(&self, before: Millis, limit: usize, at: Millis) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let n_expired = privacy::expire_posts(&mut tx, before, limit, at).await?;
        tx.commit().await?;
        Ok(n_expired)
    }
}
