//! `earshot bench-instances --instances 1,3 --database postgres://…`: pipeline throughput
//! with one and with several `earshot serve` processes on a fresh PostgreSQL database
//! (`tools::bench_instances`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::{Precision, ScorerKind};
use crate::tools::bench_instances::{self, InstancesBench};

#[derive(Debug, clap::Args)]
pub struct BenchInstancesArgs {
    /// Instance counts to compare, e.g. `1,3`.
    #[arg(long, value_delimiter = ',', required = true)]
    instances: Vec<usize>,
    /// PostgreSQL server (scratch databases are created on it and dropped).
    #[arg(long)]
    database: String,
    /// How many synthetic posts.
    #[arg(long, default_value_t = 2000)]
    posts: usize,
    /// Posts per model batch; default: the config's, else chosen for the engine (4 int8, 32 libtorch).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Generator seed.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// `model` or the `lexicon` baseline; default: the config's, else model.
    #[arg(long, value_enum)]
    scorer: Option<ScorerKind>,
    /// `fp32`, `bf16` or `int8`; default: the config's, else int8 where the model ships it.
    #[arg(long, value_enum)]
    precision: Option<Precision>,
}

pub(super) async fn run(config_path: &Path, args: BenchInstancesArgs) -> anyhow::Result<ExitCode> {
    let (mut scoring, _) = super::scoring_settings(config_path, args.scorer, None, args.precision)?;
    if let Some(b) = args.batch_size {
        scoring.batch_size = b.max(1);
    }
    let posts = args.posts;
    let bench = InstancesBench {
        server_url: args.database,
        counts: args.instances,
        n_posts: posts,
        seed: args.seed,
        scoring,
        binary: std::env::current_exe().context("cannot find the earshot binary")?,
    };
    say!(
        "earshot bench-instances: {posts} posts, scorer {:?}, profile {}",
        bench.scoring.scorer,
        super::profile()
    );
    let runs = bench_instances::run(&bench, &|run| {
        say!(
            "{} instance(s): {:.1} posts/s ({} posts, {} tasks, {:.2} s)",
            run.instances,
            run.posts_per_second(),
            run.n_posts,
            run.n_tasks,
            run.seconds
        );
    })
    .await?;
    say!("\n{}", bench_instances::table(&runs));
    Ok(ExitCode::SUCCESS)
}
