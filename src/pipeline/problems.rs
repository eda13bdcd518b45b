//! The problems jobs: new complaints assigned to a brand's problems (every minute), the recent
//! window re-clustered (hourly), labels renewed, and growing problems alerted.
//!
//! Plain async functions with an explicit `now`; the scheduler calls them, tests call them
//! directly. One instance does the work at a time (the `problems` lease), and even if two
//! did, a complaint is placed once (`problem_members` is keyed by mention) and a problem
//! alerts once per cool-down (recorded in the same transaction as the alert). Off the
//! request path: the web queue only reads what these jobs stored.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use futures::FutureExt as _;

use super::cron::CronTask;
use crate::alerts::AlertPayload;
use crate::alerts::terms::{TermInput, brand_words};
use crate::config::{BrandSettings, Settings};
use crate::domain::{BrandId, Embedding, MentionId, Millis, PostId, now_millis};
use crate::problems::ProblemSettings;
use crate::problems::grouping::{Centroid, Target, agglomerate, nearest_of, reconcile};
use crate::problems::growth::{Counts, Verdict, judge};
use crate::problems::label::{distinctive_terms, label_of};
use crate::scoring::embedding::EmbeddingService;
use crate::store::{GroupCandidate, Grouping, PlacedMember, ProblemRef, Store, StoreError, WindowMember};
use crate::telemetry::error_chain;

/// The scheduled jobs' names.
pub const ASSIGN_JOB: &str = "problems-assign";
pub const RECLUSTER_JOB: &str = "problems-recluster";
/// The lease that keeps the problems jobs to one instance at a time.
pub const LEASE: &str = "problems";
const LEASE_MS: i64 = 10 * 60_000;
/// Complaints placed per round (one transaction each).
const CHUNK: usize = 500;
/// Terms kept per problem.
const TERMS: usize = 6;
/// Example posts in a growing alert.
const EXAMPLES: usize = 3;

/// What one run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProblemsReport {
    /// Complaints placed into problems, and problems started.
    pub n_grouped: usize,
    pub n_new_problems: usize,
    /// Complaints re-clustered (hourly job).
    pub n_reclustered: usize,
    /// Growing alerts enqueued.
    pub n_alerts: usize,
    /// False when another instance held the lease and nothing was done.
    pub ran: bool,
}

/// Where the jobs run: the store, the settings, the brands and the embedding model's name.
pub struct ProblemsContext<'a> {
    pub store: &'a dyn Store,
    pub settings: &'a ProblemSettings,
    pub brands: &'a [BrandSettings],
    /// The sentence encoder for complaints without a stored vector; without it only stored
    /// vectors of `model` are grouped.
    pub embedder: Option<&'a EmbeddingService>,
    /// The embedding model's name: only its vectors are compared.
    pub model: &'a str,
    /// This instance, for the lease.
    pub holder: &'a str,
    /// The web UI's address, for links in alerts.
    pub public_url: Option<&'a str>,
}

/// Places every ungrouped complaint of the window into a problem, renews the labels of the
/// brands touched, and alerts the problems that are growing.
pub async fn group_new_complaints(ctx: &ProblemsContext<'_>, now: Millis) -> Result<ProblemsReport, StoreError> {
    let mut report = ProblemsReport::default();
    if !ctx.settings.enabled || !ctx.store.try_acquire_lease(LEASE, ctx.holder, now, LEASE_MS).await? {
        return Ok(report);
    }
    report.ran = true;
    let result = group_rounds(ctx, now, &mut report).await;
    ctx.store.release_lease(LEASE, ctx.holder).await?;
    result.map(|()| report)
}

async fn group_rounds(ctx: &ProblemsContext<'_>, now: Millis, report: &mut ProblemsReport) -> Result<(), StoreError> {
    let since = now - ctx.settings.window_ms();
    let mut touched: BTreeMap<BrandId, HashSet<i64>> = BTreeMap::new();
    let mut after = MentionId::new(0);
    loop {
        let mut candidates = ctx.store.ungrouped_complaints(ctx.model, since, after, CHUNK).await?;
        let n_candidates = candidates.len();
        let Some(last) = candidates.last() else { break };
        after = last.mention_id;
        embed_missing(ctx, &mut candidates).await?;
        let mut by_brand: BTreeMap<BrandId, Vec<Candidate>> = BTreeMap::new();
        for candidate in candidates {
            if let Some(embedding) = candidate.embedding {
                by_brand.entry(candidate.brand).or_default().push(Candidate {
                    mention_id: candidate.mention_id,
                    post_created_at: candidate.post_created_at,
                    embedding,
                });
            }
        }
        for (brand, candidates) in by_brand {
            let mut centroids: Vec<(ProblemRef, Centroid)> = ctx
                .store
                .problem_centroids(&brand, since)
                .await?
                .into_iter()
                .map(|c| (ProblemRef::Existing(c.problem_id), c))
                .collect();
            let mut members = Vec::with_capacity(candidates.len());
            let mut changed: HashSet<usize> = HashSet::new();
            let mut n_new = 0;
            for candidate in &candidates {
                let best = nearest_of(
                    centroids.iter().map(|(_, c)| &c.centroid),
                    &candidate.embedding,
                    ctx.settings.join_similarity,
                );
                let (at, similarity) = match best {
                    Some((at, similarity)) => {
                        let c = &mut centroids[at].1;
                        c.centroid = c.with_member(&candidate.embedding);
                        c.n_members += 1;
                        (at, similarity)
                    }
                    None => {
                        centroids.push((
                            ProblemRef::New(n_new),
                            Centroid {
                                problem_id: 0,
                                centroid: candidate.embedding.clone(),
                                n_members: 1,
                            },
                        ));
                        n_new += 1;
                        (centroids.len() - 1, 1.0)
                    }
                };
                changed.insert(at);
                members.push(PlacedMember {
                    mention_id: candidate.mention_id,
                    problem: centroids[at].0,
                    post_created_at: candidate.post_created_at,
                    similarity,
                });
            }
            let grouping = Grouping {
                brand: Some(brand.clone()),
                new_problems: n_new,
                members,
                centroids: changed
                    .iter()
                    .map(|&i| (centroids[i].0, centroids[i].1.centroid.clone()))
                    .collect(),
                merges: Vec::new(),
                at: now,
            };
            let saved = ctx.store.save_grouping(&grouping).await?;
            report.n_grouped += candidates.len();
            report.n_new_problems += saved.new_ids.len();
            touched.entry(brand).or_default().extend(saved.touched);
        }
        if n_candidates < CHUNK {
            break;
        }
    }
    for (brand, ids) in touched {
        relabel(ctx, &brand, now).await?;
        let ids: Vec<i64> = ids.into_iter().collect();
        report.n_alerts += alert_growing(ctx, &brand, &ids, now).await?;
    }
    Ok(())
}

/// A complaint to place, with its vector.
struct Candidate {
    mention_id: MentionId,
    post_created_at: Millis,
    embedding: Embedding,
}

/// Embeds the candidates that have no stored vector (one post once, however many brands
/// mention it) and stores the vectors. Without an embedder they stay without one.
async fn embed_missing(ctx: &ProblemsContext<'_>, candidates: &mut [GroupCandidate]) -> Result<(), StoreError> {
    let Some(embedder) = ctx.embedder else { return Ok(()) };
    let mut texts: BTreeMap<PostId, String> = BTreeMap::new();
    for c in candidates.iter().filter(|c| c.embedding.is_none()) {
        texts.entry(c.post_id).or_insert_with(|| c.text.clone());
    }
    if texts.is_empty() {
        return Ok(());
    }
    let (post_ids, texts): (Vec<PostId>, Vec<String>) = texts.into_iter().unzip();
    let vectors = match embedder.embed(texts).await {
        Ok(vectors) => vectors,
        Err(error) => {
            tracing::error!(error = %error_chain(&error), "Embedding complaints failed; they wait for the next run.");
            return Ok(());
        }
    };
    let embedded: Vec<(PostId, Embedding)> = post_ids.into_iter().zip(vectors).collect();
    ctx.store.save_embeddings(ctx.model, &embedded).await?;
    let by_post: HashMap<PostId, &Embedding> = embedded.iter().map(|(id, e)| (*id, e)).collect();
    for c in candidates.iter_mut().filter(|c| c.embedding.is_none()) {
        c.embedding = by_post.get(&c.post_id).map(|e| (*e).clone());
    }
    Ok(())
}

/// Re-clusters each brand's recent window and reconciles it with the problems that exist,
/// then renews their labels.
pub async fn recluster(ctx: &ProblemsContext<'_>, now: Millis) -> Result<ProblemsReport, StoreError> {
    let mut report = ProblemsReport::default();
    if !ctx.settings.enabled || !ctx.store.try_acquire_lease(LEASE, ctx.holder, now, LEASE_MS).await? {
        return Ok(report);
    }
    report.ran = true;
    let mut result = Ok(());
    for brand in ctx.brands {
        result = recluster_brand(ctx, &brand.id, now, &mut report).await;
        if result.is_err() {
            break;
        }
    }
    ctx.store.release_lease(LEASE, ctx.holder).await?;
    result.map(|()| report)
}

async fn recluster_brand(
    ctx: &ProblemsContext<'_>,
    brand: &BrandId,
    now: Millis,
    report: &mut ProblemsReport,
) -> Result<(), StoreError> {
    let since = now - ctx.settings.window_ms();
    let window = ctx
        .store
        .problem_window(brand, ctx.model, since, ctx.settings.max_window_posts)
        .await?;
    if window.len() < 2 {
        return Ok(());
    }
    let grouping = reclustering(&window, ctx.settings.recluster_distance, now, brand);
    ctx.store.save_reclustering(&grouping).await?;
    report.n_reclustered += window.len();
    report.n_new_problems += grouping.new_problems;
    relabel(ctx, brand, now).await
}

/// The window re-clustered and reconciled: every member placed, each cluster's centroid, and
/// problems that lost all their members merged into the one that took most of them.
fn reclustering(window: &[WindowMember], distance: f32, now: Millis, brand: &BrandId) -> Grouping {
    let embeddings: Vec<&Embedding> = window.iter().map(|m| &m.embedding).collect();
    let clusters = agglomerate(&embeddings, distance);
    let previous: Vec<Option<i64>> = window.iter().map(|m| Some(m.problem_id)).collect();
    let targets = reconcile(&previous, &clusters);
    let to_ref = |t: Target| match t {
        Target::Existing(id) => ProblemRef::Existing(id),
        Target::New(k) => ProblemRef::New(k),
    };
    let mut by_target: HashMap<ProblemRef, Vec<&Embedding>> = HashMap::new();
    let mut members = Vec::with_capacity(window.len());
    // Where each old problem's members went, to name what an emptied problem merged into.
    let mut moved: BTreeMap<i64, HashMap<ProblemRef, usize>> = BTreeMap::new();
    for (member, target) in window.iter().zip(&targets) {
        let target = to_ref(*target);
        by_target.entry(target).or_default().push(&member.embedding);
        *moved.entry(member.problem_id).or_default().entry(target).or_insert(0) += 1;
        members.push(PlacedMember {
            mention_id: member.mention_id,
            problem: target,
            post_created_at: member.post_created_at,
            similarity: 0.0,
        });
    }
    let centroids: Vec<(ProblemRef, Embedding)> = by_target
        .iter()
        .filter_map(|(target, embeddings)| Some((*target, Embedding::mean(embeddings.iter().copied())?)))
        .collect();
    let centroid_of: HashMap<ProblemRef, &Embedding> = centroids.iter().map(|(t, c)| (*t, c)).collect();
    for (member, placed) in window.iter().zip(&mut members) {
        if let Some(centroid) = centroid_of.get(&placed.problem) {
            placed.similarity = centroid.cosine(&member.embedding);
        }
    }
    let merges = moved
        .into_iter()
        .filter(|(old, _)| !targets.contains(&Target::Existing(*old)))
        .filter_map(|(old, to)| {
            let (into, _) = to.into_iter().max_by(|a, b| a.1.cmp(&b.1))?;
            Some((old, into))
        })
        .collect();
    let new_problems = targets
        .iter()
        .filter_map(|t| match t {
            Target::New(k) => Some(k + 1),
            Target::Existing(_) => None,
        })
        .max()
        .unwrap_or(0);
    Grouping {
        brand: Some(brand.clone()),
        new_problems,
        members,
        centroids,
        merges,
        at: now,
    }
}

/// Renews the labels of the brand's problems from the window's posts: each problem's
/// distinctive terms against the brand's other complaints.
async fn relabel(ctx: &ProblemsContext<'_>, brand: &BrandId, now: Millis) -> Result<(), StoreError> {
    let since = now - ctx.settings.window_ms();
    let window = ctx
        .store
        .problem_window(brand, ctx.model, since, ctx.settings.max_window_posts)
        .await?;
    let mut classes: BTreeMap<i64, Vec<TermInput<'_>>> = BTreeMap::new();
    for member in &window {
        classes.entry(member.problem_id).or_default().push(TermInput {
            text: &member.text,
            lang: member.lang.as_deref(),
        });
    }
    let ids: Vec<i64> = classes.keys().copied().collect();
    let classes: Vec<Vec<TermInput<'_>>> = classes.into_values().collect();
    let terms = distinctive_terms(&classes, &ignored_words(ctx.brands, brand), TERMS);
    let labels: Vec<(i64, String, Vec<String>)> = ids
        .into_iter()
        .zip(terms)
        .map(|(id, terms)| (id, label_of(&terms), terms))
        .collect();
    ctx.store.set_problem_labels(&labels).await
}

/// Words that name the brand itself, which every complaint uses.
fn ignored_words(brands: &[BrandSettings], brand: &BrandId) -> HashSet<String> {
    brands
        .iter()
        .find(|b| &b.id == brand)
        .map(|b| {
            brand_words(
                b.keywords
                    .iter()
                    .chain(b.handles.iter())
                    .map(String::as_str)
                    .chain([b.name.as_str(), b.id.as_str()]),
            )
        })
        .unwrap_or_default()
}

/// Judges the problems' recent counts and alerts each growing one not cooling down.
async fn alert_growing(
    ctx: &ProblemsContext<'_>,
    brand: &BrandId,
    ids: &[i64],
    now: Millis,
) -> Result<usize, StoreError> {
    let growth = &ctx.settings.growth;
    if !growth.alert || ids.is_empty() {
        return Ok(0);
    }
    let window_start = now - growth.window_ms();
    let counts = ctx
        .store
        .problem_growth_counts(ids, window_start, window_start - growth.baseline_ms())
        .await?;
    let mut n_alerts = 0;
    for (id, in_window, in_baseline, last_alert) in counts {
        let counts = Counts {
            in_window: u32::try_from(in_window).unwrap_or(u32::MAX),
            in_baseline: u32::try_from(in_baseline).unwrap_or(u32::MAX),
        };
        let Verdict::Growing { usual_per_window, .. } = judge(growth, counts) else {
            continue;
        };
        if crate::problems::growth::cooling_down(growth, last_alert, now) {
            continue;
        }
        let detail = ctx.store.problem_detail(id, now).await?;
        let payload = AlertPayload::ProblemGrowing {
            problem_id: id,
            brand: brand.clone(),
            label: detail.problem.label.clone(),
            count: counts.in_window,
            window_minutes: growth.window_minutes,
            usual_per_window,
            total: u32::try_from(detail.problem.n_complaints).unwrap_or(u32::MAX),
            unanswered: u32::try_from(detail.problem.n_unanswered).unwrap_or(u32::MAX),
            examples: detail.examples.iter().take(EXAMPLES).map(|e| e.text.clone()).collect(),
            link: ctx
                .public_url
                .map(|base| format!("{}/?view=problems&problem={id}", base.trim_end_matches('/'))),
            alerted_at_ms: now,
        };
        if ctx
            .store
            .alert_problem_growing(id, &payload, now - growth.cooldown_ms(), now)
            .await?
        {
            tracing::info!(brand = %brand, problem = id, count = counts.in_window, "Problem growing.");
            n_alerts += 1;
        }
    }
    Ok(n_alerts)
}

/// The scheduled jobs: new complaints grouped (`assign_schedule`) and the window re-clustered
/// (`recluster_schedule`), unless `[problems] enabled = false`.
pub fn problem_jobs(
    settings: Arc<Settings>,
    store: Arc<dyn Store>,
    embedder: Option<EmbeddingService>,
    instance_id: String,
) -> Vec<CronTask> {
    let Some(embedder) = embedder.filter(|_| settings.problems.enabled) else {
        return Vec::new();
    };
    let job = |name: &str, schedule: &str, recluster_window: bool| {
        let (settings, store, embedder, instance_id) =
            (settings.clone(), store.clone(), embedder.clone(), instance_id.clone());
        CronTask {
            name: name.to_owned(),
            schedule: schedule.to_owned(),
            timezone: chrono_tz::UTC,
            run: Arc::new(move || {
                let (settings, store, embedder, instance_id) =
                    (settings.clone(), store.clone(), embedder.clone(), instance_id.clone());
                async move {
                    let ctx = ProblemsContext {
                        store: store.as_ref(),
                        settings: &settings.problems,
                        brands: &settings.brands,
                        embedder: Some(&embedder),
                        model: embedder.name(),
                        holder: &instance_id,
                        public_url: settings.exports.public_url.as_deref(),
                    };
                    let result = if recluster_window {
                        recluster(&ctx, now_millis()).await
                    } else {
                        group_new_complaints(&ctx, now_millis()).await
                    };
                    match result {
                        Ok(report) if report.n_grouped + report.n_reclustered == 0 => {}
                        Ok(report) => tracing::info!(
                            n_grouped = report.n_grouped,
                            n_reclustered = report.n_reclustered,
                            n_new_problems = report.n_new_problems,
                            n_alerts = report.n_alerts,
                            "Problems updated."
                        ),
                        Err(error) => tracing::error!(error = %error_chain(&error), "Problems job failed."),
                    }
                }
                .boxed()
            }),
        }
    };
    vec![
        job(ASSIGN_JOB, &settings.problems.assign_schedule, false),
        job(RECLUSTER_JOB, &settings.problems.recluster_schedule, true),
    ]
}
