//! The follow-up job: after a task is resolved, the author's next post to the brand tells
//! whether the customer recovered. `record_follow_ups` is the plain job body; the scheduler
//! runs it through the `CronTask` from `follow_up_job`, and `/api/follow-ups/record` runs it
//! on demand.
//!
//! Each task is recorded once (the store only fills an empty record), so the job may run on
//! several instances, overlap with itself, or be re-run after a crash without doubling.

use std::sync::Arc;

use futures::FutureExt;

use super::cron::CronTask;
use crate::domain::{Millis, now_millis};
use crate::store::{ReviewStore, Store, StoreError};

/// When the job runs: every ten minutes, at second 30 (cron with seconds, UTC).
pub const FOLLOW_UP_SCHEDULE: &str = "30 */10 * * * *";
/// The job's name in logs.
pub const FOLLOW_UP_JOB: &str = "follow-ups";
/// How long after resolution the author's next post still counts as the follow-up.
pub const FOLLOW_UP_LOOKBACK_MS: i64 = 30 * 24 * 3600 * 1000;

/// Records the next post of authors of tasks resolved within the lookback; returns how
/// many tasks got their record now.
pub async fn record_follow_ups(store: &dyn ReviewStore, now: Millis) -> Result<u64, StoreError> {
    store
        .record_follow_ups(now, now.saturating_sub(FOLLOW_UP_LOOKBACK_MS))
        .await
}

/// The scheduled follow-up job.
pub fn follow_up_job(store: Arc<dyn Store>) -> CronTask {
    CronTask {
        name: FOLLOW_UP_JOB.into(),
        schedule: FOLLOW_UP_SCHEDULE.into(),
        timezone: chrono_tz::UTC,
        run: Arc::new(move || {
            let store = store.clone();
            async move {
                match record_follow_ups(store.as_ref(), now_millis()).await {
                    Ok(0) => {}
                    Ok(n_recorded) => tracing::info!(n_recorded, "Follow-ups recorded."),
                    Err(error) => {
                        tracing::error!(error = %crate::telemetry::error_chain(&error), "Recording follow-ups failed.");
                    }
                }
            }
            .boxed()
        }),
    }
}
