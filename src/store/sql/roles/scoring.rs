//! `SqlStore` as the `ScoringStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::{BrandId, MentionId, Millis, Platform, PostId, SentimentOutcome};
use crate::store::ScoringStore;
use crate::store::{AssessmentOutcome, AuthorHistory, Claim, NewAssessment, PendingMention, StoreError};

use super::super::{SqlStore, scoring};

#[async_trait]
impl ScoringStore for SqlStore {
    async fn claim_pending_mentions(
        &self,
        claim: &Claim<'_>,
        after: Option<MentionId>,
        limit: usize,
    ) -> Result<Vec<PendingMention>, StoreError> {
        let mut tx = self.write().await?;
        let claimed = scoring::claim_pending_mentions(&mut tx, self.backend, claim, after, limit).await?;
        tx.commit().await?;
        Ok(claimed)
    }

    async fn save_sentiments(&self, sentiments: &[(PostId, SentimentOutcome)], at: Millis) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        scoring::save_sentiments(&mut tx, sentiments, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn author_history(
        &self,
        brand: &BrandId,
        platform: Platform,
        author: &str,
        since: Millis,
    ) -> Result<AuthorHistory, StoreError> {
        scoring::author_history(&self.pool, brand, platform, author, since).await
    }

    async fn author_histories(
        &self,
        keys: &[crate::store::AuthorKey],
        since: Millis,
    ) -> Result<std::collections::HashMap<crate::store::AuthorKey, AuthorHistory>, StoreError> {
        scoring::author_histories(&self.pool, keys, since).await
    }

    async fn save_assessments(&self, assessments: Vec<NewAssessment>) -> Result<Vec<AssessmentOutcome>, StoreError> {
        let mut tx = self.write().await?;
        // PostgreSQL: take every conversation lock of the chunk first, in one order that every
        // instance uses, so two instances' chunks never wait on each other in a cycle; then
        // save in the chunk's order (taking a held lock again is free).
        let mut conversations: Vec<(&BrandId, &crate::store::TaskPlan)> = assessments
            .iter()
            .filter_map(|a| a.task.as_ref().map(|plan| (&a.brand, plan)))
            .collect();
        conversations.sort_by(|a, b| {
            (a.0.as_str(), a.1.platform.as_str(), &a.1.author_handle).cmp(&(
                b.0.as_str(),
                b.1.platform.as_str(),
                &b.1.author_handle,
            ))
        });
        for (brand, plan) in conversations {
            scoring::lock_conversation(&mut tx, self.backend, brand.as_str(), plan).await?;
        }
        let outcomes = scoring::save_assessments(&mut tx, self.backend, assessments).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    async fn save_assessment(&self, assessment: NewAssessment) -> Result<AssessmentOutcome, StoreError> {
        let mut tx = self.write().await?;
        let outcome = scoring::save_assessments(&mut tx, self.backend, vec![assessment])
            .await?
            .pop()
            .ok_or_else(|| StoreError::Corrupt("an assessment had no outcome".into()))?;
        tx.commit().await?;
        Ok(outcome)
    }
}
