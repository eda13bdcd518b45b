//! What spike and digest alerts say: building one digest from the alerts held during quiet
//! hours (counts by kind and brand, the most urgent items with links), and the platform-
//! neutral `Summary` of a spike and of a digest. Pure.

use std::collections::BTreeMap;

use super::render::Summary;
use super::terms::SpikeTerm;
use super::{AlertPayload, format_utc};

/// Items a digest lists by name; the rest are only counted.
pub const DIGEST_ITEMS: usize = 10;

/// How many held alerts of one kind were about one brand.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DigestCount {
    pub kind: String,
    pub brand: Option<String>,
    pub count: u32,
}

/// One held alert, as the digest lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DigestItem {
    pub title: String,
    pub link: Option<String>,
}

/// The digest for `channel` of the alerts held until `held_until_ms` (with their brands),
/// in the order they were raised; the most urgent come first in the list.
pub fn build_digest(channel: &str, held_until_ms: i64, held: &[(Option<String>, AlertPayload)]) -> AlertPayload {
    let mut counts: BTreeMap<(String, Option<String>), u32> = BTreeMap::new();
    for (brand, payload) in held {
        *counts.entry((payload.kind().to_owned(), brand.clone())).or_insert(0) += 1;
    }
    let mut by_urgency: Vec<&AlertPayload> = held.iter().map(|(_, payload)| payload).collect();
    // Stable: equally urgent alerts keep the order they were raised in.
    by_urgency.sort_by_key(|payload| payload.priority());
    AlertPayload::Digest {
        channel: channel.to_owned(),
        held_until_ms,
        total: u32::try_from(held.len()).unwrap_or(u32::MAX),
        counts: counts
            .into_iter()
            .map(|((kind, brand), count)| DigestCount { kind, brand, count })
            .collect(),
        items: by_urgency
            .into_iter()
            .take(DIGEST_ITEMS)
            .map(AlertPayload::digest_item)
            .collect(),
    }
}

pub(super) fn digest_summary(held_until_ms: i64, total: u32, counts: &[DigestCount], items: &[DigestItem]) -> Summary {
    let by_kind = counts
        .iter()
        .map(|count| match &count.brand {
            Some(brand) => format!("{} · {brand}: {}", kind_label(&count.kind), count.count),
            None => format!("{}: {}", kind_label(&count.kind), count.count),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let mut lines: Vec<String> = items
        .iter()
        .map(|item| match &item.link {
            Some(link) => format!("• {} — {link}", item.title),
            None => format!("• {}", item.title),
        })
        .collect();
    let unlisted = usize::try_from(total).unwrap_or(usize::MAX).saturating_sub(items.len());
    if unlisted > 0 {
        lines.push(format!("… and {unlisted} more"));
    }
    Summary {
        title: format!(
            "Quiet-hours digest: {total} alert{} held",
            if total == 1 { "" } else { "s" }
        ),
        facts: vec![("Held until", format_utc(held_until_ms)), ("By kind", by_kind)],
        quote: Some(lines.join("\n")),
        link: None,
        color: 0x5B_6B_7F,
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn spike_summary(
    brand: &str,
    bucket_start_ms: i64,
    bucket_minutes: u32,
    count: u32,
    baseline_median: f64,
    z_score: f64,
    terms: &[SpikeTerm],
    examples: &[String],
) -> Summary {
    let top = terms
        .iter()
        .map(|term| {
            format!(
                "{} ({} posts, usually {}%)",
                term.term, term.spike_posts, term.baseline_percent
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let headline = terms
        .iter()
        .take(3)
        .map(|term| term.term.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Summary {
        title: if headline.is_empty() {
            format!("Spike in negative mentions for {brand}: {count} in {bucket_minutes} min")
        } else {
            format!("Spike in negative mentions for {brand}: {count} in {bucket_minutes} min ({headline})")
        },
        facts: vec![
            (
                "Window",
                format!("{} + {bucket_minutes} min", format_utc(bucket_start_ms)),
            ),
            ("Negative mentions", count.to_string()),
            ("Usual", format!("{baseline_median:.1} per {bucket_minutes} min")),
            ("Robust z-score", format!("{z_score:.1}")),
            (
                "Top terms",
                if top.is_empty() {
                    "none stand out".to_owned()
                } else {
                    top
                },
            ),
        ],
        quote: None,
        link: examples.iter().find(|link| super::is_web_link(link)).cloned(),
        color: 0xD7_2C_2C,
    }
}

fn kind_label(kind: &str) -> &str {
    match kind {
        "task_opened" => "New tasks",
        "sla_breached" => "SLA breached",
        "sla_due_soon" => "SLA due soon",
        "source_unhealthy" => "Failing sources",
        "source_silent" => "Silent sources",
        "spike" => "Spikes",
        "going_viral" => "Going viral",
        "problem_growing" => "Growing problems",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Priority, TaskId};

    fn task(task_id: TaskId, priority: Priority) -> AlertPayload {
        AlertPayload::TaskOpened {
            task_id,
            brand: "acme".to_owned(),
            priority,
            criticality: 60.0,
            platform: crate::domain::Platform::X,
            author: "@jo".to_owned(),
            text: "late again".to_owned(),
            url: Some(format!("https://x.com/jo/status/{task_id}")),
            reasons: Vec::new(),
        }
    }

    #[test]
    fn a_digest_counts_by_kind_and_brand_and_lists_the_most_urgent_first() {
        let mut held: Vec<(Option<String>, AlertPayload)> = (1..=12)
            .map(|id| (Some("acme".to_owned()), task(TaskId::new(id), Priority::Medium)))
            .collect();
        held.push((Some("acme".to_owned()), task(TaskId::new(13), Priority::High)));
        held.push((
            None,
            AlertPayload::SourceSilent {
                source: "feed".to_owned(),
                brand: crate::domain::BrandId::parse("acme").unwrap(),
                last_new_at_ms: 0,
                usual_gap_ms: 60_000,
                reason: "quiet".to_owned(),
            },
        ));

        let digest = build_digest("ops", 1_000, &held);

        let AlertPayload::Digest {
            total, counts, items, ..
        } = &digest
        else {
            panic!("{digest:?}");
        };
        assert_eq!(*total, 14);
        assert_eq!(
            counts,
            &vec![
                DigestCount {
                    kind: "source_silent".to_owned(),
                    brand: None,
                    count: 1
                },
                DigestCount {
                    kind: "task_opened".to_owned(),
                    brand: Some("acme".to_owned()),
                    count: 13
                },
            ]
        );
        assert_eq!(items.len(), DIGEST_ITEMS);
        assert!(items[0].title.starts_with("Source feed"), "critical first: {items:?}");
        assert!(items[1].title.contains("#13"), "{items:?}");
        assert_eq!(items[1].link.as_deref(), Some("https://x.com/jo/status/13"));
        let summary = digest.summary();
        assert_eq!(summary.title, "Quiet-hours digest: 14 alerts held");
        let quote = summary.quote.unwrap();
        assert!(quote.ends_with("… and 4 more"), "{quote}");
        assert!(
            summary.facts[1].1.contains("New tasks · acme: 13"),
            "{:?}",
            summary.facts
        );
        assert_eq!(digest.dedup_key(), "digest:ops:1000");
    }
}
