//! Replies sent from earshot: each platform's publisher against a loopback server in the
//! platform's documented request and response shapes (`publishers`), the reply worker's
//! exactly-once behaviour under 429s, 5xx storms, revoked tokens and a kill -9 between the
//! send and its record (`outbox`), reply accounts in config and `earshot accounts test`
//! (`accounts`), and sending from the queue's API (`api`).

mod accounts;
mod api;
mod outbox;
mod publishers;

use std::sync::Arc;

use earshot::auth::{Role, hash_password};
use earshot::config::{Settings, from_toml};
use earshot::domain::{SourceId, now_millis};
use earshot::pipeline::Pipeline;
use earshot::scoring::ScoringService;
use earshot::scoring::lexicon::LexiconScorer;
use earshot::sources::jsonl::JsonlSource;
use earshot::store::{NewUser, Store};

use crate::support::TestEnv;

/// The complaint every test answers.
pub(crate) const COMPLAINT: &str = "@AcmeAir lost my bag, worst airline ever, refund now";

/// A JSONL line for a post on `platform`.
pub(crate) fn post_on(platform: &str, id: &str, author: &str, url: &str, conversation: Option<&str>) -> String {
    serde_json::json!({
        "platform": platform,
        "id": id,
        "author": author,
        "text": COMPLAINT,
        "created_at": chrono::Utc::now().to_rfc3339(),
        "url": url,
        "conversation_id": conversation,
    })
    .to_string()
}

/// The test config with `accounts` (TOML for `[[brands.reply_accounts]]`) added to brand acme.
pub(crate) fn config_with(env: &TestEnv, accounts: &str) -> String {
    format!("{}\n{accounts}\n", env.config_toml())
}

/// A store filled by the real pipeline from `lines` under `config`, with users ann and bob
/// (agents) and lee (lead).
pub(crate) async fn filled(env: &TestEnv, config: &str, lines: &[String]) -> (Arc<dyn Store>, Arc<Settings>) {
    std::fs::write(env.path().join("earshot.toml"), config).unwrap();
    env.append("acme-feed", lines);
    let settings = Arc::new(from_toml(config, "test").unwrap());
    let store = earshot::app::open_store(&settings).await.unwrap();
    let pipeline = Pipeline::new(
        store.clone(),
        ScoringService::start(Box::new(LexiconScorer), 2, 8),
        settings.clone(),
    );
    let source = settings.source(&SourceId::parse("acme-feed").unwrap()).unwrap();
    let earshot::sources::SourceKind::Jsonl(jsonl) = &source.kind else {
        panic!("the test config's sources are jsonl sources");
    };
    for _ in 0..lines.len().div_ceil(3) + 1 {
        pipeline
            .poll_source(&JsonlSource::new(source.id.clone(), jsonl.clone()))
            .await
            .unwrap();
    }
    pipeline.score_pending().await.unwrap();
    for (name, role) in [("ann", Role::Agent), ("bob", Role::Agent), ("lee", Role::Lead)] {
        store
            .create_user(NewUser {
                username: name.into(),
                password_hash: hash_password(crate::review::PASSWORD).unwrap(),
                role,
                at: now_millis(),
            })
            .await
            .unwrap();
    }
    (store, settings)
}

/// The id of the only task.
pub(crate) async fn only_task(store: &Arc<dyn Store>) -> i64 {
    let tasks = store
        .list_tasks(&earshot::store::TaskFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    tasks[0].id
}

/// Queues a reply on the task as `ann` would from the queue (claiming it).
pub(crate) async fn queue(store: &Arc<dyn Store>, settings: &Settings, task_id: i64, text: &str, resolve: bool) -> i64 {
    let task = store.task_detail(task_id).await.unwrap().task;
    let (post_id, target) = store.reply_target(task_id).await.unwrap().unwrap();
    let brand = earshot::domain::BrandId::parse("acme").unwrap();
    let account = settings.brand(&brand).unwrap().reply_account(target.platform).unwrap();
    let actor = earshot::tasks::actions::Actor {
        name: "ann".into(),
        role: Role::Agent,
    };
    let now = now_millis();
    let claim = earshot::tasks::actions::decide_send(&task, &actor, text, None, now, Role::Agent).unwrap();
    store
        .queue_reply(earshot::store::NewReply {
            task_id,
            post_id,
            brand,
            platform: target.platform,
            text: text.into(),
            idempotency_key: account.new_key(now),
            requested_by: "ann".into(),
            resolve_after: resolve,
            at: now,
            claim,
        })
        .await
        .unwrap()
        .id
}

/// The reply worker as `serve` runs it, with the shared HTTP client.
pub(crate) fn sender(store: &Arc<dyn Store>, settings: &Arc<Settings>) -> earshot::pipeline::replies::ReplySender {
    earshot::pipeline::replies::ReplySender::new(
        store.clone(),
        settings.clone(),
        earshot::app::http_client().unwrap(),
        "test-instance".into(),
    )
}

/// A Mastodon reply account on `base_url` with an inline token.
pub(crate) fn mastodon_account(base_url: &str) -> String {
    format!(
        r#"
[[brands.reply_accounts]]
platform = "mastodon"
base_url = "{base_url}"
access_token = "mastodon-token-1"
"#
    )
}
