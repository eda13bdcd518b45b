//! Delivering alerts: outbox → one delivery per routed channel → chat, each exactly once
//! as far as the store can tell.
//!
//! `Deliverer::deliver_due` is the job body (the scheduler calls it on a timer, tests and
//! the CLI call it directly, always with an explicit `now`): it routes new outbox alerts to
//! deliveries, claims a batch of due deliveries (leased, so a crash mid-send makes them due
//! again only after the lease), and records each outcome before the next send. Rate limits
//! are per channel; 429 waits for the platform's reset; 5xx and timeouts back off
//! exponentially with jitter; a destination that is gone disables its channel, and its
//! deliveries wait (nothing is dropped) until the channel is fixed and enabled.
//!
//! Quiet hours: a routing rule's quiet hours hold its channel's deliveries; once they end,
//! `deliver_due` turns each channel's held deliveries into one digest alert (in one
//! transaction, so a restart neither loses nor repeats it). Updates about a task already
//! posted to a channel edit the message or join its thread where the platform can
//! (`channels::Capabilities`); where it can do neither, the message says which task it
//! updates. No platform is named here.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::alerts::channels::Capabilities;
use crate::alerts::digest::build_digest;
use crate::alerts::limiter::RateLimiter;
use crate::alerts::render::UpdateOf;
use crate::alerts::routing::{AlertRule, routes_for};
use crate::alerts::sink::{AlertSink, SendError};
use crate::alerts::{AlertPayload, ChannelSettings};
use crate::domain::{DeliveryId, Millis, duration_millis};
use crate::store::{DueDelivery, SentRef, Store, StoreError};

/// Deliveries claimed per call.
pub const DEFAULT_BATCH: usize = 50;
/// How long a claimed delivery is kept from other runners.
pub const LEASE: Duration = Duration::from_secs(10 * 60);
/// Backoff after a temporary failure: base doubled per attempt, capped, with jitter.
pub const BACKOFF_BASE: Duration = Duration::from_secs(30);
pub const BACKOFF_CAP: Duration = Duration::from_secs(60 * 60);
/// Failed polls in a row after which a source is reported unhealthy.
pub const SOURCE_FAILURES: i64 = 3;
/// How long before an SLA due time the "due soon" alert goes out.
pub const SLA_WARNING: Duration = Duration::from_secs(15 * 60);

/// What one delivery run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Outbox alerts fanned out, and the deliveries that made.
    pub n_routed: usize,
    pub n_deliveries_added: usize,
    pub n_sent: usize,
    /// Rescheduled after a 429, 5xx or timeout, or held back by the local rate limit.
    pub n_retrying: usize,
    pub n_deferred: usize,
    /// Given up: the platform refused the message itself (a 4xx other than 401/403/404/410/429).
    pub n_dead: usize,
    /// Channels disabled in this run.
    pub disabled: Vec<String>,
    /// Digests built from deliveries held by quiet hours, and the deliveries they carry.
    pub n_digests: usize,
    pub n_digested: usize,
    /// A full batch was claimed: call again.
    pub more: bool,
}

/// The alert delivery job: channels, routing rules and rate-limit state.
pub struct Deliverer {
    store: Arc<dyn Store>,
    channels: Vec<ChannelSettings>,
    rules: Vec<AlertRule>,
    sinks: HashMap<String, AlertSink>,
    limiter: Mutex<RateLimiter>,
    batch: usize,
    lease: Duration,
}

impl Deliverer {
    pub fn new(
        store: Arc<dyn Store>,
        channels: &[ChannelSettings],
        rules: &[AlertRule],
        client: reqwest::Client,
    ) -> Deliverer {
        let sinks = channels
            .iter()
            .map(|channel| (channel.name.clone(), AlertSink::new(channel.clone(), client.clone())))
            .collect();
        Deliverer {
            store,
            channels: channels.to_vec(),
            rules: rules.to_vec(),
            sinks,
            limiter: Mutex::new(RateLimiter::new()),
            batch: DEFAULT_BATCH,
            lease: LEASE,
        }
    }

    /// Claims at most `batch` deliveries per call.
    pub fn with_batch(mut self, batch: usize) -> Deliverer {
        self.batch = batch.max(1);
        self
    }

    /// Keeps claimed deliveries from other instances this long (default `LEASE`); a killed
    /// instance's deliveries are sent by another after it.
    pub fn with_lease(mut self, lease: Duration) -> Deliverer {
        self.lease = lease;
        self
    }

    /// Enqueues SLA alerts: "due soon" for unanswered tasks due within `warn_before`, and
    /// "breached" for those past due. Each at most once per task (dedup keys). Returns how
    /// many were added.
    pub async fn check_sla(&self, now: Millis, warn_before: Duration) -> Result<usize, StoreError> {
        let horizon = now.saturating_add(duration_millis(warn_before));
        let mut added = 0;
        for task in self.store.unanswered_tasks_due(horizon).await? {
            let payload = AlertPayload::Sla {
                task_id: task.task_id,
                brand: task.brand_id.clone(),
                priority: task.priority,
                platform: task.platform,
                author: task.author_handle,
                due_at_ms: task.due_at_ms,
                customer_posted_at_ms: Some(task.sla_started_at_ms),
                breached: task.due_at_ms <= now,
                text: task.text,
            };
            let breached = task.due_at_ms <= now;
            if self
                .store
                .enqueue_alert(Some(task.brand_id.as_str()), &payload, now)
                .await?
            {
                added += 1;
                if breached {
                    metrics::counter!(crate::metrics::SLA_BREACHES).increment(1);
                }
            }
        }
        Ok(added)
    }

    /// Enqueues a "source unhealthy" alert for each active source that failed
    /// `SOURCE_FAILURES` polls in a row, or whose credentials were refused; once per outage.
    pub async fn check_sources(&self, now: Millis) -> Result<usize, StoreError> {
        let mut added = 0;
        for health in self.store.source_health().await? {
            let unauthorized = health.last_error_kind.as_deref() == Some("unauthorized");
            let failing = health.consecutive_failures >= SOURCE_FAILURES;
            if !health.active || !(failing || (unauthorized && health.consecutive_failures > 0)) {
                continue;
            }
            let payload = AlertPayload::SourceUnhealthy {
                source: health.source,
                brand: health.brand.clone(),
                consecutive_failures: health.consecutive_failures,
                error_kind: health.last_error_kind,
                last_success_at_ms: health.last_success_at_ms,
            };
            let brand = health.brand.as_str();
            if self.store.enqueue_alert(Some(brand), &payload, now).await? {
                added += 1;
            }
        }
        Ok(added)
    }

    /// Enqueues a "source silent" alert for each active source whose polls succeed but that
    /// has brought no new mentions for far longer than usual (`domain::silence`). Once per
    /// silence: the dedup key holds when the source last brought posts, so the next alert
    /// can only come after it has brought posts again.
    pub async fn check_silence(&self, now: Millis) -> Result<usize, StoreError> {
        let mut added = 0;
        for health in self.store.source_health().await? {
            if !health.active {
                continue;
            }
            let (Some(last_new_at_ms), Some(usual_gap_ms)) = (health.last_new_at_ms, health.usual_gap_ms) else {
                continue;
            };
            let Some(reason) = crate::domain::silence::silence(
                health.last_new_at_ms,
                health.usual_gap_ms,
                health.last_success_at_ms,
                now,
            ) else {
                continue;
            };
            let payload = AlertPayload::SourceSilent {
                source: health.source,
                brand: health.brand.clone(),
                last_new_at_ms,
                usual_gap_ms,
                reason,
            };
            let brand = health.brand.as_str();
            if self.store.enqueue_alert(Some(brand), &payload, now).await? {
                added += 1;
            }
        }
        Ok(added)
    }

    /// Turns deliveries whose quiet hours ended into one digest per channel and window.
    async fn digest_held(&self, now: Millis, report: &mut DeliveryReport) -> Result<(), StoreError> {
        loop {
            let held = self.store.held_deliveries_due(now, 500).await?;
            let mut groups: Vec<((String, Millis), Vec<&crate::store::HeldDelivery>)> = Vec::new();
            for delivery in &held {
                let key = (delivery.channel.clone(), delivery.held_until_ms);
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, members)) => members.push(delivery),
                    None => groups.push((key, vec![delivery])),
                }
            }
            for ((channel, held_until), members) in groups {
                let items: Vec<(Option<String>, AlertPayload)> = members
                    .iter()
                    .map(|delivery| (delivery.brand.clone(), delivery.payload.clone()))
                    .collect();
                let ids: Vec<DeliveryId> = members.iter().map(|delivery| delivery.id).collect();
                let digest = build_digest(&channel, held_until, &items);
                if self.store.commit_digest(&channel, &digest, &ids, now).await? {
                    report.n_digests += 1;
                    report.n_digested += ids.len();
                    tracing::info!(channel = %channel, n_held = ids.len(), "Quiet hours ended; digest queued.");
                }
            }
            if held.len() < 500 {
                return Ok(());
            }
        }
    }

    /// Routes new alerts, then sends one batch of due deliveries.
    pub async fn deliver_due(&self, now: Millis) -> Result<DeliveryReport, StoreError> {
        let mut report = DeliveryReport::default();
        loop {
            let alerts = self.store.due_alerts(now, 100).await?;
            for alert in &alerts {
                let routes = routes_for(
                    alert.brand.as_deref(),
                    &alert.payload,
                    &self.channels,
                    &self.rules,
                    Some(now),
                );
                report.n_deliveries_added += self.store.route_alert_with_holds(alert.id, &routes, now).await?;
                report.n_routed += 1;
            }
            if alerts.len() < 100 {
                break;
            }
        }
        self.digest_held(now, &mut report).await?;
        let lease_ms = duration_millis(self.lease);
        let claimed = self.store.claim_deliveries(now, now + lease_ms, self.batch).await?;
        report.more = claimed.len() >= self.batch;
        for delivery in claimed {
            self.deliver_one(&delivery, now, &mut report).await?;
        }
        Ok(report)
    }

    async fn deliver_one(
        &self,
        delivery: &DueDelivery,
        now: Millis,
        report: &mut DeliveryReport,
    ) -> Result<(), StoreError> {
        let Some(sink) = self.sinks.get(&delivery.channel) else {
            self.store
                .mark_delivery_dead(delivery.id, "the channel is no longer configured")
                .await?;
            report.n_dead += 1;
            return Ok(());
        };
        if report.disabled.contains(&delivery.channel) {
            // Disabled earlier in this run; the claim did not know yet.
            self.store.reschedule_delivery(delivery.id, now, None).await?;
            return Ok(());
        }
        let platform = sink.settings().platform();
        let acquired = self.lock_limiter().try_acquire(&delivery.channel, platform.rate(), now);
        if let Err(ready_at) = acquired {
            self.store.reschedule_delivery(delivery.id, ready_at, None).await?;
            report.n_deferred += 1;
            return Ok(());
        }
        let message_id = format!("earshot_{}_{}", delivery.alert_id, delivery.id);
        let capabilities = platform.capabilities();
        let previous = if capabilities.edits {
            delivery.previous_external_id.as_deref()
        } else {
            None
        };
        let update = self.update_of(delivery, capabilities, previous.is_some()).await?;
        match sink
            .send_with(&delivery.payload, &message_id, previous, update, now)
            .await
        {
            Ok(sent) => {
                let sent = SentRef {
                    external_id: sent.external_id,
                    thread_key: sent.thread_key,
                };
                self.store.mark_delivery_sent(delivery.id, &sent, now).await?;
                tracing::info!(channel = %delivery.channel, alert = %delivery.dedup_key, "Alert delivered.");
                report.n_sent += 1;
                metrics::counter!(crate::metrics::ALERT_DELIVERIES, "channel" => delivery.channel.clone(), "outcome" => "sent")
                    .increment(1);
            }
            Err(SendError::RateLimited { retry_after }) => {
                let wait = retry_after.unwrap_or_else(|| backoff(delivery.attempts));
                let at = now + duration_millis(wait).max(1);
                self.lock_limiter().block_until(&delivery.channel, at);
                self.store
                    .reschedule_delivery(delivery.id, at, Some("rate limited (429)"))
                    .await?;
                tracing::warn!(channel = %delivery.channel, wait_ms = duration_millis(wait), "Chat platform rate-limited an alert.");
                metrics::counter!(crate::metrics::ALERT_DELIVERIES, "channel" => delivery.channel.clone(), "outcome" => "rate_limited")
                    .increment(1);
                report.n_retrying += 1;
            }
            Err(SendError::Transient(error)) => {
                // However long the outage, the alert waits (retried at most hourly) and the
                // channel's pending count and last error show it; a chat outage loses nothing.
                let at = now + duration_millis(jitter(backoff(delivery.attempts)));
                self.store.reschedule_delivery(delivery.id, at, Some(&error)).await?;
                tracing::warn!(channel = %delivery.channel, alert = %delivery.dedup_key, attempts = delivery.attempts + 1, error = %error, "Alert delivery failed; will retry.");
                metrics::counter!(crate::metrics::ALERT_DELIVERIES, "channel" => delivery.channel.clone(), "outcome" => "retrying")
                    .increment(1);
                report.n_retrying += 1;
            }
            Err(SendError::Gone(error)) => {
                self.store.disable_channel(&delivery.channel, &error, now).await?;
                // The delivery stays pending: it goes out once the channel is fixed.
                self.store.reschedule_delivery(delivery.id, now, Some(&error)).await?;
                tracing::error!(channel = %delivery.channel, error = %error, "Chat destination is gone; channel disabled.");
                metrics::counter!(crate::metrics::ALERT_DELIVERIES, "channel" => delivery.channel.clone(), "outcome" => "channel_gone")
                    .increment(1);
                report.disabled.push(delivery.channel.clone());
            }
            Err(SendError::Rejected(error)) => {
                self.store.mark_delivery_dead(delivery.id, &error).await?;
                tracing::error!(channel = %delivery.channel, alert = %delivery.dedup_key, error = %error, "Chat platform refused an alert.");
                metrics::counter!(crate::metrics::ALERT_DELIVERIES, "channel" => delivery.channel.clone(), "outcome" => "rejected")
                    .increment(1);
                report.n_dead += 1;
            }
        }
        Ok(())
    }

    /// For a task already posted to this channel, on a platform that can neither edit that
    /// message nor thread under it: which task this updates, and when it was first posted.
    async fn update_of(
        &self,
        delivery: &DueDelivery,
        capabilities: Capabilities,
        edits_previous: bool,
    ) -> Result<Option<UpdateOf>, StoreError> {
        let Some(task_id) = delivery.payload.task_id() else {
            return Ok(None);
        };
        if capabilities.threads || edits_previous {
            return Ok(None);
        }
        let first = self
            .store
            .first_sent_about_task(task_id, &delivery.channel, delivery.id)
            .await?;
        Ok(first.map(|first_sent_at_ms| UpdateOf {
            task_id,
            first_sent_at_ms,
        }))
    }

    fn lock_limiter(&self) -> std::sync::MutexGuard<'_, RateLimiter> {
        // A panic while holding this lock leaves only rate-limit counters behind; keep going.
        self.limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `BACKOFF_BASE` doubled per earlier attempt, capped.
pub fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.clamp(0, 20)).unwrap_or(20);
    BACKOFF_BASE
        .saturating_mul(2u32.saturating_pow(exponent))
        .min(BACKOFF_CAP)
}

/// Between half and all of `wait`, so retries from many alerts spread out.
pub fn jitter(wait: Duration) -> Duration {
    let half = wait / 2;
    half + half.mul_f64(fastrand::f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_and_jitter_stays_in_range() {
        assert_eq!(backoff(0), Duration::from_secs(30));
        assert_eq!(backoff(1), Duration::from_secs(60));
        assert_eq!(backoff(3), Duration::from_secs(240));
        assert_eq!(backoff(40), BACKOFF_CAP);
        for _ in 0..100 {
            let wait = jitter(Duration::from_secs(60));
            assert!(
                wait >= Duration::from_secs(30) && wait <= Duration::from_secs(60),
                "{wait:?}"
            );
        }
    }
}
