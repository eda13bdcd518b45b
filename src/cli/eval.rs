//! `earshot eval`: sentiment metrics of a scorer on labelled posts (CSV/JSONL with `text`,
//! `label` and optional `complaint`, or a TweetEval-style pair of files).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::config::ScorerKind;
use crate::scoring::{ScoringService, build_scorer};
use crate::tools::eval;

/// `earshot eval`: CSV/JSONL with `text`, `label` (and optional `complaint`), or a
/// TweetEval-style pair of files.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// CSV (header with `text`, `label`, optional `complaint`) or JSONL.
    #[arg(long, required_unless_present = "text", conflicts_with = "text")]
    data: Option<PathBuf>,
    /// One post per line (with `--labels`: line n labels line n).
    #[arg(long, requires = "labels")]
    text: Option<PathBuf>,
    /// One label per line: 0/1/2 or negative/neutral/positive.
    #[arg(long, requires = "text")]
    labels: Option<PathBuf>,
    /// Criticality (0-100) at which a post counts as flagged; default: the first brand's
    /// threshold in the config, else 55.
    #[arg(long)]
    threshold: Option<f32>,
    /// `model` or the `lexicon` baseline; default: the config's, else model.
    #[arg(long, value_enum)]
    scorer: Option<ScorerKind>,
    /// Model folder; default: the config's, else the shipped model.
    #[arg(long)]
    model: Option<PathBuf>,
}

pub(super) async fn run(config_path: &Path, args: EvalArgs) -> anyhow::Result<ExitCode> {
    let read =
        |path: &Path| std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()));
    let dataset = match (&args.data, &args.text, &args.labels) {
        (Some(data), _, _) => {
            eval::parse_dataset(&read(data)?).with_context(|| format!("cannot evaluate on {}", data.display()))?
        }
        (None, Some(text), Some(labels)) => eval::parse_pair(&read(text)?, &read(labels)?)
            .with_context(|| format!("cannot pair {} with {}", text.display(), labels.display()))?,
        _ => anyhow::bail!("pass --data FILE, or --text FILE --labels FILE"),
    };
    for bad in &dataset.bad_rows {
        say!("skipped line {}: {}", bad.line, bad.reason);
    }
    anyhow::ensure!(!dataset.examples.is_empty(), "no usable rows to evaluate");
    let (scoring, config_threshold) = super::scoring_settings(config_path, args.scorer, args.model)?;
    let threshold = args.threshold.or(config_threshold).unwrap_or(55.0);
    let scorer = build_scorer(&scoring)?;
    let service = ScoringService::start(scorer, scoring.queue_batches, scoring.batch_size);
    say!(
        "Evaluating {} on {} posts ({} rows skipped)",
        service.name(),
        dataset.examples.len(),
        dataset.bad_rows.len()
    );
    let result = eval::evaluate(&service, &dataset.examples, threshold).await?;
    if result.n_unscored > 0 {
        say!(
            "{} posts left unscored (no model for their language); not in the metrics",
            result.n_unscored
        );
    }
    say!("{}", result.sentiment.report().trim_end());
    if let Some(b) = result.complaint {
        say!(
            "complaint detection (criticality >= {threshold}): precision {:.2}  recall {:.2}  F1 {:.2}  (tp {}, fp {}, fn {}, tn {})",
            100.0 * b.precision(),
            100.0 * b.recall(),
            100.0 * b.f1(),
            b.true_positive,
            b.false_positive,
            b.false_negative,
            b.true_negative
        );
    }
    Ok(ExitCode::SUCCESS)
}
