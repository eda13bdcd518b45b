//! The JSON API through the router, on a store filled by the real pipeline.

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

use earshot::domain::SourceId;
use earshot::sources::jsonl::JsonlSource;
use earshot::web::{AppState, router};

use crate::support::{TestEnv, line};

/// A machine token the tests authenticate with (the API needs a session or a token).
const TOKEN: &str = "web-tests-token-0123456789abcdef";

async fn filled_app(env: &TestEnv) -> axum::Router {
    env.append(
        "acme-feed",
        &[
            line(
                "1",
                "@jo",
                "@AcmeAir lost my bag <script>alert(1)</script>, worst airline, refund now",
            ),
            line("2", "@kim", "Acme Air crew were great, thanks"),
        ],
    );
    let pipeline = env.pipeline().await;
    let settings = env.settings();
    let source = settings.source(&SourceId::parse("acme-feed").unwrap()).unwrap();
    let earshot::sources::SourceKind::Jsonl(jsonl) = &source.kind else {
        panic!("acme-feed is a jsonl source");
    };
    pipeline
        .poll_source(&JsonlSource::new(source.id.clone(), jsonl.clone()))
        .await
        .unwrap();
    pipeline.score_pending().await.unwrap();
    pipeline
        .store()
        .create_api_token(
            &earshot::auth::token_hash(TOKEN),
            "web-tests",
            earshot::auth::Role::Agent,
            earshot::domain::now_millis(),
        )
        .await
        .unwrap();
    router(AppState {
        store: pipeline.store().clone(),
        settings: pipeline.settings().clone(),
    })
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, axum::http::HeaderMap, serde_json::Value) {
    let response = app
        .clone()
        .oneshot(
            Request::get(uri)
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
    (status, headers, json)
}

async fn the_queue_lists_active_tasks_and_a_task_shows_why_it_was_flagged(env: TestEnv) {
    let app = filled_app(&env).await;

    let (status, _, tasks) = get(&app, "/api/tasks?status=active").await;

    assert_eq!(status, StatusCode::OK);
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["author_handle"], "@jo");
    let text = tasks[0]["latest_text"].as_str().unwrap();
    assert!(
        text.contains("<script>alert(1)</script>"),
        "text is stored and served verbatim, as data: {text}"
    );

    let id = tasks[0]["id"].as_i64().unwrap();
    let (status, _, detail) = get(&app, &format!("/api/tasks/{id}")).await;

    assert_eq!(status, StatusCode::OK);
    let factors = detail["posts"][0]["factors"].as_array().unwrap();
    let names: Vec<&str> = factors.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"negative_sentiment") && names.contains(&"complaint_cue"),
        "{names:?}"
    );
    assert_eq!(detail["events"][0]["kind"], "opened");
}

async fn bad_filters_are_400_and_missing_tasks_404(env: TestEnv) {
    let app = filled_app(&env).await;

    let (bad_status, _, body) = get(&app, "/api/tasks?status=sleeping").await;
    let (missing, _, _) = get(&app, "/api/tasks/999999").await;
    let (unknown_param, _, _) = get(&app, "/api/tasks?colour=red").await;

    assert_eq!(bad_status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("sleeping"));
    assert_eq!(missing, StatusCode::NOT_FOUND);
    assert_eq!(unknown_param, StatusCode::BAD_REQUEST);
}

async fn pages_carry_a_content_security_policy_that_forbids_inline_script(env: TestEnv) {
    let app = filled_app(&env).await;

    let response = app
        .clone()
        .oneshot(
            Request::get("/")
                .header("authorization", format!("Bearer {TOKEN}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();

    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let page = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(!page.contains("innerHTML"));
    for script in [
        include_str!("../../src/web/assets/app.js"),
        include_str!("../../src/web/assets/login.js"),
    ] {
        assert!(
            !script.contains("innerHTML")
                && !script.contains("insertAdjacentHTML")
                && !script.contains("document.write")
                && !script.contains("eval(")
        );
    }
}

async fn stats_count_what_the_pipeline_stored(env: TestEnv) {
    let app = filled_app(&env).await;

    let (_, _, stats) = get(&app, "/api/stats").await;
    let (_, _, sources) = get(&app, "/api/sources").await;

    assert_eq!(stats["mentions"], 2);
    assert_eq!(stats["tasks_active"], 1);
    assert_eq!(stats["pending"], 0);
    let feed = sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "acme-feed")
        .unwrap();
    assert_eq!(feed["total_new"], 2);
}

crate::support::on_both_backends!(
    the_queue_lists_active_tasks_and_a_task_shows_why_it_was_flagged,
    bad_filters_are_400_and_missing_tasks_404,
    pages_carry_a_content_security_policy_that_forbids_inline_script,
    stats_count_what_the_pipeline_stored,
);
