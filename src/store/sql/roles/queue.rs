//! `SqlStore` as the `QueueStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::{Millis, PostId, TaskId};
use crate::store::QueueStore;
use crate::store::TaskChange;
use crate::store::{StoreError, TaskDetail, TaskFilter, TaskRow};

use super::super::{SqlStore, queue, queue_actions};

#[async_trait]
impl QueueStore for SqlStore {
    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskRow>, StoreError> {
        queue::list_tasks(&self.pool, filter).await
    }

    async fn count_tasks(&self, filter: &TaskFilter) -> Result<i64, StoreError> {
        queue::count_tasks(&self.pool, filter).await
    }

    async fn task_detail(&self, task_id: TaskId) -> Result<TaskDetail, StoreError> {
        queue::task_detail(&self.pool, task_id).await
    }

    async fn queue_version(&self) -> Result<(Millis, i64), StoreError> {
        queue_actions::queue_version(&self.pool).await
    }

    async fn apply_task_change(&self, change: TaskChange) -> Result<TaskRow, StoreError> {
        let mut tx = self.write().await?;
        let row = queue_actions::apply_task_change(&mut tx, &change).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn relabel_post(
        &self,
        task_id: TaskId,
        post_id: PostId,
        label: &str,
        reviewer: &str,
        at: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        queue_actions::relabel_post(&mut tx, task_id, post_id, label, reviewer, at).await?;
        tx.commit().await?;
        Ok(())
    }
}
