//! Stores filled through the real pipeline for the queue's tests: the standard complaints,
//! the users ann and bob (agents) and lee (lead) with one password, and finding a task.

use std::sync::Arc;

use earshot::auth::{Role, hash_password};
use earshot::config::Settings;
use earshot::domain::now_millis;
use earshot::store::{NewUser, Store};

use super::app::Client;
use super::config::ConfigBuilder;
use super::env::{TestEnv, line, pipeline_for, poll_feed};

/// Every test user's password.
pub(crate) const PASSWORD: &str = "correct horse battery";

/// The standard config with the `apology` reply template.
pub(crate) fn config_with_templates(env: &TestEnv) -> ConfigBuilder {
    env.config().template(
        "apology",
        "Hi {author}, we are sorry about this. {agent} from {brand} will sort it out here on {platform}.",
    )
}

/// A store filled by the real pipeline from `lines`, with users ann (agent), bob (agent),
/// lee (lead).
pub(crate) async fn filled(env: &TestEnv, lines: &[String]) -> (Arc<dyn Store>, Arc<Settings>) {
    env.append("acme-feed", lines);
    let (store, settings) = poll_and_score(env, lines.len()).await;
    create_users(&store).await;
    (store, settings)
}

/// Users ann (agent), bob (agent) and lee (lead), all with `PASSWORD`.
pub(crate) async fn create_users(store: &Arc<dyn Store>) {
    for (name, role) in [("ann", Role::Agent), ("bob", Role::Agent), ("lee", Role::Lead)] {
        store
            .create_user(NewUser {
                username: name.into(),
                password_hash: hash_password(PASSWORD).unwrap(),
                role,
                at: now_millis(),
            })
            .await
            .unwrap();
    }
}

/// Polls the feed through the real pipeline until `n_lines` new lines are read, and scores.
pub(crate) async fn poll_and_score(env: &TestEnv, n_lines: usize) -> (Arc<dyn Store>, Arc<Settings>) {
    let pipeline = pipeline_for(config_with_templates(env).settings()).await;
    // batch_lines = 3: poll until the new lines are drained.
    poll_feed(&pipeline, n_lines.div_ceil(3) + 1).await;
    (pipeline.store().clone(), pipeline.settings().clone())
}

pub(crate) fn complaints() -> Vec<String> {
    vec![
        line("1", "@jo", "@AcmeAir lost my bag, worst airline ever, refund now"),
        line(
            "2",
            "@max",
            "Acme Air cancelled my flight again, terrible service, I want a refund",
        ),
        line("3", "@kim", "Acme Air crew were great, thanks"),
    ]
}

/// The id of `author`'s task, any status.
pub(crate) async fn task_id_of(client: &Client, author: &str) -> i64 {
    let (_, tasks) = client.get("/api/tasks?status=").await;
    tasks["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["author_handle"] == author)
        .unwrap_or_else(|| panic!("a task for {author}: {tasks}"))["id"]
        .as_i64()
        .unwrap()
}
