//! The engagement refresh: active tasks' posts to re-read, their readings, posts gone on their
//! platform, viral escalation.

use async_trait::async_trait;

use crate::domain::{Engagement, EngagementSample, Millis, PostId};
use crate::store::{EngagementTarget, StoreError, ViralEscalation};

#[async_trait]
pub trait EngagementStore: Send + Sync {
    /// Up to `limit` posts of active tasks (open, assigned, responded) written at or after
    /// `written_since` and not gone from their platform, the least recently re-read first,
    /// each with its task and the source that found it (one row per post and task).
    async fn engagement_targets(
        &self,
        written_since: Millis,
        limit: usize,
    ) -> Result<Vec<EngagementTarget>, StoreError>;

    /// Records a refresh at `at`: every post in `checked` was asked for; `readings` are the
    /// counts the platform gave. A post's first reading is preceded in its history by the
    /// counts stored at ingest (at its `first_seen_at_ms`); the post's counts become the new
    /// ones. One transaction.
    async fn record_engagement(
        &self,
        checked: &[PostId],
        readings: &[(PostId, Engagement)],
        at: Millis,
    ) -> Result<(), StoreError>;

    /// The engagement readings of `post_ids` at or after `since`, oldest first, per post id.
    async fn engagement_history(
        &self,
        post_ids: &[PostId],
        since: Millis,
    ) -> Result<Vec<(PostId, EngagementSample)>, StoreError>;

    /// The platform says the post was deleted: blanks its text, author (to `UNKNOWN_AUTHOR`),
    /// name, followers, link and quoted text, keeping its row, counts and scores (so a
    /// re-poll cannot bring it back) and its readings, deletes reviewers' examples of it,
    /// blanks the alerts that quote it, marks it gone (not re-read again) and logs
    /// `deleted_on_platform` in `privacy_log`. False if it was already gone.
    async fn erase_deleted_post(&self, post_id: PostId, at: Millis) -> Result<bool, StoreError>;

    /// In one transaction, if the task was never escalated as viral: marks it, sets its
    /// criticality and priority, adds the factor to the mention's assessment, records a
    /// `viral` event and enqueues the alert. False (and nothing changes) if it was already.
    async fn escalate_viral(&self, escalation: &ViralEscalation) -> Result<bool, StoreError>;
}
