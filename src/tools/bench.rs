//! `earshot bench`: a deterministic generator of realistic brand mentions and their JSONL
//! import form, the benchmark configuration (shared with `bench_instances`), and the two
//! measurements: scoring alone through `ScoringService`, and the whole pipeline on a
//! temporary SQLite file.
//!
//! The generator mixes complaint, praise, question and neutral templates with the names and
//! handles of one fictional airline, so every post is a mention when imported for that brand,
//! and lengths spread like tweets (a short core, sometimes a second sentence, hashtags or a link).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use anyhow::Context;

use super::memory::{peak_rss_mib, reset_peak_rss};
use crate::app::App;
use crate::config::{self, ScorerKind, ScoringSettings};
use crate::scoring::ScoreInput;

/// The brand every generated post mentions.
pub const BRAND_ID: &str = "northwind";
pub const BRAND_NAME: &str = "Northwind Air";
pub const BRAND_HANDLE: &str = "@NorthwindAir";

const MENTIONS: &[&str] = &["@NorthwindAir", "Northwind Air", "northwind air", "#NorthwindAir"];

const COMPLAINTS: &[&str] = &[
    "{b} my flight {f} was cancelled with no notice and nobody at the desk can tell me why.",
    "Been on hold with {b} for {n} minutes now. This is unacceptable.",
    "{b} lost my bag AGAIN. Third time this year. I want a refund.",
    "Charged twice for the same seat upgrade by {b}, still waiting on the money back.",
    "{b} your app won't load and check-in closes in {n} minutes. Thanks for nothing.",
    "Flight {f} delayed {n} hours and {b} won't even give us water. Never flying with you again.",
    "{b} booked a window seat, got the middle next to the toilets. Not working as advertised.",
    "Why does {b} keep ignoring my emails about the damaged suitcase?",
];
const PRAISE: &[&str] = &[
    "Shoutout to the crew on {b} {f}, they found my kid's teddy and brought it to the gate.",
    "{b} upgraded me for my birthday, what a lovely surprise!",
    "Smoothest boarding ever with {b} this morning. Landed {n} minutes early too.",
    "The {b} lounge coffee is honestly better than my local cafe.",
    "Big thanks to {b} support for sorting my rebooking in {n} minutes.",
];
const QUESTIONS: &[&str] = &[
    "{b} can I bring a folding bike as checked luggage on {f}?",
    "Does {b} still do free changes on basic fares? Asking before I book.",
    "{b} what's the cabin bag size limit for regional flights?",
    "Is the {b} app down for anyone else or just me?",
];
const NEUTRAL: &[&str] = &[
    "Boarding {b} {f} to Lisbon.",
    "{b} announced new routes to Porto and Bergen starting in March.",
    "Reading about the {b} fleet renewal plans.",
    "On a {b} flight tomorrow, {n}am departure.",
];
const TAILS: &[&str] = &[
    "",
    "",
    " #travel",
    " https://example.com/p/{n}",
    " Seriously.",
    " Has anyone else had this?",
    " Fingers crossed for the return leg.",
    " 🙃",
];

/// SplitMix64: small, fast and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// One generated post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticPost {
    pub id: String,
    pub author: String,
    pub text: String,
    /// Seconds since the Unix epoch.
    pub created_at: i64,
    pub followers: u64,
}

/// `n` posts, the same for the same `seed`: 35% complaints, 25% praise, 15% questions,
/// 25% neutral.
pub fn generate_posts(n: usize, seed: u64) -> Vec<SyntheticPost> {
    let mut rng = Rng(seed);
    let start = 1_795_000_000_i64;
    (0..n)
        .map(|i| {
            let bucket = rng.below(100);
            let templates = match bucket {
                0..35 => COMPLAINTS,
                35..60 => PRAISE,
                60..75 => QUESTIONS,
                _ => NEUTRAL,
            };
            let mut text = rng.pick(templates).to_owned();
            if rng.below(3) == 0 {
                text.push(' ');
                text.push_str(rng.pick(match bucket {
                    0..35 => COMPLAINTS,
                    35..60 => PRAISE,
                    _ => NEUTRAL,
                }));
            }
            text.push_str(rng.pick(TAILS));
            let mention = rng.pick(MENTIONS);
            let flight = format!("NW{}", 100 + rng.below(900));
            let minutes = (5 + rng.below(170)).to_string();
            // Only the first `{b}` names the brand; repeats read as "they".
            let text = text
                .replacen("{b}", mention, 1)
                .replace("{b}", "they")
                .replace("{f}", &flight)
                .replace("{n}", &minutes);
            SyntheticPost {
                id: format!("bench-{i}"),
                author: format!("@user{}", rng.below(n.max(1) / 3 + 1)),
                text,
                created_at: start + i as i64 * 7,
                followers: rng.next() % 50_000,
            }
        })
        .collect()
}

/// The posts as a JSONL import file (the `jsonl` source's format), which
/// `scripts/python_peer_bench.py` also reads (it uses the `text` field).
pub fn to_jsonl(posts: &[SyntheticPost]) -> String {
    let mut out = String::new();
    for post in posts {
        let line = serde_json::json!({
            "platform": "x",
            "id": post.id,
            "author": post.author,
            "followers": post.followers,
            "text": post.text,
            "created_at": post.created_at,
            "lang": "en",
        });
        let _ = writeln!(out, "{line}");
    }
    out
}

/// How the benchmark configuration is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BenchMode {
    /// `earshot bench`: one process polls and scores directly; nothing is scheduled.
    OneProcess,
    /// `earshot bench-instances`: several `serve` processes poll the feed every second and
    /// share the work through the database.
    Instances,
}

/// The benchmark's configuration: the generated brand with one JSONL source reading `feed`,
/// the store at `database_url`, exports under `dir`.
pub fn config_toml(mode: BenchMode, database_url: &str, scoring: &ScoringSettings, feed: &Path, dir: &Path) -> String {
    let quote = |text: &str| toml::Value::String(text.to_owned()).to_string();
    let (database_extra, instances, exports_extra, schedule, source_extra) = match mode {
        BenchMode::OneProcess => ("", "", "", "0 0 * * * *", ""),
        BenchMode::Instances => (
            "max_connections = 4\n",
            "[instances]\nscoring_sweep_ms = 200\n\n",
            "enabled = false\n",
            "* * * * * *",
            "batch_lines = 200\n",
        ),
    };
    format!(
        "[database]\nurl = {url}\n{database_extra}\n\
         [scoring]\nscorer = \"{kind}\"\nmodel = {model}\nbatch_size = {batch}\nqueue_batches = {queue}\nthreads = {threads}\n{precision}\n\
         {instances}\
         [exports]\n{exports_extra}dir = {exports}\n\n\
         [[brands]]\nid = \"{id}\"\nname = \"{name}\"\nkeywords = [\"northwind air\", \"northwindair\"]\nhandles = [\"{handle}\"]\n\n\
         [[sources]]\nid = \"bench-feed\"\nbrand = \"{id}\"\nschedule = \"{schedule}\"\ntype = \"jsonl\"\npath = {feed}\n{source_extra}",
        url = quote(database_url),
        kind = match scoring.scorer {
            ScorerKind::Model => "model",
            ScorerKind::Lexicon => "lexicon",
        },
        model = quote(&scoring.model.display().to_string()),
        batch = scoring.batch_size,
        queue = scoring.queue_batches,
        threads = scoring.threads,
        precision = scoring_extra(scoring),
        exports = quote(&dir.join("exports").display().to_string()),
        id = BRAND_ID,
        name = BRAND_NAME,
        handle = BRAND_HANDLE,
        feed = quote(&feed.display().to_string()),
    )
}

/// `[scoring]` lines for the workers, the precision and the ONNX Runtime library, when set.
fn scoring_extra(scoring: &ScoringSettings) -> String {
    let mut lines = String::new();
    if scoring.workers > 0 {
        lines.push_str(&format!("workers = {}\n", scoring.workers));
    }
    if let Some(precision) = scoring.precision {
        lines.push_str(&format!("precision = \"{}\"\n", precision.as_str()));
    }
    if let Some(library) = &scoring.onnxruntime {
        let path = toml::Value::String(library.display().to_string());
        lines.push_str(&format!("onnxruntime = {path}\n"));
    }
    lines
}

/// Scoring alone: posts per second through the service, and the process's peak memory.
#[derive(Debug, Clone)]
pub struct ScoringRun {
    /// The scorer's name: model, version and precision (`complaint-minilm-l6@1.0.0+int8`).
    pub scorer: String,
    pub n_scored: usize,
    pub seconds: f64,
    pub peak_rss_mib: Option<f64>,
}

/// The whole pipeline: import, match, commit, score, assess, tasks, outbox.
#[derive(Debug, Clone, Copy)]
pub struct PipelineRun {
    pub n_read: usize,
    pub n_mentions: usize,
    pub n_scored: usize,
    pub n_tasks_opened: usize,
    pub seconds: f64,
    pub peak_rss_mib: Option<f64>,
    /// Whether the peak was reset before this phase (else it is the process's peak).
    pub peak_reset: bool,
    /// The problems jobs afterwards (off the pipeline's path: they run on their schedule):
    /// complaints grouped, how long grouping and one re-clustering took, and the peak RSS.
    pub n_grouped: usize,
    pub problems_seconds: f64,
    pub problems_peak_rss_mib: Option<f64>,
}

impl ScoringRun {
    pub fn posts_per_second(&self) -> f64 {
        self.n_scored as f64 / self.seconds
    }
}

impl PipelineRun {
    pub fn posts_per_second(&self) -> f64 {
        self.n_read as f64 / self.seconds
    }
}

/// Scores `posts` through `ScoringService` (dedicated thread, bounded queue), one job per
/// batch sent together so the queue stays full as it would under load, after one warm-up batch.
pub async fn score_alone(scoring: &ScoringSettings, posts: &[SyntheticPost]) -> anyhow::Result<ScoringRun> {
    let service = crate::scoring::start_service(scoring)?;
    let scorer = service.name().to_owned();
    let inputs: Vec<ScoreInput> = posts
        .iter()
        .map(|p| ScoreInput {
            text: p.text.clone(),
            lang_hint: Some("en".into()),
        })
        .collect();
    let warmup = inputs
        .iter()
        .take(service.batch_size() * service.workers())
        .cloned()
        .collect();
    service.score(warmup).await?;
    let started = Instant::now();
    // Jobs as the pipeline sends them (a claimed chunk each), which the service cuts into
    // length-sorted batches of `batch_size`.
    let jobs = inputs
        .chunks(crate::pipeline::ASSESS_CHUNK)
        .map(|chunk| service.score(chunk.to_vec()));
    let n_scored: usize = futures::future::try_join_all(jobs).await?.iter().map(Vec::len).sum();
    let seconds = started.elapsed().as_secs_f64();
    Ok(ScoringRun {
        scorer,
        n_scored,
        seconds,
        peak_rss_mib: peak_rss_mib(),
    })
}

/// Runs the whole pipeline once over `jsonl` on a temporary SQLite file: one poll of the
/// import (matching, commit with the cursor, batch by batch) and, as each batch commits,
/// scoring, criticality, tasks and outbox.
pub async fn whole_pipeline(scoring: &ScoringSettings, jsonl: &str) -> anyhow::Result<PipelineRun> {
    let peak_reset = reset_peak_rss();
    let dir = tempfile::Builder::new().prefix("earshot-bench-").tempdir()?;
    let feed = dir.path().join("posts.jsonl");
    std::fs::write(&feed, jsonl).with_context(|| format!("failed to write {}", feed.display()))?;
    let database_url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let toml = config_toml(BenchMode::OneProcess, &database_url, scoring, &feed, dir.path());
    let settings = config::from_toml(&toml, "the benchmark configuration")?;
    let app = App::build(settings).await?;
    let (_, source) = app.sources.first().context("the benchmark source was not built")?;
    let started = Instant::now();
    // As `serve` runs them: the import commits batch by batch, and the scoring worker scores
    // each committed batch while the next is read.
    let poll_done = tokio_util::sync::CancellationToken::new();
    let committed = app.pipeline.committed().clone();
    let (poll, scored) = tokio::join!(
        async {
            let poll = app.pipeline.poll_source(source.as_ref()).await;
            poll_done.cancel();
            poll
        },
        async {
            let (mut n_scored, mut n_tasks_opened) = (0, 0);
            loop {
                // Once the import has finished, one more pass sees everything it committed.
                let last_pass = poll_done.is_cancelled();
                let report = app.pipeline.score_pending().await?;
                n_scored += report.n_scored;
                n_tasks_opened += report.n_tasks_opened;
                if last_pass {
                    return Ok::<_, crate::pipeline::PipelineError>((n_scored, n_tasks_opened));
                }
                tokio::select! {
                    _ = committed.notified() => {}
                    _ = poll_done.cancelled() => {}
                }
            }
        }
    );
    let (poll, (n_scored, n_tasks_opened)) = (poll?, scored?);
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss = peak_rss_mib();
    reset_peak_rss();
    let embedder = app
        .embedder
        .clone()
        .context("the benchmark configuration groups problems")?;
    // Loaded on first use in the service; load it before the clock starts.
    embedder.embed(vec!["warm-up".to_owned()]).await?;
    let grouping_started = Instant::now();
    let ctx = crate::pipeline::problems::ProblemsContext {
        store: app.store.as_ref(),
        settings: &app.settings.problems,
        brands: &app.settings.brands,
        embedder: Some(&embedder),
        model: embedder.name(),
        holder: "bench",
        public_url: None,
    };
    // The generated posts are dated in the past (the same for every run): group them as the
    // job would a day after the first of them.
    let now = app
        .store
        .first_post_at()
        .await?
        .map_or_else(crate::domain::now_millis, |first| first + 24 * 3_600_000);
    let grouped = crate::pipeline::problems::group_new_complaints(&ctx, now).await?;
    crate::pipeline::problems::recluster(&ctx, now).await?;
    let problems_seconds = grouping_started.elapsed().as_secs_f64();
    Ok(PipelineRun {
        n_grouped: grouped.n_grouped,
        problems_seconds,
        problems_peak_rss_mib: peak_rss_mib(),
        n_read: poll.n_fetched,
        n_mentions: poll.n_new,
        n_scored,
        n_tasks_opened,
        seconds,
        peak_rss_mib: peak_rss,
        peak_reset,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_every_post_names_the_brand() {
        let a = generate_posts(500, 7);
        let b = generate_posts(500, 7);

        assert_eq!(a, b);
        assert_ne!(a, generate_posts(500, 8));
        for post in &a {
            assert!(
                post.text.to_lowercase().contains("northwindair") || post.text.to_lowercase().contains("northwind air")
            );
            assert!(!post.text.contains('{'), "{}", post.text);
        }
        let lengths: Vec<usize> = a.iter().map(|p| p.text.chars().count()).collect();
        assert!(lengths.iter().all(|l| (15..=280).contains(l)), "{lengths:?}");
    }

    #[test]
    fn the_one_process_config_loads_with_one_unscheduled_import() {
        let scoring = ScoringSettings {
            scorer: ScorerKind::Lexicon,
            ..ScoringSettings::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("posts.jsonl");

        let toml = config_toml(BenchMode::OneProcess, "sqlite://bench.db", &scoring, &feed, dir.path());

        let settings = config::from_toml(&toml, "bench").unwrap();
        assert_eq!(settings.sources.len(), 1);
        assert_eq!(settings.brands[0].id.as_str(), BRAND_ID);
        assert_eq!(settings.scoring.scorer, ScorerKind::Lexicon);
        assert!(settings.exports.enabled);
    }

    #[test]
    fn the_jsonl_is_one_importable_object_per_post() {
        let posts = generate_posts(20, 1);
        let jsonl = to_jsonl(&posts);

        let lines: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 20);
        assert_eq!(lines[3]["text"], posts[3].text.as_str());
        assert_eq!(lines[3]["id"], "bench-3");
    }
}
