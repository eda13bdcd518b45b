//! The lead dashboard's numbers are the weekly export's: for the same week, `GET
//! /api/dashboard` carries the summary the export wrote (per brand: volume, sentiment, first
//! response median and p90, SLA, recovered customers, terms, the change on last week), plus
//! per-agent numbers by the same rule, the open backlog by age and the breaches now; leads
//! only.

use std::sync::Arc;

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::exports::{exported_summary, with_exports_in};
use crate::support::fill::{complaints, filled, task_id_of};
use crate::support::{TestApp, TestEnv, on_both_backends};

async fn the_dashboard_shows_the_export_s_numbers_for_the_same_week(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let exports = tempfile::tempdir().unwrap();
    let settings = Arc::new(with_exports_in(&settings, exports.path()));
    let app = TestApp::new(&store, &settings);
    let (lee, ann) = (app.login("lee").await, app.login("ann").await);
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
