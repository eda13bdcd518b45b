//! The lead dashboard's numbers are the weekly export's: for the same week, `GET
//! /api/dashboard` carries the summary the export wrote (per brand: volume, sentiment, first
//! response median and p90, SLA, recovered customers, terms, the change on last week), plus
//! per-agent numbers by the same rule, the open backlog by age and the breaches now; leads
//! only.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};

use earshot::domain::now_millis;
use earshot::exports::week::IsoWeek;
use earshot::exports::{ExportFormat, ExportRequest, Exporter};
use earshot::store::ExportTrigger;
use earshot::web::{AppState, router};

use crate::review::{Client, complaints, filled, task_id_of};
use crate::support::{TestEnv, on_both_backends};

/// The current week's export, run for real; returns its summary file and the settings used.
pub(crate) async fn exported_summary(
    store: &Arc<dyn earshot::store::Store>,
    settings: &earshot::config::Settings,
) -> (IsoWeek, Value) {
    let exporter = Exporter::new(store.clone(), &settings.exports).unwrap();
    let week = IsoWeek::containing(now_millis(), exporter.timezone());
    let request = ExportRequest {
        week,
        brand: None,
        format: ExportFormat::Json,
        trigger: ExportTrigger::Manual,
    };
    exporter.export_week(&request, &|_| {}).await.unwrap().unwrap();
    let file = settings
        .exports
        .dir
        .join(week.to_string())
        .join(format!("earshot-{week}-all-summary.json"));
    (week, serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap())
}

/// Test settings writing exports into the test's own folder.
pub(crate) fn with_exports_in(
    settings: &earshot::config::Settings,
    dir: &std::path::Path,
) -> earshot::config::Settings {
    let mut settings = settings.clone();
    settings.exports.dir = dir.to_owned();
    settings
}

async fn the_dashboard_shows_the_export_s_numbers_for_the_same_week(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let exports = tempfile::tempdir().unwrap();
    let settings = Arc::new(with_exports_in(&settings, exports.path()));
    let app = router(AppState::new(store.clone(), settings.clone()));
    let (lee, ann) = (Client::login(&app, "lee").await, Client::login(&app, "ann").await);
    // Ann answers @jo and resolves; @max waits.
    let jo = task_id_of(&ann, "@jo").await;
    for action in [
        json!({ "action": "claim" }),
        json!({ "action": "reply", "text": "So sorry, we are on it." }),
        json!({ "action": "resolve" }),
    ] {
        let (status, body) = ann.act(jo, action).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let (week, exported) = exported_summary(&store, &settings).await;
    let (status, shown) = lee.get(&format!("/api/dashboard?week={week}")).await;

    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["week"], week.to_string());
    assert_eq!(
        shown["summary"]["brands"], exported["brands"],
        "the export's numbers, brand by brand"
    );
    let acme = &shown["summary"]["brands"][0]["week"];
    assert_eq!((&acme["tasks_opened"], &acme["tasks_resolved"]), (&json!(2), &json!(1)));
    assert!(acme["median_first_response_ms"].as_i64().is_some(), "{acme}");
    let agents: Vec<(&str, &Value, &Value)> = shown["agents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["agent"].as_str().unwrap(),
                &a["tasks_resolved"],
                &a["median_first_response_ms"],
            )
        })
        .collect();
    assert_eq!(
        agents,
        [
            ("(unassigned)", &json!(0), &Value::Null),
            ("ann", &json!(1), &acme["median_first_response_ms"])
        ],
        "per agent, by the same rule"
    );
    let backlog: i64 = shown["backlog"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["tasks"].as_i64().unwrap())
        .sum();
    assert_eq!(backlog, 1, "@max's task, in one age bucket: {shown}");
    assert_eq!(shown["backlog"][0]["tasks"], 1, "opened under an hour ago: {shown}");
    assert_eq!(shown["breaches_now"], 0);

    let (status, _) = ann.get("/api/dashboard").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "leads and admins only");
    let (status, bad) = lee.get("/api/dashboard?week=2026-49").await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
}

on_both_backends!(the_dashboard_shows_the_export_s_numbers_for_the_same_week);
