//! Reply tests' shared pieces: posts on each platform, the standard config with reply
//! accounts, a store filled under it, queuing a reply as an agent, and the reply worker.

use std::sync::Arc;

use earshot::auth::Role;
use earshot::config::Settings;
use earshot::domain::now_millis;
use earshot::store::Store;

use super::config::{ConfigBuilder, Table};
use super::env::{TestEnv, pipeline_for, poll_feed};
use super::fill::create_users;

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

/// The test config with `account` as brand acme's reply account.
pub(crate) fn config_with(env: &TestEnv, account: Table) -> ConfigBuilder {
    env.config().reply_account("acme", account)
}

/// A store filled by the real pipeline from `lines` under `config` (also written to the
/// env's `earshot.toml`), with users ann and bob (agents) and lee (lead).
pub(crate) async fn filled(env: &TestEnv, config: &ConfigBuilder, lines: &[String]) -> (Arc<dyn Store>, Arc<Settings>) {
    config.write(&env.path().join("earshot.toml"));
    env.append("acme-feed", lines);
    let pipeline = pipeline_for(config.settings()).await;
    poll_feed(&pipeline, lines.len().div_ceil(3) + 1).await;
    let store = pipeline.store().clone();
    create_users(&store).await;
    (store, pipeline.settings().clone())
}

/// The id of the only task.
pub(crate) async fn only_task(store: &Arc<dyn Store>) -> earshot::domain::TaskId {
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
pub(crate) async fn queue(
    store: &Arc<dyn Store>,
    settings: &Settings,
    task_id: earshot::domain::TaskId,
    text: &str,
    resolve: bool,
) -> earshot::domain::ReplyId {
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
pub(crate) fn mastodon_account(base_url: &str) -> Table {
    Table::new()
        .set("platform", "mastodon")
        .set("base_url", base_url)
        .set("access_token", "mastodon-token-1")
}
