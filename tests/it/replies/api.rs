//! Sending from the queue's API through the router: the task's reply account and whether the
//! caller may send, the count in the platform's limit, "Send & resolve" queuing (and
//! claiming) once, the right to send, platforms without a write API, and Retry.

use serde_json::{Value, json};

use crate::support::replies::{config_with, filled, mastodon_account, only_task, post_on};
use crate::support::{TestApp, TestEnv};

fn mastodon_complaint() -> Vec<String> {
    vec![post_on(
        "mastodon",
        "https://example.social/users/jo/statuses/1",
        "jo@example.social",
        "https://example.social/@jo/1",
        None,
    )]
}

#[tokio::test]
async fn an_agent_sends_and_resolves_from_the_queue_and_the_reply_is_queued_once() {
    let env = TestEnv::new();
    let config = config_with(&env, mastodon_account("https://brand.social"));
    let (store, settings) = filled(&env, &config, &mastodon_complaint()).await;
    let app = TestApp::new(&store, &settings);
    let ann = app.login("ann").await;
    let bob = app.login("bob").await;
    let id = only_task(&store).await;

    let (status, info) = ann.get(&format!("/api/tasks/{id}/replies")).await;
    assert_eq!(status, 200, "{info}");
    assert_eq!(info["account"]["can_send"], true, "{info}");
    assert_eq!(info["account"]["posts_as"], "the brand account on https://brand.social");
    assert_eq!(
        (info["account"]["limit"].as_u64(), info["account"]["unit"].as_str()),
        (Some(500), Some("graphemes"))
    );

    let long = "x".repeat(501);
    let (status, _, check) = ann
        .send(
            "POST",
            &format!("/api/tasks/{id}/reply-check"),
            Some(json!({ "text": long })),
        )
        .await;
    assert_eq!(status, 200, "{check}");
    assert_eq!(
        (check["count"].as_u64(), check["fits"].as_bool()),
        (Some(501), Some(false)),
        "{check}"
    );
    assert!(check["problem"].as_str().unwrap().contains("remove 1"), "{check}");
    let (status, _, refused) = ann
        .send(
            "POST",
            &format!("/api/tasks/{id}/replies"),
            Some(json!({ "text": long })),
        )
        .await;
    assert_eq!(status, 400, "too long: {refused}");

    let (status, _, queued) = ann
        .send(
            "POST",
            &format!("/api/tasks/{id}/replies"),
            Some(json!({ "text": "@jo@example.social Sorry! DM us?", "resolve": true })),
        )
        .await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(
        (queued["status"].as_str(), queued["resolve_after"].as_bool()),
        (Some("queued"), Some(true))
    );
    let (_, task) = ann.get(&format!("/api/tasks/{id}")).await;
    assert_eq!(task["task"]["assignee"], "ann", "sending claimed the task");
    assert!(
        task["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "reply_queued")
    );

    let (status, _, twice) = ann
        .send(
            "POST",
            &format!("/api/tasks/{id}/replies"),
            Some(json!({ "text": "again" })),
        )
        .await;
    assert_eq!(status, 409, "one reply waits at a time: {twice}");
    let (status, _, not_hers) = bob
        .send(
            "POST",
            &format!("/api/tasks/{id}/replies"),
            Some(json!({ "text": "me too" })),
        )
        .await;
    assert_eq!(status, 403, "bob may not send on ann's task: {not_hers}");
    let (_, listed) = ann.get(&format!("/api/tasks/{id}/replies")).await;
    assert_eq!(listed["replies"].as_array().unwrap().len(), 1);
    assert!(
        listed["replies"][0].get("idempotency_key").is_none(),
        "the key stays inside"
    );
}

#[tokio::test]
async fn agents_without_the_right_cannot_send_and_platforms_without_a_write_api_say_so() {
    let env = TestEnv::new();
    let config = config_with(&env, mastodon_account("https://brand.social")).set("tasks", "send_role", "lead");
    let lines = vec![
        mastodon_complaint().remove(0),
        serde_json::json!({
            "platform": "hackernews", "id": "4242", "author": "pg",
            "text": "@AcmeAir lost my bag, worst airline ever, refund now",
            "created_at": chrono::Utc::now().to_rfc3339(), "url": "https://news.ycombinator.com/item?id=4242"
        })
        .to_string(),
    ];
    let (store, settings) = filled(&env, &config, &lines).await;
    let app = TestApp::new(&store, &settings);
    let ann = app.login("ann").await;
    let lee = app.login("lee").await;
    let tasks = store
        .list_tasks(&earshot::store::TaskFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    let on = |platform: &str| tasks.iter().find(|t| t.platform.as_str() == platform).unwrap().id;

    let (_, agent_view) = ann.get(&format!("/api/tasks/{}/replies", on("mastodon"))).await;
    let (status, _, agent_send) = ann
        .send(
            "POST",
            &format!("/api/tasks/{}/replies", on("mastodon")),
            Some(json!({ "text": "Sorry!" })),
        )
        .await;
    let (_, lead_view) = lee.get(&format!("/api/tasks/{}/replies", on("mastodon"))).await;
    let (_, hn_view) = lee.get(&format!("/api/tasks/{}/replies", on("hackernews"))).await;
    let (hn_status, _, _) = lee
        .send(
            "POST",
            &format!("/api/tasks/{}/replies", on("hackernews")),
            Some(json!({ "text": "Sorry!" })),
        )
        .await;

    assert_eq!(agent_view["account"]["can_send"], false);
    assert!(reason(&agent_view).contains("lead role"), "{agent_view}");
    assert_eq!(status, 409, "{agent_send}");
    assert_eq!(lead_view["account"]["can_send"], true, "{lead_view}");
    assert_eq!(hn_view["account"]["can_send"], false);
    assert!(reason(&hn_view).contains("no write API"), "{hn_view}");
    assert_eq!(hn_status, 409);
}

fn reason(view: &Value) -> String {
    view["account"]["reason"].as_str().unwrap_or_default().to_owned()
}
