//! Personal data on request and by age: one author's erasure, retention.

use async_trait::async_trait;

use crate::domain::{Millis, Platform};
use crate::store::{Erasure, StoreError};

#[async_trait]
pub trait PrivacyStore: Send + Sync {
    /// Erases what identifies one author on one platform (handle matched case-insensitively):
    /// their posts' text, handle, name, followers and links; their tasks' author, event texts
    /// and alert texts; reviewers' examples from their posts. Counts, scores and times stay.
    /// Logged in `privacy_log` with the handle's sha256, never the handle.
    async fn erase_author(
        &self,
        platform: Platform,
        handle: &str,
        actor: &str,
        at: Millis,
    ) -> Result<Erasure, StoreError>;

    /// Deletes up to `limit` posts first seen before `before` that no task holds, with their
    /// mention, score, assessment and examples, and quarantined input received before then;
    /// returns how many posts went. Call until it returns fewer than `limit`.
    async fn expire_posts(&self, before: Millis, limit: usize, at: Millis) -> Result<u64, StoreError>;
}
