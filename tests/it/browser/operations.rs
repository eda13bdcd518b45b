//! The team lead's pages in the browser: assigning a task, re-labelling a post the model
//! got wrong, turning a channel that a revoked webhook switched off back on, downloading an
//! export, and the threshold suggestion; and what an agent is not offered.

use std::sync::Arc;

use serde_json::json;

use earshot::alerts::{ChannelKind, ChannelSettings};
use earshot::domain::{Priority, now_millis};
use earshot::exports::week::IsoWeek;
use earshot::exports::{ExportFormat, ExportRequest, Exporter};
use earshot::secret::Secret;
use earshot::store::ExportTrigger;

use super::queue::{click, log_in, task_of};
use super::{Browser, wait_for_text};
use crate::support::TestApp;
use crate::support::TestEnv;
use crate::support::fill::{complaints, filled};

/// The app with one Slack channel (never called here) and exports in the test's folder.
async fn site(env: &TestEnv) -> TestApp {
    let (store, settings) = filled(env, &complaints()).await;
    let mut settings = (*settings).clone();
    settings.alerts.channels.push(ChannelSettings {
        name: "ops".to_owned(),
        kind: ChannelKind::Slack {},
        url: Secret::inline("http://127.0.0.1:9/services/never-called".to_owned()),
        brands: Vec::new(),
        min_priority: Priority::Low,
    });
    settings.exports = exports(env);
    TestApp::new(&store, &Arc::new(settings))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_relabels_turns_a_channel_back_on_downloads_an_export_and_sees_the_suggestion() {
    let env = TestEnv::new();
    let site = site(&env).await;
    let store = site.store.clone();
    // What the delivery job does when Slack answers 410 (tests/it/alerts.rs drives that).
    store
        .disable_channel("ops", "410 from the platform: channel_is_archived", now_millis())
        .await
        .unwrap();
    let week = IsoWeek::containing(now_millis(), chrono_tz::UTC);
    let exporter = Exporter::new(store.clone(), &exports(&env)).unwrap();
    let request = ExportRequest {
        week,
        brand: None,
        format: ExportFormat::Csv,
        trigger: ExportTrigger::Manual,
    };
    exporter.export_week(&request, &|_| {}).await.unwrap().unwrap();
    let jo = task_of(&store, "@jo").await;
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "lee", "lead").await;

            // The lead hands @jo's task to bob.
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", jo.id)).await;
            wait_for_text(&client, "#detail h2", &format!("Task #{}", jo.id)).await;
            client.find("#assign-to").await.unwrap().send_keys("bob").await.unwrap();
            click(&client, "#assign").await;
            wait_for_text(&client, "#flash", "assign done (assigned)").await;
            wait_for_text(&client, "#detail", "assignee bob").await;
            assert_eq!(
                store.task_detail(jo.id).await.unwrap().task.assignee.as_deref(),
                Some("bob")
            );

            // The model called @jo's post negative; the lead says it is neutral.
            client
                .find("#detail select.relabel")
                .await
                .unwrap()
                .select_by_value("neutral")
                .await
                .unwrap();
            click(&client, "#detail button.save-label").await;
            wait_for_text(&client, "#flash", "Post labelled neutral").await;
            wait_for_text(&client, "#detail .events", "relabelled").await;
            let examples = store.labelled_examples().await.unwrap();
            assert!(
                examples
                    .iter()
                    .any(|e| e.sentiment.as_deref() == Some("neutral") && e.text.contains("lost my bag")),
                "the label is kept as a training example: {examples:?}"
            );

            // The switched-off channel says why, and comes back on with its alerts waiting.
            click(&client, "nav button[data-view=channels]").await;
            let state = wait_for_text(&client, "#channels tr[data-channel=ops] td.state", "off since").await;
            assert!(state.contains("channel_is_archived"), "{state}");
            let row = client
                .find("#channels tr[data-channel=ops]")
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(!row.contains("never-called"), "the webhook URL is a secret: {row}");
            click(&client, "#channels button.enable-channel").await;
            wait_for_text(&client, "#flash", "Channel ops is on again").await;
            wait_for_text(&client, "#channels tr[data-channel=ops] td.state", "on, delivering").await;
            let states = store.channel_states(&["ops".to_owned()]).await.unwrap();
            assert!(!states[0].disabled, "{states:?}");

            // The export run is listed with its files, and a link downloads the CSV.
            click(&client, "nav button[data-view=exports]").await;
            let csv_name = format!("earshot-{week}-all-posts.csv");
            wait_for_text(&client, "#exports td.files", &csv_name).await;
            let download = client
                .execute(&format!(
                    "const link = [...document.querySelectorAll('#exports a.export-file')]
                       .find((a) => a.textContent === {name});
                     return fetch(link.href).then(async (response) => ({{
                       status: response.status, type: response.headers.get('content-type'),
                       text: await response.text() }}));",
                    name = json!(csv_name)
                ))
                .await
                .unwrap();
            assert_eq!(download["status"], 200, "{download}");
            assert_eq!(download["type"], "text/csv; charset=utf-8");
            let text = download["text"].as_str().unwrap();
            assert!(text.contains("lost my bag") && text.contains("@max"), "{text}");

            // The tuning page: the brand's threshold and what the reviewed tasks suggest.
            click(&client, "nav button[data-view=tuning]").await;
            let row = wait_for_text(&client, "#thresholds tr[data-brand=acme]", "Acme Air").await;
            assert!(row.contains("40") && row.contains("not enough reviews yet"), "{row}");
            let href = client
                .find("#feedback-download")
                .await
                .unwrap()
                .attr("href")
                .await
                .unwrap();
            assert_eq!(href.as_deref(), Some("/api/feedback/export"));

            // An agent is offered neither the tuning page, nor assigning, nor the channel switch.
            store
                .disable_channel("ops", "404 from the platform", now_millis())
                .await
                .unwrap();
            click(&client, "#logout").await;
            log_in(&client, &site, "ann", "agent").await;
            let tuning = client.find("nav button[data-view=tuning]").await.unwrap();
            assert!(!tuning.is_displayed().await.unwrap(), "no tuning page for agents");
            click(&client, &format!("#tasks tr[data-id=\"{}\"]", jo.id)).await;
            wait_for_text(&client, "#detail h2", &format!("Task #{}", jo.id)).await;
            assert!(
                client.find_all("#assign-to").await.unwrap().is_empty(),
                "agents claim, leads assign"
            );
            click(&client, "nav button[data-view=channels]").await;
            wait_for_text(
                &client,
                "#channels tr[data-channel=ops] td.state",
                "404 from the platform",
            )
            .await;
            let buttons = client.find_all("#channels button.enable-channel").await.unwrap();
            assert!(buttons.is_empty(), "agents cannot turn channels on");
        })
        .await;
}

/// Exports in the test's folder, weeks in UTC.
fn exports(env: &TestEnv) -> earshot::config::ExportSettings {
    earshot::config::ExportSettings {
        dir: env.path().join("exports"),
        timezone: "UTC".to_owned(),
        ..earshot::config::ExportSettings::default()
    }
}
