//! Microsoft Teams through a Workflows webhook: an Adaptive Card (1.4) in a `message`
//! envelope. Text is CommonMark-escaped (mentions broken), the post text cut to fit the card's
//! size limit. No edits, no threads.

use serde_json::{Value, json};

use super::ChatPlatform;
use crate::alerts::AlertPayload;
use crate::alerts::limiter::Rate;
use crate::alerts::render::{Summary, UpdateOf, escape_markdown, truncate_bytes};
use crate::alerts::weekly::{NO_BRANDS, WeeklyReport, brand_facts, listed};

/// The whole card is limited to about 28 KB; the post text gets this many bytes.
pub const TEXT_MAX_BYTES: usize = 20_000;

/// The platform of `type = "teams"`, which has no keys of its own.
pub struct Teams;

impl ChatPlatform for Teams {
    fn render(&self, _payload: &AlertPayload, summary: &Summary, _update: Option<UpdateOf>) -> Value {
        let mut body = vec![
            title_block(&summary.title),
            fact_set(summary.facts.iter().map(|(label, value)| (*label, value.as_str()))),
        ];
        if let Some(quote) = &summary.quote {
            body.push(json!({"type": "TextBlock", "text": truncate_bytes(&escape_markdown(quote), TEXT_MAX_BYTES), "wrap": true}));
        }
        card(body, summary.link.as_deref().map(|link| ("Open the post", link)))
    }

    fn render_weekly(&self, report: &WeeklyReport) -> Value {
        let (brands, more) = listed(report);
        let mut body = vec![title_block(&report.title())];
        for brand in brands {
            body.push(json!({"type": "TextBlock", "text": escape_markdown(brand.brand.as_str()), "weight": "Bolder", "separator": true, "wrap": true}));
            let facts = brand_facts(brand);
            body.push(fact_set(facts.iter().map(|(label, value)| (*label, value.as_str()))));
        }
        if brands.is_empty() {
            body.push(json!({"type": "TextBlock", "text": NO_BRANDS, "wrap": true}));
        }
        if let Some(more) = more {
            body.push(json!({"type": "TextBlock", "text": more, "isSubtle": true, "wrap": true}));
        }
        card(body, report.chart_url.as_deref().map(|url| ("Open the chart", url)))
    }

    fn rate(&self) -> Rate {
        // Undocumented for Workflows: stay slow.
        Rate::new(3.0, 1.0)
    }
}

fn title_block(title: &str) -> Value {
    json!({"type": "TextBlock", "text": escape_markdown(title), "weight": "Bolder", "size": "Medium", "wrap": true})
}

fn fact_set<'a>(facts: impl Iterator<Item = (&'a str, &'a str)>) -> Value {
    let facts: Vec<Value> = facts
        .map(|(label, value)| json!({"title": label, "value": escape_markdown(value)}))
        .collect();
    json!({"type": "FactSet", "facts": facts})
}

/// The card with `body`, and a button opening `link` (its title, the URL) when there is one.
fn card(body: Vec<Value>, link: Option<(&str, &str)>) -> Value {
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    });
    if let Some((title, url)) = link {
        card["actions"] = json!([{"type": "Action.OpenUrl", "title": title, "url": url}]);
    }
    json!({
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": card}],
    })
}
