//! `earshot demo`: the whole service on a temporary SQLite file with bundled sample mentions
//! of three fictional brands, scored by the shipped model. No config needed.

use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::config::{Settings, from_toml};

/// Sample mentions written for the project: complaints, praise, questions, spam, other
/// languages, a hostile post, a duplicate and two broken lines (they go to quarantine).
pub const MENTIONS_JSONL: &str = include_str!("../demo/mentions.jsonl");

/// The shipped model, found next to the working directory or, failing that, in the source
/// tree this binary was built from.
pub fn shipped_model_dir() -> PathBuf {
    resolve_shipped(Path::new("models/complaint-minilm-l6"))
}

/// A model folder as configured; a relative one that is not under the working folder is
/// looked up in the project folder the binary was built from (where the shipped models are).
pub fn resolve_shipped(dir: &Path) -> PathBuf {
    if dir.is_absolute() || dir.join("manifest.toml").is_file() {
        return dir.to_owned();
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(dir)
}

/// Writes the sample mentions into `dir`, each shifted so the newest is a few minutes old
/// (so SLA clocks in the queue look like a live morning), and returns the settings.
pub fn prepare(dir: &Path, bind: std::net::SocketAddr) -> anyhow::Result<Settings> {
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let shifted = shift_to_now(MENTIONS_JSONL, chrono::Utc::now());
    for (brand, lines) in split_by_brand(&shifted) {
        let path = dir.join(format!("{brand}.jsonl"));
        std::fs::write(&path, lines).with_context(|| format!("failed to write {}", path.display()))?;
    }
    let toml = settings_toml(dir, &shipped_model_dir(), bind);
    Ok(from_toml(&toml, "the demo configuration")?)
}

const DEMO_BRANDS: [&str; 3] = ["northwind", "larkspur", "kettlebrook"];

/// One export file per brand, as a team exporting from another tool would have: a line goes
/// to the first brand whose name it contains (lines naming none go to the first brand, where
/// the pipeline skips or quarantines them), so each line is read by exactly one source.
fn split_by_brand(jsonl: &str) -> Vec<(&'static str, String)> {
    let mut files: Vec<(&'static str, String)> = DEMO_BRANDS.iter().map(|b| (*b, String::new())).collect();
    for line in jsonl.lines() {
        let lower = line.to_lowercase();
        let idx = DEMO_BRANDS.iter().position(|b| lower.contains(b)).unwrap_or(0);
        files[idx].1.push_str(line);
        files[idx].1.push('\n');
    }
    files
}

/// Moves every parseable line's `created_at` so the latest one is five minutes before `now`,
/// keeping the spacing. Lines that are not JSON objects are left exactly as they are.
fn shift_to_now(jsonl: &str, now: chrono::DateTime<chrono::Utc>) -> String {
    let parse = |line: &str| serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(line).ok();
    let time_of = |object: &serde_json::Map<String, serde_json::Value>| {
        object
            .get("created_at")
            .and_then(|v| v.as_str())
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    let latest = jsonl.lines().filter_map(parse).filter_map(|o| time_of(&o)).max();
    let Some(latest) = latest else {
        return jsonl.to_owned();
    };
    let offset = now - chrono::Duration::minutes(5) - latest.with_timezone(&chrono::Utc);
    let mut out = String::with_capacity(jsonl.len());
    for line in jsonl.lines() {
        match parse(line) {
            Some(mut object) if time_of(&object).is_some() => {
                let shifted = time_of(&object).map(|t| (t.with_timezone(&chrono::Utc) + offset).to_rfc3339());
                object.insert("created_at".into(), serde_json::Value::from(shifted));
                out.push_str(&serde_json::Value::Object(object).to_string());
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The apology each demo brand keeps in the database (a lead can change it in the Templates
/// view): offered first on its negative tasks, asking for what that brand needs to help.
pub fn starter_templates(at: crate::domain::Millis) -> Vec<crate::store::NewReplyTemplate> {
    let ask = [
        ("northwind", "your booking reference"),
        (
            "larkspur",
            "the last four digits of the account (never a PIN, password or full card number)",
        ),
        ("kettlebrook", "your order number or the shop you visited"),
    ];
    ask.iter()
        .filter_map(|(brand, what)| {
            let brand = crate::domain::BrandId::parse(brand).ok()?;
            Some(crate::store::NewReplyTemplate {
                brand,
                name: "Apology: we're on it".into(),
                text: format!(
                    "Hi {{first_name}}, I'm sorry about this: it isn't the experience you should have with {{brand}}. \
                     I'm {{agent}} and I'm looking into it now. Could you send us a direct message with {what} so I \
                     can put it right?"
                ),
                apology: true,
                actor: "earshot demo".into(),
                at,
            })
        })
        .collect()
}

fn settings_toml(dir: &Path, model: &Path, bind: std::net::SocketAddr) -> String {
    let db = dir.join("earshot.db");
    let quote = |p: &Path| toml::Value::String(p.display().to_string()).to_string();
    format!(
        r#"
[database]
url = {db_url}

[http]
bind = "{bind}"

[scoring]
model = {model}

[exports]
dir = {exports}

[[brands]]
id = "northwind"
name = "Northwind Air"
keywords = ["northwind air", "northwindair", "northwind airlines"]
handles = ["@NorthwindAir"]
exclude = ["northwind traders"]

[[brands]]
id = "larkspur"
name = "Larkspur Bank"
keywords = ["larkspur bank", "larkspurbank"]
handles = ["@LarkspurBank"]
exclude = ["larkspur flowers"]

[[brands]]
id = "kettlebrook"
name = "Kettlebrook Coffee"
keywords = ["kettlebrook", "kettlebrook coffee"]
handles = ["@Kettlebrook"]

[[sources]]
id = "northwind-import"
brand = "northwind"
schedule = "0 */5 * * * *"
type = "jsonl"
path = {northwind}

[[sources]]
id = "larkspur-import"
brand = "larkspur"
schedule = "0 */5 * * * *"
type = "jsonl"
path = {larkspur}

[[sources]]
id = "kettlebrook-import"
brand = "kettlebrook"
schedule = "0 */5 * * * *"
type = "jsonl"
path = {kettlebrook}

[[templates]]
name = "Apology: sorry for the wait"
text = "Hi {{author}}, I'm sorry you've had to wait, and thank you for your patience. I'm {{agent}} from {{brand}}: I've passed this to the team who can fix it and I'll update you here on {{platform}} as soon as I hear back."

[[templates]]
name = "Apology: follow-up"
text = "Hi {{author}}, {{agent}} from {{brand}} again. I'm sorry this happened, and I wanted to check: is everything sorted for you now? If not, reply here and I'll pick it up straight away."
"#,
        db_url = toml::Value::String(format!("sqlite://{}", db.display())),
        model = quote(model),
        exports = quote(&dir.join("exports")),
        northwind = quote(&dir.join("northwind.jsonl")),
        larkspur = quote(&dir.join("larkspur.jsonl")),
        kettlebrook = quote(&dir.join("kettlebrook.jsonl")),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifting_keeps_spacing_and_leaves_broken_lines_alone() {
        let jsonl = "{\"id\":1,\"created_at\":\"2026-01-01T10:00:00Z\"}\n{broken\n{\"id\":2,\"created_at\":\"2026-01-01T11:00:00Z\"}\n";
        let now = chrono::DateTime::parse_from_rfc3339("2026-06-01T12:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);

        let shifted = shift_to_now(jsonl, now);

        let lines: Vec<&str> = shifted.lines().collect();
        assert!(lines[0].contains("2026-06-01T10:55:00"), "{}", lines[0]);
        assert_eq!(lines[1], "{broken");
        assert!(lines[2].contains("2026-06-01T11:55:00"), "{}", lines[2]);
    }

    #[test]
    fn every_demo_line_goes_to_exactly_one_brand_file() {
        let files = split_by_brand(MENTIONS_JSONL);

        let n_lines: usize = files.iter().map(|(_, lines)| lines.lines().count()).sum();
        assert_eq!(n_lines, MENTIONS_JSONL.lines().count());
        assert!(files.iter().all(|(_, lines)| !lines.is_empty()));
    }

    #[test]
    fn the_bundled_demo_configuration_is_valid() {
        let dir = tempfile::tempdir().unwrap();

        let settings = prepare(dir.path(), "127.0.0.1:0".parse().unwrap()).unwrap();

        assert_eq!(settings.brands.len(), 3);
        assert_eq!(settings.sources.len(), 3);
        let values = crate::domain::template::TemplateValues {
            author: "@jo",
            first_name: "Jo",
            brand: "Northwind Air",
            agent: "ann",
            platform: "x",
        };
        assert_eq!(
            settings.templates.len(),
            2,
            "the demo ships reply templates for every brand"
        );
        let stored = starter_templates(0);
        assert_eq!(stored.len(), 3, "and an apology per brand");
        for brand in &settings.brands {
            assert!(stored.iter().any(|t| t.brand == brand.id && t.apology), "{}", brand.id);
        }
        let texts = settings
            .templates
            .iter()
            .map(|t| t.text.clone())
            .chain(stored.iter().map(|t| {
                crate::domain::template::check_new(&t.name, &t.text).unwrap();
                t.text.clone()
            }));
        for text in texts {
            let text = crate::domain::template::render(&text, &values).unwrap();
            assert!(
                (text.starts_with("Hi @jo,") || text.starts_with("Hi Jo,")) && text.contains("sorry"),
                "apology first: {text}"
            );
            assert!(!text.contains('{'), "every placeholder filled: {text}");
        }
    }
}
