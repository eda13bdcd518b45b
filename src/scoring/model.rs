//! The transformer scorer: a rust-bert sequence classifier loaded from a model folder.
//!
//! Supported families: BERT (incl. MiniLM), DistilBERT, RoBERTa and XLM-RoBERTa, with weights
//! in safetensors using Hugging Face parameter names. Weights stored as float16 are converted
//! to float32 after loading (libtorch's CPU kernels are fastest, and exact, in float32).

use std::path::{Path, PathBuf};

use rust_bert::bert::{BertConfig, BertForSequenceClassification};
use rust_bert::distilbert::{DistilBertConfig, DistilBertModelClassifier};
use rust_bert::pipelines::common::{ModelType, TokenizerOption};
use rust_bert::roberta::{RobertaConfig, RobertaForSequenceClassification};
use rust_tokenizers::tokenizer::TruncationStrategy;
use tch::{Device, Kind, Tensor, nn};

use super::manifest::ModelManifest;
use super::normalise::normalise;
use super::{ScoreInput, Scorer, ScoringError};
use crate::domain::{SentimentLabel, SentimentOutcome, SentimentScores};

/// Sets libtorch's intra-op threads; 0 leaves its default (all cores).
pub fn set_threads(threads: usize) {
    if threads > 0 {
        tch::set_num_threads(i32::try_from(threads).unwrap_or(i32::MAX));
    }
}

enum Classifier {
    Bert(BertForSequenceClassification),
    DistilBert(DistilBertModelClassifier),
    Roberta(RobertaForSequenceClassification),
}

/// A loaded sequence classifier and its tokenizer.
pub struct TransformerScorer {
    manifest: ModelManifest,
    id: String,
    dir: PathBuf,
    classifier: Classifier,
    tokenizer: TokenizerOption,
    pad_id: i64,
    /// For each of our labels (negative, neutral, positive), the model's output index.
    output_index: [i64; 3],
    // Owns the weights the classifier's tensors point into.
    _var_store: nn::VarStore,
}

impl TransformerScorer {
    /// Loads a model folder after checking its manifest and checksums.
    pub fn load(dir: &Path) -> Result<TransformerScorer, ScoringError> {
        let manifest = ModelManifest::load_and_verify(dir)?;
        let error = |message: String| ScoringError::Model {
            dir: dir.to_owned(),
            message,
        };
        let config_text = std::fs::read_to_string(dir.join(&manifest.config))
            .map_err(|e| error(format!("cannot read {}: {e}", manifest.config)))?;
        let mut var_store = nn::VarStore::new(Device::Cpu);
        let parse = |what: &str, e: serde_json::Error| error(format!("invalid {what} config {}: {e}", manifest.config));
        let (classifier, model_type) = match manifest.architecture.as_str() {
            "bert" => {
                let config: BertConfig = serde_json::from_str(&config_text).map_err(|e| parse("BERT", e))?;
                let model =
                    BertForSequenceClassification::new(var_store.root(), &config).map_err(|e| error(e.to_string()))?;
                (Classifier::Bert(model), ModelType::Bert)
            }
            "distilbert" => {
                let config: DistilBertConfig =
                    serde_json::from_str(&config_text).map_err(|e| parse("DistilBERT", e))?;
                let model =
                    DistilBertModelClassifier::new(var_store.root(), &config).map_err(|e| error(e.to_string()))?;
                (Classifier::DistilBert(model), ModelType::DistilBert)
            }
            "roberta" | "xlm-roberta" => {
                let config: RobertaConfig = serde_json::from_str(&config_text).map_err(|e| parse("RoBERTa", e))?;
                let model = RobertaForSequenceClassification::new(var_store.root(), &config)
                    .map_err(|e| error(e.to_string()))?;
                let model_type = if manifest.architecture == "roberta" {
                    ModelType::Roberta
                } else {
                    ModelType::XLMRoberta
                };
                (Classifier::Roberta(model), model_type)
            }
            other => {
                return Err(error(format!(
                    "unsupported architecture {other:?} (bert, distilbert, roberta, xlm-roberta)"
                )));
            }
        };
        var_store
            .load(dir.join(&manifest.weights))
            .map_err(|e| error(format!("cannot load {}: {e}", manifest.weights)))?;
        // Loading adopts the file's dtype; compute in float32 whatever the storage.
        var_store.float();
        var_store.freeze();

        let vocab = dir.join(&manifest.vocab);
        let merges = manifest.merges.as_ref().map(|m| dir.join(m));
        let vocab_str = vocab.to_str().ok_or_else(|| error("vocab path is not UTF-8".into()))?;
        let merges_str = merges.as_ref().and_then(|m| m.to_str());
        let (strip_accents, add_prefix_space) = match model_type {
            ModelType::Bert | ModelType::DistilBert => (Some(manifest.lowercase), None),
            ModelType::Roberta => (None, Some(false)),
            _ => (None, None),
        };
        let tokenizer = TokenizerOption::from_file(
            model_type,
            vocab_str,
            merges_str,
            manifest.lowercase,
            strip_accents,
            add_prefix_space,
        )
        .map_err(|e| error(format!("cannot load tokenizer: {e}")))?;
        let pad_id = tokenizer.get_pad_id().unwrap_or(0);
        let mut output_index = [0i64; 3];
        for (idx, label) in manifest.labels.iter().enumerate() {
            let label = SentimentLabel::parse(label).ok_or_else(|| error(format!("unknown label {label:?}")))?;
            output_index[label.index()] = idx as i64;
        }
        let id = manifest.id();
        tracing::info!(model = %id, dir = %dir.display(), "Loaded sentiment model.");
        Ok(TransformerScorer {
            manifest,
            id,
            dir: dir.to_owned(),
            classifier,
            tokenizer,
            pad_id,
            output_index,
            _var_store: var_store,
        })
    }

    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Softmax probabilities for each text (already normalised).
    pub fn probabilities(&self, texts: &[String]) -> Result<Vec<SentimentScores>, ScoringError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encoded = self
            .tokenizer
            .encode_list(texts, self.manifest.max_length, &TruncationStrategy::LongestFirst, 0);
        let max_len = encoded.iter().map(|e| e.token_ids.len()).max().unwrap_or(1).max(1);
        let mut ids = Vec::with_capacity(encoded.len() * max_len);
        let mut mask = Vec::with_capacity(encoded.len() * max_len);
        for input in &encoded {
            let n_tokens = input.token_ids.len();
            ids.extend_from_slice(&input.token_ids);
            ids.extend(std::iter::repeat_n(self.pad_id, max_len - n_tokens));
            mask.extend(std::iter::repeat_n(1i64, n_tokens));
            mask.extend(std::iter::repeat_n(0i64, max_len - n_tokens));
        }
        let shape = [encoded.len() as i64, max_len as i64];
        let ids = Tensor::from_slice(&ids).view(shape);
        let mask = Tensor::from_slice(&mask).view(shape);
        let logits = tch::no_grad(|| -> Result<Tensor, ScoringError> {
            let logits = match &self.classifier {
                Classifier::Bert(model) => model.forward_t(Some(&ids), Some(&mask), None, None, None, false).logits,
                Classifier::DistilBert(model) => {
                    model
                        .forward_t(Some(&ids), Some(&mask), None, false)
                        .map_err(|e| ScoringError::Inference(e.to_string()))?
                        .logits
                }
                Classifier::Roberta(model) => model.forward_t(Some(&ids), Some(&mask), None, None, None, false).logits,
            };
            Ok(logits)
        })?;
        let probabilities = logits.softmax(-1, Kind::Float);
        let rows: Vec<Vec<f32>> = Vec::<Vec<f32>>::try_from(&probabilities)
            .map_err(|e| ScoringError::Inference(format!("unexpected model output: {e}")))?;
        rows.iter()
            .map(|row| {
                let at = |label: SentimentLabel| {
                    row.get(self.output_index[label.index()] as usize)
                        .copied()
                        .unwrap_or(f32::NAN)
                };
                SentimentScores::from_weights(
                    at(SentimentLabel::Negative),
                    at(SentimentLabel::Neutral),
                    at(SentimentLabel::Positive),
                )
                .ok_or_else(|| ScoringError::Inference(format!("model produced invalid probabilities {row:?}")))
            })
            .collect()
    }
}

impl Scorer for TransformerScorer {
    fn name(&self) -> &str {
        &self.id
    }

    fn score_batch(&mut self, inputs: &[ScoreInput]) -> Result<Vec<SentimentOutcome>, ScoringError> {
        let texts: Vec<String> = inputs.iter().map(|input| normalise(&input.text)).collect();
        let scores = self.probabilities(&texts)?;
        Ok(scores
            .into_iter()
            .zip(inputs)
            .map(|(scores, input)| SentimentOutcome::Scored {
                scores,
                model: self.id.clone(),
                language: input.lang_hint.clone(),
            })
            .collect())
    }
}
