//! The JSON API through the router, on a store filled by the real pipeline (SQLite and
//! PostgreSQL).

use axum::http::StatusCode;
use http_body_util::BodyExt;

use crate::support::{Client, TestApp, TestEnv, line, on_both_backends, poll_feed};

async fn filled_app(env: &TestEnv) -> Client {
    app_with(
        env,
        &[
            line(
                "1",
                "@jo",
                "@AcmeAir lost my bag <script>alert(1)</script>, worst airline, refund now",
            ),
            line("2", "@kim", "Acme Air crew were great, thanks"),
        ],
    )
    .await
}

/// An agent's machine token on the router over a store the real pipeline filled from
/// `lines` (the API needs a session or a token).
async fn app_with(env: &TestEnv, lines: &[String]) -> Client {
    env.append("acme-feed", lines);
    let pipeline = env.pipeline().await;
    poll_feed(&pipeline, 1).await;
    TestApp::new(pipeline.store(), pipeline.settings())
        .bearer(earshot::auth::Role::Agent)
        .await
}

async fn the_queue_lists_active_tasks_and_a_task_shows_why_it_was_flagged(env: TestEnv) {
    let app = filled_app(&env).await;

    let (status, _, tasks) = app.send("GET", "/api/tasks?status=active", None).await;

    assert_eq!(status, StatusCode::OK);
    assert_eq!(tasks["total"], 1);
    let tasks = tasks["items"].as_array().unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0]["author_handle"], "@jo");
    let text = tasks[0]["latest_text"].as_str().unwrap();
    assert!(
        text.contains("<script>alert(1)</script>"),
        "text is stored and served verbatim, as data: {text}"
    );

    let id = tasks[0]["id"].as_i64().unwrap();
    let (status, _, detail) = app.send("GET", &format!("/api/tasks/{id}"), None).await;

    assert_eq!(status, StatusCode::OK);
    let factors = detail["posts"][0]["factors"].as_array().unwrap();
    let names: Vec<&str> = factors.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"negative_sentiment") && names.contains(&"complaint_cue"),
        "{names:?}"
    );
    assert_eq!(detail["events"][0]["kind"], "opened");
}

/// Ids of the items of a page of `GET /api/tasks`.
fn ids(page: &serde_json::Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a page of tasks: {page}"))
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect()
}

async fn the_queue_pages_with_a_total_and_searches_post_text_and_author(env: TestEnv) {
    let mut lines: Vec<String> = (1..=7)
        .map(|i| {
            line(
                &format!("{}", 100 + i),
                &format!("@flyer{i}"),
                &format!("@AcmeAir lost my bag on flight {i}, worst airline ever, refund now"),
            )
        })
        .collect();
    lines.push(line(
        "200",
        "@Zed_Traveller",
        "Acme Air ÜBERBUCHUNG again, cancelled my flight, terrible service, I want a refund",
    ));
    let app = app_with(&env, &lines).await;

    let (status, _, all) = app.send("GET", "/api/tasks", None).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(
        (all["total"].as_i64(), all["limit"].as_i64(), all["offset"].as_i64()),
        (Some(8), Some(50), Some(0))
    );
    assert_eq!(ids(&all).len(), 8);

    // Three pages of three reach every task once, in the same order as one page of all.
    let mut paged = Vec::new();
    for offset in [0, 3, 6] {
        let (status, _, page) = app
            .send("GET", &format!("/api/tasks?limit=3&offset={offset}"), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(page["total"], 8, "the total ignores paging: {page}");
        paged.extend(ids(&page));
    }
    assert_eq!(paged, ids(&all));

    // Search: post text (folded like the mentions sweep), the author's handle, and `%` / `_`
    // taken literally; filters and paging apply to the results and the total.
    let (_, _, text) = app.send("GET", "/api/tasks?q=%C3%BCberbuchung", None).await;
    assert_eq!(text["total"], 1, "{text}");
    assert_eq!(
        text["items"][0]["author_handle"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref(),
        Some("@zed_traveller")
    );
    let (_, _, author) = app.send("GET", "/api/tasks?q=ZED_TRAV", None).await;
    assert_eq!(ids(&author), ids(&text));
    let (_, _, underscore) = app.send("GET", "/api/tasks?q=zed%25trav", None).await;
    assert_eq!(underscore["total"], 0, "% is literal: {underscore}");
    let (_, _, flights) = app.send("GET", "/api/tasks?q=flight&limit=5&offset=5", None).await;
    assert_eq!((flights["total"].as_i64(), ids(&flights).len()), (Some(8), 3));
    let (_, _, bags) = app
        .send(
            "GET",
            "/api/tasks?q=lost%20my%20bag&status=active&unassigned=true",
            None,
        )
        .await;
    assert_eq!(bags["total"], 7);
    let (_, _, mine) = app
        .send("GET", "/api/tasks?q=lost%20my%20bag&assignee=nobody", None)
        .await;
    assert_eq!(mine["total"], 0);
    let (_, _, overdue) = app.send("GET", "/api/tasks?due_within_mins=0", None).await;
    assert_eq!(overdue["total"], 0, "nothing is overdue yet: {overdue}");

    // The orders: every task once, each sorted by its key.
    let (_, _, newest) = app.send("GET", "/api/tasks?sort=newest", None).await;
    assert_eq!(
        newest["items"][0]["author_handle"]
            .as_str()
            .map(str::to_lowercase)
            .as_deref(),
        Some("@zed_traveller"),
        "the last post's task first: {newest}"
    );
    for (sort, key, descending) in [("sla", "due_at_ms", false), ("criticality", "criticality", true)] {
        let (status, _, page) = app.send("GET", &format!("/api/tasks?sort={sort}"), None).await;
        assert_eq!(status, StatusCode::OK);
        let mut sorted = ids(&page);
        sorted.sort_unstable();
        let mut all_ids = ids(&all);
        all_ids.sort_unstable();
        assert_eq!(sorted, all_ids, "{sort}: every task once");
        let keys: Vec<f64> = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t[key].as_f64().unwrap())
            .collect();
        assert!(
            keys.windows(2)
                .all(|w| if descending { w[0] >= w[1] } else { w[0] <= w[1] }),
            "{sort}: {keys:?}"
        );
    }

    for bad in [
        "sort=oldest",
        "limit=0",
        "limit=201",
        "offset=-1",
        "offset=100001",
        "unassigned=maybe",
        "due_within_mins=10081",
        // Past every integer type: once a 500 (overflow), now a 400 like any bad value.
        "offset=9223372036854775808",
        "limit=18446744073709551616",
        "due_within_mins=9223372036854775808",
    ] {
        let (status, _, body) = app.send("GET", &format!("/api/tasks?{bad}"), None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body["error"].as_str().is_some_and(|e| !e.is_empty()), "{bad}: {body}");
    }
    for bad in [
        "/api/quarantine?limit=18446744073709551616",
        "/api/quarantine?limit=-1",
        "/api/exports?limit=18446744073709551616",
        "/api/tasks/9223372036854775808",
    ] {
        let (status, _, _) = app.send("GET", bad, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }
    let (status, _, body) = app
        .send("GET", &format!("/api/tasks?q={}", "x".repeat(201)), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}

/// The queue's JSON goes gzip-compressed to a client that asks, and reads back the same.
async fn the_queue_json_is_gzipped_for_clients_that_ask(env: TestEnv) {
    let lines: Vec<String> = (1..=30)
        .map(|i| {
            line(
                &format!("{}", 300 + i),
                &format!("@gz{i}"),
                &format!("@AcmeAir lost my bag on flight {i}, worst airline ever, refund now"),
            )
        })
        .collect();
    let app = app_with(&env, &lines).await;
    let plain = app.get_raw("/api/tasks", &[]).await;
    let zipped = app.get_raw("/api/tasks", &[("accept-encoding", "gzip")]).await;

    assert!(plain.headers().get("content-encoding").is_none());
    assert_eq!(zipped.headers()["content-encoding"], "gzip");
    let plain = plain.into_body().collect().await.unwrap().to_bytes();
    let zipped = zipped.into_body().collect().await.unwrap().to_bytes();
    assert!(
        zipped.len() * 4 < plain.len(),
        "{} vs {} bytes",
        zipped.len(),
        plain.len()
    );
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(zipped.as_ref()), &mut unzipped).unwrap();
    let plain: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    let unzipped: serde_json::Value = serde_json::from_slice(&unzipped).unwrap();
    assert_eq!(plain["total"], 30);
    assert_eq!(unzipped["total"], plain["total"]);
    assert_eq!(ids(&unzipped), ids(&plain));
}

async fn bad_filters_are_400_and_missing_tasks_404(env: TestEnv) {
    let app = filled_app(&env).await;

    let (bad_status, _, body) = app.send("GET", "/api/tasks?status=sleeping", None).await;
    let (missing, _, _) = app.send("GET", "/api/tasks/999999", None).await;
    let (unknown_param, _, _) = app.send("GET", "/api/tasks?colour=red", None).await;

    assert_eq!(bad_status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("sleeping"));
    assert_eq!(missing, StatusCode::NOT_FOUND);
    assert_eq!(unknown_param, StatusCode::BAD_REQUEST);
}

async fn pages_carry_a_content_security_policy_that_forbids_inline_script(env: TestEnv) {
    let app = filled_app(&env).await;

    let response = app.get_raw("/", &[]).await;

    let csp = response.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    let page = String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    assert!(!page.contains("innerHTML"));
    for script in [
        include_str!("../../src/web/assets/app.js"),
        include_str!("../../src/web/assets/login.js"),
    ] {
        assert!(
            !script.contains("innerHTML")
                && !script.contains("insertAdjacentHTML")
                && !script.contains("document.write")
                && !script.contains("eval(")
        );
    }
}

async fn stats_count_what_the_pipeline_stored(env: TestEnv) {
    let app = filled_app(&env).await;

    let (_, _, stats) = app.send("GET", "/api/stats", None).await;
    let (_, _, sources) = app.send("GET", "/api/sources", None).await;

    assert_eq!(stats["mentions"], 2);
    assert_eq!(stats["tasks_active"], 1);
    assert_eq!(stats["pending"], 0);
    let feed = sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "acme-feed")
        .unwrap();
    assert_eq!(feed["total_new"], 2);
}

on_both_backends!(
    the_queue_json_is_gzipped_for_clients_that_ask,
    the_queue_lists_active_tasks_and_a_task_shows_why_it_was_flagged,
    the_queue_pages_with_a_total_and_searches_post_text_and_author,
    bad_filters_are_400_and_missing_tasks_404,
    pages_carry_a_content_security_policy_that_forbids_inline_script,
    stats_count_what_the_pipeline_stored,
);
