//! Recurring problems: the store's rows on both backends, the grouping of real complaints by
//! the shipped model, the growing alert and its cool-down, and the API (known-issue message as
//! the default reply, the bulk answer through the reply outbox).

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;

use earshot::alerts::AlertPayload;
use earshot::config::Settings;
use earshot::domain::{
    BrandId, Embedding, MentionId, Millis, Platform, Post, PostDraft, PostId, SentimentOutcome, SentimentScores,
    SourceId, TaskId, now_millis,
};
use earshot::pipeline::problems::{ProblemsContext, group_new_complaints, recluster};
use earshot::problems::{ProblemSettings, ProblemStatus};
use earshot::scoring::embedding::EmbeddingService;
use earshot::store::{Grouping, PlacedMember, PollCommit, ProblemChange, ProblemFilter, ProblemRef, Store};

use crate::support::{TestApp, TestEnv, on_both_backends, poll_feed};

const HOUR: Millis = 3_600_000;
const MODEL: &str = "test-embedder@1";

/// A unit vector pointing mostly along `axis` (0, 1 or 2), nudged by `jitter`.
fn topic(axis: usize, jitter: f32) -> Embedding {
    let mut v = vec![0.02 * jitter, 0.03 * jitter, 0.01 * jitter, 0.0];
    v[axis] += 1.0;
    Embedding::normalised(v).unwrap()
}

fn post(id: &str, author: &str, text: &str, created_at: Millis) -> Post {
    Post::new(
        Platform::Mastodon,
        PostDraft {
            external_id: id.into(),
            text: text.into(),
            author_handle: author.into(),
            created_at,
            ..PostDraft::default()
        },
    )
    .unwrap()
}

async fn store(env: &TestEnv) -> Arc<dyn Store> {
    earshot::app::open_store(&env.settings()).await.unwrap()
}

/// Commits the posts as mentions of acme, scored negative, each with its embedding stored
/// (as the problems job stores them). Returns the post ids.
async fn complaints(store: &Arc<dyn Store>, posts: &[(Post, Embedding)]) -> Vec<PostId> {
    let (source, brand) = (SourceId::parse("acme-feed").unwrap(), BrandId::parse("acme").unwrap());
    let only: Vec<Post> = posts.iter().map(|(p, _)| p.clone()).collect();
    store
        .commit_poll(PollCommit {
            source: &source,
            brand: &brand,
            posts: &only,
            quarantined: &[],
            cursor: None,
            at: now_millis(),
        })
        .await
        .unwrap();
    let mut ids = Vec::new();
    let mut sentiments = Vec::new();
    let mut vectors = Vec::new();
    for (post, embedding) in posts {
        let id = post_id(store, &post.external_id).await;
        ids.push(id);
        sentiments.push((id, negative()));
        vectors.push((id, embedding.clone()));
    }
    store.save_sentiments(&sentiments, now_millis()).await.unwrap();
    store.save_embeddings(MODEL, &vectors).await.unwrap();
    ids
}

fn negative() -> SentimentOutcome {
    SentimentOutcome::Scored {
        scores: SentimentScores::from_weights(0.9, 0.05, 0.05).unwrap(),
        model: "lexicon".into(),
        language: Some("en".into()),
        complaint: None,
    }
}

async fn post_id(store: &Arc<dyn Store>, external_id: &str) -> PostId {
    let page = store
        .list_mentions(&earshot::store::MentionFilter {
            limit: 500,
            ..Default::default()
        })
        .await
        .unwrap();
    page.items
        .iter()
        .find(|m| m.external_id == external_id)
        .map(|m| m.post_id)
        .unwrap_or_else(|| panic!("post {external_id} is stored"))
}

fn context<'a>(store: &'a dyn Store, settings: &'a Settings, problems: &'a ProblemSettings) -> ProblemsContext<'a> {
    ProblemsContext {
        store,
        settings: problems,
        brands: &settings.brands,
        embedder: None,
        model: MODEL,
        holder: "test",
        public_url: Some("https://earshot.example.com/"),
    }
}

fn filter(now: Millis) -> ProblemFilter {
    ProblemFilter {
        min_complaints: 1,
        seen_since: now - 30 * 24 * HOUR,
        now,
        limit: 100,
        ..Default::default()
    }
}

async fn members_of(env: &TestEnv, problem_id: i64) -> i64 {
    env.scalar_of(&format!(
        "SELECT COUNT(*) FROM problem_members WHERE problem_id = {problem_id}"
    ))
    .await
}

async fn a_grouping_is_saved_once_per_complaint_and_counted_from_its_members(env: TestEnv) {
    let store = store(&env).await;
    let now = now_millis();
    let posts: Vec<(Post, Embedding)> = (0..4)
        .map(|i| {
            (
                post(
                    &format!("m{i}"),
                    &format!("@u{i}"),
                    "acme air the app login fails",
                    now - HOUR,
                ),
                topic(0, i as f32),
            )
        })
        .collect();
    complaints(&store, &posts).await;

    let waiting = store
        .ungrouped_complaints(MODEL, now - 24 * HOUR, MentionId::new(0), 100)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 4);
    assert!(
        waiting
            .iter()
            .all(|c| c.embedding.is_some() && c.text.contains("login"))
    );
    let other = store
        .ungrouped_complaints("another-model@2", now - 24 * HOUR, MentionId::new(0), 100)
        .await
        .unwrap();
    assert!(
        other.iter().all(|c| c.embedding.is_none()),
        "vectors of another model are not compared"
    );
    let after = store
        .ungrouped_complaints(MODEL, now - 24 * HOUR, waiting[1].mention_id, 100)
        .await
        .unwrap();
    assert_eq!(after.len(), 2, "paged by mention id");
    let brand = BrandId::parse("acme").unwrap();
    let grouping = |members: &[usize], problem: ProblemRef| Grouping {
        brand: Some(brand.clone()),
        new_problems: usize::from(matches!(problem, ProblemRef::New(_))),
        members: members
            .iter()
            .map(|&i| PlacedMember {
                mention_id: waiting[i].mention_id,
                problem,
                post_created_at: waiting[i].post_created_at,
                similarity: 0.9,
            })
            .collect(),
        centroids: vec![(problem, topic(0, 0.0))],
        merges: vec![],
        at: now,
    };
    let first = store
        .save_grouping(&grouping(&[0, 1, 2], ProblemRef::New(0)))
        .await
        .unwrap();
    let problem = first.new_ids[0];
    assert_eq!(members_of(&env, problem).await, 3);

    // Another instance placing the same complaints again adds nothing, and the problem it
    // started for them is dropped.
    let again = store
        .save_grouping(&grouping(&[0, 1], ProblemRef::New(0)))
        .await
        .unwrap();
    let orphan = again.new_ids[0];
    assert_eq!(members_of(&env, problem).await, 3, "a complaint is in one problem once");
    assert_eq!(
        env.scalar_of(&format!("SELECT COUNT(*) FROM problems WHERE id = {orphan}"))
            .await,
        0
    );
    assert_eq!(
        store
            .ungrouped_complaints(MODEL, now - 24 * HOUR, MentionId::new(0), 100)
            .await
            .unwrap()
            .len(),
        1
    );

    // The listing counts members, days and platforms.
    let listed = store.list_problems(&filter(now)).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].n_complaints, 3);
    assert_eq!(listed[0].n_last_day, 3);
    assert_eq!(listed[0].platforms, ["mastodon"]);
    assert_eq!(listed[0].daily.iter().sum::<i64>(), 3);
    assert_eq!(listed[0].status, ProblemStatus::New);

    // A lead's change, then a fixed problem that gains a complaint is acknowledged again.
    let changed = store
        .update_problem(&ProblemChange {
            id: problem,
            status: Some(ProblemStatus::Fixed),
            owner: Some(Some("lee".into())),
            message: Some(Some("We know about the login problem, {author}.".into())),
            at: now,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        (changed.status, changed.owner.as_deref()),
        (ProblemStatus::Fixed, Some("lee"))
    );
    store
        .save_grouping(&grouping(&[3], ProblemRef::Existing(problem)))
        .await
        .unwrap();
    let detail = store.problem_detail(problem, now).await.unwrap();
    assert_eq!(detail.problem.status, ProblemStatus::Acknowledged);
    assert_eq!(detail.problem.n_complaints, 4);
    assert_eq!(
        detail.problem.message.as_deref(),
        Some("We know about the login problem, {author}.")
    );
    assert_eq!(detail.examples.len(), 4);

    // A re-clustering that moves everything into a new problem merges the old one into it.
    let moved = store
        .save_reclustering(&Grouping {
            merges: vec![(problem, ProblemRef::New(0))],
            ..grouping(&[0, 1, 2, 3], ProblemRef::New(0))
        })
        .await
        .unwrap();
    let successor = moved.new_ids[0];
    assert_eq!(members_of(&env, successor).await, 4);
    assert_eq!(members_of(&env, problem).await, 0);
    assert!(matches!(
        store.problem_detail(problem, now).await,
        Err(earshot::store::StoreError::NotFound(_))
    ));
    assert_eq!(
        env.scalar_of(&format!("SELECT merged_into FROM problems WHERE id = {problem}"))
            .await,
        successor
    );
    let week = store
        .export_problems(now - 24 * HOUR, now + HOUR, None, 2)
        .await
        .unwrap();
    assert_eq!(week.len(), 1);
    assert_eq!((week[0].id, week[0].complaints), (successor, 4));
}

async fn expiring_and_erasing_posts_takes_their_embeddings_and_memberships(env: TestEnv) {
    let store = store(&env).await;
    let old = now_millis() - 80 * 24 * HOUR;
    let ids = complaints(
        &store,
        &[
            (post("x1", "@gone", "acme air lost my bag", old), topic(1, 0.0)),
            (
                post("x2", "@kept", "acme air lost my bag too", now_millis()),
                topic(1, 1.0),
            ),
        ],
    )
    .await;
    let raw = env.raw().await;
    sqlx::query("UPDATE posts SET first_seen_at_ms = $1 WHERE id = $2")
        .bind(old)
        .bind(ids[0])
        .execute(&raw)
        .await
        .unwrap();
    // Assessed (below the threshold, no task), so retention may take them.
    sqlx::query("UPDATE mentions SET assessed = 1")
        .execute(&raw)
        .await
        .unwrap();
    let settings = env.settings();
    let problems = ProblemSettings {
        window_days: 90,
        ..ProblemSettings::default()
    };
    let report = group_new_complaints(&context(store.as_ref(), &settings, &problems), now_millis())
        .await
        .unwrap();
    assert_eq!(report.n_grouped, 2, "{report:?}");
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM problem_members").await, 2);
    assert_eq!(
        store
            .expire_posts(now_millis() - 60 * 24 * HOUR, 100, now_millis())
            .await
            .unwrap(),
        1
    );
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM post_embeddings").await, 1);
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM problem_members").await,
        1,
        "the expired post's went with it"
    );
    store
        .erase_author(Platform::Mastodon, "@kept", "admin", now_millis())
        .await
        .unwrap();
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM post_embeddings").await,
        0,
        "read from the text"
    );
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM problem_members").await,
        1,
        "the count stays"
    );
}

on_both_backends!(
    a_grouping_is_saved_once_per_complaint_and_counted_from_its_members,
    expiring_and_erasing_posts_takes_their_embeddings_and_memberships,
);

/// Growing: one alert when a problem's complaints jump against its usual rate, none while it
/// cools down, another once the cool-down is over and it grows again.
#[tokio::test]
async fn a_growing_problem_alerts_once_per_cool_down() {
    let env = TestEnv::new();
    let store = store(&env).await;
    let settings = env.settings();
    let problems = ProblemSettings::default();
    let ctx = context(store.as_ref(), &settings, &problems);
    let start = now_millis() - 20 * HOUR;
    // The usual: one login complaint every few hours.
    let usual: Vec<(Post, Embedding)> = (0..4)
        .map(|i| {
            (
                post(
                    &format!("u{i}"),
                    &format!("@usual{i}"),
                    "acme air login fails",
                    start + i * 3 * HOUR,
                ),
                topic(0, i as f32),
            )
        })
        .collect();
    complaints(&store, &usual).await;
    assert_eq!(group_new_complaints(&ctx, start + 12 * HOUR).await.unwrap().n_alerts, 0);

    // A burst: six in the last hour.
    let burst_at = start + 13 * HOUR;
    let burst: Vec<(Post, Embedding)> = (0..6)
        .map(|i| {
            (
                post(
                    &format!("b{i}"),
                    &format!("@burst{i}"),
                    "acme air app login broken again",
                    burst_at - i * 300_000,
                ),
                topic(0, 1.0 + i as f32),
            )
        })
        .collect();
    complaints(&store, &burst).await;
    let report = group_new_complaints(&ctx, burst_at).await.unwrap();
    assert_eq!(report.n_alerts, 1, "{report:?}");
    let alerts = store
        .recent_alerts("problem_growing", &BrandId::parse("acme").unwrap(), 10)
        .await
        .unwrap();
    let [
        AlertPayload::ProblemGrowing {
            count,
            total,
            link,
            examples,
            label,
            ..
        },
    ] = alerts.as_slice()
    else {
        panic!("one growing alert: {alerts:?}");
    };
    assert_eq!((*count, *total), (6, 10));
    assert!(label.contains("login"), "{label}");
    assert_eq!(examples.len(), 3);
    assert!(
        link.as_deref()
            .unwrap()
            .starts_with("https://earshot.example.com/?view=problems&problem="),
        "{link:?}"
    );

    // More of it within the cool-down: no second alert.
    let more: Vec<(Post, Embedding)> = (0..6)
        .map(|i| {
            (
                post(
                    &format!("c{i}"),
                    &format!("@more{i}"),
                    "acme air login fails for me too",
                    burst_at + HOUR - i * 60_000,
                ),
                topic(0, 2.0),
            )
        })
        .collect();
    complaints(&store, &more).await;
    assert_eq!(
        group_new_complaints(&ctx, burst_at + HOUR).await.unwrap().n_alerts,
        0,
        "cooling down"
    );

    // After the cool-down, a new burst alerts again.
    let later = burst_at + 8 * HOUR;
    let again: Vec<(Post, Embedding)> = (0..8)
        .map(|i| {
            (
                post(
                    &format!("d{i}"),
                    &format!("@again{i}"),
                    "acme air login down again",
                    later - i * 60_000,
                ),
                topic(0, 3.0),
            )
        })
        .collect();
    complaints(&store, &again).await;
    assert_eq!(group_new_complaints(&ctx, later).await.unwrap().n_alerts, 1);
    assert_eq!(
        store
            .recent_alerts("problem_growing", &BrandId::parse("acme").unwrap(), 10)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// Thirty real complaints about two causes and a few unrelated ones, scored by the shipped
/// model: the jobs form one problem per cause, named by its words.
#[tokio::test]
async fn the_shipped_model_groups_two_causes_into_two_problems_with_their_words() {
    let env = TestEnv::new();
    let logins = [
        "@AcmeAir your app won't let me log in, keeps saying invalid password",
        "Can't log into the Acme Air app since this morning, login just spins",
        "acme air app login broken again, error every time I try to sign in",
        "@AcmeAir the app logs me out and then the login fails, fix it",
        "Trying to check in but the Acme Air app login keeps failing",
        "acme air why does your app say login error when my password is right",
        "@AcmeAir login on the app is down? can't access my booking",
        "The acme air app won't log me in. Reset my password twice, still fails",
        "acme air app: login failed, please try again later. For 3 hours now",
        "@AcmeAir stuck on the login screen of your app, cannot sign in",
        "Acme Air app sign in not working at all today, login error 500",
        "acme air cannot log in to the app to get my boarding pass",
        "@AcmeAir app login loop, enter password and it sends me back to login",
        "is the acme air app login down for everyone or just me? can't sign in",
        "acme air your app keeps rejecting my login, so frustrating",
    ];
    let refunds = [
        "@AcmeAir still no refund for my cancelled flight after 6 weeks",
        "acme air where is my refund? flight was cancelled in March",
        "Acme Air promised a refund in 7 days, it's been a month. Nothing.",
        "@AcmeAir I want my money back for the cancelled flight, refund now",
        "acme air refund request ignored again, cancelled flight, no money",
        "Still waiting on my Acme Air refund, they keep saying it's processing",
        "@AcmeAir refund for booking ABC123 never arrived, cancelled flight",
        "acme air took my money for a cancelled flight and won't refund it",
        "Acme Air customer service says refund approved but no money after weeks",
        "@AcmeAir how long does a refund take? cancelled flight 40 days ago",
        "acme air refund still pending, cancelled flight, this is theft",
        "My acme air refund has disappeared, nobody answers about my money",
        "@AcmeAir give me my refund, you cancelled the flight not me",
        "acme air cancelled my flight and I still haven't got the refund",
        "Acme Air refund is a joke, cancelled flight and weeks of waiting",
    ];
    let noise = [
        "@AcmeAir the seat was tiny and the pretzels were stale",
        "acme air crew was rude to my grandmother at the gate",
        "Acme Air wifi on board did not work the whole flight",
        "@AcmeAir my headphones were broken on the long haul",
    ];
    let now = now_millis();
    let lines: Vec<String> = logins
        .iter()
        .chain(&refunds)
        .chain(&noise)
        .enumerate()
        .map(|(i, text)| {
            json!({
                "platform": "x", "id": format!("p{i}"), "author": format!("@cust{i}"), "text": text,
                "created_at": chrono::DateTime::from_timestamp_millis(now - 3 * HOUR + i as i64 * 60_000).unwrap().to_rfc3339(),
            })
            .to_string()
        })
        .collect();
    env.append("acme-feed", &lines);
    let settings = env
        .config()
        .scorer("model")
        .source_set("acme-feed", "batch_lines", 100)
        .settings();
    let settings = Arc::new(settings);
    let store = earshot::app::open_store(&settings).await.unwrap();
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/complaint-minilm-l6");
    let scorer = earshot::scoring::model::TransformerScorer::load(&model).unwrap();
    let pipeline = earshot::pipeline::Pipeline::new(
        store.clone(),
        earshot::scoring::ScoringService::start(Box::new(scorer), 2, 16),
        settings.clone(),
    );
    poll_feed(&pipeline, 1).await;
    let embedder = EmbeddingService::start(&settings.problems.model, 16).unwrap();
    let ctx = ProblemsContext {
        store: store.as_ref(),
        settings: &settings.problems,
        brands: &settings.brands,
        embedder: Some(&embedder),
        model: embedder.name(),
        holder: "test",
        public_url: None,
    };
    let report = group_new_complaints(&ctx, now).await.unwrap();
    assert!(report.n_grouped >= 30, "the complaints are grouped: {report:?}");
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM post_embeddings").await,
        i64::try_from(report.n_grouped).unwrap(),
        "each grouped post's vector is kept for the re-clustering"
    );
    recluster(&ctx, now).await.unwrap();

    let listed = store
        .list_problems(&ProblemFilter {
            min_complaints: 5,
            ..filter(now)
        })
        .await
        .unwrap();
    assert_eq!(listed.len(), 2, "{listed:#?}");
    let (login, refund) = if listed[0].label.contains("login") {
        (&listed[0], &listed[1])
    } else {
        (&listed[1], &listed[0])
    };
    assert!(login.label.contains("login"), "{listed:#?}");
    assert!(refund.label.contains("refund"), "{listed:#?}");
    assert!(login.n_complaints >= 12 && refund.n_complaints >= 12, "{listed:#?}");
    let members = |label: &str| {
        let env = &env;
        let label = label.to_owned();
        async move {
            let raw = env.raw().await;
            let rows: Vec<(String,)> = sqlx::query_as(
                "SELECT p.text FROM problem_members pm JOIN problems pr ON pr.id = pm.problem_id
                 JOIN mentions m ON m.id = pm.mention_id JOIN posts p ON p.id = m.post_id WHERE pr.label = $1",
            )
            .bind(label)
            .fetch_all(&raw)
            .await
            .unwrap();
            rows.into_iter().map(|(t,)| t).collect::<Vec<String>>()
        }
    };
    for text in members(&login.label).await {
        assert!(
            !text.contains("refund"),
            "a refund complaint in the login problem: {text}"
        );
    }
    for text in members(&refund.label).await {
        assert!(!text.contains("log"), "a login complaint in the refund problem: {text}");
    }
}

/// The API: problems listed and changed by leads only, the known-issue message offered in
/// every task of the problem, and the bulk answer queuing one reply per task through the
/// reply path (skipping, with the reason, what that path refuses).
#[tokio::test]
async fn leads_write_the_known_issue_message_and_answer_the_problem_in_bulk() {
    let env = TestEnv::new();
    let (store, settings, tasks) = problem_with_tasks(&env).await;
    let app = TestApp::new(&store, &settings);
    let ann = app.login("ann").await;
    let lee = app.login("lee").await;

    let (status, listed) = ann.get("/api/problems").await;
    assert_eq!(status, StatusCode::OK);
    let problem = &listed["problems"][0];
    let id = problem["id"].as_i64().unwrap();
    assert_eq!(problem["n_unanswered"], tasks.len());
    assert!(problem["label"].as_str().unwrap().contains("login"), "{problem}");

    let message = json!({ "message": "Sorry {author}: the app login is failing since 07:10, a fix is due by noon.", "status": "acknowledged" });
    assert_eq!(
        send(&ann, "PATCH", &format!("/api/problems/{id}"), message.clone())
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, body) = send(
        &lee,
        "PATCH",
        &format!("/api/problems/{id}"),
        json!({ "message": "Hi {nobody}" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, saved) = send(&lee, "PATCH", &format!("/api/problems/{id}"), message).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    assert_eq!(saved["status"], "acknowledged");

    let (_, detail) = ann.get(&format!("/api/tasks/{}", tasks[0])).await;
    assert_eq!(detail["problem"]["id"], id);
    let author = detail["task"]["author_handle"].as_str().unwrap();
    assert_eq!(
        detail["problem"]["reply_text"],
        format!("Sorry {author}: the app login is failing since 07:10, a fix is due by noon.")
    );

    assert_eq!(
        send(&ann, "POST", &format!("/api/problems/{id}/answer"), json!({}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, answered) = send(&lee, "POST", &format!("/api/problems/{id}/answer"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{answered}");
    let queued = answered["queued"].as_array().unwrap();
    let skipped = answered["skipped"].as_array().unwrap();
    assert_eq!(queued.len(), tasks.len() - 1, "{answered}");
    assert_eq!(skipped.len(), 1, "{answered}");
    assert!(
        skipped[0]["reason"]
            .as_str()
            .unwrap()
            .contains("no reddit reply account"),
        "{answered}"
    );
    for reply in queued {
        let task_id = reply["task_id"].as_i64().unwrap();
        let (_, replies) = lee.get(&format!("/api/tasks/{task_id}/replies")).await;
        let rows = replies["replies"].as_array().unwrap();
        assert_eq!(rows.len(), 1, "one reply per task: {replies}");
        let (_, task) = lee.get(&format!("/api/tasks/{task_id}")).await;
        let author = task["task"]["author_handle"].as_str().unwrap();
        assert!(
            rows[0]["text"]
                .as_str()
                .unwrap()
                .starts_with(&format!("Sorry {author}:")),
            "{replies}"
        );
    }
    // Answering again queues nothing twice: a task with a reply waiting is refused.
    let (_, again) = send(&lee, "POST", &format!("/api/problems/{id}/answer"), json!({})).await;
    assert!(again["queued"].as_array().unwrap().is_empty(), "{again}");
}

async fn send(
    client: &crate::support::Client,
    method: &str,
    uri: &str,
    body: serde_json::Value,
) -> (StatusCode, serde_json::Value) {
    let (status, _, body) = client.send(method, uri, Some(body)).await;
    (status, body)
}

/// Mastodon tasks (a reply account) and one Reddit task (none) about one cause, grouped into
/// one problem; users ann (agent) and lee (lead).
async fn problem_with_tasks(env: &TestEnv) -> (Arc<dyn Store>, Arc<Settings>, Vec<TaskId>) {
    problem_with_tasks_at(env, "http://127.0.0.1:9").await
}

/// [`problem_with_tasks`] with the Mastodon reply account's API at `mastodon_url`.
pub(crate) async fn problem_with_tasks_at(
    env: &TestEnv,
    mastodon_url: &str,
) -> (Arc<dyn Store>, Arc<Settings>, Vec<TaskId>) {
    let now = now_millis();
    let mut lines: Vec<String> = (0..4)
        .map(|i| {
            json!({
                "platform": "mastodon", "id": format!("https://example.social/users/c{i}/statuses/{i}"),
                "author": format!("c{i}@example.social"),
                "text": format!("@AcmeAir the app login fails again, worst app ever, fix it {i}"),
                "created_at": chrono::DateTime::from_timestamp_millis(now - HOUR + i * 60_000).unwrap().to_rfc3339(),
                "url": format!("https://example.social/@c{i}/{i}"),
            })
            .to_string()
        })
        .collect();
    lines.push(
        json!({
            "platform": "reddit", "id": "t1_login", "author": "u/redditor",
            "text": "@AcmeAir app login fails again, worst app ever",
            "created_at": chrono::DateTime::from_timestamp_millis(now - HOUR).unwrap().to_rfc3339(),
        })
        .to_string(),
    );
    let config = crate::support::replies::config_with(env, crate::support::replies::mastodon_account(mastodon_url));
    let (store, settings) = crate::support::replies::filled(env, &config, &lines).await;
    let tasks: Vec<TaskId> = store
        .list_tasks(&earshot::store::TaskFilter {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(tasks.len(), 5, "every complaint opened a task");
    // Vectors as the embedding model would give them (one topic), stored ahead of the job.
    let raw = env.raw().await;
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT id FROM posts ORDER BY id")
        .fetch_all(&raw)
        .await
        .unwrap();
    let vectors: Vec<(PostId, Embedding)> = rows
        .iter()
        .enumerate()
        .map(|(i, (id,))| (PostId::new(*id), topic(0, i as f32)))
        .collect();
    store.save_embeddings(MODEL, &vectors).await.unwrap();
    let ctx = context(store.as_ref(), &settings, &settings.problems);
    let report = group_new_complaints(&ctx, now).await.unwrap();
    assert_eq!((report.n_grouped, report.n_new_problems), (5, 1), "{report:?}");
    (store, settings, tasks)
}

/// The weekly export lists the week's problems in `problems.csv` and the summary, and the chat
/// summary names the brand's biggest ones.
#[tokio::test]
async fn the_weekly_export_lists_the_weeks_problems_and_the_chat_summary_names_them() {
    use earshot::exports::{ExportFormat, ExportRequest, Exporter};
    let env = TestEnv::new();
    let store = store(&env).await;
    let settings = env.settings();
    let week: earshot::exports::week::IsoWeek = "2026-W47".parse().unwrap();
    let (start, _) = week.bounds(chrono_tz::UTC);
    let posts: Vec<(Post, Embedding)> = (0..5)
        .map(|i| {
            (
                post(
                    &format!("w{i}"),
                    &format!("@w{i}"),
                    "acme air refund never came",
                    start + 3 * HOUR + i * HOUR,
                ),
                topic(1, i as f32),
            )
        })
        .chain((0..3).map(|i| {
            (
                post(
                    &format!("v{i}"),
                    &format!("@v{i}"),
                    "acme air app login broken",
                    start + 4 * HOUR + i * HOUR,
                ),
                topic(2, i as f32),
            )
        }))
        .collect();
    complaints(&store, &posts).await;
    sqlx::query("UPDATE mentions SET assessed = 1")
        .execute(&env.raw().await)
        .await
        .unwrap();
    let problems = ProblemSettings {
        window_days: 90,
        ..ProblemSettings::default()
    };
    let report = group_new_complaints(&context(store.as_ref(), &settings, &problems), now_millis())
        .await
        .unwrap();
    assert_eq!((report.n_grouped, report.n_new_problems), (8, 2), "{report:?}");

    let mut exports = settings.exports.clone();
    exports.dir = env.path().join("exports");
    let exporter = Exporter::new(store.clone(), &exports)
        .unwrap()
        .with_problem_min_complaints(3);
    let request = ExportRequest {
        week,
        brand: None,
        format: ExportFormat::Csv,
        trigger: earshot::store::ExportTrigger::Manual,
    };
    let outcome = exporter.export_week(&request, &|_| {}).await.unwrap().unwrap();
    let table = std::fs::read_to_string(exporter.dir().join(outcome.files.last().unwrap())).unwrap();
    let lines: Vec<&str> = table.trim_start_matches('\u{feff}').trim_end().split("\r\n").collect();
    assert_eq!(
        lines.len(),
        3,
        "a header and two problems, most complaints first: {table}"
    );
    assert!(
        lines[1].starts_with("\"acme\",") && lines[1].contains("refund") && lines[1].contains(",\"new\",5,"),
        "{table}"
    );
    assert!(lines[2].contains("login") && lines[2].contains(",3,"), "{table}");
    assert_eq!(outcome.summary.problems.len(), 2);
    let chat = earshot::exports::announce::weekly_report(&outcome.summary, None, &[]);
    let acme = chat.brands.iter().find(|b| b.brand == "acme").unwrap();
    assert_eq!(acme.top_problems.len(), 2);
    assert!(
        acme.top_problems[0].contains("refund") && acme.top_problems[0].contains("(5 complaints, 0 unanswered)"),
        "{:?}",
        acme.top_problems
    );
    let facts = earshot::alerts::weekly::brand_facts(acme);
    assert!(
        facts
            .iter()
            .any(|(label, value)| *label == "Top problems" && value.contains("refund")),
        "{facts:?}"
    );
}
