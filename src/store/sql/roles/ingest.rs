//! `SqlStore` as the `IngestStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::{Cursor, SourceId};
use crate::store::IngestStore;
use crate::store::{CommitOutcome, PollCommit, PollFailure, StoreError};

use super::super::{SqlStore, ingest};

#[async_trait]
impl IngestStore for SqlStore {
    async fn cursor(&self, source: &SourceId) -> Result<Option<Cursor>, StoreError> {
        ingest::cursor(&self.pool, source).await
    }

    async fn commit_poll(&self, commit: PollCommit<'_>) -> Result<CommitOutcome, StoreError> {
        let mut tx = self.write().await?;
        let outcome = ingest::commit_poll(&mut tx, &commit).await?;
        fail::fail_point!("store::before_commit_poll", |_| Err(StoreError::Conflict(
            "fail point".into()
        )));
        tx.commit().await?;
        Ok(outcome)
    }

    async fn record_poll_failure(&self, failure: PollFailure<'_>) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        ingest::record_poll_failure(&mut tx, &failure).await?;
        tx.commit().await?;
        Ok(())
    }
}
