//! The weekly summary message: one brand-by-brand report per exported week, and the
//! labelled lines every platform shows for a brand. Each platform's markup for it lives in
//! `alerts::channels` (`ChatPlatform::render_weekly`).
//!
//! Incoming webhooks cannot upload files, so the chart is a link: `chart_url` points at the
//! web UI's download endpoint under the configured public URL (a person opens it with their
//! login). Without a public URL the message carries only the numbers. Top complaint terms
//! come from post text, so a platform escapes every value as it does alert text.
//! Pure: no IO; no platform here.

/// Brands listed in one message; more are left out with a note (platform block limits).
pub const MAX_BRANDS: usize = 20;
/// Colour of the summary (neutral blue).
pub(crate) const COLOR: u32 = 0x1F_4E_9C;

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

/// The brands a message lists, and a note on those left out.
pub(crate) fn listed(report: &WeeklyReport) -> (&[WeeklyBrand], Option<String>) {
    let shown = &report.brands[..report.brands.len().min(MAX_BRANDS)];
    let more = (report.brands.len() > MAX_BRANDS).then(|| {
        format!(
            "{} more brands are in the export files.",
            report.brands.len() - MAX_BRANDS
        )
    });
    (shown, more)
}

/// What a summary without brands says.
pub(crate) const NO_BRANDS: &str = "No brands had mentions this week.";

/// A brand's week with every number set and a hostile term, for tests.
#[cfg(test)]
pub(crate) fn sample_brand(name: &str) -> WeeklyBrand {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_show_changes_with_signs() {
        let facts = brand_facts(&sample_brand("acme"));
        assert_eq!(facts[0].1, "120 (-12.5% vs last week)");
        assert_eq!(facts[1].1, "25% (+3.0 pts vs last week)");
        assert_eq!(facts[2].1, "10 opened, 8 resolved, median first response 15 min");
        assert_eq!(facts[4].1, "3");
    }
}
