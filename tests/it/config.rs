//! Configuration: every problem at once, with field paths; unknown keys; secrets redacted.

use earshot::config::{ConfigError, from_toml};

fn problems(toml: &str) -> Vec<String> {
    match from_toml(toml, "test") {
        Ok(_) => Vec::new(),
        Err(ConfigError::Invalid { problems, .. }) => problems.iter().map(|p| p.to_string()).collect(),
        Err(other) => panic!("unexpected error {other}"),
    }
}

/// Every one of `expected` is part of some problem in `found`.
fn assert_reported(found: &[String], expected: &[&str]) {
    for needle in expected {
        assert!(
            found.iter().any(|p| p.contains(needle)),
            "missing {needle:?} in {found:#?}"
        );
    }
}

#[test]
fn every_problem_is_reported_at_once_with_its_path() {
    let toml = r#"
colour = "blue"

[database]
url = "mysql://localhost/x"

[tasks.priority]
critical = 50
high = 70
medium = 60

[[brands]]
id = "acme"
name = "Acme"
keywords = ["acme"]
threshold = 140

[[brands]]
id = "Bad Id"
name = "Bad"
keywords = ["bad"]

[[sources]]
id = "one"
brand = "nobody"
schedule = "every five minutes"
type = "jsonl"
path = "x.jsonl"

[[sources]]
id = "two"
brand = "acme"
schedule = "0 */5 * * * *"
type = "jsonl"
path = "y.jsonl"
poll_every = 5

[[sources]]
id = "three"
brand = "acme"
schedule = "0 */5 * * * *"
type = "telepathy"

[exports]
timezone = "Mars/Olympus_Mons"
"#;

    let found = problems(toml);

    let expected = [
        "colour: unknown key",
        "database.url: unsupported database URL",
        "tasks.priority: cut-offs must satisfy",
        "brands[0].threshold: must be within 0-100",
        "brands[1].id: brand id \"Bad Id\" must be",
        "sources[0].brand: no brand with id \"nobody\"",
        "sources[0].schedule: invalid cron expression",
        "sources[1]: unknown field `poll_every`",
        "sources[2].type: unknown variant `telepathy`",
        "exports.timezone: unknown time zone",
    ];
    assert_reported(&found, &expected);
}

#[test]
fn a_syntax_error_names_the_line() {
    let found = problems("[database\nurl = 1");

    assert_eq!(found.len(), 1);
    assert!(found[0].contains("line 1"), "{found:?}");
}

#[test]
fn unknown_keys_inside_sections_are_errors() {
    let found = problems("[http]\nbind = \"127.0.0.1:1\"\nport = 8080\n");

    assert!(
        found
            .iter()
            .any(|p| p.starts_with("http") && p.contains("unknown field `port`")),
        "{found:?}"
    );
}

#[test]
fn a_chat_channel_takes_its_platforms_keys_and_no_others() {
    let toml = r#"
[[alerts.channels]]
name = "ops"
type = "slack"
url = "https://example.invalid/s"
min_prority = "low"

[[alerts.channels]]
name = "hook"
type = "webhook"
url = "https://example.invalid/h"

[[alerts.channels]]
name = "signed"
type = "webhook"
url = "https://example.invalid/w"
signing_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
min_priority = "loud"

[[alerts.channels]]
name = "chat"
type = "google_chat"
url = "https://example.invalid/g"
signing_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
"#;

    let found = problems(toml);

    let expected = [
        "alerts.channels[0].min_prority: unknown field `min_prority`, expected one of `name`, `type`, `url`, `brands`, `min_priority`",
        "alerts.channels[3].signing_secret: unknown field `signing_secret`",
        "alerts.channels[1].signing_secret: a webhook channel is signed the Standard Webhooks way",
        "alerts.channels[2].min_priority: unknown variant `loud`",
    ];
    assert_reported(&found, &expected);
    assert!(
        from_toml(&toml.replace("min_priority = \"loud\"", ""), "test")
            .unwrap_err()
            .problems()
            .iter()
            .all(|p| !p.path.starts_with("alerts.channels[2]")),
        "a signed webhook channel parses"
    );
}

#[test]
fn an_empty_file_is_a_valid_config_with_defaults() {
    let settings = from_toml("", "empty").unwrap();

    assert_eq!(settings.database.url, "sqlite://data/earshot.db");
    assert!(settings.brands.is_empty());
}

#[test]
fn printing_the_config_redacts_secrets() {
    let toml = r#"
[[alerts.channels]]
name = "ops"
type = "slack"
url = "https://hooks.slack.com/services/T000/B000/supersecretpart"
"#;
    let settings = from_toml(toml, "test").unwrap();

    let printed = settings.to_redacted_toml().unwrap();

    assert!(!printed.contains("supersecretpart"), "{printed}");
    assert!(printed.contains("<redacted>"), "{printed}");
    assert!(!format!("{settings:?}").contains("supersecretpart"));
}

#[test]
fn business_hours_problems_are_listed_with_their_paths() {
    let toml = r#"
[[brands]]
id = "acme"
name = "Acme"
keywords = ["acme"]

[brands.business_hours]
timezone = "Europe/Londn"
days = ["mon", "fri", "caturday"]
open = "18:00"
close = "09:00"
holidays = ["2026-13-01"]

[[brands]]
id = "globex"
name = "Globex"
keywords = ["globex"]

[brands.business_hours]
timezone = "America/New_York"
open = "09:00"
close = "17:00"
"#;
    let found = problems(toml);
    for expected in [
        "brands[0].business_hours.timezone: unknown time zone \"Europe/Londn\"",
        "brands[0].business_hours.days: unknown day \"caturday\"",
        "brands[0].business_hours.close: must be after open",
        "brands[0].business_hours.holidays: \"2026-13-01\" is not a date",
    ] {
        assert!(
            found.iter().any(|p| p.starts_with(expected)),
            "{expected}\nin {found:#?}"
        );
    }
    assert_eq!(found.len(), 4, "the second brand's hours are fine: {found:#?}");

    let unknown_key = problems(
        r#"
[[brands]]
id = "acme"
name = "Acme"
keywords = ["acme"]
[brands.business_hours]
timezone = "UTC"
open = "09:00"
close = "17:00"
lunch = "12:00"
"#,
    );
    assert!(
        unknown_key
            .iter()
            .any(|p| p.starts_with("brands[0].business_hours") && p.contains("lunch")),
        "{unknown_key:?}"
    );
}

#[test]
fn lease_and_claim_seconds_are_limited_to_a_week_in_seconds() {
    // A week and a day in seconds: once accepted because it was compared with a week in ms.
    let too_long = 8 * 24 * 3600;
    let found = problems(&format!(
        "[instances]\npoll_lease_secs = {too_long}\nclaim_secs = {too_long}\ndelivery_lease_secs = {too_long}\n"
    ));
    for key in ["poll_lease_secs", "claim_secs", "delivery_lease_secs"] {
        assert!(
            found.contains(&format!("instances.{key}: must be positive and at most a week")),
            "{key}: {found:?}"
        );
    }
    let week = 7 * 24 * 3600;
    assert!(
        problems(&format!(
            "[instances]\nclaim_secs = {week}\nscoring_sweep_ms = {}\n",
            week * 1000
        ))
        .is_empty()
    );
}

#[test]
fn server_limits_are_checked() {
    let found = problems("[http]\nheader_timeout_secs = 0\nmax_connections = 0\nshutdown_grace_secs = 301\n");
    assert_eq!(
        found,
        [
            "http.header_timeout_secs: must be between 1 and 300 seconds",
            "http.shutdown_grace_secs: must be between 0 and 300 seconds",
            "http.max_connections: must be between 1 and 100000",
        ]
    );
}
