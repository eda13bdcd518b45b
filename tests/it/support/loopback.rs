//! The loopback servers a `TestEnv` starts for its test, standing in for the services earshot
//! calls (zero2prod's email server in `spawn_app`): a chat service whose webhooks are alert
//! channels (`chat`), and a platform's API that sources poll and reply accounts post to
//! (`platform`). Each starts on first use on a free loopback port and lives as long as the
//! env; the expectations mounted on it (`Mock::expect`) are checked when the env is dropped.
//! The wiring methods put their URLs into the config through `ConfigBuilder`, so a test
//! mounts what the service answers and never builds its URLs by hand.

use tokio::sync::OnceCell;
use wiremock::MockServer;

use earshot::alerts::{ChannelKind, ChannelSettings};

use super::config::{ConfigBuilder, channel};
use super::env::TestEnv;

/// The env's loopback servers, each started when a test first asks for it.
#[derive(Default)]
pub(crate) struct Loopback {
    chat: OnceCell<MockServer>,
    platform: OnceCell<MockServer>,
}

impl TestEnv {
    /// The loopback chat service (Slack, Teams, Discord… webhooks), started on first use.
    pub(crate) async fn chat(&self) -> &MockServer {
        self.loopback.chat.get_or_init(MockServer::start).await
    }

    /// The loopback platform API (what a polled source reads and a reply account posts
    /// to), started on first use.
    pub(crate) async fn platform(&self) -> &MockServer {
        self.loopback.platform.get_or_init(MockServer::start).await
    }

    /// `path` (with its query) on the chat service.
    pub(crate) async fn chat_url(&self, path: &str) -> String {
        format!("{}{path}", self.chat().await.uri())
    }

    /// An alert channel `name` of `kind` posting to `path` on the chat service, for every
    /// brand from low priority (for a `Deliverer` built in the test).
    pub(crate) async fn chat_channel(&self, name: &str, kind: ChannelKind, path: &str) -> ChannelSettings {
        super::chat::channel(name, kind, self.chat_url(path).await)
    }

    /// The standard config with `[[alerts.channels]]` `name` of `kind` (`"slack"`…) posting
    /// to `path` on the chat service, from low priority.
    pub(crate) async fn config_with_chat_channel(&self, name: &str, kind: &str, path: &str) -> ConfigBuilder {
        let url = self.chat_url(path).await;
        self.config()
            .channel(channel(name, kind, &url).set("min_priority", "low"))
    }

    /// The standard config with brand `acme`'s Mastodon reply account on the platform API
    /// (inline token).
    pub(crate) async fn config_with_mastodon_replies(&self) -> ConfigBuilder {
        let account = super::replies::mastodon_account(&self.platform().await.uri());
        self.config().reply_account("acme", account)
    }
}
