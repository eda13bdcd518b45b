//! Weekly exports on a real SQLite file filled through the real pipeline: week boundaries
//! in a zone with DST, an empty week, hostile text in CSV, the run log and the download API.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::TimeZone;
use http_body_util::BodyExt;
use tower::ServiceExt;

use earshot::config::{Settings, from_toml};
use earshot::domain::SourceId;
use earshot::exports::week::IsoWeek;
use earshot::exports::{ExportFormat, ExportOutcome, ExportRequest, Exporter};
use earshot::pipeline::Pipeline;
use earshot::scoring::ScoringService;
use earshot::scoring::lexicon::LexiconScorer;
use earshot::sources::jsonl::JsonlSource;
use earshot::store::ExportTrigger;
use earshot::web::{AppState, router};

use crate::support::{TestEnv, raw_sqlite, scalar};

fn settings(env: &TestEnv) -> Settings {
    let toml = format!(
        "{}\n[exports]\ntimezone = \"Europe/London\"\ndir = \"{}\"\n",
        env.config_toml(),
        env.path().join("exports").display()
    );
    from_toml(&toml, "export test config").unwrap()
}

fn post_line(id: &str, author: &str, text: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    serde_json::json!({
        "platform": "x",
        "id": id,
        "author": author,
        "text": text,
        "created_at": at.to_rfc3339(),
        "url": format!("https://x.com/{}/status/{id}", author.trim_start_matches('@')),
    })
    .to_string()
}

fn london(y: i32, m: u32, d: u32, h: u32, min: u32) -> chrono::DateTime<chrono::Utc> {
    chrono_tz::Europe::London
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .unwrap()
        .with_timezone(&chrono::Utc)
}

/// Polls the lines into the store through the pipeline and scores them.
async fn fill(env: &TestEnv, lines: &[String]) -> Arc<Pipeline> {
    env.append("acme-feed", lines);
    let settings = Arc::new(settings(env));
    let store = earshot::app::open_store(&settings).await.unwrap();
    let pipeline = Arc::new(Pipeline::new(
        store,
        ScoringService::start(Box::new(LexiconScorer), 2, 8),
        settings.clone(),
    ));
    let source = settings.source(&SourceId::parse("acme-feed").unwrap()).unwrap();
    let earshot::sources::SourceKind::Jsonl(jsonl) = &source.kind else {
        panic!("the test config's sources are jsonl sources");
    };
    pipeline
        .poll_source(&JsonlSource::new(source.id.clone(), jsonl.clone()))
        .await
        .unwrap();
    pipeline.score_pending().await.unwrap();
    pipeline
}

fn exporter(pipeline: &Pipeline) -> Exporter {
    Exporter::new(pipeline.store().clone(), &pipeline.settings().exports).unwrap()
}

async fn export(exporter: &Exporter, week: &str, format: ExportFormat) -> ExportOutcome {
    let request = ExportRequest {
        week: week.parse().unwrap(),
        brand: None,
        format,
        trigger: ExportTrigger::Manual,
    };
    exporter.export_week(&request, &|_| {}).await.unwrap().unwrap()
}

/// The posts CSV read back with the csv crate: header and records.
fn read_csv(path: &Path) -> (Vec<String>, Vec<csv::StringRecord>) {
    let bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader.headers().unwrap().iter().map(str::to_owned).collect();
    let records = reader.records().map(Result::unwrap).collect();
    (header, records)
}

fn column(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

fn texts_of(exporter: &Exporter, outcome: &ExportOutcome) -> Vec<String> {
    let (header, records) = read_csv(&exporter.dir().join(&outcome.files[0]));
    let text = column(&header, "text");
    records.iter().map(|r| r[text].to_owned()).collect()
}

#[tokio::test]
async fn weeks_follow_local_midnights_across_the_autumn_clock_change() {
    let env = TestEnv::new();
    // 2026-W43 in London: Mon 19 Oct 00:00 BST (18 Oct 23:00 UTC) to Mon 26 Oct 00:00 GMT;
    // the clocks go back on Sunday 25 Oct, so the week has 169 hours.
    let pipeline = fill(
        &env,
        &[
            post_line(
                "1",
                "@a",
                "acme air sunday 2255 before W43",
                london(2026, 10, 18, 23, 55),
            ),
            post_line(
                "2",
                "@b",
                "acme air monday 0030 BST opens W43",
                london(2026, 10, 19, 0, 30),
            ),
            post_line(
                "3",
                "@c",
                "acme air sunday 2330 GMT closes W43",
                london(2026, 10, 25, 23, 30),
            ),
            post_line(
                "4",
                "@d",
                "acme air monday 0030 GMT is W44",
                london(2026, 10, 26, 0, 30),
            ),
        ],
    )
    .await;
    let exporter = exporter(&pipeline);

    let w43 = export(&exporter, "2026-W43", ExportFormat::Csv).await;
    let w44 = export(&exporter, "2026-W44", ExportFormat::Csv).await;

    assert_eq!(
        texts_of(&exporter, &w43),
        [
            "acme air monday 0030 BST opens W43",
            "acme air sunday 2330 GMT closes W43"
        ]
    );
    assert_eq!(texts_of(&exporter, &w44), ["acme air monday 0030 GMT is W44"]);
    let days: Vec<u64> = w43.summary.brands[0].days.iter().map(|d| d.stats.mentions).collect();
    assert_eq!(days, [1, 0, 0, 0, 0, 0, 1], "Monday and Sunday, in local time");
    assert_eq!(w43.summary.end_ms - w43.summary.start_ms, 169 * 3_600_000);
    let (header, records) = read_csv(&exporter.dir().join(&w43.files[0]));
    assert_eq!(
        &records[1][column(&header, "created_at_local")],
        "2026-10-25 23:30:00",
        "times are shown in the week's zone"
    );
    assert_eq!(&records[1][column(&header, "created_at_utc")], "2026-10-25T23:30:00Z");
}

#[tokio::test]
async fn an_empty_week_writes_every_file_with_headers_and_zero_counts() {
    let env = TestEnv::new();
    let pipeline = fill(&env, &[]).await;
    let exporter = exporter(&pipeline);

    let outcome = export(&exporter, "2026-W47", ExportFormat::Csv).await;

    assert_eq!(
        outcome.files,
        [
            "2026-W47/earshot-2026-W47-all-posts.csv",
            "2026-W47/earshot-2026-W47-all-daily.csv",
            "2026-W47/earshot-2026-W47-all-summary.json",
            "2026-W47/earshot-2026-W47-all-chart.svg",
        ]
    );
    let (header, records) = read_csv(&exporter.dir().join(&outcome.files[0]));
    assert_eq!(header, earshot::exports::csv::POST_COLUMNS);
    assert!(records.is_empty());
    let (daily_header, daily) = read_csv(&exporter.dir().join(&outcome.files[1]));
    assert_eq!(daily_header, earshot::exports::csv::SUMMARY_COLUMNS);
    assert!(daily.is_empty(), "no brand had posts");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(exporter.dir().join(&outcome.files[2])).unwrap()).unwrap();
    assert_eq!(summary["n_rows"], 0);
    assert_eq!(summary["week"], "2026-W47");
    let chart = std::fs::read_to_string(exporter.dir().join(&outcome.files[3])).unwrap();
    assert!(chart.starts_with("<svg") && chart.contains("No mentions this week"));
    let leftovers: Vec<_> = std::fs::read_dir(exporter.dir().join("2026-W47"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".partial"))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary files are renamed or removed: {leftovers:?}"
    );
}

#[tokio::test]
async fn hostile_text_survives_the_csv_round_trip_and_formulas_are_neutralised() {
    let env = TestEnv::new();
    let at = london(2026, 11, 18, 12, 0);
    let hostile = [
        "=HYPERLINK(\"http://evil.example\",\"acme air refund\")",
        "+acme air 1+1",
        "-acme air minus",
        "@AcmeAir worst service",
        "acme air \"quoted\", comma\nnew line ünïcödé 航班 😡",
    ];
    let lines: Vec<String> = hostile
        .iter()
        .enumerate()
        .map(|(i, text)| {
            post_line(
                &format!("h{i}"),
                &format!("@user{i}"),
                text,
                at + chrono::Duration::minutes(i as i64),
            )
        })
        .collect();
    let pipeline = fill(&env, &lines).await;
    let exporter = exporter(&pipeline);

    let outcome = export(&exporter, "2026-W47", ExportFormat::Csv).await;

    let texts = texts_of(&exporter, &outcome);
    let expected: Vec<String> = hostile
        .iter()
        .map(|text| match text.chars().next() {
            Some('=' | '+' | '-' | '@') => format!("'{text}"),
            _ => (*text).to_owned(),
        })
        .collect();
    assert_eq!(texts, expected);
    let (header, records) = read_csv(&exporter.dir().join(&outcome.files[0]));
    assert!(records.iter().all(|r| r[column(&header, "author")].starts_with("'@")));
    assert_eq!(outcome.summary.n_rows, 5);
}

#[tokio::test]
async fn json_lines_carry_the_raw_text_and_the_summary_counts_sentiment() {
    let env = TestEnv::new();
    let at = london(2026, 11, 17, 9, 0);
    let pipeline = fill(
        &env,
        &[
            post_line("1", "@jo", "@AcmeAir lost my bag, worst airline, refund never came", at),
            post_line(
                "2",
                "@kim",
                "Acme Air crew were great, thanks",
                at + chrono::Duration::hours(1),
            ),
        ],
    )
    .await;
    let exporter = exporter(&pipeline);

    let outcome = export(&exporter, "2026-W47", ExportFormat::Json).await;

    let jsonl = std::fs::read_to_string(exporter.dir().join(&outcome.files[0])).unwrap();
    let rows: Vec<serde_json::Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0]["text"],
        "@AcmeAir lost my bag, worst airline, refund never came"
    );
    assert_eq!(rows[0]["sentiment"], "negative");
    assert!(rows[0]["task_id"].is_i64(), "the complaint opened a task");
    let on_disk: serde_json::Value =
        serde_json::from_slice(&std::fs::read(exporter.dir().join(&outcome.files[1])).unwrap()).unwrap();
    let acme = &on_disk["brands"][0];
    assert_eq!(acme["brand"], "acme");
    assert_eq!(acme["week"]["mentions"], 2);
    assert_eq!(acme["week"]["negative"], 1);
    assert_eq!(acme["week"]["tasks_opened"], 0, "the task was opened now, not in W47");
    assert!(acme["week"]["recovered_customers"].is_null());
    let terms: Vec<&str> = acme["week"]["top_terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["term"].as_str().unwrap())
        .collect();
    assert!(terms.contains(&"bag") && terms.contains(&"refund"), "{terms:?}");
}

#[tokio::test]
async fn week_over_week_change_compares_with_the_previous_week() {
    let env = TestEnv::new();
    let pipeline = fill(
        &env,
        &[
            post_line("1", "@a", "acme air flight one", london(2026, 11, 10, 10, 0)),
            post_line("2", "@b", "acme air flight two", london(2026, 11, 17, 10, 0)),
            post_line("3", "@c", "acme air flight three", london(2026, 11, 18, 10, 0)),
        ],
    )
    .await;
    let exporter = exporter(&pipeline);

    let outcome = export(&exporter, "2026-W47", ExportFormat::Csv).await;

    let change = &outcome.summary.brands[0].change;
    assert_eq!(change.previous_mentions, 1);
    assert_eq!(change.mentions_pct, Some(100.0));
}

#[tokio::test]
async fn two_scheduled_triggers_export_a_missed_week_once() {
    let env = TestEnv::new();
    let pipeline = fill(
        &env,
        &[post_line("1", "@a", "acme air in W46", london(2026, 11, 11, 10, 0))],
    )
    .await;
    let exporter = exporter(&pipeline);
    // The service was down on Monday 16 Nov; it comes back on Wednesday 18 Nov.
    let now = london(2026, 11, 18, 9, 0).timestamp_millis();

    let first = exporter.run_due(now).await.unwrap();
    let second = exporter.run_due(now).await.unwrap();

    let weeks: Vec<String> = first.iter().map(|o| o.week.to_string()).collect();
    assert_eq!(weeks, ["2026-W46"], "the week of the first post and none before it");
    assert!(second.is_empty(), "the second trigger finds the week done");
    let db = raw_sqlite(&env.db_path()).await;
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM export_runs WHERE trigger_kind = 'scheduled'").await,
        1
    );
    assert_eq!(
        scalar(&db, "SELECT COUNT(*) FROM export_runs WHERE status = 'done'").await,
        1
    );
}

#[tokio::test]
async fn concurrent_scheduled_triggers_claim_a_week_once_and_manual_runs_always_write() {
    let env = TestEnv::new();
    let pipeline = fill(&env, &[]).await;
    let exporter = Arc::new(exporter(&pipeline));
    let week: IsoWeek = "2026-W47".parse().unwrap();
    let request = |trigger| ExportRequest {
        week,
        brand: None,
        format: ExportFormat::Csv,
        trigger,
    };

    let scheduled = request(ExportTrigger::Scheduled);
    let (a, b) = tokio::join!(
        exporter.export_week(&scheduled, &|_| {}),
        exporter.export_week(&scheduled, &|_| {}),
    );
    let manual_1 = exporter
        .export_week(&request(ExportTrigger::Manual), &|_| {})
        .await
        .unwrap();
    let manual_2 = exporter
        .export_week(&request(ExportTrigger::Manual), &|_| {})
        .await
        .unwrap();

    let n_written = [a.unwrap(), b.unwrap()].iter().filter(|o| o.is_some()).count();
    assert_eq!(n_written, 1);
    assert!(manual_1.is_some() && manual_2.is_some());
    let runs = pipeline.store().export_runs(10).await.unwrap();
    let kinds: Vec<(&str, &str)> = runs.iter().map(|r| (r.trigger.as_str(), r.status.as_str())).collect();
    assert_eq!(kinds, [("manual", "done"), ("manual", "done"), ("scheduled", "done")]);
}

#[tokio::test]
async fn the_api_lists_runs_and_serves_files_but_nothing_outside_the_exports() {
    let env = TestEnv::new();
    let pipeline = fill(
        &env,
        &[post_line(
            "1",
            "@a",
            "acme air crew were great",
            london(2026, 11, 17, 10, 0),
        )],
    )
    .await;
    let exporter = exporter(&pipeline);
    export(&exporter, "2026-W47", ExportFormat::Csv).await;
    let bearer = crate::support::api_bearer(pipeline.store(), earshot::auth::Role::Lead).await;
    let app = router(AppState {
        store: pipeline.store().clone(),
        settings: pipeline.settings().clone(),
    });
    let get = |uri: &str| {
        let app = app.clone();
        let request = Request::get(uri)
            .header("authorization", &bearer)
            .body(Body::empty())
            .unwrap();
        async move { app.oneshot(request).await.unwrap() }
    };

    let runs = get("/api/exports").await;
    let csv = get("/api/exports/2026-W47/earshot-2026-W47-all-posts.csv").await;
    let traversal = get("/api/exports/2026-W47/..%2F..%2Fearshot.db").await;
    let other_week = get("/api/exports/2026-W46/earshot-2026-W47-all-posts.csv").await;
    let bad_week = get("/api/exports/..%2F/earshot.toml").await;

    assert_eq!(runs.status(), StatusCode::OK);
    let runs: serde_json::Value =
        serde_json::from_slice(&runs.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(runs[0]["week"], "2026-W47");
    assert_eq!(runs[0]["files"][0], "2026-W47/earshot-2026-W47-all-posts.csv");
    assert_eq!(csv.status(), StatusCode::OK);
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let body = csv.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        body.as_ref(),
        std::fs::read(exporter.dir().join("2026-W47/earshot-2026-W47-all-posts.csv")).unwrap()
    );
    for response in [traversal, other_week, bad_week] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}

#[test]
fn summaries_serialise_weeks_as_iso_text() {
    let week: IsoWeek = "2026-W01".parse().unwrap();
    assert_eq!(serde_json::to_value(week).unwrap(), "2026-W01");
}
