//! `CronTask`: a job the scheduler triggers on a cron schedule, described beside its body.
//!
//! The job bodies are the pipeline's (and the exports') plain async functions; they are
//! wrapped here, with a name, a schedule and a zone, so neither needs the scheduler. The one
//! list of jobs is `scheduler::cron_tasks`. No timers or spawning here.

use std::sync::Arc;

use futures::future::BoxFuture;

/// A job with a cron schedule, run by the scheduler beside the sources (the weekly export,
/// the follow-up recording, …).
pub struct CronTask {
    pub name: String,
    pub schedule: String,
    pub timezone: chrono_tz::Tz,
    pub run: Arc<dyn Fn() -> BoxFuture<'static, ()> + Send + Sync>,
}
