//! Which channels an alert goes to: `[[alerts.rules]]` from config, and each channel's own
//! `brands`/`min_priority` as an implicit rule for channels no explicit rule names; and
//! whether a rule's quiet hours hold it for a digest. Weekly summaries go to the channels
//! named in `[exports] summary_channels` instead, at once. Pure.

use super::quiet::QuietHours;
use super::{AlertPayload, ChannelSettings};
use crate::domain::{BrandId, Millis, Priority};

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
    /// A daily window in which matching alerts are held and sent as one digest per channel
    /// when it ends.
    #[serde(default)]
    pub quiet_hours: Option<QuietHours>,
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
/// brands, rules without channels, a platform's own keys (`ChatPlatform::validate`, e.g. a
/// signing secret that is not `whsec_<base64>`), channel URLs that do not parse.
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
        if let Some(quiet) = &rule.quiet_hours {
            for (field, message) in quiet.validate() {
                report(format!("{path}.quiet_hours.{field}"), message);
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
        for (field, message) in channel.platform().validate() {
            report(format!("{path}.{field}"), message);
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
    routes_for(brand, payload, channels, rules, None)
        .into_iter()
        .map(|(channel, _)| channel)
        .collect()
}

/// Like `channels_for`, with when each channel may get the alert: `None` at once, or the end
/// of quiet hours. With `now` unknown (`None`) nothing is held. A channel that several
/// matching rules name is held only if every one of them is quiet, until the earliest end.
pub fn routes_for(
    brand: Option<&str>,
    payload: &AlertPayload,
    channels: &[ChannelSettings],
    rules: &[AlertRule],
    now: Option<Millis>,
) -> Vec<(String, Option<Millis>)> {
    if let AlertPayload::WeeklySummary(report) = payload {
        // Chosen by `[exports] summary_channels` when the summary was made; rules do not apply.
        return channels
            .iter()
            .filter(|channel| report.channels.contains(&channel.name))
            .map(|channel| (channel.name.clone(), None))
            .collect();
    }
    let mut out: Vec<(String, Option<Millis>)> = Vec::new();
    for channel in channels {
        if out.iter().any(|(name, _)| name == &channel.name) {
            continue;
        }
        let named_by_rules: Vec<&AlertRule> = rules
            .iter()
            .filter(|rule| rule.channels.iter().any(|name| name == &channel.name))
            .collect();
        if named_by_rules.is_empty() {
            let implicit = AlertRule {
                brands: channel.brands.clone(),
                min_priority: channel.min_priority,
                platforms: Vec::new(),
                keywords: Vec::new(),
                channels: Vec::new(),
                quiet_hours: None,
            };
            if implicit.matches(brand, payload) {
                out.push((channel.name.clone(), None));
            }
            continue;
        }
        let holds: Vec<Option<Millis>> = named_by_rules
            .iter()
            .filter(|rule| rule.matches(brand, payload))
            .map(|rule| match (&rule.quiet_hours, now) {
                (Some(quiet), Some(now)) => quiet.hold_until(now, payload.priority()),
                _ => None,
            })
            .collect();
        if holds.is_empty() {
            continue;
        }
        let hold = if holds.iter().any(Option::is_none) {
            None
        } else {
            holds.into_iter().flatten().min()
        };
        out.push((channel.name.clone(), hold));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::ChannelKind;
    use crate::domain::TaskId;
    use crate::secret::Secret;

    fn channel(name: &str, min_priority: Priority) -> ChannelSettings {
        ChannelSettings {
            name: name.to_owned(),
            kind: ChannelKind::Slack {},
            url: Secret::inline("https://example.invalid/hook"),
            brands: Vec::new(),
            min_priority,
        }
    }

    fn alert(priority: Priority, text: &str) -> AlertPayload {
        AlertPayload::TaskOpened {
            task_id: TaskId::new(1),
            brand: "acme".to_owned(),
            priority,
            criticality: 80.0,
            platform: crate::domain::Platform::X,
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
            quiet_hours: None,
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

    #[test]
    fn quiet_hours_hold_a_channel_only_when_every_matching_rule_is_quiet() {
        let channels = [channel("ops", Priority::Low)];
        let quiet: AlertRule = toml::from_str(
            r#"
            min_priority = "low"
            channels = ["ops"]
            quiet_hours = { timezone = "UTC", start = "22:00", end = "06:00", immediate = ["critical"] }
            "#,
        )
        .unwrap();
        let night = 1_000 * 86_400_000 + 23 * 3_600_000;
        let morning = 1_001 * 86_400_000 + 6 * 3_600_000;
        let routes = routes_for(
            Some("acme"),
            &alert(Priority::High, "x"),
            &channels,
            std::slice::from_ref(&quiet),
            Some(night),
        );
        assert_eq!(routes, vec![("ops".to_owned(), Some(morning))]);
        let critical = routes_for(
            Some("acme"),
            &alert(Priority::Critical, "x"),
            &channels,
            std::slice::from_ref(&quiet),
            Some(night),
        );
        assert_eq!(critical, vec![("ops".to_owned(), None)]);
        let always = AlertRule {
            quiet_hours: None,
            ..quiet.clone()
        };
        let both = routes_for(
            Some("acme"),
            &alert(Priority::High, "x"),
            &channels,
            &[quiet, always],
            Some(night),
        );
        assert_eq!(
            both,
            vec![("ops".to_owned(), None)],
            "a rule that is not quiet sends at once"
        );
    }
}
