//! `SqlStore` as the `ReplyStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::{Millis, PostId, ReplyId, TaskId};
use crate::store::ReplyStore;
use crate::store::{Claim, StoreError};

use super::super::{SqlStore, replies};

#[async_trait]
impl ReplyStore for SqlStore {
    async fn reply_target(&self, task_id: TaskId) -> Result<Option<(PostId, crate::replies::ReplyTarget)>, StoreError> {
        replies::reply_target(&self.pool, task_id).await
    }

    async fn queue_reply(&self, reply: crate::store::NewReply) -> Result<crate::store::ReplyRow, StoreError> {
        let mut tx = self.write().await?;
        let row = replies::queue_reply(&mut tx, &reply).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn task_replies(&self, task_id: TaskId) -> Result<Vec<crate::store::ReplyRow>, StoreError> {
        replies::task_replies(&self.pool, task_id).await
    }

    async fn reply(&self, reply_id: ReplyId) -> Result<crate::store::ReplyRow, StoreError> {
        replies::reply(&self.pool, reply_id).await
    }

    async fn retry_reply(
        &self,
        reply_id: ReplyId,
        actor: &str,
        now: Millis,
    ) -> Result<crate::store::ReplyRow, StoreError> {
        let mut tx = self.write().await?;
        let row = replies::retry_reply(&mut tx, reply_id, actor, now).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn claim_replies(
        &self,
        claim: &Claim<'_>,
        limit: usize,
    ) -> Result<Vec<crate::store::ClaimedReply>, StoreError> {
        let mut tx = self.write().await?;
        let claimed = replies::claim_replies(&mut tx, self.backend, claim, limit).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn begin_reply_attempt(&self, reply_id: ReplyId, holder: &str, now: Millis) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let started = replies::begin_reply_attempt(&mut tx, reply_id, holder, now).await?;
        tx.commit().await?;
        Ok(started)
    }

    async fn record_reply_sent(&self, sent: &crate::store::ReplySent) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let recorded = replies::record_reply_sent(&mut tx, sent).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    async fn record_reply_failure(
        &self,
        failure: &crate::store::ReplyFailure,
        task_id: TaskId,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        replies::record_reply_failure(&mut tx, failure, task_id).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reply_token(&self, account: &str) -> Result<Option<crate::replies::StoredToken>, StoreError> {
        replies::reply_token(&self.pool, account).await
    }

    async fn save_reply_token(
        &self,
        account: &str,
        token: &crate::replies::StoredToken,
        now: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        replies::save_reply_token(&mut tx, account, token, now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_account_event(&self, account: &str, event: &crate::store::AccountEvent) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        replies::record_account_event(&mut tx, account, event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn account_health(&self) -> Result<Vec<crate::store::AccountHealth>, StoreError> {
        replies::account_health(&self.pool).await
    }
}
