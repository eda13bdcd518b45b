//! The review queue through the router: auth (sessions, CSRF, tokens, roles), task actions and
//! their events, the status flow, bulk actions, conflicts, templates, feedback, OpenAPI.

use std::sync::Arc;

use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use earshot::auth::{Role, new_token, token_hash};
use earshot::domain::now_millis;

use crate::support::fill::{PASSWORD, complaints, filled, poll_and_score, task_id_of};
use crate::support::{Client, TestApp, TestEnv};

async fn everything_but_health_and_login_needs_a_session_or_token(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let app = TestApp::new(&store, &settings);
    let anonymous = app.anonymous();

    assert_eq!(anonymous.get("/api/tasks").await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.get("/api/openapi.json").await.0, StatusCode::UNAUTHORIZED);
    let (status, headers, _) = anonymous.send("GET", "/", None).await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(headers[header::LOCATION], "/login");
    assert_eq!(anonymous.get("/healthz").await.0, StatusCode::OK);
    assert_eq!(anonymous.get("/login").await.0, StatusCode::OK);
    assert_eq!(anonymous.get("/assets/login.js").await.0, StatusCode::OK);

    let (status, _, _) = anonymous
        .send(
            "POST",
            "/login",
            Some(json!({ "username": "ann", "password": "wrong password" })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _, _) = anonymous
        .send(
            "POST",
            "/login",
            Some(json!({ "username": "nobody", "password": PASSWORD })),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let mut forged = app.anonymous();
    forged.cookie = Some("earshot_session=0000".into());
    assert_eq!(forged.get("/api/tasks").await.0, StatusCode::UNAUTHORIZED);
}

async fn guessing_a_password_locks_the_username_and_https_sites_get_secure_cookies(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let mut settings = (*settings).clone();
    settings.http.secure_cookies = true;
    let app = TestApp::new(&store, &Arc::new(settings));
    let anonymous = app.anonymous();
    let login = |username: &'static str, password: &'static str| {
        let anonymous = &anonymous;
        async move {
            let (status, headers, _) = anonymous
                .send(
                    "POST",
                    "/login",
                    Some(json!({ "username": username, "password": password })),
                )
                .await;
            (status, headers)
        }
    };

    let (status, headers) = login("ann", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert_eq!(headers[header::STRICT_TRANSPORT_SECURITY], "max-age=31536000");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");

    for _ in 0..10 {
        assert_eq!(login("lee", "guess").await.0, StatusCode::UNAUTHORIZED);
    }
    let (status, headers) = login("lee", PASSWORD).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits");
    let retry_after: u64 = headers[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((800..=900).contains(&retry_after), "{retry_after}");
    assert_eq!(
        login("LEE", PASSWORD).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "case does not matter"
    );
    assert_eq!(login("ann", PASSWORD).await.0, StatusCode::OK, "other users log in");
}

async fn a_session_cookie_is_strict_and_state_changes_need_the_csrf_token(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let app = TestApp::new(&store, &settings);
    let anonymous = app.anonymous();
    let (_, headers, body) = anonymous
        .send(
            "POST",
            "/login",
            Some(json!({ "username": "ann", "password": PASSWORD })),
        )
        .await;
    let cookie = headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert_eq!(body["role"], "agent");

    let ann = app.login("ann").await;
    let (status, me) = ann.get("/api/me").await;
    assert_eq!((status, me["username"].as_str()), (StatusCode::OK, Some("ann")));
    let id = task_id_of(&ann, "@jo").await;
    let no_csrf = Client {
        cookie: ann.cookie.clone(),
        ..app.anonymous()
    };
    assert_eq!(
        no_csrf.act(id, json!({ "action": "claim" })).await.0,
        StatusCode::FORBIDDEN
    );
    let wrong_csrf = Client {
        csrf: Some(new_token()),
        ..no_csrf
    };
    assert_eq!(
        wrong_csrf.act(id, json!({ "action": "claim" })).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(ann.act(id, json!({ "action": "claim" })).await.0, StatusCode::OK);

    let (status, _, _) = ann.send("POST", "/api/logout", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        ann.get("/api/tasks").await.0,
        StatusCode::UNAUTHORIZED,
        "the session is gone"
    );
}

async fn a_task_walks_claim_reply_resolve_with_an_event_for_each_step(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let app = TestApp::new(&store, &settings);
    let ann = app.login("ann").await;
    let id = task_id_of(&ann, "@jo").await;
    let (_, detail) = ann.get(&format!("/api/tasks/{id}")).await;
    let version = detail["task"]["updated_at_ms"].as_i64().unwrap();

    let (status, claimed) = ann
        .act(id, json!({ "action": "claim", "expected_updated_at_ms": version }))
        .await;
    assert_eq!(status, StatusCode::OK, "{claimed}");
    assert_eq!(
        (claimed["status"].as_str(), claimed["assignee"].as_str()),
        (Some("assigned"), Some("ann"))
    );

    let (status, stale) = ann
        .act(
            id,
            json!({ "action": "note", "text": "late", "expected_updated_at_ms": version }),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{stale}");

    let (status, preview) = ann
        .send(
            "POST",
            &format!("/api/tasks/{id}/reply-preview"),
            Some(json!({ "template": "apology" })),
        )
        .await
        .2
        .as_object()
        .map(|o| (StatusCode::OK, Value::Object(o.clone())))
        .unwrap();
    assert_eq!(status, StatusCode::OK);
    let reply_text = preview["text"].as_str().unwrap().to_owned();
    assert_eq!(
        reply_text,
        "Hi @jo, we are sorry about this. ann from Acme Air will sort it out here on x."
    );

    let (status, replied) = ann
        .act(
            id,
            json!({ "action": "reply", "text": reply_text, "template": "apology" }),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{replied}");
    assert_eq!(replied["status"], "responded");
    assert!(replied["first_response_at_ms"].as_i64().is_some());
    let (status, _) = ann.act(id, json!({ "action": "note", "text": "customer DMed" })).await;
    assert_eq!(status, StatusCode::OK);
    let (status, resolved) = ann.act(id, json!({ "action": "resolve" })).await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(resolved["status"], "resolved");
    assert!(resolved["follow_up_at_ms"].as_i64().unwrap() > resolved["resolved_at_ms"].as_i64().unwrap());

    let (status, _) = ann.act(id, json!({ "action": "resolve" })).await;
    assert_eq!(status, StatusCode::CONFLICT, "resolved is final");
    let (status, _) = ann.act(id, json!({ "action": "reopen" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "agents do not reopen");

    let (_, detail) = ann.get(&format!("/api/tasks/{id}")).await;
    let events: Vec<(String, String)> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["kind"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(kinds, ["opened", "claimed", "replied", "note", "resolved"]);
    assert!(events[1..].iter().all(|(_, actor)| actor == "ann"), "{events:?}");
    let reply_event = &detail["events"][2]["detail"];
    assert_eq!(
        reply_event["text"],
        "Hi @jo, we are sorry about this. ann from Acme Air will sort it out here on x."
    );

    let lee = app.login("lee").await;
    let (status, reopened) = lee.act(id, json!({ "action": "reopen" })).await;
    assert_eq!(status, StatusCode::OK, "{reopened}");
    assert_eq!(reopened["status"], "assigned");
}

async fn agents_work_only_their_own_tasks_and_leads_assign(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let app = TestApp::new(&store, &settings);
    let ann = app.login("ann").await;
    let bob = app.login("bob").await;
    let lee = app.login("lee").await;
    let id = task_id_of(&ann, "@jo").await;

    assert_eq!(ann.act(id, json!({ "action": "claim" })).await.0, StatusCode::OK);
    assert_eq!(bob.act(id, json!({ "action": "claim" })).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        bob.act(id, json!({ "action": "reply", "text": "hello" })).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        bob.act(id, json!({ "action": "assign", "to": "bob" })).await.0,
        StatusCode::FORBIDDEN,
        "agents cannot take an assigned task"
    );
    let (status, assigned) = lee.act(id, json!({ "action": "assign", "to": "bob" })).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(assigned["assignee"], "bob");
    assert_eq!(
        ann.act(id, json!({ "action": "resolve" })).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(ann.get("/api/feedback/export").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        ann.act(id, json!({ "action": "fly" })).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let (_, mine) = bob.get("/api/tasks?assignee=bob").await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["total"], 1);
}

async fn bulk_dismissals_report_each_task_and_false_positives_become_training_data(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let app = TestApp::new(&store, &settings);
    let lee = app.login("lee").await;
    let jo = task_id_of(&lee, "@jo").await;
    let max = task_id_of(&lee, "@max").await;

    let (status, _, results) = lee
        .send(
            "POST",
            "/api/tasks/bulk",
            Some(json!({ "ids": [jo, max, 999999], "action": { "action": "dismiss", "reason": "false_positive" } })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{results}");
    let results = results.as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert!(results[0]["ok"].as_bool().unwrap() && results[1]["ok"].as_bool().unwrap());
    assert_eq!(results[2]["status"], 404);

    let (status, _, export) = lee.send("GET", "/api/feedback/export", None).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<Value> = export
        .as_str()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "one example per post of the two tasks");
    assert!(
        lines.iter().all(|l| l["label"] == "neutral"
            && l["sentiment"] == "neutral"
            && l["complaint"] == 0
            && l["text"].is_string()),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l["text"].as_str().unwrap().contains("lost my bag"))
    );

    // Labelled again, a post stays one example, with the latest label.
    let (_, detail) = lee.get(&format!("/api/tasks/{jo}")).await;
    let post_id = detail["posts"][0]["post_id"].as_i64().unwrap();
    let (status, _, body) = lee
        .send(
            "POST",
            &format!("/api/tasks/{jo}/posts/{post_id}/label"),
            Some(json!({ "label": "negative" })),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, _, export) = lee.send("GET", "/api/feedback/export", None).await;
    let labels: Vec<(String, String)> = export
        .as_str()
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|l| {
            (
                l["text"].as_str().unwrap().to_owned(),
                l["label"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(labels.len(), 2, "{labels:?}");
    let jo_label = labels.iter().find(|(text, _)| text.contains("lost my bag")).unwrap();
    assert_eq!(jo_label.1, "negative", "{labels:?}");

    let (status, suggestion) = lee.get("/api/brands/acme/threshold-suggestion").await;
    assert_eq!(status, StatusCode::OK, "{suggestion}");
    assert_eq!(suggestion["suggestion"]["n_false_positive"], 2);
    assert_eq!(
        suggestion["suggestion"]["threshold"],
        Value::Null,
        "two reviews are not enough to suggest anything"
    );
    assert!(
        suggestion["suggestion"]["message"]
            .as_str()
            .unwrap()
            .starts_with("not enough reviews yet"),
        "{suggestion}"
    );

    // Reopening @max's task says it was no false positive: its example is withdrawn.
    let (status, reopened) = lee.act(max, json!({ "action": "reopen" })).await;
    assert_eq!(status, StatusCode::OK, "{reopened}");
    let (_, _, export) = lee.send("GET", "/api/feedback/export", None).await;
    // One JSON line reads back as one JSON value.
    assert!(
        export["text"].as_str().is_some_and(|t| t.contains("lost my bag")),
        "only @jo's example is left: {export}"
    );
}

async fn machines_use_bearer_tokens_with_their_role_and_no_csrf(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let token = new_token();
    store
        .create_api_token(&token_hash(&token), "crm", Role::Agent, now_millis())
        .await
        .unwrap();
    let app = TestApp::new(&store, &settings);
    let mut machine = app.anonymous();
    machine.bearer = Some(token);
    let id = task_id_of(&machine, "@max").await;

    let (status, claimed) = machine.act(id, json!({ "action": "claim" })).await;
    assert_eq!(status, StatusCode::OK, "{claimed}");
    assert_eq!(claimed["assignee"], "token:crm");
    assert_eq!(machine.get("/api/feedback/export").await.0, StatusCode::FORBIDDEN);
    machine.bearer = Some(new_token());
    assert_eq!(machine.get("/api/tasks").await.0, StatusCode::UNAUTHORIZED);
}

async fn the_openapi_document_lists_every_route_the_router_serves(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let app = TestApp::new(&store, &settings);
    let lee = app.login("lee").await;
    let (status, doc) = lee.get("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let paths = doc["paths"].as_object().unwrap();

    // Every router file: its paths are under `/api` unless they say so themselves, but
    // mod.rs holds the pages, and nests only `/me`, `/logout` and `/openapi.json`.
    let route = regex::Regex::new(r#"\.route\(\s*"([^"]+)""#).unwrap();
    let mut served = Vec::new();
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir("src/web")
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    assert!(files.len() >= 8, "{files:?}");
    for file in &files {
        let in_mod = file.ends_with("mod.rs");
        let source = std::fs::read_to_string(file).unwrap();
        for capture in route.captures_iter(&source) {
            let path = &capture[1];
            let full = if path.starts_with("/api/") || (in_mod && !["/me", "/logout", "/openapi.json"].contains(&path))
            {
                path.to_owned()
            } else {
                format!("/api{path}")
            };
            served.push(full);
        }
    }
    let pages = ["/", "/assets/app.js", "/assets/login.js", "/assets/app.css", "/healthz"];
    let missing: Vec<&String> = served
        .iter()
        .filter(|p| !pages.contains(&p.as_str()) && !paths.contains_key(p.as_str()))
        .collect();
    assert!(served.len() > 25, "{served:?}");
    for expected in [
        "/api/channels/{name}/enable",
        "/api/exports/{week}/{file}",
        "/api/ingest/{source_id}",
    ] {
        assert!(served.iter().any(|p| p == expected), "{expected} was found: {served:?}");
    }
    assert!(
        missing.is_empty(),
        "routes missing from the OpenAPI document: {missing:?}"
    );
}

#[tokio::test]
async fn unknown_template_placeholders_are_config_errors() {
    let env = TestEnv::new();
    let problems = env.config().template("bad", "Hi {customer}").problems();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("templates[0].text") && p.contains("customer")),
        "{problems:?}"
    );
}

async fn after_resolution_the_authors_next_post_records_whether_they_recovered(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let app = TestApp::new(&store, &settings);
    let ann = app.login("ann").await;
    let id = task_id_of(&ann, "@jo").await;
    assert_eq!(ann.act(id, json!({ "action": "claim" })).await.0, StatusCode::OK);
    assert_eq!(
        ann.act(id, json!({ "action": "reply", "text": "So sorry, DM us" }))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(ann.act(id, json!({ "action": "resolve" })).await.0, StatusCode::OK);

    // The customer writes again a minute later.
    let next = json!({
        "platform": "x",
        "id": "9",
        "author": "@jo",
        "text": "@AcmeAir got my bag back today, great service, thanks",
        "created_at": (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339(),
    })
    .to_string();
    env.append("acme-feed", &[next]);
    let (store, settings) = poll_and_score(&env, 1).await;
    let app = TestApp::new(&store, &settings);
    let lee = app.login("lee").await;
    let (status, _, recorded) = lee.send("POST", "/api/follow-ups/record", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(recorded["updated"], 1);

    let (_, detail) = lee.get(&format!("/api/tasks/{id}")).await;
    assert_eq!(detail["task"]["recovered"], true, "{}", detail["task"]);
}

/// A post by `author` a minute from now, for follow-ups after a resolution.
fn later_post(id: &str, author: &str, text: &str) -> String {
    json!({
        "platform": "x",
        "id": id,
        "author": author,
        "text": text,
        "created_at": (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339(),
    })
    .to_string()
}

async fn the_scheduled_follow_up_job_records_each_resolved_task_once(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let app = TestApp::new(&store, &settings);
    let ann = app.login("ann").await;
    let jo = task_id_of(&ann, "@jo").await;
    let max = task_id_of(&ann, "@max").await;
    for id in [jo, max] {
        assert_eq!(ann.act(id, json!({ "action": "claim" })).await.0, StatusCode::OK);
        assert_eq!(ann.act(id, json!({ "action": "resolve" })).await.0, StatusCode::OK);
    }
    let (tasks, _catch_up) = earshot::scheduler::cron_tasks(&settings, store.clone(), &[], None).unwrap();
    let job = tasks
        .iter()
        .find(|t| t.name == earshot::pipeline::follow_up::FOLLOW_UP_JOB)
        .expect("the service schedules the follow-up job");
    (job.run)().await;
    let (_, detail) = ann.get(&format!("/api/tasks/{jo}")).await;
    assert_eq!(detail["task"]["recovered"], Value::Null, "no next post yet");

    env.append(
        "acme-feed",
        &[
            later_post("20", "@jo", "@AcmeAir got my bag back today, great service, thanks"),
            later_post(
                "21",
                "@max",
                "Acme Air still no refund, terrible service, worst airline",
            ),
        ],
    );
    poll_and_score(&env, 2).await;
    (job.run)().await;
    (job.run)().await;

    let (_, jo_detail) = ann.get(&format!("/api/tasks/{jo}")).await;
    assert_eq!(jo_detail["task"]["recovered"], true, "{}", jo_detail["task"]);
    assert_eq!(jo_detail["task"]["next_post_sentiment"], "positive");
    let (_, max_detail) = ann.get(&format!("/api/tasks/{max}")).await;
    assert_eq!(max_detail["task"]["recovered"], false, "{}", max_detail["task"]);
    assert_eq!(max_detail["task"]["next_post_sentiment"], "negative");
    for id in [jo, max] {
        let n_recorded = env
            .scalar_of(&format!(
                "SELECT COUNT(*) FROM task_events WHERE task_id = {id} AND kind = 'follow_up_recorded'"
            ))
            .await;
        assert_eq!(n_recorded, 1, "task {id}: recorded once, however often the job runs");
    }
    let lee = app.login("lee").await;
    let (status, _, again) = lee.send("POST", "/api/follow-ups/record", None).await;
    assert_eq!((status, again["updated"].as_i64()), (StatusCode::OK, Some(0)));

    // The scheduler accepts the jobs' schedules and stops cleanly.
    let scheduler = earshot::scheduler::Scheduler::start(env.pipeline().await, Vec::new(), tasks)
        .await
        .unwrap();
    scheduler.shutdown().await;
}

/// Guesses sent all at once: each is counted before its password is checked, so 60
/// concurrent wrong passwords get ten checks (401) and fifty refusals (429), and among 200
/// concurrent guesses the right password (the 150th) never gets through.
async fn concurrent_guesses_are_counted_before_the_check(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let app = TestApp::new(&store, &settings);
    let anonymous = app.anonymous();
    let guess = |username: &'static str, password: String| {
        let anonymous = &anonymous;
        async move {
            let body = json!({ "username": username, "password": password });
            anonymous.send("POST", "/login", Some(body)).await.0
        }
    };
    let count = |statuses: &[StatusCode], wanted: StatusCode| statuses.iter().filter(|s| **s == wanted).count();

    let wrong = futures::future::join_all((0..60).map(|i| guess("lee", format!("guess{i}")))).await;
    let spray = futures::future::join_all((0..200).map(|i| {
        let password = if i == 150 {
            PASSWORD.to_owned()
        } else {
            format!("guess{i}")
        };
        guess("bob", password)
    }))
    .await;
    let headers_after = anonymous
        .send(
            "POST",
            "/login",
            Some(json!({ "username": "ann", "password": PASSWORD })),
        )
        .await;

    assert_eq!(count(&wrong, StatusCode::UNAUTHORIZED), 10, "{wrong:?}");
    assert_eq!(count(&wrong, StatusCode::TOO_MANY_REQUESTS), 50);
    assert_eq!(count(&spray, StatusCode::OK), 0, "the right password came too late");
    assert_eq!(count(&spray, StatusCode::UNAUTHORIZED), 10);
    assert_eq!(headers_after.0, StatusCode::OK, "other users still log in");
    assert!(
        headers_after.1.get(header::STRICT_TRANSPORT_SECURITY).is_none(),
        "no HSTS without secure_cookies"
    );
}

crate::support::on_both_backends!(
    concurrent_guesses_are_counted_before_the_check,
    everything_but_health_and_login_needs_a_session_or_token,
    a_session_cookie_is_strict_and_state_changes_need_the_csrf_token,
    guessing_a_password_locks_the_username_and_https_sites_get_secure_cookies,
    a_task_walks_claim_reply_resolve_with_an_event_for_each_step,
    agents_work_only_their_own_tasks_and_leads_assign,
    bulk_dismissals_report_each_task_and_false_positives_become_training_data,
    machines_use_bearer_tokens_with_their_role_and_no_csrf,
    the_openapi_document_lists_every_route_the_router_serves,
    after_resolution_the_authors_next_post_records_whether_they_recovered,
    the_scheduled_follow_up_job_records_each_resolved_task_once,
);
