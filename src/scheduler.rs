//! When things run: tokio-cron-scheduler fires triggers; plain async job bodies do the work.
//!
//! Invariant: no business logic here. Each source has one worker task that runs
//! `Pipeline::poll_source` when its cron trigger fires (triggers coalesce, so one source never
//! polls twice at once); one scoring worker runs `Pipeline::score_pending` after new posts
//! (each committed batch of a poll, so a long import is scored while it is read) and on a
//! slow timer. A rate-limited source is not polled again before its reset time.
//! On shutdown the cron stops firing, and every worker finishes the job it is in before
//! exiting: work in flight is completed, and anything not started is picked up next start.
//! Several instances may share one database: a lease makes each trigger's poll run on one of
//! them (`pipeline::poll_lease`: renewed while the poll runs, held a little after it and
//! through a rate-limit wait; the lengths are `[instances]` settings), and scoring claims
//! (see `ScoringStore::claim_pending_mentions`) spread the rest: an idle scoring worker also sweeps
//! for mentions other instances committed. The alert worker also raises SLA, failing-source
//! and silent-source alerts; the spike worker runs `pipeline::spikes::check_spikes` every
//! minute.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinSet;
use tokio_cron_scheduler::{Job, JobScheduler};
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::domain::{SourceId, now_millis};
use crate::pipeline::delivery::{Deliverer, SLA_WARNING};
use crate::pipeline::poll_lease::{BACKOFF_BASE, TriggerOutcome, poll_once_per_trigger};
use crate::pipeline::replies::ReplySender;
use crate::pipeline::{Pipeline, PipelineError};
use crate::scoring::embedding::EmbeddingService;
use crate::sources::Source;
use crate::store::Store;
use crate::telemetry::error_chain;

/// How often the alert worker looks for due deliveries.
const ALERT_SWEEP: Duration = Duration::from_secs(5);
/// How often the reply worker looks for queued replies (and retries that are due).
const REPLY_SWEEP: Duration = Duration::from_secs(2);
/// How often the spike job judges the latest buckets.
const SPIKE_SWEEP: Duration = Duration::from_secs(60);

/// Why the scheduler could not start.
#[derive(Debug, thiserror::Error)]
pub enum SchedulerError {
    #[error("cron scheduler")]
    Cron(#[from] tokio_cron_scheduler::JobSchedulerError),
    #[error("failed to set up the weekly export")]
    Export(#[from] crate::exports::ExportError),
}

pub use crate::pipeline::cron::CronTask;

/// Every cron job that runs beside the sources, in one list: the weekly export (and its
/// start-up catch-up, returned to run once), the follow-up recording, the retention of
/// personal data, the engagement refresh of open tasks' posts through `sources`, and the
/// grouping of complaints into problems with `embedder`. Each is left out when its settings
/// turn it off.
pub fn cron_tasks(
    settings: &Settings,
    store: Arc<dyn Store>,
    sources: &[(SourceId, Arc<dyn Source>)],
    embedder: Option<EmbeddingService>,
) -> Result<(Vec<CronTask>, Option<BoxFuture<'static, ()>>), SchedulerError> {
    let (mut tasks, catch_up) = crate::exports::job::weekly_export(settings, store.clone())?;
    tasks.push(crate::pipeline::follow_up::follow_up_job(store.clone()));
    tasks.extend(crate::pipeline::privacy::retention_job(settings, store.clone()));
    tasks.extend(crate::pipeline::engagement::engagement_job(
        Arc::new(settings.clone()),
        store.clone(),
        sources.to_vec(),
        crate::pipeline::instance::instance_id(&settings.instances),
    ));
    tasks.extend(crate::pipeline::problems::problem_jobs(
        Arc::new(settings.clone()),
        store,
        embedder,
        crate::pipeline::instance::instance_id(&settings.instances),
    ));
    Ok((tasks, catch_up))
}

/// The running scheduler: call `shutdown` to stop it and wait for in-flight work.
pub struct Scheduler {
    cron: JobScheduler,
    workers: JoinSet<()>,
    cancel: CancellationToken,
}

impl Scheduler {
    /// Starts one worker per source, the scoring worker and the cron triggers.
    pub async fn start(
        pipeline: Arc<Pipeline>,
        sources: Vec<(Arc<dyn Source>, String)>,
        cron_tasks: Vec<CronTask>,
    ) -> Result<Scheduler, SchedulerError> {
        let cancel = CancellationToken::new();
        let cron = JobScheduler::new().await?;
        let mut workers = JoinSet::new();
        let scoring_needed = Arc::new(Notify::new());

        for (source, schedule) in sources {
            // Capacity 1: a trigger that fires while a poll is running waits; more coalesce.
            let (trigger, triggered) = mpsc::channel::<()>(1);
            let job = Job::new_async(schedule.as_str(), move |_id, _lock| {
                let trigger = trigger.clone();
                Box::pin(async move {
                    let _ = trigger.try_send(());
                })
            })?;
            cron.add(job).await?;
            workers.spawn(source_worker(
                pipeline.clone(),
                source,
                triggered,
                scoring_needed.clone(),
                cancel.clone(),
            ));
        }
        workers.spawn(scoring_worker(pipeline.clone(), scoring_needed.clone(), cancel.clone()));
        for task in cron_tasks {
            let run = task.run.clone();
            let name = task.name.clone();
            let job = Job::new_async_tz(task.schedule.as_str(), task.timezone, move |_id, _lock| {
                let run = run.clone();
                let name = name.clone();
                Box::pin(async move {
                    tracing::info!(job = %name, "Running scheduled job.");
                    run().await;
                })
            })?;
            cron.add(job).await?;
        }
        cron.start().await?;
        // Score anything a previous run committed but did not finish.
        scoring_needed.notify_one();
        Ok(Scheduler { cron, workers, cancel })
    }

    /// Starts the alert worker: `Deliverer::deliver_due` every few seconds, batch after
    /// batch while there is more. A run in progress finishes before shutdown completes.
    pub fn spawn_alert_worker(&mut self, deliverer: Arc<Deliverer>) {
        self.workers.spawn(alert_worker(deliverer, self.cancel.clone()));
    }

    /// Starts the reply worker: `ReplySender::send_due` every two seconds, pass after pass
    /// while replies are waiting. A send in progress is recorded before shutdown completes.
    pub fn spawn_reply_worker(&mut self, sender: Arc<ReplySender>) {
        self.workers.spawn(reply_worker(sender, self.cancel.clone()));
    }

    /// Starts the spike worker: `pipeline::spikes::check_spikes` every minute.
    pub fn spawn_spike_worker(&mut self, store: Arc<dyn Store>, settings: Arc<Settings>) {
        self.workers.spawn(spike_worker(store, settings, self.cancel.clone()));
    }

    /// Stops the triggers and waits for the workers to finish what they are doing.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Err(error) = self.cron.shutdown().await {
            tracing::warn!(error = %error, "Cron scheduler did not stop cleanly.");
        }
        while let Some(result) = self.workers.join_next().await {
            if let Err(error) = result {
                tracing::error!(error = %error, "A scheduler worker panicked.");
            }
        }
    }
}

async fn source_worker(
    pipeline: Arc<Pipeline>,
    source: Arc<dyn Source>,
    mut triggered: mpsc::Receiver<()>,
    scoring_needed: Arc<Notify>,
    cancel: CancellationToken,
) {
    let mut not_before = tokio::time::Instant::now();
    let mut n_failures: u32 = 0;
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            trigger = triggered.recv() => if trigger.is_none() { break },
        }
        if tokio::time::Instant::now() < not_before {
            tracing::debug!(source = %source.id(), "Skipping poll during backoff.");
            continue;
        }
        // With several instances on one database, one of them polls each trigger.
        match poll_once_per_trigger(&pipeline, source.as_ref(), n_failures).await {
            TriggerOutcome::Skipped => {}
            TriggerOutcome::Polled { result: Ok(report), .. } => {
                n_failures = 0;
                if report.n_new > 0 {
                    scoring_needed.notify_one();
                }
            }
            TriggerOutcome::Polled {
                result: Err(error),
                wait,
            } => {
                n_failures = n_failures.saturating_add(1);
                not_before = tokio::time::Instant::now() + wait.unwrap_or(BACKOFF_BASE);
                // Source failures were logged where they were recorded; log the others here.
                if !matches!(error, PipelineError::Source { .. }) {
                    tracing::error!(source = %source.id(), error = %error_chain(&error), "Poll could not be committed.");
                }
            }
        }
    }
}

async fn scoring_worker(pipeline: Arc<Pipeline>, scoring_needed: Arc<Notify>, cancel: CancellationToken) {
    // Other instances commit mentions this one is not told about: sweep for them too.
    let sweep = Duration::from_millis(pipeline.settings().instances.scoring_sweep_ms);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = scoring_needed.notified() => {}
            // A batch of a poll still running: score it while the rest is imported.
            _ = pipeline.committed().notified() => {}
            _ = tokio::time::sleep(sweep) => {}
        }
        // On shutdown the chunks in flight finish and the rest waits for the next start.
        if let Err(error) = pipeline.score_pending_until(&cancel).await {
            tracing::error!(error = %error_chain(&error), "Scoring pass failed.");
        }
    }
}

async fn alert_worker(deliverer: Arc<Deliverer>, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(ALERT_SWEEP) => {}
        }
        if let Err(error) = deliverer.check_sla(now_millis(), SLA_WARNING).await {
            tracing::error!(error = %error_chain(&error), "SLA check failed.");
        }
        if let Err(error) = deliverer.check_sources(now_millis()).await {
            tracing::error!(error = %error_chain(&error), "Source health check failed.");
        }
        if let Err(error) = deliverer.check_silence(now_millis()).await {
            tracing::error!(error = %error_chain(&error), "Source silence check failed.");
        }
        // Not raced against `cancel`: a send that started is recorded before exiting.
        loop {
            match deliverer.deliver_due(now_millis()).await {
                Ok(report) if report.more && !cancel.is_cancelled() => continue,
                Ok(_) => break,
                Err(error) => {
                    tracing::error!(error = %error_chain(&error), "Alert delivery pass failed.");
                    break;
                }
            }
        }
    }
}

async fn reply_worker(sender: Arc<ReplySender>, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(REPLY_SWEEP) => {}
        }
        // Not raced against `cancel`: a reply that was sent is recorded before exiting.
        loop {
            match sender.send_due(now_millis()).await {
                Ok(report) if report.n_claimed > 0 && !cancel.is_cancelled() => continue,
                Ok(_) => break,
                Err(error) => {
                    tracing::error!(error = %error_chain(&error), "Reply pass failed.");
                    break;
                }
            }
        }
    }
}

async fn spike_worker(store: Arc<dyn Store>, settings: Arc<Settings>, cancel: CancellationToken) {
    loop {
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = tokio::time::sleep(SPIKE_SWEEP) => {}
        }
        let checked = crate::pipeline::spikes::check_spikes(
            store.as_ref(),
            &settings.alerts.spikes,
            &settings.brands,
            now_millis(),
        )
        .await;
        if let Err(error) = checked {
            tracing::error!(error = %error_chain(&error), "Spike check failed.");
        }
    }
}
