//! Slack incoming webhooks: Block Kit messages with a plain-text fallback. Post text is
//! escaped for mrkdwn (`&`, `<`, `>` are its control characters: links, `<!here>`), cut to
//! Slack's block limits. Slack answers a revoked webhook or a gone channel with a word in
//! the body (`no_service`, …), which disables the channel. No edits, no threads.

use serde_json::{Value, json};

use super::ChatPlatform;
use crate::alerts::AlertPayload;
use crate::alerts::limiter::Rate;
use crate::alerts::render::{Summary, UpdateOf, escape_entities, truncate_chars};
use crate::alerts::weekly::{NO_BRANDS, WeeklyReport, brand_facts, listed};

/// A section's text.
pub const SECTION_MAX: usize = 3000;
/// A header's plain text.
pub const HEADER_MAX: usize = 150;
/// A field's text.
const FIELD_MAX: usize = 2000;
/// Slack answers these (with 4xx) when the webhook is revoked or its channel is gone.
const GONE: [&str; 4] = [
    "no_service",
    "channel_not_found",
    "channel_is_archived",
    "no_active_hooks",
];

/// The platform of `type = "slack"`, which has no keys of its own.
pub struct Slack;

impl ChatPlatform for Slack {
    fn says_gone(&self, body: &str) -> bool {
        GONE.iter().any(|gone| body.trim() == *gone)
    }

    fn render(&self, _payload: &AlertPayload, summary: &Summary, _update: Option<UpdateOf>) -> Value {
        let fields: Vec<Value> = summary
            .facts
            .iter()
            .take(10)
            .map(|(label, value)| field(label, value))
            .collect();
        let mut blocks = vec![header(&summary.title)];
        if !fields.is_empty() {
            blocks.push(json!({"type": "section", "fields": fields}));
        }
        if let Some(quote) = &summary.quote {
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate_chars(&escape(quote), SECTION_MAX)}}));
        }
        if let Some(link) = &summary.link {
            blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("<{}|Open the post>", escape(link))}]}));
        }
        json!({
            "text": truncate_chars(&escape(&summary.title), SECTION_MAX),
            "blocks": blocks,
        })
    }

    fn render_weekly(&self, report: &WeeklyReport) -> Value {
        let title = report.title();
        let (brands, more) = listed(report);
        let mut blocks = vec![header(&title)];
        for brand in brands {
            let fields: Vec<Value> = brand_facts(brand)
                .iter()
                .map(|(label, value)| field(label, value))
                .collect();
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", escape(brand.brand.as_str()))}, "fields": fields}));
        }
        if brands.is_empty() {
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": NO_BRANDS}}));
        }
        if let Some(more) = more {
            blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": more}]}));
        }
        if let Some(url) = &report.chart_url {
            blocks.push(json!({"type": "actions", "elements": [{"type": "button", "text": {"type": "plain_text", "text": "Open the chart"}, "url": url}]}));
        }
        json!({"text": escape(&title), "blocks": blocks})
    }

    fn rate(&self) -> Rate {
        // About one message per second, short bursts tolerated.
        Rate::new(3.0, 1.0)
    }
}

fn header(title: &str) -> Value {
    json!({"type": "header", "text": {"type": "plain_text", "text": truncate_chars(title, HEADER_MAX), "emoji": false}})
}

fn field(label: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": truncate_chars(&format!("*{label}*\n{}", escape(value)), FIELD_MAX)})
}

/// Slack mrkdwn: `&`, `<` and `>` are the control characters (links, mentions, `<!here>`).
pub fn escape(text: &str) -> String {
    escape_entities(text, false)
}
