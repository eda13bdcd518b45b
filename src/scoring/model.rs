//! The transformer scorer: a rust-bert model loaded from a model folder.
//!
//! Two kinds of model folder:
//! - sequence classifiers (`task = "sentiment"`): BERT (incl. MiniLM), DistilBERT, RoBERTa and
//!   XLM-RoBERTa, scoring sentiment only;
//! - complaint models (`task = "complaint"`): rust-bert's BERT encoder (weights under `bert.`,
//!   no pooler), mean pooling over real tokens, and small heads as tch modules
//!   (`heads.<name>.dense`, tanh, `heads.<name>.out`, softmax) for sentiment, complaint and
//!   severity: one encoder pass per batch, whatever the number of heads.
//!
//! Weights are safetensors with Hugging Face parameter names. Weights stored as float16 are
//! converted to float32 after loading, or to bfloat16 for `precision = "bf16"`. A complaint
//! model may also ship an int8 ONNX file (`[precisions.int8]`), run by ONNX Runtime
//! (`scoring::onnx`) with the same tokenizer, normalisation and output reading; unless told
//! otherwise a scorer uses it, as the manifest records it as within half a point of float32.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rust_bert::bert::{BertConfig, BertEmbeddings, BertForSequenceClassification, BertModel};
use rust_bert::distilbert::{DistilBertConfig, DistilBertModelClassifier};
use rust_bert::pipelines::common::{ModelType, TokenizerOption};
use rust_bert::roberta::{RobertaConfig, RobertaForSequenceClassification};
use rust_tokenizers::tokenizer::TruncationStrategy;
use tch::{Device, Kind, Tensor, nn};

use super::manifest::ModelManifest;
use super::normalise::Normaliser;
use super::onnx::OnnxModel;
use super::{Prepare, Prepared, ScoreInput, Scorer, ScoringError};
use crate::config::{Precision, ScoringSettings};
use crate::domain::{ComplaintScores, SentimentLabel, SentimentOutcome, SentimentScores, Severity};

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
    Heads(Box<MultiHead>),
}

/// `out(tanh(dense(x)))`, the shape of every head of a complaint model.
struct Head {
    dense: nn::Linear,
    out: nn::Linear,
}

impl Head {
    fn new(p: nn::Path<'_>, hidden: i64, outputs: i64) -> Head {
        Head {
            dense: nn::linear(&p / "dense", hidden, hidden, Default::default()),
            out: nn::linear(&p / "out", hidden, outputs, Default::default()),
        }
    }

    fn probabilities(&self, pooled: &Tensor) -> Tensor {
        use tch::nn::Module;
        self.out
            .forward(&self.dense.forward(pooled).tanh())
            .softmax(-1, Kind::Float)
    }
}

/// A BERT encoder with mean pooling and the sentiment, complaint and severity heads.
struct MultiHead {
    encoder: BertModel<BertEmbeddings>,
    sentiment: Head,
    complaint: Head,
    severity: Head,
}

impl MultiHead {
    fn new(root: nn::Path<'_>, config: &BertConfig) -> MultiHead {
        let hidden = config.hidden_size;
        let heads = &root / "heads";
        MultiHead {
            encoder: BertModel::new_with_optional_pooler(&root / "bert", config, false),
            sentiment: Head::new(&heads / "sentiment", hidden, 3),
            complaint: Head::new(&heads / "complaint", hidden, 2),
            severity: Head::new(&heads / "severity", hidden, Severity::ALL.len() as i64),
        }
    }

    /// (sentiment, complaint, severity) probabilities for a padded batch.
    fn forward(&self, ids: &Tensor, mask: &Tensor) -> Result<(Tensor, Tensor, Tensor), ScoringError> {
        let hidden = self
            .encoder
            .forward_t(Some(ids), Some(mask), None, None, None, None, None, false)
            .map_err(|e| ScoringError::Inference(e.to_string()))?
            .hidden_state;
        // Pooling sums in float32; the heads take the encoder's own precision.
        let pooled = mean_pool(&hidden, mask).to_kind(hidden.kind());
        Ok((
            self.sentiment.probabilities(&pooled),
            self.complaint.probabilities(&pooled),
            self.severity.probabilities(&pooled),
        ))
    }
}

/// A padded batch of token ids and its attention mask, `rows × width`, row-major.
pub(super) struct TokenBatch {
    pub ids: Vec<i64>,
    pub mask: Vec<i64>,
    pub rows: usize,
    pub width: usize,
}

/// Token ids and attention mask of `texts` (already normalised), padded to the batch's
/// longest, each cut to `max_length` tokens.
pub(super) fn token_batch(tokenizer: &TokenizerOption, texts: &[String], max_length: usize, pad_id: i64) -> TokenBatch {
    let encoded = tokenizer.encode_list(texts, max_length, &TruncationStrategy::LongestFirst, 0);
    TokenBatch::pad(encoded.iter().map(|e| e.token_ids.as_slice()), pad_id)
}

/// One normalised text's token ids as [`token_batch`] makes them, on the calling thread.
fn token_ids(tokenizer: &TokenizerOption, text: &str, max_length: usize) -> Vec<i64> {
    tokenizer
        .encode_pair(text, None, max_length, &TruncationStrategy::LongestFirst, 0)
        .token_ids
}

impl TokenBatch {
    /// Rows of token ids padded with `pad_id` to the longest, with their attention mask.
    fn pad<'a>(rows: impl ExactSizeIterator<Item = &'a [i64]> + Clone, pad_id: i64) -> TokenBatch {
        let n_rows = rows.len();
        let width = rows.clone().map(<[i64]>::len).max().unwrap_or(1).max(1);
        let mut ids = Vec::with_capacity(n_rows * width);
        let mut mask = Vec::with_capacity(n_rows * width);
        for row in rows {
            ids.extend_from_slice(row);
            ids.extend(std::iter::repeat_n(pad_id, width - row.len()));
            mask.extend(std::iter::repeat_n(1i64, row.len()));
            mask.extend(std::iter::repeat_n(0i64, width - row.len()));
        }
        TokenBatch {
            ids,
            mask,
            rows: n_rows,
            width,
        }
    }

    /// The ids and the mask as libtorch tensors.
    fn tensors(&self) -> (Tensor, Tensor) {
        let shape = [self.rows as i64, self.width as i64];
        (
            Tensor::from_slice(&self.ids).view(shape),
            Tensor::from_slice(&self.mask).view(shape),
        )
    }
}

/// [`token_batch`] as libtorch tensors (ids, mask).
pub(super) fn padded_batch(
    tokenizer: &TokenizerOption,
    texts: &[String],
    max_length: usize,
    pad_id: i64,
) -> (Tensor, Tensor) {
    token_batch(tokenizer, texts, max_length, pad_id).tensors()
}

/// The mean of the hidden states over real tokens (the mask's ones).
pub(super) fn mean_pool(hidden: &Tensor, mask: &Tensor) -> Tensor {
    let weights = mask.to_kind(Kind::Float).unsqueeze(-1);
    let summed = (hidden * &weights).sum_dim_intlist(1, false, Kind::Float);
    let counts = weights.sum_dim_intlist(1, false, Kind::Float).clamp_min(1e-9);
    summed / counts
}

/// What one post gets from the model.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelOutput {
    pub sentiment: SentimentScores,
    /// From complaint models only.
    pub complaint: Option<ComplaintScores>,
}

/// How a loaded model computes.
enum Engine {
    /// rust-bert on libtorch, in float32 or bfloat16.
    Torch {
        classifier: Box<Classifier>,
        // Owns the weights the classifier's tensors point into.
        _var_store: nn::VarStore,
    },
    /// The int8 ONNX file on ONNX Runtime.
    Onnx(OnnxModel),
}

/// How to load a model folder: at which precision, on how many threads, and where ONNX
/// Runtime is (for int8).
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `None`: int8 when the manifest has a checked `[precisions.int8]`, else float32.
    pub precision: Option<Precision>,
    /// Intra-op threads of an ONNX Runtime session (libtorch's are process-wide, see
    /// [`set_threads`]); 0: all cores.
    pub threads: usize,
    pub onnxruntime: Option<PathBuf>,
}

impl LoadOptions {
    /// What `[scoring]` asks for.
    pub fn from_settings(settings: &ScoringSettings) -> LoadOptions {
        LoadOptions {
            precision: settings.precision,
            threads: settings.threads,
            onnxruntime: settings.onnxruntime.clone(),
        }
    }

    /// Float32 on libtorch: the reference the other precisions are measured against.
    pub fn fp32() -> LoadOptions {
        LoadOptions {
            precision: Some(Precision::Fp32),
            ..LoadOptions::default()
        }
    }
}

/// The precision `asked` resolves to for a model with `manifest`.
fn resolve_precision(manifest: &ModelManifest, asked: Option<Precision>) -> Result<Precision, String> {
    let has_int8 = manifest.precisions.contains_key(Precision::Int8.as_str());
    match asked {
        None if has_int8 => Ok(Precision::Int8),
        None => Ok(Precision::Fp32),
        Some(Precision::Int8) if !has_int8 => Err(
            "has no int8 variant ([precisions.int8] in manifest.toml): make one with \
             scripts/make_quantized_model.py or set [scoring] precision = \"fp32\""
                .into(),
        ),
        Some(precision) => Ok(precision),
    }
}

/// The precision a scorer loaded from `dir` with `asked` will compute in (the manifest is
/// read, its checksums are checked when the model loads).
pub fn planned_precision(dir: &Path, asked: Option<Precision>) -> Result<Precision, ScoringError> {
    let manifest = ModelManifest::read(dir)?;
    resolve_precision(&manifest, asked).map_err(|message| ScoringError::Model {
        dir: dir.to_owned(),
        message,
    })
}

/// rust-bert's model type for a manifest `architecture`.
fn model_type(architecture: &str) -> Result<ModelType, String> {
    match architecture {
        "bert" => Ok(ModelType::Bert),
        "distilbert" => Ok(ModelType::DistilBert),
        "roberta" => Ok(ModelType::Roberta),
        "xlm-roberta" => Ok(ModelType::XLMRoberta),
        other => Err(format!(
            "unsupported architecture {other:?} (bert, distilbert, roberta, xlm-roberta)"
        )),
    }
}

/// The classifier of `manifest` on libtorch, its weights loaded and converted to `kind`.
fn load_torch(dir: &Path, manifest: &ModelManifest, kind: Kind) -> Result<Engine, String> {
    let config_text = std::fs::read_to_string(dir.join(&manifest.config))
        .map_err(|e| format!("cannot read {}: {e}", manifest.config))?;
    let mut var_store = nn::VarStore::new(Device::Cpu);
    let parse = |what: &str, e: serde_json::Error| format!("invalid {what} config {}: {e}", manifest.config);
    let classifier = match manifest.architecture.as_str() {
        "bert" if manifest.is_multi_head() => {
            let config: BertConfig = serde_json::from_str(&config_text).map_err(|e| parse("BERT", e))?;
            Classifier::Heads(Box::new(MultiHead::new(var_store.root(), &config)))
        }
        "bert" => {
            let config: BertConfig = serde_json::from_str(&config_text).map_err(|e| parse("BERT", e))?;
            Classifier::Bert(BertForSequenceClassification::new(var_store.root(), &config).map_err(|e| e.to_string())?)
        }
        "distilbert" => {
            let config: DistilBertConfig = serde_json::from_str(&config_text).map_err(|e| parse("DistilBERT", e))?;
            Classifier::DistilBert(
                DistilBertModelClassifier::new(var_store.root(), &config).map_err(|e| e.to_string())?,
            )
        }
        "roberta" | "xlm-roberta" => {
            let config: RobertaConfig = serde_json::from_str(&config_text).map_err(|e| parse("RoBERTa", e))?;
            Classifier::Roberta(
                RobertaForSequenceClassification::new(var_store.root(), &config).map_err(|e| e.to_string())?,
            )
        }
        other => return Err(format!("unsupported architecture {other:?}")),
    };
    var_store
        .load(dir.join(&manifest.weights))
        .map_err(|e| format!("cannot load {}: {e}", manifest.weights))?;
    // Loading adopts the file's dtype; compute in the chosen one whatever the storage.
    var_store.set_kind(kind);
    var_store.freeze();
    Ok(Engine::Torch {
        classifier: Box::new(classifier),
        _var_store: var_store,
    })
}

/// A loaded sequence classifier and its tokenizer.
pub struct TransformerScorer {
    manifest: ModelManifest,
    id: String,
    dir: PathBuf,
    precision: Precision,
    engine: Engine,
    tokenizer: Arc<TokenizerOption>,
    normaliser: Arc<Normaliser>,
    pad_id: i64,
    /// For each of our labels (negative, neutral, positive), the model's output index.
    output_index: [i64; 3],
}

impl TransformerScorer {
    /// Loads a model folder in float32 after checking its manifest and checksums.
    pub fn load(dir: &Path) -> Result<TransformerScorer, ScoringError> {
        TransformerScorer::load_with(dir, &LoadOptions::fp32())
    }

    /// Loads a model folder at the precision `options` resolve to, after checking its
    /// manifest and checksums.
    pub fn load_with(dir: &Path, options: &LoadOptions) -> Result<TransformerScorer, ScoringError> {
        let manifest = ModelManifest::load_and_verify(dir)?;
        let error = |message: String| ScoringError::Model {
            dir: dir.to_owned(),
            message,
        };
        let model_type = model_type(&manifest.architecture).map_err(error)?;
        let precision = resolve_precision(&manifest, options.precision).map_err(error)?;
        let engine = match precision {
            Precision::Fp32 => load_torch(dir, &manifest, Kind::Float),
            Precision::Bf16 => load_torch(dir, &manifest, Kind::BFloat16),
            Precision::Int8 => match manifest.precisions.get(Precision::Int8.as_str()) {
                Some(_) if !manifest.is_multi_head() => Err("int8 variants are for complaint models only".into()),
                Some(spec) => OnnxModel::load(
                    &dir.join(&spec.weights),
                    options.threads,
                    options.onnxruntime.as_deref(),
                )
                .map(Engine::Onnx),
                None => Err("has no [precisions.int8]".into()),
            },
        }
        .map_err(error)?;

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
        let normaliser = if manifest.normalisation_version >= 2 {
            let text =
                std::fs::read_to_string(&vocab).map_err(|e| error(format!("cannot read {}: {e}", manifest.vocab)))?;
            Normaliser::new(manifest.normalisation_version, text.lines())
        } else {
            Normaliser::new(manifest.normalisation_version, [])
        }
        .map_err(error)?;
        let mut output_index = [0i64; 3];
        for (idx, label) in manifest.labels.iter().enumerate() {
            let label = SentimentLabel::parse(label).ok_or_else(|| error(format!("unknown label {label:?}")))?;
            output_index[label.index()] = idx as i64;
        }
        // Scores record the model they came from; a variant says which.
        let id = match precision {
            Precision::Fp32 => manifest.id(),
            other => format!("{}+{}", manifest.id(), other.as_str()),
        };
        tracing::info!(model = %id, dir = %dir.display(), heads = manifest.is_multi_head(), "Loaded model.");
        Ok(TransformerScorer {
            manifest,
            id,
            dir: dir.to_owned(),
            precision,
            engine,
            tokenizer: Arc::new(tokenizer),
            normaliser: Arc::new(normaliser),
            pad_id,
            output_index,
        })
    }

    /// The precision this scorer computes in.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    pub fn manifest(&self) -> &ModelManifest {
        &self.manifest
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The normalisation this model was trained with.
    pub fn normaliser(&self) -> &Normaliser {
        &self.normaliser
    }

    /// Sentiment probabilities for each text (already normalised).
    pub fn probabilities(&mut self, texts: &[String]) -> Result<Vec<SentimentScores>, ScoringError> {
        Ok(self.predict(texts)?.into_iter().map(|o| o.sentiment).collect())
    }

    /// Every head's probabilities for each text (already normalised): one encoder pass per call.
    pub fn predict(&mut self, texts: &[String]) -> Result<Vec<ModelOutput>, ScoringError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let batch = token_batch(&self.tokenizer, texts, self.manifest.max_length, self.pad_id);
        self.predict_batch(batch)
    }

    /// Every head's probabilities for each padded row: one encoder pass.
    fn predict_batch(&mut self, batch: TokenBatch) -> Result<Vec<ModelOutput>, ScoringError> {
        let (sentiment, complaint) = match &mut self.engine {
            Engine::Torch { classifier, .. } => torch_forward(classifier, &batch)?,
            Engine::Onnx(model) => {
                let (rows, width) = (batch.rows, batch.width);
                let out = model
                    .run(batch.ids, batch.mask, rows, width)
                    .map_err(ScoringError::Inference)?;
                (out.sentiment, Some((out.complaint, out.severity)))
            }
        };
        sentiment
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let at = |label: SentimentLabel| {
                    row.get(self.output_index[label.index()] as usize)
                        .copied()
                        .unwrap_or(f32::NAN)
                };
                let sentiment = SentimentScores::from_weights(
                    at(SentimentLabel::Negative),
                    at(SentimentLabel::Neutral),
                    at(SentimentLabel::Positive),
                )
                .ok_or_else(|| ScoringError::Inference(format!("model produced invalid probabilities {row:?}")))?;
                let complaint = match &complaint {
                    None => None,
                    Some((complaint, severity)) => {
                        let p = complaint.get(i).and_then(|r| r.get(1)).copied().unwrap_or(f32::NAN);
                        let levels: [f32; 5] = severity
                            .get(i)
                            .and_then(|r| <[f32; 5]>::try_from(r.as_slice()).ok())
                            .unwrap_or([f32::NAN; 5]);
                        Some(ComplaintScores::new(p, levels).ok_or_else(|| {
                            ScoringError::Inference(format!("model produced invalid complaint scores {p} {levels:?}"))
                        })?)
                    }
                };
                Ok(ModelOutput { sentiment, complaint })
            })
            .collect()
    }

    /// The outcomes of `inputs` from the model's outputs for them, in order.
    fn outcomes(&self, outputs: Vec<ModelOutput>, inputs: &[ScoreInput]) -> Vec<SentimentOutcome> {
        outputs
            .into_iter()
            .zip(inputs)
            .map(|(output, input)| SentimentOutcome::Scored {
                scores: output.sentiment,
                model: self.id.clone(),
                language: input.lang_hint.clone(),
                complaint: output.complaint,
            })
            .collect()
    }
}

/// Every head's probabilities, as rows, for a padded batch on libtorch.
#[allow(clippy::type_complexity)]
fn torch_forward(
    classifier: &Classifier,
    batch: &TokenBatch,
) -> Result<(Vec<Vec<f32>>, Option<(Vec<Vec<f32>>, Vec<Vec<f32>>)>), ScoringError> {
    let (ids, mask) = batch.tensors();
    let rows = |t: &Tensor| {
        Vec::<Vec<f32>>::try_from(t).map_err(|e| ScoringError::Inference(format!("unexpected model output: {e}")))
    };
    let (sentiment, complaint) = tch::no_grad(|| -> Result<(Tensor, Option<(Tensor, Tensor)>), ScoringError> {
        let logits = match classifier {
            Classifier::Bert(model) => model.forward_t(Some(&ids), Some(&mask), None, None, None, false).logits,
            Classifier::DistilBert(model) => {
                model
                    .forward_t(Some(&ids), Some(&mask), None, false)
                    .map_err(|e| ScoringError::Inference(e.to_string()))?
                    .logits
            }
            Classifier::Roberta(model) => model.forward_t(Some(&ids), Some(&mask), None, None, None, false).logits,
            Classifier::Heads(model) => {
                let (sentiment, complaint, severity) = model.forward(&ids, &mask)?;
                return Ok((sentiment, Some((complaint, severity))));
            }
        };
        Ok((logits.softmax(-1, Kind::Float), None))
    })?;
    let complaint = match complaint {
        Some((complaint, severity)) => Some((rows(&complaint)?, rows(&severity)?)),
        None => None,
    };
    Ok((rows(&sentiment)?, complaint))
}

impl Scorer for TransformerScorer {
    fn name(&self) -> &str {
        &self.id
    }

    /// The post normalised and tokenized (special tokens included, up to the model's maximum):
    /// its token count is what a batch pads to, and the worker runs the model on the ids.
    fn preparer(&self) -> Option<Prepare> {
        let (tokenizer, normaliser) = (self.tokenizer.clone(), self.normaliser.clone());
        let max_length = self.manifest.max_length;
        Some(Arc::new(move |input: &ScoreInput| {
            let ids = token_ids(&tokenizer, &normaliser.normalise(&input.text), max_length);
            Prepared {
                length: ids.len(),
                token_ids: Some(ids),
            }
        }))
    }

    fn score_batch(&mut self, inputs: &[ScoreInput]) -> Result<Vec<SentimentOutcome>, ScoringError> {
        let texts: Vec<String> = inputs
            .iter()
            .map(|input| self.normaliser.normalise(&input.text))
            .collect();
        let outputs = self.predict(&texts)?;
        Ok(self.outcomes(outputs, inputs))
    }

    /// Runs the model on the ids the preparer kept; inputs without them are normalised and
    /// tokenized here.
    fn score_prepared(
        &mut self,
        inputs: &[ScoreInput],
        prepared: &[Prepared],
    ) -> Result<Vec<SentimentOutcome>, ScoringError> {
        let ids: Option<Vec<&[i64]>> = prepared.iter().map(|p| p.token_ids.as_deref()).collect();
        match ids {
            Some(ids) if !ids.is_empty() && ids.len() == inputs.len() => {
                let outputs = self.predict_batch(TokenBatch::pad(ids.into_iter(), self.pad_id))?;
                Ok(self.outcomes(outputs, inputs))
            }
            _ => self.score_batch(inputs),
        }
    }
}
