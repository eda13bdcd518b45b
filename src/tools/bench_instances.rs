//! `earshot bench-instances --instances 1,3`: pipeline throughput with one and with several instances
//! sharing a fresh PostgreSQL database.
//!
//! For each instance count: a scratch database is created on the server, N `earshot serve`
//! processes (this same binary) start against it with one JSONL source, and once all of them
//! listen the generated posts are written to the source's file. The clock runs from that
//! moment until every post is stored and assessed (read from the database); then each
//! child's peak resident memory (`VmHWM` in `/proc/<pid>/status`) is read, the children are
//! stopped and the database is dropped. Wiring at the binary's edge, like `app`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;

use super::bench::{self, BenchMode};
use super::memory::{kib_to_mib, peak_rss_kib_of};
use super::serve_child::spawn_serve;
use crate::config::{self, ScoringSettings};
use crate::store::{create_scratch_database, drop_scratch_database};

/// What to measure.
pub struct InstancesBench {
    /// A PostgreSQL URL on the server to use (its database is only used to create others).
    pub server_url: String,
    /// Instance counts to compare, e.g. `[1, 3]`.
    pub counts: Vec<usize>,
    pub n_posts: usize,
    pub seed: u64,
    pub scoring: ScoringSettings,
    /// The `earshot` binary to start.
    pub binary: PathBuf,
}

/// One measured run.
#[derive(Debug, Clone)]
pub struct InstancesRun {
    pub instances: usize,
    pub seconds: f64,
    pub n_posts: usize,
    pub n_tasks: i64,
    /// Peak resident memory of each instance, in MiB (`None` where `/proc` is not readable).
    pub peak_rss_mib: Vec<Option<f64>>,
}

impl InstancesRun {
    pub fn posts_per_second(&self) -> f64 {
        self.n_posts as f64 / self.seconds.max(f64::EPSILON)
    }
}

/// Runs the benchmark for every count in turn; `progress` hears about each finished run.
pub async fn run(bench: &InstancesBench, progress: &dyn Fn(&InstancesRun)) -> anyhow::Result<Vec<InstancesRun>> {
    anyhow::ensure!(
        bench.server_url.starts_with("postgres://") || bench.server_url.starts_with("postgresql://"),
        "--database must be a postgres:// URL: several instances need PostgreSQL"
    );
    anyhow::ensure!(bench.n_posts > 0, "--posts must be at least 1");
    anyhow::ensure!(
        !bench.counts.is_empty() && bench.counts.iter().all(|&n| (1..=16).contains(&n)),
        "--instances takes counts from 1 to 16"
    );
    let posts = bench::generate_posts(bench.n_posts, bench.seed);
    let jsonl = bench::to_jsonl(&posts);
    let mut runs = Vec::with_capacity(bench.counts.len());
    for &count in &bench.counts {
        let (url, name) = create_scratch_database(&bench.server_url, "earshot_bench")
            .await
            .context("failed to create a scratch database (does the user have CREATEDB?)")?;
        let outcome = run_one(bench, count, &url, &jsonl).await;
        let dropped = drop_scratch_database(&bench.server_url, &name).await;
        let run = outcome?;
        dropped.with_context(|| format!("failed to drop the scratch database {name}"))?;
        progress(&run);
        runs.push(run);
    }
    Ok(runs)
}

/// The comparison table: one line per run, speed-up against the first.
pub fn table(runs: &[InstancesRun]) -> String {
    let base = runs.first().map(InstancesRun::posts_per_second).unwrap_or(1.0);
    let mut out = String::from(
        "instances | posts/s | seconds | speed-up | peak RSS per instance (MiB)\n\
         ----------|---------|---------|----------|----------------------------\n",
    );
    for run in runs {
        let rss: Vec<String> = run
            .peak_rss_mib
            .iter()
            .map(|m| m.map_or_else(|| "?".to_owned(), |m| format!("{m:.0}")))
            .collect();
        out.push_str(&format!(
            "{:>9} | {:>7.1} | {:>7.2} | {:>7.2}x | {}\n",
            run.instances,
            run.posts_per_second(),
            run.seconds,
            run.posts_per_second() / base,
            rss.join(", ")
        ));
    }
    out
}

async fn run_one(bench: &InstancesBench, count: usize, url: &str, jsonl: &str) -> anyhow::Result<InstancesRun> {
    let dir = tempfile::Builder::new().prefix("earshot-bench-instances-").tempdir()?;
    let feed = dir.path().join("posts.jsonl");
    std::fs::write(&feed, "")?;
    let config_path = dir.path().join("earshot.toml");
    std::fs::write(
        &config_path,
        bench::config_toml(BenchMode::Instances, url, &bench.scoring, &feed, dir.path()),
    )?;
    // Migrate once, so the instances do not race to create the schema.
    // (`from_toml`, not `load`: an EARSHOT_DATABASE_URL in our environment must not redirect it.)
    let settings = config::from_toml(&std::fs::read_to_string(&config_path)?, "the benchmark configuration")?;
    let store = crate::app::open_store(&settings).await?;

    // Started together; each is stopped and reaped when dropped, whatever happens.
    let mut children = Vec::with_capacity(count);
    for n in 0..count {
        let log = dir.path().join(format!("instance-{n}.log"));
        children.push(spawn_serve(&bench.binary, &config_path, &log, Some(url))?);
    }
    for child in &mut children {
        child.wait_listening().await?;
    }

    let started = Instant::now();
    // One write of whole lines: the source never sees a partial one.
    std::fs::write(&feed, jsonl)?;
    let deadline = Duration::from_secs(60 + 2 * bench.n_posts as u64);
    let expected = i64::try_from(bench.n_posts)?;
    let counts = loop {
        let counts = store.counts().await?;
        if counts.mentions >= expected && counts.pending == 0 {
            break counts;
        }
        for (n, child) in children.iter_mut().enumerate() {
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("instance {n} exited ({status}):\n{}", child.log_tail());
            }
        }
        anyhow::ensure!(
            started.elapsed() < deadline,
            "not done after {} s ({} of {expected} assessed)",
            deadline.as_secs(),
            counts.mentions - counts.pending
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss_mib = children
        .iter()
        .map(|child| peak_rss_kib_of(child.id()).map(kib_to_mib))
        .collect();
    drop(children);
    Ok(InstancesRun {
        instances: count,
        seconds,
        n_posts: bench.n_posts,
        n_tasks: counts.tasks_total,
        peak_rss_mib,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_compares_each_run_with_the_first() {
        let runs = [
            InstancesRun {
                instances: 1,
                seconds: 10.0,
                n_posts: 1_000,
                n_tasks: 5,
                peak_rss_mib: vec![Some(120.4)],
            },
            InstancesRun {
                instances: 3,
                seconds: 4.0,
                n_posts: 1_000,
                n_tasks: 5,
                peak_rss_mib: vec![Some(121.0), None, Some(119.6)],
            },
        ];

        let table = table(&runs);

        assert!(
            table.contains("        1 |   100.0 |   10.00 |    1.00x | 120"),
            "{table}"
        );
        assert!(
            table.contains("        3 |   250.0 |    4.00 |    2.50x | 121, ?, 120"),
            "{table}"
        );
    }

    #[test]
    fn the_instance_config_loads() {
        let scoring = ScoringSettings {
            scorer: crate::config::ScorerKind::Lexicon,
            ..ScoringSettings::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let feed = dir.path().join("f.jsonl");
        std::fs::write(&feed, "").unwrap();

        let toml = bench::config_toml(
            BenchMode::Instances,
            "postgres://postgres@127.0.0.1:5432/x",
            &scoring,
            &feed,
            dir.path(),
        );

        let settings = config::from_toml(&toml, "bench").unwrap();
        assert_eq!(settings.sources.len(), 1);
        assert_eq!(settings.instances.scoring_sweep_ms, 200);
    }
}
