//! `SqlStore` as the `ProblemStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::{BrandId, MentionId, Millis, PostId, TaskId};
use crate::store::ProblemStore;
use crate::store::StoreError;

use super::super::{SqlStore, problems};

#[async_trait]
impl ProblemStore for SqlStore {
    async fn ungrouped_complaints(
        &self,
        model: &str,
        since: Millis,
        after_mention_id: MentionId,
        limit: usize,
    ) -> Result<Vec<crate::store::GroupCandidate>, StoreError> {
        problems::ungrouped(&self.pool, model, since, after_mention_id, limit).await
    }

    async fn save_embeddings(
        &self,
        model: &str,
        embeddings: &[(PostId, crate::domain::Embedding)],
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        problems::save_embeddings(&mut tx, model, embeddings).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn problem_centroids(
        &self,
        brand: &BrandId,
        seen_since: Millis,
    ) -> Result<Vec<crate::problems::grouping::Centroid>, StoreError> {
        problems::centroids(&self.pool, brand, seen_since).await
    }

    async fn problem_window(
        &self,
        brand: &BrandId,
        model: &str,
        since: Millis,
        limit: usize,
    ) -> Result<Vec<crate::store::WindowMember>, StoreError> {
        problems::window_members(&self.pool, brand, model, since, limit).await
    }

    async fn save_grouping(
        &self,
        grouping: &crate::store::Grouping,
    ) -> Result<crate::store::GroupingSaved, StoreError> {
        let mut tx = self.write().await?;
        let saved = problems::save_grouping(&mut tx, grouping, false).await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn save_reclustering(
        &self,
        grouping: &crate::store::Grouping,
    ) -> Result<crate::store::GroupingSaved, StoreError> {
        let mut tx = self.write().await?;
        let saved = problems::save_grouping(&mut tx, grouping, true).await?;
        tx.commit().await?;
        Ok(saved)
    }

    async fn set_problem_labels(&self, labels: &[(i64, String, Vec<String>)]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        problems::set_labels(&mut tx, labels).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn problem_growth_counts(
        &self,
        ids: &[i64],
        window_start: Millis,
        baseline_start: Millis,
    ) -> Result<Vec<(i64, i64, i64, Option<Millis>)>, StoreError> {
        problems::growth_counts(&self.pool, ids, window_start, baseline_start).await
    }

    async fn alert_problem_growing(
        &self,
        problem_id: i64,
        payload: &crate::alerts::AlertPayload,
        cooldown_since: Millis,
        at: Millis,
    ) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        let added = problems::alert_growing(&mut tx, problem_id, payload, cooldown_since, at).await?;
        tx.commit().await?;
        Ok(added)
    }

    async fn list_problems(
        &self,
        filter: &crate::store::ProblemFilter,
    ) -> Result<Vec<crate::store::ProblemRow>, StoreError> {
        problems::list(&self.pool, filter).await
    }

    async fn problem_detail(&self, id: i64, now: Millis) -> Result<crate::store::ProblemDetail, StoreError> {
        problems::detail(&self.pool, id, now).await
    }

    async fn update_problem(
        &self,
        change: &crate::store::ProblemChange,
    ) -> Result<crate::store::ProblemRow, StoreError> {
        let mut tx = self.write().await?;
        problems::update(&mut tx, change).await?;
        tx.commit().await?;
        problems::row(&self.pool, change.id, change.at).await
    }

    async fn task_problem(&self, task_id: TaskId) -> Result<Option<crate::store::TaskProblem>, StoreError> {
        problems::task_problem(&self.pool, task_id).await
    }
}
