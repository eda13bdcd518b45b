//! Reading a TOML file into `Settings`, collecting every problem with its field path.

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use super::{
    AlertSettings, BrandSettings, DatabaseSettings, EngagementSettings, ExportSettings, HttpSettings, InstanceSettings,
    MIN_RETAIN_DAYS, PrivacySettings, ScoringSettings, Settings, SourceCommon, SourceSettings, TaskSettings,
    TemplateSettings, ViralSettings,
};
use crate::alerts::ChannelSettings;
use crate::alerts::channels::{ChannelCommon, ChannelKind};
use crate::domain::{BusinessCalendar, CalendarProblem, HttpUrl};
use crate::problems::ProblemSettings;
use crate::sources::SourceKind;

/// One problem, with the dotted path of the field it concerns (`sources[2].schedule`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{origin} has {} problem(s):\n{}", problems.len(), list(problems))]
    Invalid {
        origin: String,
        problems: Vec<ConfigProblem>,
    },
}

fn list(problems: &[ConfigProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl ConfigError {
    /// The problems found, empty when the file could not be read at all.
    pub fn problems(&self) -> &[ConfigProblem] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid { problems, .. } => problems,
        }
    }
}

const SECTIONS: [&str; 13] = [
    "database",
    "engagement",
    "problems",
    "privacy",
    "http",
    "scoring",
    "tasks",
    "brands",
    "sources",
    "alerts",
    "exports",
    "templates",
    "instances",
];
const SOURCE_COMMON_KEYS: [&str; 4] = ["id", "brand", "schedule", "enabled"];

/// Loads settings from `path`, then applies `EARSHOT_DATABASE_URL`, `EARSHOT_HTTP_BIND` and
/// `EARSHOT_INSTANCE_ID`.
pub fn load(path: &Path) -> Result<Settings, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let mut settings = from_toml(&text, &path.display().to_string())?;
    let mut problems = Vec::new();
    #[allow(clippy::disallowed_methods, reason = "config is the one reader of the environment")]
    if let Ok(url) = std::env::var("EARSHOT_DATABASE_URL") {
        settings.database.url = url;
    }
    #[allow(clippy::disallowed_methods, reason = "config is the one reader of the environment")]
    if let Ok(bind) = std::env::var("EARSHOT_HTTP_BIND") {
        match bind.parse() {
            Ok(addr) => settings.http.bind = addr,
            Err(error) => problems.push(problem("EARSHOT_HTTP_BIND", format!("{error}: {bind:?}"))),
        }
    }
    #[allow(clippy::disallowed_methods, reason = "config is the one reader of the environment")]
    if let Ok(id) = std::env::var("EARSHOT_INSTANCE_ID") {
        settings.instances.id = Some(id);
    }
    // Opening hours were parsed and checked by `from_toml`; the environment does not touch them.
    problems.extend(validate(&settings, &[]));
    if problems.is_empty() {
        Ok(settings)
    } else {
        Err(ConfigError::Invalid {
            origin: path.display().to_string(),
            problems,
        })
    }
}

/// Parses and validates settings from TOML text; `origin` names it in errors.
pub fn from_toml(text: &str, origin: &str) -> Result<Settings, ConfigError> {
    let invalid = |problems| ConfigError::Invalid {
        origin: origin.to_owned(),
        problems,
    };
    let mut root: toml::Table = toml::from_str(text).map_err(|error| {
        invalid(vec![ConfigProblem {
            path: String::new(),
            message: error.to_string().trim().to_owned(),
        }])
    })?;
    let mut problems = Vec::new();
    for key in root.keys() {
        if !SECTIONS.contains(&key.as_str()) {
            problems.push(problem(
                key,
                format!("unknown key, expected one of {}", SECTIONS.join(", ")),
            ));
        }
    }
    let database = section::<DatabaseSettings>(&mut root, "database", &mut problems);
    let http = section::<HttpSettings>(&mut root, "http", &mut problems);
    let scoring = section::<ScoringSettings>(&mut root, "scoring", &mut problems);
    let tasks = section::<TaskSettings>(&mut root, "tasks", &mut problems);
    // Channels are parsed one by one, as sources are, so one bad channel hides nothing else.
    let channel_values = match root.get_mut("alerts") {
        Some(toml::Value::Table(alerts)) => alerts.remove("channels"),
        _ => None,
    };
    let alerts = section::<AlertSettings>(&mut root, "alerts", &mut problems);
    let exports = section::<ExportSettings>(&mut root, "exports", &mut problems);
    let instances = section::<InstanceSettings>(&mut root, "instances", &mut problems);
    let privacy = section::<PrivacySettings>(&mut root, "privacy", &mut problems);
    let engagement = section::<EngagementSettings>(&mut root, "engagement", &mut problems);
    let problem_grouping = section::<ProblemSettings>(&mut root, "problems", &mut problems);
    let brands = items(
        root.remove("brands"),
        "brands",
        &mut problems,
        deserialize::<BrandSettings>,
    );
    let sources = items(root.remove("sources"), "sources", &mut problems, source);
    let templates = items(
        root.remove("templates"),
        "templates",
        &mut problems,
        deserialize::<TemplateSettings>,
    );
    let channels = items(channel_values, "alerts.channels", &mut problems, channel);

    let mut settings = match (
        database,
        http,
        scoring,
        tasks,
        alerts,
        exports,
        instances,
        privacy,
        engagement,
        problem_grouping,
    ) {
        (
            Some(database),
            Some(http),
            Some(scoring),
            Some(tasks),
            Some(alerts),
            Some(exports),
            Some(instances),
            Some(privacy),
            Some(engagement),
            Some(problem_grouping),
        ) => Some(Settings {
            database,
            http,
            scoring,
            tasks,
            brands,
            sources,
            alerts: AlertSettings { channels, ..alerts },
            exports,
            templates,
            instances,
            privacy,
            engagement,
            problems: problem_grouping,
        }),
        _ => None,
    };
    if let Some(settings) = &mut settings {
        // Opening hours are parsed once, here: reported with the brand's other problems, and
        // kept in the settings for the SLA clocks.
        let calendars: Vec<Result<Option<BusinessCalendar>, Vec<CalendarProblem>>> = settings
            .brands
            .iter()
            .map(|brand| {
                brand
                    .business_hours
                    .as_ref()
                    .map(BusinessCalendar::from_settings)
                    .transpose()
            })
            .collect();
        problems.extend(validate(settings, &calendars));
        for (brand, calendar) in settings.brands.iter_mut().zip(calendars) {
            brand.calendar = calendar.unwrap_or_default();
        }
    }
    match settings {
        Some(settings) if problems.is_empty() => Ok(settings),
        _ => Err(invalid(problems)),
    }
}

fn problem(path: &str, message: impl Into<String>) -> ConfigProblem {
    ConfigProblem {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// Deserialises `value`, recording a problem with the full path on failure.
fn deserialize<T: DeserializeOwned>(value: toml::Value, path: &str, problems: &mut Vec<ConfigProblem>) -> Option<T> {
    match serde_path_to_error::deserialize::<_, T>(value) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            let inner = error.path().to_string();
            let full = match inner.as_str() {
                "." | "" => path.to_owned(),
                _ => format!("{path}.{inner}"),
            };
            let message = error.into_inner().to_string();
            // toml appends "in `key`" on a new line; the path already says where.
            let message = message.split("\nin `").next().unwrap_or(&message).trim().to_owned();
            // A type that explains its own missing field says "missing field `x`: why"; serde
            // puts that at the parent, so point at the field.
            let (full, message) = match explained_missing_field(&message) {
                Some((field, why)) => (format!("{full}.{field}"), why.to_owned()),
                None => (full, message),
            };
            problems.push(problem(&full, message));
            None
        }
    }
}

/// `("x", "why")` from "missing field `x`: why".
fn explained_missing_field(message: &str) -> Option<(&str, &str)> {
    message.strip_prefix("missing field `")?.split_once("`: ")
}

/// A table section that may be absent (then its defaults apply).
fn section<T: DeserializeOwned>(root: &mut toml::Table, key: &str, problems: &mut Vec<ConfigProblem>) -> Option<T> {
    let value = root
        .remove(key)
        .unwrap_or_else(|| toml::Value::Table(toml::Table::new()));
    deserialize(value, key, problems)
}

/// An array of tables, each item parsed on its own so every bad item is reported.
fn items<T>(
    value: Option<toml::Value>,
    key: &str,
    problems: &mut Vec<ConfigProblem>,
    parse: impl Fn(toml::Value, &str, &mut Vec<ConfigProblem>) -> Option<T>,
) -> Vec<T> {
    let Some(value) = value else {
        return Vec::new();
    };
    let toml::Value::Array(values) = value else {
        problems.push(problem(key, format!("expected an array of tables ([[{key}]])")));
        return Vec::new();
    };
    values
        .into_iter()
        .enumerate()
        .filter_map(|(idx, value)| parse(value, &format!("{key}[{idx}]"), problems))
        .collect()
}

/// A source: the common keys, then the platform's settings tagged by `type`.
fn source(value: toml::Value, path: &str, problems: &mut Vec<ConfigProblem>) -> Option<SourceSettings> {
    let (common, kind): (SourceCommon, SourceKind) = common_and_tagged(value, path, &SOURCE_COMMON_KEYS, problems)?;
    Some(SourceSettings {
        id: common.id,
        brand: common.brand,
        schedule: common.schedule,
        enabled: common.enabled,
        kind,
    })
}

/// A chat channel: the common keys, then the platform's settings tagged by `type`.
fn channel(value: toml::Value, path: &str, problems: &mut Vec<ConfigProblem>) -> Option<ChannelSettings> {
    let first = problems.len();
    let parsed = common_and_tagged::<ChannelCommon, ChannelKind>(value, path, &ChannelCommon::KEYS, problems);
    // The platform's part knows only its own keys (often none): point at the unknown key and
    // list every key a channel of that type takes.
    for found in problems.iter_mut().skip(first).filter(|found| found.path == path) {
        if let Some((key, platform_keys)) = unknown_key(&found.message) {
            let mut keys = vec!["name", "type"];
            keys.extend(ChannelCommon::KEYS.iter().skip(1));
            keys.extend(platform_keys);
            let keys: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
            *found = problem(
                &format!("{path}.{key}"),
                format!("unknown field `{key}`, expected one of {}", keys.join(", ")),
            );
        }
    }
    let (common, kind) = parsed?;
    Some(ChannelSettings::from_parts(common, kind))
}

/// The key and the keys serde expected, from its "unknown field `x`, expected one of `a`,
/// `b`" (or "expected `a`", or "there are no fields").
fn unknown_key(message: &str) -> Option<(&str, Vec<&str>)> {
    let (key, expected) = message.strip_prefix("unknown field `")?.split_once('`')?;
    let expected: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
    Some((key, expected))
}

/// An item whose `common_keys` every item has (`C`) and whose other keys belong to the part
/// tagged by `type` (`K`); both parts are checked, so each reports its problems.
fn common_and_tagged<C: DeserializeOwned, K: DeserializeOwned>(
    value: toml::Value,
    path: &str,
    common_keys: &[&str],
    problems: &mut Vec<ConfigProblem>,
) -> Option<(C, K)> {
    let toml::Value::Table(mut table) = value else {
        problems.push(problem(path, "expected a table"));
        return None;
    };
    let mut common = toml::Table::new();
    for key in common_keys {
        if let Some(value) = table.remove(*key) {
            common.insert((*key).to_owned(), value);
        }
    }
    let common = deserialize::<C>(toml::Value::Table(common), path, problems);
    let kind = deserialize::<K>(toml::Value::Table(table), path, problems);
    Some((common?, kind?))
}

/// Parses a cron expression exactly as the scheduler will (six fields, seconds first).
pub(crate) fn parse_cron(expression: &str) -> Result<croner::Cron, String> {
    croner::parser::CronParser::builder()
        .seconds(croner::parser::Seconds::Required)
        .dom_and_dow(true)
        .build()
        .parse(expression)
        .map_err(|error| format!("invalid cron expression {expression:?} (6 fields, seconds first): {error}"))
}

/// Checks what serde cannot: references, uniqueness, ranges, formats.
fn validate_instances(instances: &InstanceSettings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if let Some(id) = &instances.id
        && (id.trim().is_empty() || id.len() > 200 || id.chars().any(char::is_control))
    {
        problems.push(problem(
            "instances.id",
            "must be 1 to 200 characters without control characters",
        ));
    }
    const WEEK_SECS: u64 = 7 * 24 * 3600;
    // Each value against a week in its own unit: the `_secs` keys in seconds, the `_ms` key
    // in milliseconds.
    for (name, value, week) in [
        ("poll_lease_secs", instances.poll_lease_secs, WEEK_SECS),
        ("claim_secs", instances.claim_secs, WEEK_SECS),
        ("delivery_lease_secs", instances.delivery_lease_secs, WEEK_SECS),
        ("scoring_sweep_ms", instances.scoring_sweep_ms, WEEK_SECS * 1000),
    ] {
        if value == 0 || value > week {
            problems.push(problem(
                &format!("instances.{name}"),
                "must be positive and at most a week",
            ));
        }
    }
    problems
}

/// The server's limits: each within what a public-facing service can live with.
fn validate_http(http: &HttpSettings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    for (name, value, range) in [
        ("header_timeout_secs", http.header_timeout_secs, 1..=300),
        ("shutdown_grace_secs", http.shutdown_grace_secs, 0..=300),
    ] {
        if !range.contains(&value) {
            problems.push(problem(
                &format!("http.{name}"),
                format!("must be between {} and {} seconds", range.start(), range.end()),
            ));
        }
    }
    if !(1..=100_000).contains(&http.max_connections) {
        problems.push(problem("http.max_connections", "must be between 1 and 100000"));
    }
    problems
}

/// `[problems]`: schedules the scheduler accepts and numbers in range.
fn validate_problems(settings: &ProblemSettings) -> Vec<ConfigProblem> {
    let mut out: Vec<ConfigProblem> = settings
        .problems()
        .into_iter()
        .map(|(key, message)| problem(key, message))
        .collect();
    for (key, schedule) in [
        ("problems.assign_schedule", &settings.assign_schedule),
        ("problems.recluster_schedule", &settings.recluster_schedule),
    ] {
        if let Err(message) = parse_cron(schedule) {
            out.push(problem(key, message));
        }
    }
    out
}

/// `[engagement]`: a schedule the scheduler accepts, and bounds that keep a run short.
fn validate_engagement(engagement: &EngagementSettings) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if let Err(message) = parse_cron(&engagement.schedule) {
        problems.push(problem("engagement.schedule", message));
    }
    if !(1..=24 * 30).contains(&engagement.max_age_hours) {
        problems.push(problem("engagement.max_age_hours", "must be between 1 and 720 hours"));
    }
    if !(1..=100_000).contains(&engagement.max_posts_per_run) {
        problems.push(problem("engagement.max_posts_per_run", "must be between 1 and 100000"));
    }
    problems
}

/// `[brands.viral]`: a growth that means growth, a window within a week.
fn validate_viral(viral: &ViralSettings, brand_path: &str) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    if !(viral.growth_factor.is_finite() && viral.growth_factor > 1.0 && viral.growth_factor <= 1_000.0) {
        problems.push(problem(
            &format!("{brand_path}.viral.growth_factor"),
            "must be more than 1 and at most 1000",
        ));
    }
    if !(1..=7 * 24 * 60).contains(&viral.window_mins) {
        problems.push(problem(
            &format!("{brand_path}.viral.window_mins"),
            "must be between 1 and 10080 minutes (a week)",
        ));
    }
    problems
}

/// Every check serde cannot make; `calendars` are the brands' parsed opening hours, in order
/// (empty when they were checked already).
fn validate(
    settings: &Settings,
    calendars: &[Result<Option<BusinessCalendar>, Vec<CalendarProblem>>],
) -> Vec<ConfigProblem> {
    let mut problems = validate_http(&settings.http);
    problems.extend(validate_engagement(&settings.engagement));
    problems.extend(validate_problems(&settings.problems));
    if let Some(days) = settings.privacy.retain_days
        && !(MIN_RETAIN_DAYS..=36_500).contains(&days)
    {
        problems.push(problem(
            "privacy.retain_days",
            format!("must be between {MIN_RETAIN_DAYS} and 36500 days (a weekly export needs its whole week)"),
        ));
    }
    let url = &settings.database.url;
    if !(url.starts_with("sqlite:") || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        problems.push(problem(
            "database.url",
            format!(
                "unsupported database URL {:?}: use sqlite:// or postgres://",
                redact_url(url)
            ),
        ));
    }
    if settings.database.max_connections == 0 {
        problems.push(problem("database.max_connections", "must be at least 1"));
    }
    let scoring = &settings.scoring;
    if scoring.batch_size > 1024 {
        problems.push(problem(
            "scoring.batch_size",
            "must be at most 1024 (0: chosen for the engine)",
        ));
    }
    if scoring.queue_batches == 0 {
        problems.push(problem("scoring.queue_batches", "must be at least 1"));
    }
    if scoring.workers > 64 {
        problems.push(problem(
            "scoring.workers",
            "must be at most 64 (0: chosen from the model and threads)",
        ));
    }
    problems.extend(validate_instances(&settings.instances));
    if !settings.tasks.send_role.is_for_users() {
        problems.push(problem("tasks.send_role", "must be agent, lead or admin"));
    }
    let cutoffs = &settings.tasks.priority;
    if !(cutoffs.medium <= cutoffs.high && cutoffs.high <= cutoffs.critical) {
        problems.push(problem(
            "tasks.priority",
            "cut-offs must satisfy medium <= high <= critical",
        ));
    }
    for (name, value) in [
        ("critical", cutoffs.critical),
        ("high", cutoffs.high),
        ("medium", cutoffs.medium),
    ] {
        if !(0.0..=100.0).contains(&value) {
            problems.push(problem(&format!("tasks.priority.{name}"), "must be within 0-100"));
        }
    }

    let mut template_names = HashSet::new();
    for (idx, template) in settings.templates.iter().enumerate() {
        let path = format!("templates[{idx}]");
        if template.name.trim().is_empty() {
            problems.push(problem(&format!("{path}.name"), "must not be empty"));
        }
        if !template_names.insert(&template.name) {
            problems.push(problem(
                &format!("{path}.name"),
                format!("duplicate template name {:?}", template.name),
            ));
        }
        if let Err(error) = crate::domain::template::check(&template.text) {
            problems.push(problem(&format!("{path}.text"), error.to_string()));
        }
    }

    let mut brand_ids = HashSet::new();
    for (idx, brand) in settings.brands.iter().enumerate() {
        let path = format!("brands[{idx}]");
        if !brand_ids.insert(&brand.id) {
            problems.push(problem(
                &format!("{path}.id"),
                format!("duplicate brand id {:?}", brand.id.as_str()),
            ));
        }
        if brand.keywords.iter().all(|k| k.trim().is_empty()) && brand.handles.is_empty() {
            problems.push(problem(
                &format!("{path}.keywords"),
                "a brand needs at least one keyword or handle",
            ));
        }
        if !(0.0..=100.0).contains(&brand.threshold) {
            problems.push(problem(&format!("{path}.threshold"), "must be within 0-100"));
        }
        problems.extend(validate_viral(&brand.viral, &path));
        if let Some(Err(found)) = calendars.get(idx) {
            for (field, message) in found {
                problems.push(problem(&format!("{path}.business_hours.{field}"), message));
            }
        }
        let mut platforms = HashSet::new();
        for (account_idx, account) in brand.reply_accounts.iter().enumerate() {
            let account_path = format!("{path}.reply_accounts[{account_idx}]");
            if !platforms.insert(account.platform()) {
                problems.push(problem(
                    &format!("{account_path}.platform"),
                    format!(
                        "a second {} account; a brand answers from one account per platform",
                        account.platform()
                    ),
                ));
            }
            for (field, message) in account.validate() {
                problems.push(problem(&format!("{account_path}.{field}"), message));
            }
        }
    }
    let mut source_ids = HashSet::new();
    for (idx, source) in settings.sources.iter().enumerate() {
        let path = format!("sources[{idx}]");
        if !source_ids.insert(&source.id) {
            problems.push(problem(
                &format!("{path}.id"),
                format!("duplicate source id {:?}", source.id.as_str()),
            ));
        }
        if !brand_ids.contains(&source.brand) {
            problems.push(problem(
                &format!("{path}.brand"),
                format!("no brand with id {:?}", source.brand.as_str()),
            ));
        }
        if !source.kind.is_polled() {
            if !source.schedule.is_empty() {
                problems.push(problem(
                    &format!("{path}.schedule"),
                    "push sources are not polled: remove the schedule",
                ));
            }
        } else if source.schedule.is_empty() {
            problems.push(problem(&format!("{path}.schedule"), "missing field `schedule`"));
        } else if let Err(message) = parse_cron(&source.schedule) {
            problems.push(problem(&format!("{path}.schedule"), message));
        }
        for (field, message) in source.kind.validate() {
            problems.push(problem(&format!("{path}.{field}"), message));
        }
    }
    let mut channel_names = HashSet::new();
    for (idx, channel) in settings.alerts.channels.iter().enumerate() {
        let path = format!("alerts.channels[{idx}]");
        if !channel_names.insert(channel.name.as_str()) {
            problems.push(problem(
                &format!("{path}.name"),
                format!("duplicate channel name {:?}", channel.name),
            ));
        }
        for brand in &channel.brands {
            if !brand_ids.contains(brand) {
                problems.push(problem(
                    &format!("{path}.brands"),
                    format!("no brand with id {:?}", brand.as_str()),
                ));
            }
        }
    }
    crate::alerts::routing::validate(
        &settings.alerts.channels,
        &settings.alerts.rules,
        &brand_ids,
        &mut |field, message| problems.push(problem(&field, message)),
    );
    for (field, message) in settings.alerts.spikes.validate() {
        problems.push(problem(&format!("alerts.spikes.{field}"), message));
    }
    let exports = &settings.exports;
    if let Err(message) = parse_cron(&exports.schedule) {
        problems.push(problem("exports.schedule", message));
    }
    if exports.timezone.parse::<chrono_tz::Tz>().is_err() {
        problems.push(problem(
            "exports.timezone",
            format!(
                "unknown time zone {:?} (use an IANA name such as Europe/London)",
                exports.timezone
            ),
        ));
    }
    for name in &exports.summary_channels {
        if !settings.alerts.channels.iter().any(|channel| &channel.name == name) {
            problems.push(problem(
                "exports.summary_channels",
                format!("no channel named {name:?} in [[alerts.channels]]"),
            ));
        }
    }
    if let Some(public_url) = &exports.public_url {
        let valid = HttpUrl::parse(public_url).is_ok_and(|url| url.as_url().query().is_none());
        if !valid {
            problems.push(problem(
                "exports.public_url",
                "must be an http(s) URL without a query, e.g. https://earshot.example.com".to_owned(),
            ));
        }
    }
    problems
}

/// A database URL with any password replaced, safe to print.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
