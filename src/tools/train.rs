//! `earshot model train`: the arguments for `scripts/train_sentiment.py`, assembled from the
//! shipped model's recorded hyper-parameters plus the user's options, as a pure function so
//! the exact command can be printed and tested without running a training.

use std::path::{Path, PathBuf};

use crate::scoring::manifest::ModelManifest;

/// What the user asked for on top of the recorded recipe.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainOptions {
    /// Reviewed posts (JSONL `{"text","label"}`), each passed as `--extra-train`.
    pub extra_train: Vec<PathBuf>,
    pub epochs: Option<u32>,
    pub out: PathBuf,
}

/// The recorded hyper-parameters of `[training]` in a manifest, with the script's defaults
/// for anything missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Recipe {
    pub epochs: u32,
    pub max_length: usize,
    pub batch_size: u32,
    pub learning_rate: f64,
    pub class_weights: String,
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
        Recipe {
            epochs: u32::try_from(int("epochs", 1)).unwrap_or(1),
            max_length: usize::try_from(int("max_length", manifest.max_length as i64)).unwrap_or(manifest.max_length),
            batch_size: u32::try_from(int("batch_size", 32)).unwrap_or(32),
            learning_rate: float("learning_rate", 8e-5),
            class_weights: training
                .and_then(|t| t.get("class_weights"))
                .and_then(|v| v.as_str())
                .unwrap_or("sqrt")
                .to_owned(),
            seed: u64::try_from(int("seed", 42)).unwrap_or(42),
            weight_decay: float("weight_decay", 0.01),
            warmup_ratio: float("warmup_ratio", 0.06),
        }
    }
}

/// Arguments after the Python interpreter: the script path, then the options.
pub fn train_args(root: &Path, recipe: &Recipe, options: &TrainOptions, threads: usize) -> Vec<String> {
    let mut args = vec![
        root.join("scripts/train_sentiment.py").display().to_string(),
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
        "--class-weights".into(),
        recipe.class_weights.clone(),
        "--seed".into(),
        recipe.seed.to_string(),
        "--threads".into(),
        threads.max(1).to_string(),
    ];
    for file in &options.extra_train {
        args.push("--extra-train".into());
        args.push(file.display().to_string());
    }
    args.push("--out".into());
    args.push(options.out.display().to_string());
    args
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

    fn shipped() -> ModelManifest {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/sentiment-minilm-l6-tweeteval");
        toml::from_str(&std::fs::read_to_string(dir.join("manifest.toml")).unwrap()).unwrap()
    }

    #[test]
    fn the_recipe_is_read_from_the_shipped_manifest() {
        let recipe = Recipe::from_manifest(&shipped());
        assert_eq!(
            recipe,
            Recipe {
                epochs: 1,
                max_length: 64,
                batch_size: 32,
                learning_rate: 8e-5,
                class_weights: "sqrt".into(),
                seed: 42,
                weight_decay: 0.01,
                warmup_ratio: 0.06,
            }
        );
    }

    #[test]
    fn options_override_the_recipe_and_extra_files_repeat() {
        let recipe = Recipe::from_manifest(&shipped());
        let options = TrainOptions {
            extra_train: vec!["reviewed/a.jsonl".into(), "reviewed/b c.jsonl".into()],
            epochs: Some(3),
            out: "models/ours".into(),
        };

        let args = train_args(Path::new("/repo"), &recipe, &options, 2);

        assert_eq!(
            args,
            [
                "/repo/scripts/train_sentiment.py",
                "--epochs",
                "3",
                "--max-length",
                "64",
                "--batch-size",
                "32",
                "--lr",
                "8e-5",
                "--weight-decay",
                "0.01",
                "--warmup-ratio",
                "0.06",
                "--class-weights",
                "sqrt",
                "--seed",
                "42",
                "--threads",
                "2",
                "--extra-train",
                "reviewed/a.jsonl",
                "--extra-train",
                "reviewed/b c.jsonl",
                "--out",
                "models/ours",
            ]
        );
        assert!(shell_line("py", &args).contains("'reviewed/b c.jsonl'"));
    }
}
