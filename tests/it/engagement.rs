//! The engagement refresh (viral escalation) against wiremock servers answering in each
//! platform's documented shape: batching (150 X posts → 2 requests of at most 100 ids), a 429
//! that postpones until its reset instead of looping, the once-only "going viral" escalation
//! and alert, and posts deleted on their platform blanked here; on both backends where the
//! store is involved.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

use earshot::domain::{Batch, Cursor, Engagement, PostId, Priority, SourceId, TaskId, now_millis};
use earshot::pipeline::engagement::{EngagementRefresher, RefreshReport};
use earshot::sources::{EngagementLookup, Reading, Source, SourceError};
use earshot::store::Store;

use crate::support::Table;
use crate::support::sources::{SourceEnv, reddit};
use crate::support::{TestEnv, on_both_backends, poll_feed};

const MINUTE_MS: i64 = 60_000;

/// A platform source answering for the posts another source (the test's JSONL feed) found.
struct As {
    id: SourceId,
    inner: Box<dyn Source>,
}

#[async_trait]
impl Source for As {
    fn id(&self) -> &SourceId {
        &self.id
    }

    async fn poll(&self, cursor: Option<&Cursor>) -> Result<Batch, SourceError> {
        self.inner.poll(cursor).await
    }

    fn engagement(&self) -> Option<&dyn EngagementLookup> {
        self.inner.engagement()
    }
}

fn x_source(server: &MockServer) -> Box<dyn Source> {
    SourceEnv::new(
        Table::new()
            .set("type", "x")
            .set("query", "acme")
            .set("bearer_token", "tok")
            .set("base_url", server.uri()),
    )
    .source()
}

/// The refresher for the test config's `acme-feed`, read through `platform`.
fn refresher(store: Arc<dyn Store>, env: &TestEnv, platform: Box<dyn Source>, instance: &str) -> EngagementRefresher {
    let source: Arc<dyn Source> = Arc::new(As {
        id: SourceId::parse("acme-feed").unwrap(),
        inner: platform,
    });
    EngagementRefresher::new(
        store,
        vec![(SourceId::parse("acme-feed").unwrap(), source)],
        Arc::new(env.settings()),
        instance.to_owned(),
    )
}

/// Complaints by `n` different authors, each its own task (X ids "1"…"n").
async fn tasks_for(env: &TestEnv, n: usize) -> Arc<dyn Store> {
    let lines: Vec<String> = (1..=n)
        .map(|i| {
            crate::support::line(
                &i.to_string(),
                &format!("@user{i}"),
                "@AcmeAir lost my bag and the refund never came, worst airline, never again",
            )
        })
        .collect();
    env.append("acme-feed", &lines);
    let pipeline = env.pipeline().await;
    // batch_lines = 3: poll until every line is committed.
    poll_feed(&pipeline, n.div_ceil(3) + 1).await;
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM tasks").await,
        n as i64,
        "one task per complaint"
    );
    pipeline.store().clone()
}

/// Answers `GET /2/tweets?ids=` with every asked id found, `likes` likes each; ids in
/// `gone` come back as partial errors (`resource-not-found`), as X documents.
struct Tweets {
    likes: u64,
    gone: Vec<String>,
    asked: Arc<std::sync::Mutex<Vec<usize>>>,
}

impl Respond for Tweets {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let ids: Vec<String> = request
            .url
            .query_pairs()
            .find(|(k, _)| k == "ids")
            .map(|(_, v)| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        self.asked.lock().unwrap().push(ids.len());
        let (gone, found): (Vec<String>, Vec<String>) = ids.into_iter().partition(|id| self.gone.contains(id));
        let data: Vec<Value> = found
            .iter()
            .map(|id| {
                json!({"id": id, "text": "…", "edit_history_tweet_ids": [id], "public_metrics": {
                    "retweet_count": 1, "reply_count": 2, "like_count": self.likes, "quote_count": 0,
                    "bookmark_count": 0, "impression_count": 900
                }})
            })
            .collect();
        let errors: Vec<Value> = gone
            .iter()
            .map(|id| {
                json!({"value": id, "detail": format!("Could not find tweet with id: [{id}]."),
                    "title": "Not Found Error", "resource_type": "tweet", "parameter": "ids",
                    "resource_id": id, "type": "https://api.twitter.com/2/problems/resource-not-found"})
            })
            .collect();
        let mut body = json!({ "data": data });
        if !errors.is_empty() {
            body["errors"] = json!(errors);
        }
        ResponseTemplate::new(200)
            .set_body_json(body)
            .insert_header("x-rate-limit-remaining", "3000")
    }
}

async fn mount_tweets(server: &MockServer, likes: u64, gone: &[&str]) -> Arc<std::sync::Mutex<Vec<usize>>> {
    let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
    Mock::given(method("GET"))
        .and(path("/2/tweets"))
        .and(query_param("tweet.fields", "public_metrics"))
        .respond_with(Tweets {
            likes,
            gone: gone.iter().map(|s| (*s).to_owned()).collect(),
            asked: asked.clone(),
        })
        .mount(server)
        .await;
    asked
}

#[tokio::test]
async fn engagement_of_150_x_posts_is_read_in_two_requests_of_at_most_100_ids() {
    let env = TestEnv::new();
    let store = tasks_for(&env, 150).await;
    let server = MockServer::start().await;
    let asked = mount_tweets(&server, 7, &[]).await;

    let report = refresher(store.clone(), &env, x_source(&server), "a")
        .refresh(now_millis())
        .await
        .unwrap();

    let mut sizes = asked.lock().unwrap().clone();
    sizes.sort_unstable();
    assert_eq!(sizes, vec![50, 100], "two requests, none over X's 100 ids");
    assert_eq!((report.n_requests, report.n_read), (2, 150));
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM posts WHERE likes = 7").await, 150);
    // Each post's history: what was stored at ingest, then the reading.
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM engagement_samples").await, 300);
}

#[tokio::test]
async fn a_429_postpones_the_refresh_until_the_reset_and_never_loops() {
    let env = TestEnv::new();
    let store = tasks_for(&env, 2).await;
    let server = MockServer::start().await;
    let now = now_millis();
    let reset_secs = now / 1000 + 900;
    Mock::given(method("GET"))
        .and(path("/2/tweets"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-reset", reset_secs.to_string().as_str())
                .set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    let refresher = refresher(store, &env, x_source(&server), "a");

    let first = refresher.refresh(now).await.unwrap();
    let during = refresher.refresh(now + 5 * MINUTE_MS).await.unwrap();

    assert_eq!((first.n_requests, first.n_postponed, first.n_read), (1, 1, 0));
    assert_eq!(
        during,
        RefreshReport {
            n_postponed: 1,
            ..RefreshReport::default()
        },
        "nothing is asked before the reset"
    );
    // After the reset the posts are read again.
    let asked = mount_tweets(&server, 3, &[]).await;
    let after = refresher.refresh(now + 16 * MINUTE_MS).await.unwrap();
    assert_eq!((after.n_requests, after.n_read), (1, 2));
    assert_eq!(asked.lock().unwrap().as_slice(), &[2]);
}

async fn two_refreshes_with_growth_escalate_once_and_send_one_going_viral_alert(env: TestEnv) {
    let store = tasks_for(&env, 1).await;
    let task_id = TaskId::new(env.scalar_of("SELECT MIN(id) FROM tasks").await);
    let before = store.task_detail(task_id).await.unwrap().task;
    let now = now_millis();

    for (minutes, likes) in [(10, 12), (60, 340), (70, 2_000)] {
        let server = MockServer::start().await;
        mount_tweets(&server, likes, &[]).await;
        refresher(store.clone(), &env, x_source(&server), "a")
            .refresh(now + minutes * MINUTE_MS)
            .await
            .unwrap();
        if minutes == 10 {
            assert_eq!(
                env.scalar_of("SELECT COUNT(*) FROM alert_outbox WHERE kind = 'going_viral'")
                    .await,
                0,
                "12 likes is not viral"
            );
        }
    }

    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM alert_outbox WHERE kind = 'going_viral'")
            .await,
        1,
        "one alert per task"
    );
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM task_events WHERE kind = 'viral'")
            .await,
        1
    );
    let detail = store.task_detail(task_id).await.unwrap();
    assert_eq!(
        detail.task.priority.min(Priority::High),
        detail.task.priority,
        "at least high"
    );
    assert!(
        (detail.task.criticality - (before.criticality + 15.0).min(100.0)).abs() < 0.01,
        "{} → {}",
        before.criticality,
        detail.task.criticality
    );
    let post = &detail.posts[0];
    assert!(post.factors.iter().any(|f| f.name == "viral"), "{:?}", post.factors);
    assert_eq!(post.likes, 2_000);
    assert_eq!(post.engagement_history.len(), 4, "ingest + three readings");
    let growth = post.growth.as_ref().unwrap();
    assert_eq!((growth.metric, growth.to), ("likes", 2_000));
    let raw = env.raw().await;
    let payload: String = sqlx::query_scalar("SELECT payload_json FROM alert_outbox WHERE kind = 'going_viral'")
        .fetch_one(&raw)
        .await
        .unwrap();
    let payload: Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["task_id"], task_id.get());
    assert!(
        payload["growth"].as_str().unwrap().contains("→ 340 in"),
        "the growth that made it viral: {payload}"
    );

    // It leaves through the outbox like every alert: one Slack message says it.
    let chat = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/hook"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&chat)
        .await;
    let slack = crate::support::chat::channel(
        "ops",
        earshot::alerts::ChannelKind::Slack {},
        format!("{}/hook", chat.uri()),
    );
    let deliverer = earshot::pipeline::delivery::Deliverer::new(
        store.clone(),
        &[slack],
        &[],
        crate::support::chat::client(std::time::Duration::from_secs(5)),
    );
    deliverer.deliver_due(now + 80 * MINUTE_MS).await.unwrap();
    let sent: Vec<String> = crate::support::chat::bodies(&chat)
        .await
        .iter()
        .map(Value::to_string)
        .filter(|body| body.contains("Going viral"))
        .collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert!(sent[0].contains("→ 340 in"), "{}", sent[0]);
}

async fn a_post_deleted_on_x_is_blanked_here_and_logged(env: TestEnv) {
    let store = tasks_for(&env, 2).await;
    let server = MockServer::start().await;
    let asked = mount_tweets(&server, 5, &["1"]).await;
    let refresher = refresher(store.clone(), &env, x_source(&server), "a");

    let report = refresher.refresh(now_millis()).await.unwrap();
    let again = refresher.refresh(now_millis() + 10 * MINUTE_MS).await.unwrap();

    assert_eq!((report.n_gone, report.n_read), (1, 1));
    assert_eq!(
        (again.n_gone, again.n_read),
        (0, 1),
        "a gone post is not asked for again"
    );
    assert_eq!(asked.lock().unwrap().as_slice(), &[2, 1]);
    let gone = "SELECT COUNT(*) FROM posts WHERE external_id = '1' AND text = '' AND author_handle = '[deleted]'
                AND author_name IS NULL AND url IS NULL AND search_text = '' AND gone_at_ms IS NOT NULL";
    assert_eq!(env.scalar_of(gone).await, 1);
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM posts WHERE external_id = '2' AND text <> ''")
            .await,
        1,
        "the other post stays"
    );
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM tasks").await,
        2,
        "rows and counts stay"
    );
    assert_eq!(
        env.scalar_of(
            "SELECT COUNT(*) FROM privacy_log WHERE kind = 'deleted_on_platform' AND platform = 'x' AND n_posts = 1"
        )
        .await,
        1
    );
    // The task's opening alert no longer quotes it.
    let raw = env.raw().await;
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload_json FROM alert_outbox")
        .fetch_all(&raw)
        .await
        .unwrap();
    assert!(payloads.iter().any(|p| p.contains("user2")), "{payloads:?}");
    assert!(!payloads.iter().any(|p| p.contains("user1\"")), "{payloads:?}");
}

async fn the_store_keeps_an_engagement_history_per_post(env: TestEnv) {
    let store = tasks_for(&env, 1).await;
    let post_id = PostId::new(env.scalar_of("SELECT MIN(id) FROM posts").await);
    let first_seen = env.scalar_of("SELECT first_seen_at_ms FROM posts").await;
    let at = first_seen + 10 * MINUTE_MS;
    let engagement = |likes| Engagement {
        likes,
        reposts: 1,
        replies: 0,
        quotes: 0,
    };

    store
        .record_engagement(&[post_id], &[(post_id, engagement(4))], at)
        .await
        .unwrap();
    store
        .record_engagement(&[post_id], &[(post_id, engagement(9))], at + MINUTE_MS)
        .await
        .unwrap();
    // Asked again at the same time: one reading, the latest counts.
    store
        .record_engagement(&[post_id], &[(post_id, engagement(11))], at + MINUTE_MS)
        .await
        .unwrap();

    let history = store.engagement_history(&[post_id], 0).await.unwrap();
    let likes: Vec<(i64, u64)> = history.iter().map(|(_, s)| (s.at_ms, s.likes)).collect();
    assert_eq!(likes, vec![(first_seen, 0), (at, 4), (at + MINUTE_MS, 11)]);
    let recent = store.engagement_history(&[post_id], at).await.unwrap();
    assert_eq!(recent.len(), 2);
    let targets = store.engagement_targets(0, 10).await.unwrap();
    assert_eq!(targets.len(), 1);
    assert_eq!((targets[0].post_id, targets[0].task_viral_at_ms), (post_id, None));
    assert_eq!(
        store.engagement_targets(now_millis() + 3_600_000, 10).await.unwrap(),
        vec![],
        "older posts are not re-read"
    );
    assert!(store.erase_deleted_post(post_id, at).await.unwrap());
    assert!(!store.erase_deleted_post(post_id, at).await.unwrap(), "once");
    assert_eq!(store.engagement_targets(0, 10).await.unwrap(), vec![]);
}

on_both_backends!(
    two_refreshes_with_growth_escalate_once_and_send_one_going_viral_alert,
    a_post_deleted_on_x_is_blanked_here_and_logged,
    the_store_keeps_an_engagement_history_per_post,
);

/// Two instances on PostgreSQL: while one waits out a 429 (holding the source's lease until
/// the reset), the other sends nothing.
#[tokio::test]
async fn engagement_refresh_of_another_instance_waits_for_the_reset_on_postgres() {
    let env = TestEnv::postgres().await;
    let store = tasks_for(&env, 1).await;
    let server = MockServer::start().await;
    let reset_secs = now_millis() / 1000 + 900;
    Mock::given(method("GET"))
        .and(path("/2/tweets"))
        .respond_with(ResponseTemplate::new(429).insert_header("x-rate-limit-reset", reset_secs.to_string().as_str()))
        .expect(1)
        .mount(&server)
        .await;

    let a = refresher(store.clone(), &env, x_source(&server), "instance-a")
        .refresh(now_millis())
        .await
        .unwrap();
    let b = refresher(store, &env, x_source(&server), "instance-b")
        .refresh(now_millis())
        .await
        .unwrap();

    assert_eq!((a.n_requests, a.n_postponed), (1, 1));
    assert_eq!(
        (b.n_requests, b.n_postponed),
        (0, 1),
        "the other instance leaves it alone"
    );
}

// --- Each platform's lookup in its documented shape ---------------------------------------

fn found(readings: &[(String, Reading)], id: &str) -> Option<Reading> {
    readings.iter().find(|(i, _)| i == id).map(|(_, r)| *r)
}

#[tokio::test]
async fn engagement_lookup_on_reddit_reads_scores_and_sees_deleted_and_removed_posts() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok", "token_type": "bearer", "expires_in": 86400, "scope": "*"
        })))
        .mount(&server)
        .await;
    let thing = |id: &str, selftext: &str, author: &str, removed: Option<&str>| {
        json!({"kind": "t3", "data": {"id": id, "name": format!("t3_{id}"), "title": "Acme Air", "selftext": selftext,
            "author": author, "score": 420, "ups": 420, "num_comments": 37, "created_utc": 1_795_000_000.0,
            "permalink": format!("/r/travel/comments/{id}/x/"), "removed_by_category": removed}})
    };
    Mock::given(method("GET"))
        .and(path("/api/info"))
        .and(query_param("id", "t3_a,t3_b,t3_c,t3_d"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"kind": "Listing", "data": {
            "after": null, "dist": 4, "children": [
                thing("a", "lost my bag", "jo", None),
                thing("b", "[deleted]", "[deleted]", Some("deleted")),
                thing("c", "[removed]", "kim", Some("moderator")),
                thing("d", "", "[deleted]", None),
            ]}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    let source = SourceEnv::new(reddit(&server.uri())).source();
    let lookup = source.engagement().unwrap();
    let ids: Vec<String> = ["t3_a", "t3_b", "t3_c", "t3_d"].map(String::from).to_vec();

    let answer = lookup.lookup(&ids).await.unwrap();

    assert_eq!(lookup.batch_size(), 100);
    assert_eq!(
        found(&answer.readings, "t3_a"),
        Some(Reading::Found(Engagement {
            likes: 420,
            replies: 37,
            ..Engagement::default()
        }))
    );
    assert_eq!(found(&answer.readings, "t3_b"), Some(Reading::Gone));
    assert_eq!(found(&answer.readings, "t3_c"), Some(Reading::Gone));
    assert!(
        matches!(found(&answer.readings, "t3_d"), Some(Reading::Found(_))),
        "a deleted account is not a deleted post"
    );
}

#[tokio::test]
async fn engagement_lookup_on_bluesky_treats_uris_left_out_of_get_posts_as_gone() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "did": "did:plc:brand", "handle": "acme.bsky.social", "accessJwt": "acc", "refreshJwt": "ref"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let kept = "at://did:plc:jo/app.bsky.feed.post/3kaaa";
    let deleted = "at://did:plc:kim/app.bsky.feed.post/3kbbb";
    Mock::given(method("GET"))
        .and(path("/xrpc/app.bsky.feed.getPosts"))
        .and(query_param("uris", kept))
        .and(query_param("uris", deleted))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"posts": [{
            "uri": kept, "cid": "bafy", "author": {"did": "did:plc:jo", "handle": "jo.bsky.social"},
            "record": {"$type": "app.bsky.feed.post", "text": "acme lost my bag", "createdAt": "2026-11-20T10:00:00Z"},
            "indexedAt": "2026-11-20T10:00:01Z", "likeCount": 340, "repostCount": 41, "replyCount": 12,
            "quoteCount": 3, "bookmarkCount": 0
        }]})))
        .expect(1)
        .mount(&server)
        .await;
    let source = SourceEnv::new(
        Table::new()
            .set("type", "bluesky")
            .set("query", "acme")
            .set("identifier", "acme.bsky.social")
            .set("app_password", "xxxx-xxxx-xxxx-xxxx")
            .set("base_url", server.uri()),
    )
    .source();
    let lookup = source.engagement().unwrap();

    let answer = lookup.lookup(&[kept.to_owned(), deleted.to_owned()]).await.unwrap();

    assert_eq!(lookup.batch_size(), 25);
    assert_eq!(
        found(&answer.readings, kept),
        Some(Reading::Found(Engagement {
            likes: 340,
            reposts: 41,
            replies: 12,
            quotes: 3
        }))
    );
    assert_eq!(found(&answer.readings, deleted), Some(Reading::Gone));
}

#[tokio::test]
async fn engagement_lookup_on_mastodon_confirms_a_missing_status_with_its_404() {
    let server = MockServer::start().await;
    let base = server.uri();
    let status = |id: &str, favourites: u64| {
        json!({"id": id, "uri": format!("{base}/users/jo/statuses/{id}"), "created_at": "2026-11-20T10:00:00.000Z",
            "content": "<p>acme</p>", "replies_count": 2, "reblogs_count": 30, "favourites_count": favourites,
            "quotes_count": 1, "account": {"id": "1", "acct": "jo", "username": "jo"}})
    };
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses"))
        .and(query_param("id[]", "111"))
        .and(query_param("id[]", "222"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([status("111", 250)])))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/statuses/222"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"error": "Record not found"})))
        .expect(1)
        .mount(&server)
        .await;
    let source = SourceEnv::new(
        Table::new()
            .set("type", "mastodon")
            .set("hashtags", vec!["acme"])
            .set("base_url", base.as_str()),
    )
    .source();
    let lookup = source.engagement().unwrap();
    let ids = vec![
        format!("{base}/users/jo/statuses/111"),
        format!("{base}/users/kim/statuses/222"),
        "https://elsewhere.example/users/lee/statuses/333".to_owned(),
    ];

    let answer = lookup.lookup(&ids).await.unwrap();

    assert_eq!(lookup.batch_size(), 20);
    assert_eq!(
        found(&answer.readings, &ids[0]),
        Some(Reading::Found(Engagement {
            likes: 250,
            reposts: 30,
            replies: 2,
            quotes: 1
        }))
    );
    assert_eq!(found(&answer.readings, &ids[1]), Some(Reading::Gone));
    assert_eq!(
        found(&answer.readings, &ids[2]),
        None,
        "another server's status is not re-read"
    );
}

#[tokio::test]
async fn engagement_lookup_on_hacker_news_reads_points_and_replies_and_sees_a_404() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/items/8863"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": 8863, "type": "story", "author": "dhouston", "points": 104, "title": "Acme Air",
            "children": [{"id": 1, "children": [{"id": 2, "children": []}]}, {"id": 3, "children": []}]
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/items/9999"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"status": 404, "error": "Not Found"})))
        .expect(1)
        .mount(&server)
        .await;
    let source = SourceEnv::new(
        Table::new()
            .set("type", "hackernews")
            .set("query", "acme")
            .set("base_url", server.uri()),
    )
    .source();
    let lookup = source.engagement().unwrap();

    let answer = lookup.lookup(&["8863".to_owned(), "9999".to_owned()]).await.unwrap();

    assert_eq!(
        found(&answer.readings, "8863"),
        Some(Reading::Found(Engagement {
            likes: 104,
            replies: 3,
            ..Engagement::default()
        }))
    );
    assert_eq!(found(&answer.readings, "9999"), Some(Reading::Gone));
}

#[tokio::test]
async fn engagement_lookup_on_youtube_reads_thread_counts_by_id() {
    let server = MockServer::start().await;
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    Mock::given(method("GET"))
        .and(path("/youtube/v3/commentThreads"))
        .and(query_param("id", "Ugw1,Ugw2"))
        .and(query_param("key", "yt-key"))
        .respond_with(move |_: &Request| {
            counted.fetch_add(1, Ordering::SeqCst);
            ResponseTemplate::new(200).set_body_json(json!({"kind": "youtube#commentThreadListResponse", "items": [{
                "kind": "youtube#commentThread", "id": "Ugw1", "snippet": {"videoId": "v1", "totalReplyCount": 14,
                "topLevelComment": {"kind": "youtube#comment", "id": "Ugw1", "snippet": {"textDisplay": "acme",
                "authorDisplayName": "Jo", "likeCount": 88, "publishedAt": "2026-11-20T10:00:00Z"}}}
            }]}))
        })
        .mount(&server)
        .await;
    let source = SourceEnv::new(
        Table::new()
            .set("type", "youtube")
            .set("api_key", "yt-key")
            .set("video_id", "v1")
            .set("base_url", server.uri()),
    )
    .source();
    let lookup = source.engagement().unwrap();

    let answer = lookup.lookup(&["Ugw1".to_owned(), "Ugw2".to_owned()]).await.unwrap();

    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(
        found(&answer.readings, "Ugw1"),
        Some(Reading::Found(Engagement {
            likes: 88,
            replies: 14,
            ..Engagement::default()
        }))
    );
    assert_eq!(
        found(&answer.readings, "Ugw2"),
        None,
        "not documented as deleted: left alone"
    );
}

#[test]
fn engagement_and_viral_settings_are_checked_with_their_paths() {
    let env = TestEnv::new();
    let config = env
        .config()
        .brand_set(
            "acme",
            "viral",
            Table::new().set("growth_factor", 1.0).set("window_mins", 0),
        )
        .set("engagement", "schedule", "every ten minutes")
        .set("engagement", "max_age_hours", 0)
        .set("engagement", "max_posts_per_run", 0);

    assert_eq!(
        config.problem_paths(),
        vec![
            "brands[0].viral.growth_factor",
            "brands[0].viral.window_mins",
            "engagement.max_age_hours",
            "engagement.max_posts_per_run",
            "engagement.schedule",
        ],
        "{:?}",
        config.problems()
    );
    // The defaults, as documented.
    let settings = env.settings();
    assert!(settings.engagement.enabled);
    assert_eq!(settings.engagement.schedule, "15 */10 * * * *");
    let viral = &settings.brands[0].viral;
    assert_eq!(
        (
            viral.growth_factor,
            viral.window_mins,
            viral.min_engagement,
            viral.threshold
        ),
        (5.0, 60, 50, 1000)
    );
}
