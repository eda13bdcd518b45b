//! Alert delivery against loopback chat servers that speak each platform's format: payload
//! shapes and headers, 429/5xx/timeouts, a gone webhook disabling its channel, and a restart
//! in the middle of a delivery run delivering each alert exactly once. Alerts come from the
//! real pipeline; every test that touches the store runs on a SQLite file and on PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::matchers::{body_partial_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use earshot::alerts::channels::Webhook;
use earshot::alerts::{ChannelKind, ChannelSettings};
use earshot::domain::SourceId;
use earshot::pipeline::delivery::Deliverer;
use earshot::secret::Secret;
use earshot::store::Store;

use crate::support::chat::{HOSTILE, bodies, client, tasks};
use crate::support::config::{self, Table};
use crate::support::{TestApp, TestEnv, on_both_backends, scalar_any};

/// A fixed "now" after every alert the tests create (2030-03-17).
const NOW: i64 = 1_900_000_000_000;

fn deliverer(store: &Arc<dyn Store>, channels: &[ChannelSettings]) -> Deliverer {
    Deliverer::new(store.clone(), channels, &[], client(Duration::from_secs(5)))
}

async fn delivery_status(env: &TestEnv) -> Vec<(String, i64, Option<String>)> {
    let db = env.raw().await;
    sqlx::query_as("SELECT status, attempts, last_error FROM alert_deliveries ORDER BY id")
        .fetch_all(&db)
        .await
        .unwrap()
}

async fn slack_gets_block_kit_with_a_fallback_and_escaped_post_text(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .and(path("/services/T000/B000/XXXX"))
        .and(header("content-type", "application/json"))
        .and(body_partial_json(
            json!({"blocks": [{"type": "header", "text": {"type": "plain_text"}}]}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(server)
        .await;
    let slack = env
        .chat_channel("ops", ChannelKind::Slack {}, "/services/T000/B000/XXXX")
        .await;

    let report = deliverer(&store, &[slack]).deliver_due(NOW).await.unwrap();

    assert_eq!((report.n_routed, report.n_sent), (1, 1));
    let body = &bodies(server).await[0];
    assert!(body["text"].as_str().unwrap().starts_with("New "), "{body}");
    let quote = body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|block| block["type"] == "section" && block["text"]["type"] == "mrkdwn")
        .expect("a section with the post");
    let quote = quote["text"]["text"].as_str().unwrap();
    assert!(
        quote.contains("&lt;!channel&gt;") && quote.contains("&lt;@123&gt;") && quote.contains("&amp;"),
        "{quote}"
    );
    assert!(!quote.contains('<'), "no Slack control sequence survives: {quote}");
    assert_eq!(delivery_status(&env).await, vec![("sent".to_owned(), 1, None)]);
}

async fn teams_gets_an_adaptive_card_message(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .and(path("/workflows/abc/triggers/manual/paths/invoke"))
        .and(query_param("sig", "s3cret"))
        .and(body_partial_json(json!({
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive",
                             "content": {"type": "AdaptiveCard", "version": "1.4"}}]
        })))
        .respond_with(ResponseTemplate::new(202))
        .expect(1)
        .mount(server)
        .await;
    let teams = env
        .chat_channel(
            "teams",
            ChannelKind::Teams {},
            "/workflows/abc/triggers/manual/paths/invoke?sig=s3cret",
        )
        .await;

    let report = deliverer(&store, &[teams]).deliver_due(NOW).await.unwrap();

    assert_eq!(report.n_sent, 1);
    let body = &bodies(server).await[0];
    let card = &body["attachments"][0]["content"];
    assert_eq!(card["$schema"], "http://adaptivecards.io/schemas/adaptive-card.json");
    let texts: Vec<&str> = card["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|element| element["text"].as_str())
        .collect();
    let quote = texts.iter().find(|text| text.contains("lost my bag")).unwrap();
    assert!(quote.contains("\\[click\\](https://evil.example)"), "{quote}");
    assert!(card["body"][1]["type"] == "FactSet");
}

async fn discord_gets_an_embed_with_mentions_off_and_the_message_id_is_kept(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .and(path("/api/webhooks/123/tok"))
        .and(query_param("wait", "true"))
        .and(body_partial_json(json!({"allowed_mentions": {"parse": []}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1188", "channel_id": "9"})))
        .expect(1)
        .mount(server)
        .await;
    let discord = env
        .chat_channel("discord", ChannelKind::Discord {}, "/api/webhooks/123/tok")
        .await;

    let report = deliverer(&store, &[discord]).deliver_due(NOW).await.unwrap();

    assert_eq!(report.n_sent, 1);
    let body = &bodies(server).await[0];
    let embed = &body["embeds"][0];
    let description = embed["description"].as_str().unwrap();
    assert!(!description.contains("@everyone"), "{description}");
    assert!(description.contains("\\<@\u{200B}123\\>"), "{description}");
    assert!([0xD7_2C_2C, 0xE8_A2_00].contains(&embed["color"].as_u64().unwrap()));
    assert!(embed["title"].as_str().unwrap().chars().count() <= 256);
    let db = env.raw().await;
    let external: String = sqlx::query_scalar("SELECT external_id FROM alert_deliveries")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(external, "1188");
}

async fn mattermost_gets_text_and_an_attachment(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .and(path("/hooks/xyz"))
        .and(header("content-type", "application/json"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(server)
        .await;
    let mattermost = env.chat_channel("mm", ChannelKind::Mattermost {}, "/hooks/xyz").await;

    deliverer(&store, &[mattermost]).deliver_due(NOW).await.unwrap();

    let body = &bodies(server).await[0];
    assert!(body["text"].as_str().unwrap().starts_with("#### New "), "{body}");
    let attachment = &body["attachments"][0];
    let text = attachment["text"].as_str().unwrap();
    assert!(!text.contains("@everyone") && !text.contains("@AcmeAir"), "{text}");
    assert!(attachment["fields"].as_array().unwrap().len() >= 3);
    assert!(attachment["color"].as_str().unwrap().starts_with('#'));
}

async fn google_chat_threads_by_task_and_keeps_the_message_name(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    let task_id: i64 = scalar_any(&env.raw().await, "SELECT id FROM tasks").await;
    Mock::given(method("POST"))
        .and(path("/v1/spaces/AAA/messages"))
        .and(query_param("key", "k"))
        .and(query_param("token", "t"))
        .and(query_param(
            "messageReplyOption",
            "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD",
        ))
        .and(body_partial_json(
            json!({"thread": {"threadKey": format!("earshot-task-{task_id}")}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "spaces/AAA/messages/BBB"})))
        .expect(1)
        .mount(server)
        .await;
    let chat = env
        .chat_channel(
            "gchat",
            ChannelKind::GoogleChat {},
            "/v1/spaces/AAA/messages?key=k&token=t",
        )
        .await;

    deliverer(&store, &[chat]).deliver_due(NOW).await.unwrap();

    let body = &bodies(server).await[0];
    let widgets = body["cardsV2"][0]["card"]["sections"][0]["widgets"].as_array().unwrap();
    let paragraph = widgets
        .iter()
        .find_map(|widget| widget["textParagraph"]["text"].as_str())
        .unwrap();
    assert!(
        paragraph.contains("&lt;!channel&gt;") && !paragraph.contains('<'),
        "{paragraph}"
    );
    let db = env.raw().await;
    let (external, thread): (String, String) = sqlx::query_as("SELECT external_id, thread_key FROM alert_deliveries")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(external, "spaces/AAA/messages/BBB");
    assert_eq!(thread, format!("earshot-task-{task_id}"));
}

async fn the_generic_webhook_is_signed_the_standard_webhooks_way(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .and(path("/earshot"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(server)
        .await;
    let key = b"a shared signing key of 32 bytes";
    let secret = format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key));
    let webhook = env
        .chat_channel(
            "hook",
            ChannelKind::Webhook(Webhook {
                signing_secret: Secret::inline(secret),
            }),
            "/earshot",
        )
        .await;

    deliverer(&store, &[webhook]).deliver_due(NOW).await.unwrap();

    let requests = server.received_requests().await.unwrap();
    let request = &requests[0];
    let id = request.headers.get("webhook-id").unwrap().to_str().unwrap();
    let timestamp = request.headers.get("webhook-timestamp").unwrap().to_str().unwrap();
    let signature = request.headers.get("webhook-signature").unwrap().to_str().unwrap();
    assert_eq!(timestamp, (NOW / 1000).to_string());
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&request.body);
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    assert_eq!(signature, expected);
    let body: Value = serde_json::from_slice(&request.body).unwrap();
    assert_eq!(body["type"], "alert.task_opened");
    assert_eq!(
        body["data"]["text"], HOSTILE,
        "the generic webhook carries the raw data as JSON"
    );
}

async fn a_429_waits_for_retry_after_then_delivers(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "7"))
        .up_to_n_times(1)
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(server)
        .await;
    let slack = env.chat_channel("ops", ChannelKind::Slack {}, "/hook").await;
    let deliverer = deliverer(&store, &[slack]);

    let first = deliverer.deliver_due(NOW).await.unwrap();
    let too_early = deliverer.deliver_due(NOW + 6_999).await.unwrap();
    let after = deliverer.deliver_due(NOW + 7_000).await.unwrap();

    assert_eq!((first.n_retrying, first.n_sent), (1, 0));
    assert_eq!(
        (too_early.n_sent, too_early.n_retrying),
        (0, 0),
        "nothing is sent before the reset"
    );
    assert_eq!(after.n_sent, 1);
    assert_eq!(delivery_status(&env).await[0].0, "sent");
}

async fn a_5xx_backs_off_exponentially_with_jitter_then_delivers(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(503).set_body_string("upstream down"))
        .up_to_n_times(2)
        .expect(2)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "5"})))
        .expect(1)
        .mount(server)
        .await;
    let discord = env
        .chat_channel("discord", ChannelKind::Discord {}, "/api/webhooks/1/t")
        .await;
    let deliverer = deliverer(&store, &[discord]);
    let db = env.raw().await;

    deliverer.deliver_due(NOW).await.unwrap();
    let first_retry = scalar_any(&db, "SELECT next_attempt_at_ms FROM alert_deliveries").await - NOW;
    assert!(
        (15_000..=30_000).contains(&first_retry),
        "first backoff 30 s with jitter: {first_retry}"
    );
    assert_eq!(
        deliverer.deliver_due(NOW + first_retry - 1).await.unwrap().n_retrying,
        0
    );
    let t1 = NOW + first_retry;
    deliverer.deliver_due(t1).await.unwrap();
    let second_retry = scalar_any(&db, "SELECT next_attempt_at_ms FROM alert_deliveries").await - t1;
    assert!(
        (30_000..=60_000).contains(&second_retry),
        "second backoff 60 s with jitter: {second_retry}"
    );
    let last = deliverer.deliver_due(t1 + second_retry).await.unwrap();

    assert_eq!(last.n_sent, 1);
    let status = delivery_status(&env).await;
    assert_eq!((status[0].0.as_str(), status[0].1), ("sent", 3));
}

async fn a_timeout_is_retried_and_the_error_never_shows_the_url(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .up_to_n_times(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(server)
        .await;
    let mattermost = env
        .chat_channel("mm", ChannelKind::Mattermost {}, "/hooks/secret-token-abc")
        .await;
    let deliverer = Deliverer::new(store.clone(), &[mattermost], &[], client(Duration::from_millis(300)));

    let first = deliverer.deliver_due(NOW).await.unwrap();
    let status = delivery_status(&env).await;
    let later = deliverer.deliver_due(NOW + 31_000).await.unwrap();

    assert_eq!(first.n_retrying, 1);
    let error = status[0].2.clone().unwrap();
    assert_eq!(error, "timed out");
    assert_eq!(later.n_sent, 1);
    let states = store.channel_states(&["mm".to_owned()]).await.unwrap();
    assert!(!format!("{states:?}").contains("secret-token-abc"));
}

async fn a_gone_webhook_disables_the_channel_and_keeps_its_alerts(env: TestEnv) {
    let store = tasks(&env, 2).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Unknown Webhook", "code": 10015})))
        .expect(1)
        .mount(server)
        .await;
    let discord = env
        .chat_channel("discord", ChannelKind::Discord {}, "/api/webhooks/1/t")
        .await;
    let deliverer = deliverer(&store, &[discord]);

    let first = deliverer.deliver_due(NOW).await.unwrap();
    let later = deliverer.deliver_due(NOW + 3_600_000).await.unwrap();

    assert_eq!(first.disabled, vec!["discord".to_owned()]);
    assert_eq!(
        later.n_sent + later.n_retrying,
        0,
        "a disabled channel is not called again"
    );
    let states = store.channel_states(&["discord".to_owned()]).await.unwrap();
    assert!(states[0].disabled);
    assert!(states[0].disabled_reason.as_deref().unwrap().contains("404"));
    assert_eq!(states[0].pending, 2, "nothing is dropped");

    store.enable_channel("discord").await.unwrap();
    server.reset().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "1"})))
        .expect(2)
        .mount(server)
        .await;
    let resumed = deliverer.deliver_due(NOW + 3_600_001).await.unwrap();
    assert_eq!(resumed.n_sent, 2);
}

async fn a_slack_no_service_body_disables_the_channel(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(403).set_body_string("no_service"))
        .expect(1)
        .mount(server)
        .await;
    let slack = env.chat_channel("ops", ChannelKind::Slack {}, "/services/x").await;

    let report = deliverer(&store, &[slack]).deliver_due(NOW).await.unwrap();

    assert_eq!(report.disabled, vec!["ops".to_owned()]);
}

async fn a_restart_in_the_middle_of_a_delivery_run_delivers_each_alert_exactly_once(env: TestEnv) {
    let server = env.chat().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(5)
        .mount(server)
        .await;
    let slack = env.chat_channel("ops", ChannelKind::Slack {}, "/services/x").await;
    {
        let store = tasks(&env, 5).await;
        let first = deliverer(&store, std::slice::from_ref(&slack))
            .with_batch(2)
            .deliver_due(NOW)
            .await
            .unwrap();
        assert_eq!((first.n_routed, first.n_sent, first.more), (5, 2, true));
        // Everything is dropped here: the process "stops" between batches.
    }
    let settings = env.settings();
    let reopened = earshot::app::open_store(&settings).await.unwrap();
    let deliverer = deliverer(&reopened, &[slack]);

    let second = deliverer.deliver_due(NOW + 1_000).await.unwrap();
    let third = deliverer.deliver_due(NOW + 60_000).await.unwrap();

    assert_eq!((second.n_routed, second.n_sent), (0, 3));
    assert_eq!(third.n_sent, 0);
    let mut titles: Vec<String> = bodies(server)
        .await
        .iter()
        .map(|body| body["text"].as_str().unwrap().to_owned())
        .collect();
    titles.sort();
    titles.dedup();
    assert_eq!(titles.len(), 5, "five different tasks, each posted once: {titles:?}");
}

/// `server` answers `n` POSTs to `at` with 200 "ok", and checks it got exactly that many.
async fn expect_posts(server: &MockServer, at: &str, n: u64) {
    Mock::given(method("POST"))
        .and(path(at))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(n)
        .mount(server)
        .await;
}

async fn routing_rules_pick_channels_per_alert(env: TestEnv) {
    let store = tasks(&env, 2).await;
    let server = env.chat().await;
    expect_posts(server, "/bags", 1).await;
    expect_posts(server, "/all", 2).await;
    let bags = env.chat_channel("bags", ChannelKind::Slack {}, "/bags").await;
    let all = env.chat_channel("all", ChannelKind::Slack {}, "/all").await;
    let rules: Vec<earshot::alerts::routing::AlertRule> = vec![
        toml::from_str(
            r#"
        brands = ["acme"]
        min_priority = "low"
        keywords = ["lost my bag"]
        channels = ["bags"]
        "#,
        )
        .unwrap(),
    ];
    let deliverer = Deliverer::new(store, &[bags, all], &rules, client(Duration::from_secs(5)));

    let report = deliverer.deliver_due(NOW).await.unwrap();

    assert_eq!((report.n_deliveries_added, report.n_sent), (3, 3));

    // Both tasks' SLAs pass unanswered: each breach follows its task, so the keyword rule
    // sends the bag complaint's breach to #bags too.
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/bags"))
        .and(wiremock::matchers::body_string_contains("SLA breached"))
        .and(wiremock::matchers::body_string_contains("lost my bag"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(server)
        .await;
    expect_posts(server, "/all", 2).await;
    assert_eq!(deliverer.check_sla(NOW, Duration::from_secs(900)).await.unwrap(), 2);
    let breaches = deliverer.deliver_due(NOW + 60_000).await.unwrap();
    assert_eq!((breaches.n_deliveries_added, breaches.n_sent), (3, 3));
}

async fn a_disabled_channel_shows_why_without_its_url_and_a_lead_turns_it_back_on(env: TestEnv) {
    use axum::http::StatusCode;

    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(410).set_body_string("channel_is_archived"))
        .up_to_n_times(1)
        .expect(1)
        .mount(server)
        .await;
    let settings = env
        .config_with_chat_channel("ops", "slack", "/services/T1/B1/secret-part")
        .await
        .settings();
    let deliverer = Deliverer::new(
        store.clone(),
        &settings.alerts.channels,
        &settings.alerts.rules,
        client(Duration::from_secs(5)),
    );
    deliverer.deliver_due(NOW).await.unwrap();
    let app = TestApp::new(&store, &Arc::new(settings));
    let agent = app.bearer(earshot::auth::Role::Agent).await;
    let lead = app.bearer(earshot::auth::Role::Lead).await;

    let (status, channels) = agent.get("/api/channels").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!channels.to_string().contains("secret-part"), "{channels}");
    assert_eq!(channels[0]["name"], "ops");
    assert_eq!(channels[0]["kind"], "slack");
    assert_eq!(channels[0]["disabled"], true);
    assert!(
        channels[0]["disabled_reason"]
            .as_str()
            .unwrap()
            .contains("channel_is_archived")
    );
    assert_eq!(channels[0]["pending"], 1);

    // Agents may not turn it on; an unknown channel is 404; a lead may.
    let (status, _, _) = agent.send("POST", "/api/channels/ops/enable", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = lead.send("POST", "/api/channels/nope/enable", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, enabled) = lead.send("POST", "/api/channels/ops/enable", None).await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!((&enabled["disabled"], &enabled["pending"]), (&json!(false), &json!(1)));

    // The webhook works again: the alert that waited goes out, once.
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(server)
        .await;
    let resumed = deliverer.deliver_due(NOW + 1).await.unwrap();
    assert_eq!(resumed.n_sent, 1);
    let states = store.channel_states(&["ops".to_owned()]).await.unwrap();
    assert_eq!((states[0].sent, states[0].pending), (1, 0));
}

#[tokio::test]
async fn alerts_test_sends_a_sample_to_the_channel_and_prints_the_outcome_without_the_url() {
    let env = TestEnv::new();
    Mock::given(method("POST"))
        .and(path("/api/webhooks/42/hush"))
        .and(query_param("wait", "true"))
        .and(body_partial_json(json!({"allowed_mentions": {"parse": []}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "7"})))
        .expect(1)
        .mount(env.chat().await)
        .await;
    let config = env.path().join("alerts.toml");
    env.config_with_chat_channel("ops", "discord", "/api/webhooks/42/hush")
        .await
        .write(&config);

    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_earshot"))
        .env("RUST_LOG", "warn")
        .arg("--config")
        .arg(&config)
        .args(["alerts", "test", "--channel", "ops"])
        .output()
        .await
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}{stderr}");
    assert!(stdout.contains("ops: delivered (HTTP 200)"), "{stdout}");
    assert!(!stdout.contains("hush") && !stderr.contains("hush"));
}

#[test]
fn routing_rules_are_checked_against_channels_and_brands() {
    let env = TestEnv::new();
    let found = env
        .config()
        .channel(config::channel("ops", "webhook", "https://example.invalid/h").set("signing_secret", "whsec_***"))
        .channel(config::channel("unsigned", "webhook", "https://example.invalid/u"))
        .rule(
            Table::new()
                .set("brands", vec!["nope"])
                .set("channels", vec!["ops", "missing"]),
        )
        .problems();

    assert!(
        found
            .iter()
            .any(|p| p.starts_with("alerts.rules[0].channels") && p.contains("\"missing\"")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.starts_with("alerts.rules[0].brands")),
        "{found:?}"
    );
    assert!(
        found.iter().any(|p| p.starts_with("alerts.channels[0].signing_secret")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("alerts.channels[1].signing_secret") && p.contains("Standard Webhooks")),
        "a webhook channel without a secret: {found:?}"
    );
    assert_eq!(found.len(), 4, "{found:?}");
}

async fn an_sla_breach_is_alerted_once_and_edits_the_tasks_discord_message(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .and(path("/api/webhooks/1/t"))
        .and(query_param("wait", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "900"})))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/webhooks/1/t/messages/900"))
        .and(body_partial_json(json!({"allowed_mentions": {"parse": []}})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "900"})))
        .expect(1)
        .mount(server)
        .await;
    let discord = env
        .chat_channel("discord", ChannelKind::Discord {}, "/api/webhooks/1/t")
        .await;
    let deliverer = deliverer(&store, &[discord]);
    deliverer.deliver_due(NOW).await.unwrap();

    // NOW is years after the task was opened, so its SLA has passed.
    let added = deliverer.check_sla(NOW, Duration::from_secs(900)).await.unwrap();
    let again = deliverer
        .check_sla(NOW + 60_000, Duration::from_secs(900))
        .await
        .unwrap();
    let report = deliverer.deliver_due(NOW + 60_000).await.unwrap();

    assert_eq!((added, again), (1, 0), "one breach alert per task");
    assert_eq!(report.n_sent, 1);
    let requests = server.received_requests().await.unwrap();
    let edit: Value = serde_json::from_slice(&requests[1].body).unwrap();
    assert!(
        edit["embeds"][0]["title"].as_str().unwrap().starts_with("SLA breached"),
        "{edit}"
    );
}

async fn an_update_whose_discord_message_was_deleted_is_posted_anew_and_the_channel_stays_on(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .and(path("/api/webhooks/1/t"))
        .and(query_param("wait", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "900"})))
        .up_to_n_times(1)
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/api/webhooks/1/t/messages/900"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({"message": "Unknown Message", "code": 10008})))
        .expect(1)
        .mount(server)
        .await;
    let discord = env
        .chat_channel("discord", ChannelKind::Discord {}, "/api/webhooks/1/t")
        .await;
    let deliverer = deliverer(&store, &[discord]);
    deliverer.deliver_due(NOW).await.unwrap();
    Mock::given(method("POST"))
        .and(path("/api/webhooks/1/t"))
        .and(query_param("wait", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "901"})))
        .expect(1)
        .mount(server)
        .await;

    deliverer.check_sla(NOW, Duration::from_secs(900)).await.unwrap();
    let report = deliverer.deliver_due(NOW + 60_000).await.unwrap();

    assert_eq!((report.n_sent, report.disabled.len()), (1, 0), "{report:?}");
    let states = store.channel_states(&["discord".to_owned()]).await.unwrap();
    assert!(!states[0].disabled, "{states:?}");
    let requests = server.received_requests().await.unwrap();
    let methods: Vec<&str> = requests.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(methods, ["POST", "PATCH", "POST"]);
    let reposted: Value = serde_json::from_slice(&requests[2].body).unwrap();
    assert!(
        reposted["embeds"][0]["title"]
            .as_str()
            .unwrap()
            .starts_with("SLA breached"),
        "{reposted}"
    );
}

async fn an_sla_warning_goes_to_the_tasks_google_chat_thread(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let db = env.raw().await;
    let task_id = scalar_any(&db, "SELECT id FROM tasks").await;
    let due = scalar_any(&db, "SELECT due_at_ms FROM tasks").await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .and(path("/v1/spaces/S/messages"))
        .and(body_partial_json(
            json!({"thread": {"threadKey": format!("earshot-task-{task_id}")}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"name": "spaces/S/messages/M"})))
        .expect(2)
        .mount(server)
        .await;
    let chat = env
        .chat_channel("gchat", ChannelKind::GoogleChat {}, "/v1/spaces/S/messages")
        .await;
    let deliverer = deliverer(&store, &[chat]);
    let before = due - 10 * 60_000;

    let early = deliverer
        .check_sla(due - 20 * 60_000, Duration::from_secs(900))
        .await
        .unwrap();
    let warned = deliverer.check_sla(before, Duration::from_secs(900)).await.unwrap();
    let first = deliverer.deliver_due(NOW).await.unwrap();
    let second = deliverer.deliver_due(NOW + 1_000).await.unwrap();

    assert_eq!(
        (early, warned),
        (0, 1),
        "the warning comes within 15 minutes of the due time"
    );
    assert_eq!(
        (first.n_sent, first.n_deferred, second.n_sent),
        (1, 1, 1),
        "Google Chat takes one message a second per space: the warning waits its turn"
    );
    let last = bodies(server).await.pop().unwrap();
    assert!(last["text"].as_str().unwrap().starts_with("SLA due soon"), "{last}");
}

async fn a_failing_source_is_reported_once_per_outage(env: TestEnv) {
    let pipeline = env.pipeline().await;
    let store = pipeline.store().clone();
    let source = SourceId::parse("acme-feed").unwrap();
    let server = env.chat().await;
    Mock::given(method("POST"))
        .and(path("/hooks/ops"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(1)
        .mount(server)
        .await;
    let mattermost = env.chat_channel("mm", ChannelKind::Mattermost {}, "/hooks/ops").await;
    let deliverer = deliverer(&store, &[mattermost]);
    let fail = |at: i64| earshot::store::PollFailure {
        source: &source,
        kind: "unauthorized",
        message: "401 from the platform",
        quarantine: None,
        at,
    };

    store.record_poll_failure(fail(NOW - 2_000)).await.unwrap();
    let after_one = deliverer.check_sources(NOW - 1_000).await.unwrap();
    store.record_poll_failure(fail(NOW - 1_000)).await.unwrap();
    let after_two = deliverer.check_sources(NOW).await.unwrap();
    let report = deliverer.deliver_due(NOW).await.unwrap();

    assert_eq!(
        (after_one, after_two),
        (1, 0),
        "refused credentials alert at once, and once"
    );
    assert_eq!(report.n_sent, 1);
    let body = &bodies(server).await[0];
    let text = body["text"].as_str().unwrap();
    assert!(text.contains("acme-feed") && text.contains("credentials"), "{text}");
    assert!(
        !body.to_string().contains("401 from the platform"),
        "error text is not sent"
    );
}

on_both_backends!(
    slack_gets_block_kit_with_a_fallback_and_escaped_post_text,
    teams_gets_an_adaptive_card_message,
    discord_gets_an_embed_with_mentions_off_and_the_message_id_is_kept,
    mattermost_gets_text_and_an_attachment,
    google_chat_threads_by_task_and_keeps_the_message_name,
    the_generic_webhook_is_signed_the_standard_webhooks_way,
    a_429_waits_for_retry_after_then_delivers,
    a_5xx_backs_off_exponentially_with_jitter_then_delivers,
    a_timeout_is_retried_and_the_error_never_shows_the_url,
    a_gone_webhook_disables_the_channel_and_keeps_its_alerts,
    a_slack_no_service_body_disables_the_channel,
    a_restart_in_the_middle_of_a_delivery_run_delivers_each_alert_exactly_once,
    routing_rules_pick_channels_per_alert,
    an_sla_breach_is_alerted_once_and_edits_the_tasks_discord_message,
    an_update_whose_discord_message_was_deleted_is_posted_anew_and_the_channel_stays_on,
    an_sla_warning_goes_to_the_tasks_google_chat_thread,
    a_failing_source_is_reported_once_per_outage,
    a_disabled_channel_shows_why_without_its_url_and_a_lead_turns_it_back_on,
);
