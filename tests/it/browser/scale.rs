//! The queue with 5,000 active tasks: the page lists and draws a page of them, re-sorts and
//! searches them, and patches a live update, each measured in the page with
//! `performance.now()` (the request's own time from the Resource Timing entries). The
//! numbers are printed for the record and held to a bound a busy two-core machine meets.

use std::sync::Arc;

use serde_json::Value;

use earshot::domain::{BrandId, Criticality, Factor, Platform, Post, PostDraft, Priority, SourceId, now_millis};
use earshot::store::{Claim, NewAssessment, PollCommit, Store, TaskAlert, TaskPlan};

use super::queue::{log_in, rows};
use super::{Browser, Client, wait_for};
use crate::support::TestApp;
use crate::support::TestEnv;
use crate::support::fill::{complaints, filled};

const TASKS: usize = 5_000;
const CHUNK: usize = 500;
/// The slowest a measured step may be, in milliseconds (it takes a fraction of this here).
const BOUND_MS: f64 = 2_000.0;

/// Adds `TASKS` active tasks through the store, as the pipeline would: posts committed as
/// polls, their mentions claimed and assessed, each opening its own task.
async fn seed(store: &Arc<dyn Store>) {
    let (source, brand) = (SourceId::parse("acme-feed").unwrap(), BrandId::parse("acme").unwrap());
    let now = now_millis();
    let priorities = [Priority::Critical, Priority::High, Priority::Medium, Priority::Low];
    for chunk in 0..TASKS / CHUNK {
        let posts: Vec<Post> = (0..CHUNK)
            .map(|i| {
                let n = chunk * CHUNK + i;
                let draft = PostDraft {
                    external_id: format!("scale-{n}"),
                    text: format!("@AcmeAir flight {n} delayed again, lost my bag, refund now #{}", n % 97),
                    author_handle: format!("@traveller{n}"),
                    author_name: Some(format!("Traveller {n}")),
                    author_followers: Some((n as u64 * 37) % 50_000),
                    created_at: now - (n as i64 % 720) * 60_000,
                    ..PostDraft::default()
                };
                Post::new(Platform::X, draft).unwrap()
            })
            .collect();
        store
            .commit_poll(PollCommit {
                source: &source,
                brand: &brand,
                posts: &posts,
                quarantined: &[],
                cursor: None,
                at: now,
            })
            .await
            .unwrap();
        let claim = Claim {
            holder: "scale",
            now,
            ttl_ms: 600_000,
        };
        let pending = store.claim_pending_mentions(&claim, None, CHUNK).await.unwrap();
        assert_eq!(pending.len(), CHUNK);
        let assessments = pending
            .iter()
            .enumerate()
            .map(|(i, mention)| {
                let n = chunk * CHUNK + i;
                let author = format!("@traveller{n}");
                NewAssessment {
                    mention_id: mention.mention_id,
                    brand: brand.clone(),
                    criticality: Criticality::from_factors(vec![Factor {
                        name: "complaint".into(),
                        points: (n % 100) as f32,
                        detail: "lost bag".into(),
                    }]),
                    at: now,
                    task: Some(TaskPlan {
                        platform: Platform::X,
                        author_handle: author.clone(),
                        conversation_key: None,
                        window_start: now - 3_600_000,
                        priority: priorities[n % 4],
                        sla_started_at: now - (n as i64 % 720) * 60_000,
                        due_at: now + ((n as i64 % 600) - 120) * 60_000,
                        alert: Some(TaskAlert {
                            brand: "Acme Air".into(),
                            platform: Platform::X,
                            author,
                            text: "lost my bag".into(),
                            url: None,
                            reasons: vec![],
                        }),
                    }),
                }
            })
            .collect();
        store.save_assessments(assessments).await.unwrap();
    }
}

/// Runs `action` (a page expression returning a promise) and returns how long it took until
/// the next frame, in milliseconds, and the last `/api/tasks` request's own duration.
async fn measure(client: &Client, action: &str) -> (f64, f64) {
    client
        .execute(&format!(
            "window.__took = null; performance.clearResourceTimings();
             const start = performance.now();
             ({action}).then(() => requestAnimationFrame(() => {{ window.__took = performance.now() - start; }}));"
        ))
        .await
        .unwrap();
    let took: Value = wait_for("the measured step to finish", || async {
        let took = client
            .execute(
                "const api = performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/tasks?'));
                 return window.__took === null ? null : [window.__took, api.length ? api[api.length - 1].duration : -1];",
            )
            .await
            .map_err(|e| e.to_string())?;
        Ok((!took.is_null()).then_some(took))
    })
    .await;
    (took[0].as_f64().unwrap(), took[1].as_f64().unwrap())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_queue_lists_draws_and_patches_5000_active_tasks_quickly() {
    let env = TestEnv::new();
    let (store, settings) = filled(&env, &complaints()).await;
    seed(&store).await;
    let site = TestApp::new(&store, &settings);
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "ann", "agent").await;
            rows(&client, 50).await;
            let count = client.find("#tasks-count").await.unwrap().text().await.unwrap();
            assert!(count.starts_with("Showing 50 of 5002"), "{count}");

            // A page drawn from nothing (every row built), five times.
            let mut full = Vec::new();
            let mut api = Vec::new();
            for _ in 0..5 {
                let (took, request) = measure(
                    &client,
                    "(document.querySelector('#tasks tbody').replaceChildren(), loadTasks(false))",
                )
                .await;
                full.push(took);
                api.push(request);
            }
            // A live update: the same rows patched in place.
            let mut patch = Vec::new();
            for _ in 0..5 {
                patch.push(measure(&client, "loadTasks(true)").await.0);
            }
            // Another order, and a search, over all of them.
            let form = "document.querySelector('#filters')";
            let (sorted, _) = measure(
                &client,
                &format!("({form}.elements.sort.value = 'criticality', loadTasks(false))"),
            )
            .await;
            let (searched, _) = measure(
                &client,
                &format!("({form}.elements.q.value = 'flight 4321 ', loadTasks(false))"),
            )
            .await;
            let count = client.find("#tasks-count").await.unwrap().text().await.unwrap();
            assert!(
                count.starts_with("Showing 1 of 1"),
                "the search found the one post: {count}"
            );

            let (full, api, patch) = (median(full), median(api), median(patch));
            #[allow(clippy::print_stderr, reason = "the measured numbers are this test's report")]
            {
                eprintln!(
                    "queue with {} active tasks: page drawn in {full:.0} ms (median of 5; the /api/tasks request \
                     {api:.0} ms), live-update patch {patch:.0} ms, sorted by criticality {sorted:.0} ms, search \
                     {searched:.0} ms",
                    TASKS + 2
                );
            }
            for (what, ms) in [("page", full), ("patch", patch), ("sort", sorted), ("search", searched)] {
                assert!(ms < BOUND_MS, "{what} took {ms:.0} ms with {TASKS} tasks");
            }
        })
        .await;
}
