//! The weekly export as a scheduler job: a `CronTask` whose body is `Exporter::run_due`.
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
use crate::scheduler::CronTask;
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
    let exporter = Arc::new(Exporter::new(store, &settings.exports)?);
    let run_exporter = exporter.clone();
    let task = CronTask {
        name: "weekly-export".into(),
        schedule: settings.exports.schedule.clone(),
        timezone: exporter.timezone(),
        run: Arc::new(move || run_due(run_exporter.clone()).boxed()),
    };
    Ok((vec![task], Some(run_due(exporter).boxed())))
}

async fn run_due(exporter: Arc<Exporter>) {
    match exporter.run_due(now_millis()).await {
        Ok(written) => {
            for outcome in written {
                tracing::info!(week = %outcome.week, n_rows = outcome.n_rows, "Weekly export done.");
            }
        }
        Err(error) => {
            tracing::error!(error = %crate::pipeline::error_chain(&error), "Weekly export failed.");
        }
    }
}
