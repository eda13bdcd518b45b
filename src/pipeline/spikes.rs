//! The spike job: for each brand, judge the latest complete time buckets of negative
//! mentions against their baseline (`alerts::spike`), name the spike's terms
//! (`alerts::terms`), and put one alert per spike in the outbox.
//!
//! `check_spikes` is a plain async function with an explicit `now`; the scheduler calls it
//! every minute, tests call it directly. It is safe to run any number of times: the dedup
//! key is brand + bucket, and the cool-down is read back from the outbox, so neither a
//! re-run nor a restart doubles an alert. Buckets are by when posts were written, and the
//! last `LATE_BUCKETS` complete buckets are judged, so posts a source delivers a few minutes
//! late still count. A brand whose stored posts do not reach back over the whole baseline is
//! not judged (a newly added brand has no usual level yet).

use std::collections::HashMap;

use crate::alerts::AlertPayload;
use crate::alerts::spike::{SpikeSettings, cooling_down, judge};
use crate::alerts::terms::{TermInput, brand_words, top_terms};
use crate::config::BrandSettings;
use crate::domain::Millis;
use crate::store::{NegativePost, Store, StoreError};

/// How many of the latest complete buckets are judged on each run.
pub const LATE_BUCKETS: i64 = 2;
/// Posts read to name the terms of a spike, and of its baseline.
const SPIKE_POSTS: usize = 500;
const BASELINE_POSTS: usize = 2000;
/// Example links an alert carries.
const EXAMPLES: usize = 3;
/// Earlier spike alerts read back for the cool-down.
const RECENT_SPIKES: usize = 20;

/// What one run found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpikeReport {
    /// Brand-buckets judged.
    pub n_judged: usize,
    /// Spikes found, and of those the ones alerted (the rest were cooling down or already
    /// alerted).
    pub n_spikes: usize,
    pub n_alerted: usize,
}

/// Judges every brand's latest complete buckets and enqueues an alert for each new spike.
pub async fn check_spikes(
    store: &dyn Store,
    settings: &SpikeSettings,
    brands: &[BrandSettings],
    now: Millis,
) -> Result<SpikeReport, StoreError> {
    let mut report = SpikeReport::default();
    if !settings.enabled {
        return Ok(report);
    }
    let bucket_ms = settings.bucket_ms();
    let latest = settings.bucket_of(now) - bucket_ms;
    let candidates: Vec<Millis> = (0..LATE_BUCKETS).rev().map(|back| latest - back * bucket_ms).collect();
    let Some(&oldest) = candidates.first() else {
        return Ok(report);
    };
    let window_start = settings.baseline_start(oldest);
    for brand in brands {
        let Some(first) = store.first_mention_post_at(&brand.id).await? else {
            continue;
        };
        if first > window_start {
            tracing::debug!(brand = %brand.id, "Not enough history for a spike baseline yet.");
            continue;
        }
        let counts: HashMap<Millis, i64> = store
            .negative_counts(&brand.id, window_start, latest + bucket_ms, bucket_ms)
            .await?
            .into_iter()
            .collect();
        let count_of = |bucket: Millis| u32::try_from(counts.get(&bucket).copied().unwrap_or(0)).unwrap_or(u32::MAX);
        let mut alerted: Vec<Millis> = store
            .recent_alerts("spike", &brand.id, RECENT_SPIKES)
            .await?
            .iter()
            .filter_map(|payload| match payload {
                AlertPayload::Spike { bucket_start_ms, .. } => Some(*bucket_start_ms),
                _ => None,
            })
            .collect();
        for &bucket in &candidates {
            report.n_judged += 1;
            let baseline: Vec<u32> = settings.baseline_buckets(bucket).into_iter().map(count_of).collect();
            let verdict = judge(settings, count_of(bucket), &baseline);
            if !verdict.is_spike {
                continue;
            }
            report.n_spikes += 1;
            if alerted.contains(&bucket) || cooling_down(settings, bucket, &alerted) {
                continue;
            }
            let payload = spike_alert(store, settings, brand, bucket, &verdict).await?;
            if store.enqueue_alert(Some(brand.id.as_str()), &payload, now).await? {
                tracing::info!(brand = %brand.id, bucket_start_ms = bucket, count = verdict.count, "Negative spike detected.");
                report.n_alerted += 1;
            }
            alerted.push(bucket);
        }
    }
    Ok(report)
}

async fn spike_alert(
    store: &dyn Store,
    settings: &SpikeSettings,
    brand: &BrandSettings,
    bucket: Millis,
    verdict: &crate::alerts::spike::Verdict,
) -> Result<AlertPayload, StoreError> {
    let spike_posts = store
        .negative_posts(&brand.id, bucket, bucket + settings.bucket_ms(), SPIKE_POSTS)
        .await?;
    let baseline_posts = store
        .negative_posts(&brand.id, settings.baseline_start(bucket), bucket, BASELINE_POSTS)
        .await?;
    let (spike_terms, baseline_terms) = (term_inputs(&spike_posts), term_inputs(&baseline_posts));
    let ignore = brand_words(
        brand
            .keywords
            .iter()
            .chain(brand.handles.iter())
            .map(String::as_str)
            .chain([brand.name.as_str(), brand.id.as_str()]),
    );
    let terms = top_terms(
        &spike_terms,
        &baseline_terms,
        &ignore,
        usize::try_from(settings.top_terms).unwrap_or(5),
    );
    // Example posts: those using the top term first, then the newest.
    let top = terms.first().map(|term| term.term.clone());
    let mut examples: Vec<String> = Vec::new();
    let uses_top = |post: &&NegativePost| {
        top.as_deref()
            .is_some_and(|term| post.text.to_lowercase().contains(term))
    };
    for post in spike_posts
        .iter()
        .filter(uses_top)
        .chain(spike_posts.iter().filter(|post| !uses_top(post)))
    {
        if let Some(url) = &post.url
            && !examples.contains(url)
            && examples.len() < EXAMPLES
        {
            examples.push(url.clone());
        }
    }
    Ok(AlertPayload::Spike {
        brand: brand.id.clone(),
        bucket_start_ms: bucket,
        bucket_minutes: settings.bucket_minutes,
        count: verdict.count,
        baseline_median: verdict.baseline.median,
        z_score: (verdict.z_score * 10.0).round() / 10.0,
        terms,
        examples,
    })
}

fn term_inputs(posts: &[NegativePost]) -> Vec<TermInput<'_>> {
    posts
        .iter()
        .map(|post| TermInput {
            text: &post.text,
            lang: post.lang.as_deref(),
        })
        .collect()
}
