//! `ScoringService`: scorers on their own threads behind a bounded queue.
//!
//! A job (a claimed chunk of posts) is prepared (for a transformer: normalised and tokenized,
//! once), sorted by length and cut into batches on a dispatcher thread; one or more worker
//! threads, each owning a scorer, take batches as they come free and run the model on the
//! prepared tokens, so with several workers the batches of one job are scored in parallel
//! while the dispatcher prepares the next job. Results go back in
//! the order of the job's inputs. Nothing here runs on the async executor's threads, and
//! nothing here knows what a model is: that is the `Scorer`'s business.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use tokio::sync::{mpsc, oneshot};

use super::{Prepare, Prepared, ScoreInput, Scorer, ScoringError};
use crate::domain::SentimentOutcome;

type Reply = oneshot::Sender<Result<Vec<SentimentOutcome>, ScoringError>>;

struct Job {
    inputs: Vec<ScoreInput>,
    reply: Reply,
}

/// A job being scored: its outcomes by input position, filled in by whichever worker scores
/// each batch; the last batch (or the first failure) answers the caller.
struct JobState {
    outcomes: Mutex<Vec<Option<SentimentOutcome>>>,
    remaining: AtomicUsize,
    reply: Mutex<Option<Reply>>,
}

impl JobState {
    fn answer(&self, result: Result<Vec<SentimentOutcome>, ScoringError>) {
        if let Some(reply) = self.reply.lock().unwrap_or_else(PoisonError::into_inner).take() {
            // The caller may have gone away (shutdown); nothing to do then.
            let _ = reply.send(result);
        }
    }

    /// Whether the job has already been answered (a batch failed): its other batches are
    /// skipped.
    fn is_answered(&self) -> bool {
        self.reply.lock().unwrap_or_else(PoisonError::into_inner).is_none()
    }
}

/// One batch of a job: the positions of its inputs in the job, the inputs and what the
/// dispatcher prepared of each.
struct BatchWork {
    job: Arc<JobState>,
    positions: Vec<usize>,
    inputs: Vec<ScoreInput>,
    prepared: Vec<Prepared>,
}

/// A job queued by [`ScoringService::submit`].
#[must_use = "the outcomes come through `outcomes`"]
pub struct Submitted {
    /// `None` for a job without inputs.
    response: Option<oneshot::Receiver<Result<Vec<SentimentOutcome>, ScoringError>>>,
}

impl Submitted {
    /// The outcomes, in the order of the job's inputs, once its last batch is scored.
    pub async fn outcomes(self) -> Result<Vec<SentimentOutcome>, ScoringError> {
        match self.response {
            None => Ok(Vec::new()),
            Some(response) => response.await.map_err(|_| ScoringError::Stopped)?,
        }
    }
}

/// The scorers on their own threads behind a bounded queue.
#[derive(Clone)]
pub struct ScoringService {
    jobs: mpsc::Sender<Job>,
    name: String,
    batch_size: usize,
    workers: usize,
}

impl ScoringService {
    /// Moves `scorer` onto a dedicated thread. `queue_batches` jobs may wait before callers
    /// wait; each job is cut into batches of `batch_size`.
    pub fn start(scorer: Box<dyn Scorer>, queue_batches: usize, batch_size: usize) -> ScoringService {
        ScoringService::start_pool(vec![scorer], queue_batches, batch_size)
    }

    /// One worker thread per scorer (all of the same model: the first one's name is the
    /// service's), fed batches by one dispatcher thread. At least one scorer is needed; an
    /// empty list starts a service that reports itself stopped.
    pub fn start_pool(scorers: Vec<Box<dyn Scorer>>, queue_batches: usize, batch_size: usize) -> ScoringService {
        let (jobs, mut receiver) = mpsc::channel::<Job>(queue_batches.max(1));
        let name = scorers.first().map(|s| s.name().to_owned()).unwrap_or_default();
        let prepare = scorers.first().and_then(|s| s.preparer());
        let batch_size = batch_size.max(1);
        let workers = scorers.len();
        if workers == 0 {
            drop(receiver);
            return ScoringService {
                jobs,
                name,
                batch_size,
                workers,
            };
        }
        // Two batches waiting per worker keep every worker busy while the dispatcher measures
        // the next job, without holding a whole job.
        let (batches, batch_receiver) = sync_channel::<BatchWork>(workers * 2);
        let batch_receiver = Arc::new(Mutex::new(batch_receiver));
        for (index, scorer) in scorers.into_iter().enumerate() {
            let span = tracing::info_span!("scoring_worker", scorer = %name, worker = index);
            let batch_receiver = batch_receiver.clone();
            thread::Builder::new()
                .name(format!("earshot-scoring-{index}"))
                .spawn(move || {
                    let _entered = span.enter();
                    work(scorer, &batch_receiver);
                })
                .expect("spawning a thread only fails when the OS is out of resources");
        }
        let prepare = prepare.unwrap_or_else(|| {
            Arc::new(|input: &ScoreInput| Prepared {
                length: input.text.len(),
                token_ids: None,
            })
        });
        let span = tracing::info_span!("scoring_dispatcher", scorer = %name);
        thread::Builder::new()
            .name("earshot-scoring".into())
            .spawn(move || {
                let _entered = span.enter();
                // Ends when every `ScoringService` clone is dropped; dropping `batches` then
                // stops the workers once they have finished what they hold.
                while let Some(job) = receiver.blocking_recv() {
                    if !dispatch(job, batch_size, &prepare, &batches) {
                        break;
                    }
                }
            })
            .expect("spawning a thread only fails when the OS is out of resources");
        ScoringService {
            jobs,
            name,
            batch_size,
            workers,
        }
    }

    /// Scores the inputs, waiting for room in the queue if it is full.
    pub async fn score(&self, inputs: Vec<ScoreInput>) -> Result<Vec<SentimentOutcome>, ScoringError> {
        self.submit(inputs).await?.outcomes().await
    }

    /// Hands the inputs to the scoring threads (waiting for room in the queue if it is full)
    /// and returns once they are queued: the job is scored whether or not anyone awaits
    /// [`Submitted::outcomes`] yet, so a caller can queue its next job, or write the last
    /// one's results, while this one is scored.
    pub async fn submit(&self, inputs: Vec<ScoreInput>) -> Result<Submitted, ScoringError> {
        if inputs.is_empty() {
            return Ok(Submitted { response: None });
        }
        let (reply, response) = oneshot::channel();
        self.jobs
            .send(Job { inputs, reply })
            .await
            .map_err(|_| ScoringError::Stopped)?;
        Ok(Submitted {
            response: Some(response),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// How many scorers run in parallel.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// Whether the scoring threads are still taking work (false once they have stopped).
    pub fn is_running(&self) -> bool {
        !self.jobs.is_closed()
    }
}

/// Cuts `job` into batches of `batch_size`, shortest posts first (by the scorer's measure,
/// tokens for a transformer): a batch pads only to its own longest post, so a job of mixed
/// lengths wastes few padding tokens (the encoder's cost grows with the padded length).
/// Measuring (for a transformer: normalising and tokenizing, kept for the worker) happens
/// here, while the workers run the model. Returns false once the workers are gone.
fn dispatch(job: Job, batch_size: usize, prepare: &Prepare, batches: &SyncSender<BatchWork>) -> bool {
    let Job { inputs, reply } = job;
    // Each input with its preparation, taken out by position as its batch is cut.
    let mut items: Vec<Option<(ScoreInput, Prepared)>> = inputs
        .into_iter()
        .map(|input| {
            let prepared = prepare(&input);
            Some((input, prepared))
        })
        .collect();
    let mut order: Vec<usize> = (0..items.len()).collect();
    // Stable: equal lengths keep their order.
    order.sort_by_key(|&i| items[i].as_ref().map_or(0, |(_, prepared)| prepared.length));
    let n_batches = order.len().div_ceil(batch_size);
    let state = Arc::new(JobState {
        outcomes: Mutex::new(vec![None; items.len()]),
        remaining: AtomicUsize::new(n_batches),
        reply: Mutex::new(Some(reply)),
    });
    for chunk in order.chunks(batch_size) {
        let (inputs, prepared) = chunk.iter().filter_map(|&i| items[i].take()).unzip();
        let work = BatchWork {
            job: state.clone(),
            positions: chunk.to_vec(),
            inputs,
            prepared,
        };
        if batches.send(work).is_err() {
            state.answer(Err(ScoringError::Stopped));
            return false;
        }
    }
    true
}

/// A worker: scores batches until the dispatcher is gone.
fn work(mut scorer: Box<dyn Scorer>, batches: &Mutex<Receiver<BatchWork>>) {
    loop {
        // The lock is held only while waiting for the next batch, never while scoring.
        let next = batches.lock().unwrap_or_else(PoisonError::into_inner).recv();
        let Ok(batch) = next else { return };
        score_batch(scorer.as_mut(), batch);
    }
}

fn score_batch(scorer: &mut dyn Scorer, batch: BatchWork) {
    let BatchWork {
        job,
        positions,
        inputs,
        prepared,
    } = batch;
    if job.is_answered() {
        return;
    }
    let started = std::time::Instant::now();
    let scored = scorer.score_prepared(&inputs, &prepared);
    metrics::histogram!(crate::metrics::SCORING_BATCH_SECONDS).record(started.elapsed().as_secs_f64());
    metrics::histogram!(crate::metrics::SCORING_BATCH_SIZE).record(inputs.len() as f64);
    let scored = match scored {
        Ok(scored) if scored.len() == positions.len() => scored,
        Ok(scored) => {
            return job.answer(Err(ScoringError::Inference(format!(
                "scorer returned {} results for {} inputs",
                scored.len(),
                positions.len()
            ))));
        }
        Err(e) => return job.answer(Err(e)),
    };
    {
        let mut outcomes = job.outcomes.lock().unwrap_or_else(PoisonError::into_inner);
        for (&i, outcome) in positions.iter().zip(scored) {
            outcomes[i] = Some(outcome);
        }
    }
    if job.remaining.fetch_sub(1, Ordering::AcqRel) == 1 {
        let outcomes = std::mem::take(&mut *job.outcomes.lock().unwrap_or_else(PoisonError::into_inner));
        // Every position is in exactly one batch, so every slot is filled.
        let result = outcomes
            .into_iter()
            .map(|outcome| outcome.ok_or_else(|| ScoringError::Inference("an input was not scored".into())))
            .collect();
        job.answer(result);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::lexicon;

    /// Each input's outcome when the lexicon scores it on its own.
    fn each_alone(inputs: &[ScoreInput]) -> Vec<SentimentOutcome> {
        inputs
            .iter()
            .map(|input| {
                lexicon::LexiconScorer
                    .score_batch(std::slice::from_ref(input))
                    .unwrap()
                    .remove(0)
            })
            .collect()
    }

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
        let alone = each_alone(&inputs);

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

    /// A batch as a scorer saw it: each post's text with the token ids prepared for it.
    type SeenBatch = Vec<(String, Option<Vec<i64>>)>;

    /// Measures a post as the inverse of its length and keeps its byte count as its "token",
    /// recording what each batch was given.
    struct Measuring {
        batches: std::sync::Arc<std::sync::Mutex<Vec<SeenBatch>>>,
    }

    impl Scorer for Measuring {
        fn name(&self) -> &str {
            "measuring"
        }

        fn preparer(&self) -> Option<Prepare> {
            Some(Arc::new(|input: &ScoreInput| Prepared {
                length: 1000 - input.text.len(),
                token_ids: Some(vec![input.text.len() as i64]),
            }))
        }

        fn score_batch(&mut self, _inputs: &[ScoreInput]) -> Result<Vec<SentimentOutcome>, ScoringError> {
            Err(ScoringError::Inference(
                "a prepared job must come with its preparation".into(),
            ))
        }

        fn score_prepared(
            &mut self,
            inputs: &[ScoreInput],
            prepared: &[Prepared],
        ) -> Result<Vec<SentimentOutcome>, ScoringError> {
            self.batches
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(
                    inputs
                        .iter()
                        .zip(prepared)
                        .map(|(i, p)| (i.text.clone(), p.token_ids.clone()))
                        .collect(),
                );
            lexicon::LexiconScorer.score_batch(inputs)
        }
    }

    #[tokio::test]
    async fn the_scorers_preparation_orders_the_batches_and_reaches_the_worker_with_its_post() {
        let batches = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let service = ScoringService::start(
            Box::new(Measuring {
                batches: batches.clone(),
            }),
            2,
            2,
        );
        let texts: Vec<String> = ["ok", "a much longer post about a lost bag", "terrible", "great flight"]
            .map(str::to_owned)
            .to_vec();
        let alone = each_alone(&inputs(&texts));

        let outcomes = service.score(inputs(&texts)).await.unwrap();

        assert_eq!(outcomes, alone, "each input's own outcome, in the input order");
        let seen = batches.lock().unwrap().clone();
        let prepared = |t: &str| (t.to_owned(), Some(vec![t.len() as i64]));
        assert_eq!(
            seen,
            [
                vec![prepared(&texts[1]), prepared(&texts[3])],
                vec![prepared(&texts[2]), prepared(&texts[0])],
            ],
            "ordered by the scorer's measure (longest first here), each post with its own preparation"
        );
    }

    /// Fails every batch that contains `poison`; scores the rest with the lexicon.
    struct Failing;

    impl Scorer for Failing {
        fn name(&self) -> &str {
            "failing"
        }

        fn score_batch(&mut self, inputs: &[ScoreInput]) -> Result<Vec<SentimentOutcome>, ScoringError> {
            if inputs.iter().any(|i| i.text == "poison") {
                return Err(ScoringError::Inference("poisoned batch".into()));
            }
            lexicon::LexiconScorer.score_batch(inputs)
        }
    }

    fn inputs(texts: &[String]) -> Vec<ScoreInput> {
        texts
            .iter()
            .map(|t| ScoreInput {
                text: t.clone(),
                lang_hint: None,
            })
            .collect()
    }

    #[tokio::test]
    async fn several_workers_share_a_jobs_batches_and_answer_in_the_input_order() {
        let batches = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let scorers: Vec<Box<dyn Scorer>> = (0..3)
            .map(|_| {
                Box::new(Recording {
                    batches: batches.clone(),
                }) as Box<dyn Scorer>
            })
            .collect();
        let service = ScoringService::start_pool(scorers, 2, 4);
        let texts: Vec<String> = (0..50)
            .map(|i| {
                format!(
                    "post {i}: {}",
                    if i % 3 == 0 { "terrible, refund now" } else { "great" }
                )
                .repeat(1 + i % 5)
            })
            .collect();
        let alone = each_alone(&inputs(&texts));

        let (a, b) = tokio::join!(service.score(inputs(&texts)), service.score(inputs(&texts[..7])));

        assert_eq!(service.workers(), 3);
        assert_eq!(a.unwrap(), alone, "the first job, in its input order");
        assert_eq!(b.unwrap(), alone[..7], "the second job, in its input order");
        let seen = batches.lock().unwrap().clone();
        assert_eq!(seen.len(), 13 + 2, "50 posts in batches of 4, then 7");
        assert_eq!(seen.iter().map(Vec::len).sum::<usize>(), 57, "each post scored once");
    }

    #[tokio::test]
    async fn a_failing_batch_fails_its_job_only() {
        let scorers: Vec<Box<dyn Scorer>> = vec![Box::new(Failing), Box::new(Failing)];
        let service = ScoringService::start_pool(scorers, 2, 2);
        let bad: Vec<String> = ["fine", "poison", "also fine but a bit longer", "ok"]
            .map(str::to_owned)
            .to_vec();
        let good: Vec<String> = ["great flight", "awful service"].map(str::to_owned).to_vec();

        let failed = service.score(inputs(&bad)).await;
        let scored = service.score(inputs(&good)).await;

        assert!(
            matches!(failed, Err(ScoringError::Inference(ref m)) if m == "poisoned batch"),
            "{failed:?}"
        );
        assert_eq!(scored.unwrap().len(), 2, "the service keeps working after a failed job");
        assert!(service.is_running());
    }
}
