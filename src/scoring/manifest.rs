//! `manifest.toml`: what a model folder holds, checked before the model is loaded.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::ScoringError;
use crate::domain::SentimentLabel;

/// The machine-readable facts of a model folder (see `models/README.md`).
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct ModelManifest {
    pub name: String,
    pub version: String,
    pub task: String,
    /// rust-bert family: `bert`, `distilbert`, `roberta` or `xlm-roberta`.
    pub architecture: String,
    /// Label names in the order of the model's outputs.
    pub labels: Vec<String>,
    /// ISO 639-1 codes the model was trained for; `["*"]` for multilingual.
    pub languages: Vec<String>,
    pub max_length: usize,
    #[serde(default)]
    pub lowercase: bool,
    pub weights: String,
    pub config: String,
    /// `vocab.txt` (BERT), `vocab.json` (RoBERTa) or `sentencepiece.bpe.model` (XLM-R).
    pub vocab: String,
    /// `merges.txt`, for RoBERTa.
    #[serde(default)]
    pub merges: Option<String>,
    /// Which input normalisation the model was trained with (`scoring::normalise`); 1 when
    /// absent (the sentiment-only model predates version 2).
    #[serde(default = "normalisation_v1")]
    pub normalisation_version: u32,
    /// `mean` (over real tokens) for multi-head models; absent for sequence classifiers.
    #[serde(default)]
    pub pooling: Option<String>,
    /// The heads of a `task = "complaint"` model, by name (`sentiment`, `complaint`,
    /// `severity`), each with its output labels in order.
    #[serde(default)]
    pub heads: BTreeMap<String, HeadSpec>,
    /// Checked variants of the weights at another precision, by name (`int8`), each with its
    /// file and format; float32 (the safetensors above) needs no entry.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub precisions: BTreeMap<String, PrecisionSpec>,
    /// sha256 of each file, by name.
    pub files: BTreeMap<String, String>,
    /// Everything else (provenance, training, evaluation) is kept for display.
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

/// One output head of a multi-head model.
#[derive(Debug, Clone, PartialEq, serde::Deserialize, serde::Serialize)]
pub struct HeadSpec {
    pub labels: Vec<String>,
}

/// One variant of a model's weights (`[precisions.<name>]`): the file, its format and, kept
/// for display, how it was made and its val scores.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct PrecisionSpec {
    pub weights: String,
    /// `onnx`: the whole model with probability outputs, run by ONNX Runtime.
    pub format: String,
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

fn normalisation_v1() -> u32 {
    1
}

/// The complaint head's labels, in order.
pub const COMPLAINT_LABELS: [&str; 2] = ["not_complaint", "complaint"];

impl ModelManifest {
    /// A complaint model: one encoder, mean pooling, heads `sentiment`, `complaint`, `severity`.
    pub fn is_multi_head(&self) -> bool {
        self.task == "complaint"
    }

    /// A complaint model must have the three heads with exactly the labels the scorer reads.
    fn check_heads(&self) -> Result<(), String> {
        if !self.is_multi_head() {
            return Ok(());
        }
        if self.architecture != "bert" {
            return Err(format!(
                "a complaint model must be a bert encoder, found {:?}",
                self.architecture
            ));
        }
        if self.pooling.as_deref() != Some("mean") {
            return Err(format!(
                "a complaint model needs pooling = \"mean\", found {:?}",
                self.pooling
            ));
        }
        let labels = |name: &str| {
            self.heads
                .get(name)
                .map(|h| h.labels.iter().map(String::as_str).collect::<Vec<_>>())
                .ok_or_else(|| format!("missing [heads.{name}]"))
        };
        if labels("sentiment")? != self.labels.iter().map(String::as_str).collect::<Vec<_>>() {
            return Err("[heads.sentiment] labels must equal the top-level labels".into());
        }
        if labels("complaint")? != COMPLAINT_LABELS {
            return Err(format!("[heads.complaint] labels must be {COMPLAINT_LABELS:?}"));
        }
        let severity: Vec<&str> = crate::domain::Severity::ALL.iter().map(|s| s.as_str()).collect();
        if labels("severity")? != severity {
            return Err(format!("[heads.severity] labels must be {severity:?}"));
        }
        Ok(())
    }

    /// Reads `dir/manifest.toml`, without looking at the files it lists.
    pub fn read(dir: &Path) -> Result<ModelManifest, ScoringError> {
        let error = |message: String| ScoringError::Model {
            dir: dir.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(dir.join("manifest.toml"))
            .map_err(|e| error(format!("cannot read manifest.toml: {e}")))?;
        toml::from_str(&text).map_err(|e| error(format!("invalid manifest.toml: {e}")))
    }

    /// Reads `dir/manifest.toml` and checks that every listed file exists with its sha256.
    pub fn load_and_verify(dir: &Path) -> Result<ModelManifest, ScoringError> {
        let error = |message: String| ScoringError::Model {
            dir: dir.to_owned(),
            message,
        };
        let manifest = ModelManifest::read(dir)?;
        // A sentence-embedding model has no outputs to label.
        if manifest.task != "embedding" {
            manifest.check_labels().map_err(error)?;
        }
        manifest.check_heads().map_err(error)?;
        for (name, spec) in &manifest.precisions {
            if spec.format != "onnx" {
                return Err(error(format!(
                    "[precisions.{name}] format {:?} is not supported (onnx)",
                    spec.format
                )));
            }
        }
        let variants = manifest.precisions.values().map(|p| &p.weights);
        for required in [&manifest.weights, &manifest.config, &manifest.vocab]
            .into_iter()
            .chain(variants)
        {
            if !manifest.files.contains_key(required.as_str()) {
                return Err(error(format!("{required} has no sha256 in [files]")));
            }
        }
        for (name, expected) in &manifest.files {
            let actual = sha256_file(&dir.join(name)).map_err(|e| error(format!("cannot read {name}: {e}")))?;
            if !actual.eq_ignore_ascii_case(expected) {
                return Err(error(format!(
                    "{name} has sha256 {actual}, the manifest says {expected}"
                )));
            }
        }
        Ok(manifest)
    }

    /// The outputs must be exactly negative, neutral, positive, in some order.
    fn check_labels(&self) -> Result<(), String> {
        let mut seen = [false; 3];
        for label in &self.labels {
            let parsed = SentimentLabel::parse(label).ok_or_else(|| format!("unknown label {label:?}"))?;
            seen[parsed.index()] = true;
        }
        if self.labels.len() != 3 || !seen.iter().all(|s| *s) {
            return Err(format!(
                "labels must be negative, neutral and positive, found {:?}",
                self.labels
            ));
        }
        Ok(())
    }

    /// `name@version`, as stored with every score.
    pub fn id(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }

    /// Whether the model covers `lang` (ISO 639-1).
    pub fn covers(&self, lang: &str) -> bool {
        self.languages.iter().any(|l| l == "*" || l.eq_ignore_ascii_case(lang))
    }

    pub fn path_of(&self, dir: &Path, file: &str) -> PathBuf {
        dir.join(file)
    }
}

/// The sha256 of a file, as lowercase hex.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n_read = file.read(&mut buffer)?;
        if n_read == 0 {
            break;
        }
        hasher.update(&buffer[..n_read]);
    }
    Ok(hex::encode(hasher.finalize()))
}
