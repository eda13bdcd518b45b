//! `earshot bench`: posts per second and peak memory for scoring alone and for the whole
//! pipeline, on generated posts (`tools::bench`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Precision;
use crate::tools::bench;

#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// How many synthetic posts.
    #[arg(long, default_value_t = 2000)]
    posts: usize,
    /// Posts per model batch; default: the config's, else chosen for the engine (4 int8, 32 libtorch).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Also write the generated posts here as JSONL (for `scripts/python_peer_bench.py`).
    #[arg(long)]
    write_posts: Option<PathBuf>,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// `fp32`, `bf16` or `int8`; default: the config's, else int8 where the model ships it.
    #[arg(long, value_enum)]
    precision: Option<Precision>,
}

pub(super) async fn run(config_path: &Path, args: BenchArgs) -> anyhow::Result<ExitCode> {
    let n_posts = args.posts;
    anyhow::ensure!(n_posts > 0, "--posts must be at least 1");
    let (mut scoring, _) = super::scoring_settings(config_path, None, None, args.precision)?;
    if let Some(b) = args.batch_size {
        scoring.batch_size = b.max(1);
    }
    let posts = bench::generate_posts(n_posts, args.seed);
    let jsonl = bench::to_jsonl(&posts);
    if let Some(path) = &args.write_posts {
        std::fs::write(path, &jsonl).with_context(|| format!("failed to write {}", path.display()))?;
        say!("Wrote {} posts to {}", n_posts, path.display());
    }
    say!(
        "earshot bench: {n_posts} posts, batch size {}, threads {}, profile {}",
        scoring.batch_size,
        if scoring.threads == 0 {
            "all".to_owned()
        } else {
            scoring.threads.to_string()
        },
        super::profile()
    );

    let alone = bench::score_alone(&scoring, &posts).await?;
    say!(
        "scoring alone:  {:.1} posts/s ({} posts in {:.2} s), peak RSS {}, model {}",
        alone.posts_per_second(),
        alone.n_scored,
        alone.seconds,
        rss_text(alone.peak_rss_mib),
        alone.scorer
    );

    let whole = bench::whole_pipeline(&scoring, &jsonl).await?;
    say!(
        "whole pipeline: {:.1} posts/s ({} posts read, {} mentions, {} scored, {} tasks opened, in {:.2} s), peak RSS {}{}",
        whole.posts_per_second(),
        whole.n_read,
        whole.n_mentions,
        whole.n_scored,
        whole.n_tasks_opened,
        whole.seconds,
        rss_text(whole.peak_rss_mib),
        if whole.peak_reset {
            ""
        } else {
            " (process peak, could not reset)"
        }
    );
    say!(
        "problems:       {} complaints embedded, grouped and re-clustered in {:.2} s ({:.2} ms per complaint, {:.1}% of the pipeline's time; a scheduled job, off the pipeline's path), peak RSS {}",
        whole.n_grouped,
        whole.problems_seconds,
        if whole.n_grouped == 0 {
            0.0
        } else {
            1000.0 * whole.problems_seconds / whole.n_grouped as f64
        },
        100.0 * whole.problems_seconds / whole.seconds.max(1e-9),
        rss_text(whole.problems_peak_rss_mib)
    );
    Ok(ExitCode::SUCCESS)
}

fn rss_text(mib: Option<f64>) -> String {
    mib.map_or_else(|| "unknown".to_owned(), |m| format!("{m:.0} MiB"))
}
