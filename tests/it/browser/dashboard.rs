//! The lead dashboard in the browser: the week's numbers as the export wrote them (brand
//! table, per-agent table, the backlog and breaches), the volume chart drawn in the page
//! from the same days, and the week kept in the address.

use std::sync::Arc;

use serde_json::{Value, json};

use earshot::tasks::actions::Action;

use super::queue::{click, log_in, task_of};
use super::workday::change_as;
use super::{Browser, wait_for, wait_for_text};
use crate::support::TestApp;
use crate::support::TestEnv;
use crate::support::exports::{exported_summary, with_exports_in};
use crate::support::fill::{complaints, filled};

/// A response time as the page writes it (under a minute: seconds).
fn seconds(ms: &Value) -> String {
    format!("{}s", (ms.as_f64().unwrap() / 1000.0).round())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_reads_the_week_at_a_glance_with_the_export_s_numbers() {
    let env = TestEnv::new();
    let (store, settings) = filled(&env, &complaints()).await;
    let exports = tempfile::tempdir().unwrap();
    let settings = Arc::new(with_exports_in(&settings, exports.path()));
    let jo = task_of(&store, "@jo").await;
    change_as(&store, jo.id, "bob", Action::Claim).await;
    change_as(
        &store,
        jo.id,
        "bob",
        Action::Reply {
            text: "So sorry, we are on it.".into(),
            template: None,
        },
    )
    .await;
    let (week, exported) = exported_summary(&store, &settings).await;
    let acme = exported["brands"][0].clone();
    assert_eq!(acme["brand"], "acme");
    let site = TestApp::new(&store, &settings);
    Browser::start()
        .await
        .run(|client| async move {
            log_in(&client, &site, "lee", "lead").await;
            click(&client, "nav button[data-view=dashboard]").await;
            let row = "#dash-brands tr[data-brand=acme]";
            wait_for_text(
                &client,
                &format!("{row} td.mentions"),
                &acme["week"]["mentions"].to_string(),
            )
            .await;
            let cell = |name: &'static str| {
                let client = client.clone();
                async move {
                    client
                        .find(&format!("{row} td.{name}"))
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap()
                }
            };
            assert_eq!(cell("opened").await, acme["week"]["tasks_opened"].to_string());
            assert_eq!(cell("median").await, seconds(&acme["week"]["median_first_response_ms"]));
            assert_eq!(cell("attainment").await, "100%", "the one decided SLA was met");
            wait_for_text(&client, "#dash-agents tr[data-agent=bob]", "100%").await;
            assert_eq!(client.find("#dash-breaches").await.unwrap().text().await.unwrap(), "0");

            // The chart is drawn in the page from the same days: its bars add up to the week.
            let drawn = client
                .execute(
                    "return [...document.querySelectorAll('figure[data-brand=acme] rect.bar')]
                       .map((r) => Number(r.querySelector('title').textContent.split(': ')[1].split(' ')[0]))
                       .reduce((a, b) => a + b, 0);",
                )
                .await
                .unwrap();
            assert_eq!(
                drawn, acme["week"]["mentions"],
                "bars per day and sentiment sum to the week"
            );
            let days: u64 = acme["days"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["mentions"].as_u64().unwrap())
                .sum();
            assert_eq!(json!(days), acme["week"]["mentions"]);

            // The week is in the address, and another week can be read.
            let url = client.current_url().await.unwrap();
            assert!(url.as_str().contains("view=dashboard"), "{url}");
            let week_shown = client
                .find("#dashboard-filters input[name=week]")
                .await
                .unwrap()
                .prop("value")
                .await
                .unwrap();
            assert_eq!(week_shown.as_deref(), Some(week.to_string().as_str()));
            let previous = week.previous().to_string();
            client
                .execute(&format!(
                    "const field = document.querySelector('#dashboard-filters input[name=week]');
                     field.value = '{previous}'; field.dispatchEvent(new Event('change', {{ bubbles: true }}));"
                ))
                .await
                .unwrap();
            wait_for_text(&client, "#dashboard-note", &format!("Week {previous}")).await;
            wait_for("the previous week in the address", || async {
                let url = client.current_url().await.map_err(|e| e.to_string())?;
                Ok(url.as_str().contains(&format!("week={previous}")).then_some(()))
            })
            .await;
        })
        .await;
}
