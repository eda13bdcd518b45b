//! The mentions sweep through the router, on both backends: listing with filters, text
//! search, sort, paging and a total; bad query values as 400s; opening a task from a mention
//! (idempotent, joining the author's open conversation, with its event, alert and
//! missed-complaint example); the training export's format; and threshold suggestions from
//! reviewed tasks and missed complaints.

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::{Value, json};

use earshot::auth::Role;

use crate::support::Client;
use crate::support::fill::{complaints, filled, task_id_of};
use crate::support::{TestApp, TestEnv, line};

/// A post by `author` written at `created_at` (RFC 3339).
fn post_at(id: &str, author: &str, text: &str, created_at: &str) -> String {
    json!({ "platform": "x", "id": id, "author": author, "text": text, "created_at": created_at }).to_string()
}

/// The complaints, and mentions the pipeline does not flag: a question, German text with
/// capitals, a literal percent sign, a Bluesky post, dated posts and a second post by @jo.
fn sweep_lines() -> Vec<String> {
    let mut lines = complaints();
    lines.extend([
        line("4", "@sam", "@AcmeAir where is gate B12? My flight is at 9"),
        line("5", "@uli", "ÄRGER mit Acme Air: ÜBERBUCHUNG schon wieder"),
        line("6", "@pct", "Acme Air was 100% on time this week"),
        json!({ "platform": "bluesky", "id": "7", "author": "ann.bsky.social", "author_name": "Ann Example",
                "text": "acmeair seat 14C was fine", "created_at": chrono::Utc::now().to_rfc3339() })
        .to_string(),
        post_at("8", "@old", "Acme Air flight in 2020 was ok", "2020-03-01T10:00:00Z"),
        post_at("9", "@old2", "Acme Air flight in 2021 was ok", "2021-03-01T10:00:00Z"),
        line("10", "@jo", "@AcmeAir my booking reference is XY12Z, please check"),
    ]);
    lines
}

async fn app_with(env: &TestEnv, lines: &[String]) -> TestApp {
    let (store, settings) = filled(env, lines).await;
    TestApp::new(&store, &settings)
}

async fn mentions(client: &Client, query: &str) -> Value {
    let (status, body) = client.get(&format!("/api/mentions{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {body}");
    body
}

fn texts(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap().to_owned())
        .collect()
}

/// The one mention whose text contains `needle`.
async fn mention_with(client: &Client, needle: &str) -> Value {
    let page = mentions(client, "?limit=200").await;
    let found: Vec<&Value> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["text"].as_str().unwrap().contains(needle))
        .collect();
    assert_eq!(found.len(), 1, "one mention contains {needle:?}: {page}");
    found[0].clone()
}

async fn open_task(client: &Client, mention_id: i64, body: Option<Value>) -> (StatusCode, Value) {
    let (status, _, answer) = client
        .send("POST", &format!("/api/mentions/{mention_id}/task"), body)
        .await;
    (status, answer)
}

async fn export_lines(lead: &Client) -> Vec<Value> {
    let (status, _, export) = lead.send("GET", "/api/feedback/export", None).await;
    assert_eq!(status, StatusCode::OK, "{export}");
    match export {
        // One line reads back as one JSON value.
        Value::Object(_) => vec![export],
        Value::String(text) => text.lines().map(|l| serde_json::from_str(l).unwrap()).collect(),
        other => panic!("unexpected export {other}"),
    }
}

async fn the_list_filters_searches_sorts_pages_and_counts(env: TestEnv) {
    let app = app_with(&env, &sweep_lines()).await;
    let ann = app.login("ann").await;

    let all = mentions(&ann, "").await;
    assert_eq!(all["total"], 10, "{all}");
    assert_eq!((all["limit"].as_i64(), all["offset"].as_i64()), (Some(50), Some(0)));
    assert_eq!(all["sort"], "criticality");
    let items = all["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    let criticalities: Vec<f64> = items.iter().map(|m| m["criticality"].as_f64().unwrap()).collect();
    assert!(
        criticalities.windows(2).all(|w| w[0] >= w[1]),
        "most critical first: {criticalities:?}"
    );
    // Every item carries the post, its scores and its assessment.
    let jo = items
        .iter()
        .find(|m| m["text"].as_str().unwrap().contains("lost my bag"))
        .unwrap();
    for key in [
        "mention_id",
        "brand",
        "platform",
        "post_id",
        "external_id",
        "text",
        "author_handle",
        "author_name",
        "author_followers",
        "url",
        "created_at_ms",
        "sentiment",
        "criticality",
        "factors",
        "flagged",
        "task_id",
        "task_status",
        "reviewer_opened",
    ] {
        assert!(jo.get(key).is_some(), "{key} in {jo}");
    }
    assert_eq!(
        (
            jo["brand"].as_str(),
            jo["platform"].as_str(),
            jo["external_id"].as_str()
        ),
        (Some("acme"), Some("x"), Some("1"))
    );
    assert_eq!(jo["url"], "https://x.com/jo/status/1");
    assert_eq!(jo["sentiment"]["label"], "negative");
    let p = &jo["sentiment"];
    let sum = p["negative"].as_f64().unwrap() + p["neutral"].as_f64().unwrap() + p["positive"].as_f64().unwrap();
    assert!((sum - 1.0).abs() < 1e-4, "{p}");
    assert!(!jo["factors"].as_array().unwrap().is_empty());
    assert_eq!(jo["flagged"], true);
    assert_eq!(jo["task_status"], "open");
    assert_eq!(jo["task_id"].as_i64(), Some(task_id_of(&ann, "@jo").await));

    // Text search: case-insensitive (Unicode too), over text, handle and author name;
    // LIKE wildcards in the term are literal.
    assert_eq!(texts(&mentions(&ann, "?q=LOST%20MY%20BAG").await).len(), 1);
    let german = mentions(&ann, "?q=%C3%A4rger%20mit").await;
    assert_eq!(german["total"], 1, "ärger finds ÄRGER: {german}");
    assert_eq!(mentions(&ann, "?q=%C3%BCberbuchung").await["total"], 1);
    let by_handle = mentions(&ann, "?q=%40MAX").await;
    assert_eq!(texts(&by_handle).len(), 1);
    assert_eq!(by_handle["items"][0]["author_handle"], "@max");
    assert_eq!(mentions(&ann, "?q=ann%20example").await["total"], 1, "author name");
    let percent = mentions(&ann, "?q=100%25").await;
    assert_eq!(texts(&percent), ["Acme Air was 100% on time this week"]);
    assert_eq!(
        mentions(&ann, "?q=%25").await["total"],
        1,
        "% is literal, not a wildcard"
    );
    assert_eq!(mentions(&ann, "?q=_").await["total"], 0, "_ is literal, not a wildcard");
    assert_eq!(mentions(&ann, "?q=nothing%20like%20this").await["total"], 0);

    // Filters.
    let bluesky = mentions(&ann, "?platform=bluesky").await;
    assert_eq!(texts(&bluesky), ["acmeair seat 14C was fine"]);
    assert_eq!(mentions(&ann, "?brand=acme").await["total"], 10);
    assert_eq!(mentions(&ann, "?brand=other").await["total"], 0);
    let positive = mentions(&ann, "?sentiment=positive").await;
    assert!(positive["total"].as_i64().unwrap() >= 1);
    assert!(
        positive["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["sentiment"]["label"] == "positive"),
        "{positive}"
    );
    let below = mentions(&ann, "?below_threshold=true").await;
    let flagged = items.iter().filter(|m| m["flagged"] == true).count();
    assert_eq!(flagged, 2, "the two complaints were flagged");
    assert_eq!(below["total"].as_i64(), Some(10 - 2));
    assert!(
        below["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["flagged"] == false && m["task_id"].is_null()),
        "{below}"
    );
    let combined = mentions(&ann, "?below_threshold=true&q=acme%20air&sentiment=neutral&platform=x").await;
    assert!(
        combined["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["flagged"] == false && m["sentiment"]["label"] == "neutral" && m["platform"] == "x"),
        "{combined}"
    );
    let old = mentions(&ann, "?since=2020-01-01&until=2021-01-01").await;
    assert_eq!(texts(&old), ["Acme Air flight in 2020 was ok"]);
    let old = mentions(
        &ann,
        "?since=2020-03-01T10:00:00Z&until=2022-01-01T00:00:00%2B01:00&sort=newest",
    )
    .await;
    assert_eq!(
        texts(&old),
        ["Acme Air flight in 2021 was ok", "Acme Air flight in 2020 was ok"]
    );

    // Newest first.
    let newest = mentions(&ann, "?sort=newest").await;
    let times: Vec<i64> = newest["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["created_at_ms"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    assert_eq!(newest["sort"], "newest");

    // Paging: pages of 3 cover the list once, in order, with the same total.
    let mut paged = Vec::new();
    for offset in [0, 3, 6, 9] {
        let page = mentions(&ann, &format!("?limit=3&offset={offset}")).await;
        assert_eq!(page["total"], 10);
        assert_eq!(page["offset"].as_i64(), Some(offset));
        paged.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["mention_id"].as_i64().unwrap()),
        );
    }
    let whole: Vec<i64> = items.iter().map(|m| m["mention_id"].as_i64().unwrap()).collect();
    assert_eq!(paged, whole);
    let past_the_end = mentions(&ann, "?offset=100").await;
    assert_eq!(
        (past_the_end["total"].as_i64(), texts(&past_the_end).len()),
        (Some(10), 0)
    );
}

async fn bad_query_values_are_400s_with_a_message_and_roles_apply(env: TestEnv) {
    let app = app_with(&env, &complaints()).await;
    let ann = app.login("ann").await;
    let lee = app.login("lee").await;
    for (query, expected) in [
        ("limit=0", "limit must be a whole number from 1 to 200"),
        ("limit=201", "limit must be a whole number from 1 to 200"),
        ("limit=-5", "limit must be"),
        ("limit=abc", "limit must be"),
        ("offset=-1", "offset must be a whole number from 0 to 100000"),
        ("offset=100001", "offset must be"),
        ("offset=9223372036854775808", "offset must be"),
        ("offset=1e3", "offset must be"),
        ("platform=myspace", "platform must be one of"),
        ("sentiment=angry", "sentiment must be negative, neutral or positive"),
        ("below_threshold=1", "below_threshold must be true or false"),
        ("sort=loudest", "sort must be criticality or newest"),
        ("since=last%20week", "since must be an RFC 3339 time"),
        ("until=2026-13-40", "until must be"),
        ("since=2026-02-01&until=2026-01-01", "until must be later than since"),
        ("brand=NOT%20A%20SLUG", "brand:"),
        ("q=%07", "q contains control characters"),
        ("status=open", "unknown field"),
    ] {
        let (status, body) = ann.get(&format!("/api/mentions?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        let message = body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{query}: a JSON error: {body}"));
        assert!(message.contains(expected), "{query}: {message}");
    }
    let long = "x".repeat(201);
    let (status, body) = ann.get(&format!("/api/mentions?q={long}")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("longer than 200"), "{body}");

    // Agents and leads read; nobody anonymous; ingest tokens only push.
    assert_eq!(mentions(&lee, "?limit=200").await["total"], 3);
    assert_eq!(app.anonymous().get("/api/mentions").await.0, StatusCode::UNAUTHORIZED);
    let ingest = app.bearer(Role::Ingest).await;
    assert_eq!(ingest.get("/api/mentions").await.0, StatusCode::FORBIDDEN);
    let kim = mention_with(&ann, "crew were great").await;
    assert_eq!(
        open_task(&ingest, kim["mention_id"].as_i64().unwrap(), None).await.0,
        StatusCode::FORBIDDEN
    );
    // Nobody anonymous opens a task.
    let (status, _, _) = app
        .anonymous()
        .send("POST", &format!("/api/mentions/{}/task", kim["mention_id"]), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

async fn opening_a_task_from_a_mention_is_idempotent_alerts_and_records_a_missed_complaint(env: TestEnv) {
    let app = app_with(&env, &sweep_lines()).await;
    let ann = app.login("ann").await;
    let lee = app.login("lee").await;
    let sam = mention_with(&ann, "gate B12").await;
    assert_eq!((sam["flagged"].as_bool(), sam["task_id"].as_i64()), (Some(false), None));
    let mention_id = sam["mention_id"].as_i64().unwrap();
    let n_tasks = env.scalar_of("SELECT COUNT(*) FROM tasks").await;

    let (status, opened) = open_task(&ann, mention_id, None).await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["outcome"], "opened");
    assert_eq!(opened["mention_id"].as_i64(), Some(mention_id));
    let task_id = opened["task_id"].as_i64().unwrap();
    assert_eq!(opened["task"]["id"].as_i64(), Some(task_id));
    assert_eq!(opened["task"]["status"], "open");
    assert_eq!(opened["task"]["author_handle"], "@sam");
    assert_eq!(
        opened["task"]["priority"], "medium",
        "a low criticality still gets the normal priority"
    );
    let sla = opened["task"]["due_at_ms"].as_i64().unwrap() - opened["task"]["sla_started_at_ms"].as_i64().unwrap();
    assert_eq!(sla, 24 * 3600 * 1000, "medium's SLA, from the customer's post");
    assert!(
        opened["task"]["sla_started_at_ms"].as_i64() <= opened["task"]["opened_at_ms"].as_i64(),
        "the clock started before the task opened: {opened}"
    );
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM tasks").await, n_tasks + 1);

    // The task holds the post and names the reviewer in its history.
    let (_, detail) = ann.get(&format!("/api/tasks/{task_id}")).await;
    assert_eq!(detail["posts"].as_array().unwrap().len(), 1);
    assert_eq!(detail["posts"][0]["mention_id"].as_i64(), Some(mention_id));
    let event = &detail["events"][0];
    assert_eq!(
        (event["kind"].as_str(), event["actor"].as_str()),
        (Some("opened"), Some("ann"))
    );
    assert_eq!(event["detail"]["by_reviewer"], true);
    assert_eq!(event["detail"]["mention_id"].as_i64(), Some(mention_id));
    // The usual new-task alert, through the outbox, saying who opened it.
    let alert: String = sqlx::query_scalar(&format!(
        "SELECT payload_json FROM alert_outbox WHERE task_id = {task_id} AND kind = 'task_opened'"
    ))
    .fetch_one(&env.raw().await)
    .await
    .unwrap();
    let alert: Value = serde_json::from_str(&alert).unwrap();
    assert!(alert.to_string().contains("opened by ann from the mentions"), "{alert}");

    // Again, by someone else: the same task, never a second.
    let (status, again) = open_task(&lee, mention_id, None).await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(
        (again["outcome"].as_str(), again["task_id"].as_i64()),
        (Some("existing"), Some(task_id))
    );
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM tasks").await, n_tasks + 1);
    // Two reviewers at once on another mention: one task, and both are told its id. (On
    // PostgreSQL the two transactions overlap; SQLite runs writers one after the other.)
    let uli = mention_with(&ann, "ÜBERBUCHUNG").await["mention_id"].as_i64().unwrap();
    let (first, second) = if env.database_url().starts_with("postgres") {
        tokio::join!(open_task(&ann, uli, None), open_task(&lee, uli, None))
    } else {
        (open_task(&ann, uli, None).await, open_task(&lee, uli, None).await)
    };
    let mut outcomes = [first.1["outcome"].clone(), second.1["outcome"].clone()];
    outcomes.sort_by_key(|o| o.to_string());
    assert_eq!(outcomes, [json!("existing"), json!("opened")], "{first:?} {second:?}");
    assert_eq!(first.1["task_id"], second.1["task_id"]);
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM tasks").await, n_tasks + 2);
    assert_eq!(
        env.scalar_of(&format!("SELECT COUNT(*) FROM alert_outbox WHERE task_id = {task_id}"))
            .await,
        1
    );

    // The sweep shows it handled, by whom; it stays in the not-flagged list.
    let sam = mention_with(&ann, "gate B12").await;
    assert_eq!(sam["task_id"].as_i64(), Some(task_id));
    assert_eq!(sam["task_status"], "open");
    assert_eq!(sam["reviewer_opened"]["by"], "ann");
    assert_eq!(sam["flagged"], false);
    let below = mentions(&ann, "?below_threshold=true&q=gate%20b12").await;
    assert_eq!(below["items"][0]["task_id"].as_i64(), Some(task_id));

    // It is in the queue.
    let (_, queue) = ann.get("/api/tasks").await;
    assert!(
        queue["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["id"].as_i64() == Some(task_id)),
        "{queue}"
    );

    // A missed-complaint example, once: complaint 1, sentiment unknown.
    let lines = export_lines(&lee).await;
    let example: Vec<&Value> = lines
        .iter()
        .filter(|l| l["text"].as_str().unwrap().contains("gate B12"))
        .collect();
    assert_eq!(example.len(), 1, "{lines:?}");
    assert_eq!(
        *example[0],
        json!({ "text": "@AcmeAir where is gate B12? My flight is at 9", "complaint": 1 })
    );

    // With the reviewer's sentiment, the example carries it (and the old `label` key).
    let pct = mention_with(&ann, "100% on time").await;
    let (status, _) = open_task(
        &lee,
        pct["mention_id"].as_i64().unwrap(),
        Some(json!({ "label": "negative" })),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let lines = export_lines(&lee).await;
    let example = lines
        .iter()
        .find(|l| l["text"].as_str().unwrap().contains("100% on time"))
        .unwrap();
    assert_eq!(
        *example,
        json!({ "text": "Acme Air was 100% on time this week", "sentiment": "negative", "label": "negative", "complaint": 1 })
    );

    // A flagged mention already has its task: nothing new, nothing recorded.
    let jo = mention_with(&ann, "lost my bag").await;
    let (status, existing) = open_task(&ann, jo["mention_id"].as_i64().unwrap(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(existing["outcome"], "existing");
    assert_eq!(existing["task_id"], jo["task_id"]);
    assert_eq!(export_lines(&lee).await.len(), 3, "sam's, uli's and the 100% post's");

    // Bad ids and bodies.
    assert_eq!(open_task(&ann, 999_999, None).await.0, StatusCode::NOT_FOUND);
    for id in ["abc", "0", "-3", "99999999999999999999"] {
        let (status, _, body) = ann.send("POST", &format!("/api/mentions/{id}/task"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{id}: {body}");
        assert!(body["error"].as_str().unwrap().contains("mention id"), "{body}");
    }
    let seat = mention_with(&ann, "seat 14C").await["mention_id"].as_i64().unwrap();
    let (status, body) = open_task(&ann, seat, Some(json!({ "label": "furious" }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = open_task(&ann, seat, Some(json!({ "priority": "high" }))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(
        mention_with(&ann, "seat 14C").await["task_id"],
        Value::Null,
        "a refused request changes nothing"
    );
}

async fn a_mention_from_an_author_with_an_open_task_joins_that_conversation(env: TestEnv) {
    let app = app_with(&env, &sweep_lines()).await;
    let ann = app.login("ann").await;
    let jo_task = task_id_of(&ann, "@jo").await;
    let follow_up = mention_with(&ann, "booking reference").await;
    assert_eq!(
        follow_up["flagged"], false,
        "the pipeline did not attach it: {follow_up}"
    );
    let n_tasks = env.scalar_of("SELECT COUNT(*) FROM tasks").await;

    let (status, joined) = open_task(&ann, follow_up["mention_id"].as_i64().unwrap(), None).await;
    assert_eq!(status, StatusCode::OK, "{joined}");
    assert_eq!(
        (joined["outcome"].as_str(), joined["task_id"].as_i64()),
        (Some("joined"), Some(jo_task))
    );
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM tasks").await, n_tasks);
    let (_, detail) = ann.get(&format!("/api/tasks/{jo_task}")).await;
    assert_eq!(detail["posts"].as_array().unwrap().len(), 2);
    let added = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "post_added")
        .unwrap_or_else(|| panic!("a post_added event: {detail}"));
    assert_eq!(added["actor"], "ann");
    assert_eq!(added["detail"]["by_reviewer"], true);
    assert_eq!(
        env.scalar_of(&format!("SELECT COUNT(*) FROM alert_outbox WHERE task_id = {jo_task}"))
            .await,
        1,
        "joining sends no second new-task alert"
    );
    // Still a missed complaint: it was not flagged.
    let lee = app.login("lee").await;
    let lines = export_lines(&lee).await;
    assert!(
        lines
            .iter()
            .any(|l| l["text"].as_str().unwrap().contains("booking reference") && l["complaint"] == 1),
        "{lines:?}"
    );
}

async fn dismissals_record_complaint_0_and_relabels_keep_the_complaint_label(env: TestEnv) {
    let app = app_with(&env, &sweep_lines()).await;
    let ann = app.login("ann").await;
    let lee = app.login("lee").await;
    let max = task_id_of(&lee, "@max").await;
    let (status, body) = lee
        .act(
            max,
            json!({ "action": "dismiss", "reason": "false_positive", "label": "positive" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sam = mention_with(&ann, "gate B12").await;
    let (status, opened) = open_task(&ann, sam["mention_id"].as_i64().unwrap(), None).await;
    assert_eq!(status, StatusCode::CREATED);

    let lines = export_lines(&lee).await;
    assert_eq!(lines.len(), 2, "{lines:?}");
    let max_line = lines
        .iter()
        .find(|l| l["text"].as_str().unwrap().contains("cancelled my flight"))
        .unwrap();
    assert_eq!(max_line["complaint"], 0);
    assert_eq!(
        (max_line["sentiment"].as_str(), max_line["label"].as_str()),
        (Some("positive"), Some("positive"))
    );

    // A later sentiment label on the missed complaint keeps its complaint label.
    let task_id = opened["task_id"].as_i64().unwrap();
    let post_id = sam["post_id"].as_i64().unwrap();
    let (status, _, body) = ann
        .send(
            "POST",
            &format!("/api/tasks/{task_id}/posts/{post_id}/label"),
            Some(json!({ "label": "neutral" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let lines = export_lines(&lee).await;
    assert_eq!(lines.len(), 2, "one example per post: {lines:?}");
    let sam_line = lines
        .iter()
        .find(|l| l["text"].as_str().unwrap().contains("gate B12"))
        .unwrap();
    assert_eq!(
        *sam_line,
        json!({ "text": "@AcmeAir where is gate B12? My flight is at 9", "sentiment": "neutral", "label": "neutral", "complaint": 1 })
    );

    // Reopening the dismissal withdraws its example; the missed complaint stays.
    assert_eq!(lee.act(max, json!({ "action": "reopen" })).await.0, StatusCode::OK);
    let lines = export_lines(&lee).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0]["text"].as_str().unwrap().contains("gate B12"));
}

async fn the_threshold_suggestion_weighs_reviewed_tasks_and_missed_complaints(env: TestEnv) {
    let mut lines: Vec<String> = (0..18)
        .map(|i| {
            line(
                &format!("c{i}"),
                &format!("@customer{i}"),
                &format!("@AcmeAir lost my bag, worst airline ever, refund now (case {i})"),
            )
        })
        .collect();
    lines.extend([
        line("m1", "@hold", "@AcmeAir 2 hours of hold music so far, lovely"),
        line(
            "m2",
            "@seat",
            "@AcmeAir so my seat is now in row 40, next to the toilets. Thanks.",
        ),
        line(
            "m3",
            "@meal",
            "@AcmeAir ordered the vegetarian meal, got chicken. Again.",
        ),
    ]);
    let app = app_with(&env, &lines).await;
    let lee = app.login("lee").await;

    let (status, before) = lee.get("/api/brands/acme/threshold-suggestion").await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(before["current_threshold"], 40.0);
    let s = &before["suggestion"];
    assert_eq!((s["enough"].as_bool(), s["threshold"].as_f64()), (Some(false), None));
    assert!(
        s["message"].as_str().unwrap().starts_with("not enough reviews yet"),
        "{s}"
    );

    // 16 complaints answered, 2 false positives, 3 missed complaints opened from the sweep.
    let page = mentions(&lee, "?limit=200").await;
    let mut flagged_tasks = Vec::new();
    let mut missed = Vec::new();
    for m in page["items"].as_array().unwrap() {
        if m["flagged"] == true {
            flagged_tasks.push(m["task_id"].as_i64().unwrap());
        } else {
            missed.push((m["mention_id"].as_i64().unwrap(), m["criticality"].as_f64().unwrap()));
        }
    }
    assert_eq!((flagged_tasks.len(), missed.len()), (18, 3), "{page}");
    assert_eq!(flagged_tasks.iter().collect::<HashSet<_>>().len(), 18);
    for (i, task) in flagged_tasks.iter().enumerate() {
        let action = if i < 2 {
            json!({ "action": "dismiss", "reason": "false_positive" })
        } else {
            json!({ "action": "reply", "text": "So sorry, we are on it." })
        };
        let (status, body) = lee.act(*task, action).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    for (mention_id, _) in &missed {
        assert_eq!(open_task(&lee, *mention_id, None).await.0, StatusCode::CREATED);
    }

    let (_, after) = lee.get("/api/brands/acme/threshold-suggestion").await;
    let s = &after["suggestion"];
    assert_eq!(s["enough"], true, "{s}");
    assert_eq!(
        (
            s["n_reviewed"].as_i64(),
            s["n_complaints"].as_i64(),
            s["n_missed"].as_i64(),
            s["n_false_positive"].as_i64()
        ),
        (Some(21), Some(19), Some(3), Some(2))
    );
    // 19 complaints: 18 must become tasks (ceil of 17.1). The 16 answered ones are all above
    // the missed ones, so the 18th most critical is the second most critical missed one.
    let mut missed_criticality: Vec<f64> = missed.iter().map(|(_, c)| *c).collect();
    missed_criticality.sort_by(|a, b| b.total_cmp(a));
    let expected = missed_criticality[1].floor();
    assert_eq!(s["threshold"].as_f64(), Some(expected), "{s}");
    assert!(expected < 40.0);
    let suggested = &s["suggested"];
    assert!(suggested["recall"].as_f64().unwrap() >= 0.9, "{suggested}");
    assert!(suggested["complaints_kept"].as_i64().unwrap() >= 18);
    assert_eq!(suggested["false_positives_kept"], 2);
    let current = &s["current"];
    assert_eq!(current["complaints_kept"], 16);
    assert!(
        (current["recall"].as_f64().unwrap() - 16.0 / 19.0).abs() < 1e-6,
        "{current}"
    );
    assert!(
        (current["precision"].as_f64().unwrap() - 16.0 / 18.0).abs() < 1e-6,
        "{current}"
    );
    assert!(
        s["message"]
            .as_str()
            .unwrap()
            .contains("of the 19 known complaints (3 of them missed)"),
        "{s}"
    );
    assert_eq!(s["curve"].as_array().unwrap().len(), 21);

    // Agents do not tune.
    let ann = app.login("ann").await;
    assert_eq!(
        ann.get("/api/brands/acme/threshold-suggestion").await.0,
        StatusCode::FORBIDDEN
    );
}

async fn posts_stored_before_the_search_text_existed_are_found_after_migrate(env: TestEnv) {
    let app = app_with(&env, &sweep_lines()).await;
    let ann = app.login("ann").await;
    // As if stored before migration 0014.
    sqlx::query("UPDATE posts SET search_text = NULL")
        .execute(&env.raw().await)
        .await
        .unwrap();
    assert_eq!(
        mentions(&ann, "?q=lost%20my%20bag").await["total"],
        1,
        "found through LOWER() meanwhile"
    );
    app.store.migrate().await.unwrap();
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM posts WHERE search_text IS NULL")
            .await,
        0
    );
    assert_eq!(mentions(&ann, "?q=%C3%BCberbuchung").await["total"], 1);
    assert_eq!(mentions(&ann, "?q=ann%20example").await["total"], 1);
}

/// A database at the migration before 0014, with a false-positive dismissal's example and a
/// re-label's example, then opened by this version: the examples keep their ids and get
/// `complaint` 0 (the dismissal) and none (the re-label), and the post gets its search text.
async fn migration_0014_keeps_examples_and_marks_false_positives_as_no_complaint(env: TestEnv) {
    let (raw, n_migrations) = env.migrated_before(14).await;
    assert!(n_migrations >= 10);
    env.execute_all(
        &raw,
        &[
            "INSERT INTO brands (id, name, threshold, settings_json, active, updated_at_ms) VALUES ('acme', 'Acme Air', 40, '{}', 1, 0)",
            "INSERT INTO sources (id, brand_id, kind, schedule, active, updated_at_ms) VALUES ('acme-feed', 'acme', 'jsonl', '', 1, 0)",
            "INSERT INTO posts (id, platform, external_id, author_handle, author_name, text, created_at_ms, first_seen_at_ms)
                 VALUES (7, 'x', '1', '@Jo', 'JÖ', 'Acme Air: ÄRGER', 1000, 1000)",
            "INSERT INTO mentions (id, post_id, brand_id, source_id, found_at_ms, assessed) VALUES (3, 7, 'acme', 'acme-feed', 1000, 1)",
            "INSERT INTO tasks (id, brand_id, platform, author_handle, status, priority, criticality, opened_at_ms, due_at_ms,
                                last_activity_at_ms, updated_at_ms, dismissed_reason)
                 VALUES (5, 'acme', 'x', '@Jo', 'dismissed', 3, 60, 1000, 2000, 1000, 3000, 'false_positive')",
            "INSERT INTO assessments (mention_id, criticality, factors_json, flagged, task_id, assessed_at_ms)
                 VALUES (3, 60, '[]', 1, 5, 1000)",
            "INSERT INTO task_events (task_id, at_ms, actor, kind, detail_json) VALUES (5, 3000, 'lee', 'dismissed', '{}')",
            "INSERT INTO task_events (task_id, at_ms, actor, kind, detail_json) VALUES (5, 4000, 'lee', 'relabelled', '{}')",
            "INSERT INTO labelled_examples (id, task_id, post_id, text, label, reviewer, at_ms)
                 VALUES (11, 5, 7, 'Acme Air: ÄRGER', 'neutral', 'lee', 3000)",
            "INSERT INTO labelled_examples (id, task_id, post_id, text, label, reviewer, at_ms)
                 VALUES (12, 5, 7, 'Acme Air: ÄRGER', 'negative', 'lee', 4000)",
        ],
    )
    .await;

    let store = earshot::app::open_store(&env.settings()).await.unwrap();
    let complaints: Vec<(i64, Option<i64>, Option<String>)> =
        sqlx::query_as("SELECT id, complaint, label FROM labelled_examples ORDER BY id")
            .fetch_all(&raw)
            .await
            .unwrap();
    assert_eq!(
        complaints,
        [
            (11, Some(0), Some("neutral".to_owned())),
            (12, None, Some("negative".to_owned()))
        ]
    );
    let examples = store.labelled_examples().await.unwrap();
    assert_eq!(
        examples,
        [earshot::store::LabelledExample {
            text: "Acme Air: ÄRGER".into(),
            sentiment: Some("negative".into()),
            complaint: Some(false),
        }]
    );
    let search: String = sqlx::query_scalar("SELECT search_text FROM posts WHERE id = 7")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(search, "@jo\u{1f}jö\u{1f}acme air: ärger");
    // The sentiment of an example may now be unknown.
    sqlx::query(
        "INSERT INTO labelled_examples (task_id, post_id, text, label, complaint, reviewer, at_ms)
         VALUES (5, 7, 't', NULL, 1, 'lee', 5000)",
    )
    .execute(&raw)
    .await
    .unwrap();
}

crate::support::on_both_backends!(
    the_list_filters_searches_sorts_pages_and_counts,
    bad_query_values_are_400s_with_a_message_and_roles_apply,
    opening_a_task_from_a_mention_is_idempotent_alerts_and_records_a_missed_complaint,
    a_mention_from_an_author_with_an_open_task_joins_that_conversation,
    dismissals_record_complaint_0_and_relabels_keep_the_complaint_label,
    the_threshold_suggestion_weighs_reviewed_tasks_and_missed_complaints,
    posts_stored_before_the_search_text_existed_are_found_after_migrate,
    migration_0014_keeps_examples_and_marks_false_positives_as_no_complaint,
);
