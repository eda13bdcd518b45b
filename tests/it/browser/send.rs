//! Sending a reply from the queue in the browser: write it, see it counted in the platform's
//! limit and the account it posts as, send it with Ctrl+Enter (which claims the task), watch
//! it go from queued to sent, follow the link to the published reply, and see the account's
//! health.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::queue::{click, log_in};
use super::{Browser, wait_for, wait_for_text};
use crate::support::TestApp;
use crate::support::TestEnv;
use crate::support::replies::{config_with, filled, mastodon_account, only_task, post_on, sender};

/// A Mastodon API on loopback that finds the post to answer and accepts exactly
/// `expected_replies` replies (checked when the server is dropped).
pub(super) async fn mastodon_reply_server(expected_replies: u64) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "statuses": [{"id": "109876543210987654", "visibility": "public"}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "110123456789012345", "in_reply_to_id": "109876543210987654",
            "url": "https://brand.social/@acme/110123456789012345"
        })))
        .expect(expected_replies)
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_writes_previews_sends_and_sees_the_link_to_the_published_reply() {
    let server = mastodon_reply_server(1).await;
    let env = TestEnv::new();
    let lines = vec![post_on(
        "mastodon",
        "https://example.social/users/jo/statuses/1",
        "jo@example.social",
        "https://example.social/@jo/1",
        None,
    )];
    let (store, settings) = filled(&env, &config_with(&env, mastodon_account(&server.uri())), &lines).await;
    let task_id = only_task(&store).await;
    let site = TestApp::new(&store, &settings);
    let worker = sender(&store, &settings);
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "ann", "agent").await;
            click(&client, &format!("#tasks tr[data-id=\"{task_id}\"] td.text")).await;
            wait_for_text(&client, "#reply-account", "posts as the brand account on").await;

            // Write: counted as Mastodon counts (@user@server as @user), against its limit.
            let text = "@jo@example.social So sorry about your bag, we are on it.";
            client.find("#reply-text").await.unwrap().send_keys(text).await.unwrap();
            wait_for_text(&client, "#reply-count", "/ 500 graphemes").await;
            let counted = wait_for_text(&client, "#reply-count", "42 / 500").await;
            assert!(counted.starts_with("42 "), "{counted}");
            assert!(client.find("#send-reply").await.unwrap().is_displayed().await.unwrap());

            // Ctrl+Enter sends: the reply is queued and the task is claimed by the sender.
            client
                .find("#reply-text")
                .await
                .unwrap()
                .send_keys("\u{E009}\u{E007}\u{E000}")
                .await
                .unwrap();
            wait_for_text(&client, "#flash", "reply queued").await;
            wait_for_text(&client, "#replies", "queued").await;
            wait_for_text(&client, ".task-state", "assignee ann").await;

            // The reply worker publishes it; the thread shows it sent with the link.
            let report = worker.send_due(earshot::domain::now_millis()).await.unwrap();
            assert_eq!(report.n_sent, 1, "{report:?}");
            wait_for_text(&client, "#replies", "sent").await;
            let href = wait_for("the link to the published reply", || async {
                let link = client.find("#replies a").await.map_err(|e| e.to_string())?;
                link.attr("href").await.map_err(|e| e.to_string())
            })
            .await;
            assert_eq!(href, "https://brand.social/@acme/110123456789012345");
            wait_for_text(&client, "#replies", text).await;
            wait_for_text(&client, &format!("#tasks tr[data-id=\"{task_id}\"] td.sla-cell"), "✓ ").await;

            // The account's health, beside the sources': it worked.
            click(&client, "button[data-view=sources]").await;
            let health = wait_for_text(&client, "#reply-accounts tr[data-account=\"acme/mastodon\"]", "ok").await;
            assert!(health.contains("the brand account on"), "{health}");
        })
        .await;
}
