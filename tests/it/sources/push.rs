//! `POST /api/ingest/{source_id}` through the real router and store: items committed like a
//! poll (idempotent on platform and id), bad items quarantined and reported, and the
//! statuses for auth, unknown sources, size and bodies that are not JSON.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};

use earshot::auth::{Role, new_token, token_hash};
use earshot::domain::now_millis;
use earshot::store::Store;

use crate::support::config::{brand, source};
use crate::support::{ConfigBuilder, Table, TestApp, TestEnv, api_bearer, on_both_backends};

/// The standard config with three push sources.
async fn app(env: &TestEnv) -> (TestApp, Arc<dyn Store>) {
    let settings = env
        .config()
        .source(source("reviews-push", "acme", "push").set("max_body_bytes", 2048))
        .source(
            source("all-push", "acme", "push")
                .set("platform", "reddit")
                .set("match_keywords", false),
        )
        .source(source("bulk-push", "acme", "push").set("max_body_bytes", 8_388_608))
        .settings();
    let app = TestApp::start(settings).await;
    let store = app.store.clone();
    (app, store)
}

/// `body` as it is posted to `uri`, with `authorization` (`Bearer …`) if given.
async fn push(
    app: &TestApp,
    uri: &str,
    authorization: Option<&str>,
    body: impl Into<reqwest::Body>,
) -> (StatusCode, Value) {
    let mut client = app.anonymous();
    client.bearer = authorization.map(|value| value.trim_start_matches("Bearer ").to_owned());
    client.post_raw(uri, body).await
}

fn post(id: &str, author: &str, text: &str) -> Value {
    json!({ "id": id, "author": author, "text": text, "created_at": "2026-11-20T10:00:00Z", "platform": "x" })
}

async fn pushed_items_are_committed_once_and_bad_ones_quarantined_and_reported(env: TestEnv) {
    let (app, store) = app(&env).await;
    let bearer = api_bearer(&store, Role::Ingest).await;
    let body = json!([
        post("p1", "@jo", "Acme Air lost my bag"),
        post("p2", "@AcmeAir", "Acme Air here, sorry about that"),
        post("p3", "@kim", "Nice weather today"),
        { "id": "p4", "author": "@max" },
    ])
    .to_string();

    let (status, first) = push(&app, "/api/ingest/reviews-push", Some(&bearer), body.clone()).await;
    let (retry_status, retry) = push(&app, "/api/ingest/reviews-push", Some(&bearer), body).await;

    assert_eq!(status, StatusCode::MULTI_STATUS, "{first}");
    assert_eq!(
        (
            &first["received"],
            &first["accepted"],
            &first["new"],
            &first["quarantined"],
            &first["skipped"]
        ),
        (&json!(4), &json!(1), &json!(1), &json!(1), &json!(2))
    );
    let statuses: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["own_post", "unrelated", "quarantined"],
        "items not accepted are listed"
    );
    assert_eq!(first["items"][2]["location"], "item 4");
    assert!(first["items"][2]["reason"].as_str().unwrap().contains("missing field"));
    assert_eq!(first["items_not_listed"], 0);
    assert_eq!(retry_status, StatusCode::MULTI_STATUS);
    assert_eq!((&retry["new"], &retry["duplicates"]), (&json!(0), &json!(1)), "{retry}");
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM posts").await, 1);
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM mentions WHERE source_id = 'reviews-push'")
            .await,
        1
    );
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM quarantine WHERE source_id = 'reviews-push'")
            .await,
        1,
        "a retried bad item is kept once"
    );
    let health = store.source_health().await.unwrap();
    let push_health = health.iter().find(|h| h.source == "reviews-push").unwrap();
    assert!(push_health.last_success_at_ms.is_some());

    // NDJSON, into a source that takes every post (no keyword needed), platform by default.
    let ndjson = format!(
        "{}\n{}\n",
        json!({ "id": 7, "author": "@ann", "text": "App crashes at login", "created_at": 1_795_165_200 }),
        json!({ "id": 8, "author": "@ann", "text": "Still crashing", "created_at": 1_795_165_300 })
    );
    let (status, summary) = push(&app, "/api/ingest/all-push", Some(&bearer), ndjson).await;
    assert_eq!(status, StatusCode::OK, "{summary}");
    assert_eq!((&summary["new"], &summary["quarantined"]), (&json!(2), &json!(0)));
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM posts WHERE platform = 'reddit'")
            .await,
        2
    );
}

/// A body of millions of tiny items is refused whole before it is held (413, nothing
/// stored), and the answer to a large body with many bad items stays bounded.
async fn item_counts_and_answers_are_bounded(env: TestEnv) {
    let (app, store) = app(&env).await;
    let bearer = api_bearer(&store, Role::Ingest).await;
    let flood = format!("[{}]", vec!["{}"; 2_000_000].join(","));

    let (status, refused) = push(&app, "/api/ingest/bulk-push", Some(&bearer), flood).await;

    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{refused}");
    assert!(
        refused["error"].as_str().unwrap().contains("more than 5000 items"),
        "{refused}"
    );
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM quarantine").await, 0);

    let mut items: Vec<serde_json::Value> = (0..150).map(|i| json!({ "id": format!("bad{i}") })).collect();
    items.push(post("ok", "@jo", "Acme Air lost my bag"));
    let (status, answer) = push(&app, "/api/ingest/bulk-push", Some(&bearer), json!(items).to_string()).await;

    assert_eq!(status, StatusCode::MULTI_STATUS);
    assert_eq!(
        (&answer["received"], &answer["new"], &answer["quarantined"]),
        (&json!(151), &json!(1), &json!(150))
    );
    assert_eq!(answer["items"].as_array().unwrap().len(), 100);
    assert_eq!(answer["items"][99]["location"], "item 100");
    assert_eq!(answer["items_not_listed"], 50);
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM quarantine").await,
        150,
        "every bad item is kept"
    );
}

on_both_backends!(
    pushed_items_are_committed_once_and_bad_ones_quarantined_and_reported,
    item_counts_and_answers_are_bounded
);

#[tokio::test]
async fn ingest_answers_401_403_404_413_and_400_and_ingest_tokens_reach_nothing_else() {
    let env = TestEnv::new();
    let (app, store) = app(&env).await;
    let ingest = api_bearer(&store, Role::Ingest).await;
    let agent_token = new_token();
    store
        .create_api_token(&token_hash(&agent_token), "agent-token", Role::Agent, now_millis())
        .await
        .unwrap();
    let agent = format!("Bearer {agent_token}");
    let one = json!([post("p1", "@jo", "Acme Air lost my bag")]).to_string();

    let cases = [
        ("/api/ingest/reviews-push", None, one.clone(), StatusCode::UNAUTHORIZED),
        (
            "/api/ingest/reviews-push",
            Some("Bearer wrong"),
            one.clone(),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "/api/ingest/reviews-push",
            Some(agent.as_str()),
            one.clone(),
            StatusCode::FORBIDDEN,
        ),
        (
            "/api/ingest/nope",
            Some(ingest.as_str()),
            one.clone(),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/ingest/acme-feed",
            Some(ingest.as_str()),
            one.clone(),
            StatusCode::NOT_FOUND,
        ),
        (
            "/api/ingest/reviews-push",
            Some(ingest.as_str()),
            format!(
                "[{}]",
                vec![post("big", "@jo", &"Acme Air ".repeat(40)).to_string(); 10].join(",")
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
        (
            "/api/ingest/reviews-push",
            Some(ingest.as_str()),
            "[{\"id\":".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/ingest/reviews-push",
            Some(ingest.as_str()),
            "id,text\n1,x".into(),
            StatusCode::BAD_REQUEST,
        ),
        (
            "/api/ingest/reviews-push",
            Some(ingest.as_str()),
            "".into(),
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (uri, bearer, body, expected) in cases {
        let (status, answer) = push(&app, uri, bearer, body).await;
        assert_eq!(status, expected, "{uri} {bearer:?}: {answer}");
    }
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM posts").await,
        0,
        "nothing stored by any of these"
    );

    let mut ingest_client = app.anonymous();
    ingest_client.bearer = Some(ingest.trim_start_matches("Bearer ").to_owned());
    assert_eq!(
        ingest_client.get("/api/tasks").await.0,
        StatusCode::FORBIDDEN,
        "an ingest token only ingests"
    );
}

#[test]
fn push_sources_take_no_schedule_and_polled_sources_need_one() {
    let problems = |only_source: Table| {
        ConfigBuilder::new()
            .brand(brand("acme", "Acme").set("keywords", vec!["acme"]))
            .source(only_source)
            .problems()
    };

    assert!(problems(source("p", "acme", "push")).is_empty());
    let scheduled_push = problems(source("p", "acme", "push").set("schedule", "0 * * * * *"));
    assert!(
        scheduled_push
            .iter()
            .any(|p| p.contains("sources[0].schedule") && p.contains("not polled")),
        "{scheduled_push:?}"
    );
    let unscheduled_feed = problems(source("f", "acme", "rss").set("url", "https://f.example/feed"));
    assert!(
        unscheduled_feed
            .iter()
            .any(|p| p.contains("sources[0].schedule") && p.contains("missing")),
        "{unscheduled_feed:?}"
    );
}
