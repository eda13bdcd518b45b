//! Discord webhooks: one embed per message, mentions switched off (`allowed_mentions`) and
//! escaped, every text within Discord's embed limits. Sent with `?wait=true` so the answer
//! carries the message id; an update about a task already posted edits that message
//! (`PATCH …/messages/{id}`), and when someone deleted it the update is posted anew.

use serde_json::{Value, json};

use super::{Attempt, Capabilities, ChatPlatform, Outgoing};
use crate::alerts::AlertPayload;
use crate::alerts::limiter::Rate;
use crate::alerts::render::{Summary, UpdateOf, escape_markdown, truncate_chars};
use crate::alerts::weekly::{COLOR, NO_BRANDS, WeeklyReport, brand_facts, listed};

/// An embed's description.
pub const DESCRIPTION_MAX: usize = 4096;
/// An embed's title.
pub const TITLE_MAX: usize = 256;
/// All the text of an embed together.
pub const TOTAL_MAX: usize = 6000;
/// Fields in an embed, and a field's value.
const FIELDS_MAX: usize = 25;
const FIELD_VALUE_MAX: usize = 1024;
/// Discord's JSON error code for "Unknown Message" (10015 would be "Unknown Webhook").
const UNKNOWN_MESSAGE: i64 = 10_008;

/// The platform of `type = "discord"`, which has no keys of its own.
pub struct Discord;

impl ChatPlatform for Discord {
    fn capabilities(&self) -> Capabilities {
        Capabilities::EDITS
    }

    fn render(&self, payload: &AlertPayload, summary: &Summary, _update: Option<UpdateOf>) -> Value {
        let title = truncate_chars(&summary.title, TITLE_MAX);
        let fields: Vec<Value> = summary
            .facts
            .iter()
            .take(FIELDS_MAX)
            .map(|(label, value)| json!({"name": label, "value": truncate_chars(&escape(value), FIELD_VALUE_MAX), "inline": true}))
            .collect();
        let footer = match payload.task_id() {
            Some(task_id) => format!("earshot · task {task_id}"),
            None => "earshot".to_owned(),
        };
        let used = title.chars().count()
            + footer.chars().count()
            + summary
                .facts
                .iter()
                .take(FIELDS_MAX)
                .map(|(label, value)| label.chars().count() + escape(value).chars().count().min(FIELD_VALUE_MAX))
                .sum::<usize>();
        let budget = TOTAL_MAX.saturating_sub(used).min(DESCRIPTION_MAX);
        let mut embed = json!({
            "title": title,
            "color": summary.color,
            "fields": fields,
            "footer": {"text": footer},
        });
        if let Some(quote) = &summary.quote {
            embed["description"] = json!(truncate_chars(&escape(quote), budget));
        }
        if let Some(link) = &summary.link {
            embed["url"] = json!(link);
        }
        message(embed)
    }

    fn render_weekly(&self, report: &WeeklyReport) -> Value {
        let title = truncate_chars(&report.title(), TITLE_MAX);
        let (brands, more) = listed(report);
        // One field per brand; the values share the 6,000-character embed budget.
        let budget_per_brand = (TOTAL_MAX - 400) / brands.len().max(1);
        let fields: Vec<Value> = brands
            .iter()
            .map(|brand| {
                let value: Vec<String> = brand_facts(brand)
                    .iter()
                    .map(|(label, value)| format!("**{label}:** {}", escape(value)))
                    .collect();
                json!({
                    "name": truncate_chars(&escape(brand.brand.as_str()), TITLE_MAX),
                    "value": truncate_chars(&value.join("\n"), FIELD_VALUE_MAX.min(budget_per_brand)),
                    "inline": false,
                })
            })
            .collect();
        let mut embed = json!({
            "title": title,
            "color": COLOR,
            "fields": fields,
            "footer": {"text": "earshot weekly summary"},
        });
        let mut description = Vec::new();
        if brands.is_empty() {
            description.push(NO_BRANDS.to_owned());
        }
        if let Some(more) = more {
            description.push(more);
        }
        if let Some(url) = &report.chart_url {
            embed["url"] = json!(url);
            description.push(format!("[Open the chart]({url})"));
        }
        if !description.is_empty() {
            embed["description"] = json!(description.join("\n"));
        }
        message(embed)
    }

    fn prepare(&self, request: &mut Outgoing, attempt: &Attempt<'_>) -> Result<(), String> {
        match attempt.previous {
            Some(id) => {
                request
                    .url
                    .path_segments_mut()
                    .map_err(|()| "the channel URL cannot have a path".to_owned())?
                    .pop_if_empty()
                    .push("messages")
                    .push(id);
                request.method = reqwest::Method::PATCH;
            }
            None => {
                request.url.query_pairs_mut().append_pair("wait", "true");
            }
        }
        Ok(())
    }

    fn sent_id(&self, answer: &Value) -> Option<String> {
        answer["id"].as_str().map(str::to_owned)
    }

    fn earlier_message_deleted(&self, status: u16, body: &str) -> bool {
        // A gone webhook says "Unknown Webhook"; this is only the message.
        status == 404 && serde_json::from_str::<Value>(body).is_ok_and(|v| v["code"].as_i64() == Some(UNKNOWN_MESSAGE))
    }

    fn rate(&self) -> Rate {
        // Per-webhook buckets of about 5 per 2 s.
        Rate::new(5.0, 2.5)
    }
}

fn message(embed: Value) -> Value {
    json!({
        "username": "earshot",
        "allowed_mentions": {"parse": []},
        "embeds": [embed],
    })
}

/// Discord Markdown: as CommonMark, plus `<@…>`/`<#…>` mentions (covered by escaping `<`)
/// and `@everyone`/`@here` (broken by the zero-width space). `allowed_mentions` is off too.
pub fn escape(text: &str) -> String {
    escape_markdown(text)
}
