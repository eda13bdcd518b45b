//! Test helpers: a temporary folder with a SQLite file, JSONL sources and a config.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use earshot::config::{Settings, from_toml};
use earshot::pipeline::Pipeline;
use earshot::scoring::ScoringService;
use earshot::scoring::lexicon::LexiconScorer;

/// One brand (`acme`) with two JSONL sources, in a fresh temporary folder.
pub(crate) struct TestEnv {
    pub(crate) dir: tempfile::TempDir,
}

impl TestEnv {
    pub(crate) fn new() -> TestEnv {
        let env = TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        std::fs::write(env.feed("acme-feed"), "").unwrap();
        std::fs::write(env.feed("acme-other"), "").unwrap();
        env
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    pub(crate) fn feed(&self, source: &str) -> PathBuf {
        self.dir.path().join(format!("{source}.jsonl"))
    }

    pub(crate) fn db_path(&self) -> PathBuf {
        self.dir.path().join("earshot.db")
    }

    /// The config used by most tests: lexicon scorer (fast), threshold 40.
    pub(crate) fn config_toml(&self) -> String {
        format!(
            r#"
[database]
url = "sqlite://{db}"
busy_timeout_ms = 300

[scoring]
scorer = "lexicon"

[[brands]]
id = "acme"
name = "Acme Air"
keywords = ["acme air", "acmeair"]
handles = ["@AcmeAir"]
exclude = ["acme anvils"]
threshold = 40

[[sources]]
id = "acme-feed"
brand = "acme"
schedule = "0 */5 * * * *"
type = "jsonl"
path = "{feed}"
batch_lines = 3

[[sources]]
id = "acme-other"
brand = "acme"
schedule = "0 */5 * * * *"
type = "jsonl"
path = "{other}"
"#,
            db = self.db_path().display(),
            feed = self.feed("acme-feed").display(),
            other = self.feed("acme-other").display(),
        )
    }

    pub(crate) fn write_config(&self) -> PathBuf {
        let path = self.dir.path().join("earshot.toml");
        std::fs::write(&path, self.config_toml()).unwrap();
        path
    }

    pub(crate) fn settings(&self) -> Settings {
        from_toml(&self.config_toml(), "test config").expect("test config is valid")
    }

    /// Opens the store (migrated, config mirrored) and a pipeline with the lexicon scorer.
    pub(crate) async fn pipeline(&self) -> Arc<Pipeline> {
        let settings = Arc::new(self.settings());
        let store = earshot::app::open_store(&settings).await.expect("store opens");
        let scoring = ScoringService::start(Box::new(LexiconScorer), 2, 8);
        Arc::new(Pipeline::new(store, scoring, settings))
    }

    pub(crate) fn append(&self, source: &str, lines: &[String]) {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(self.feed(source))
            .unwrap();
        for line in lines {
            writeln!(file, "{line}").unwrap();
        }
    }
}

/// A JSONL import line for `acme`.
pub(crate) fn line(id: &str, author: &str, text: &str) -> String {
    serde_json::json!({
        "platform": "x",
        "id": id,
        "author": author,
        "text": text,
        "created_at": chrono::Utc::now().to_rfc3339(),
        "url": format!("https://x.com/{}/status/{id}", author.trim_start_matches('@')),
    })
    .to_string()
}

/// Opens the SQLite file directly (not through earshot) for assertions.
pub(crate) async fn raw_sqlite(path: &Path) -> sqlx::SqlitePool {
    let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path).read_only(true);
    sqlx::SqlitePool::connect_with(options)
        .await
        .expect("open sqlite read-only")
}

pub(crate) async fn scalar(pool: &sqlx::SqlitePool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}
