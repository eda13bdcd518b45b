//! Alerts to chat channels: the alert payloads the pipeline enqueues, and what every platform
//! shows of them (`AlertPayload::summary`); channel settings and each platform in `channels`.
//!
//! Invariant: alerts leave only through the outbox table (`store`), so a crash or a chat outage
//! neither loses nor repeats one. Nothing in this module reads or writes the store directly.

pub mod channels;
pub mod digest;
pub mod limiter;
pub mod quiet;
pub mod render;
pub mod routing;
pub mod sink;
pub mod spike;
pub mod terms;
pub mod weekly;

pub use channels::{ChannelKind, ChannelSettings};

use crate::domain::{BrandId, Platform, Priority, TaskId};

/// The least urgent priority a channel or rule gets when it does not say.
pub(crate) fn default_min_priority() -> Priority {
    Priority::High
}

/// What an alert is about; the outbox stores it as JSON.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AlertPayload {
    /// A post crossed the brand's threshold and opened a task.
    TaskOpened {
        task_id: TaskId,
        /// The brand's name as chat shows it (not its id).
        brand: String,
        priority: Priority,
        criticality: f32,
        platform: Platform,
        author: String,
        text: String,
        url: Option<String>,
        reasons: Vec<String>,
    },
    /// A task without a first response is close to its SLA due time, or past it.
    Sla {
        task_id: TaskId,
        brand: BrandId,
        priority: Priority,
        platform: Platform,
        author: String,
        due_at_ms: i64,
        /// When the customer posted (the SLA clock's start); absent in alerts stored before
        /// it was added.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        customer_posted_at_ms: Option<i64>,
        breached: bool,
        /// The post that opened the task, so keyword rules route this alert where they
        /// routed the task (empty in alerts stored before it was added).
        #[serde(default)]
        text: String,
    },
    /// A source keeps failing (or its credentials were refused) and no posts come in.
    SourceUnhealthy {
        source: String,
        brand: BrandId,
        consecutive_failures: i64,
        /// The last error's kind (`unauthorized`, `transport`, …); never its text.
        error_kind: Option<String>,
        /// The last successful poll; the dedup key includes it, so one alert per outage.
        last_success_at_ms: Option<i64>,
    },
    /// A brand's negative mentions in one time bucket are far above their usual level.
    Spike {
        brand: BrandId,
        bucket_start_ms: i64,
        bucket_minutes: u32,
        /// Negative mentions in the bucket.
        count: u32,
        /// The usual count per bucket (median of the baseline buckets).
        baseline_median: f64,
        z_score: f64,
        /// Terms over-represented in the spike's posts, heaviest first.
        terms: Vec<terms::SpikeTerm>,
        /// Links to a few of the spike's posts.
        examples: Vec<String>,
    },
    /// A source whose polls succeed has brought no new mentions for far longer than usual;
    /// the dedup key includes when it last did, so one alert per silence.
    SourceSilent {
        source: String,
        brand: BrandId,
        last_new_at_ms: i64,
        usual_gap_ms: i64,
        reason: String,
    },
    /// Alerts held during a routing rule's quiet hours, sent as one message per channel.
    Digest {
        channel: String,
        /// The end of the quiet hours; the dedup key includes it.
        held_until_ms: i64,
        total: u32,
        counts: Vec<digest::DigestCount>,
        items: Vec<digest::DigestItem>,
    },
    /// A week was exported: the numbers per brand and a link to the chart.
    WeeklySummary(weekly::WeeklyReport),
    /// A task's post is going viral: its engagement grew fast (or past the brand's number)
    /// after earshot first saw it; sent once per task.
    GoingViral {
        task_id: TaskId,
        /// The brand's name as chat shows it (not its id).
        brand: String,
        /// The task's priority after the escalation.
        priority: Priority,
        criticality: f32,
        platform: Platform,
        author: String,
        text: String,
        url: Option<String>,
        /// How it grew, e.g. "likes 12 → 340 in 50 min".
        growth: String,
    },
    /// A recurring problem gets complaints much faster than usual; once per problem per
    /// cool-down.
    ProblemGrowing {
        problem_id: i64,
        brand: BrandId,
        /// Its distinctive terms, e.g. "login · app · error".
        label: String,
        /// Complaints in the last `window_minutes`.
        count: u32,
        window_minutes: u32,
        /// The usual number per window, from the baseline.
        usual_per_window: f64,
        /// Complaints it holds in all, and its active tasks still without a first response.
        total: u32,
        unanswered: u32,
        /// A few of its posts' texts.
        examples: Vec<String>,
        /// The problem in the web queue, when `[exports] public_url` is set.
        link: Option<String>,
        /// When it was alerted; the dedup key includes it, so one alert per cool-down.
        alerted_at_ms: i64,
    },
}

impl AlertPayload {
    /// The alert with its task's author erased (a person's erasure request): no handle, no
    /// post text, no link. Reasons (the factors' words, which may quote the post) go too.
    pub fn erase_author(&mut self) {
        match self {
            AlertPayload::TaskOpened {
                author,
                text,
                url,
                reasons,
                ..
            } => {
                *author = crate::domain::UNKNOWN_AUTHOR.to_owned();
                text.clear();
                *url = None;
                reasons.clear();
            }
            AlertPayload::Sla { author, text, .. } => {
                *author = crate::domain::UNKNOWN_AUTHOR.to_owned();
                text.clear();
            }
            AlertPayload::GoingViral { author, text, url, .. } => {
                *author = crate::domain::UNKNOWN_AUTHOR.to_owned();
                text.clear();
                *url = None;
            }
            AlertPayload::SourceUnhealthy { .. }
            | AlertPayload::Spike { .. }
            | AlertPayload::SourceSilent { .. }
            | AlertPayload::Digest { .. }
            | AlertPayload::WeeklySummary(_)
            | AlertPayload::ProblemGrowing { .. } => {}
        }
    }

    /// A key that is the same for the same event, so enqueueing twice stores it once.
    pub fn dedup_key(&self) -> String {
        match self {
            AlertPayload::TaskOpened { task_id, .. } => format!("task_opened:{task_id}"),
            AlertPayload::Sla { task_id, breached, .. } => {
                format!("{}:{task_id}", if *breached { "sla_breached" } else { "sla_due_soon" })
            }
            AlertPayload::SourceUnhealthy {
                source,
                last_success_at_ms,
                ..
            } => format!("source_unhealthy:{source}:{}", last_success_at_ms.unwrap_or(0)),
            AlertPayload::Spike {
                brand, bucket_start_ms, ..
            } => format!("spike:{brand}:{bucket_start_ms}"),
            AlertPayload::SourceSilent {
                source, last_new_at_ms, ..
            } => format!("source_silent:{source}:{last_new_at_ms}"),
            AlertPayload::Digest {
                channel, held_until_ms, ..
            } => format!("digest:{channel}:{held_until_ms}"),
            AlertPayload::WeeklySummary(report) => report.dedup_key(),
            AlertPayload::GoingViral { task_id, .. } => format!("going_viral:{task_id}"),
            AlertPayload::ProblemGrowing {
                problem_id,
                alerted_at_ms,
                ..
            } => format!("problem_growing:{problem_id}:{alerted_at_ms}"),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            AlertPayload::TaskOpened { .. } => "task_opened",
            AlertPayload::Sla { breached: true, .. } => "sla_breached",
            AlertPayload::Sla { breached: false, .. } => "sla_due_soon",
            AlertPayload::SourceUnhealthy { .. } => "source_unhealthy",
            AlertPayload::Spike { .. } => "spike",
            AlertPayload::SourceSilent { .. } => "source_silent",
            AlertPayload::Digest { .. } => "digest",
            AlertPayload::WeeklySummary(_) => "weekly_summary",
            AlertPayload::GoingViral { .. } => "going_viral",
            AlertPayload::ProblemGrowing { .. } => "problem_growing",
        }
    }

    /// The task the alert is about, if any.
    pub fn task_id(&self) -> Option<TaskId> {
        match self {
            AlertPayload::TaskOpened { task_id, .. }
            | AlertPayload::Sla { task_id, .. }
            | AlertPayload::GoingViral { task_id, .. } => Some(*task_id),
            AlertPayload::SourceUnhealthy { .. }
            | AlertPayload::Spike { .. }
            | AlertPayload::SourceSilent { .. }
            | AlertPayload::Digest { .. }
            | AlertPayload::WeeklySummary(_)
            | AlertPayload::ProblemGrowing { .. } => None,
        }
    }

    /// The task priority, for routing; alerts without one route as critical.
    pub fn priority(&self) -> Priority {
        match self {
            AlertPayload::TaskOpened { priority, .. }
            | AlertPayload::Sla { priority, .. }
            | AlertPayload::GoingViral { priority, .. } => *priority,
            AlertPayload::SourceUnhealthy { .. }
            | AlertPayload::Spike { .. }
            | AlertPayload::SourceSilent { .. }
            | AlertPayload::Digest { .. } => Priority::Critical,
            // Many customers hit by one cause: as urgent as a critical task.
            AlertPayload::ProblemGrowing { .. } => Priority::Critical,
            // Routed by `[exports] summary_channels`, not by priority.
            AlertPayload::WeeklySummary(_) => Priority::Low,
        }
    }

    /// The social platform of the post behind the alert, if any.
    pub fn platform(&self) -> Option<&str> {
        match self {
            AlertPayload::TaskOpened { platform, .. }
            | AlertPayload::Sla { platform, .. }
            | AlertPayload::GoingViral { platform, .. } => Some(platform.as_str()),
            AlertPayload::SourceUnhealthy { .. }
            | AlertPayload::Spike { .. }
            | AlertPayload::SourceSilent { .. }
            | AlertPayload::Digest { .. }
            | AlertPayload::WeeklySummary(_)
            | AlertPayload::ProblemGrowing { .. } => None,
        }
    }

    /// Text that keyword rules look at.
    pub fn text(&self) -> &str {
        match self {
            AlertPayload::TaskOpened { text, .. }
            | AlertPayload::Sla { text, .. }
            | AlertPayload::GoingViral { text, .. } => text,
            AlertPayload::SourceUnhealthy { .. } => "",
            AlertPayload::Spike { .. } | AlertPayload::SourceSilent { .. } | AlertPayload::Digest { .. } => "",
            AlertPayload::WeeklySummary(_) => "",
            AlertPayload::ProblemGrowing { label, .. } => label,
        }
    }

    /// What every platform shows, before platform markup.
    pub fn summary(&self) -> render::Summary {
        match self {
            AlertPayload::TaskOpened {
                task_id,
                brand,
                priority,
                criticality,
                platform,
                author,
                text,
                url,
                reasons,
            } => render::Summary {
                title: format!("New {} task #{task_id} for {brand}", priority.as_str()),
                facts: vec![
                    ("Author", author.clone()),
                    ("Platform", platform.to_string()),
                    ("Criticality", format!("{criticality:.0}")),
                    ("Why", reasons.join(", ")),
                ],
                quote: Some(text.clone()),
                link: url.clone().filter(|url| is_web_link(url)),
                color: if *priority == Priority::Critical {
                    0xD7_2C_2C
                } else {
                    0xE8_A2_00
                },
            },
            AlertPayload::Sla {
                task_id,
                brand,
                priority,
                platform,
                author,
                due_at_ms,
                customer_posted_at_ms,
                breached,
                text,
            } => render::Summary {
                title: if *breached {
                    format!("SLA breached: {} task #{task_id} for {brand}", priority.as_str())
                } else {
                    format!("SLA due soon: {} task #{task_id} for {brand}", priority.as_str())
                },
                facts: [
                    Some(("Author", author.clone())),
                    Some(("Platform", platform.to_string())),
                    customer_posted_at_ms.map(|at| ("Customer posted", format_utc(at))),
                    Some(("Due", format_utc(*due_at_ms))),
                ]
                .into_iter()
                .flatten()
                .collect(),
                quote: (!text.is_empty()).then(|| text.clone()),
                link: None,
                color: if *breached { 0xD7_2C_2C } else { 0xE8_A2_00 },
            },
            AlertPayload::SourceUnhealthy {
                source,
                brand,
                consecutive_failures,
                error_kind,
                last_success_at_ms,
            } => render::Summary {
                title: if error_kind.as_deref() == Some("unauthorized") {
                    format!("Source {source} ({brand}) was refused: check its credentials")
                } else {
                    format!("Source {source} ({brand}) is failing")
                },
                facts: vec![
                    ("Failures in a row", consecutive_failures.to_string()),
                    ("Last error", error_kind.clone().unwrap_or_else(|| "unknown".to_owned())),
                    (
                        "Last success",
                        last_success_at_ms
                            .and_then(chrono::DateTime::from_timestamp_millis)
                            .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
                            .unwrap_or_else(|| "never".to_owned()),
                    ),
                ],
                quote: None,
                link: None,
                color: 0xD7_2C_2C,
            },
            AlertPayload::WeeklySummary(report) => render::Summary {
                title: report.title(),
                facts: report
                    .brands
                    .iter()
                    .take(weekly::MAX_BRANDS)
                    .map(|brand| {
                        let facts = weekly::brand_facts(brand);
                        let line: Vec<String> =
                            facts.iter().map(|(label, value)| format!("{label}: {value}")).collect();
                        ("Brand", format!("{} — {}", brand.brand, line.join("; ")))
                    })
                    .collect(),
                quote: None,
                link: report.chart_url.clone(),
                color: 0x1F_4E_9C,
            },
            AlertPayload::Spike {
                brand,
                bucket_start_ms,
                bucket_minutes,
                count,
                baseline_median,
                z_score,
                terms,
                examples,
            } => digest::spike_summary(
                brand.as_str(),
                *bucket_start_ms,
                *bucket_minutes,
                *count,
                *baseline_median,
                *z_score,
                terms,
                examples,
            ),
            AlertPayload::SourceSilent {
                source,
                brand,
                last_new_at_ms,
                usual_gap_ms,
                reason,
            } => render::Summary {
                title: format!("Source {source} ({brand}) has gone silent"),
                facts: vec![
                    ("Why", reason.clone()),
                    ("Last new mention", format_utc(*last_new_at_ms)),
                    ("Usual gap", format!("{} min", usual_gap_ms / 60_000)),
                ],
                quote: None,
                link: None,
                color: 0xE8_A2_00,
            },
            AlertPayload::Digest {
                held_until_ms,
                total,
                counts,
                items,
                ..
            } => digest::digest_summary(*held_until_ms, *total, counts, items),
            AlertPayload::GoingViral {
                task_id,
                brand,
                priority,
                criticality,
                platform,
                author,
                text,
                url,
                growth,
            } => render::Summary {
                title: format!("Going viral: {} task #{task_id} for {brand}", priority.as_str()),
                facts: vec![
                    ("Growth", growth.clone()),
                    ("Author", author.clone()),
                    ("Platform", platform.to_string()),
                    ("Criticality", format!("{criticality:.0}")),
                ],
                quote: (!text.is_empty()).then(|| text.clone()),
                link: url.clone().filter(|url| is_web_link(url)),
                color: 0xD7_2C_2C,
            },
            AlertPayload::ProblemGrowing {
                problem_id,
                brand,
                label,
                count,
                window_minutes,
                usual_per_window,
                total,
                unanswered,
                examples,
                link,
                ..
            } => render::Summary {
                title: format!("Problem growing for {brand}: {label}"),
                facts: vec![
                    (
                        "Complaints",
                        format!("{count} in the last {window_minutes} min (usually {usual_per_window:.1})"),
                    ),
                    ("In all", total.to_string()),
                    ("Unanswered", unanswered.to_string()),
                    ("Problem", format!("#{problem_id}")),
                ],
                quote: (!examples.is_empty()).then(|| {
                    examples
                        .iter()
                        .map(|e| format!("“{}”", render::truncate_chars(e, 280)))
                        .collect::<Vec<_>>()
                        .join("\n")
                }),
                link: link.clone().filter(|url| is_web_link(url)),
                color: 0xD7_2C_2C,
            },
        }
    }

    /// One line for a digest: the title and, when there is one, the link.
    pub fn digest_item(&self) -> digest::DigestItem {
        let summary = self.summary();
        digest::DigestItem {
            title: summary.title,
            link: summary.link,
        }
    }

    /// A sample alert for `earshot alerts test`.
    pub fn sample() -> AlertPayload {
        AlertPayload::TaskOpened {
            task_id: TaskId::new(0),
            brand: "earshot".to_owned(),
            priority: Priority::Critical,
            criticality: 99.0,
            platform: Platform::Other,
            author: "@earshot".to_owned(),
            text: "This is a test alert from earshot. If you can read this, the channel works.".to_owned(),
            url: None,
            reasons: vec!["test".to_owned()],
        }
    }
}

/// Whether a link may be shown in chat: only http(s), never `javascript:` or `data:`.
pub(crate) fn is_web_link(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// `2030-03-17 10:15 UTC`, or the raw number if it is out of range.
pub(crate) fn format_utc(at_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(at_ms)
        .map(|at| at.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_else(|| at_ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn going_viral() -> AlertPayload {
        AlertPayload::GoingViral {
            task_id: TaskId::new(7),
            brand: "Acme Air".into(),
            priority: Priority::High,
            criticality: 72.0,
            platform: Platform::X,
            author: "@jo".into(),
            text: "lost my bag".into(),
            url: Some("https://x.com/jo/status/1".into()),
            growth: "likes 12 → 340 in 50 min".into(),
        }
    }

    #[test]
    fn a_going_viral_alert_renders_on_every_platform_once_per_task() {
        let payload = going_viral();
        assert_eq!(payload.dedup_key(), "going_viral:7");
        assert_eq!(payload.kind(), "going_viral");
        assert_eq!(
            (payload.task_id(), payload.platform()),
            (Some(TaskId::new(7)), Some("x"))
        );
        assert_eq!(payload.priority(), Priority::High);
        for kind in channels::every_kind() {
            let body = kind.render(&payload, None).to_string();
            assert!(body.contains("likes 12 → 340 in 50 min"), "{kind:?}: {body}");
            if !matches!(kind, ChannelKind::Webhook(_)) {
                // Teams escapes the `#` of the task number.
                assert!(body.contains("Going viral: high task "), "{kind:?}: {body}");
                assert!(body.contains("7 for Acme Air"), "{kind:?}: {body}");
            }
        }
        let mut erased = payload.clone();
        erased.erase_author();
        let AlertPayload::GoingViral { author, text, url, .. } = &erased else {
            panic!("{erased:?}");
        };
        assert_eq!(
            (author.as_str(), text.as_str(), url),
            (crate::domain::UNKNOWN_AUTHOR, "", &None)
        );
        let item = payload.digest_item();
        assert!(item.title.starts_with("Going viral"), "{item:?}");
    }

    #[test]
    fn an_sla_alert_says_when_the_customer_posted() {
        let payload = AlertPayload::Sla {
            task_id: TaskId::new(7),
            brand: BrandId::parse("acme").unwrap(),
            priority: Priority::High,
            platform: Platform::X,
            author: "@jo".into(),
            due_at_ms: 1_795_201_200_000,
            customer_posted_at_ms: Some(1_795_186_800_000),
            breached: true,
            text: "lost my bag".into(),
        };
        let facts = payload.summary().facts;
        assert_eq!(
            facts,
            [
                ("Author", "@jo".to_owned()),
                ("Platform", "x".to_owned()),
                ("Customer posted", "2026-11-20 15:00 UTC".to_owned()),
                ("Due", "2026-11-20 19:00 UTC".to_owned()),
            ]
        );
        // Stored before the field existed: still readable, without the line.
        let old: AlertPayload = serde_json::from_value(serde_json::json!({
            "kind": "sla", "task_id": 7, "brand": "acme", "priority": "high", "platform": "x",
            "author": "@jo", "due_at_ms": 1_795_201_200_000_i64, "breached": false
        }))
        .unwrap();
        assert_eq!(old.summary().facts.len(), 3);
    }
}
