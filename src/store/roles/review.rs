//! What reviews and outcomes teach: labelled examples, a brand's threshold evidence, follow-ups
//! after resolution.

use async_trait::async_trait;

use crate::domain::{BrandId, Millis};
use crate::store::{LabelledExample, ReviewedItem, StoreError};

#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Every labelled post once, with the latest sentiment and complaint labels reviewers
    /// gave it, in the order of its latest label.
    async fn labelled_examples(&self) -> Result<Vec<LabelledExample>, StoreError>;

    /// The brand's evidence for its threshold: flagged tasks once reviewed (responded or
    /// resolved: complaints; dismissed as false positive: not), and mentions below the
    /// threshold a reviewer opened a task from (missed complaints), each with its criticality.
    async fn threshold_evidence(&self, brand: &BrandId) -> Result<Vec<ReviewedItem>, StoreError>;

    /// For tasks resolved at or after `resolved_since` without one yet: records the author's
    /// next scored post to the brand after resolution, its sentiment, and `recovered` (that
    /// post is not negative), with a `follow_up_recorded` event at `now`. Each task is
    /// recorded once, even by concurrent callers. Returns how many tasks were updated.
    async fn record_follow_ups(&self, now: Millis, resolved_since: Millis) -> Result<u64, StoreError>;
}
