//! `earshot problems eval`: how well the grouping of complaints into problems recovers
//! reference categories, printed one number per line (`nmi 0.xx`, `purity 0.xx`, `ari 0.xx`,
//! `groups N`) so settings can be tuned on labelled data.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::problems::ProblemSettings;
use crate::scoring::embedding::EmbeddingService;
use crate::tools::problems_eval::{self, ReplaySettings};

/// `earshot problems eval --data FILE`.
#[derive(Debug, clap::Args)]
pub struct ProblemsEvalArgs {
    /// JSONL (`{"text": …, "category": …}` per line) or CSV with `text` and `category` columns,
    /// in the order the posts arrived.
    #[arg(long)]
    data: PathBuf,
    /// Override `[problems] join_similarity`.
    #[arg(long)]
    join_similarity: Option<f32>,
    /// Override `[problems] recluster_distance`.
    #[arg(long)]
    recluster_distance: Option<f32>,
    /// Posts between two re-clusterings of the window (the hourly job, in posts).
    #[arg(long, default_value_t = 200)]
    recluster_every: usize,
    /// Sentence-embedding model folder; default: `[problems] model`, else the shipped one.
    #[arg(long)]
    model: Option<PathBuf>,
}

pub(super) async fn run(config_path: &Path, args: ProblemsEvalArgs) -> anyhow::Result<ExitCode> {
    let content =
        std::fs::read_to_string(&args.data).with_context(|| format!("failed to read {}", args.data.display()))?;
    let (posts, bad) =
        problems_eval::parse(&content).with_context(|| format!("cannot evaluate on {}", args.data.display()))?;
    for row in &bad {
        say!("skipped line {}: {}", row.line, row.reason);
    }
    anyhow::ensure!(!posts.is_empty(), "no usable rows to evaluate");
    let problems = if config_path.is_file() {
        super::load(config_path)?.problems
    } else {
        ProblemSettings::default()
    };
    let dir = crate::demo::resolve_shipped(args.model.as_deref().unwrap_or(&problems.model));
    let embedder = EmbeddingService::start(&dir, 32)?;
    let settings = ReplaySettings {
        join_similarity: args.join_similarity.unwrap_or(problems.join_similarity),
        recluster_distance: args.recluster_distance.unwrap_or(problems.recluster_distance),
        recluster_every: args.recluster_every,
    };
    let started = std::time::Instant::now();
    let result = problems_eval::evaluate(&embedder, &posts, settings).await?;
    let a = result.agreement;
    say!(
        "{} posts, {} categories, embedded by {}; join_similarity {} recluster_distance {} recluster_every {} ({:.1}s)",
        posts.len(),
        result.n_categories,
        embedder.name(),
        settings.join_similarity,
        settings.recluster_distance,
        settings.recluster_every,
        started.elapsed().as_secs_f64()
    );
    say!("nmi {:.2}", a.nmi);
    say!("purity {:.2}", a.purity);
    say!("ari {:.2}", a.ari);
    say!("groups {}", a.groups);
    say!("singletons {}", a.singletons);
    let min = problems.min_members as usize;
    say!(
        "listed {} (groups of at least [problems] min_members = {min}; the largest holds {} posts)",
        result.group_sizes.iter().filter(|n| **n >= min).count(),
        result.group_sizes.first().copied().unwrap_or(0)
    );
    Ok(ExitCode::SUCCESS)
}
