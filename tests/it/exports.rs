//! Weekly exports on a real SQLite file and a real PostgreSQL database, filled through the
//! real pipeline: week boundaries in a zone with DST, an empty week, hostile text in CSV,
//! Parquet read back with the parquet crate, the PNG chart, recovered customers, the run log
//! and the download API.

use std::path::Path;
use std::sync::Arc;

use axum::http::StatusCode;
use chrono::TimeZone;
use http_body_util::BodyExt;

use earshot::config::Settings;
use earshot::exports::week::IsoWeek;
use earshot::exports::{ExportFormat, ExportOutcome, ExportRequest, Exporter};
use earshot::pipeline::Pipeline;
use earshot::store::ExportTrigger;
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::{Field, Row, RowAccessor};

use crate::support::{TestApp, TestEnv, on_both_backends, pipeline_for, poll_feed};

fn settings(env: &TestEnv) -> Settings {
    env.config()
        .set("exports", "timezone", "Europe/London")
        .set("exports", "dir", env.path().join("exports").display().to_string())
        .settings()
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
    let pipeline = pipeline_for(settings(env)).await;
    poll_feed(&pipeline, 1).await;
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

async fn weeks_follow_local_midnights_across_the_autumn_clock_change(env: TestEnv) {
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

async fn an_empty_week_writes_every_file_with_headers_and_zero_counts(env: TestEnv) {
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
            "2026-W47/earshot-2026-W47-all-chart.png",
            "2026-W47/earshot-2026-W47-all-problems.csv",
        ]
    );
    let (header, records) = read_csv(&exporter.dir().join(&outcome.files[0]));
    assert_eq!(header, earshot::exports::csv::POST_COLUMNS);
    let (problems_header, problems) = read_csv(&exporter.dir().join(&outcome.files[5]));
    assert_eq!(problems_header[..3], ["brand", "problem_id", "label"]);
    assert!(problems.is_empty(), "no complaints, no problems");
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
    let png = lodepng::decode24(std::fs::read(exporter.dir().join(&outcome.files[4])).unwrap()).unwrap();
    assert_eq!((png.width, png.height), (1920, 960));
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

async fn hostile_text_survives_the_csv_round_trip_and_formulas_are_neutralised(env: TestEnv) {
    let at = london(2026, 11, 18, 12, 0);
    let hostile = [
        "=HYPERLINK(\"http://evil.example\",\"acme air refund\")",
        "+acme air 1+1",
        "-acme air minus",
        "@AcmeAir worst service",
        "acme air \"quoted\", comma\nnew line ünïcödé 航班 😡",
        "  \n=acme air after a line break",
        "acme air; =HYPERLINK(\"http://evil.example\")",
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
        .map(|text| match text.trim_start().chars().next() {
            Some('=' | '+' | '-' | '@') => format!("'{text}"),
            _ => (*text).to_owned(),
        })
        .collect();
    assert_eq!(texts, expected);
    let (header, records) = read_csv(&exporter.dir().join(&outcome.files[0]));
    assert!(records.iter().all(|r| r[column(&header, "author")].starts_with("'@")));
    assert_eq!(outcome.summary.n_rows, 7);
    // Text cells are quoted, so a spreadsheet splitting on `;` keeps the post in one cell.
    let raw = String::from_utf8(std::fs::read(exporter.dir().join(&outcome.files[0])).unwrap()).unwrap();
    assert!(
        raw.contains("\"acme air; =HYPERLINK(\"\"http://evil.example\"\")\""),
        "{raw}"
    );
}

async fn json_lines_carry_the_raw_text_and_the_summary_counts_sentiment(env: TestEnv) {
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
    assert_eq!(acme["week"]["recovered_customers"], 0, "no task was resolved");
    let terms: Vec<&str> = acme["week"]["top_terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["term"].as_str().unwrap())
        .collect();
    assert!(terms.contains(&"bag") && terms.contains(&"refund"), "{terms:?}");
}

async fn week_over_week_change_compares_with_the_previous_week(env: TestEnv) {
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

async fn two_scheduled_triggers_export_a_missed_week_once(env: TestEnv) {
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
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM export_runs WHERE trigger_kind = 'scheduled'")
            .await,
        1
    );
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM export_runs WHERE status = 'done'")
            .await,
        1
    );
}

async fn concurrent_scheduled_triggers_claim_a_week_once_and_manual_runs_always_write(env: TestEnv) {
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

async fn the_api_lists_runs_and_serves_files_but_nothing_outside_the_exports(env: TestEnv) {
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
    let lead = TestApp::new(pipeline.store(), pipeline.settings())
        .bearer(earshot::auth::Role::Lead)
        .await;
    let get = |uri: &'static str| lead.get_raw(uri, &[]);

    let runs = get("/api/exports").await;
    let csv = get("/api/exports/2026-W47/earshot-2026-W47-all-posts.csv").await;
    let png = get("/api/exports/2026-W47/earshot-2026-W47-all-chart.png").await;
    let traversal = get("/api/exports/2026-W47/..%2F..%2Fearshot.db").await;
    let other_week = get("/api/exports/2026-W46/earshot-2026-W47-all-posts.csv").await;
    let bad_week = get("/api/exports/..%2F/earshot.toml").await;
    // Symbolic links planted inside the export folder, pointing outside it: a file with an
    // export's name, and a whole week folder.
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.txt");
    std::fs::write(&secret, "not an export").unwrap();
    std::os::unix::fs::symlink(
        &secret,
        exporter.dir().join("2026-W47/earshot-2026-W47-all-posts.jsonl"),
    )
    .unwrap();
    let fake_week = outside.path().join("week");
    std::fs::create_dir(&fake_week).unwrap();
    std::fs::write(fake_week.join("earshot-2026-W40-all-posts.csv"), "not an export either").unwrap();
    std::os::unix::fs::symlink(&fake_week, exporter.dir().join("2026-W40")).unwrap();
    let linked_file = get("/api/exports/2026-W47/earshot-2026-W47-all-posts.jsonl").await;
    let linked_week = get("/api/exports/2026-W40/earshot-2026-W40-all-posts.csv").await;

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
    assert_eq!(png.status(), StatusCode::OK);
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(
        png.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline"),
        "the chart link from chat opens in the browser"
    );
    for response in [traversal, other_week, bad_week, linked_file, linked_week] {
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
    }
}

#[test]
fn summaries_serialise_weeks_as_iso_text() {
    let week: IsoWeek = "2026-W01".parse().unwrap();
    assert_eq!(serde_json::to_value(week).unwrap(), "2026-W01");
}

/// Every row of a Parquet file, read with the parquet crate's own reader.
fn read_parquet(path: &Path) -> (Vec<String>, Vec<Row>) {
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let schema = reader.metadata().file_metadata().schema_descr();
    let names = schema.columns().iter().map(|c| c.name().to_owned()).collect();
    let rows = reader.get_row_iter(None).unwrap().map(Result::unwrap).collect();
    (names, rows)
}

fn field<'a>(names: &[String], row: &'a Row, name: &str) -> &'a Field {
    let i = names.iter().position(|n| n == name).unwrap();
    row.get_column_iter().nth(i).unwrap().1
}

async fn parquet_files_read_back_with_types_and_nulls(env: TestEnv) {
    let at = london(2026, 7, 14, 9, 30);
    let pipeline = fill(
        &env,
        &[
            post_line("1", "@jo", "@AcmeAir lost my bag, worst airline, refund never came", at),
            post_line(
                "2",
                "@kim",
                "=acme air crew were great, thanks 😀",
                at + chrono::Duration::hours(2),
            ),
        ],
    )
    .await;
    let exporter = exporter(&pipeline);

    let outcome = export(&exporter, "2026-W29", ExportFormat::Parquet).await;

    assert_eq!(
        outcome.files,
        [
            "2026-W29/earshot-2026-W29-all-posts.parquet",
            "2026-W29/earshot-2026-W29-all-daily.parquet",
            "2026-W29/earshot-2026-W29-all-summary.json",
            "2026-W29/earshot-2026-W29-all-chart.svg",
            "2026-W29/earshot-2026-W29-all-chart.png",
            "2026-W29/earshot-2026-W29-all-problems.csv",
        ]
    );
    let (names, rows) = read_parquet(&exporter.dir().join(&outcome.files[0]));
    assert_eq!(names, earshot::exports::csv::POST_COLUMNS);
    assert_eq!(rows.len(), 2);
    let (complaint, praise) = (&rows[0], &rows[1]);
    assert_eq!(
        field(&names, complaint, "created_at_utc"),
        &Field::TimestampMillis(at.timestamp_millis())
    );
    assert_eq!(
        field(&names, complaint, "created_at_local"),
        &Field::TimestampMillis(at.timestamp_millis() + 3_600_000),
        "local wall-clock time: 09:30 BST"
    );
    assert_eq!(
        complaint
            .get_string(names.iter().position(|n| n == "sentiment").unwrap())
            .unwrap(),
        "negative"
    );
    let p_negative = complaint
        .get_float(names.iter().position(|n| n == "p_negative").unwrap())
        .unwrap();
    assert!(p_negative > 0.5, "{p_negative}");
    assert!(
        matches!(field(&names, complaint, "task_id"), Field::Long(id) if *id > 0),
        "the complaint opened a task"
    );
    assert!(matches!(
        field(&names, complaint, "due_at_local"),
        Field::TimestampMillis(_)
    ));
    assert_eq!(
        field(&names, complaint, "sla_met"),
        &Field::Bool(false),
        "found long after it was posted and never answered: the SLA counts from the post"
    );
    assert_eq!(
        field(&names, praise, "text"),
        &Field::Str("=acme air crew were great, thanks 😀".to_owned()),
        "Parquet keeps the text verbatim"
    );
    for nullable in [
        "task_id",
        "task_status",
        "task_opened_at_local",
        "first_response_minutes",
        "sla_met",
    ] {
        assert_eq!(field(&names, praise, nullable), &Field::Null, "{nullable}");
    }
    assert_eq!(
        field(&names, praise, "permalink"),
        &Field::Str("https://x.com/kim/status/2".to_owned())
    );

    let (daily_names, daily) = read_parquet(&exporter.dir().join(&outcome.files[1]));
    assert_eq!(daily_names, earshot::exports::csv::SUMMARY_COLUMNS);
    assert_eq!(daily.len(), 8, "seven days and the week for the one brand");
    let week = &daily[7];
    assert_eq!(field(&daily_names, week, "period"), &Field::Str("2026-W29".to_owned()));
    assert_eq!(field(&daily_names, week, "mentions"), &Field::Long(2));
    assert_eq!(field(&daily_names, week, "negative_share"), &Field::Double(0.5));
    assert_eq!(field(&daily_names, week, "recovered_customers"), &Field::Long(0));
    assert_eq!(
        field(&daily_names, week, "mentions_change_vs_previous_week"),
        &Field::Null,
        "no posts the week before"
    );
    assert_eq!(
        field(&daily_names, &daily[1], "period"),
        &Field::Str("2026-07-14".to_owned())
    );
    assert_eq!(field(&daily_names, &daily[1], "mentions"), &Field::Long(2));
    assert_eq!(
        field(&daily_names, &daily[0], "negative_share"),
        &Field::Null,
        "Monday had no posts"
    );
}

async fn recovered_customers_count_resolved_tasks_whose_authors_next_post_was_not_negative(env: TestEnv) {
    use earshot::auth::Role;
    use earshot::store::TaskFilter;
    use earshot::tasks::actions::{Action, Actor, decide};

    let complaint = "@AcmeAir cancelled my flight, terrible service, I want a refund";
    let pipeline = fill(
        &env,
        &[
            crate::support::line("1", "@jo", complaint),
            crate::support::line("2", "@kim", complaint),
        ],
    )
    .await;
    let store = pipeline.store().clone();
    let tasks = store
        .list_tasks(&TaskFilter {
            limit: 10,
            ..TaskFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(tasks.len(), 2, "both complaints opened a task");
    let lead = Actor {
        name: "lee".to_owned(),
        role: Role::Lead,
    };
    let resolved_at = earshot::domain::now_millis() + 1_000;
    for task in &tasks {
        let claim = decide(task, &lead, &Action::Claim, None, resolved_at - 500, 0).unwrap();
        let claimed = store.apply_task_change(claim).await.unwrap();
        let resolve = decide(&claimed, &lead, &Action::Resolve, None, resolved_at, 0).unwrap();
        store.apply_task_change(resolve).await.unwrap();
    }
    // A minute after the resolution @jo is happy and @kim is still angry.
    let later = chrono::DateTime::from_timestamp_millis(resolved_at + 60_000).unwrap();
    env.append(
        "acme-feed",
        &[
            post_line("3", "@jo", "@AcmeAir rebooked me in minutes, thanks", later),
            post_line("4", "@kim", "@AcmeAir still no refund, worst airline, terrible", later),
        ],
    );
    poll_feed(&pipeline, 1).await;
    let exporter = exporter(&pipeline);
    let week = IsoWeek::containing(resolved_at, exporter.timezone());

    let outcome = export(&exporter, &week.to_string(), ExportFormat::Csv).await;

    let acme = &outcome.summary.brands[0];
    assert_eq!(acme.week.tasks_resolved, 2);
    assert_eq!(
        acme.week.recovered_customers,
        Some(1),
        "only @jo's next post was not negative"
    );
    let day = earshot::exports::week::local_date(resolved_at, exporter.timezone());
    let on_the_day = acme.days.iter().find(|d| d.date == day).unwrap();
    assert_eq!(
        on_the_day.stats.recovered_customers,
        Some(1),
        "counted on the day of resolution"
    );
    let (header, records) = read_csv(&exporter.dir().join(&outcome.files[1]));
    let week_row = records.last().unwrap();
    assert_eq!(&week_row[column(&header, "recovered_customers")], "1");
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM tasks WHERE recovered IS NOT NULL")
            .await,
        2,
        "the export recorded both follow-ups"
    );
}

/// Inserts a task of brand `acme` as the review queue would leave it (times chosen by the
/// test), with a `dismissed` event when `dismissed_at` is given; returns its id.
async fn task_row(
    env: &TestEnv,
    opened: i64,
    replied: Option<i64>,
    resolved: Option<i64>,
    dismissed_at: Option<i64>,
) -> i64 {
    let db = env.raw().await;
    let status = match (resolved, dismissed_at, replied) {
        (Some(_), _, _) => "resolved",
        (_, Some(_), _) => "dismissed",
        (_, _, Some(_)) => "responded",
        _ => "open",
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tasks (brand_id, platform, author_handle, status, priority, criticality, opened_at_ms,
                            due_at_ms, first_response_at_ms, resolved_at_ms, last_activity_at_ms, updated_at_ms,
                            sla_started_at_ms)
         VALUES ('acme', 'x', '@someone', $1, 1, 70.0, $2, $3, $4, $5, $2, $2, $2) RETURNING id",
    )
    .bind(status)
    .bind(opened)
    .bind(opened + HOUR_MS)
    .bind(replied)
    .bind(resolved)
    .fetch_one(&db)
    .await
    .unwrap();
    if let Some(at) = dismissed_at {
        sqlx::query(
            "INSERT INTO task_events (task_id, at_ms, actor, kind, detail_json) VALUES ($1, $2, 'lee', 'dismissed', '{}')",
        )
        .bind(id)
        .bind(at)
        .execute(&db)
        .await
        .unwrap();
    }
    id
}

const HOUR_MS: i64 = 3_600_000;

async fn sla_numbers_count_each_task_in_the_week_its_sla_was_decided_and_leave_dismissals_out(env: TestEnv) {
    let pipeline = fill(&env, &[]).await;
    let exporter = exporter(&pipeline);
    let week: IsoWeek = "2025-W10".parse().unwrap();
    let (start, _) = week.bounds(exporter.timezone());
    let tuesday = start + 24 * HOUR_MS + 10 * HOUR_MS;
    // Due an hour after opening. Met: a reply in time; a resolution without a recorded reply.
    task_row(&env, tuesday, Some(tuesday + HOUR_MS / 2), None, None).await;
    task_row(&env, tuesday, None, Some(tuesday + HOUR_MS / 3), None).await;
    // Breached: a late reply; no reply at all; and one opened late the Sunday before, due
    // in this week, never answered.
    task_row(&env, tuesday, Some(tuesday + 2 * HOUR_MS), None, None).await;
    task_row(&env, tuesday, None, None, None).await;
    task_row(&env, start - HOUR_MS / 2, None, None, None).await;
    // Spam, dismissed after its due time: it needed no answer. A note a week later moves
    // its updated time, not its dismissal.
    let spam = task_row(&env, tuesday, None, None, Some(tuesday + 3 * HOUR_MS)).await;
    let db = env.raw().await;
    sqlx::query("UPDATE tasks SET updated_at_ms = $1 WHERE id = $2")
        .bind(tuesday + 8 * 24 * HOUR_MS)
        .bind(spam)
        .execute(&db)
        .await
        .unwrap();

    let this = export(&exporter, "2025-W10", ExportFormat::Csv).await;
    let before = export(&exporter, "2025-W09", ExportFormat::Csv).await;
    let after = export(&exporter, "2025-W11", ExportFormat::Csv).await;

    let stats = &this.summary.brands[0].week;
    assert_eq!(
        (stats.tasks_opened, stats.tasks_resolved, stats.tasks_dismissed),
        (5, 1, 1),
        "{stats:?}"
    );
    assert_eq!(stats.sla_breach_rate, Some(3.0 / 5.0), "{stats:?}");
    let tuesday_stats = &this.summary.brands[0].days[1].stats;
    assert_eq!(tuesday_stats.sla_breach_rate, Some(2.0 / 4.0), "{tuesday_stats:?}");
    let monday_stats = &this.summary.brands[0].days[0].stats;
    assert_eq!(
        monday_stats.sla_breach_rate,
        Some(1.0),
        "the Sunday task breached on Monday"
    );
    let opened_before = &before.summary.brands[0].week;
    assert_eq!(
        (opened_before.tasks_opened, opened_before.sla_breach_rate),
        (1, None),
        "opened the week before, decided in this one"
    );
    let week_after = after
        .summary
        .brands
        .first()
        .map(|b| (b.week.tasks_dismissed, b.week.sla_breach_rate));
    assert!(
        matches!(week_after, None | Some((0, None))),
        "nothing happened the week after: {week_after:?}"
    );
}

/// A complaint earshot found long after it was posted (a backfill): the first response time
/// in the posts file and the summary counts from the customer's post, not from when the task
/// opened, and the task was due an SLA after the post.
async fn the_first_response_time_counts_from_the_customer_post(env: TestEnv) {
    let posted = london(2025, 3, 4, 10, 0);
    let pipeline = fill(
        &env,
        &[post_line(
            "77",
            "@jo",
            "@AcmeAir lost my bag and the refund never came, worst airline, never again",
            posted,
        )],
    )
    .await;
    let db = env.raw().await;
    let (started, opened, due, rank): (i64, i64, i64, i64) =
        sqlx::query_as("SELECT sla_started_at_ms, opened_at_ms, due_at_ms, priority FROM tasks")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(started, posted.timestamp_millis(), "the clock starts at the post");
    assert!(
        opened > started + 365 * 24 * HOUR_MS,
        "the task opened when earshot found it"
    );
    let priority = earshot::domain::Priority::from_rank(rank).unwrap();
    let sla_ms = i64::try_from(pipeline.settings().tasks.sla_secs.for_priority(priority)).unwrap() * 1000;
    assert_eq!(due, started + sla_ms, "due an SLA after the post");
    // Answered 90 minutes after the customer posted.
    sqlx::query("UPDATE tasks SET status = 'responded', first_response_at_ms = $1")
        .bind(started + 90 * 60_000)
        .execute(&db)
        .await
        .unwrap();

    let exporter = exporter(&pipeline);
    let outcome = export(&exporter, "2025-W10", ExportFormat::Csv).await;

    let (header, records) = read_csv(&exporter.dir().join(&outcome.files[0]));
    assert_eq!(records.len(), 1);
    assert_eq!(&records[0][column(&header, "first_response_minutes")], "90.0");
    let week = &outcome.summary.brands[0].week;
    assert_eq!(week.median_first_response_ms, Some(90 * 60_000), "{week:?}");
}

on_both_backends!(
    the_first_response_time_counts_from_the_customer_post,
    sla_numbers_count_each_task_in_the_week_its_sla_was_decided_and_leave_dismissals_out,
    weeks_follow_local_midnights_across_the_autumn_clock_change,
    an_empty_week_writes_every_file_with_headers_and_zero_counts,
    hostile_text_survives_the_csv_round_trip_and_formulas_are_neutralised,
    json_lines_carry_the_raw_text_and_the_summary_counts_sentiment,
    week_over_week_change_compares_with_the_previous_week,
    two_scheduled_triggers_export_a_missed_week_once,
    concurrent_scheduled_triggers_claim_a_week_once_and_manual_runs_always_write,
    the_api_lists_runs_and_serves_files_but_nothing_outside_the_exports,
    parquet_files_read_back_with_types_and_nulls,
    recovered_customers_count_resolved_tasks_whose_authors_next_post_was_not_negative,
);

/// A summary of `week` with `n` posts on its Monday, all with `sentiment`.
fn summary_with(n: usize, sentiment: &str) -> earshot::exports::summary::Summary {
    let week: IsoWeek = "2026-W47".parse().unwrap();
    let tz = chrono_tz::Europe::London;
    let (start, _) = week.bounds(tz);
    let mut builder = earshot::exports::summary::SummaryBuilder::new(week, tz, &["acme".to_owned()]);
    for i in 0..n {
        builder.add_row(&earshot::store::ExportRow {
            mention_id: earshot::domain::MentionId::new(i as i64 + 1),
            post_id: earshot::domain::PostId::new(i as i64 + 1),
            created_at_ms: start + 3_600_000,
            brand: earshot::domain::BrandId::parse("acme").unwrap(),
            platform: earshot::domain::Platform::X,
            author: "@a".to_owned(),
            text: "acme air lost my bag".to_owned(),
            permalink: None,
            sentiment: Some(sentiment.to_owned()),
            negative: None,
            neutral: None,
            positive: None,
            criticality: None,
            task_id: None,
            task_status: None,
            task_opened_at_ms: None,
            task_sla_started_at_ms: None,
            first_response_at_ms: None,
            resolved_at_ms: None,
            due_at_ms: None,
        });
    }
    builder.finish("all", start, None)
}

/// Pixels in `rows` of the picture close to `rgb`.
fn pixels_like(png: &Png, rgb: (u8, u8, u8), rows: std::ops::Range<usize>) -> usize {
    let close = |a: u8, b: u8| a.abs_diff(b) < 24;
    png.buffer[rows.start * png.width..rows.end * png.width]
        .iter()
        .filter(|p| close(p.r, rgb.0) && close(p.g, rgb.1) && close(p.b, rgb.2))
        .count()
}

type Png = lodepng::Bitmap<lodepng::RGB<u8>>;

#[test]
fn the_png_chart_decodes_shows_text_and_changes_with_the_data() {
    let angry = earshot::exports::chart_png::render_png(&summary_with(10, "negative")).unwrap();
    let happy = earshot::exports::chart_png::render_png(&summary_with(10, "positive")).unwrap();

    let angry = lodepng::decode24(&angry).unwrap();
    let happy = lodepng::decode24(&happy).unwrap();
    assert_eq!((angry.width, angry.height), (1920, 960), "the SVG's 960x480 at 2x");
    // The plot area is y 60..370 in SVG units; the legend below it has colour swatches.
    let plot = 130..730;
    let red = (0xd6, 0x27, 0x28);
    let green = (0x2c, 0xa0, 0x2c);
    assert!(
        pixels_like(&angry, red, plot.clone()) > 5_000,
        "a red bar for the negative posts"
    );
    assert_eq!(pixels_like(&angry, green, plot.clone()), 0);
    assert!(
        pixels_like(&happy, green, plot.clone()) > 5_000,
        "a green bar for the positive posts"
    );
    assert_eq!(pixels_like(&happy, red, plot), 0);
    // The title (y 12..36 in SVG units) is drawn with the embedded font: dark glyph pixels.
    let dark = angry.buffer[24 * 1920..72 * 1920]
        .iter()
        .filter(|p| u16::from(p.r) + u16::from(p.g) + u16::from(p.b) < 150)
        .count();
    assert!(dark > 2_000, "the title text is rendered ({dark} dark pixels)");
}
