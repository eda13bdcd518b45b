//! The OpenAPI 3.1 document for `/api`, written by hand (`GET /api/openapi.json`). A test
//! checks that every route the router serves is listed here.

use serde_json::{Value, json};

/// Every route as (method, OpenAPI path, summary). The router test compares against this.
pub const OPERATIONS: &[(&str, &str, &str)] = &[
    (
        "post",
        "/login",
        "Log in with username and password; sets the session cookie",
    ),
    ("post", "/api/logout", "End the session"),
    (
        "get",
        "/metrics",
        "Prometheus metrics in the text format (bearer: [http] metrics_token or an admin API token)",
    ),
    (
        "get",
        "/readyz",
        "Ready for traffic: the database answers and the scoring model runs (200), or 503 naming what does not",
    ),
    ("get", "/api/me", "The caller, role and CSRF token"),
    (
        "get",
        "/api/tasks",
        "A page of tasks and their total (filters: q, brand, status, platform, assignee, unassigned, priority, \
         due_within_mins, follow_ups_due, author, sentiment, since, until; sort; limit, offset)",
    ),
    (
        "get",
        "/api/tasks/{id}",
        "A task with its posts, factors and events, and the recurring problem it belongs to",
    ),
    (
        "get",
        "/api/problems",
        "Recurring problems ranked by unanswered tasks and growth (filters: brand, status, all), with counts, \
         sparkline, platforms and terms",
    ),
    (
        "get",
        "/api/problems/{id}",
        "One problem with example posts and its tasks",
    ),
    (
        "patch",
        "/api/problems/{id}",
        "Set a problem's status (new, acknowledged, fixed), owner, note and known-issue message (leads, admins)",
    ),
    (
        "post",
        "/api/problems/{id}/answer",
        "Answer a problem's tasks in bulk (text or its known-issue message; scope unanswered or active; resolve): \
         one reply per task through the reply outbox, with what was skipped and why (leads, admins)",
    ),
    (
        "post",
        "/api/tasks/{id}/actions",
        "claim, assign, note, reply, resolve, dismiss, reopen",
    ),
    ("post", "/api/tasks/bulk", "One action on many tasks"),
    (
        "post",
        "/api/tasks/{id}/reply-preview",
        "A reply template (template: a name, or template_id) filled in for the task and the caller",
    ),
    (
        "get",
        "/api/tasks/{id}/replies",
        "The task's reply account (who earshot posts as, whether the caller can send, the limit) and its replies \
         (queued, sent with a link, failed with the platform's reason)",
    ),
    (
        "post",
        "/api/tasks/{id}/replies",
        "Send a reply as the brand (text, resolve, expected_updated_at_ms): queued (202), published by the reply \
         worker exactly once; claims the task if nobody has",
    ),
    (
        "post",
        "/api/tasks/{id}/reply-check",
        "Count a reply as the task's platform counts it, against its limit",
    ),
    ("post", "/api/replies/{id}/retry", "Queue a failed reply again"),
    (
        "get",
        "/api/reply-accounts",
        "The brands' reply accounts: who earshot posts as, last success, last error",
    ),
    (
        "get",
        "/api/tasks/{id}/author-history",
        "The author's record with the brand",
    ),
    (
        "post",
        "/api/tasks/{id}/posts/{post_id}/label",
        "Re-label a post's sentiment",
    ),
    (
        "get",
        "/api/templates",
        "Reply templates (brand: that brand's stored ones and the config's): id and brand for stored ones, \
         name, text, apology, source app or config",
    ),
    (
        "post",
        "/api/templates",
        "Store a reply template for a brand (brand, name, text, apology; leads, admins); 409 if the brand has \
         that name",
    ),
    (
        "put",
        "/api/templates/{id}",
        "Replace a stored reply template (leads, admins)",
    ),
    (
        "delete",
        "/api/templates/{id}",
        "Delete a stored reply template (leads, admins)",
    ),
    (
        "get",
        "/api/feedback/export",
        "Labelled examples as JSONL: text, sentiment (and label), complaint 0/1 (leads, admins)",
    ),
    (
        "get",
        "/api/brands/{id}/threshold-suggestion",
        "Threshold suggestion from reviewed tasks and missed complaints: expected recall and precision, \
         or not enough reviews yet (leads, admins)",
    ),
    (
        "get",
        "/api/mentions",
        "Every mention, flagged or not, with its scores and task: filters, text search, paging, total",
    ),
    (
        "post",
        "/api/mentions/{id}/task",
        "This needed an answer: open (or join) a task for a mention, once; kept as a missed-complaint example",
    ),
    (
        "post",
        "/api/follow-ups/record",
        "Record authors' next posts after resolution now (the scheduler does this every ten minutes)",
    ),
    ("get", "/api/events", "Server-sent events when the queue changes"),
    (
        "post",
        "/api/privacy/erase",
        "Erase what identifies one author ({platform, author}): posts' text, handle and links, tasks' texts, \
         training examples; counts stay (admins)",
    ),
    (
        "get",
        "/api/dashboard",
        "A week's numbers (week: 2026-W49, default this week; brand): the export's summary with the change \
         against last week and last week's summary, per-agent time to first response and SLA attainment, the \
         open backlog by age and the SLAs breached now (leads, admins)",
    ),
    ("get", "/api/stats", "Totals"),
    ("get", "/api/sources", "Source health"),
    ("get", "/api/quarantine", "Quarantined input"),
    ("get", "/api/brands", "Configured brands"),
    (
        "get",
        "/api/channels",
        "Alert channels: kind, disabled (and why), delivery counts; never the URL",
    ),
    (
        "post",
        "/api/channels/{name}/enable",
        "Turn a disabled channel back on; its waiting deliveries go out (leads, admins)",
    ),
    ("get", "/api/exports", "Export runs: week, scope, status, files"),
    (
        "get",
        "/api/exports/{week}/{file}",
        "Download a file an export wrote (CSV, JSON Lines, Parquet, summary, chart)",
    ),
    ("get", "/api/openapi.json", "This document"),
    (
        "post",
        "/api/ingest/{source_id}",
        "Push posts (JSON array or NDJSON) into a push source (ingest or admin token)",
    ),
];

/// The push endpoint: bearer token only, its own statuses, body and answer.
fn ingest_operation(summary: &str) -> Value {
    json!({
        "summary": summary,
        "security": [{ "bearer": [] }],
        "parameters": [{ "name": "source_id", "in": "path", "required": true, "schema": { "type": "string" } }],
        "requestBody": { "content": {
            "application/json": { "schema": { "type": "array", "items": { "$ref": "#/components/schemas/ImportPost" } } },
            "application/x-ndjson": { "schema": { "$ref": "#/components/schemas/ImportPost" } }
        } },
        "responses": {
            "200": { "description": "Every item was a valid post; counts and one entry per item" },
            "207": { "description": "Some items were quarantined; see `items`" },
            "400": { "description": "The body is not a JSON array or NDJSON; nothing was stored" },
            "401": { "description": "No valid bearer token" },
            "403": { "description": "The token's role may not ingest, or the source is disabled" },
            "404": { "description": "No push source with this id" },
            "413": { "description": "The body is larger than the source's max_body_bytes" }
        }
    })
}

/// `GET /api/mentions`: its query parameters.
fn mentions_parameters() -> Value {
    let query = |name: &str, description: &str, schema: Value| json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema });
    json!([
        query("brand", "Brand id", json!({ "type": "string" })),
        query(
            "platform",
            "Platform",
            json!({ "enum": ["x", "bluesky", "mastodon", "reddit", "hackernews", "youtube", "rss", "other"] })
        ),
        query(
            "q",
            "Text search over post text, author handle and name; case-insensitive; at most 200 characters",
            json!({ "type": "string" })
        ),
        query(
            "sentiment",
            "The model's label",
            json!({ "enum": ["negative", "neutral", "positive"] })
        ),
        query(
            "below_threshold",
            "true: only assessed mentions the pipeline did not flag",
            json!({ "type": "boolean" })
        ),
        query(
            "since",
            "Posts written at or after: RFC 3339 or YYYY-MM-DD (UTC)",
            json!({ "type": "string" })
        ),
        query(
            "until",
            "Posts written before: RFC 3339 or YYYY-MM-DD (UTC)",
            json!({ "type": "string" })
        ),
        query(
            "sort",
            "criticality (default: most critical first) or newest",
            json!({ "enum": ["criticality", "newest"] })
        ),
        query(
            "limit",
            "Mentions per page, 1 to 200 (default 50)",
            json!({ "type": "integer", "minimum": 1, "maximum": 200 })
        ),
        query(
            "offset",
            "Mentions to skip, 0 to 100000",
            json!({ "type": "integer", "minimum": 0, "maximum": 100_000 })
        ),
    ])
}

/// The query parameters of `GET /api/tasks`.
fn tasks_parameters() -> Value {
    let query = |name: &str, description: &str, schema: Value| json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema });
    json!([
        query(
            "q",
            "Text search over the task's posts: text, author handle and name (case-insensitive, at most 200 characters)",
            json!({ "type": "string", "maxLength": 200 })
        ),
        query("brand", "One brand id", json!({ "type": "string" })),
        query(
            "status",
            "Comma-separated open, assigned, responded, resolved, dismissed, or active (the first three)",
            json!({ "type": "string" })
        ),
        query("platform", "One platform", json!({ "type": "string" })),
        query(
            "priority",
            "critical, high, medium or low",
            json!({ "enum": ["critical", "high", "medium", "low"] })
        ),
        query("assignee", "Tasks assigned to this user", json!({ "type": "string" })),
        query(
            "unassigned",
            "true: only tasks nobody is assigned to",
            json!({ "type": "boolean" })
        ),
        query(
            "due_within_mins",
            "Only open or assigned tasks without a reply, overdue or due within this many minutes",
            json!({ "type": "integer", "minimum": 0, "maximum": 10_080 })
        ),
        query(
            "follow_ups_due",
            "true: only resolved tasks whose follow-up is due now",
            json!({ "type": "boolean" })
        ),
        query(
            "author",
            "Only tasks of this author (the handle as stored)",
            json!({ "type": "string" })
        ),
        query(
            "sentiment",
            "Only tasks whose latest post reads negative, neutral or positive",
            json!({ "enum": ["negative", "neutral", "positive"] })
        ),
        query(
            "since",
            "Only tasks opened at or after this time (RFC 3339, or a date: midnight UTC)",
            json!({ "type": "string" })
        ),
        query(
            "until",
            "Only tasks opened before this time (RFC 3339, or a date: midnight UTC)",
            json!({ "type": "string" })
        ),
        query(
            "sort",
            "urgency (default: priority, then the nearest deadline), sla (nearest deadline first), criticality or newest",
            json!({ "enum": ["urgency", "sla", "criticality", "newest"] })
        ),
        query(
            "limit",
            "Tasks per page, 1 to 200 (default 50)",
            json!({ "type": "integer", "minimum": 1, "maximum": 200 })
        ),
        query(
            "offset",
            "Tasks to skip, 0 to 100000",
            json!({ "type": "integer", "minimum": 0, "maximum": 100_000 })
        ),
    ])
}

/// The document.
pub fn document() -> Value {
    let mut paths = serde_json::Map::new();
    for (method, path, summary) in OPERATIONS {
        let entry = paths.entry((*path).to_owned()).or_insert_with(|| json!({}));
        let mut op = json!({
            "summary": summary,
            "responses": {
                "200": { "description": "OK" },
                "400": { "description": "Bad request" },
                "401": { "description": "No valid session or token" },
                "403": { "description": "Role, assignment or CSRF token forbids it" },
                "404": { "description": "Not found" },
                "409": { "description": "Task state or version conflict" }
            }
        });
        if ["post", "put", "delete"].contains(method) && *path != "/login" {
            op["parameters"] = json!([{ "name": "x-csrf-token", "in": "header", "required": false,
                "description": "Required with a session cookie", "schema": { "type": "string" } }]);
        }
        if *path == "/api/ingest/{source_id}" {
            op = ingest_operation(summary);
        }
        if *path == "/api/mentions" {
            op["parameters"] = mentions_parameters();
            op["responses"]["200"] =
                json!({ "description": "`total`, `limit`, `offset`, `sort` and `items`, one per mention" });
        }
        if *path == "/api/tasks" {
            op["parameters"] = tasks_parameters();
            op["responses"]["200"] = json!({ "description": "`total` (every task the filters select), `limit`, `offset` and `items`, one page" });
        }
        if *path == "/api/mentions/{id}/task" {
            op["requestBody"] = json!({ "required": false, "content": { "application/json": { "schema": {
                "type": "object",
                "properties": { "label": { "enum": ["negative", "neutral", "positive"],
                    "description": "The post's real sentiment, kept with the example" } }
            } } } });
            op["responses"]["201"] = json!({ "description": "A task was opened: `outcome` opened, `task_id`, `task`" });
            op["responses"]["200"] = json!({ "description": "`outcome` joined (the author's open conversation) or existing (the mention had its task)" });
            op["responses"]["409"] =
                json!({ "description": "The mention is not scored yet, or its brand is no longer configured" });
        }
        if *path == "/api/tasks/{id}/actions" {
            op["requestBody"] =
                json!({ "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Action" } } } });
        }
        entry[*method] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "earshot", "version": env!("CARGO_PKG_VERSION") },
        "security": [{ "bearer": [] }, { "session": [] }],
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer" },
                "session": { "type": "apiKey", "in": "cookie", "name": "earshot_session" }
            },
            "schemas": {
                "ImportPost": {
                    "type": "object",
                    "required": ["id", "author", "text", "created_at"],
                    "properties": {
                        "platform": { "type": "string", "description": "Default: the source's platform" },
                        "id": { "type": ["string", "integer"] },
                        "author": { "type": "string" },
                        "author_name": { "type": "string" },
                        "followers": { "type": "integer" },
                        "text": { "type": "string" },
                        "created_at": { "type": ["string", "integer"], "description": "RFC 3339 or Unix seconds" },
                        "url": { "type": "string" },
                        "lang": { "type": "string" },
                        "likes": { "type": "integer" },
                        "reposts": { "type": "integer" },
                        "replies": { "type": "integer" },
                        "quotes": { "type": "integer" },
                        "conversation_id": { "type": ["string", "integer"] },
                        "in_reply_to": { "type": ["string", "integer"] },
                        "quote_of": { "type": ["string", "integer"], "description": "The post this one quotes" },
                        "quoted_text": { "type": "string", "description": "The quoted post's text" }
                    }
                },
                "Action": {
                    "type": "object",
                    "required": ["action"],
                    "properties": {
                        "action": { "enum": ["claim", "assign", "note", "reply", "resolve", "dismiss", "reopen"] },
                        "expected_updated_at_ms": { "type": "integer" },
                        "to": { "type": "string" },
                        "text": { "type": "string" },
                        "template": { "type": "string" },
                        "reason": { "enum": ["false_positive", "spam", "not_ours", "other"] },
                        "label": { "enum": ["negative", "neutral", "positive"] }
                    }
                }
            }
        },
        "paths": paths,
    })
}
