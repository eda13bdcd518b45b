//! The reply worker on both backends against a loopback Mastodon: a reply is published once
//! and becomes the task's first response at the platform's time; a kill -9 between the send
//! and its record, a 429 and a storm of 5xx answers delay it but never duplicate it; a
//! revoked token fails it with a clear reason on the task and in the account's health.

use serde_json::json;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::support::replies::{filled, only_task, post_on, queue, sender};
use crate::support::{TestEnv, on_both_backends};

const STATUS_URI: &str = "https://example.social/users/jo/statuses/1";
const PARENT_ID: &str = "109876543210987654";

fn complaint() -> Vec<String> {
    vec![post_on(
        "mastodon",
        STATUS_URI,
        "jo@example.social",
        "https://example.social/@jo/1",
        None,
    )]
}

/// The lookups every Mastodon send makes; `published` is what the account's timeline shows.
async fn mount_reads(server: &MockServer, published: serde_json::Value) {
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "statuses": [{"id": PARENT_ID, "visibility": "public", "uri": STATUS_URI}]
        })))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/verify_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "42", "acct": "acme"})))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/42/statuses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(published))
        .mount(server)
        .await;
}

fn created() -> serde_json::Value {
    json!({"id": "110123456789012345", "in_reply_to_id": PARENT_ID,
           "url": "https://brand.social/@acme/110123456789012345",
           "uri": "https://brand.social/users/acme/statuses/110123456789012345"})
}

async fn posts_to_statuses(server: &MockServer) -> Vec<Request> {
    server
        .received_requests()
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.method.as_str() == "POST" && r.url.path() == "/api/v1/statuses")
        .collect()
}

async fn a_reply_is_published_once_and_is_the_first_response_at_the_platforms_time(env: TestEnv) {
    let server = env.platform().await;
    mount_reads(server, json!([])).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(created()))
        .expect(1)
        .mount(server)
        .await;
    let (store, settings) = filled(&env, &env.config_with_mastodon_replies().await, &complaint()).await;
    let task_id = only_task(&store).await;
    let reply_id = queue(&store, &settings, task_id, "Sorry! DM us?", true).await;
    let queued = store.task_detail(task_id).await.unwrap().task;
    assert_eq!(
        (queued.assignee.as_deref(), queued.first_response_at_ms),
        (Some("ann"), None),
        "sending claimed the task; queued is not a response yet"
    );
    let before = earshot::domain::now_millis();

    let report = sender(&store, &settings)
        .send_due(earshot::domain::now_millis())
        .await
        .unwrap();
    let again = sender(&store, &settings)
        .send_due(earshot::domain::now_millis())
        .await
        .unwrap();

    assert_eq!((report.n_claimed, report.n_sent), (1, 1), "{report:?}");
    assert_eq!(again.n_claimed, 0, "nothing left to send");
    let reply = store.reply(reply_id).await.unwrap();
    assert_eq!(reply.status, "sent");
    assert_eq!(
        reply.url.as_deref(),
        Some("https://brand.social/@acme/110123456789012345")
    );
    let task = store.task_detail(task_id).await.unwrap();
    assert_eq!(task.task.status.as_str(), "resolved", "Send & resolve");
    let first = task.task.first_response_at_ms.unwrap();
    assert!(
        first >= before && first == reply.sent_at_ms.unwrap(),
        "the platform's acceptance"
    );
    assert!(task.events.iter().any(|e| e.kind == "reply_sent"), "{:?}", task.events);
    let key = posts_to_statuses(server).await[0].headers["idempotency-key"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(key, reply.idempotency_key);
}

async fn a_429_waits_for_the_reset_and_a_5xx_storm_retries_with_one_key_without_duplicates(env: TestEnv) {
    let server = env.platform().await;
    mount_reads(server, json!([])).await;
    let reset = chrono::Utc::now() + chrono::Duration::seconds(120);
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-reset", reset.to_rfc3339().as_str())
                .set_body_json(json!({"error": "Too many requests"})),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(3)
        .with_priority(2)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(created()))
        .with_priority(3)
        .mount(server)
        .await;
    let (store, settings) = filled(&env, &env.config_with_mastodon_replies().await, &complaint()).await;
    let task_id = only_task(&store).await;
    let reply_id = queue(&store, &settings, task_id, "Sorry!", false).await;
    let worker = sender(&store, &settings);

    // The 429: not sent, and not due again before the reset.
    let now = earshot::domain::now_millis();
    worker.send_due(now).await.unwrap();
    let limited = store.reply(reply_id).await.unwrap();
    assert_eq!((limited.status.as_str(), limited.in_doubt), ("queued", false));
    assert!(
        limited.next_attempt_at_ms >= reset.timestamp_millis() - 2_000,
        "waits for X-RateLimit-Reset"
    );
    assert_eq!(
        worker.send_due(now + 1_000).await.unwrap().n_claimed,
        0,
        "not before the reset"
    );

    // Three 503s: each leaves the reply in doubt, so the next attempt looks first.
    let mut at = limited.next_attempt_at_ms;
    for _ in 0..3 {
        let report = worker.send_due(at).await.unwrap();
        assert_eq!(report.n_retrying, 1, "{report:?}");
        let row = store.reply(reply_id).await.unwrap();
        assert!(row.in_doubt && row.error.as_deref().unwrap().contains("503"), "{row:?}");
        at = row.next_attempt_at_ms;
    }
    let report = worker.send_due(at).await.unwrap();

    assert_eq!(report.n_sent, 1, "{report:?}");
    let reply = store.reply(reply_id).await.unwrap();
    assert_eq!((reply.status.as_str(), reply.attempts), ("sent", 5));
    let posts = posts_to_statuses(server).await;
    assert_eq!(posts.len(), 5, "one 429, three 503s, one success");
    assert!(
        posts
            .iter()
            .all(|p| p.headers["idempotency-key"] == reply.idempotency_key.as_str()),
        "every attempt carries the same key, so the instance creates one status"
    );
    let lookups = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path() == "/api/v1/accounts/42/statuses")
        .count();
    assert_eq!(
        lookups, 3,
        "after each uncertain 503 the timeline was checked before sending again"
    );
}

async fn a_revoked_token_fails_the_reply_with_the_reason_on_the_task_and_the_account(env: TestEnv) {
    let server = env.platform().await;
    mount_reads(server, json!([])).await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(header("authorization", "Bearer mastodon-token-1"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "The access token was revoked"})))
        .mount(server)
        .await;
    let (store, settings) = filled(&env, &env.config_with_mastodon_replies().await, &complaint()).await;
    let task_id = only_task(&store).await;
    let reply_id = queue(&store, &settings, task_id, "Sorry!", false).await;

    let report = sender(&store, &settings)
        .send_due(earshot::domain::now_millis())
        .await
        .unwrap();

    assert_eq!(report.n_failed, 1, "{report:?}");
    let reply = store.reply(reply_id).await.unwrap();
    assert_eq!(reply.status, "failed");
    assert_eq!(reply.error_kind.as_deref(), Some("unauthorized"));
    assert!(
        reply.error.as_deref().unwrap().contains("The access token was revoked"),
        "{reply:?}"
    );
    assert!(!reply.error.as_deref().unwrap().contains("mastodon-token-1"));
    let task = store.task_detail(task_id).await.unwrap();
    assert!(
        task.task.first_response_at_ms.is_none(),
        "a failed reply is no response"
    );
    assert!(task.events.iter().any(|e| e.kind == "reply_failed"));
    let health = store.account_health().await.unwrap();
    assert_eq!(health[0].account, "acme/mastodon");
    assert!(
        health[0].last_error.as_deref().unwrap().contains("revoked"),
        "{health:?}"
    );

    // Retry: queued again with the same key; still refused, still one failure on record.
    store
        .retry_reply(reply_id, "ann", earshot::domain::now_millis())
        .await
        .unwrap();
    assert_eq!(store.reply(reply_id).await.unwrap().status, "queued");
    sender(&store, &settings)
        .send_due(earshot::domain::now_millis())
        .await
        .unwrap();
    assert_eq!(store.reply(reply_id).await.unwrap().status, "failed");
}

/// A reply left in doubt (its send's outcome unknown) whose lookup is refused: it is not sent
/// blind; it fails with the reason and stays in doubt, so a Retry looks again first.
async fn an_in_doubt_reply_is_never_sent_blind_when_the_lookup_is_refused(env: TestEnv) {
    let server = env.platform().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "The access token is invalid"})))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(created()))
        .expect(0)
        .mount(server)
        .await;
    let (store, settings) = filled(&env, &env.config_with_mastodon_replies().await, &complaint()).await;
    let task_id = only_task(&store).await;
    let reply_id = queue(&store, &settings, task_id, "Sorry!", false).await;
    // As a crash between the send and its record leaves it.
    sqlx::query("UPDATE replies SET in_doubt = 1, attempts = 1")
        .execute(&env.raw().await)
        .await
        .unwrap();

    let report = sender(&store, &settings)
        .send_due(earshot::domain::now_millis())
        .await
        .unwrap();

    assert_eq!(report.n_failed, 1, "{report:?}");
    let reply = store.reply(reply_id).await.unwrap();
    assert_eq!((reply.status.as_str(), reply.in_doubt), ("failed", true));
    assert!(
        reply.error.as_deref().unwrap().contains("The access token is invalid"),
        "{reply:?}"
    );
}

on_both_backends!(
    an_in_doubt_reply_is_never_sent_blind_when_the_lookup_is_refused,
    a_reply_is_published_once_and_is_the_first_response_at_the_platforms_time,
    a_429_waits_for_the_reset_and_a_5xx_storm_retries_with_one_key_without_duplicates,
    a_revoked_token_fails_the_reply_with_the_reason_on_the_task_and_the_account,
);

#[cfg(feature = "failpoints")]
mod crash {
    use super::*;

    fn replies_send(config: &std::path::Path, failpoint: Option<&str>) -> std::process::Output {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_earshot"));
        command
            .env_remove("EARSHOT_DATABASE_URL")
            .env("RUST_LOG", "warn")
            .env("EARSHOT_INSTANCE_ID", "crash-tests")
            .arg("--config")
            .arg(config)
            .args(["replies", "send"]);
        if let Some(failpoint) = failpoint {
            command.env("FAILPOINTS", format!("{failpoint}=return"));
        }
        command.output().unwrap()
    }

    /// The process dies after the platform accepted the reply and before earshot recorded
    /// it. The next run finds the reply on the account's timeline and records it: the
    /// platform saw exactly one post.
    async fn a_kill_between_the_send_and_its_record_still_publishes_exactly_once(env: TestEnv) {
        let server = env.platform().await;
        mount_reads(server, json!([created()])).await;
        Mock::given(method("POST"))
            .and(path("/api/v1/statuses"))
            .respond_with(ResponseTemplate::new(200).set_body_json(created()))
            .expect(1)
            .mount(server)
            .await;
        let config = env.config_with_mastodon_replies().await;
        let (store, settings) = filled(&env, &config, &complaint()).await;
        let task_id = only_task(&store).await;
        let reply_id = queue(&store, &settings, task_id, "Sorry!", false).await;
        let config_path = env.path().join("earshot.toml");

        let crashed = replies_send(&config_path, Some("replies::after_publish"));
        let in_doubt = store.reply(reply_id).await.unwrap();
        let rerun = replies_send(&config_path, None);

        assert!(!crashed.status.success(), "the process died at the fail point");
        assert_eq!((in_doubt.status.as_str(), in_doubt.in_doubt), ("queued", true));
        assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
        let stdout = String::from_utf8_lossy(&rerun.stdout);
        assert!(
            stdout.contains("\"n_found\":1") && stdout.contains("\"n_sent\":0"),
            "{stdout}"
        );
        let reply = store.reply(reply_id).await.unwrap();
        assert_eq!(reply.status, "sent");
        assert_eq!(reply.external_id.as_deref(), Some("110123456789012345"));
        assert_eq!(
            posts_to_statuses(server).await.len(),
            1,
            "exactly one post reached the platform"
        );
        let task = store.task_detail(task_id).await.unwrap().task;
        assert_eq!(task.status.as_str(), "responded");
    }

    on_both_backends!(a_kill_between_the_send_and_its_record_still_publishes_exactly_once);
}
