//! Google Chat incoming webhooks: a `cardsV2` card with a plain-text fallback. Card text is
//! the HTML subset (escaped); plain text has no escape, so its markup characters become
//! look-alikes. Messages about one task share a thread (`threadKey`, with
//! `messageReplyOption` so a missing thread starts one); the answer's `name` is the message.

use serde_json::{Value, json};

use super::{Attempt, Capabilities, ChatPlatform, Outgoing};
use crate::alerts::AlertPayload;
use crate::alerts::limiter::Rate;
use crate::alerts::render::{Summary, UpdateOf, escape_entities, truncate_bytes, truncate_chars};
use crate::alerts::weekly::{NO_BRANDS, WeeklyReport, brand_facts, listed};

/// The whole message is limited to 32,000 bytes; the post text gets this many.
pub const TEXT_MAX_BYTES: usize = 24_000;
/// A card header's title.
const HEADER_MAX: usize = 200;

/// The platform of `type = "google_chat"`, which has no keys of its own.
pub struct GoogleChat;

impl ChatPlatform for GoogleChat {
    fn capabilities(&self) -> Capabilities {
        Capabilities::THREADS
    }

    fn render(&self, payload: &AlertPayload, summary: &Summary, _update: Option<UpdateOf>) -> Value {
        let mut widgets: Vec<Value> = summary
            .facts
            .iter()
            .map(|(label, value)| json!({"decoratedText": {"topLabel": label, "text": escape_html(value)}}))
            .collect();
        if let Some(quote) = &summary.quote {
            widgets.push(json!({"textParagraph": {"text": truncate_bytes(&escape_html(quote), TEXT_MAX_BYTES)}}));
        }
        if let Some(link) = &summary.link {
            widgets.push(button("Open the post", link));
        }
        let mut body = message(&summary.title, "earshot-alert", vec![json!({"widgets": widgets})]);
        if let Some(key) = self.thread_key(payload) {
            body["thread"] = json!({"threadKey": key});
        }
        body
    }

    fn render_weekly(&self, report: &WeeklyReport) -> Value {
        let (brands, more) = listed(report);
        let mut sections: Vec<Value> = brands
            .iter()
            .map(|brand| {
                let widgets: Vec<Value> = brand_facts(brand)
                    .iter()
                    .map(|(label, value)| json!({"decoratedText": {"topLabel": label, "text": escape_html(value), "wrapText": true}}))
                    .collect();
                json!({"header": escape_html(brand.brand.as_str()), "widgets": widgets})
            })
            .collect();
        let mut footer = Vec::new();
        if brands.is_empty() {
            footer.push(json!({"textParagraph": {"text": NO_BRANDS}}));
        }
        if let Some(more) = more {
            footer.push(json!({"textParagraph": {"text": more}}));
        }
        if let Some(url) = &report.chart_url {
            footer.push(button("Open the chart", url));
        }
        if !footer.is_empty() {
            sections.push(json!({"widgets": footer}));
        }
        message(&report.title(), &format!("earshot-weekly-{}", report.week), sections)
    }

    fn prepare(&self, request: &mut Outgoing, _attempt: &Attempt<'_>) -> Result<(), String> {
        request
            .url
            .query_pairs_mut()
            .append_pair("messageReplyOption", "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD");
        Ok(())
    }

    fn sent_id(&self, answer: &Value) -> Option<String> {
        answer["name"].as_str().map(str::to_owned)
    }

    /// The stable key that keeps messages about one task together.
    fn thread_key(&self, payload: &AlertPayload) -> Option<String> {
        payload.task_id().map(|task_id| format!("earshot-task-{task_id}"))
    }

    fn rate(&self) -> Rate {
        // 60 writes per minute per space.
        Rate::new(1.0, 1.0)
    }
}

/// The message: `title` as the fallback text and the card's header, then `sections`.
fn message(title: &str, card_id: &str, sections: Vec<Value>) -> Value {
    json!({
        "text": escape_text(title),
        "cardsV2": [{
            "cardId": card_id,
            "card": {
                "header": {"title": escape_html(&truncate_chars(title, HEADER_MAX))},
                "sections": sections,
            },
        }],
    })
}

fn button(text: &str, url: &str) -> Value {
    json!({"buttonList": {"buttons": [{"text": text, "onClick": {"openLink": {"url": url}}}]}})
}

/// The HTML subset of card text.
pub fn escape_html(text: &str) -> String {
    escape_entities(text, true)
}

/// Plain text has no escape: `<…>` would be a link or `<users/all>` mention, and `*`/`_`/`~`
/// format, so they are replaced by look-alikes.
pub fn escape_text(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '<' => '‹',
            '>' => '›',
            '*' => '∗',
            '_' => 'ˍ',
            '~' => '∼',
            '`' => 'ˋ',
            _ => c,
        })
        .collect()
}
