//! Operational metrics in the Prometheus text format (the `metrics` facade and
//! `metrics-exporter-prometheus`): the names in one place, the recorder installed once per
//! process, and the counters the pipeline, scoring, delivery and web layers bump.
//!
//! Recording is cheap and never fails; before [`install`] (in tools and most tests) it does
//! nothing. Labels are bounded sets (source ids, channel names, route templates, statuses,
//! priorities), never post text, authors or URLs. Gauges that describe the store (pending
//! mentions, active tasks, outbox depth, delivery lag) are read from it when scraped, by
//! `web::metrics`, so every instance reports the same truth.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// `earshot_polls_total{source, outcome}`: polls by outcome (`ok` or the error kind).
pub const POLLS: &str = "earshot_polls_total";
/// `earshot_posts_ingested_total{source}`: new mentions committed.
pub const POSTS_INGESTED: &str = "earshot_posts_ingested_total";
/// `earshot_posts_quarantined_total{source}`: items quarantined at ingest.
pub const POSTS_QUARANTINED: &str = "earshot_posts_quarantined_total";
/// `earshot_scoring_batch_seconds`: time to score one batch on the scoring thread.
pub const SCORING_BATCH_SECONDS: &str = "earshot_scoring_batch_seconds";
/// `earshot_scoring_batch_size`: posts per scored batch.
pub const SCORING_BATCH_SIZE: &str = "earshot_scoring_batch_size";
/// `earshot_mentions_assessed_total`: mentions assessed (scored, criticality, task decision).
pub const MENTIONS_ASSESSED: &str = "earshot_mentions_assessed_total";
/// `earshot_tasks_opened_total{priority}`: tasks opened.
pub const TASKS_OPENED: &str = "earshot_tasks_opened_total";
/// `earshot_sla_breaches_total`: SLA-breach alerts raised (once per task).
pub const SLA_BREACHES: &str = "earshot_sla_breaches_total";
/// `earshot_alert_deliveries_total{channel, outcome}`: chat deliveries by outcome.
pub const ALERT_DELIVERIES: &str = "earshot_alert_deliveries_total";
/// `earshot_replies_total{platform, outcome}`: replies to customers published, failed for
/// good, or postponed for a retry.
pub const REPLIES: &str = "earshot_replies_total";
/// `earshot_http_requests_total{route, method, status}`: requests answered.
pub const HTTP_REQUESTS: &str = "earshot_http_requests_total";
/// `earshot_http_request_seconds{route}`: time to answer (headers; streams excluded).
pub const HTTP_REQUEST_SECONDS: &str = "earshot_http_request_seconds";
/// `earshot_pending_mentions`: committed mentions not yet assessed (read from the store).
pub const PENDING_MENTIONS: &str = "earshot_pending_mentions";
/// `earshot_tasks_active`: tasks not yet resolved or dismissed (read from the store).
pub const TASKS_ACTIVE: &str = "earshot_tasks_active";
/// `earshot_outbox_pending`: alerts not yet routed to channels (read from the store).
pub const OUTBOX_PENDING: &str = "earshot_outbox_pending";
/// `earshot_quarantined`: quarantined items kept (read from the store).
pub const QUARANTINED: &str = "earshot_quarantined";
/// `earshot_channel_deliveries{channel, status}`: deliveries per channel and status (store).
pub const CHANNEL_DELIVERIES: &str = "earshot_channel_deliveries";
/// `earshot_channel_delivery_lag_seconds{channel}`: age of the oldest pending delivery (store).
pub const CHANNEL_DELIVERY_LAG: &str = "earshot_channel_delivery_lag_seconds";

/// Every metric name, for documentation and the scrape test.
pub const ALL: [&str; 18] = [
    POLLS,
    POSTS_INGESTED,
    POSTS_QUARANTINED,
    SCORING_BATCH_SECONDS,
    SCORING_BATCH_SIZE,
    MENTIONS_ASSESSED,
    TASKS_OPENED,
    SLA_BREACHES,
    ALERT_DELIVERIES,
    REPLIES,
    HTTP_REQUESTS,
    HTTP_REQUEST_SECONDS,
    PENDING_MENTIONS,
    TASKS_ACTIVE,
    OUTBOX_PENDING,
    QUARANTINED,
    CHANNEL_DELIVERIES,
    CHANNEL_DELIVERY_LAG,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's Prometheus recorder (once; later calls return the same handle).
/// `None` if another recorder was installed first.
pub fn install() -> Option<PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let handle = PrometheusBuilder::new()
                .set_buckets(&[
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ])
                .ok()?
                .install_recorder()
                .map_err(|error| tracing::warn!(error = %error, "Metrics recorder not installed."))
                .ok()?;
            describe();
            Some(handle)
        })
        .clone()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(POLLS, "Polls of a source, by outcome (ok or the error kind).");
    describe_counter!(POSTS_INGESTED, "New mentions committed, by source.");
    describe_counter!(POSTS_QUARANTINED, "Items quarantined at ingest, by source.");
    describe_histogram!(SCORING_BATCH_SECONDS, Unit::Seconds, "Time to score one batch.");
    describe_histogram!(SCORING_BATCH_SIZE, Unit::Count, "Posts per scored batch.");
    describe_counter!(MENTIONS_ASSESSED, "Mentions assessed.");
    describe_counter!(TASKS_OPENED, "Response tasks opened, by priority.");
    describe_counter!(SLA_BREACHES, "SLA-breach alerts raised.");
    describe_counter!(ALERT_DELIVERIES, "Chat deliveries, by channel and outcome.");
    describe_counter!(
        REPLIES,
        "Replies to customers, by platform and outcome (published, failed, retrying)."
    );
    describe_counter!(HTTP_REQUESTS, "HTTP requests, by route template, method and status.");
    describe_histogram!(HTTP_REQUEST_SECONDS, Unit::Seconds, "Time to answer an HTTP request.");
    describe_gauge!(PENDING_MENTIONS, "Committed mentions not yet assessed.");
    describe_gauge!(TASKS_ACTIVE, "Tasks not yet resolved or dismissed.");
    describe_gauge!(OUTBOX_PENDING, "Alerts not yet routed to their channels.");
    describe_gauge!(QUARANTINED, "Quarantined items kept.");
    describe_gauge!(CHANNEL_DELIVERIES, "Deliveries per chat channel and status.");
    describe_gauge!(
        CHANNEL_DELIVERY_LAG,
        Unit::Seconds,
        "Age of the oldest delivery still pending, per chat channel (0 when none)."
    );
}
