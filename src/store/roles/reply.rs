//! Replies sent from earshot: the reply outbox (queued, claimed, attempted, sent or failed),
//! reply accounts' tokens and health.

use async_trait::async_trait;

use crate::domain::{Millis, PostId, ReplyId, TaskId};
use crate::store::{
    AccountEvent, AccountHealth, Claim, ClaimedReply, NewReply, ReplyFailure, ReplyRow, ReplySent, StoreError,
};

#[async_trait]
pub trait ReplyStore: Send + Sync {
    /// The post a reply to the task answers (its most recent post) and its id.
    async fn reply_target(&self, task_id: TaskId) -> Result<Option<(PostId, crate::replies::ReplyTarget)>, StoreError>;

    /// Writes the reply (and the claim of the task, if given) before anything is sent;
    /// `Conflict` when the task already has a reply waiting.
    async fn queue_reply(&self, reply: NewReply) -> Result<ReplyRow, StoreError>;

    async fn task_replies(&self, task_id: TaskId) -> Result<Vec<ReplyRow>, StoreError>;

    async fn reply(&self, reply_id: ReplyId) -> Result<ReplyRow, StoreError>;

    /// A failed reply queued again by `actor`.
    async fn retry_reply(&self, reply_id: ReplyId, actor: &str, now: Millis) -> Result<ReplyRow, StoreError>;

    /// Claims up to `limit` queued replies due at `claim.now` for `claim.ttl_ms`.
    async fn claim_replies(&self, claim: &Claim<'_>, limit: usize) -> Result<Vec<ClaimedReply>, StoreError>;

    /// Marks a send as starting (the row is in doubt until its outcome is recorded); false
    /// when the claim was lost.
    async fn begin_reply_attempt(&self, reply_id: ReplyId, holder: &str, now: Millis) -> Result<bool, StoreError>;

    /// Records the platform's acceptance and applies the task change in one transaction;
    /// false when the row was no longer this holder's. `Conflict` when the task changed
    /// meanwhile (nothing is written; decide again).
    async fn record_reply_sent(&self, sent: &ReplySent) -> Result<bool, StoreError>;

    async fn record_reply_failure(&self, failure: &ReplyFailure, task_id: TaskId) -> Result<(), StoreError>;

    async fn reply_token(&self, account: &str) -> Result<Option<crate::replies::StoredToken>, StoreError>;

    async fn save_reply_token(
        &self,
        account: &str,
        token: &crate::replies::StoredToken,
        now: Millis,
    ) -> Result<(), StoreError>;

    async fn record_account_event(&self, account: &str, event: &AccountEvent) -> Result<(), StoreError>;

    async fn account_health(&self) -> Result<Vec<AccountHealth>, StoreError>;
}
