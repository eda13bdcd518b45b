//! Scoring: claiming unassessed mentions, sentiments, author histories, assessments with their
//! task and alert.

use async_trait::async_trait;

use crate::domain::{BrandId, MentionId, Millis, Platform, PostId};
use crate::store::{AssessmentOutcome, AuthorHistory, AuthorKey, Claim, NewAssessment, PendingMention, StoreError};

#[async_trait]
pub trait ScoringStore: Send + Sync {
    /// Claims up to `limit` mentions not yet assessed (oldest first) for `claim.holder` until
    /// `claim.now + claim.ttl_ms`, and returns them with their post and any stored sentiment.
    /// Mentions claimed by another holder whose claim has not expired are skipped (on
    /// PostgreSQL without waiting: `FOR UPDATE SKIP LOCKED`), so several instances share the
    /// work and a killed instance's claims are taken over when they expire. On SQLite (one
    /// instance per file) claims are recorded but not enforced. With `after`, only mentions
    /// with a greater id are claimed: the caller still holds the ones up to it in flight.
    async fn claim_pending_mentions(
        &self,
        claim: &Claim<'_>,
        after: Option<MentionId>,
        limit: usize,
    ) -> Result<Vec<PendingMention>, StoreError>;

    /// Stores sentiments for posts; a post that already has one keeps it.
    async fn save_sentiments(
        &self,
        sentiments: &[(PostId, crate::domain::SentimentOutcome)],
        at: Millis,
    ) -> Result<(), StoreError>;

    /// How many of the author's mentions of the brand since `since` were negative, and how
    /// many were flagged.
    async fn author_history(
        &self,
        brand: &BrandId,
        platform: Platform,
        author: &str,
        since: Millis,
    ) -> Result<AuthorHistory, StoreError>;

    /// [`ScoringStore::author_history`] for many authors at once (a chunk's), in one query per
    /// brand and platform; authors without assessed mentions since `since` are absent.
    async fn author_histories(
        &self,
        keys: &[AuthorKey],
        since: Millis,
    ) -> Result<std::collections::HashMap<AuthorKey, AuthorHistory>, StoreError>;

    /// [`ScoringStore::save_assessment`] for a chunk, in one transaction: the outcomes in the order
    /// of `assessments`, each as if saved alone in that order. All or nothing on a crash.
    async fn save_assessments(&self, assessments: Vec<NewAssessment>) -> Result<Vec<AssessmentOutcome>, StoreError>;

    /// Stores an assessment and, in the same transaction, opens or joins a task and enqueues
    /// the alert the plan asks for. A mention assessed before is left as it is.
    async fn save_assessment(&self, assessment: NewAssessment) -> Result<AssessmentOutcome, StoreError>;
}
