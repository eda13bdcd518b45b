//! Ingest: where a source stopped, a poll's posts and cursor in one transaction, poll failures.

use async_trait::async_trait;

use crate::domain::{Cursor, SourceId};
use crate::store::{CommitOutcome, PollCommit, PollFailure, StoreError};

#[async_trait]
pub trait IngestStore: Send + Sync {
    /// Where the source stopped.
    async fn cursor(&self, source: &SourceId) -> Result<Option<Cursor>, StoreError>;

    /// Stores a poll's posts, quarantined items and new cursor in one transaction, and
    /// records the poll in the source's health. Posts already stored are not stored again.
    async fn commit_poll(&self, commit: PollCommit<'_>) -> Result<CommitOutcome, StoreError>;

    /// Records a failed poll in the source's health (the cursor is untouched); `raw` goes to
    /// quarantine when the failure was a malformed response.
    async fn record_poll_failure(&self, failure: PollFailure<'_>) -> Result<(), StoreError>;
}
