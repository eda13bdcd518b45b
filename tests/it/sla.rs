//! The first-response SLA from the customer's post, through the real pipeline and store on
//! both backends: a post found late is due an SLA after it was written, a post dated in the
//! future starts the clock when earshot saw it, and tasks opened before migration 0016 get
//! their customer's post time.

use earshot::domain::Priority;

use crate::support::{TestEnv, on_both_backends, poll_feed};

const HOUR_MS: i64 = 3_600_000;

fn complaint_at(id: &str, author: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    serde_json::json!({
        "platform": "x",
        "id": id,
        "author": author,
        "text": "@AcmeAir lost my bag and the refund never came, worst airline, never again",
        "created_at": at.to_rfc3339(),
    })
    .to_string()
}

async fn ingest(env: &TestEnv, lines: &[String]) -> std::sync::Arc<earshot::pipeline::Pipeline> {
    env.append("acme-feed", lines);
    let pipeline = env.pipeline().await;
    poll_feed(&pipeline, 1).await;
    pipeline
}

async fn a_late_find_is_due_from_the_post_and_a_future_date_from_when_it_was_seen(env: TestEnv) {
    let now = chrono::Utc::now();
    let pipeline = ingest(
        &env,
        &[
            complaint_at("1", "@jo", now - chrono::Duration::hours(10)),
            complaint_at("2", "@kim", now + chrono::Duration::hours(5)),
        ],
    )
    .await;
    let tasks = pipeline
        .store()
        .list_tasks(&earshot::store::TaskFilter {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let sla_ms =
        |priority: Priority| i64::try_from(pipeline.settings().tasks.sla_secs.for_priority(priority)).unwrap() * 1000;
    let jo = tasks.iter().find(|t| t.author_handle == "@jo").expect("a task for @jo");
    assert_eq!(
        jo.sla_started_at_ms,
        (now - chrono::Duration::hours(10)).timestamp_millis()
    );
    assert_eq!(jo.due_at_ms, jo.sla_started_at_ms + sla_ms(jo.priority));
    assert!(
        jo.opened_at_ms - jo.sla_started_at_ms >= 10 * HOUR_MS,
        "waited ten hours already"
    );

    let kim = tasks
        .iter()
        .find(|t| t.author_handle == "@kim")
        .expect("a task for @kim");
    let seen: i64 = sqlx::query_scalar("SELECT first_seen_at_ms FROM posts WHERE external_id = '2'")
        .fetch_one(&env.raw().await)
        .await
        .unwrap();
    assert_eq!(kim.sla_started_at_ms, seen, "a skewed clock does not delay the SLA");
    assert!(kim.sla_started_at_ms <= kim.opened_at_ms);
    assert_eq!(kim.due_at_ms, seen + sla_ms(kim.priority));
}

/// A task opened by an earlier version: migration 0016 starts its clock at its opening post
/// (bounded by when that post was first seen), and leaves its due time alone.
async fn migration_0016_starts_old_tasks_clocks_at_their_opening_post(env: TestEnv) {
    let (raw, _) = env.migrated_before(16).await;
    env.execute_all(
        &raw,
        &[
            "INSERT INTO brands (id, name, threshold, settings_json, active, updated_at_ms) VALUES ('acme', 'Acme Air', 40, '{}', 1, 0)",
            "INSERT INTO sources (id, brand_id, kind, schedule, active, updated_at_ms) VALUES ('acme-feed', 'acme', 'jsonl', '', 1, 0)",
            // Post 7 was written at 1 000 and seen at 5 000; post 8, dated in the future, was seen
            // at 9 000. Task 5 opened from post 7 (and post 8 joined it); task 6 from post 8 only;
            // task 9 has no posts left.
            "INSERT INTO posts (id, platform, external_id, author_handle, text, created_at_ms, first_seen_at_ms)
                 VALUES (7, 'x', '1', '@jo', 'late', 1000, 5000)",
            "INSERT INTO posts (id, platform, external_id, author_handle, text, created_at_ms, first_seen_at_ms)
                 VALUES (8, 'x', '2', '@kim', 'skewed', 99000, 9000)",
            "INSERT INTO mentions (id, post_id, brand_id, source_id, found_at_ms, assessed) VALUES (3, 7, 'acme', 'acme-feed', 5000, 1)",
            "INSERT INTO mentions (id, post_id, brand_id, source_id, found_at_ms, assessed) VALUES (4, 8, 'acme', 'acme-feed', 9000, 1)",
            "INSERT INTO tasks (id, brand_id, platform, author_handle, status, priority, criticality, opened_at_ms, due_at_ms,
                                last_activity_at_ms, updated_at_ms)
                 VALUES (5, 'acme', 'x', '@jo', 'open', 2, 60, 6000, 20000, 6000, 6000)",
            "INSERT INTO tasks (id, brand_id, platform, author_handle, status, priority, criticality, opened_at_ms, due_at_ms,
                                last_activity_at_ms, updated_at_ms)
                 VALUES (6, 'acme', 'x', '@kim', 'open', 2, 60, 9500, 20000, 9500, 9500)",
            "INSERT INTO tasks (id, brand_id, platform, author_handle, status, priority, criticality, opened_at_ms, due_at_ms,
                                last_activity_at_ms, updated_at_ms)
                 VALUES (9, 'acme', 'x', '@lee', 'open', 2, 60, 7000, 20000, 7000, 7000)",
            "INSERT INTO assessments (mention_id, criticality, factors_json, flagged, task_id, assessed_at_ms)
                 VALUES (3, 60, '[]', 1, 5, 6000)",
            "INSERT INTO assessments (mention_id, criticality, factors_json, flagged, task_id, assessed_at_ms)
                 VALUES (4, 60, '[]', 1, 6, 9500)",
        ],
    )
    .await;

    earshot::app::open_store(&env.settings()).await.unwrap();
    let tasks: Vec<(i64, i64, i64)> = sqlx::query_as("SELECT id, sla_started_at_ms, due_at_ms FROM tasks ORDER BY id")
        .fetch_all(&raw)
        .await
        .unwrap();
    assert_eq!(
        tasks,
        [(5, 1000, 20000), (6, 9000, 20000), (9, 7000, 20000)],
        "the post's time, bounded by when it was seen; the open time without posts; due times kept"
    );
}

on_both_backends!(
    a_late_find_is_due_from_the_post_and_a_future_date_from_when_it_was_seen,
    migration_0016_starts_old_tasks_clocks_at_their_opening_post,
);
