//! `ConfigBuilder`: test configs built key by key and rendered as TOML, instead of TOML
//! templates written out in each test. Tests about how particular config text parses
//! (`tests/it/config.rs`) keep their text.

use earshot::config::{Settings, from_toml};

/// One TOML table (a brand, a source, a channel, an inline value), built key by key.
#[derive(Clone, Debug, Default)]
pub(crate) struct Table(toml::Table);

impl Table {
    pub(crate) fn new() -> Table {
        Table::default()
    }

    /// Sets `key` (replacing what it held).
    pub(crate) fn set(mut self, key: &str, value: impl Into<toml::Value>) -> Table {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    /// `other`'s keys set on this table.
    pub(crate) fn merge(mut self, other: Table) -> Table {
        self.0.extend(other.0);
        self
    }
}

impl From<Table> for toml::Value {
    fn from(table: Table) -> toml::Value {
        toml::Value::Table(table.0)
    }
}

/// `[[brands]]`: `id` and `name`, to add keywords, handles, a threshold… to.
pub(crate) fn brand(id: &str, name: &str) -> Table {
    Table::new().set("id", id).set("name", name)
}

/// `[[sources]]`: `id`, `brand` and `type`, to add a schedule and the type's settings to.
pub(crate) fn source(id: &str, brand: &str, kind: &str) -> Table {
    Table::new().set("id", id).set("brand", brand).set("type", kind)
}

/// `[[alerts.channels]]`: `name`, `type` and `url`.
pub(crate) fn channel(name: &str, kind: &str, url: &str) -> Table {
    Table::new().set("name", name).set("type", kind).set("url", url)
}

/// A whole earshot config: `[database]`, `[scoring]`, brands, sources, alert channels and
/// rules, templates, reply accounts and any other section's keys.
#[derive(Clone, Debug, Default)]
pub(crate) struct ConfigBuilder {
    doc: toml::Table,
}

impl ConfigBuilder {
    pub(crate) fn new() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// `[database] url`.
    pub(crate) fn database(self, url: &str) -> ConfigBuilder {
        self.set("database", "url", url)
    }

    /// `[scoring] scorer`.
    pub(crate) fn scorer(self, scorer: &str) -> ConfigBuilder {
        self.set("scoring", "scorer", scorer)
    }

    /// `key` of the section at `path` (`"http"`, `"alerts.spikes"`), replacing what it held.
    pub(crate) fn set(mut self, path: &str, key: &str, value: impl Into<toml::Value>) -> ConfigBuilder {
        section(&mut self.doc, path).insert(key.to_owned(), value.into());
        self
    }

    /// A `[[brands]]` entry.
    pub(crate) fn brand(self, brand: Table) -> ConfigBuilder {
        self.push("brands", brand)
    }

    /// A `[[sources]]` entry.
    pub(crate) fn source(self, source: Table) -> ConfigBuilder {
        self.push("sources", source)
    }

    /// An `[[alerts.channels]]` entry.
    pub(crate) fn channel(self, channel: Table) -> ConfigBuilder {
        self.push("alerts.channels", channel)
    }

    /// An `[[alerts.rules]]` entry.
    pub(crate) fn rule(self, rule: Table) -> ConfigBuilder {
        self.push("alerts.rules", rule)
    }

    /// A `[[templates]]` entry.
    pub(crate) fn template(self, name: &str, text: &str) -> ConfigBuilder {
        self.push("templates", Table::new().set("name", name).set("text", text))
    }

    /// Sets `key` of the brand `id` (which must be there already).
    pub(crate) fn brand_set(mut self, id: &str, key: &str, value: impl Into<toml::Value>) -> ConfigBuilder {
        entry(&mut self.doc, "brands", id).insert(key.to_owned(), value.into());
        self
    }

    /// Sets `key` of the source `id` (which must be there already).
    pub(crate) fn source_set(mut self, id: &str, key: &str, value: impl Into<toml::Value>) -> ConfigBuilder {
        entry(&mut self.doc, "sources", id).insert(key.to_owned(), value.into());
        self
    }

    /// A `[[brands.reply_accounts]]` entry of the brand `id`.
    pub(crate) fn reply_account(mut self, id: &str, account: Table) -> ConfigBuilder {
        push_to(entry(&mut self.doc, "brands", id), "reply_accounts", account);
        self
    }

    /// The config as TOML text.
    pub(crate) fn render(&self) -> String {
        toml::to_string(&self.doc).expect("a TOML table renders")
    }

    /// The config parsed and checked as `earshot` would load it.
    pub(crate) fn settings(&self) -> Settings {
        from_toml(&self.render(), "test config").expect("test config is valid")
    }

    /// What loading the config reports, each problem as `path: message`; none when it is
    /// valid.
    pub(crate) fn problems(&self) -> Vec<String> {
        match from_toml(&self.render(), "test config") {
            Ok(_) => Vec::new(),
            Err(error) => error.problems().iter().map(ToString::to_string).collect(),
        }
    }

    /// The paths of what loading the config reports, sorted; none when it is valid.
    pub(crate) fn problem_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = match from_toml(&self.render(), "test config") {
            Ok(_) => Vec::new(),
            Err(error) => error.problems().iter().map(|p| p.path.clone()).collect(),
        };
        paths.sort();
        paths
    }

    /// Writes the config to `path` (for the `earshot` binary's `--config`).
    pub(crate) fn write(&self, path: &std::path::Path) {
        std::fs::write(path, self.render()).unwrap();
    }

    fn push(mut self, path: &str, entry: Table) -> ConfigBuilder {
        let (parent, key) = path.rsplit_once('.').map_or(("", path), |(p, k)| (p, k));
        let table = if parent.is_empty() {
            &mut self.doc
        } else {
            section(&mut self.doc, parent)
        };
        push_to(table, key, entry);
        self
    }
}

/// The table at the dotted `path`, made where missing.
fn section<'a>(doc: &'a mut toml::Table, path: &str) -> &'a mut toml::Table {
    path.split('.').fold(doc, |table, key| {
        match table
            .entry(key.to_owned())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        {
            toml::Value::Table(inner) => inner,
            other => panic!("{key} is {other}, not a table"),
        }
    })
}

fn push_to(table: &mut toml::Table, key: &str, entry: Table) {
    match table
        .entry(key.to_owned())
        .or_insert_with(|| toml::Value::Array(Vec::new()))
    {
        toml::Value::Array(entries) => entries.push(entry.into()),
        other => panic!("{key} is {other}, not an array of tables"),
    }
}

/// The entry of the array of tables `array` whose `id` is `id`.
fn entry<'a>(doc: &'a mut toml::Table, array: &str, id: &str) -> &'a mut toml::Table {
    let Some(toml::Value::Array(entries)) = doc.get_mut(array) else {
        panic!("no {array} to find {id} in");
    };
    entries
        .iter_mut()
        .filter_map(toml::Value::as_table_mut)
        .find(|entry| entry.get("id").and_then(toml::Value::as_str) == Some(id))
        .unwrap_or_else(|| panic!("no {array} entry {id}"))
}
