//! `earshot model train`: retrains the shipped recipe (`scripts/train_complaint.py` for the
//! complaint model, then `scripts/retrain_sentiment_head.py` as the shipped model records) on
//! the shared data plus the examples reviewers gave earshot (missed
//! complaints, false positives, re-labels, read from the configured database), then prints
//! the val scores before and after. `tools::train` assembles the exact command, printed
//! before it runs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::scoring::manifest::ModelManifest;
use crate::tools::train::{self, Recipe, TrainOptions};

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// More training examples, JSONL `{"text", "sentiment"?, "complaint"?, "severity"?}`
    /// (what `GET /api/feedback/export` returns); may be repeated.
    #[arg(long)]
    extra_train: Vec<PathBuf>,
    /// Do not read the reviewed examples from the configured database.
    #[arg(long)]
    no_reviewed: bool,
    #[arg(long)]
    epochs: Option<u32>,
    /// The model whose recipe is retrained and whose val scores are "before"; default: the
    /// shipped model.
    #[arg(long)]
    baseline: Option<PathBuf>,
    #[arg(long, default_value = "models/complaint-minilm-l6-custom")]
    out: PathBuf,
    /// Threads for training.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

fn read_manifest(dir: &Path) -> anyhow::Result<ModelManifest> {
    let path = dir.join("manifest.toml");
    let text = std::fs::read_to_string(&path).with_context(|| format!("failed to read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid {}", path.display()))
}

/// Writes the reviewed examples in the configured database to `path` as JSONL; returns how
/// many, or `None` (with the reason printed) when there is no database to read.
async fn export_reviewed(config_path: &Path, path: &Path) -> anyhow::Result<Option<usize>> {
    if !config_path.exists() {
        say!(
            "No config at {}: training without reviewed examples.",
            config_path.display()
        );
        return Ok(None);
    }
    let settings = super::load(config_path)?;
    let store = crate::app::open_store(&settings).await?;
    let examples = store
        .labelled_examples()
        .await
        .context("failed to read the reviewed examples")?;
    let mut body = String::new();
    for example in &examples {
        body.push_str(&example.training_line().to_string());
        body.push('\n');
    }
    std::fs::write(path, body).with_context(|| format!("failed to write {}", path.display()))?;
    let missed = examples.iter().filter(|e| e.complaint == Some(true)).count();
    let false_positives = examples.iter().filter(|e| e.complaint == Some(false)).count();
    say!(
        "{} reviewed examples ({missed} missed complaints, {false_positives} false positives, the rest re-labels) written to {}",
        examples.len(),
        path.display()
    );
    Ok(Some(examples.len()))
}

pub(super) async fn run(config_path: &Path, args: TrainArgs) -> anyhow::Result<ExitCode> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let baseline = args.baseline.clone().unwrap_or_else(crate::demo::shipped_model_dir);
    let manifest = read_manifest(&baseline)?;
    let recipe = Recipe::from_manifest(&manifest);
    let mut extra_train = args.extra_train;
    if !args.no_reviewed {
        let reviewed = args.out.with_extension("reviewed.jsonl");
        if let Some(n) = export_reviewed(config_path, &reviewed).await?
            && n > 0
        {
            extra_train.push(reviewed);
        }
    }
    let options = TrainOptions {
        extra_train,
        epochs: args.epochs,
        out: args.out,
    };
    let setup = root.join("scripts/setup-python.sh");
    say!("$ {}", setup.display());
    let output = std::process::Command::new(&setup)
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("failed to run {}", setup.display()))?;
    anyhow::ensure!(output.status.success(), "{} failed", setup.display());
    let python = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    anyhow::ensure!(!python.is_empty(), "{} printed no python path", setup.display());
    let args = train::train_args(root, &recipe, &options, args.threads);
    say!("$ {}", train::shell_line(&python, &args));
    let status = std::process::Command::new(&python)
        .args(&args)
        .status()
        .with_context(|| format!("failed to run {python}"))?;
    anyhow::ensure!(status.success(), "training failed ({status})");
    // The shipped complaint model's sentiment head was retrained alone on all of TweetEval
    // after joint training; repeat that step when the baseline records it.
    if manifest.extra.contains_key("sentiment_head") {
        let args = vec![
            root.join("scripts/retrain_sentiment_head.py").display().to_string(),
            "--model".to_owned(),
            options.out.display().to_string(),
        ];
        say!("$ {}", train::shell_line(&python, &args));
        let status = std::process::Command::new(&python)
            .args(&args)
            .status()
            .with_context(|| format!("failed to run {python}"))?;
        anyhow::ensure!(status.success(), "retraining the sentiment head failed ({status})");
    }
    let trained = read_manifest(&options.out)?;
    let before = train::val_scores(&manifest);
    let after = train::val_scores(&trained);
    say!("val scores (same split)     {:>8} {:>8}", "before", "after");
    for (name, value) in &after {
        let old = before
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| format!("{:.2}", 100.0 * v))
            .unwrap_or_else(|| "-".into());
        say!("{name:<27} {old:>8} {:>8.2}", 100.0 * value);
    }
    say!(
        "Trained into {}; evaluate it with `earshot eval --model {}`.",
        options.out.display(),
        options.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
