//! The weekly summary posted to chat after a scheduled export: one alert through the outbox,
//! rendered in each platform's shape, with the chart linked through the public URL, sent
//! once even when the export job runs twice; only to the channels `summary_channels` names.
//! Chat platforms are loopback wiremock servers; the store is SQLite or PostgreSQL.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use earshot::config::Settings;
use earshot::exports::Exporter;
use earshot::pipeline::Pipeline;
use earshot::pipeline::delivery::Deliverer;

use crate::support::config;
use crate::support::{TestEnv, on_both_backends, pipeline_for, poll_feed};

/// The platforms, the webhook path each server is called on, and what it answers.
const PLATFORMS: [(&str, &str, u16, &str); 6] = [
    ("slack", "/services/T0/B0/x", 200, "ok"),
    ("teams", "/workflows/w/invoke", 202, ""),
    ("discord", "/api/webhooks/1/t", 200, r#"{"id":"77"}"#),
    ("mattermost", "/hooks/abc", 200, "ok"),
    (
        "google_chat",
        "/v1/spaces/S/messages",
        200,
        r#"{"name":"spaces/S/messages/1"}"#,
    ),
    ("webhook", "/earshot", 204, ""),
];

fn london(y: i32, m: u32, d: u32, h: u32) -> chrono::DateTime<chrono::Utc> {
    chrono_tz::Europe::London
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .unwrap()
        .with_timezone(&chrono::Utc)
}

fn post_line(id: &str, author: &str, text: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    json!({"platform": "x", "id": id, "author": author, "text": text, "created_at": at.to_rfc3339()}).to_string()
}

/// The test config plus one channel per platform (on `servers`), an `agents` channel (on
/// `agents`) for task alerts only, and weekly summaries routed to the six.
fn settings(env: &TestEnv, servers: &[MockServer], agents: &MockServer, public_url: Option<&str>) -> Settings {
    let mut config = env.config();
    let mut names = Vec::new();
    for ((kind, hook, _, _), server) in PLATFORMS.iter().zip(servers) {
        let name = format!("{kind}-managers");
        let mut channel =
            config::channel(&name, kind, &format!("{}{hook}", server.uri())).set("min_priority", "critical");
        if *kind == "webhook" {
            channel = channel.set("signing_secret", "whsec_c2lnbmluZyBrZXkgb2YgdGhlIHN1bW1hcnkgdGVzdA==");
        }
        config = config.channel(channel);
        names.push(name);
    }
    config = config
        .channel(config::channel("agents", "slack", &format!("{}/agents", agents.uri())))
        .set("exports", "timezone", "Europe/London")
        .set("exports", "dir", env.path().join("exports").display().to_string())
        .set("exports", "summary_channels", names);
    if let Some(url) = public_url {
        config = config.set("exports", "public_url", url);
    }
    config.settings()
}

/// One server per platform answering its webhook path the platform's way (task alerts for
/// the complaints arrive there too), and the `agents` server.
async fn servers() -> (Vec<MockServer>, MockServer) {
    let mut servers = Vec::new();
    for (_, hook, status, body) in PLATFORMS {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(hook))
            .respond_with(ResponseTemplate::new(status).set_body_string(body))
            .mount(&server)
            .await;
        servers.push(server);
    }
    let agents = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/agents"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .mount(&agents)
        .await;
    (servers, agents)
}

/// The weekly summaries a server received, in order.
async fn summaries(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| serde_json::from_slice::<Value>(&request.body).unwrap())
        .filter(|body| {
            let text = body.to_string();
            text.contains("Weekly summary") || text.contains("weekly_summary")
        })
        .collect()
}

/// Last week's and this week's complaints, stored and scored through the pipeline.
async fn pipeline(env: &TestEnv, settings: Settings) -> Arc<Pipeline> {
    env.append(
        "acme-feed",
        &[
            post_line("1", "@a", "acme air flight delayed, terrible", london(2026, 11, 10, 10)),
            post_line(
                "2",
                "@b",
                "acme air lost my luggage, worst airline",
                london(2026, 11, 17, 9),
            ),
            post_line("3", "@c", "acme air luggage lost again, awful", london(2026, 11, 18, 9)),
            post_line("4", "@d", "acme air crew were great, thanks", london(2026, 11, 19, 9)),
        ],
    );
    let pipeline = pipeline_for(settings).await;
    poll_feed(&pipeline, 2).await;
    pipeline
}

fn deliverer(pipeline: &Pipeline) -> Deliverer {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let settings = pipeline.settings();
    Deliverer::new(
        pipeline.store().clone(),
        &settings.alerts.channels,
        &settings.alerts.rules,
        client,
    )
}

/// Delivers until nothing is left (the chat rate limits defer some sends to a later run, so
/// each run is a minute after the last); returns the time of the last run.
async fn drain(deliverer: &Deliverer) -> i64 {
    let mut at = earshot::domain::now_millis();
    for _ in 0..20 {
        let report = deliverer.deliver_due(at).await.unwrap();
        if report.n_sent + report.n_deferred + report.n_retrying == 0 {
            return at;
        }
        at += 60_000;
    }
    panic!("deliveries still pending after 20 runs");
}

/// Monday 23 Nov 2026 07:00 London: W47 (16-22 Nov) is the last full week.
fn monday_morning() -> i64 {
    london(2026, 11, 23, 7).timestamp_millis()
}

async fn each_platform_gets_the_summary_once_in_its_own_shape_with_the_chart_link(env: TestEnv) {
    let (servers, agents) = servers().await;
    let settings = settings(&env, &servers, &agents, Some("https://earshot.example.com/"));
    let pipeline = pipeline(&env, settings).await;
    let exporter = Exporter::new(pipeline.store().clone(), &pipeline.settings().exports).unwrap();
    let deliverer = deliverer(&pipeline);
    let now = monday_morning();

    // The job runs twice (a second trigger, a restart), and so does delivery.
    let first = exporter.run_due(now).await.unwrap();
    let second = exporter.run_due(now).await.unwrap();
    let at = drain(&deliverer).await;
    let again = deliverer.deliver_due(at + 3_600_000).await.unwrap();

    let weeks: Vec<String> = first.iter().map(|o| o.week.to_string()).collect();
    assert_eq!(weeks, ["2026-W46", "2026-W47"], "the catch-up exports both weeks");
    assert!(second.is_empty());
    assert_eq!(again.n_sent, 0, "nothing is sent twice");
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM alert_outbox WHERE kind = 'weekly_summary'")
            .await,
        2,
        "one alert per week"
    );
    let chart = "https://earshot.example.com/api/exports/2026-W47/earshot-2026-W47-all-chart.png";
    let mut bodies = Vec::new();
    for server in &servers {
        let received = summaries(server).await;
        let weeks: Vec<bool> = received.iter().map(|b| b.to_string().contains("2026-W47")).collect();
        assert_eq!(weeks, [false, true], "W46 then W47, each once: {}", server.uri());
        bodies.push(received[1].clone());
    }
    let [slack, teams, discord, mattermost, google_chat, webhook] = &bodies[..] else {
        panic!("six bodies");
    };

    assert_eq!(slack["blocks"][0]["type"], "header");
    assert_eq!(slack["blocks"][1]["text"]["text"], "*acme*");
    let fields: Vec<&str> = slack["blocks"][1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert!(
        fields[0].starts_with("*Mentions*\n3 (+200.0% vs last week)"),
        "{fields:?}"
    );
    assert!(
        fields.iter().any(|f| f.contains("luggage")),
        "top complaint terms: {fields:?}"
    );
    assert!(
        fields.iter().any(|f| f.starts_with("*Recovered customers*\n0")),
        "{fields:?}"
    );
    let button = slack["blocks"].as_array().unwrap().last().unwrap();
    assert_eq!(button["elements"][0]["url"], chart);

    let card = &teams["attachments"][0]["content"];
    assert_eq!(teams["type"], "message");
    assert_eq!(card["type"], "AdaptiveCard");
    assert!(card["body"].as_array().unwrap().iter().any(|e| e["type"] == "FactSet"));
    assert_eq!(card["actions"][0]["type"], "Action.OpenUrl");
    assert_eq!(card["actions"][0]["url"], chart);

    let embed = &discord["embeds"][0];
    assert_eq!(discord["allowed_mentions"], json!({"parse": []}));
    assert_eq!(embed["url"], chart);
    assert_eq!(embed["fields"][0]["name"], "acme");
    assert!(
        embed["fields"][0]["value"]
            .as_str()
            .unwrap()
            .contains("**Negative:** 67%"),
        "{embed}"
    );

    let text = mattermost["text"].as_str().unwrap();
    assert!(
        text.starts_with("#### Weekly summary 2026-W47 (Europe/London)"),
        "{text}"
    );
    assert!(text.contains("| **acme** | 3 (+200.0% vs last week) |"), "{text}");
    assert!(text.contains(&format!("[Open the chart]({chart})")), "{text}");

    let sections = google_chat["cardsV2"][0]["card"]["sections"].as_array().unwrap();
    assert_eq!(sections[0]["header"], "acme");
    assert_eq!(sections[0]["widgets"][0]["decoratedText"]["topLabel"], "Mentions");
    assert_eq!(
        sections[1]["widgets"][0]["buttonList"]["buttons"][0]["onClick"]["openLink"]["url"],
        chart
    );

    assert_eq!(webhook["type"], "alert.weekly_summary");
    assert_eq!(webhook["data"]["week"], "2026-W47");
    assert_eq!(webhook["data"]["brands"][0]["mentions"], 3);
    assert_eq!(webhook["data"]["chart_url"], chart);
    assert!(
        summaries(&agents).await.is_empty(),
        "a channel not in summary_channels gets no summary"
    );
}

async fn without_a_public_url_the_summary_carries_only_the_numbers(env: TestEnv) {
    let (servers, agents) = servers().await;
    let pipeline = pipeline(&env, settings(&env, &servers, &agents, None)).await;
    let exporter = Exporter::new(pipeline.store().clone(), &pipeline.settings().exports).unwrap();

    exporter.run_due(monday_morning()).await.unwrap();
    drain(&deliverer(&pipeline)).await;

    let slack = summaries(&servers[0]).await;
    assert_eq!(slack.len(), 2);
    for body in &slack {
        assert!(!body.to_string().contains("/api/exports/"), "{body}");
        assert!(
            body["blocks"]
                .as_array()
                .unwrap()
                .iter()
                .all(|b| b["type"] != "actions")
        );
        assert_eq!(body["blocks"][0]["type"], "header");
    }
}

async fn manual_exports_post_nothing(env: TestEnv) {
    let (servers, agents) = servers().await;
    let pipeline = pipeline(&env, settings(&env, &servers, &agents, None)).await;
    let exporter = Exporter::new(pipeline.store().clone(), &pipeline.settings().exports).unwrap();
    let request = earshot::exports::ExportRequest {
        week: "2026-W47".parse().unwrap(),
        brand: None,
        format: earshot::exports::ExportFormat::Csv,
        trigger: earshot::store::ExportTrigger::Manual,
    };

    exporter.export_week(&request, &|_| {}).await.unwrap();
    drain(&deliverer(&pipeline)).await;

    for server in &servers {
        assert!(summaries(server).await.is_empty());
    }
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM alert_outbox WHERE kind = 'weekly_summary'")
            .await,
        0
    );
}

on_both_backends!(
    each_platform_gets_the_summary_once_in_its_own_shape_with_the_chart_link,
    without_a_public_url_the_summary_carries_only_the_numbers,
    manual_exports_post_nothing,
);

#[test]
fn summary_channels_must_name_configured_channels() {
    let env = TestEnv::new();
    let problems = env
        .config()
        .set("exports", "summary_channels", vec!["nowhere"])
        .set("exports", "public_url", "ftp://x")
        .problems();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("exports.summary_channels") && p.contains("nowhere")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("exports.public_url")),
        "{problems:?}"
    );
}
