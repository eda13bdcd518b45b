//! `earshot model train`: the arguments for the training script of the shipped model's kind
//! (`scripts/train_complaint.py` for a complaint model, `scripts/train_sentiment.py` for a
//! sentiment-only one), assembled from the model's recorded hyper-parameters plus the user's
//! options, as pure functions so the exact command can be printed and tested without running
//! a training; and the val scores of a manifest, to compare before and after.

use std::path::{Path, PathBuf};

use crate::scoring::manifest::ModelManifest;

/// What the user asked for on top of the recorded recipe.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainOptions {
    /// Reviewed posts (JSONL `{"text","sentiment"?,"complaint"?}`), each passed as `--extra-train`.
    pub extra_train: Vec<PathBuf>,
    pub epochs: Option<u32>,
    pub out: PathBuf,
}

/// Which training script a model comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Complaint,
    Sentiment,
}

/// The recorded hyper-parameters of `[training]` in a manifest, with the script's defaults
/// for anything missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    pub kind: Kind,
    pub epochs: u32,
    pub max_length: usize,
    pub batch_size: u32,
    pub learning_rate: f64,
    /// Sentiment models only.
    pub class_weights: String,
    /// Complaint models only: TweetEval tweets sampled per epoch.
    pub tweeteval_per_epoch: u32,
    pub seed: u64,
    pub weight_decay: f64,
    pub warmup_ratio: f64,
}

impl Recipe {
    pub fn from_manifest(manifest: &ModelManifest) -> Recipe {
        let training = manifest.extra.get("training").and_then(|t| t.as_table());
        let int = |key: &str, default: i64| {
            training
                .and_then(|t| t.get(key))
                .and_then(|v| v.as_integer())
                .unwrap_or(default)
        };
        let float = |key: &str, default: f64| {
            training
                .and_then(|t| t.get(key))
                .and_then(|v| v.as_float().or_else(|| v.as_integer().map(|i| i as f64)))
                .unwrap_or(default)
        };
        let kind = if manifest.is_multi_head() {
            Kind::Complaint
        } else {
            Kind::Sentiment
        };
        Recipe {
            kind,
            epochs: u32::try_from(int("epochs", 1)).unwrap_or(1),
            max_length: usize::try_from(int("max_length", manifest.max_length as i64)).unwrap_or(manifest.max_length),
            batch_size: u32::try_from(int("batch_size", 32)).unwrap_or(32),
            learning_rate: float("learning_rate", 8e-5),
            class_weights: training
                .and_then(|t| t.get("class_weights"))
                .and_then(|v| v.as_str())
                .unwrap_or("sqrt")
                .to_owned(),
            tweeteval_per_epoch: u32::try_from(int("tweeteval_per_epoch", 15_000)).unwrap_or(15_000),
            seed: u64::try_from(int("seed", 42)).unwrap_or(42),
            weight_decay: float("weight_decay", 0.01),
            warmup_ratio: float("warmup_ratio", 0.06),
        }
    }
}

/// Arguments after the Python interpreter: the script path, then the options.
pub fn train_args(root: &Path, recipe: &Recipe, options: &TrainOptions, threads: usize) -> Vec<String> {
    let script = match recipe.kind {
        Kind::Complaint => "scripts/train_complaint.py",
        Kind::Sentiment => "scripts/train_sentiment.py",
    };
    let mut args = vec![
        root.join(script).display().to_string(),
        "--epochs".into(),
        options.epochs.unwrap_or(recipe.epochs).to_string(),
        "--max-length".into(),
        recipe.max_length.to_string(),
        "--batch-size".into(),
        recipe.batch_size.to_string(),
        "--lr".into(),
        format!("{:e}", recipe.learning_rate),
        "--weight-decay".into(),
        recipe.weight_decay.to_string(),
        "--warmup-ratio".into(),
        recipe.warmup_ratio.to_string(),
    ];
    match recipe.kind {
        Kind::Complaint => {
            args.push("--tweeteval-per-epoch".into());
            args.push(recipe.tweeteval_per_epoch.to_string());
        }
        Kind::Sentiment => {
            args.push("--class-weights".into());
            args.push(recipe.class_weights.clone());
        }
    }
    args.extend([
        "--seed".into(),
        recipe.seed.to_string(),
        "--threads".into(),
        threads.max(1).to_string(),
    ]);
    for file in &options.extra_train {
        args.push("--extra-train".into());
        args.push(file.display().to_string());
    }
    args.push("--out".into());
    args.push(options.out.display().to_string());
    args
}

/// The val scores a manifest records, in a fixed order, for a before/after table: the
/// complaint metrics of a complaint model, then the sentiment ones.
pub fn val_scores(manifest: &ModelManifest) -> Vec<(&'static str, f64)> {
    let Some(evaluation) = manifest.extra.get("evaluation").and_then(|e| e.as_table()) else {
        return Vec::new();
    };
    let keys: &[(&str, &str)] = &[
        ("complaint macro F1", "complaint_macro_f1"),
        ("complaint F1", "complaint_f1"),
        ("complaint PR-AUC", "complaint_pr_auc"),
        ("severity macro F1", "severity_macro_f1"),
        ("sentiment macro recall", "sentiment_macro_recall"),
        // sentiment-only manifests
        ("sentiment macro recall", "macro_recall"),
        ("sentiment macro F1", "sentiment_macro_f1"),
        ("sentiment macro F1", "macro_f1"),
    ];
    let mut out: Vec<(&'static str, f64)> = Vec::new();
    for (label, key) in keys {
        if out.iter().any(|(l, _)| l == label) {
            continue;
        }
        if let Some(value) = evaluation.get(*key).and_then(|v| v.as_float()) {
            out.push((label, value));
        }
    }
    out
}

/// A shell-quoted rendering of a command, for printing.
pub fn shell_line(program: &str, args: &[String]) -> String {
    std::iter::once(program)
        .chain(args.iter().map(String::as_str))
        .map(|a| {
            if !a.is_empty() && a.chars().all(|c| c.is_ascii_alphanumeric() || "-_./=:+,@".contains(c)) {
                a.to_owned()
            } else {
                format!("'{}'", a.replace('\'', "'\\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(folder: &str) -> ModelManifest {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join(folder);
        toml::from_str(&std::fs::read_to_string(dir.join("manifest.toml")).unwrap()).unwrap()
    }

    #[test]
    fn the_sentiment_recipe_is_read_from_its_manifest() {
        let recipe = Recipe::from_manifest(&manifest("sentiment-minilm-l6-tweeteval"));
        assert_eq!(recipe.kind, Kind::Sentiment);
        assert_eq!(
            (
                recipe.epochs,
                recipe.max_length,
                recipe.batch_size,
                recipe.class_weights.as_str()
            ),
            (1, 64, 32, "sqrt")
        );
        assert!((recipe.learning_rate - 8e-5).abs() < 1e-12);
    }

    #[test]
    fn the_shipped_complaint_recipe_runs_the_complaint_script_with_reviewed_examples() {
        let shipped = manifest("complaint-minilm-l6");
        let recipe = Recipe::from_manifest(&shipped);
        assert_eq!(recipe.kind, Kind::Complaint);
        let options = TrainOptions {
            extra_train: vec!["reviewed/a.jsonl".into(), "reviewed/b c.jsonl".into()],
            epochs: Some(2),
            out: "models/ours".into(),
        };

        let args = train_args(Path::new("/repo"), &recipe, &options, 2);

        assert_eq!(args[0], "/repo/scripts/train_complaint.py");
        let value = |flag: &str| args.iter().position(|a| a == flag).map(|i| args[i + 1].clone());
        assert_eq!(value("--epochs").as_deref(), Some("2"));
        assert_eq!(value("--max-length"), Some(shipped.max_length.to_string()));
        assert_eq!(
            value("--tweeteval-per-epoch"),
            Some(recipe.tweeteval_per_epoch.to_string())
        );
        assert_eq!(
            value("--class-weights"),
            None,
            "the complaint script weights its heads itself"
        );
        let extra: Vec<&String> = args
            .iter()
            .enumerate()
            .filter(|(i, _)| *i > 0 && args[i - 1] == "--extra-train")
            .map(|(_, a)| a)
            .collect();
        assert_eq!(extra, ["reviewed/a.jsonl", "reviewed/b c.jsonl"]);
        assert_eq!(args[args.len() - 2..], ["--out", "models/ours"]);
        assert!(shell_line("py", &args).contains("'reviewed/b c.jsonl'"));
    }

    #[test]
    fn val_scores_come_from_either_kind_of_manifest() {
        let complaint = val_scores(&manifest("complaint-minilm-l6"));
        let names: Vec<&str> = complaint.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "complaint macro F1",
                "complaint F1",
                "complaint PR-AUC",
                "severity macro F1",
                "sentiment macro recall",
                "sentiment macro F1"
            ]
        );
        let sentiment = val_scores(&manifest("sentiment-minilm-l6-tweeteval"));
        assert_eq!(sentiment[0].0, "sentiment macro recall");
        assert!((sentiment[0].1 - 0.7269).abs() < 1e-4, "{sentiment:?}");
    }
}
