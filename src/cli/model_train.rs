//! `earshot model train`: fine-tunes the shipped recipe with `scripts/train_sentiment.py`
//! (`tools::train` assembles the exact command, printed before it runs).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::scoring::manifest::ModelManifest;
use crate::tools::train::{self, Recipe, TrainOptions};

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Extra training examples, JSONL `{"text","label"}`; may be repeated.
    #[arg(long)]
    extra_train: Vec<PathBuf>,
    #[arg(long)]
    epochs: Option<u32>,
    #[arg(long, default_value = "models/sentiment-minilm-l6-custom")]
    out: PathBuf,
    /// Threads for training.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

pub(super) fn run(args: TrainArgs) -> anyhow::Result<ExitCode> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shipped = crate::demo::shipped_model_dir();
    let manifest: ModelManifest = toml::from_str(
        &std::fs::read_to_string(shipped.join("manifest.toml"))
            .with_context(|| format!("failed to read {}/manifest.toml", shipped.display()))?,
    )
    .context("invalid shipped manifest")?;
    let recipe = Recipe::from_manifest(&manifest);
    let options = TrainOptions {
        extra_train: args.extra_train,
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
    say!(
        "Trained into {}; evaluate it with `earshot eval --model {}`.",
        options.out.display(),
        options.out.display()
    );
    Ok(ExitCode::SUCCESS)
}
