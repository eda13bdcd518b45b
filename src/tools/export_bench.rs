//! The export benchmark: N synthetic mentions in a temporary SQLite file, then one export,
//! reporting rows per second and peak resident memory.
//!
//! Run it with `earshot export-bench --rows 1000000`. It fills the store through the real
//! store methods (`commit_poll`, `save_sentiments`), so the export reads what production
//! would. Peak memory is `VmHWM` from `/proc/self/status`, reset (Linux `clear_refs` 5)
//! after the data is generated so it measures the export, not the generation.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use crate::config::{Settings, from_toml};
use crate::domain::{
    BrandId, MentionId, Millis, Platform, Post, PostDraft, SentimentOutcome, SentimentScores, SourceId, now_millis,
};
use crate::exports::week::IsoWeek;
use crate::exports::{ExportError, ExportFormat, ExportRequest, Exporter, Progress};
use crate::store::{ExportQuery, ExportTrigger, PollCommit, Store};
use crate::tools::memory::{peak_rss_kib, reset_peak_rss};

/// The week the synthetic posts are spread over.
pub const BENCH_WEEK: &str = "2026-W47";
const BATCH: usize = 5_000;

const WORDS: &[&str] = &[
    "flight",
    "delayed",
    "again",
    "refund",
    "card",
    "declined",
    "coffee",
    "cold",
    "staff",
    "rude",
    "great",
    "thanks",
    "app",
    "crashed",
    "luggage",
    "lost",
    "queue",
    "hours",
    "support",
    "useless",
    "love",
    "new",
    "menu",
    "gate",
    "überbucht",
    "航班",
    "😡",
    "👍",
    "\"quoted\"",
    "comma,separated",
    "=SUM(A1:A9)",
    "+1",
    "-minus",
    "@handle",
];

/// What a benchmark run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub n_rows: u64,
    pub format: ExportFormat,
    pub generate_secs: f64,
    pub export_secs: f64,
    pub rows_per_sec: f64,
    /// Peak RSS during the export (kB), if the platform reports it.
    pub export_peak_rss_kb: Option<u64>,
    /// Peak RSS of the whole process (kB) before the reset.
    pub generate_peak_rss_kb: Option<u64>,
    pub files: Vec<String>,
    pub file_bytes: u64,
}

/// Settings for the benchmark's brand and source in `dir`.
pub fn bench_settings(dir: &Path) -> Result<Settings, ExportError> {
    let feed = dir.join("bench.jsonl");
    std::fs::write(&feed, "").map_err(|source| ExportError::File {
        path: feed.clone(),
        source,
    })?;
    let toml = format!(
        r#"
[database]
url = "sqlite://{db}"

[scoring]
scorer = "lexicon"

[exports]
timezone = "Europe/London"
dir = "{exports}"

[[brands]]
id = "bench"
name = "Bench Air"
keywords = ["bench"]

[[sources]]
id = "bench-feed"
brand = "bench"
schedule = "0 0 * * * *"
type = "jsonl"
path = "{feed}"
"#,
        db = dir.join("bench.db").display(),
        exports = dir.join("exports").display(),
        feed = feed.display(),
    );
    from_toml(&toml, "benchmark config").map_err(|error| ExportError::Bench(error.to_string()))
}

/// A cheap deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Stores `n_rows` mentions of `bench` spread over `BENCH_WEEK`, with sentiments.
pub async fn generate(store: &Arc<dyn Store>, n_rows: u64, start: Millis, end: Millis) -> Result<(), ExportError> {
    let source = SourceId::parse("bench-feed").map_err(|e| ExportError::Bench(e.to_string()))?;
    let brand = BrandId::parse("bench").map_err(|e| ExportError::Bench(e.to_string()))?;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut after_mention_id = MentionId::new(0);
    let mut made = 0u64;
    while made < n_rows {
        let n = (n_rows - made).min(BATCH as u64);
        let mut posts = Vec::with_capacity(n as usize);
        for i in 0..n {
            let idx = made + i;
            let n_words = 6 + rng.below(18);
            let text: Vec<&str> = (0..n_words).map(|_| WORDS[rng.below(WORDS.len())]).collect();
            let draft = PostDraft {
                external_id: format!("bench-{idx}"),
                text: format!("bench {}", text.join(" ")),
                author_handle: format!("@user{}", rng.below(50_000)),
                created_at: start + ((end - start - 1) as u128 * u128::from(idx) / u128::from(n_rows)) as i64,
                url: Some(format!("https://x.com/u/status/{idx}")),
                ..PostDraft::default()
            };
            posts.push(Post::new(Platform::X, draft).map_err(|e| ExportError::Bench(e.to_string()))?);
        }
        store
            .commit_poll(PollCommit {
                source: &source,
                brand: &brand,
                posts: &posts,
                quarantined: &[],
                cursor: None,
                at: now_millis(),
            })
            .await?;
        let rows = store
            .export_rows(&ExportQuery {
                start_ms: start,
                end_ms: end,
                brand: None,
                after_mention_id,
                limit: BATCH,
            })
            .await?;
        let mut sentiments = Vec::with_capacity(rows.len());
        for row in &rows {
            let weights = [
                rng.below(100) as f32 + 1.0,
                rng.below(100) as f32 + 1.0,
                rng.below(100) as f32 + 1.0,
            ];
            if let Some(scores) = SentimentScores::from_weights(weights[0], weights[1], weights[2]) {
                let outcome = SentimentOutcome::Scored {
                    scores,
                    model: "bench".into(),
                    language: Some("en".into()),
                    complaint: None,
                };
                sentiments.push((row.post_id, outcome));
            }
        }
        store.save_sentiments(&sentiments, now_millis()).await?;
        after_mention_id = rows.last().map_or(after_mention_id, |r| r.mention_id);
        made += n;
    }
    Ok(())
}

/// Generates, exports and measures.
pub async fn run(
    store: Arc<dyn Store>,
    settings: &Settings,
    n_rows: u64,
    format: ExportFormat,
    progress: Progress<'_>,
) -> Result<BenchReport, ExportError> {
    let exporter = Exporter::new(store.clone(), &settings.exports)?;
    let week: IsoWeek = BENCH_WEEK
        .parse()
        .map_err(|e: crate::exports::week::WeekParseError| ExportError::Bench(e.to_string()))?;
    let (start, end) = week.bounds(exporter.timezone());
    let began = Instant::now();
    generate(&store, n_rows, start, end).await?;
    let generate_secs = began.elapsed().as_secs_f64();
    let generate_peak_rss_kb = peak_rss_kib();
    reset_peak_rss();
    let began = Instant::now();
    let request = ExportRequest {
        week,
        brand: None,
        format,
        trigger: ExportTrigger::Manual,
    };
    let outcome = exporter
        .export_week(&request, progress)
        .await?
        .ok_or_else(|| ExportError::Bench("a manual run is always recorded".into()))?;
    let export_secs = began.elapsed().as_secs_f64();
    let file_bytes = outcome
        .files
        .iter()
        .filter_map(|f| std::fs::metadata(exporter.dir().join(f)).ok())
        .map(|m| m.len())
        .sum();
    Ok(BenchReport {
        n_rows: outcome.n_rows,
        format,
        generate_secs,
        export_secs,
        rows_per_sec: outcome.n_rows as f64 / export_secs.max(1e-9),
        export_peak_rss_kb: peak_rss_kib(),
        generate_peak_rss_kb,
        files: outcome.files,
        file_bytes,
    })
}
