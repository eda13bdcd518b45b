//! The review queue: tasks listed, counted and opened, changed by agents, relabelled.

use async_trait::async_trait;

use crate::domain::{Millis, PostId, TaskId};
use crate::store::{StoreError, TaskChange, TaskDetail, TaskFilter, TaskRow};

#[async_trait]
pub trait QueueStore: Send + Sync {
    /// One page of the tasks `filter` selects (its `limit` and `offset`), most urgent first.
    async fn list_tasks(&self, filter: &TaskFilter) -> Result<Vec<TaskRow>, StoreError>;

    /// How many tasks `filter` selects in all, ignoring its `limit` and `offset`.
    async fn count_tasks(&self, filter: &TaskFilter) -> Result<i64, StoreError>;

    async fn task_detail(&self, task_id: TaskId) -> Result<TaskDetail, StoreError>;

    /// The latest task change time and the task count: cheap "did anything change?".
    async fn queue_version(&self) -> Result<(Millis, i64), StoreError>;

    /// Applies a task change, its event and its label in one transaction, if the task was
    /// not changed since `expected_updated_at_ms`; returns the task as it is now.
    async fn apply_task_change(&self, change: TaskChange) -> Result<TaskRow, StoreError>;

    /// Stores a label for one post of a task, with an event, in one transaction.
    async fn relabel_post(
        &self,
        task_id: TaskId,
        post_id: PostId,
        label: &str,
        reviewer: &str,
        at: Millis,
    ) -> Result<(), StoreError>;
}
