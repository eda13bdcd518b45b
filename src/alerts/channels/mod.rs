//! Chat platforms, one file each, behind one small trait (`ChatPlatform`): how an alert and
//! the weekly summary look there, how a request to it is shaped, how its answer names the
//! message sent, how fast it may be called, and what it can do with a task's earlier message
//! (edit it, thread under it). `ChannelSettings` is a channel from config; its `kind` is the
//! platform, tagged by `type`, with that platform's own keys (a signed webhook's
//! `signing_secret` is required by the type).
//!
//! A new platform is a file here and an arm of `ChannelKind` (with its line in
//! `ChannelKind::platform`).
//! Pure: no IO; sending is `alerts::sink`, scheduling and retries `pipeline::delivery`, and
//! neither names a platform.

pub mod discord;
pub mod google_chat;
pub mod mattermost;
pub mod slack;
pub mod teams;
pub mod webhook;

pub use discord::Discord;
pub use google_chat::GoogleChat;
pub use mattermost::Mattermost;
pub use slack::Slack;
pub use teams::Teams;
pub use webhook::Webhook;

use serde_json::Value;

use super::AlertPayload;
use super::limiter::Rate;
use super::render::{Summary, UpdateOf};
use super::weekly::WeeklyReport;
use crate::domain::{BrandId, Millis, Priority};
use crate::secret::Secret;

/// A chat destination from config: the keys every channel has, and its platform's part.
#[derive(Debug, Clone)]
pub struct ChannelSettings {
    /// Unique name, used by `earshot alerts test --channel NAME` and in the UI.
    pub name: String,
    /// The platform (`type`) with its own settings.
    pub kind: ChannelKind,
    /// The webhook URL. It carries the credential, so it is a secret.
    pub url: Secret,
    /// Brands whose alerts go here; empty means all.
    pub brands: Vec<BrandId>,
    /// Least urgent task priority that is sent here.
    pub min_priority: Priority,
}

impl ChannelSettings {
    /// The channel from its common keys and its platform's part, as config parsing finds them.
    pub(crate) fn from_parts(common: ChannelCommon, kind: ChannelKind) -> ChannelSettings {
        ChannelSettings {
            name: common.name,
            kind,
            url: common.url,
            brands: common.brands,
            min_priority: common.min_priority,
        }
    }

    /// The channel's platform.
    pub fn platform(&self) -> &dyn ChatPlatform {
        self.kind.platform()
    }
}

/// The keys every channel has, whatever its `type`; config parsing takes them out first and
/// leaves the rest to `ChannelKind`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChannelCommon {
    pub(crate) name: String,
    pub(crate) url: Secret,
    #[serde(default)]
    pub(crate) brands: Vec<BrandId>,
    #[serde(default = "crate::alerts::default_min_priority")]
    pub(crate) min_priority: Priority,
}

impl ChannelCommon {
    /// The keys of `ChannelCommon` in config.
    pub(crate) const KEYS: [&'static str; 4] = ["name", "url", "brands", "min_priority"];
}

impl serde::Serialize for ChannelSettings {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(serde::Serialize)]
        struct Flat<'a> {
            #[serde(flatten)]
            common: ChannelCommon,
            #[serde(flatten)]
            kind: &'a ChannelKind,
        }
        let common = ChannelCommon {
            name: self.name.clone(),
            url: self.url.clone(),
            brands: self.brands.clone(),
            min_priority: self.min_priority,
        };
        Flat {
            common,
            kind: &self.kind,
        }
        .serialize(serializer)
    }
}

/// The chat platform of a channel, tagged by `type`, with the platform's own settings.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChannelKind {
    Slack {},
    Teams {},
    Discord {},
    Mattermost {},
    GoogleChat {},
    /// Any HTTPS receiver, signed the Standard Webhooks way.
    Webhook(Webhook),
}

impl ChannelKind {
    /// The platform behind the tag.
    pub fn platform(&self) -> &dyn ChatPlatform {
        match self {
            ChannelKind::Slack {} => &Slack,
            ChannelKind::Teams {} => &Teams,
            ChannelKind::Discord {} => &Discord,
            ChannelKind::Mattermost {} => &Mattermost,
            ChannelKind::GoogleChat {} => &GoogleChat,
            ChannelKind::Webhook(webhook) => webhook,
        }
    }

    /// The `type` in config (`slack`, `google_chat`, …): the tag serde writes, so it cannot
    /// differ from what config files say.
    pub fn type_name(&self) -> String {
        let tagged = serde_json::to_value(self).unwrap_or_default();
        tagged["type"].as_str().unwrap_or_default().to_owned()
    }

    /// The platform body for `payload`, marked as an update of a task posted before when
    /// `update` is given (see `render::UpdateOf`).
    pub fn render(&self, payload: &AlertPayload, update: Option<UpdateOf>) -> Value {
        let platform = self.platform();
        if let AlertPayload::WeeklySummary(report) = payload {
            return platform.render_weekly(report);
        }
        let mut summary = payload.summary();
        if let Some(update) = update {
            summary.title = format!("Update on task #{}: {}", update.task_id, summary.title);
            summary
                .facts
                .insert(0, ("First posted", super::format_utc(update.first_sent_at_ms)));
        }
        platform.render(payload, &summary, update)
    }
}

/// What a platform can do with the message earshot posted before about the same task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// An update edits that message, given the id the platform answered with.
    pub edits: bool,
    /// Every message about a task joins one thread (`ChatPlatform::thread_key`).
    pub threads: bool,
}

impl Capabilities {
    /// Edits the earlier message.
    pub const EDITS: Capabilities = Capabilities {
        edits: true,
        threads: false,
    };
    /// Threads under the earlier message.
    pub const THREADS: Capabilities = Capabilities {
        edits: false,
        threads: true,
    };
}

/// A request to a channel before it leaves; the platform may change any of it.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: reqwest::Method,
    pub url: url::Url,
    pub headers: Vec<(&'static str, String)>,
}

/// What a platform may need to shape one send.
#[derive(Debug, Clone, Copy)]
pub struct Attempt<'a> {
    /// Stable across retries of the same delivery.
    pub message_id: &'a str,
    /// The platform's id of the message posted before about the same task, when the platform
    /// edits (`Capabilities::edits`).
    pub previous: Option<&'a str>,
    pub now: Millis,
    /// The serialised body, exactly as it is sent.
    pub body: &'a [u8],
}

/// One chat platform. Everything it does differently lives in its implementation; the
/// defaults are the plain incoming webhook (POST the body, no id, no thread, no edits).
pub trait ChatPlatform: Send + Sync {
    /// Edits and threads; neither by default.
    fn capabilities(&self) -> Capabilities {
        Capabilities::default()
    }

    /// How fast one channel of this platform is sent to.
    fn rate(&self) -> Rate;

    /// The body for an alert. `summary` is what every platform shows, already marked as an
    /// update when `update` is given; post text in it is untrusted and must be escaped.
    fn render(&self, payload: &AlertPayload, summary: &Summary, update: Option<UpdateOf>) -> Value;

    /// The body for the weekly summary.
    fn render_weekly(&self, report: &WeeklyReport) -> Value;

    /// Shapes the request (method, URL, headers); `Err` says why it cannot be sent.
    fn prepare(&self, _request: &mut Outgoing, _attempt: &Attempt<'_>) -> Result<(), String> {
        Ok(())
    }

    /// The platform's id of the message just sent, read from a successful answer.
    fn sent_id(&self, _answer: &Value) -> Option<String> {
        None
    }

    /// The thread a message about `payload` joins, on a platform that threads.
    fn thread_key(&self, _payload: &AlertPayload) -> Option<String> {
        None
    }

    /// Whether an answer's body says the destination itself is gone, whatever the status.
    fn says_gone(&self, _body: &str) -> bool {
        false
    }

    /// Whether a failed edit (`status`, `body`) means only the earlier message was deleted,
    /// so the update is posted as a new message.
    fn earlier_message_deleted(&self, _status: u16, _body: &str) -> bool {
        false
    }

    /// Checks serde cannot make, as `(field, message)` pairs.
    fn validate(&self) -> Vec<(String, String)> {
        Vec::new()
    }
}

/// One channel kind of every platform, for tests that go through them all.
#[cfg(test)]
pub(crate) fn every_kind() -> Vec<ChannelKind> {
    vec![
        ChannelKind::Slack {},
        ChannelKind::Teams {},
        ChannelKind::Discord {},
        ChannelKind::Mattermost {},
        ChannelKind::GoogleChat {},
        ChannelKind::Webhook(Webhook {
            signing_secret: Secret::inline("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        }),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::weekly::{MAX_BRANDS, sample_brand};

    #[test]
    fn a_channel_kind_is_named_by_its_config_type() {
        let names: Vec<String> = every_kind().iter().map(ChannelKind::type_name).collect();
        assert_eq!(
            names,
            ["slack", "teams", "discord", "mattermost", "google_chat", "webhook"]
        );
    }

    #[test]
    fn escaping_neutralises_mentions_and_links() {
        assert_eq!(
            slack::escape("<!everyone> & <https://x|y>"),
            "&lt;!everyone&gt; &amp; &lt;https://x|y&gt;"
        );
        let discord = discord::escape("@everyone <@123> [click](https://evil)");
        assert!(!discord.contains("@everyone"));
        assert!(discord.contains("\\<@\u{200B}123\\>"), "{discord}");
        assert!(discord.contains("\\[click\\](https://evil)"), "{discord}");
        assert!(!google_chat::escape_text("<users/all>").contains('<'));
        assert_eq!(google_chat::escape_html("<b>&"), "&lt;b&gt;&amp;");
    }

    #[test]
    fn untrusted_terms_are_escaped_and_long_lists_are_cut() {
        let report = WeeklyReport {
            week: "2026-W47".into(),
            scope: "all".into(),
            timezone: "UTC".into(),
            brands: (0..MAX_BRANDS + 3).map(|i| sample_brand(&format!("b{i}"))).collect(),
            chart_url: None,
            channels: Vec::new(),
        };
        let slack = Slack.render_weekly(&report).to_string();
        assert!(!slack.contains("<!channel>"), "{slack}");
        assert!(slack.contains("3 more brands"), "{slack}");
        let body = Discord.render_weekly(&report);
        let total: usize = body["embeds"][0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["value"].as_str().unwrap().chars().count() + f["name"].as_str().unwrap().chars().count())
            .sum();
        assert!(total < discord::TOTAL_MAX, "{total}");
    }
}
