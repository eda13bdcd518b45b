//! Personal data on both backends: one author erased through the API (their posts, tasks'
//! texts, alerts and examples blanked; counts and other people untouched; an audit row
//! without the handle), and the retention window deleting old posts no task holds.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::json;

use earshot::auth::Role;
use earshot::domain::{PostId, TaskId, now_millis};
use earshot::store::Store;

use crate::support::{TestApp, TestEnv, line, on_both_backends, poll_feed};

const COMPLAINT: &str = "@AcmeAir lost my bag and the refund never came, worst airline, never again";

async fn filled(env: &TestEnv) -> (Arc<dyn Store>, Arc<earshot::config::Settings>) {
    env.append(
        "acme-feed",
        &[
            line("1", "@Jo_Smith", COMPLAINT),
            line("2", "@kim", "Acme Air crew were great, thanks for the smooth flight"),
            line("3", "@Jo_Smith", "Acme Air still has not answered, day three"),
            line("4", "@lee", "Flying Acme Air to Oslo tomorrow"),
        ],
    );
    let pipeline = env.pipeline().await;
    poll_feed(&pipeline, 1).await;
    (pipeline.store().clone(), pipeline.settings().clone())
}

async fn an_erased_author_leaves_counts_but_nothing_that_identifies_them(env: TestEnv) {
    let (store, settings) = filled(&env).await;
    let task_id = TaskId::new(env.scalar_of("SELECT MIN(id) FROM tasks").await);
    let post_id = PostId::new(env.scalar_of("SELECT id FROM posts WHERE external_id = '1'").await);
    store
        .relabel_post(task_id, post_id, "negative", "lee", now_millis())
        .await
        .unwrap();
    let posts_before = env.scalar_of("SELECT COUNT(*) FROM posts").await;
    let tasks_before = env.scalar_of("SELECT COUNT(*) FROM tasks").await;
    let app = TestApp::new(&store, &settings);
    let agent = app.bearer(Role::Agent).await;
    let admin = app.bearer(Role::Admin).await;

    let (refused, _) = agent
        .post_json("/api/privacy/erase", json!({ "platform": "x", "author": "@jo_smith" }))
        .await;
    let (status, erased) = admin
        .post_json("/api/privacy/erase", json!({ "platform": "x", "author": "@JO_SMITH" }))
        .await;

    assert_eq!(refused, StatusCode::FORBIDDEN);
    assert_eq!(status, StatusCode::OK, "{erased}");
    assert_eq!(erased, json!({ "n_posts": 2, "n_tasks": 1, "n_examples": 1 }));
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM posts").await,
        posts_before,
        "counts stay"
    );
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM tasks").await, tasks_before);
    let db = env.raw().await;
    let rows: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT author_handle, text, url FROM posts WHERE external_id IN ('1', '3') ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(
        rows,
        [
            ("[deleted]".to_owned(), String::new(), None),
            ("[deleted]".to_owned(), String::new(), None)
        ]
    );
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM posts WHERE author_handle = '@kim' AND text <> ''")
            .await,
        1,
        "other people are untouched"
    );
    let task_author: String = sqlx::query_scalar("SELECT author_handle FROM tasks WHERE id = $1")
        .bind(task_id)
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(task_author, "[deleted]");
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM labelled_examples").await, 0);
    let payloads: Vec<String> = sqlx::query_scalar("SELECT payload_json FROM alert_outbox WHERE task_id IS NOT NULL")
        .fetch_all(&db)
        .await
        .unwrap();
    assert!(!payloads.is_empty());
    for payload in &payloads {
        assert!(
            !payload.to_lowercase().contains("jo_smith") && !payload.contains("lost my bag"),
            "{payload}"
        );
    }
    let log: Vec<(String, Option<String>, String)> =
        sqlx::query_as("SELECT kind, subject_sha256, actor FROM privacy_log")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].0, "erase");
    assert_eq!(
        log[0].1.as_deref(),
        Some(earshot::auth::token_hash("@jo_smith").as_str())
    );
    assert_eq!(log[0].2, "token:tests-admin");
}

async fn retention_deletes_old_posts_that_no_task_holds(env: TestEnv) {
    let (store, _) = filled(&env).await;
    let posts_in_tasks = env
        .scalar_of(
            "SELECT COUNT(DISTINCT m.post_id) FROM mentions m JOIN assessments a ON a.mention_id = m.id
             WHERE a.task_id IS NOT NULL",
        )
        .await;
    let day = 24 * 3600 * 1000;

    let too_soon = earshot::pipeline::privacy::apply_retention(store.as_ref(), 35, now_millis() + 30 * day)
        .await
        .unwrap();
    let expired = earshot::pipeline::privacy::apply_retention(store.as_ref(), 35, now_millis() + 36 * day)
        .await
        .unwrap();
    let again = earshot::pipeline::privacy::apply_retention(store.as_ref(), 35, now_millis() + 36 * day)
        .await
        .unwrap();

    assert_eq!(too_soon, 0, "nothing is 35 days old yet");
    assert!(posts_in_tasks >= 1);
    assert_eq!(expired, 4 - posts_in_tasks as u64);
    assert_eq!(again, 0);
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM posts").await, posts_in_tasks);
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM mentions").await,
        posts_in_tasks,
        "mentions and their assessments went with their posts"
    );
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM assessments").await, posts_in_tasks);
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM privacy_log WHERE kind = 'retention'")
            .await,
        1
    );
}

on_both_backends!(
    an_erased_author_leaves_counts_but_nothing_that_identifies_them,
    retention_deletes_old_posts_that_no_task_holds,
);
