//! Sentence embeddings of complaints, for grouping them into recurring problems: a BERT
//! sentence encoder (`task = "embedding"` model folders; the shipped one is
//! sentence-transformers' all-MiniLM-L6-v2, `models/minilm-l6-embedding`), mean pooling over
//! real tokens, scaled to unit length.
//!
//! Why a second encoder and not the complaint model's own pooled vector: measured on
//! X-FINCORP's complaints grouped by their `domain`, the fine-tuned encoder's vectors group
//! by tone (NMI 0.13 at 9 groups, 0.19 at 98) while the base model's group by topic (NMI 0.41
//! at 85 groups, ARI 0.18); a linear map from one to the other recovered only part of that
//! (NMI 0.26 at 131 groups). It runs in the problems job, off the scoring path, and only on
//! complaints and negative mentions.
//!
//! Like `ScoringService`, the encoder lives on its own thread behind a bounded queue; its
//! weights are loaded on the first request (a service that never groups never pays for
//! them), after the manifest and checksums were verified at start.

use std::path::{Path, PathBuf};

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use rust_bert::pipelines::common::{ModelType, TokenizerOption};
use tch::{Device, nn};
use tokio::sync::{mpsc, oneshot};

use super::ScoringError;
use super::manifest::ModelManifest;
use super::model::{mean_pool, padded_batch};
use super::normalise::Normaliser;
use crate::domain::Embedding;

/// A loaded sentence encoder.
pub struct SentenceEmbedder {
    manifest: ModelManifest,
    encoder: BertModel<BertEmbeddings>,
    tokenizer: TokenizerOption,
    normaliser: Normaliser,
    pad_id: i64,
    // Owns the weights the encoder's tensors point into.
    _var_store: nn::VarStore,
}

impl SentenceEmbedder {
    /// Checks the manifest of a model folder (a `task = "embedding"` BERT with mean pooling)
    /// and the sha256 of every file, without loading the weights.
    pub fn verify(dir: &Path) -> Result<ModelManifest, ScoringError> {
        let manifest = ModelManifest::load_and_verify(dir)?;
        if manifest.task != "embedding"
            || manifest.architecture != "bert"
            || manifest.pooling.as_deref() != Some("mean")
        {
            return Err(ScoringError::Model {
                dir: dir.to_owned(),
                message: format!(
                    "not a sentence-embedding model: task {:?}, architecture {:?}, pooling {:?} (want embedding, bert, mean)",
                    manifest.task, manifest.architecture, manifest.pooling
                ),
            });
        }
        Ok(manifest)
    }

    /// Loads a model folder after checking it.
    pub fn load(dir: &Path) -> Result<SentenceEmbedder, ScoringError> {
        let manifest = SentenceEmbedder::verify(dir)?;
        let error = |message: String| ScoringError::Model {
            dir: dir.to_owned(),
            message,
        };
        let config_text = std::fs::read_to_string(dir.join(&manifest.config))
            .map_err(|e| error(format!("cannot read {}: {e}", manifest.config)))?;
        let config: BertConfig =
            serde_json::from_str(&config_text).map_err(|e| error(format!("invalid BERT config: {e}")))?;
        let mut var_store = nn::VarStore::new(Device::Cpu);
        let encoder = BertModel::new_with_optional_pooler(var_store.root(), &config, false);
        var_store
            .load(dir.join(&manifest.weights))
            .map_err(|e| error(format!("cannot load {}: {e}", manifest.weights)))?;
        var_store.float();
        var_store.freeze();
        let vocab = dir.join(&manifest.vocab);
        let vocab_str = vocab.to_str().ok_or_else(|| error("vocab path is not UTF-8".into()))?;
        let tokenizer = TokenizerOption::from_file(
            ModelType::Bert,
            vocab_str,
            None,
            manifest.lowercase,
            Some(manifest.lowercase),
            None,
        )
        .map_err(|e| error(format!("cannot load tokenizer: {e}")))?;
        let pad_id = tokenizer.get_pad_id().unwrap_or(0);
        let vocab_text =
            std::fs::read_to_string(&vocab).map_err(|e| error(format!("cannot read {}: {e}", manifest.vocab)))?;
        let normaliser = Normaliser::new(manifest.normalisation_version, vocab_text.lines()).map_err(error)?;
        tracing::info!(model = %manifest.id(), dir = %dir.display(), "Loaded the sentence-embedding model.");
        Ok(SentenceEmbedder {
            manifest,
            encoder,
            tokenizer,
            normaliser,
            pad_id,
            _var_store: var_store,
        })
    }

    /// `name@version`, stored with every vector (vectors of two models are never compared).
    pub fn id(&self) -> String {
        self.manifest.id()
    }

    /// The embedding of each text, in order; one encoder pass per call (callers batch).
    pub fn embed(&self, texts: &[String]) -> Result<Vec<Embedding>, ScoringError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let normalised: Vec<String> = texts.iter().map(|t| self.normaliser.normalise(t)).collect();
        let (ids, mask) = padded_batch(&self.tokenizer, &normalised, self.manifest.max_length, self.pad_id);
        let pooled = tch::no_grad(|| -> Result<tch::Tensor, ScoringError> {
            let hidden = self
                .encoder
                .forward_t(Some(&ids), Some(&mask), None, None, None, None, None, false)
                .map_err(|e| ScoringError::Inference(e.to_string()))?
                .hidden_state;
            Ok(mean_pool(&hidden, &mask))
        })?;
        let rows = Vec::<Vec<f32>>::try_from(&pooled)
            .map_err(|e| ScoringError::Inference(format!("unexpected model output: {e}")))?;
        rows.into_iter()
            .map(|row| Embedding::normalised(row).map_err(|e| ScoringError::Inference(e.to_string())))
            .collect()
    }
}

struct Job {
    texts: Vec<String>,
    reply: oneshot::Sender<Result<Vec<Embedding>, ScoringError>>,
}

/// The sentence encoder on its own thread behind a bounded queue.
#[derive(Clone)]
pub struct EmbeddingService {
    jobs: mpsc::Sender<Job>,
    name: String,
}

impl EmbeddingService {
    /// Verifies the model folder now and starts the thread; the weights are loaded on the
    /// first request. Each request is cut into length-sorted batches of `batch_size`.
    pub fn start(dir: &Path, batch_size: usize) -> Result<EmbeddingService, ScoringError> {
        let name = SentenceEmbedder::verify(dir)?.id();
        let (jobs, mut receiver) = mpsc::channel::<Job>(2);
        let dir: PathBuf = dir.to_owned();
        let batch_size = batch_size.max(1);
        let span = tracing::info_span!("embedding_thread", model = %name);
        std::thread::Builder::new()
            .name("earshot-embedding".into())
            .spawn(move || {
                let _entered = span.enter();
                let mut embedder: Option<SentenceEmbedder> = None;
                while let Some(job) = receiver.blocking_recv() {
                    if embedder.is_none() {
                        match SentenceEmbedder::load(&dir) {
                            Ok(loaded) => embedder = Some(loaded),
                            Err(error) => {
                                let _ = job.reply.send(Err(error));
                                continue;
                            }
                        }
                    }
                    let Some(model) = embedder.as_ref() else { continue };
                    // The caller may have gone away (shutdown); nothing to do then.
                    let _ = job.reply.send(embed_in_batches(model, &job.texts, batch_size));
                }
            })
            .map_err(|e| ScoringError::Inference(format!("cannot start the embedding thread: {e}")))?;
        Ok(EmbeddingService { jobs, name })
    }

    /// The embedding of each text, in order.
    pub async fn embed(&self, texts: Vec<String>) -> Result<Vec<Embedding>, ScoringError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, response) = oneshot::channel();
        self.jobs
            .send(Job { texts, reply })
            .await
            .map_err(|_| ScoringError::Stopped)?;
        response.await.map_err(|_| ScoringError::Stopped)?
    }

    /// The model's `name@version`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Shortest texts first, so a batch pads only to its own longest; results in input order.
fn embed_in_batches(
    model: &SentenceEmbedder,
    texts: &[String],
    batch_size: usize,
) -> Result<Vec<Embedding>, ScoringError> {
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    let mut out: Vec<Option<Embedding>> = vec![None; texts.len()];
    for chunk in order.chunks(batch_size) {
        let batch: Vec<String> = chunk.iter().map(|&i| texts[i].clone()).collect();
        for (&i, embedding) in chunk.iter().zip(model.embed(&batch)?) {
            out[i] = Some(embedding);
        }
    }
    out.into_iter()
        .map(|e| e.ok_or_else(|| ScoringError::Inference("a text was not embedded".into())))
        .collect()
}
