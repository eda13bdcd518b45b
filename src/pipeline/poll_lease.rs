//! One poll per trigger across instances: the source's poll lease is taken before the poll,
//! renewed while it runs, and afterwards held a little longer instead of released, so an
//! instance whose clock or scheduler fires a few seconds later finds it taken and does not
//! poll the same trigger again. After a failure the lease is held for the whole wait (a 429's
//! reset time, or the backoff), so no instance polls a rate-limited source before its reset,
//! even if this one restarts meanwhile.

use std::time::Duration;

use super::{Pipeline, PipelineError, PollReport};
use crate::domain::{duration_millis, now_millis, secs_to_millis};
use crate::sources::{Source, SourceError};
use crate::telemetry::error_chain;

/// How far apart the instances' triggers for one cron time may fire and still count as one
/// (at most the poll lease itself).
pub const TRIGGER_SKEW: Duration = Duration::from_secs(30);
/// Backoff after a failed poll that gave no reset time, doubled per failure up to the cap.
pub const BACKOFF_BASE: Duration = Duration::from_secs(30);
pub const BACKOFF_CAP: Duration = Duration::from_secs(30 * 60);

/// What one trigger did on this instance.
#[derive(Debug)]
pub enum TriggerOutcome {
    /// Another instance holds the poll lease (it polled this trigger or is waiting out a
    /// rate limit), or the lease could not be read.
    Skipped,
    /// This instance polled; after a failure, `wait` is how long before the next attempt.
    Polled {
        result: Result<PollReport, PipelineError>,
        wait: Option<Duration>,
    },
}

/// Polls `source` once if this instance gets its lease; `n_failures` is how many polls in a
/// row failed before this one (for the backoff).
pub async fn poll_once_per_trigger(pipeline: &Pipeline, source: &dyn Source, n_failures: u32) -> TriggerOutcome {
    let lease = format!("poll:{}", source.id());
    let store = pipeline.store();
    let lease_ms = secs_to_millis(pipeline.settings().instances.poll_lease_secs);
    match store
        .try_acquire_lease(&lease, pipeline.instance_id(), now_millis(), lease_ms)
        .await
    {
        Ok(true) => {}
        Ok(false) => {
            tracing::debug!(source = %source.id(), "Another instance holds the poll lease.");
            return TriggerOutcome::Skipped;
        }
        Err(error) => {
            tracing::warn!(source = %source.id(), error = %error_chain(&error), "Could not take the poll lease.");
            return TriggerOutcome::Skipped;
        }
    }
    // Not raced against shutdown: a poll that started finishes and commits. The lease is
    // renewed beside it, so a long poll keeps it and only a dead holder's lease lapses.
    let result = {
        let poll = pipeline.poll_source(source);
        tokio::pin!(poll);
        let renew_every = Duration::from_millis(u64::try_from(lease_ms / 3).unwrap_or(1).max(1));
        loop {
            tokio::select! {
                polled = &mut poll => break polled,
                _ = tokio::time::sleep(renew_every) => {
                    match store.try_acquire_lease(&lease, pipeline.instance_id(), now_millis(), lease_ms).await {
                        Ok(true) => {}
                        Ok(false) => tracing::warn!(source = %source.id(), "The poll lease was taken over during a poll."),
                        Err(error) => tracing::warn!(source = %source.id(), error = %error_chain(&error), "Could not renew the poll lease."),
                    }
                }
            }
        }
    };
    let wait = result.as_ref().err().map(|error| match error {
        PipelineError::Source {
            error: SourceError::RateLimited {
                retry_after: Some(wait),
            },
            ..
        } => *wait,
        _ => BACKOFF_BASE
            .saturating_mul(2u32.saturating_pow(n_failures))
            .min(BACKOFF_CAP),
    });
    let skew_ms = duration_millis(TRIGGER_SKEW).min(lease_ms);
    let hold_ms = wait.map_or(skew_ms, |wait| duration_millis(wait).max(skew_ms));
    if let Err(error) = store
        .try_acquire_lease(&lease, pipeline.instance_id(), now_millis(), hold_ms)
        .await
    {
        tracing::warn!(source = %source.id(), error = %error_chain(&error), "Could not hold the poll lease after the poll.");
    }
    TriggerOutcome::Polled { result, wait }
}
