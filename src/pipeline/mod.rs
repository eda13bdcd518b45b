//! One pass of the pipeline, in one place and one order:
//! poll → keep mentions → commit posts with the cursor → score → assess → task → outbox.
//!
//! Invariant: this is the only module that sequences the stages. Sources never write; the
//! cursor is committed in the same transaction as the posts it covers; scoring works from
//! what is committed (mentions without an assessment), so a crash anywhere is repaired by
//! running again, and every write is idempotent, so nothing is doubled.
//! No timers or spawning here: the scheduler decides when, and tests call these directly.

pub mod cron;
pub mod delivery;
pub mod engagement;
pub mod follow_up;
pub mod instance;
pub mod matching;
pub mod poll_lease;
pub mod privacy;
pub mod problems;
pub mod replies;
pub mod spikes;

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::domain::{Batch, BrandId, PostId, SentimentOutcome, SourceId, now_millis, secs_to_millis};
use crate::scoring::criticality::{self, CriticalityInput, HISTORY_WINDOW_MS};
use crate::scoring::{ScoreInput, ScoringError, ScoringService, Submitted};
use crate::sources::{Source, SourceError};
use crate::store::{
    AssessmentOutcome, AuthorHistory, AuthorKey, Claim, NewAssessment, PendingMention, PollCommit, PollFailure, Store,
    StoreError,
};
use crate::tasks;
use crate::telemetry::error_chain;
use matching::{BrandMatcher, Verdict};

/// Most batches one poll takes before yielding to the next scheduled run.
const MAX_BATCHES_PER_POLL: usize = 50;
/// Mentions claimed and assessed per round trip to the store: also the window the scoring
/// service sorts by length before cutting it into batches.
pub const ASSESS_CHUNK: usize = 256;
/// Claimed chunks queued at the scoring service at once: the one being scored and the next,
/// so the model never waits while a chunk is saved and the next one claimed.
pub const CHUNKS_IN_FLIGHT: usize = 2;

/// Why a pipeline step failed.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("source {source_id} is not configured")]
    UnknownSource { source_id: String },
    #[error("polling {source_id} failed")]
    Source {
        source_id: String,
        #[source]
        error: SourceError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Scoring(#[from] ScoringError),
}

/// What one poll did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PollReport {
    pub source: String,
    pub n_batches: usize,
    pub n_fetched: usize,
    pub n_new: usize,
    pub n_duplicates: usize,
    pub n_quarantined: usize,
    pub n_own_posts: usize,
    pub n_excluded: usize,
    pub n_unrelated: usize,
}

/// What one scoring pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScoreReport {
    pub n_scored: usize,
    pub n_unscored: usize,
    pub n_assessed: usize,
    pub n_tasks_opened: usize,
    pub n_tasks_joined: usize,
}

/// The pipeline's collaborators.
pub struct Pipeline {
    store: Arc<dyn Store>,
    scoring: ScoringService,
    settings: Arc<Settings>,
    matchers: HashMap<BrandId, BrandMatcher>,
    /// This process's name in claims and leases, unique per start (see `instance`).
    instance_id: String,
    /// Woken after each batch that committed new mentions, so scoring starts on the first
    /// batch of a long import instead of after the last.
    committed: Arc<Notify>,
}

impl Pipeline {
    pub fn new(store: Arc<dyn Store>, scoring: ScoringService, settings: Arc<Settings>) -> Pipeline {
        let matchers = settings
            .brands
            .iter()
            .map(|b| (b.id.clone(), BrandMatcher::new(b)))
            .collect();
        let instance_id = instance::instance_id(&settings.instances);
        Pipeline {
            store,
            scoring,
            settings,
            matchers,
            instance_id,
            committed: Arc::new(Notify::new()),
        }
    }

    /// Notified after each committed batch with new mentions (the scoring worker waits on it).
    pub fn committed(&self) -> &Arc<Notify> {
        &self.committed
    }

    pub fn instance_id(&self) -> &str {
        &self.instance_id
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn settings(&self) -> &Arc<Settings> {
        &self.settings
    }

    pub fn scoring(&self) -> &ScoringService {
        &self.scoring
    }

    /// Polls a source until it has nothing more to give right now, committing each batch
    /// with its cursor. A failure is recorded in the source's health and returned.
    #[tracing::instrument(skip_all, fields(source = %source.id()))]
    pub async fn poll_source(&self, source: &dyn Source) -> Result<PollReport, PipelineError> {
        let source_id = source.id().clone();
        let settings = self
            .settings
            .source(&source_id)
            .ok_or_else(|| PipelineError::UnknownSource {
                source_id: source_id.to_string(),
            })?;
        let brand = &settings.brand;
        let matcher = self.matchers.get(brand).ok_or_else(|| PipelineError::UnknownSource {
            source_id: source_id.to_string(),
        })?;
        let mut report = PollReport {
            source: source_id.to_string(),
            ..PollReport::default()
        };
        loop {
            let cursor = self.store.cursor(&source_id).await?;
            let batch = match source.poll(cursor.as_ref()).await {
                Ok(batch) => batch,
                Err(error) => {
                    metrics::counter!(crate::metrics::POLLS, "source" => source_id.to_string(), "outcome" => error.kind())
                        .increment(1);
                    self.record_failure(&source_id, &error).await?;
                    return Err(PipelineError::Source {
                        source_id: source_id.to_string(),
                        error,
                    });
                }
            };
            fail::fail_point!("pipeline::after_poll", |_| std::process::abort());
            let has_more = batch.has_more;
            let target = CommitTarget {
                source: &source_id,
                brand,
                matcher,
                match_keywords: settings.kind.match_keywords(),
            };
            let n_new_before = report.n_new;
            commit_batch(self.store.as_ref(), &target, batch, &mut report).await?;
            fail::fail_point!("pipeline::after_commit", |_| std::process::abort());
            if report.n_new > n_new_before {
                self.committed.notify_one();
            }
            if !has_more || report.n_batches >= MAX_BATCHES_PER_POLL {
                break;
            }
        }
        let label = source_id.to_string();
        metrics::counter!(crate::metrics::POLLS, "source" => label.clone(), "outcome" => "ok").increment(1);
        metrics::counter!(crate::metrics::POSTS_INGESTED, "source" => label.clone()).increment(report.n_new as u64);
        metrics::counter!(crate::metrics::POSTS_QUARANTINED, "source" => label).increment(report.n_quarantined as u64);
        tracing::info!(
            n_fetched = report.n_fetched,
            n_new = report.n_new,
            n_duplicates = report.n_duplicates,
            n_quarantined = report.n_quarantined,
            n_skipped = report.n_own_posts + report.n_excluded + report.n_unrelated,
            "Polled source."
        );
        Ok(report)
    }

    async fn record_failure(&self, source_id: &crate::domain::SourceId, error: &SourceError) -> Result<(), StoreError> {
        let at = now_millis();
        let mut message = error_chain(error);
        if let SourceError::RateLimited {
            retry_after: Some(wait),
        } = error
        {
            // Health says when the platform's window reopens, not only that it is closed.
            let reset_ms = at.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2));
            if let Some(reset) = chrono::DateTime::from_timestamp_millis(reset_ms) {
                message = format!(
                    "{message} until {} (in {} s)",
                    reset.format("%Y-%m-%d %H:%M:%S UTC"),
                    wait.as_secs()
                );
            }
        }
        let quarantine = match error {
            SourceError::Malformed { reason, raw } => {
                Some(crate::domain::Quarantined::new("response", reason.clone(), raw))
            }
            _ => None,
        };
        tracing::warn!(source = %source_id, kind = error.kind(), error = %message, "Poll failed.");
        self.store
            .record_poll_failure(PollFailure {
                source: source_id,
                kind: error.kind(),
                message: &message,
                quarantine,
                at,
            })
            .await
    }

    /// Scores and assesses every committed mention that has no assessment yet.
    pub async fn score_pending(&self) -> Result<ScoreReport, PipelineError> {
        self.score_pending_until(&CancellationToken::new()).await
    }

    /// [`Pipeline::score_pending`], stopping after the chunks in flight once `stop` is
    /// cancelled (on shutdown): the rest stays pending for the next start, so a stop never
    /// waits for a whole backlog.
    ///
    /// Chunks overlap: [`CHUNKS_IN_FLIGHT`] claimed chunks are queued at the scoring service,
    /// so while chunk n's sentiments, assessments, tasks and alerts are written (and the next
    /// chunk is claimed) the model is already scoring chunk n+1, and never waits for the
    /// store. Each chunk is still saved in order and on its own (its sentiments, then
    /// everything else in one transaction), so a crash loses at most the claims of the chunks
    /// in flight, which expire and are claimed again.
    #[tracing::instrument(skip_all)]
    pub async fn score_pending_until(&self, stop: &CancellationToken) -> Result<ScoreReport, PipelineError> {
        let mut report = ScoreReport::default();
        let mut in_flight: VecDeque<InFlight> = VecDeque::with_capacity(CHUNKS_IN_FLIGHT);
        let mut drained = false;
        loop {
            while !drained && in_flight.len() < CHUNKS_IN_FLIGHT && !stop.is_cancelled() {
                let claim = Claim {
                    holder: &self.instance_id,
                    now: now_millis(),
                    // An instance killed mid-batch loses its claim after this.
                    ttl_ms: secs_to_millis(self.settings.instances.claim_secs),
                };
                // Not the chunks being scored right now: on SQLite every unassessed mention
                // is ours, so they would come back.
                let after = in_flight
                    .iter()
                    .flat_map(|chunk| chunk.pending.iter().map(|m| m.mention_id))
                    .max();
                let next = self.store.claim_pending_mentions(&claim, after, ASSESS_CHUNK).await?;
                if next.is_empty() {
                    drained = true;
                } else {
                    in_flight.push_back(self.submit_chunk(next).await?);
                }
            }
            let Some(chunk) = in_flight.pop_front() else {
                break;
            };
            let scored = chunk.scored().await?;
            self.save_chunk(scored, &mut report).await?;
        }
        if report.n_assessed > 0 {
            tracing::info!(
                n_scored = report.n_scored,
                n_unscored = report.n_unscored,
                n_tasks_opened = report.n_tasks_opened,
                n_tasks_joined = report.n_tasks_joined,
                "Scored mentions."
            );
        }
        Ok(report)
    }

    /// Queues the posts of a claimed chunk that have no sentiment yet at the scoring
    /// service, each post once however many brands mention it.
    async fn submit_chunk(&self, pending: Vec<PendingMention>) -> Result<InFlight, PipelineError> {
        let mut seen = HashSet::new();
        let (post_ids, inputs): (Vec<PostId>, Vec<ScoreInput>) = pending
            .iter()
            .filter(|m| m.sentiment.is_none() && seen.insert(m.post_id))
            .map(|m| {
                (
                    m.post_id,
                    ScoreInput {
                        text: m.post.text.clone(),
                        lang_hint: m.post.lang.clone(),
                    },
                )
            })
            .unzip();
        let scoring = self.scoring.submit(inputs).await?;
        Ok(InFlight {
            pending,
            post_ids,
            scoring,
        })
    }

    /// Saves a scored chunk: its new sentiments, then its assessments, tasks and alerts in one
    /// transaction, adding to `report`.
    async fn save_chunk(&self, chunk: ScoredChunk, report: &mut ScoreReport) -> Result<(), PipelineError> {
        let ScoredChunk {
            pending,
            new_sentiments,
        } = chunk;
        for outcome in new_sentiments.values() {
            match outcome {
                SentimentOutcome::Scored { .. } => report.n_scored += 1,
                SentimentOutcome::Unscored { .. } => report.n_unscored += 1,
            }
        }
        let pairs: Vec<(PostId, SentimentOutcome)> = new_sentiments.iter().map(|(id, s)| (*id, s.clone())).collect();
        self.store.save_sentiments(&pairs, now_millis()).await?;
        fail::fail_point!("pipeline::after_sentiments", |_| std::process::abort());

        // The chunk's author histories in one query per brand and platform; each mention
        // assessed below is added to its author's history in memory, so the next mention
        // of the same author sees it, exactly as when each was saved before the next.
        let since = now_millis() - HISTORY_WINDOW_MS;
        let keys: Vec<AuthorKey> = pending
            .iter()
            .map(|m| AuthorKey {
                brand: m.brand.clone(),
                platform: m.post.platform,
                author: m.post.author_handle.clone(),
            })
            .collect();
        let mut histories = self.store.author_histories(&keys, since).await?;
        let mut assessments = Vec::with_capacity(pending.len());
        let mut priorities = Vec::with_capacity(pending.len());
        for (mention, key) in pending.into_iter().zip(keys) {
            let Some(sentiment) = mention
                .sentiment
                .or_else(|| new_sentiments.get(&mention.post_id).cloned())
            else {
                continue;
            };
            let now = now_millis();
            let brand = self.settings.brand(&mention.brand);
            let unknown_author = key.author == crate::domain::UNKNOWN_AUTHOR;
            let history = if unknown_author {
                AuthorHistory::default()
            } else {
                histories.get(&key).copied().unwrap_or_default()
            };
            let handles = self
                .matchers
                .get(&mention.brand)
                .map(|m| m.handles().to_vec())
                .unwrap_or_default();
            let criticality = criticality::assess(&CriticalityInput {
                post: &mention.post,
                sentiment: &sentiment,
                brand_handles: &handles,
                history,
                escalation: brand
                    .map(|b| criticality::Escalation {
                        vip: b.is_vip(mention.post.platform, &mention.post.author_handle),
                        high_reach_followers: b.high_reach_followers,
                    })
                    .unwrap_or_default(),
            });
            // A brand removed from config keeps its history but opens no new tasks.
            let task = brand.and_then(|brand| {
                tasks::plan(
                    brand,
                    &mention.post,
                    mention.first_seen_at,
                    &criticality,
                    &self.settings.tasks,
                    now,
                )
            });
            if !unknown_author && mention.post.created_at >= since {
                let seen = histories.entry(key).or_default();
                seen.n_mentions += 1;
                seen.n_negative += u64::from(sentiment.is_negative());
                seen.n_flagged += u64::from(task.is_some());
            }
            priorities.push(task.as_ref().map(|task| task.priority));
            assessments.push(NewAssessment {
                mention_id: mention.mention_id,
                brand: mention.brand,
                criticality,
                at: now,
                task,
            });
        }
        let n_handled = assessments.len();
        // Assessments, tasks and alerts of the whole chunk in one transaction.
        let outcomes = self.store.save_assessments(assessments).await?;
        for (outcome, priority) in outcomes.into_iter().zip(priorities) {
            match outcome {
                AssessmentOutcome::Opened { .. } => {
                    report.n_tasks_opened += 1;
                    if let Some(priority) = priority {
                        metrics::counter!(crate::metrics::TASKS_OPENED, "priority" => priority.as_str()).increment(1);
                    }
                }
                AssessmentOutcome::Joined { .. } => report.n_tasks_joined += 1,
                AssessmentOutcome::Recorded => {}
                // Another process assessed it first; nothing was done here.
                AssessmentOutcome::AlreadyAssessed => continue,
            }
            report.n_assessed += 1;
            metrics::counter!(crate::metrics::MENTIONS_ASSESSED).increment(1);
        }
        if n_handled == 0 {
            // Cannot happen unless the store lost sentiments it just saved; stop rather
            // than spin.
            return Err(StoreError::Corrupt("pending mentions could not be assessed".into()).into());
        }
        Ok(())
    }
}

/// A claimed chunk queued at the scoring service.
struct InFlight {
    pending: Vec<PendingMention>,
    /// The posts sent to be scored, in the order of the job's inputs.
    post_ids: Vec<PostId>,
    scoring: Submitted,
}

impl InFlight {
    /// Waits for the chunk's scores.
    async fn scored(self) -> Result<ScoredChunk, PipelineError> {
        let outcomes = self.scoring.outcomes().await?;
        Ok(ScoredChunk {
            pending: self.pending,
            new_sentiments: self.post_ids.into_iter().zip(outcomes).collect(),
        })
    }
}

/// A claimed chunk with the sentiments its posts just got.
struct ScoredChunk {
    pending: Vec<PendingMention>,
    new_sentiments: HashMap<PostId, SentimentOutcome>,
}

/// Where a batch goes: its source, the source's brand, and how mentions are told apart.
struct CommitTarget<'a> {
    source: &'a SourceId,
    brand: &'a BrandId,
    matcher: &'a BrandMatcher,
    match_keywords: bool,
}

/// Keeps a batch's mentions of the brand and commits them with its quarantined items and
/// cursor in one transaction, adding to `report`. Returns each post's verdict, in order.
async fn commit_batch(
    store: &dyn Store,
    target: &CommitTarget<'_>,
    batch: Batch,
    report: &mut PollReport,
) -> Result<Vec<Verdict>, StoreError> {
    report.n_batches += 1;
    report.n_fetched += batch.posts.len();
    let mut verdicts = Vec::with_capacity(batch.posts.len());
    let mut mentions = Vec::with_capacity(batch.posts.len());
    for post in batch.posts {
        let verdict = target.matcher.verdict_for(&post, target.match_keywords);
        verdicts.push(verdict);
        match verdict {
            Verdict::Mention => mentions.push(post),
            Verdict::OwnPost => report.n_own_posts += 1,
            Verdict::Excluded => report.n_excluded += 1,
            Verdict::Unrelated => report.n_unrelated += 1,
        }
    }
    let commit = PollCommit {
        source: target.source,
        brand: target.brand,
        posts: &mentions,
        quarantined: &batch.quarantined,
        cursor: batch.cursor.as_ref(),
        at: now_millis(),
    };
    let outcome = store.commit_poll(commit).await?;
    report.n_new += outcome.n_new;
    report.n_duplicates += outcome.n_duplicates;
    report.n_quarantined += outcome.n_quarantined;
    Ok(verdicts)
}

/// Commits posts pushed to a `push` source through the same path as a poll (mentions of the
/// brand kept, posts stored once per platform and id, bad items quarantined, health
/// recorded). Scoring picks the new mentions up on its next pass. Returns the report and
/// each post's verdict, in order.
pub async fn commit_pushed(
    store: &dyn Store,
    settings: &Settings,
    source_id: &SourceId,
    batch: Batch,
) -> Result<(PollReport, Vec<Verdict>), PipelineError> {
    let unknown = || PipelineError::UnknownSource {
        source_id: source_id.to_string(),
    };
    let source = settings.source(source_id).ok_or_else(unknown)?;
    let brand = settings.brand(&source.brand).ok_or_else(unknown)?;
    let matcher = BrandMatcher::new(brand);
    let target = CommitTarget {
        source: source_id,
        brand: &source.brand,
        matcher: &matcher,
        match_keywords: source.kind.match_keywords(),
    };
    let mut report = PollReport {
        source: source_id.to_string(),
        ..PollReport::default()
    };
    let verdicts = commit_batch(store, &target, batch, &mut report).await?;
    tracing::info!(
        source = %source_id,
        n_received = report.n_fetched + report.n_quarantined,
        n_new = report.n_new,
        n_duplicates = report.n_duplicates,
        n_quarantined = report.n_quarantined,
        "Ingested pushed posts."
    );
    Ok((report, verdicts))
}
