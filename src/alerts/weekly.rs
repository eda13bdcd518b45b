//! The weekly summary message: one brand-by-brand report per exported week, rendered for
//! each chat platform.
//!
//! Incoming webhooks cannot upload files, so the chart is a link: `chart_url` points at the
//! web UI's download endpoint under the configured public URL (a person opens it with their
//! login). Without a public URL the message carries only the numbers. Top complaint terms
//! come from post text, so every value is escaped for the platform like alert text is.
//! Pure: no IO.

use serde_json::{Value, json};

use super::ChannelKind;
use super::render::{
    DISCORD_TOTAL_MAX, MATTERMOST_TEXT_MAX, SLACK_HEADER_MAX, escape_discord, escape_google_chat_text, escape_html,
    escape_markdown, escape_slack, truncate_chars,
};

/// Brands listed in one message; more are left out with a note (platform block limits).
pub const MAX_BRANDS: usize = 20;
/// Colour of the summary (neutral blue).
const COLOR: u32 = 0x1F_4E_9C;

/// One week's numbers for chat.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WeeklyReport {
    /// ISO week, e.g. `2026-W47`.
    pub week: String,
    /// `all` or a brand id.
    pub scope: String,
    /// The zone the week is counted in.
    pub timezone: String,
    pub brands: Vec<WeeklyBrand>,
    /// Where a person can download the chart PNG, when a public URL is configured.
    pub chart_url: Option<String>,
    /// The channels (by name) this summary goes to, chosen when it was made.
    pub channels: Vec<String>,
}

/// One brand's week.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WeeklyBrand {
    pub brand: String,
    pub mentions: u64,
    /// Percentage change against the week before; `None` when that week had none.
    pub mentions_change_pct: Option<f64>,
    pub negative_share: Option<f64>,
    /// Change in negative share, in percentage points.
    pub negative_share_change_pts: Option<f64>,
    pub tasks_opened: u64,
    pub tasks_resolved: u64,
    pub median_first_response_ms: Option<i64>,
    pub sla_breach_rate: Option<f64>,
    pub recovered_customers: Option<u64>,
    pub top_terms: Vec<String>,
    /// The week's biggest recurring problems, e.g. "login · app (43 complaints, 12
    /// unanswered)" (absent from summaries stored before problems existed).
    #[serde(default)]
    pub top_problems: Vec<String>,
}

impl WeeklyReport {
    pub fn title(&self) -> String {
        let scope = if self.scope == "all" {
            String::new()
        } else {
            format!(" for {}", self.scope)
        };
        format!("Weekly summary {}{scope} ({})", self.week, self.timezone)
    }

    /// The dedup key: one summary per week and scope.
    pub fn dedup_key(&self) -> String {
        format!("weekly_summary:{}:{}", self.week, self.scope)
    }
}

fn signed(value: f64, digits: usize, unit: &str) -> String {
    let sign = if value > 0.0 { "+" } else { "" };
    format!("{sign}{value:.digits$}{unit}")
}

fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "n/a".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

/// The labelled lines every platform shows for a brand, before platform escaping.
pub fn brand_facts(brand: &WeeklyBrand) -> Vec<(&'static str, String)> {
    let change = brand.mentions_change_pct.map_or_else(
        || "no data for last week".to_owned(),
        |pct| signed(pct, 1, "% vs last week"),
    );
    let negative_change = brand
        .negative_share_change_pts
        .map(|pts| format!(" ({} vs last week)", signed(pts, 1, " pts")))
        .unwrap_or_default();
    let response = brand.median_first_response_ms.map_or_else(
        || "no responses".to_owned(),
        |ms| format!("median first response {:.0} min", ms as f64 / 60_000.0),
    );
    let terms = if brand.top_terms.is_empty() {
        "none".to_owned()
    } else {
        brand.top_terms.join(", ")
    };
    vec![
        ("Mentions", format!("{} ({change})", brand.mentions)),
        (
            "Negative",
            format!("{}{negative_change}", percent(brand.negative_share)),
        ),
        (
            "Tasks",
            format!(
                "{} opened, {} resolved, {response}",
                brand.tasks_opened, brand.tasks_resolved
            ),
        ),
        ("SLA breached", percent(brand.sla_breach_rate)),
        (
            "Recovered customers",
            brand
                .recovered_customers
                .map_or_else(|| "n/a".to_owned(), |n| n.to_string()),
        ),
        ("Top complaints", terms),
        (
            "Top problems",
            if brand.top_problems.is_empty() {
                "none".to_owned()
            } else {
                brand.top_problems.join("; ")
            },
        ),
    ]
}

fn listed(report: &WeeklyReport) -> (&[WeeklyBrand], Option<String>) {
    let shown = &report.brands[..report.brands.len().min(MAX_BRANDS)];
    let more = (report.brands.len() > MAX_BRANDS).then(|| {
        format!(
            "{} more brands are in the export files.",
            report.brands.len() - MAX_BRANDS
        )
    });
    (shown, more)
}

const NO_BRANDS: &str = "No brands had mentions this week.";

/// The platform body for the report.
pub fn render(kind: ChannelKind, report: &WeeklyReport) -> Value {
    match kind {
        ChannelKind::Slack => slack(report),
        ChannelKind::Teams => teams(report),
        ChannelKind::Discord => discord(report),
        ChannelKind::Mattermost => mattermost(report),
        ChannelKind::GoogleChat => google_chat(report),
        ChannelKind::Webhook => json!({"type": "alert.weekly_summary", "data": report}),
    }
}

fn slack(report: &WeeklyReport) -> Value {
    let title = report.title();
    let (brands, more) = listed(report);
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate_chars(&title, SLACK_HEADER_MAX), "emoji": false}}),
    ];
    for brand in brands {
        let fields: Vec<Value> = brand_facts(brand)
            .iter()
            .map(|(label, value)| json!({"type": "mrkdwn", "text": truncate_chars(&format!("*{label}*\n{}", escape_slack(value)), 2000)}))
            .collect();
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*{}*", escape_slack(&brand.brand))}, "fields": fields}));
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
    json!({"text": escape_slack(&title), "blocks": blocks})
}

fn teams(report: &WeeklyReport) -> Value {
    let (brands, more) = listed(report);
    let mut body = vec![
        json!({"type": "TextBlock", "text": escape_markdown(&report.title()), "weight": "Bolder", "size": "Medium", "wrap": true}),
    ];
    for brand in brands {
        body.push(json!({"type": "TextBlock", "text": escape_markdown(&brand.brand), "weight": "Bolder", "separator": true, "wrap": true}));
        let facts: Vec<Value> = brand_facts(brand)
            .iter()
            .map(|(label, value)| json!({"title": label, "value": escape_markdown(value)}))
            .collect();
        body.push(json!({"type": "FactSet", "facts": facts}));
    }
    if brands.is_empty() {
        body.push(json!({"type": "TextBlock", "text": NO_BRANDS, "wrap": true}));
    }
    if let Some(more) = more {
        body.push(json!({"type": "TextBlock", "text": more, "isSubtle": true, "wrap": true}));
    }
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    });
    if let Some(url) = &report.chart_url {
        card["actions"] = json!([{"type": "Action.OpenUrl", "title": "Open the chart", "url": url}]);
    }
    json!({
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": card}],
    })
}

fn discord(report: &WeeklyReport) -> Value {
    let title = truncate_chars(&report.title(), super::render::DISCORD_TITLE_MAX);
    let (brands, more) = listed(report);
    // One field per brand; the values share the 6,000-character embed budget.
    let budget_per_brand = (DISCORD_TOTAL_MAX - 400) / brands.len().max(1);
    let fields: Vec<Value> = brands
        .iter()
        .map(|brand| {
            let value: Vec<String> = brand_facts(brand)
                .iter()
                .map(|(label, value)| format!("**{label}:** {}", escape_discord(value)))
                .collect();
            json!({
                "name": truncate_chars(&escape_discord(&brand.brand), 256),
                "value": truncate_chars(&value.join("\n"), 1024.min(budget_per_brand)),
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
    json!({"username": "earshot", "allowed_mentions": {"parse": []}, "embeds": [embed]})
}

fn mattermost(report: &WeeklyReport) -> Value {
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
            let facts = brand_facts(brand);
            let cell = |i: usize| escape_markdown(&facts[i].1);
            text.push_str(&format!(
                "| **{}** | {} | {} | {} | {} | {} | {} | {} |\n",
                escape_markdown(&brand.brand),
                cell(0),
                cell(1),
                cell(2),
                cell(3),
                cell(4),
                cell(5),
                cell(6)
            ));
        }
    }
    if let Some(more) = more {
        text.push_str(&format!("\n{more}\n"));
    }
    if let Some(url) = &report.chart_url {
        text.push_str(&format!("\n[Open the chart]({url})\n"));
    }
    json!({"username": "earshot", "text": truncate_chars(&text, MATTERMOST_TEXT_MAX)})
}

fn google_chat(report: &WeeklyReport) -> Value {
    let (brands, more) = listed(report);
    let mut sections: Vec<Value> = brands
        .iter()
        .map(|brand| {
            let widgets: Vec<Value> = brand_facts(brand)
                .iter()
                .map(|(label, value)| json!({"decoratedText": {"topLabel": label, "text": escape_html(value), "wrapText": true}}))
                .collect();
            json!({"header": escape_html(&brand.brand), "widgets": widgets})
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
        footer.push(
            json!({"buttonList": {"buttons": [{"text": "Open the chart", "onClick": {"openLink": {"url": url}}}]}}),
        );
    }
    if !footer.is_empty() {
        sections.push(json!({"widgets": footer}));
    }
    json!({
        "text": escape_google_chat_text(&report.title()),
        "cardsV2": [{
            "cardId": format!("earshot-weekly-{}", report.week),
            "card": {
                "header": {"title": escape_html(&truncate_chars(&report.title(), 200))},
                "sections": sections,
            },
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brand(name: &str) -> WeeklyBrand {
        WeeklyBrand {
            brand: name.to_owned(),
            mentions: 120,
            mentions_change_pct: Some(-12.5),
            negative_share: Some(0.25),
            negative_share_change_pts: Some(3.0),
            tasks_opened: 10,
            tasks_resolved: 8,
            median_first_response_ms: Some(15 * 60_000),
            sla_breach_rate: Some(0.1),
            recovered_customers: Some(3),
            top_terms: vec!["refund".to_owned(), "<!channel>".to_owned()],
            top_problems: vec!["login · app (43 complaints, 12 unanswered)".to_owned()],
        }
    }

    #[test]
    fn facts_show_changes_with_signs() {
        let facts = brand_facts(&brand("acme"));
        assert_eq!(facts[0].1, "120 (-12.5% vs last week)");
        assert_eq!(facts[1].1, "25% (+3.0 pts vs last week)");
        assert_eq!(facts[2].1, "10 opened, 8 resolved, median first response 15 min");
        assert_eq!(facts[4].1, "3");
    }

    #[test]
    fn untrusted_terms_are_escaped_and_long_lists_are_cut() {
        let report = WeeklyReport {
            week: "2026-W47".into(),
            scope: "all".into(),
            timezone: "UTC".into(),
            brands: (0..MAX_BRANDS + 3).map(|i| brand(&format!("b{i}"))).collect(),
            chart_url: None,
            channels: Vec::new(),
        };
        let slack = slack(&report).to_string();
        assert!(!slack.contains("<!channel>"), "{slack}");
        assert!(slack.contains("3 more brands"), "{slack}");
        let body = discord(&report);
        let total: usize = body["embeds"][0]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["value"].as_str().unwrap().chars().count() + f["name"].as_str().unwrap().chars().count())
            .sum();
        assert!(total < DISCORD_TOTAL_MAX, "{total}");
    }
}
