//! The engagement refresh (viral escalation): the posts of active tasks have their engagement
//! re-read on a schedule (`[engagement]`) through the lookup of the source that found them
//! (`Source::engagement`: its credentials, base URL and rate-limit handling), in batches of
//! the platform's size. Each reading goes to the post's history; a post the platform says is
//! gone is blanked here too; a post whose history shows it going viral (`tasks::viral`, the
//! brand's `[brands.viral]`) escalates its task once, with one "going viral" alert.
//!
//! Rate limits: a source's refresh stops at the first 429 and holds the source's refresh
//! lease until the platform's reset (and remembers the reset itself, as SQLite does not
//! enforce leases), so neither this instance nor another asks again before then; an answer saying the window is used up stops it for this run. Nothing retries in a
//! loop: the next run is the next cron trigger.
//!
//! Several instances: each source is refreshed under the lease `engagement:{source}`, renewed
//! before each request, so two instances never re-read the same source's posts at once; the
//! escalation is once per task in the store (`viral_at_ms`), the alert once per dedup key.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;

use super::cron::CronTask;
use crate::alerts::AlertPayload;
use crate::config::Settings;
use crate::domain::{
    Engagement, EngagementSample, Millis, PostId, SourceId, duration_millis, now_millis, secs_to_millis,
};
use crate::sources::{Reading, Source, SourceError};
use crate::store::{EngagementTarget, Store, StoreError, ViralEscalation};
use crate::tasks::viral;
use crate::telemetry::error_chain;

/// The job's name in logs.
pub const ENGAGEMENT_JOB: &str = "engagement-refresh";
/// How long a source's refresh lease is held after a run, so an instance whose trigger fires
/// a little later does not refresh the same posts again.
const HOLD_AFTER: Duration = Duration::from_secs(30);

/// What one refresh did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RefreshReport {
    /// Lookup requests sent.
    pub n_requests: u64,
    /// Posts whose engagement was read.
    pub n_read: u64,
    /// Posts the platform said were gone, blanked here.
    pub n_gone: u64,
    /// Tasks escalated as going viral now.
    pub n_viral: u64,
    /// Sources left for later: rate limited, their window used up, or another instance has
    /// their lease.
    pub n_postponed: u64,
    /// Sources whose lookup failed otherwise (logged).
    pub n_failed: u64,
}

/// Re-reads engagement for the sources it is given.
pub struct EngagementRefresher {
    store: Arc<dyn Store>,
    sources: Vec<(SourceId, Arc<dyn Source>)>,
    settings: Arc<Settings>,
    instance_id: String,
    /// Per source, the time before which it is not asked again (a 429's reset).
    postponed: std::sync::Mutex<HashMap<SourceId, Millis>>,
    /// Held while a refresh runs: a trigger that fires before the last run ended skips.
    running: tokio::sync::Mutex<()>,
}

impl EngagementRefresher {
    pub fn new(
        store: Arc<dyn Store>,
        sources: Vec<(SourceId, Arc<dyn Source>)>,
        settings: Arc<Settings>,
        instance_id: String,
    ) -> EngagementRefresher {
        EngagementRefresher {
            store,
            sources,
            settings,
            instance_id,
            postponed: std::sync::Mutex::new(HashMap::new()),
            running: tokio::sync::Mutex::new(()),
        }
    }

    fn postponed_until(&self, source: &SourceId) -> Option<Millis> {
        self.postponed.lock().ok()?.get(source).copied()
    }

    fn postpone(&self, source: &SourceId, until: Millis) {
        if let Ok(mut postponed) = self.postponed.lock() {
            postponed.insert(source.clone(), until);
        }
    }

    /// One refresh at `now`: the due posts of every source with a lookup. Nothing if the
    /// previous refresh is still running.
    #[tracing::instrument(skip_all)]
    pub async fn refresh(&self, now: Millis) -> Result<RefreshReport, StoreError> {
        let Ok(_running) = self.running.try_lock() else {
            tracing::info!("The previous engagement refresh is still running; this trigger is skipped.");
            return Ok(RefreshReport::default());
        };
        let max_age_ms = secs_to_millis(self.settings.engagement.max_age_hours.saturating_mul(3600));
        let written_since = now.saturating_sub(max_age_ms);
        let targets = self
            .store
            .engagement_targets(written_since, self.settings.engagement.max_posts_per_run)
            .await?;
        let mut by_source: BTreeMap<&str, Vec<&EngagementTarget>> = BTreeMap::new();
        for target in &targets {
            by_source.entry(target.source_id.as_str()).or_default().push(target);
        }
        let mut report = RefreshReport::default();
        for (source_id, targets) in by_source {
            let Some((_, source)) = self.sources.iter().find(|(id, _)| id.as_str() == source_id) else {
                continue;
            };
            if source.engagement().is_none() {
                continue;
            }
            self.refresh_source(source.as_ref(), &targets, written_since, now, &mut report)
                .await?;
        }
        Ok(report)
    }

    async fn refresh_source(
        &self,
        source: &dyn Source,
        targets: &[&EngagementTarget],
        written_since: Millis,
        now: Millis,
        report: &mut RefreshReport,
    ) -> Result<(), StoreError> {
        let Some(lookup) = source.engagement() else {
            return Ok(());
        };
        if self.postponed_until(source.id()).is_some_and(|until| now < until) {
            tracing::debug!(source = %source.id(), "Engagement refresh waits for the rate-limit reset.");
            report.n_postponed += 1;
            return Ok(());
        }
        let lease = format!("engagement:{}", source.id());
        let lease_ms = secs_to_millis(self.settings.instances.poll_lease_secs);
        // One post (by platform id) may belong to several tasks.
        let mut by_external: HashMap<&str, Vec<&EngagementTarget>> = HashMap::new();
        for target in targets {
            by_external.entry(target.external_id.as_str()).or_default().push(target);
        }
        let mut ids: Vec<String> = by_external.keys().map(|id| (*id).to_owned()).collect();
        ids.sort_by_key(|id| by_external[id.as_str()].first().map(|t| t.post_id));
        let mut found: Vec<PostId> = Vec::new();
        let mut hold_ms = duration_millis(HOLD_AFTER).min(lease_ms);
        for chunk in ids.chunks(lookup.batch_size().max(1)) {
            // Taken (or renewed) before every request: a long refresh keeps it, and a source
            // another instance is refreshing, or that waits out a rate limit, is left alone.
            match self
                .store
                .try_acquire_lease(&lease, &self.instance_id, now_millis(), lease_ms)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::debug!(source = %source.id(), "Another instance holds the engagement lease.");
                    report.n_postponed += 1;
                    return Ok(());
                }
                Err(error) => return Err(error),
            }
            report.n_requests += 1;
            let answer = match lookup.lookup(chunk).await {
                Ok(answer) => answer,
                Err(SourceError::RateLimited { retry_after }) => {
                    let wait = retry_after.unwrap_or(super::poll_lease::BACKOFF_BASE);
                    tracing::warn!(source = %source.id(), wait_secs = wait.as_secs(), "Engagement refresh rate limited; postponed.");
                    let wait_ms = duration_millis(wait);
                    self.postpone(source.id(), now.saturating_add(wait_ms));
                    hold_ms = wait_ms.max(hold_ms);
                    report.n_postponed += 1;
                    break;
                }
                Err(error) => {
                    tracing::warn!(source = %source.id(), kind = error.kind(), error = %error_chain(&error), "Engagement refresh failed.");
                    report.n_failed += 1;
                    break;
                }
            };
            let checked: Vec<PostId> = chunk
                .iter()
                .flat_map(|id| by_external.get(id.as_str()).into_iter().flatten())
                .map(|t| t.post_id)
                .collect();
            let mut readings: Vec<(PostId, Engagement)> = Vec::new();
            for (external_id, reading) in &answer.readings {
                let Some(post_id) = by_external
                    .get(external_id.as_str())
                    .and_then(|t| t.first())
                    .map(|t| t.post_id)
                else {
                    continue;
                };
                match reading {
                    Reading::Found(engagement) => {
                        readings.push((post_id, *engagement));
                        found.push(post_id);
                    }
                    Reading::Gone => {
                        if self.store.erase_deleted_post(post_id, now).await? {
                            tracing::info!(source = %source.id(), post_id = post_id.get(), "Post deleted on its platform; its content was deleted here.");
                            report.n_gone += 1;
                        }
                    }
                }
            }
            report.n_read += readings.len() as u64;
            self.store.record_engagement(&checked, &readings, now).await?;
            if answer.quota_exhausted {
                tracing::info!(source = %source.id(), "Engagement refresh stopped: the rate-limit window is used up.");
                report.n_postponed += 1;
                break;
            }
        }
        if let Err(error) = self
            .store
            .try_acquire_lease(&lease, &self.instance_id, now_millis(), hold_ms)
            .await
        {
            tracing::warn!(source = %source.id(), error = %error_chain(&error), "Could not hold the engagement lease.");
        }
        report.n_viral += self.escalate(targets, &found, written_since, now).await?;
        Ok(())
    }

    /// Escalates the tasks whose posts' histories now show them going viral; returns how many.
    async fn escalate(
        &self,
        targets: &[&EngagementTarget],
        found: &[PostId],
        written_since: Millis,
        now: Millis,
    ) -> Result<u64, StoreError> {
        let candidates: Vec<&EngagementTarget> = targets
            .iter()
            .copied()
            .filter(|t| t.task_viral_at_ms.is_none() && found.contains(&t.post_id))
            .collect();
        if candidates.is_empty() {
            return Ok(0);
        }
        let post_ids: Vec<PostId> = candidates.iter().map(|t| t.post_id).collect();
        let mut histories: HashMap<PostId, Vec<EngagementSample>> = HashMap::new();
        for (post_id, sample) in self.store.engagement_history(&post_ids, written_since).await? {
            histories.entry(post_id).or_default().push(sample);
        }
        let mut n_viral = 0;
        for target in candidates {
            let Some(brand) = self.settings.brands.iter().find(|b| b.id == target.brand_id) else {
                continue;
            };
            let history = histories.get(&target.post_id).map(Vec::as_slice).unwrap_or_default();
            let Some(finding) = viral::assess(history, &brand.viral) else {
                continue;
            };
            let escalated = viral::escalate(
                target.task_criticality,
                target.task_priority,
                &finding,
                &self.settings.tasks.priority,
            );
            let growth = finding
                .growth
                .as_ref()
                .map_or_else(|| finding.reason.clone(), |g| g.text.clone());
            let escalation = ViralEscalation {
                task_id: target.task_id,
                mention_id: target.mention_id,
                criticality: escalated.criticality,
                priority: escalated.priority,
                alert: AlertPayload::GoingViral {
                    task_id: target.task_id,
                    brand: brand.name.clone(),
                    priority: escalated.priority,
                    criticality: escalated.criticality,
                    platform: target.platform,
                    author: target.author_handle.clone(),
                    text: target.text.clone(),
                    url: target.url.clone(),
                    growth,
                },
                factor: escalated.factor,
                at: now,
            };
            if self.store.escalate_viral(&escalation).await? {
                tracing::info!(task = target.task_id.get(), brand = %brand.id, "Task going viral: escalated.");
                n_viral += 1;
            }
        }
        Ok(n_viral)
    }
}

/// The scheduled refresh, unless `[engagement] enabled = false`.
pub fn engagement_job(
    settings: Arc<Settings>,
    store: Arc<dyn Store>,
    sources: Vec<(SourceId, Arc<dyn Source>)>,
    instance_id: String,
) -> Option<CronTask> {
    if !settings.engagement.enabled {
        return None;
    }
    let schedule = settings.engagement.schedule.clone();
    let refresher = Arc::new(EngagementRefresher::new(store, sources, settings, instance_id));
    Some(CronTask {
        name: ENGAGEMENT_JOB.into(),
        schedule,
        timezone: chrono_tz::UTC,
        run: Arc::new(move || {
            let refresher = refresher.clone();
            async move {
                match refresher.refresh(now_millis()).await {
                    Ok(report) if report == RefreshReport::default() => {}
                    Ok(report) => tracing::info!(
                        n_requests = report.n_requests,
                        n_read = report.n_read,
                        n_gone = report.n_gone,
                        n_viral = report.n_viral,
                        n_postponed = report.n_postponed,
                        n_failed = report.n_failed,
                        "Engagement refreshed."
                    ),
                    Err(error) => {
                        tracing::error!(error = %error_chain(&error), "Engagement refresh failed.");
                    }
                }
            }
            .boxed()
        }),
    })
}
