//! The weekly summary for chat: a scheduled export's numbers as an `AlertPayload` that goes
//! out through the outbox like every other alert.
//!
//! One alert per week and scope (its dedup key), enqueued before the run is marked done: a
//! crash in between retries the run and the second enqueue is a no-op, and a run that is
//! skipped (already done) never enqueues, so each week is announced once. The chart is
//! linked through `[exports] public_url` (incoming webhooks cannot upload files).

use crate::alerts::AlertPayload;
use crate::alerts::weekly::{WeeklyBrand, WeeklyReport};

use super::file_name;
use super::summary::Summary;

/// The chat report of a summary: headline numbers per brand, the chart link if there is a
/// public URL, and the channels it goes to.
pub fn weekly_report(summary: &Summary, public_url: Option<&str>, channels: &[String]) -> WeeklyReport {
    let brands = summary
        .brands
        .iter()
        .map(|brand| WeeklyBrand {
            brand: brand.brand.clone(),
            mentions: brand.week.mentions,
            mentions_change_pct: brand.change.mentions_pct,
            negative_share: brand.week.negative_share,
            negative_share_change_pts: brand.change.negative_share_pts,
            tasks_opened: brand.week.tasks_opened,
            tasks_resolved: brand.week.tasks_resolved,
            median_first_response_ms: brand.week.median_first_response_ms,
            sla_breach_rate: brand.week.sla_breach_rate,
            recovered_customers: brand.week.recovered_customers,
            top_terms: brand.week.top_terms.iter().take(5).map(|t| t.term.clone()).collect(),
            top_problems: summary
                .problems
                .iter()
                .filter(|p| p.brand.as_str() == brand.brand)
                .take(super::problems::TOP_IN_CHAT)
                .map(super::problems::chat_line)
                .collect(),
        })
        .collect();
    let chart_url = public_url.map(|base| {
        format!(
            "{}/api/exports/{}/{}",
            base.trim_end_matches('/'),
            summary.week,
            file_name(summary.week, &summary.scope, "chart.png")
        )
    });
    WeeklyReport {
        week: summary.week.to_string(),
        scope: summary.scope.clone(),
        timezone: summary.timezone.clone(),
        brands,
        chart_url,
        channels: channels.to_vec(),
    }
}

/// The outbox payload for a summary.
pub fn weekly_alert(summary: &Summary, public_url: Option<&str>, channels: &[String]) -> AlertPayload {
    AlertPayload::WeeklySummary(weekly_report(summary, public_url, channels))
}
