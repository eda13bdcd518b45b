//! Turning posts into sentiment and criticality, with a local model and no network.
//!
//! Invariant: model inference never runs on the async executor's threads. `ScoringService`
//! owns the scorer on a dedicated thread fed through a bounded queue; callers await a reply,
//! and when the queue is full they wait (back-pressure) instead of piling up memory. Model
//! files are read from `models/` at start and checked against their manifest; nothing is
//! ever downloaded here.

pub mod criticality;
pub mod embedding;
pub mod language;
pub mod lexicon;
pub mod manifest;
pub mod model;
pub mod normalise;

use std::path::PathBuf;
use std::thread;

use tokio::sync::{mpsc, oneshot};

use crate::config::{ScorerKind, ScoringSettings};
use crate::domain::SentimentOutcome;

/// A post's text with the language its platform reported, if any.
#[derive(Debug, Clone)]
pub struct ScoreInput {
    pub text: String,
    pub lang_hint: Option<String>,
}

/// Something that scores sentiment. Blocking: call it through `ScoringService`.
pub trait Scorer: Send {
    /// Name and version, e.g. `complaint-minilm-l6@1.0.0`.
    fn name(&self) -> &str;

    /// Scores a batch; the result has one outcome per input, in order.
    fn score_batch(&mut self, inputs: &[ScoreInput]) -> Result<Vec<SentimentOutcome>, ScoringError>;
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

struct Job {
    inputs: Vec<ScoreInput>,
    reply: oneshot::Sender<Result<Vec<SentimentOutcome>, ScoringError>>,
}

/// The scorer on its own thread behind a bounded queue.
#[derive(Clone)]
pub struct ScoringService {
    jobs: mpsc::Sender<Job>,
    name: String,
    batch_size: usize,
}

impl ScoringService {
    /// Moves `scorer` onto a dedicated thread. `queue_batches` jobs may wait before callers
    /// wait; each job is cut into batches of `batch_size`.
    pub fn start(scorer: Box<dyn Scorer>, queue_batches: usize, batch_size: usize) -> ScoringService {
        let (jobs, mut receiver) = mpsc::channel::<Job>(queue_batches.max(1));
        let name = scorer.name().to_owned();
        let batch_size = batch_size.max(1);
        let span = tracing::info_span!("scoring_thread", scorer = %name);
        let mut scorer = scorer;
        thread::Builder::new()
            .name("earshot-scoring".into())
            .spawn(move || {
                let _entered = span.enter();
                // Ends when every `ScoringService` clone is dropped.
                while let Some(job) = receiver.blocking_recv() {
                    let result = score_in_batches(scorer.as_mut(), &job.inputs, batch_size);
                    // The caller may have gone away (shutdown); nothing to do then.
                    let _ = job.reply.send(result);
                }
            })
            .expect("spawning a thread only fails when the OS is out of resources");
        ScoringService { jobs, name, batch_size }
    }

    /// Scores the inputs, waiting for room in the queue if it is full.
    pub async fn score(&self, inputs: Vec<ScoreInput>) -> Result<Vec<SentimentOutcome>, ScoringError> {
        if inputs.is_empty() {
            return Ok(Vec::new());
        }
        let (reply, response) = oneshot::channel();
        self.jobs
            .send(Job { inputs, reply })
            .await
            .map_err(|_| ScoringError::Stopped)?;
        response.await.map_err(|_| ScoringError::Stopped)?
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Whether the scoring thread is still taking work (false once it has stopped).
    pub fn is_running(&self) -> bool {
        !self.jobs.is_closed()
    }
}

/// Scores `inputs` in batches of `batch_size`, shortest texts first: a batch pads only to its
/// own longest post, so a job of mixed lengths wastes few padding tokens (the encoder's cost
/// grows with the padded length). Outcomes come back in the order of `inputs`.
fn score_in_batches(
    scorer: &mut dyn Scorer,
    inputs: &[ScoreInput],
    batch_size: usize,
) -> Result<Vec<SentimentOutcome>, ScoringError> {
    let mut order: Vec<usize> = (0..inputs.len()).collect();
    // Stable: equal lengths keep their order. Bytes track tokens closely enough to bucket.
    order.sort_by_key(|&i| inputs[i].text.len());
    let mut outcomes: Vec<Option<SentimentOutcome>> = vec![None; inputs.len()];
    for chunk in order.chunks(batch_size) {
        let batch: Vec<ScoreInput> = chunk.iter().map(|&i| inputs[i].clone()).collect();
        let started = std::time::Instant::now();
        let scored = scorer.score_batch(&batch)?;
        metrics::histogram!(crate::metrics::SCORING_BATCH_SECONDS).record(started.elapsed().as_secs_f64());
        metrics::histogram!(crate::metrics::SCORING_BATCH_SIZE).record(chunk.len() as f64);
        if scored.len() != chunk.len() {
            return Err(ScoringError::Inference(format!(
                "scorer returned {} results for {} inputs",
                scored.len(),
                chunk.len()
            )));
        }
        for (&i, outcome) in chunk.iter().zip(scored) {
            outcomes[i] = Some(outcome);
        }
    }
    // Every index is in exactly one chunk, so every slot is filled.
    outcomes
        .into_iter()
        .map(|outcome| outcome.ok_or_else(|| ScoringError::Inference("an input was not scored".into())))
        .collect()
}

/// Builds the configured scorer: the transformer (with language routing) or the lexicon
/// baseline. Loading checks every model file against its manifest.
pub fn build_scorer(settings: &ScoringSettings) -> Result<Box<dyn Scorer>, ScoringError> {
    match settings.scorer {
        ScorerKind::Lexicon => Ok(Box::new(lexicon::LexiconScorer)),
        ScorerKind::Model => {
            model::set_threads(settings.threads);
            let primary = model::TransformerScorer::load(&settings.model)?;
            let secondary = match &settings.multilingual_model {
                Some(dir) => Some(model::TransformerScorer::load(dir)?),
                None => None,
            };
            Ok(Box::new(language::LanguageRouter::new(primary, secondary)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lexicon scorer, recording the texts of each batch it is given.
    struct Recording {
        batches: std::sync::Arc<std::sync::Mutex<Vec<Vec<String>>>>,
    }

    impl Scorer for Recording {
        fn name(&self) -> &str {
            "recording"
        }

        fn score_batch(&mut self, inputs: &[ScoreInput]) -> Result<Vec<SentimentOutcome>, ScoringError> {
            self.batches
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(inputs.iter().map(|i| i.text.clone()).collect());
            lexicon::LexiconScorer.score_batch(inputs)
        }
    }

    #[tokio::test]
    async fn batches_group_similar_lengths_and_results_keep_the_input_order() {
        let texts = [
            "a much longer complaint: the flight was cancelled and nobody answers the phone, refund now",
            "ok",
            "terrible",
            "a medium length post about the lounge",
            "great",
            "another very long post: I have been waiting for my refund for three weeks and I am furious",
        ];
        let inputs: Vec<ScoreInput> = texts
            .iter()
            .map(|t| ScoreInput {
                text: (*t).to_owned(),
                lang_hint: None,
            })
            .collect();
        let batches = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let service = ScoringService::start(
            Box::new(Recording {
                batches: batches.clone(),
            }),
            2,
            2,
        );
        let alone: Vec<SentimentOutcome> = inputs
            .iter()
            .map(|input| {
                lexicon::LexiconScorer
                    .score_batch(std::slice::from_ref(input))
                    .unwrap()
                    .remove(0)
            })
            .collect();

        let outcomes = service.score(inputs).await.unwrap();

        assert_eq!(outcomes, alone, "each input's own outcome, in the input order");
        let seen = batches.lock().unwrap().clone();
        assert_eq!(
            seen,
            [
                vec!["ok".to_owned(), "great".to_owned()],
                vec!["terrible".to_owned(), texts[3].to_owned()],
                vec![texts[0].to_owned(), texts[5].to_owned()],
            ],
            "shortest first, so each batch pads to a similar length"
        );
    }
}
