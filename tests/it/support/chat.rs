//! Alert tests' shared pieces: tasks opened through the real pipeline (one hostile complaint
//! first), channels to loopback chat servers, and what those servers received.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use wiremock::MockServer;

use earshot::alerts::{ChannelKind, ChannelSettings};
use earshot::domain::Priority;
use earshot::secret::Secret;
use earshot::store::Store;

use super::env::{TestEnv, line, poll_feed};

/// A complaint that tries every markup and mention trick the chat platforms have.
pub(crate) const HOSTILE: &str = "@AcmeAir lost my bag, worst airline, refund now @everyone <!channel> <@123> [click](https://evil.example) & *bold*";

/// Opens `n` tasks (one hostile complaint first) through the real pipeline; returns the store.
pub(crate) async fn tasks(env: &TestEnv, n: usize) -> Arc<dyn Store> {
    let mut lines = vec![line("0", "@author0", HOSTILE)];
    for i in 1..n {
        lines.push(line(
            &i.to_string(),
            &format!("@author{i}"),
            "@AcmeAir cancelled my flight, terrible service, I want a refund",
        ));
    }
    env.append("acme-feed", &lines);
    let pipeline = env.pipeline().await;
    // The feed source reads three lines per poll.
    let report = poll_feed(&pipeline, n.div_ceil(3)).await;
    assert_eq!(report.n_tasks_opened, n, "every complaint opened a task");
    pipeline.store().clone()
}

/// A channel of `kind` named `name` posting to `url`, for every brand, from low priority.
pub(crate) fn channel(name: &str, kind: ChannelKind, url: String) -> ChannelSettings {
    ChannelSettings {
        name: name.to_owned(),
        kind,
        url: Secret::inline(url),
        brands: Vec::new(),
        min_priority: Priority::Low,
    }
}

pub(crate) fn client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder().timeout(timeout).build().unwrap()
}

/// The JSON bodies `server` received, in order.
pub(crate) async fn bodies(server: &MockServer) -> Vec<Value> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|request| serde_json::from_slice(&request.body).unwrap())
        .collect()
}
