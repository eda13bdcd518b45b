//! Mattermost incoming webhooks: a message attachment with fields for alerts, a Markdown
//! table for the weekly summary. Text is CommonMark-escaped (`@channel` broken) and cut to a
//! post's limit. No edits, no threads.

use serde_json::{Value, json};

use super::ChatPlatform;
use crate::alerts::AlertPayload;
use crate::alerts::limiter::Rate;
use crate::alerts::render::{Summary, UpdateOf, escape_markdown, truncate_chars};
use crate::alerts::weekly::{NO_BRANDS, WeeklyReport, brand_facts, listed};

/// A post's text and an attachment's text.
pub const TEXT_MAX: usize = 16_383;

/// The platform of `type = "mattermost"`, which has no keys of its own.
pub struct Mattermost;

impl ChatPlatform for Mattermost {
    fn render(&self, _payload: &AlertPayload, summary: &Summary, _update: Option<UpdateOf>) -> Value {
        let fields: Vec<Value> = summary
            .facts
            .iter()
            .map(|(label, value)| json!({"short": true, "title": label, "value": escape_markdown(value)}))
            .collect();
        let mut attachment = json!({
            "fallback": truncate_chars(&escape_markdown(&summary.title), TEXT_MAX),
            "color": format!("#{:06X}", summary.color),
            "title": escape_markdown(&summary.title),
            "fields": fields,
        });
        if let Some(quote) = &summary.quote {
            attachment["text"] = json!(truncate_chars(&escape_markdown(quote), TEXT_MAX));
        }
        if let Some(link) = &summary.link {
            attachment["title_link"] = json!(link);
        }
        json!({
            "username": "earshot",
            "text": truncate_chars(&format!("#### {}", escape_markdown(&summary.title)), TEXT_MAX),
            "attachments": [attachment],
        })
    }

    fn render_weekly(&self, report: &WeeklyReport) -> Value {
        let (brands, more) = listed(report);
        let mut text = format!("#### {}\n", escape_markdown(&report.title()));
        if brands.is_empty() {
            text.push_str(NO_BRANDS);
            text.push('\n');
        } else {
            text.push_str(
                "\n| Brand | Mentions | Negative | Tasks | SLA breached | Recovered | Top complaints | Top problems |\n",
            );
            text.push_str("|---|---|---|---|---|---|---|---|\n");
            for brand in brands {
                let cells: Vec<String> = brand_facts(brand)
                    .iter()
                    .map(|(_, value)| format!(" {} |", escape_markdown(value)))
                    .collect();
                text.push_str(&format!(
                    "| **{}** |{}\n",
                    escape_markdown(brand.brand.as_str()),
                    cells.concat()
                ));
            }
        }
        if let Some(more) = more {
            text.push_str(&format!("\n{more}\n"));
        }
        if let Some(url) = &report.chart_url {
            text.push_str(&format!("\n[Open the chart]({url})\n"));
        }
        json!({"username": "earshot", "text": truncate_chars(&text, TEXT_MAX)})
    }

    fn rate(&self) -> Rate {
        // Server default when enabled: 10/s, burst 100.
        Rate::new(10.0, 10.0)
    }
}
