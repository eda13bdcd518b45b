//! `earshot ingest-bench`: the push endpoint under load, and "stored exactly once" checked in
//! the store afterwards, optionally across a kill -9 in the middle of the load.
//!
//! A child `earshot serve` (this same binary) runs on a scratch SQLite file with one push
//! source; `clients` concurrent clients each send their share of `requests` bodies of
//! `posts_per_request` unique posts with an `ingest` token. A request that fails (the server
//! was killed, a connection dropped) is sent again until it is answered — pushing is
//! idempotent, so that is what a real client does. With `kill`, the child is killed with
//! SIGKILL once half the requests are answered and started again on the same database.
//! Reported: accepted posts per second over the whole run, latency percentiles of answered
//! requests, the children's peak resident memory, and whether the store holds every post
//! exactly once. Wiring at the binary's edge, like `bench_instances`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, RwLock};

use super::memory::{kib_to_mib, peak_rss_kib_of};
use super::serve_child::{ServeChild, spawn_serve};
use crate::auth::{Role, new_token, token_hash};
use crate::domain::now_millis;
use crate::exports::summary::percentile;

/// What to measure.
#[derive(Debug, Clone)]
pub struct IngestBench {
    pub clients: usize,
    pub requests: usize,
    pub posts_per_request: usize,
    /// Kill the server with SIGKILL halfway and start it again.
    pub kill: bool,
    /// The `earshot` binary to start.
    pub binary: PathBuf,
}

/// The outcome.
#[derive(Debug, Clone)]
pub struct IngestRun {
    pub seconds: f64,
    /// Posts sent (each once, however often its request was retried).
    pub n_posts: usize,
    /// Requests answered 2xx.
    pub n_answered: usize,
    /// Attempts that failed and were sent again.
    pub n_retried: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// Peak resident memory of each server process, in MiB.
    pub peak_rss_mib: Vec<Option<f64>>,
    /// Posts in the store (unique per platform and id by the schema) and their mentions.
    pub n_stored: i64,
    pub n_mentions: i64,
}

impl IngestRun {
    pub fn posts_per_second(&self) -> f64 {
        self.n_posts as f64 / self.seconds.max(f64::EPSILON)
    }

    /// Every post sent is stored, once.
    pub fn exactly_once(&self) -> bool {
        let n = i64::try_from(self.n_posts).unwrap_or(i64::MAX);
        self.n_stored == n && self.n_mentions == n
    }

    /// The lines the benchmark prints.
    pub fn report(&self) -> String {
        let rss: Vec<String> = self
            .peak_rss_mib
            .iter()
            .map(|m| m.map_or_else(|| "?".to_owned(), |m| format!("{m:.0} MiB")))
            .collect();
        format!(
            "ingest: {:.1} posts/s accepted ({} posts in {} requests, {:.2} s, {} retried)\n\
             latency: p50 {:.1} ms, p99 {:.1} ms\n\
             peak RSS of the server: {}\n\
             stored exactly once: {} ({} posts stored, {} mentions, of {} sent)",
            self.posts_per_second(),
            self.n_posts,
            self.n_answered,
            self.seconds,
            self.n_retried,
            self.p50_ms,
            self.p99_ms,
            rss.join(", then "),
            if self.exactly_once() { "yes" } else { "NO" },
            self.n_stored,
            self.n_mentions,
            self.n_posts,
        )
    }
}

/// A running `earshot serve` and the base URL it listens on.
struct Server {
    child: ServeChild,
    base: String,
}

async fn start(binary: &Path, config: &Path, log: &Path) -> anyhow::Result<Server> {
    let mut child = spawn_serve(binary, config, log, None)?;
    let base = child.wait_listening().await?;
    Ok(Server { child, base })
}

fn body(client: usize, request: usize, posts: usize) -> String {
    let items: Vec<serde_json::Value> = (0..posts)
        .map(|k| {
            serde_json::json!({
                "id": format!("c{client}-r{request}-p{k}"),
                "author": format!("@author{}", (client * 7919 + request * 31 + k) % 5000),
                "text": "Northwind Air lost my bag and nobody answers the phone",
                "created_at": 1_795_165_200 + (request * posts + k) as i64,
            })
        })
        .collect();
    serde_json::Value::Array(items).to_string()
}

/// Runs the benchmark.
pub async fn run(bench: &IngestBench) -> anyhow::Result<IngestRun> {
    anyhow::ensure!(
        bench.clients > 0 && bench.requests > 0,
        "--clients and --requests must be at least 1"
    );
    anyhow::ensure!(
        (1..=5_000).contains(&bench.posts_per_request),
        "--posts-per-request takes 1 to 5000"
    );
    let dir = tempfile::Builder::new().prefix("earshot-ingest-bench-").tempdir()?;
    let db = dir.path().join("earshot.db");
    let config_path = dir.path().join("earshot.toml");
    let quote = |text: &str| toml::Value::String(text.to_owned()).to_string();
    std::fs::write(
        &config_path,
        format!(
            "[database]\nurl = {url}\n\n[scoring]\nscorer = \"lexicon\"\n\n[exports]\nenabled = false\ndir = {exports}\n\n\
             [[brands]]\nid = \"northwind\"\nname = \"Northwind Air\"\nkeywords = [\"northwind air\"]\n\n\
             [[sources]]\nid = \"bench-push\"\nbrand = \"northwind\"\ntype = \"push\"\nmatch_keywords = false\n\
             max_body_bytes = 16777216\n",
            url = quote(&format!("sqlite://{}", db.display())),
            exports = quote(&dir.path().join("exports").display().to_string()),
        ),
    )?;
    let settings = crate::config::from_toml(&std::fs::read_to_string(&config_path)?, "the benchmark configuration")?;
    let store = crate::app::open_store(&settings).await?;
    let token = new_token();
    store
        .create_api_token(&token_hash(&token), "ingest-bench", Role::Ingest, now_millis())
        .await?;
    let log = dir.path().join("server.log");
    let mut server = start(&bench.binary, &config_path, &log).await?;
    let mut peak_rss_mib = Vec::new();

    let base = Arc::new(RwLock::new(server.base.clone()));
    let answered = Arc::new(AtomicUsize::new(0));
    let retried = Arc::new(AtomicUsize::new(0));
    let halfway = Arc::new(Notify::new());
    let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
    let started = Instant::now();
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..bench.clients {
        let (base, answered, retried, halfway, http, token) = (
            base.clone(),
            answered.clone(),
            retried.clone(),
            halfway.clone(),
            http.clone(),
            token.clone(),
        );
        let (n_clients, n_requests, posts, half) = (
            bench.clients,
            bench.requests,
            bench.posts_per_request,
            bench.requests / 2,
        );
        clients.spawn(async move {
            let mut latencies = Vec::new();
            // Client c sends requests c, c + clients, …: every request by exactly one client.
            for request in (client..n_requests).step_by(n_clients) {
                let payload = body(client, request, posts);
                loop {
                    let url = format!("{}/api/ingest/bench-push", base.read().await);
                    let sent = Instant::now();
                    let outcome = http
                        .post(&url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(payload.clone())
                        .send()
                        .await;
                    match outcome {
                        Ok(response) if response.status().is_success() => {
                            latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                            if answered.fetch_add(1, Ordering::SeqCst) + 1 == half {
                                halfway.notify_one();
                            }
                            break;
                        }
                        Ok(response) if response.status().is_client_error() => {
                            anyhow::bail!("the server refused a request: {}", response.status());
                        }
                        _ => {
                            retried.fetch_add(1, Ordering::SeqCst);
                            // The server is restarting: ask again shortly.
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                    }
                }
            }
            Ok(latencies)
        });
    }
    if bench.kill && bench.requests >= 2 {
        halfway.notified().await;
        peak_rss_mib.push(peak_rss_kib_of(server.child.id()).map(kib_to_mib));
        // SIGKILL: no shutdown, whatever was in flight is cut.
        server.child.kill()?;
        let restarted = start(&bench.binary, &config_path, &log).await?;
        *base.write().await = restarted.base.clone();
        server = restarted;
    }
    let mut latencies = Vec::new();
    while let Some(finished) = clients.join_next().await {
        latencies.extend(finished??);
    }
    let seconds = started.elapsed().as_secs_f64();
    peak_rss_mib.push(peak_rss_kib_of(server.child.id()).map(kib_to_mib));
    drop(server);
    latencies.sort_by(f64::total_cmp);

    let counts = store.counts().await?;
    Ok(IngestRun {
        seconds,
        n_posts: bench.requests * bench.posts_per_request,
        n_answered: latencies.len(),
        n_retried: retried.load(Ordering::SeqCst),
        p50_ms: percentile(&latencies, 50).unwrap_or(0.0),
        p99_ms: percentile(&latencies, 99).unwrap_or(0.0),
        peak_rss_mib,
        n_stored: counts.posts,
        n_mentions: counts.mentions,
    })
}
