//! Which channels an alert goes to: `[[alerts.rules]]` from config, and each channel's own
//! `brands`/`min_priority` as an implicit rule for channels no explicit rule names. Weekly
//! summaries go to the channels named in `[exports] summary_channels` instead. Pure.

use super::{AlertPayload, ChannelSettings};
use crate::domain::{BrandId, Priority};

/// A routing rule: alerts matching every given condition go to `channels`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertRule {
    /// Brands this rule covers; empty means all.
    #[serde(default)]
    pub brands: Vec<BrandId>,
    /// Least urgent task priority that matches.
    #[serde(default = "super::default_min_priority")]
    pub min_priority: Priority,
    /// Social platforms (`x`, `reddit`, …) the post must come from; empty means all.
    #[serde(default)]
    pub platforms: Vec<String>,
    /// Words of which the post must contain at least one (case-insensitive); empty means any.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Channel names that receive matching alerts.
    pub channels: Vec<String>,
}

impl AlertRule {
    fn matches(&self, brand: Option<&str>, payload: &AlertPayload) -> bool {
        let brand_ok =
            self.brands.is_empty() || brand.is_some_and(|brand| self.brands.iter().any(|b| b.as_str() == brand));
        let priority_ok = payload.priority() <= self.min_priority;
        let platform_ok = self.platforms.is_empty()
            || payload
                .platform()
                .is_some_and(|platform| self.platforms.iter().any(|p| p.eq_ignore_ascii_case(platform)));
        let keyword_ok = self.keywords.is_empty() || {
            let text = payload.text().to_lowercase();
            self.keywords
                .iter()
                .any(|keyword| text.contains(&keyword.to_lowercase()))
        };
        brand_ok && priority_ok && platform_ok && keyword_ok
    }
}

/// Reports config problems as (field path, message): rules naming unknown channels or
/// brands, rules without channels, webhook channels without a usable signing secret.
pub fn validate(
    channels: &[ChannelSettings],
    rules: &[AlertRule],
    brands: &std::collections::HashSet<&BrandId>,
    report: &mut dyn FnMut(String, String),
) {
    for (idx, rule) in rules.iter().enumerate() {
        let path = format!("alerts.rules[{idx}]");
        if rule.channels.is_empty() {
            report(
                format!("{path}.channels"),
                "a rule needs at least one channel".to_owned(),
            );
        }
        for name in &rule.channels {
            if !channels.iter().any(|channel| &channel.name == name) {
                report(format!("{path}.channels"), format!("no channel named {name:?}"));
            }
        }
        for brand in &rule.brands {
            if !brands.contains(brand) {
                report(
                    format!("{path}.brands"),
                    format!("no brand with id {:?}", brand.as_str()),
                );
            }
        }
    }
    for (idx, channel) in channels.iter().enumerate() {
        let path = format!("alerts.channels[{idx}]");
        match (&channel.kind, &channel.signing_secret) {
            (super::ChannelKind::Webhook, Some(secret))
                if super::sink::sign_standard_webhook(secret.expose(), "check", 0, b"").is_none() =>
            {
                report(
                    format!("{path}.signing_secret"),
                    "must be whsec_ followed by base64".to_owned(),
                );
            }
            (super::ChannelKind::Webhook, _) => {}
            (_, Some(_)) => report(
                format!("{path}.signing_secret"),
                "only webhook channels are signed".to_owned(),
            ),
            (_, None) => {}
        }
        if url::Url::parse(channel.url.expose()).is_err() {
            report(format!("{path}.url"), "not a valid URL".to_owned());
        }
    }
}

/// The channel names an alert about `brand` (its id) goes to, in config order, each once.
pub fn channels_for(
    brand: Option<&str>,
    payload: &AlertPayload,
    channels: &[ChannelSettings],
    rules: &[AlertRule],
) -> Vec<String> {
    if let AlertPayload::WeeklySummary(report) = payload {
        // Chosen by `[exports] summary_channels` when the summary was made; rules do not apply.
        return channels
            .iter()
            .filter(|channel| report.channels.contains(&channel.name))
            .map(|channel| channel.name.clone())
            .collect();
    }
    let mut out: Vec<String> = Vec::new();
    for channel in channels {
        let named_by_rules: Vec<&AlertRule> = rules
            .iter()
            .filter(|rule| rule.channels.iter().any(|name| name == &channel.name))
            .collect();
        let wanted = if named_by_rules.is_empty() {
            let implicit = AlertRule {
                brands: channel.brands.clone(),
                min_priority: channel.min_priority,
                platforms: Vec::new(),
                keywords: Vec::new(),
                channels: Vec::new(),
            };
            implicit.matches(brand, payload)
        } else {
            named_by_rules.iter().any(|rule| rule.matches(brand, payload))
        };
        if wanted && !out.contains(&channel.name) {
            out.push(channel.name.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::ChannelKind;
    use crate::config::Secret;

    fn channel(name: &str, min_priority: Priority) -> ChannelSettings {
        ChannelSettings {
            name: name.to_owned(),
            kind: ChannelKind::Slack,
            url: Secret::inline("https://example.invalid/hook"),
            brands: Vec::new(),
            min_priority,
            signing_secret: None,
        }
    }

    fn alert(priority: Priority, text: &str) -> AlertPayload {
        AlertPayload::TaskOpened {
            task_id: 1,
            brand: "acme".to_owned(),
            priority,
            criticality: 80.0,
            platform: "x".to_owned(),
            author: "@jo".to_owned(),
            text: text.to_owned(),
            url: None,
            reasons: Vec::new(),
        }
    }

    #[test]
    fn channels_without_rules_use_their_own_brands_and_priority() {
        let channels = [channel("ops", Priority::High), channel("all", Priority::Low)];
        assert_eq!(
            channels_for(Some("acme"), &alert(Priority::Medium, "x"), &channels, &[]),
            vec!["all"]
        );
        assert_eq!(
            channels_for(Some("acme"), &alert(Priority::Critical, "x"), &channels, &[]),
            vec!["ops", "all"]
        );
    }

    #[test]
    fn rules_match_on_every_condition() {
        let channels = [channel("refunds", Priority::Low), channel("ops", Priority::Low)];
        let rules = [AlertRule {
            brands: vec![BrandId::parse("acme").unwrap()],
            min_priority: Priority::Medium,
            platforms: vec!["x".to_owned()],
            keywords: vec!["Refund".to_owned()],
            channels: vec!["refunds".to_owned()],
        }];
        assert_eq!(
            channels_for(
                Some("acme"),
                &alert(Priority::High, "where is my refund"),
                &channels,
                &rules
            ),
            vec!["refunds", "ops"]
        );
        assert_eq!(
            channels_for(Some("acme"), &alert(Priority::High, "lost bag"), &channels, &rules),
            vec!["ops"]
        );
        assert_eq!(
            channels_for(Some("acme"), &alert(Priority::Low, "refund"), &channels, &rules),
            vec!["ops"]
        );
    }
}
