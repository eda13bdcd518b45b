//! Pure rendering of an `AlertPayload` into each platform's JSON body.
//!
//! Post text and author names are untrusted: they are escaped for each platform's markup so
//! they cannot ping anyone, fake a link or break the layout, and every text is cut to the
//! platform's limit on a character boundary. No IO here.

use serde_json::{Value, json};

use super::{AlertPayload, ChannelKind};

/// Slack: a section's text.
pub const SLACK_SECTION_MAX: usize = 3000;
/// Slack: a header's plain text.
pub const SLACK_HEADER_MAX: usize = 150;
/// Discord: an embed's description, title, and all embed text together.
pub const DISCORD_DESCRIPTION_MAX: usize = 4096;
pub const DISCORD_TITLE_MAX: usize = 256;
pub const DISCORD_TOTAL_MAX: usize = 6000;
/// Teams: the whole card is limited to about 28 KB; the post text gets this many bytes.
pub const TEAMS_TEXT_MAX_BYTES: usize = 20_000;
/// Google Chat: the whole message is limited to 32,000 bytes; the post text gets this many.
pub const GOOGLE_CHAT_TEXT_MAX_BYTES: usize = 24_000;
/// Mattermost: a post's text and an attachment's text.
pub const MATTERMOST_TEXT_MAX: usize = 16_383;

const ELLIPSIS: char = '…';

/// What every platform shows, before platform markup: a title, labelled facts, an optional
/// quote of the post and an optional link. Only `title` is earshot's own text.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub title: String,
    pub facts: Vec<(&'static str, String)>,
    pub quote: Option<String>,
    pub link: Option<String>,
    /// Red for critical or breached, amber otherwise (0xRRGGBB).
    pub color: u32,
}

/// The stable key that keeps messages about one task together (Google Chat threads).
pub fn thread_key(payload: &AlertPayload) -> Option<String> {
    payload.task_id().map(|task_id| format!("earshot-task-{task_id}"))
}

/// The platform body for the payload.
pub fn render(kind: ChannelKind, payload: &AlertPayload) -> Value {
    render_with(kind, payload, None)
}

/// An alert about a task that was already posted to the same channel, on a platform where
/// earshot cannot edit or thread (Slack and Mattermost incoming webhooks, Teams workflows,
/// Discord without a message id): the new message says which task it updates and when that
/// task was first posted, so readers connect the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpdateOf {
    pub task_id: i64,
    pub first_sent_at_ms: i64,
}

/// The platform body for the payload, marked as an update when `update` is given.
pub fn render_with(kind: ChannelKind, payload: &AlertPayload, update: Option<UpdateOf>) -> Value {
    if let AlertPayload::WeeklySummary(report) = payload {
        return super::weekly::render(kind, report);
    }
    let mut summary = payload.summary();
    if let Some(update) = update {
        summary.title = format!("Update on task #{}: {}", update.task_id, summary.title);
        summary
            .facts
            .insert(0, ("First posted", super::format_utc(update.first_sent_at_ms)));
    }
    match kind {
        ChannelKind::Slack => slack(&summary),
        ChannelKind::Teams => teams(&summary),
        ChannelKind::Discord => discord(&summary, payload.task_id()),
        ChannelKind::Mattermost => mattermost(&summary),
        ChannelKind::GoogleChat => google_chat(&summary, thread_key(payload)),
        ChannelKind::Webhook => {
            let mut body = webhook(payload);
            if let Some(update) = update {
                body["update_of"] = json!({"task_id": update.task_id, "first_sent_at_ms": update.first_sent_at_ms});
            }
            body
        }
    }
}

fn slack(summary: &Summary) -> Value {
    let fields: Vec<Value> = summary
        .facts
        .iter()
        .take(10)
        .map(|(label, value)| {
            json!({"type": "mrkdwn", "text": truncate_chars(&format!("*{label}*\n{}", escape_slack(value)), 2000)})
        })
        .collect();
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate_chars(&summary.title, SLACK_HEADER_MAX), "emoji": false}}),
    ];
    if !fields.is_empty() {
        blocks.push(json!({"type": "section", "fields": fields}));
    }
    if let Some(quote) = &summary.quote {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate_chars(&escape_slack(quote), SLACK_SECTION_MAX)}}));
    }
    if let Some(link) = &summary.link {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!("<{}|Open the post>", escape_slack(link))}]}));
    }
    json!({
        "text": truncate_chars(&escape_slack(&summary.title), SLACK_SECTION_MAX),
        "blocks": blocks,
    })
}

fn teams(summary: &Summary) -> Value {
    let facts: Vec<Value> = summary
        .facts
        .iter()
        .map(|(label, value)| json!({"title": label, "value": escape_markdown(value)}))
        .collect();
    let mut body = vec![
        json!({"type": "TextBlock", "text": escape_markdown(&summary.title), "weight": "Bolder", "size": "Medium", "wrap": true}),
        json!({"type": "FactSet", "facts": facts}),
    ];
    if let Some(quote) = &summary.quote {
        body.push(json!({"type": "TextBlock", "text": truncate_bytes(&escape_markdown(quote), TEAMS_TEXT_MAX_BYTES), "wrap": true}));
    }
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    });
    if let Some(link) = &summary.link {
        card["actions"] = json!([{"type": "Action.OpenUrl", "title": "Open the post", "url": link}]);
    }
    json!({
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": card}],
    })
}

fn discord(summary: &Summary, task_id: Option<i64>) -> Value {
    let title = truncate_chars(&summary.title, DISCORD_TITLE_MAX);
    let fields: Vec<Value> = summary
        .facts
        .iter()
        .take(25)
        .map(|(label, value)| json!({"name": label, "value": truncate_chars(&escape_discord(value), 1024), "inline": true}))
        .collect();
    let footer = match task_id {
        Some(task_id) => format!("earshot · task {task_id}"),
        None => "earshot".to_owned(),
    };
    let used = title.chars().count()
        + footer.chars().count()
        + summary
            .facts
            .iter()
            .take(25)
            .map(|(label, value)| label.chars().count() + escape_discord(value).chars().count().min(1024))
            .sum::<usize>();
    let budget = DISCORD_TOTAL_MAX.saturating_sub(used).min(DISCORD_DESCRIPTION_MAX);
    let mut embed = json!({
        "title": title,
        "color": summary.color,
        "fields": fields,
        "footer": {"text": footer},
    });
    if let Some(quote) = &summary.quote {
        embed["description"] = json!(truncate_chars(&escape_discord(quote), budget));
    }
    if let Some(link) = &summary.link {
        embed["url"] = json!(link);
    }
    json!({
        "username": "earshot",
        "allowed_mentions": {"parse": []},
        "embeds": [embed],
    })
}

fn mattermost(summary: &Summary) -> Value {
    let fields: Vec<Value> = summary
        .facts
        .iter()
        .map(|(label, value)| json!({"short": true, "title": label, "value": escape_markdown(value)}))
        .collect();
    let mut attachment = json!({
        "fallback": truncate_chars(&escape_markdown(&summary.title), MATTERMOST_TEXT_MAX),
        "color": format!("#{:06X}", summary.color),
        "title": escape_markdown(&summary.title),
        "fields": fields,
    });
    if let Some(quote) = &summary.quote {
        attachment["text"] = json!(truncate_chars(&escape_markdown(quote), MATTERMOST_TEXT_MAX));
    }
    if let Some(link) = &summary.link {
        attachment["title_link"] = json!(link);
    }
    json!({
        "username": "earshot",
        "text": truncate_chars(&format!("#### {}", escape_markdown(&summary.title)), MATTERMOST_TEXT_MAX),
        "attachments": [attachment],
    })
}

fn google_chat(summary: &Summary, thread_key: Option<String>) -> Value {
    let mut widgets: Vec<Value> = summary
        .facts
        .iter()
        .map(|(label, value)| json!({"decoratedText": {"topLabel": label, "text": escape_html(value)}}))
        .collect();
    if let Some(quote) = &summary.quote {
        widgets
            .push(json!({"textParagraph": {"text": truncate_bytes(&escape_html(quote), GOOGLE_CHAT_TEXT_MAX_BYTES)}}));
    }
    if let Some(link) = &summary.link {
        widgets.push(
            json!({"buttonList": {"buttons": [{"text": "Open the post", "onClick": {"openLink": {"url": link}}}]}}),
        );
    }
    let mut body = json!({
        "text": escape_google_chat_text(&summary.title),
        "cardsV2": [{
            "cardId": "earshot-alert",
            "card": {
                "header": {"title": escape_html(&truncate_chars(&summary.title, 200))},
                "sections": [{"widgets": widgets}],
            },
        }],
    });
    if let Some(key) = thread_key {
        body["thread"] = json!({"threadKey": key});
    }
    body
}

fn webhook(payload: &AlertPayload) -> Value {
    json!({
        "type": format!("alert.{}", payload.kind()),
        "data": payload,
    })
}

/// Slack mrkdwn: `&`, `<` and `>` are the control characters (links, mentions, `<!here>`).
pub fn escape_slack(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
    }
    out
}

/// CommonMark (Mattermost, Teams): backslash-escape markup, and break `@` mentions with a
/// zero-width space so `@channel`, `@all` or `@someone` do not notify.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            // Brackets cover links (`[text](url)`, `![img](url)`); `-`, `+` and `(` only matter
            // next to them or at a line start, and escaping them would show in some clients.
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '#' | '|' | '~' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '@' => out.push_str("@\u{200B}"),
            _ => out.push(c),
        }
    }
    out
}

/// Discord Markdown: as CommonMark, plus `<@…>`/`<#…>` mentions (covered by escaping `<`)
/// and `@everyone`/`@here` (broken by the zero-width space). `allowed_mentions` is off too.
pub fn escape_discord(text: &str) -> String {
    escape_markdown(text)
}

/// The HTML subset of Google Chat card text.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

/// Google Chat plain text has no escape: `<…>` would be a link or `<users/all>` mention, and
/// `*`/`_`/`~` format, so they are replaced by look-alikes.
pub fn escape_google_chat_text(text: &str) -> String {
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

/// At most `max` characters; a cut text ends with `…`.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let keep = max.saturating_sub(1);
    let mut out: String = text.chars().take(keep).collect();
    if max > 0 {
        out.push(ELLIPSIS);
    }
    out
}

/// At most `max` bytes of UTF-8, cut on a character boundary; a cut text ends with `…`.
pub fn truncate_bytes(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let budget = max.saturating_sub(ELLIPSIS.len_utf8());
    let mut end = budget;
    while end > 0 && !text.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = text[..end].to_owned();
    if max >= ELLIPSIS.len_utf8() {
        out.push(ELLIPSIS);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_cuts_on_char_boundaries_and_marks_the_cut() {
        assert_eq!(truncate_chars("héllo", 10), "héllo");
        assert_eq!(truncate_chars("héllo wörld", 5), "héll…");
        let cut = truncate_bytes("ééééé", 6);
        assert!(cut.len() <= 6, "{cut}");
        assert_eq!(cut, "é…");
        assert_eq!(truncate_bytes("abc", 3), "abc");
    }

    #[test]
    fn escaping_neutralises_mentions_and_links() {
        assert_eq!(
            escape_slack("<!everyone> & <https://x|y>"),
            "&lt;!everyone&gt; &amp; &lt;https://x|y&gt;"
        );
        let discord = escape_discord("@everyone <@123> [click](https://evil)");
        assert!(!discord.contains("@everyone"));
        assert!(discord.contains("\\<@\u{200B}123\\>"), "{discord}");
        assert!(discord.contains("\\[click\\](https://evil)"), "{discord}");
        assert!(!escape_google_chat_text("<users/all>").contains('<'));
        assert_eq!(escape_html("<b>&"), "&lt;b&gt;&amp;");
    }
}
