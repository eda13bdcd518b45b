//! Turning posts into sentiment and criticality, with a local model and no network.
//!
//! Invariant: model inference never runs on the async executor's threads. `ScoringService`
//! owns the scorer on a dedicated thread fed through a bounded queue; callers await a reply,
//! and when the queue is full they wait (back-pressure) instead of piling up memory. Model
//! files are read from `models/` at start and checked against their manifest; nothing is
//! ever downloaded here. `[scoring] precision` picks float32 or bfloat16 on libtorch, or the
//! model's int8 file on ONNX Runtime (the default where the manifest has one).

pub mod criticality;
pub mod embedding;
pub mod language;
pub mod lexicon;
pub mod manifest;
pub mod model;
pub mod normalise;
pub mod onnx;
mod service;

pub use service::{ScoringService, Submitted};

use std::path::PathBuf;

use crate::config::{ScorerKind, ScoringSettings};
use crate::domain::SentimentOutcome;

/// A post's text with the language its platform reported, if any.
#[derive(Debug, Clone)]
pub struct ScoreInput {
    pub text: String,
    pub lang_hint: Option<String>,
}

/// A post as the scoring service's dispatcher measured it: how much model work it is (its
/// token count, for a transformer), and the token ids it counted when the scorer keeps them,
/// so a worker does not normalise and tokenize the post a second time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub length: usize,
    /// The model's input ids (special tokens included, cut to its maximum length).
    pub token_ids: Option<Vec<i64>>,
}

/// How a scorer prepares a post for batching: the service sorts a job's posts by
/// [`Prepared::length`] so each batch pads little. Called on the dispatcher thread, off the
/// scoring workers.
pub type Prepare = std::sync::Arc<dyn Fn(&ScoreInput) -> Prepared + Send + Sync>;

/// Something that scores sentiment. Blocking: call it through `ScoringService`.
pub trait Scorer: Send {
    /// Name and version, e.g. `complaint-minilm-l6@1.0.0`.
    fn name(&self) -> &str;

    /// How to prepare a post for batching; `None`: its length is its text's bytes and nothing
    /// is kept.
    fn preparer(&self) -> Option<Prepare> {
        None
    }

    /// Scores a batch; the result has one outcome per input, in order.
    fn score_batch(&mut self, inputs: &[ScoreInput]) -> Result<Vec<SentimentOutcome>, ScoringError>;

    /// Scores a batch that this scorer's [`preparer`](Scorer::preparer) prepared (`prepared[i]`
    /// belongs to `inputs[i]`); the outcomes must equal [`score_batch`](Scorer::score_batch)'s.
    /// By default the preparation is not used.
    fn score_prepared(
        &mut self,
        inputs: &[ScoreInput],
        _prepared: &[Prepared],
    ) -> Result<Vec<SentimentOutcome>, ScoringError> {
        self.score_batch(inputs)
    }
}

/// Why scoring failed.
#[derive(Debug, thiserror::Error)]
pub enum ScoringError {
    #[error("model folder {dir}: {message}")]
    Model { dir: PathBuf, message: String },
    #[error("inference failed: {0}")]
    Inference(String),
    #[error("the scoring thread has stopped")]
    Stopped,
}

/// Builds the configured scorer: the transformer (with language routing) or the lexicon
/// baseline, with `threads` intra-op threads (0: all cores). Loading checks every model file
/// against its manifest.
pub fn build_scorer(settings: &ScoringSettings) -> Result<Box<dyn Scorer>, ScoringError> {
    build_one(settings, settings.threads)
}

fn build_one(settings: &ScoringSettings, threads: usize) -> Result<Box<dyn Scorer>, ScoringError> {
    match settings.scorer {
        ScorerKind::Lexicon => Ok(Box::new(lexicon::LexiconScorer)),
        ScorerKind::Model => {
            model::set_threads(threads);
            let options = model::LoadOptions {
                threads,
                ..model::LoadOptions::from_settings(settings)
            };
            let primary = model::TransformerScorer::load_with(&settings.model, &options)?;
            // A multilingual model without an int8 file runs in float32 unless told otherwise.
            let secondary = match &settings.multilingual_model {
                Some(dir) => Some(model::TransformerScorer::load_with(dir, &options)?),
                None => None,
            };
            Ok(Box::new(language::LanguageRouter::new(primary, secondary)))
        }
    }
}

/// The batch size for libtorch (float32, bfloat16; one worker with every thread) when
/// `[scoring] batch_size` is 0: measured best of 8-64 (README "Benchmark").
pub const TORCH_BATCH_SIZE: usize = 32;
/// The batch size for one-thread int8 workers when `[scoring] batch_size` is 0: small batches
/// pad least and keep each worker's working set in cache (README "Benchmark").
pub const INT8_BATCH_SIZE: usize = 4;

/// How many scorers run in parallel, with how many threads each, on batches of what size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerPlan {
    pub workers: usize,
    pub threads_each: usize,
    pub batch_size: usize,
}

/// `[scoring] workers`, `threads` and `batch_size` for the model and precision configured. Unset
/// (`workers = 0`): an int8 model gets one single-threaded worker per core (ONNX Runtime
/// sessions are independent, and on small batches two one-thread sessions beat one
/// two-thread session, see README "Benchmark"); libtorch gets one worker with every thread,
/// as its thread pool is process-wide and each worker would hold its own float32 weights.
pub fn worker_plan(settings: &ScoringSettings) -> Result<WorkerPlan, ScoringError> {
    let cores = if settings.threads > 0 {
        settings.threads
    } else {
        std::thread::available_parallelism().map_or(1, usize::from)
    };
    let parallel_by_default = match settings.scorer {
        ScorerKind::Lexicon => false,
        ScorerKind::Model => {
            model::planned_precision(&settings.model, settings.precision)? == crate::config::Precision::Int8
        }
    };
    let workers = match settings.workers {
        0 if parallel_by_default => cores,
        0 => 1,
        n => n,
    };
    let batch_size = match settings.batch_size {
        0 if parallel_by_default => INT8_BATCH_SIZE,
        0 => TORCH_BATCH_SIZE,
        n => n,
    };
    Ok(WorkerPlan {
        workers,
        threads_each: (cores / workers).max(1),
        batch_size,
    })
}

/// Loads the configured scorers and starts the service: blocking (model loading), so call it
/// from a blocking thread in async code.
pub fn start_service(settings: &ScoringSettings) -> Result<ScoringService, ScoringError> {
    let plan = worker_plan(settings)?;
    let scorers = (0..plan.workers)
        .map(|_| build_one(settings, plan.threads_each))
        .collect::<Result<Vec<_>, _>>()?;
    tracing::info!(
        workers = plan.workers,
        threads_each = plan.threads_each,
        batch_size = plan.batch_size,
        "Starting the scoring service."
    );
    Ok(ScoringService::start_pool(
        scorers,
        settings.queue_batches,
        plan.batch_size,
    ))
}
