//! `earshot eval`: complaint and sentiment metrics of a scorer on labelled posts (CSV/JSONL
//! with `text` and `label` and/or `complaint`, optional `severity`, or a TweetEval-style pair
//! of files), optionally each row's scores as CSV.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::config::{Precision, ScorerKind};
use crate::scoring::start_service;
use crate::tools::eval;

/// `earshot eval`: CSV/JSONL with `text` and `label` and/or `complaint` (optional
/// `severity`), or a TweetEval-style pair of files.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// CSV (header with `text` and `label` and/or `complaint` or `complaint_label`, optional
    /// `severity`: none, no explicit reproach, disapproval, accusation, blame or 0-4) or JSONL.
    #[arg(long, required_unless_present = "text", conflicts_with = "text")]
    data: Option<PathBuf>,
    /// One post per line (with `--labels`: line n labels line n).
    #[arg(long, requires = "labels")]
    text: Option<PathBuf>,
    /// One label per line: 0/1/2 or negative/neutral/positive.
    #[arg(long, requires = "text")]
    labels: Option<PathBuf>,
    /// Criticality (0-100) at which a post counts as flagged; default: the first brand's
    /// threshold in the config, else the shipped default.
    #[arg(long)]
    threshold: Option<f32>,
    /// Also write each row's scores and criticality as CSV to this file.
    #[arg(long, value_name = "FILE")]
    per_row: Option<PathBuf>,
    /// `model` or the `lexicon` baseline; default: the config's, else model.
    #[arg(long, value_enum)]
    scorer: Option<ScorerKind>,
    /// Model folder; default: the config's, else the shipped model.
    #[arg(long)]
    model: Option<PathBuf>,
    /// `fp32`, `bf16` or `int8`; default: the config's, else int8 where the model ships it.
    #[arg(long, value_enum)]
    precision: Option<Precision>,
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
    let (scoring, config_threshold) = super::scoring_settings(config_path, args.scorer, args.model, args.precision)?;
    let threshold = args
        .threshold
        .or(config_threshold)
        .unwrap_or(crate::config::DEFAULT_THRESHOLD);
    let service = start_service(&scoring)?;
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
    if let Some(report) = &result.complaint {
        say!("{}", report.at_threshold.report(""));
        say!("complaint PR-AUC {:.2} (ranking by criticality)", 100.0 * report.pr_auc);
        say!("{}", report.best.report(", the threshold with the best F1"));
        match report.threshold_for_90_recall {
            Some(t) => say!("the highest threshold that flags at least 90% of the complaints: {t:.2}"),
            None => say!("no threshold flags 90% of the complaints"),
        }
    }
    if let Some(sentiment) = &result.sentiment {
        say!("sentiment: {}", sentiment.report().trim_end());
    }
    if let Some(path) = &args.per_row {
        let file = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        eval::write_rows(&result.rows, std::io::BufWriter::new(file))
            .with_context(|| format!("cannot write {}", path.display()))?;
        say!("wrote {} rows to {}", result.rows.len(), path.display());
    }
    Ok(ExitCode::SUCCESS)
}
