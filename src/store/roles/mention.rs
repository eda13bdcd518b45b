//! The mentions sweep: every mention, flagged or not, and opening a task from one.

use async_trait::async_trait;

use crate::domain::MentionId;
use crate::store::{MentionDetail, MentionFilter, MentionPage, MentionTaskOutcome, MentionTaskRequest, StoreError};

#[async_trait]
pub trait MentionStore: Send + Sync {
    /// One page of mentions matching the filter, with how many match in all.
    async fn list_mentions(&self, filter: &MentionFilter) -> Result<MentionPage, StoreError>;

    /// One mention with its post; `NotFound` if there is none.
    async fn mention_detail(&self, mention_id: MentionId) -> Result<MentionDetail, StoreError>;

    /// "This needed an answer": in one transaction, joins the conversation's active task or
    /// opens one (with its event naming the reviewer and the new-task alert), links the
    /// mention to it, and records a missed-complaint example. A mention that has a task
    /// already gets `Existing` and nothing changes, so repeating the request is harmless;
    /// `Conflict` if the mention is not assessed yet.
    async fn open_task_from_mention(&self, request: MentionTaskRequest) -> Result<MentionTaskOutcome, StoreError>;
}
