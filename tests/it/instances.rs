//! Several earshot instances on one PostgreSQL database: claims that never overlap, and three
//! real processes sharing polls, scoring and alert delivery while one of them is killed.

use std::collections::{BTreeMap, HashSet};
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use earshot::alerts::AlertPayload;
use earshot::domain::{DeliveryId, now_millis};
use earshot::store::Store;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use crate::support::config::{brand, source};
use crate::support::{ConfigBuilder, Table, TestEnv};

// --- Alert delivery claims ------------------------------------------------------------------

/// Two runners claiming deliveries at the same time on PostgreSQL take disjoint sets, and
/// together they take every delivery (none skipped for good, none taken twice).
#[tokio::test]
async fn two_runners_claiming_deliveries_at_once_take_disjoint_sets_and_lose_none() {
    let env = TestEnv::postgres().await;
    let store = earshot::app::open_store(&env.settings()).await.unwrap();
    let now = now_millis();
    let channels = ["ops".to_owned(), "care".to_owned()];
    for i in 0..150 {
        let payload = AlertPayload::SourceUnhealthy {
            source: format!("source-{i}"),
            brand: earshot::domain::BrandId::parse("acme").unwrap(),
            consecutive_failures: 3,
            error_kind: Some("transport".into()),
            last_success_at_ms: Some(i),
        };
        store.enqueue_alert(None, &payload, now).await.unwrap();
    }
    for alert in store.due_alerts(now, 1_000).await.unwrap() {
        store.route_alert(alert.id, &channels, now).await.unwrap();
    }
    let total = env.scalar_of("SELECT COUNT(*) FROM alert_deliveries").await;
    let start = Arc::new(tokio::sync::Barrier::new(2));

    let runner = |store: Arc<dyn Store>, start: Arc<tokio::sync::Barrier>| async move {
        start.wait().await;
        let mut taken = Vec::new();
        loop {
            let claimed = store.claim_deliveries(now, now + 600_000, 7).await.unwrap();
            if claimed.is_empty() {
                return taken;
            }
            taken.extend(claimed.into_iter().map(|d| d.id));
        }
    };
    let (a, b) = tokio::join!(
        tokio::spawn(runner(store.clone(), start.clone())),
        tokio::spawn(runner(store.clone(), start.clone()))
    );

    let (a, b) = (a.unwrap(), b.unwrap());
    let a_set: HashSet<DeliveryId> = a.iter().copied().collect();
    let b_set: HashSet<DeliveryId> = b.iter().copied().collect();
    assert_eq!(total, 300);
    assert_eq!(a_set.len(), a.len(), "a runner never gets the same delivery twice");
    assert_eq!(b_set.len(), b.len());
    assert!(a_set.is_disjoint(&b_set), "no delivery is claimed by both runners");
    assert_eq!(
        a.len() + b.len(),
        300,
        "every delivery was claimed: a {} b {}",
        a.len(),
        b.len()
    );
    let after_lease = store
        .claim_deliveries(now + 600_001, now + 1_200_000, 1_000)
        .await
        .unwrap();
    assert_eq!(after_lease.len(), 300, "unsent claims come back once the lease is over");
}

// --- Three processes ------------------------------------------------------------------------

const POSTS_PER_SOURCE: usize = 1_500;
/// Every tenth post is a complaint by an author of its own, so it opens a task of its own.
const COMPLAINT_EVERY: usize = 10;
/// Posts the loopback feed adds to its results each time a new poll starts (page 0).
const RELEASED_PER_POLL: usize = 350;
const HITS_PER_PAGE: usize = 50;

/// One request the loopback Hacker News server answered.
#[derive(Debug, Clone, Copy)]
struct Served {
    since: i64,
    page: usize,
    n_hits: usize,
}

struct FeedState {
    /// Oldest first; `created_at_i` grows by one second per post.
    hits: Vec<(i64, Value)>,
    released: usize,
    served: Vec<Served>,
}

/// Algolia's `search_by_date` for one query over a feed that grows with every new poll:
/// newest first, `numericFilters=created_at_i>N`, `page`/`nbPages` paging.
#[derive(Clone)]
struct HnFeed {
    state: Arc<Mutex<FeedState>>,
}

impl HnFeed {
    fn new(source: usize, first_at: i64) -> HnFeed {
        let hits = (0..POSTS_PER_SOURCE)
            .map(|i| {
                let at = first_at + i as i64;
                let id = (source * 1_000_000 + i).to_string();
                let (author, title) = if i % COMPLAINT_EVERY == 0 {
                    (
                        format!("angry{source}x{i}"),
                        format!("@AcmeAir lost my bag, worst airline, refund now (case {i})"),
                    )
                } else {
                    (
                        format!("flyer{}", i % 40),
                        format!("Flying Acme Air to Oslo tomorrow, seat {}", i % 30),
                    )
                };
                let hit = json!({"objectID": id, "title": title, "url": null, "author": author, "points": 3,
                                 "story_text": null, "num_comments": 0, "created_at_i": at, "_tags": ["story"]});
                (at, hit)
            })
            .collect();
        HnFeed {
            state: Arc::new(Mutex::new(FeedState {
                hits,
                released: 0,
                served: Vec::new(),
            })),
        }
    }

    fn served(&self) -> Vec<Served> {
        self.state.lock().unwrap().served.clone()
    }
}

impl Respond for HnFeed {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let params: BTreeMap<String, String> = request.url.query_pairs().into_owned().collect();
        let since: i64 = params["numericFilters"]
            .strip_prefix("created_at_i>")
            .and_then(|n| n.parse().ok())
            .expect("the numeric filter Algolia documents");
        let page: usize = params["page"].parse().unwrap();
        let per_page: usize = params["hitsPerPage"].parse().unwrap();
        let mut state = self.state.lock().unwrap();
        if page == 0 {
            state.released = (state.released + RELEASED_PER_POLL).min(state.hits.len());
        }
        let matching: Vec<&Value> = state.hits[..state.released]
            .iter()
            .rev()
            .filter(|(at, _)| *at > since)
            .map(|(_, hit)| hit)
            .collect();
        let n_pages = matching.len().div_ceil(per_page);
        let hits: Vec<Value> = matching
            .iter()
            .skip(page * per_page)
            .take(per_page)
            .map(|h| (*h).clone())
            .collect();
        let body = json!({"hits": hits, "nbHits": matching.len(), "page": page, "nbPages": n_pages,
                          "hitsPerPage": per_page, "processingTimeMS": 1, "query": params["query"], "params": ""});
        state.served.push(Served {
            since,
            page,
            n_hits: hits.len(),
        });
        ResponseTemplate::new(200).set_body_json(body)
    }
}

/// The running instances; killed (and reaped) when the test ends, whatever way it ends.
struct Instances {
    children: Vec<Child>,
    logs: Vec<std::path::PathBuf>,
}

impl Instances {
    fn log_tails(&self) -> String {
        self.logs
            .iter()
            .map(|path| {
                let mut text = String::new();
                if let Ok(mut file) = std::fs::File::open(path) {
                    let _ = file.read_to_string(&mut text);
                }
                let tail: Vec<&str> = text.lines().rev().take(15).collect();
                format!(
                    "--- {}:\n{}",
                    path.display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Instances {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn config(env: &TestEnv, hn: &str) -> ConfigBuilder {
    let feed = |id: &str, query: &str| {
        source(id, "acme", "hackernews")
            .set("schedule", "* * * * * *")
            .set("query", query)
            .set("base_url", hn)
            .set("hits_per_page", i64::try_from(HITS_PER_PAGE).unwrap())
            .set("overlap_secs", 0)
    };
    ConfigBuilder::new()
        .database(&env.database_url())
        .set("database", "max_connections", 4)
        .scorer("lexicon")
        .set("instances", "poll_lease_secs", 2)
        .set("instances", "claim_secs", 4)
        .set("instances", "delivery_lease_secs", 4)
        .set("instances", "scoring_sweep_ms", 300)
        .set("exports", "enabled", false)
        .set("exports", "dir", env.path().join("exports").display().to_string())
        .brand(
            brand("acme", "Acme Air")
                .set("keywords", vec!["acme air", "acmeair"])
                .set("handles", vec!["@AcmeAir"])
                .set("threshold", 40),
        )
        .source(feed("hn-a", "acme air"))
        .source(feed("hn-b", "acmeair"))
        .channel(
            Table::new()
                .set("name", "ops")
                .set("type", "webhook")
                .set("url", Table::new().set("env", "EARSHOT_TEST_ALERT_URL"))
                .set("signing_secret", "whsec_c2lnbmluZyBrZXkgb2YgdGhlIGluc3RhbmNlcyB0ZXN0")
                .set("min_priority", "low"),
        )
}

async fn wait_for(what: &str, instances: &Instances, deadline: Duration, mut done: impl AsyncFnMut() -> bool) {
    let until = Instant::now() + deadline;
    while !done().await {
        assert!(
            Instant::now() < until,
            "timed out waiting for {what}\n{}",
            instances.log_tails()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Three `earshot serve` processes share one fresh PostgreSQL database, two loopback Hacker
/// News feeds (3,000 posts over several polls and pages) and a loopback webhook channel; one
/// instance is killed with SIGKILL once a third of the posts are assessed, and the other two
/// finish the work.
///
/// The lexicon scorer is used on purpose: this test is about coordination (leases, claims,
/// SKIP LOCKED, takeover after a kill), and three copies of the transformer model scoring
/// 3,000 posts on a 2-core machine would take minutes while proving nothing more about it.
/// The leases and claims are short here (seconds, through `[instances]`) so the killed
/// instance's work is taken over quickly.
///
/// One caveat is inherent and asserted as such: a delivery the killed process had already
/// handed to the webhook but not yet recorded as sent is sent again by another instance with
/// the same `webhook-id` (receivers deduplicate on it); at most one such delivery can exist,
/// because an instance sends one delivery at a time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_instances_share_the_work_and_a_killed_one_loses_and_doubles_nothing() {
    let env = TestEnv::postgres().await;
    let hn = MockServer::start().await;
    let hook = MockServer::start().await;
    let first_at = now_millis() / 1000 - 4 * 3600;
    let feeds = [HnFeed::new(0, first_at), HnFeed::new(1, first_at)];
    for (query, feed) in ["acme air", "acmeair"].iter().zip(&feeds) {
        Mock::given(method("GET"))
            .and(path("/api/v1/search_by_date"))
            .and(query_param("query", *query))
            .respond_with(feed.clone())
            .mount(&hn)
            .await;
    }
    Mock::given(method("POST"))
        .and(path("/hooks/earshot"))
        .respond_with(ResponseTemplate::new(200))
        .mount(&hook)
        .await;
    let config_path = env.path().join("earshot.toml");
    config(&env, &hn.uri()).write(&config_path);
    let total = 2 * POSTS_PER_SOURCE as i64;
    let complaints = (2 * POSTS_PER_SOURCE).div_ceil(COMPLAINT_EVERY) as i64;
    let hook_url = format!("{}/hooks/earshot", hook.uri());
    let earshot = || {
        let mut command = Command::new(env!("CARGO_BIN_EXE_earshot"));
        command
            .arg("--config")
            .arg(&config_path)
            .env_remove("EARSHOT_DATABASE_URL")
            .env_remove("EARSHOT_INSTANCE_ID")
            .env("EARSHOT_HTTP_BIND", "127.0.0.1:0")
            .env("EARSHOT_TEST_ALERT_URL", &hook_url);
        command
    };
    // Migrate once before the instances start, as the README says to.
    let migrated = earshot().arg("migrate").output().unwrap();
    assert!(
        migrated.status.success(),
        "{}",
        String::from_utf8_lossy(&migrated.stderr)
    );

    let mut instances = Instances {
        children: Vec::new(),
        logs: Vec::new(),
    };
    for n in 0..3 {
        let log = env.path().join(format!("instance-{n}.log"));
        let child = earshot()
            .args(["--log-format", "json", "serve"])
            .env("RUST_LOG", "earshot=info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        instances.children.push(child);
        instances.logs.push(log);
    }
    let db = env.raw().await;
    let count = |sql: &'static str| {
        let db = db.clone();
        async move { crate::support::scalar_any(&db, sql).await }
    };

    // Kill an instance in the middle: once a third of the posts are assessed, the one holding
    // a live claim on mentions not yet assessed (it is mid-batch), else the first.
    wait_for(
        "a third of the posts to be assessed",
        &instances,
        Duration::from_secs(120),
        async || count("SELECT COUNT(*) FROM assessments").await >= total / 3,
    )
    .await;
    let busy: Option<String> = sqlx::query_scalar(
        "SELECT m.claimed_by FROM mentions m LEFT JOIN assessments a ON a.mention_id = m.id
         WHERE a.mention_id IS NULL AND m.claimed_by IS NOT NULL LIMIT 1",
    )
    .fetch_optional(&db)
    .await
    .unwrap();
    let victim = busy
        .and_then(|holder| {
            instances
                .children
                .iter()
                .position(|child| holder.contains(&format!("-{}-", child.id())))
        })
        .unwrap_or(0);
    let assessed_at_kill = count("SELECT COUNT(*) FROM assessments").await;
    instances.children[victim].kill().unwrap();
    let killed = instances.children[victim].wait().unwrap();

    wait_for(
        "every post to be assessed and every alert sent",
        &instances,
        Duration::from_secs(240),
        async || {
            count("SELECT COUNT(*) FROM assessments").await == total
                && count("SELECT COUNT(*) FROM alert_deliveries WHERE status = 'sent'").await == complaints
        },
    )
    .await;

    // The kill happened mid-run and the survivors are still up.
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(killed.signal(), Some(9), "the victim died of SIGKILL");
    assert!(assessed_at_kill < total, "the kill came before the work was done");
    for (n, child) in instances.children.iter_mut().enumerate() {
        if n != victim {
            assert!(child.try_wait().unwrap().is_none(), "instance {n} is still running");
        }
    }

    // Every post stored once, every mention assessed once, and the work was shared.
    assert_eq!(count("SELECT COUNT(*) FROM posts").await, total);
    assert_eq!(count("SELECT COUNT(*) FROM mentions").await, total);
    assert_eq!(
        count("SELECT COUNT(*) FROM sentiments").await,
        total,
        "one sentiment per post"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM (SELECT mention_id FROM assessments GROUP BY mention_id) AS a").await,
        total
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM mentions WHERE assessed = 1").await,
        total,
        "every mention is off the unassessed index"
    );
    assert_eq!(
        count("SELECT CAST(SUM(total_new) AS BIGINT) FROM source_state").await,
        total,
        "every post was committed as new exactly once"
    );
    let scorers = count("SELECT COUNT(DISTINCT claimed_by) FROM mentions").await;
    assert!(
        scorers >= 2,
        "the scoring was spread over instances, not done by one ({scorers})"
    );

    // Every task opened once: one per complaining author, one `opened` event each.
    assert_eq!(count("SELECT COUNT(*) FROM tasks").await, complaints);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM (SELECT author_handle FROM tasks
             GROUP BY brand_id, platform, author_handle HAVING COUNT(*) > 1) AS doubled"
        )
        .await,
        0
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM task_events WHERE kind = 'opened'").await,
        complaints
    );

    // Every alert delivered: one outbox alert and one delivery per task, each seen by the
    // webhook under its own id.
    assert_eq!(count("SELECT COUNT(*) FROM alert_outbox").await, complaints);
    assert_eq!(count("SELECT COUNT(*) FROM alert_deliveries").await, complaints);
    let requests = hook.received_requests().await.unwrap();
    let ids: Vec<String> = requests
        .iter()
        .map(|r| r.headers.get("webhook-id").unwrap().to_str().unwrap().to_owned())
        .collect();
    let distinct: HashSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len() as i64, complaints, "every alert reached the webhook");
    assert!(
        ids.len() - distinct.len() <= 1,
        "at most the one delivery the killed instance had on the wire is repeated: {} requests for {} alerts",
        ids.len(),
        distinct.len()
    );

    // Each poll ran on one instance at a time: per feed, the (since, page) requests never go
    // back, and a page with posts is asked for twice at most once (the killed instance's
    // uncommitted page, taken over after its lease lapsed).
    for (n, feed) in feeds.iter().enumerate() {
        let served = feed.served();
        for pair in served.windows(2) {
            assert!(
                (pair[1].since, pair[1].page) >= (pair[0].since, pair[0].page),
                "feed {n}: the cursor went back from {:?} to {:?}",
                pair[0],
                pair[1]
            );
        }
        let repeats = served
            .windows(2)
            .filter(|pair| (pair[0].since, pair[0].page) == (pair[1].since, pair[1].page) && pair[0].n_hits > 0)
            .count();
        assert!(
            repeats <= 1,
            "feed {n}: {repeats} pages with posts were fetched twice: {served:?}"
        );
    }
}
