//! The weekly export as scheduler jobs: `CronTask`s whose body is `Exporter::run_due`, on
//! the configured schedule and hourly as a catch-up.
//!
//! tokio-cron-scheduler fixes a job's UTC offset when the job is created, so across a DST
//! change the trigger may fire an hour early or late. That does not matter here: each
//! trigger (and the start-up run) exports whichever recent full weeks, in the configured
//! zone, have no scheduled run yet, so the hour the trigger fires never decides the week.

use std::sync::Arc;

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{ExportError, Exporter};
use crate::config::Settings;
use crate::domain::now_millis;
use crate::pipeline::cron::CronTask;
use crate::store::Store;

/// The cron task for the weekly export and the start-up catch-up to run once, or nothing
/// when exports are disabled.
pub fn weekly_export(
    settings: &Settings,
    store: Arc<dyn Store>,
) -> Result<(Vec<CronTask>, Option<BoxFuture<'static, ()>>), ExportError> {
    if !settings.exports.enabled {
        return Ok((Vec::new(), None));
    }
    let exporter =
        Arc::new(Exporter::new(store, &settings.exports)?.with_problem_min_complaints(settings.problems.min_members));
    let task = |name: &str, schedule: &str| {
        let exporter = exporter.clone();
        CronTask {
            name: name.into(),
            schedule: schedule.to_owned(),
            timezone: exporter.timezone(),
            run: Arc::new(move || run_due(exporter.clone()).boxed()),
        }
    };
    let tasks = vec![
        task("weekly-export", &settings.exports.schedule),
        // A week whose run failed, or crashed and went stale, is not left for a week.
        task("weekly-export-catch-up", CATCH_UP_SCHEDULE),
    ];
    Ok((tasks, Some(run_due(exporter).boxed())))
}

/// Hourly, at minute 17: exports any recent full week still without a finished scheduled
/// run (a failed run, or one still `running` an hour after it started). Usually nothing.
pub const CATCH_UP_SCHEDULE: &str = "0 17 * * * *";

async fn run_due(exporter: Arc<Exporter>) {
    match exporter.run_due(now_millis()).await {
        Ok(written) => {
            for outcome in written {
                tracing::info!(week = %outcome.week, n_rows = outcome.n_rows, "Weekly export done.");
            }
        }
        Err(error) => {
            tracing::error!(error = %crate::telemetry::error_chain(&error), "Weekly export failed.");
        }
    }
}
