//! Spike, silent-source and quiet-hours digest alerts, and task updates on platforms that
//! cannot edit, end to end: posts committed to a real store (a SQLite file and a PostgreSQL
//! database), scored by the pipeline's lexicon scorer, jobs run with a fixed clock, and
//! loopback chat servers that check what arrives.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

use earshot::alerts::spike::SpikeSettings;
use earshot::alerts::{ChannelKind, ChannelSettings};
use earshot::config::Settings;
use earshot::domain::{BrandId, Platform, Post, PostDraft, SourceId};
use earshot::pipeline::delivery::Deliverer;
use earshot::pipeline::spikes::check_spikes;
use earshot::store::{PollCommit, Store};

use crate::support::chat::{bodies, client, tasks};
use crate::support::config::{self, Table};
use crate::support::{TestEnv, on_both_backends, pipeline_for};

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;

fn at(rfc3339: &str) -> i64 {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

/// The test config with a threshold no post reaches, so the only alerts are the ones the
/// test is about.
fn settings_without_tasks(env: &TestEnv) -> Settings {
    env.config().brand_set("acme", "threshold", 100).settings()
}

fn post(id: &str, text: &str, created_at: i64) -> Post {
    let draft = PostDraft {
        external_id: id.into(),
        text: text.into(),
        author_handle: format!("@author_{id}"),
        created_at,
        url: Some(format!("https://x.com/author_{id}/status/{id}")),
        lang: Some("en".into()),
        ..PostDraft::default()
    };
    Post::new(Platform::X, draft).unwrap()
}

/// Commits `posts` as one successful poll of `acme-feed` at `at`.
async fn commit(store: &Arc<dyn Store>, posts: &[Post], at: i64) {
    let (source, brand) = (SourceId::parse("acme-feed").unwrap(), BrandId::parse("acme").unwrap());
    store
        .commit_poll(PollCommit {
            source: &source,
            brand: &brand,
            posts,
            quarantined: &[],
            cursor: None,
            at,
        })
        .await
        .unwrap();
}

/// The `ops` Slack channel on the env's chat server, which answers exactly `expected` posts
/// (checked when the env is dropped).
async fn slack_ops(env: &TestEnv, expected: u64) -> ChannelSettings {
    Mock::given(method("POST"))
        .and(path("/services/T/B/X"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(expected)
        .mount(env.chat().await)
        .await;
    env.chat_channel("ops", ChannelKind::Slack {}, "/services/T/B/X").await
}

fn field<'a>(slack_body: &'a Value, label: &str) -> &'a str {
    slack_body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|block| block["fields"].as_array())
        .flatten()
        .filter_map(|field| field["text"].as_str())
        .find(|text| text.starts_with(&format!("*{label}*")))
        .unwrap_or_else(|| panic!("no {label} field in {slack_body}"))
}

async fn a_negative_spike_is_alerted_once_with_its_top_terms(env: TestEnv) {
    let pipeline = pipeline_for(settings_without_tasks(&env)).await;
    let settings = pipeline.settings().clone();
    let store = pipeline.store().clone();
    let bucket = at("2026-01-15T11:30:00Z");
    // A day of ordinary complaints (one every two hours), then eight about lost baggage
    // within one quarter of an hour.
    let mut posts: Vec<Post> = (0..13)
        .map(|i| {
            post(
                &format!("b{i}"),
                "@AcmeAir flight delayed again, awful service",
                bucket - 26 * HOUR + i * 2 * HOUR,
            )
        })
        .collect();
    posts.extend((0..8).map(|i| {
        post(
            &format!("s{i}"),
            &format!("@AcmeAir lost my baggage on flight {i}, terrible"),
            bucket + i * MINUTE,
        )
    }));
    commit(&store, &posts, bucket + 15 * MINUTE).await;
    pipeline.score_pending().await.unwrap();
    let spikes = &settings.alerts.spikes;
    let now = bucket + 16 * MINUTE;

    let first = check_spikes(store.as_ref(), spikes, &settings.brands, now)
        .await
        .unwrap();
    let rerun = check_spikes(store.as_ref(), spikes, &settings.brands, now + 30_000)
        .await
        .unwrap();
    // The complaints go on in the next bucket: still the same incident, within the cool-down.
    let more: Vec<Post> = (0..8)
        .map(|i| {
            post(
                &format!("t{i}"),
                "@AcmeAir still no baggage, lost again, terrible",
                bucket + 15 * MINUTE + i * MINUTE,
            )
        })
        .collect();
    commit(&store, &more, bucket + 30 * MINUTE).await;
    pipeline.score_pending().await.unwrap();
    let cooling = check_spikes(store.as_ref(), spikes, &settings.brands, bucket + 31 * MINUTE)
        .await
        .unwrap();

    assert_eq!((first.n_spikes, first.n_alerted), (1, 1), "{first:?}");
    assert_eq!((rerun.n_spikes, rerun.n_alerted), (1, 0), "a re-run does not double it");
    assert_eq!(
        (cooling.n_spikes, cooling.n_alerted),
        (2, 0),
        "the next bucket is within the cool-down"
    );
    let slack = slack_ops(&env, 1).await;
    let deliverer = Deliverer::new(store.clone(), &[slack], &[], client(Duration::from_secs(5)));
    let report = deliverer.deliver_due(now + MINUTE).await.unwrap();
    assert_eq!(report.n_sent, 1);
    let body = &bodies(env.chat().await).await[0];
    let title = body["text"].as_str().unwrap();
    assert!(
        title.starts_with("Spike in negative mentions for acme: 8 in 15 min (baggage, lost"),
        "{title}"
    );
    let terms = field(body, "Top terms");
    assert!(terms.contains("baggage (8 posts, usually 0%)"), "{terms}");
    for unwanted in ["acmeair", "my", "on"] {
        assert!(
            !terms.split(", ").any(|term| term.starts_with(&format!("{unwanted} ("))),
            "{unwanted} in {terms}"
        );
    }
    assert!(field(body, "Usual").contains("0.0 per 15 min"), "{body}");
    assert!(field(body, "Window").contains("2026-01-15 11:30 UTC"), "{body}");
    assert!(
        body.to_string().contains("https://x.com/author_s"),
        "an example post of the spike is linked: {body}"
    );
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM alert_outbox WHERE kind = 'spike'")
            .await,
        1
    );
}

async fn steady_negative_volume_is_not_a_spike(env: TestEnv) {
    let pipeline = pipeline_for(settings_without_tasks(&env)).await;
    let settings = pipeline.settings().clone();
    let store = pipeline.store().clone();
    let hourly = SpikeSettings {
        bucket_minutes: 60,
        baseline_buckets: 24,
        ..SpikeSettings::default()
    };
    let last = at("2026-02-02T09:00:00Z");
    // Four complaints an hour for a day and more, then six: busy, but not unusual.
    let mut posts = Vec::new();
    for hour in 0..27 {
        let start = last - (26 - hour) * HOUR;
        let n = if hour == 26 { 6 } else { 4 };
        for i in 0..n {
            posts.push(post(
                &format!("h{hour}_{i}"),
                "@AcmeAir my flight is delayed, awful",
                start + i * 7 * MINUTE,
            ));
        }
    }
    commit(&store, &posts, last + HOUR).await;
    pipeline.score_pending().await.unwrap();

    let report = check_spikes(store.as_ref(), &hourly, &settings.brands, last + HOUR + MINUTE)
        .await
        .unwrap();

    assert_eq!((report.n_judged, report.n_spikes), (2, 0), "{report:?}");
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM alert_outbox WHERE kind = 'spike'")
            .await,
        0
    );
    // A brand with no history before the baseline is not judged at all.
    let young = check_spikes(store.as_ref(), &hourly, &settings.brands, last - 10 * HOUR)
        .await
        .unwrap();
    assert_eq!(young.n_judged, 0);
}

async fn a_silent_source_is_alerted_once_per_silence(env: TestEnv) {
    let store = earshot::app::open_store(&settings_without_tasks(&env)).await.unwrap();
    let t0 = at("2026-01-10T00:00:00Z");
    let text = "@AcmeAir boarding now";
    for (n, hour) in [0, 1, 2].into_iter().enumerate() {
        commit(
            &store,
            &[post(&format!("p{n}"), text, t0 + hour * HOUR)],
            t0 + hour * HOUR,
        )
        .await;
    }
    // Polls keep succeeding, without new posts.
    commit(&store, &[], t0 + 6 * HOUR).await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .and(path("/hooks/ops"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(2)
        .mount(server)
        .await;
    let mattermost = env.chat_channel("mm", ChannelKind::Mattermost {}, "/hooks/ops").await;
    let deliverer = Deliverer::new(store.clone(), &[mattermost], &[], client(Duration::from_secs(5)));

    let usual = deliverer.check_silence(t0 + 5 * HOUR).await.unwrap();
    let silent = deliverer.check_silence(t0 + 7 * HOUR).await.unwrap();
    let still = deliverer.check_silence(t0 + 9 * HOUR).await.unwrap();
    let first = deliverer.deliver_due(t0 + 9 * HOUR).await.unwrap();
    // The source brings posts again, then falls silent a second time.
    commit(&store, &[post("p3", text, t0 + 10 * HOUR)], t0 + 10 * HOUR).await;
    let back = deliverer.check_silence(t0 + 11 * HOUR).await.unwrap();
    commit(&store, &[], t0 + 30 * HOUR).await;
    let again = deliverer.check_silence(t0 + 30 * HOUR).await.unwrap();
    let second = deliverer.deliver_due(t0 + 30 * HOUR).await.unwrap();

    assert_eq!(
        (usual, silent, still),
        (0, 1, 0),
        "quiet for 3 h is usual; 5 h is not; one alert per silence"
    );
    assert_eq!(back, 0);
    assert_eq!(again, 1, "a new silence after posts came back");
    assert_eq!((first.n_sent, second.n_sent), (1, 1));
    let body = &bodies(server).await[0];
    let title = body["text"].as_str().unwrap();
    assert!(title.contains("acme-feed") && title.contains("silent"), "{title}");
    assert!(body.to_string().contains("no new mentions for 5h 00m"), "{body}");
}

async fn alerts_in_quiet_hours_go_out_as_one_digest_when_they_end(env: TestEnv) {
    let store = tasks(&env, 3).await;
    let slack = slack_ops(&env, 1).await;
    let rules: Vec<earshot::alerts::routing::AlertRule> = vec![
        toml::from_str(
            r#"
            min_priority = "low"
            channels = ["ops"]
            quiet_hours = { timezone = "Europe/London", start = "22:00", end = "07:00" }
            "#,
        )
        .unwrap(),
    ];
    // The night the clocks go forward (after the tasks' alerts were raised): 07:00 BST is
    // 06:00 UTC.
    let night = at("2030-03-30T23:30:00Z");
    let end = at("2030-03-31T06:00:00Z");
    {
        let deliverer = Deliverer::new(
            store.clone(),
            std::slice::from_ref(&slack),
            &rules,
            client(Duration::from_secs(5)),
        );
        let held = deliverer.deliver_due(night).await.unwrap();
        let before_end = deliverer.deliver_due(end - 1).await.unwrap();
        assert_eq!((held.n_routed, held.n_deliveries_added, held.n_sent), (3, 3, 0));
        assert_eq!((before_end.n_digests, before_end.n_sent), (0, 0));
        let states = store.channel_states(&["ops".to_owned()]).await.unwrap();
        assert_eq!((states[0].held, states[0].pending), (3, 0));
        // The process stops here, before quiet hours end.
    }
    let reopened = earshot::app::open_store(&env.settings()).await.unwrap();
    let deliverer = Deliverer::new(reopened, &[slack], &rules, client(Duration::from_secs(5)));

    let at_end = deliverer.deliver_due(end).await.unwrap();
    let after = deliverer.deliver_due(end + 2 * MINUTE).await.unwrap();

    assert_eq!(
        (at_end.n_digests, at_end.n_digested, at_end.n_sent),
        (1, 3, 1),
        "{at_end:?}"
    );
    assert_eq!((after.n_digests, after.n_sent), (0, 0));
    let body = &bodies(env.chat().await).await[0];
    assert_eq!(body["text"], "Quiet-hours digest: 3 alerts held");
    assert!(field(body, "By kind").contains("New tasks · acme: 3"), "{body}");
    let listed = body.to_string();
    for author in ["author0", "author1", "author2"] {
        assert!(listed.contains(&format!("https://x.com/{author}/status/")), "{listed}");
    }
    assert_eq!(
        env.scalar_of(
            "SELECT COUNT(*) FROM alert_deliveries WHERE status = 'digested' AND digest_alert_id IS NOT NULL"
        )
        .await,
        3
    );
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM alert_deliveries WHERE status = 'sent'")
            .await,
        1
    );
}

async fn an_update_on_a_slack_or_mattermost_task_names_the_original(env: TestEnv) {
    let store = tasks(&env, 1).await;
    let task_id = env.scalar_of("SELECT id FROM tasks").await;
    let server = env.chat().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_string("ok"))
        .expect(4)
        .mount(server)
        .await;
    let slack = env.chat_channel("slack", ChannelKind::Slack {}, "/slack").await;
    let mattermost = env.chat_channel("mm", ChannelKind::Mattermost {}, "/mm").await;
    let deliverer = Deliverer::new(store, &[slack, mattermost], &[], client(Duration::from_secs(5)));
    let now = at("2030-03-17T10:00:00Z");
    deliverer.deliver_due(now).await.unwrap();

    // Years after the task was opened, its SLA has passed.
    assert_eq!(deliverer.check_sla(now, Duration::from_secs(900)).await.unwrap(), 1);
    let report = deliverer.deliver_due(now + MINUTE).await.unwrap();

    assert_eq!(report.n_sent, 2);
    let requests = server.received_requests().await.unwrap();
    let by_path = |wanted: &str| -> Vec<Value> {
        requests
            .iter()
            .filter(|request| request.url.path() == wanted)
            .map(|request| serde_json::from_slice(&request.body).unwrap())
            .collect()
    };
    let (slack, mattermost) = (by_path("/slack"), by_path("/mm"));
    let prefix = format!("Update on task #{task_id}: SLA breached");
    assert!(
        slack[0]["text"].as_str().unwrap().starts_with("New "),
        "the first message is not an update"
    );
    assert!(slack[1]["text"].as_str().unwrap().starts_with(&prefix), "{}", slack[1]);
    assert!(field(&slack[1], "First posted").contains("2030-03-17 10:00 UTC"));
    // Mattermost text is Markdown: `#` is escaped.
    assert!(
        mattermost[1]["text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("#### Update on task \\#{task_id}: SLA breached")),
        "{}",
        mattermost[1]
    );
}

on_both_backends!(
    a_negative_spike_is_alerted_once_with_its_top_terms,
    steady_negative_volume_is_not_a_spike,
    a_silent_source_is_alerted_once_per_silence,
    alerts_in_quiet_hours_go_out_as_one_digest_when_they_end,
    an_update_on_a_slack_or_mattermost_task_names_the_original,
);

#[test]
fn quiet_hours_and_spike_settings_are_checked_with_their_paths() {
    let env = TestEnv::new();
    let config = env
        .config()
        .set("alerts.spikes", "bucket_minutes", 7)
        .set("alerts.spikes", "z_threshold", -1.0)
        .channel(config::channel("ops", "slack", "https://hooks.slack.com/services/x"))
        .rule(
            Table::new().set("channels", vec!["ops"]).set(
                "quiet_hours",
                Table::new()
                    .set("timezone", "Europe/Lundon")
                    .set("start", "22:00")
                    .set("end", "7am"),
            ),
        );

    assert_eq!(
        config.problem_paths(),
        vec![
            "alerts.rules[0].quiet_hours.end",
            "alerts.rules[0].quiet_hours.timezone",
            "alerts.spikes.bucket_minutes",
            "alerts.spikes.z_threshold",
        ],
        "{:?}",
        config.problems()
    );
}
