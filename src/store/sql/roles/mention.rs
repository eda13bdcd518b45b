//! `SqlStore` as the `MentionStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::store::MentionStore;
use crate::store::StoreError;
use crate::store::{MentionDetail, MentionFilter, MentionPage, MentionTaskOutcome, MentionTaskRequest};

use super::super::{SqlStore, mentions};
use crate::domain::MentionId;

#[async_trait]
impl MentionStore for SqlStore {
    async fn list_mentions(&self, filter: &MentionFilter) -> Result<MentionPage, StoreError> {
        mentions::list_mentions(&self.pool, filter).await
    }

    async fn mention_detail(&self, mention_id: MentionId) -> Result<MentionDetail, StoreError> {
        mentions::mention_detail(&self.pool, mention_id).await
    }

    async fn open_task_from_mention(&self, request: MentionTaskRequest) -> Result<MentionTaskOutcome, StoreError> {
        let mut tx = self.write().await?;
        let outcome = mentions::open_task_from_mention(&mut tx, self.backend, request).await?;
        tx.commit().await?;
        Ok(outcome)
    }
}
