//! Reply templates leads keep in the database per brand: created, listed beside the
//! config's, filled in for a task and the agent (with `{first_name}`), changed and deleted;
//! agents read and use them but cannot change them; names are unique per brand.

use axum::http::StatusCode;
use serde_json::json;

use crate::support::fill::{complaints, filled, task_id_of};
use crate::support::{TestApp, TestEnv, on_both_backends};

async fn leads_keep_templates_per_brand_and_agents_fill_them_in(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let app = TestApp::new(&store, &settings);
    let (lee, ann) = (app.login("lee").await, app.login("ann").await);
    let template = json!({
        "brand": "acme",
        "name": "Sorry, first",
        "text": "Hi {first_name}, I'm sorry about this. {agent} at {brand} is on it ({author}, {platform}).",
        "apology": true,
    });

    let (status, _, refused) = ann.send("POST", "/api/templates", Some(template.clone())).await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "agents do not write templates: {refused}"
    );
    let (status, _, created) = lee.send("POST", "/api/templates", Some(template.clone())).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        (
            &created["brand"],
            &created["apology"],
            &created["source"],
            &created["updated_by"]
        ),
        (&json!("acme"), &json!(true), &json!("app"), &json!("lee"))
    );
    let id = created["id"].as_i64().unwrap();
    let (status, _, twice) = lee.send("POST", "/api/templates", Some(template.clone())).await;
    assert_eq!(status, StatusCode::CONFLICT, "one name per brand: {twice}");
    for (bad, why) in [
        (
            json!({ "brand": "acme", "name": "x", "text": "Hi {customer}" }),
            "customer",
        ),
        (json!({ "brand": "acme", "name": " ", "text": "Hi" }), "name is empty"),
        (json!({ "brand": "nope", "name": "x", "text": "Hi" }), "not configured"),
    ] {
        let (status, _, answer) = lee.send("POST", "/api/templates", Some(bad)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
        assert!(answer["error"].as_str().unwrap().contains(why), "{answer}");
    }

    // Agents see the brand's stored templates, then the config's.
    let (status, listed) = ann.get("/api/templates?brand=acme").await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<(&str, &str)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap(), t["source"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("Sorry, first", "app"), ("apology", "config")]);

    let jo = task_id_of(&ann, "@jo").await;
    let preview = |body: serde_json::Value| {
        let ann = &ann;
        async move {
            ann.send("POST", &format!("/api/tasks/{jo}/reply-preview"), Some(body))
                .await
        }
    };
    let (status, _, filled_in) = preview(json!({ "template_id": id })).await;
    assert_eq!(status, StatusCode::OK, "{filled_in}");
    assert_eq!(
        filled_in["text"],
        "Hi jo, I'm sorry about this. ann at Acme Air is on it (@jo, x)."
    );
    let (_, _, by_name) = preview(json!({ "template": "Sorry, first" })).await;
    assert_eq!(by_name["text"], filled_in["text"], "a stored template by its name");

    // Changed by a lead: the next reply uses the new text.
    let mut changed = template.clone();
    changed["text"] = json!("Hello {first_name}, so sorry.");
    changed["apology"] = json!(false);
    let (status, _, replaced) = lee
        .send("PUT", &format!("/api/templates/{id}"), Some(changed.clone()))
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["apology"], false);
    let (_, _, again) = preview(json!({ "template_id": id })).await;
    assert_eq!(again["text"], "Hello jo, so sorry.");

    let (status, _, _) = ann.send("DELETE", &format!("/api/templates/{id}"), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, _) = lee.send("DELETE", &format!("/api/templates/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _, _) = lee.send("DELETE", &format!("/api/templates/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = lee.send("PUT", &format!("/api/templates/{id}"), Some(changed)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, gone) = preview(json!({ "template_id": id })).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{gone}");
    let (_, listed) = ann.get("/api/templates").await;
    assert_eq!(
        listed.as_array().unwrap().len(),
        1,
        "only the config's is left: {listed}"
    );
}

async fn a_reply_without_an_account_is_counted_against_the_platform_s_limit(env: TestEnv) {
    let (store, settings) = filled(&env, &complaints()).await;
    let app = TestApp::new(&store, &settings);
    let ann = app.login("ann").await;
    let jo = task_id_of(&ann, "@jo").await;

    let (status, _, check) = ann
        .send(
            "POST",
            &format!("/api/tasks/{jo}/reply-check"),
            Some(json!({ "text": "a".repeat(281) })),
        )
        .await;

    assert_eq!(status, StatusCode::OK, "{check}");
    assert_eq!(
        (&check["count"], &check["limit"], &check["fits"]),
        (&json!(281), &json!(280), &json!(false)),
        "X's own limit: {check}"
    );
}

on_both_backends!(
    leads_keep_templates_per_brand_and_agents_fill_them_in,
    a_reply_without_an_account_is_counted_against_the_platform_s_limit,
);
