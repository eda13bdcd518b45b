//! The retention job: posts past `[privacy] retain_days` are deleted every night, a chunk
//! per transaction, unless a task holds them (the store decides what goes with them).
//!
//! Idempotent and safe on several instances at once: each chunk is one transaction over rows
//! that still qualify, so a second instance finds less or nothing.

use std::sync::Arc;

use futures::FutureExt;

use super::cron::CronTask;
use crate::config::Settings;
use crate::domain::{Millis, now_millis};
use crate::store::{PrivacyStore, Store, StoreError};

const RETENTION_JOB: &str = "retention";
/// Every night at 03:30 UTC.
const RETENTION_SCHEDULE: &str = "0 30 3 * * *";
/// Posts deleted per transaction.
const CHUNK: usize = 1_000;
const DAY_MS: Millis = 24 * 3600 * 1000;

/// Deletes every post first seen more than `retain_days` before `now` that no task holds;
/// returns how many.
pub async fn apply_retention(store: &dyn PrivacyStore, retain_days: u32, now: Millis) -> Result<u64, StoreError> {
    let before = now - Millis::from(retain_days) * DAY_MS;
    let mut total = 0;
    loop {
        let n = store.expire_posts(before, CHUNK, now).await?;
        total += n;
        if n < CHUNK as u64 {
            return Ok(total);
        }
    }
}

/// The nightly job, when `[privacy] retain_days` is set.
pub fn retention_job(settings: &Settings, store: Arc<dyn Store>) -> Option<CronTask> {
    let retain_days = settings.privacy.retain_days?;
    Some(CronTask {
        name: RETENTION_JOB.into(),
        schedule: RETENTION_SCHEDULE.into(),
        timezone: chrono_tz::UTC,
        run: Arc::new(move || {
            let store = store.clone();
            async move {
                match apply_retention(store.as_ref(), retain_days, now_millis()).await {
                    Ok(0) => {}
                    Ok(n_deleted) => tracing::info!(n_deleted, retain_days, "Retention: old posts deleted."),
                    Err(error) => {
                        tracing::error!(error = %crate::telemetry::error_chain(&error), "Retention failed.");
                    }
                }
            }
            .boxed()
        }),
    })
}
