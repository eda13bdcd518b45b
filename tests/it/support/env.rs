//! `TestEnv`: a temporary folder with two JSONL feeds and a fresh database (a SQLite file in
//! the folder, or a PostgreSQL database of its own, dropped when the test ends), the
//! standard config over them, and the loopback servers the test asks for (`loopback`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use earshot::config::Settings;
use earshot::domain::SourceId;
use earshot::pipeline::{Pipeline, ScoreReport};
use earshot::scoring::ScoringService;
use earshot::scoring::lexicon::LexiconScorer;
use earshot::sources::jsonl::JsonlSource;

use super::config::{ConfigBuilder, Table, brand, source};
use super::loopback::Loopback;

/// The PostgreSQL server every test machine runs (trust auth); each test gets a database of
/// its own on it, dropped when the test ends.
const POSTGRES_SERVER_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// One brand (`acme`) with two JSONL sources, in a fresh temporary folder, on a fresh
/// SQLite file or a fresh PostgreSQL database.
pub(crate) struct TestEnv {
    pub(crate) dir: tempfile::TempDir,
    /// The scratch database's URL and name, on PostgreSQL.
    postgres_db: Option<(String, String)>,
    /// The loopback chat service and platform API, started when the test first asks.
    pub(super) loopback: Loopback,
}

impl TestEnv {
    /// On a SQLite file in the temporary folder.
    pub(crate) fn new() -> TestEnv {
        let env = TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
            postgres_db: None,
            loopback: Loopback::default(),
        };
        std::fs::write(env.feed("acme-feed"), "").unwrap();
        std::fs::write(env.feed("acme-other"), "").unwrap();
        env
    }

    /// On a new, empty PostgreSQL database (earshot's own scratch-database helpers, as
    /// `bench-instances` uses them).
    pub(crate) async fn postgres() -> TestEnv {
        let scratch = earshot::store::create_scratch_database(POSTGRES_SERVER_URL, "earshot_test")
            .await
            .expect("the local PostgreSQL server on 127.0.0.1:5432 (scripts/setup-test-services.sh starts it)");
        let mut env = TestEnv::new();
        env.postgres_db = Some(scratch);
        env
    }

    pub(crate) fn database_url(&self) -> String {
        match &self.postgres_db {
            Some((url, _)) => url.clone(),
            None => format!("sqlite://{}", self.db_path().display()),
        }
    }

    /// How many mentions' `assessed` flag disagrees with whether an assessment exists (the
    /// flag is what the scoring claim reads; migration 0009). Always 0.
    pub(crate) async fn assessed_flag_disagreements(&self) -> i64 {
        self.scalar_of(
            "SELECT COUNT(*) FROM mentions m
             WHERE m.assessed <> (SELECT COUNT(*) FROM assessments a WHERE a.mention_id = m.id)",
        )
        .await
    }

    /// The first column of the first row of `sql`, read directly from the database.
    pub(crate) async fn scalar_of(&self, sql: &str) -> i64 {
        scalar_any(&self.raw().await, sql).await
    }

    /// A connection that reads the database directly, not through earshot's store.
    pub(crate) async fn raw(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.database_url())
            .await
            .expect("open the test database")
    }

    /// `"postgres"` or `"sqlite"`.
    pub(crate) fn backend(&self) -> &'static str {
        if self.postgres_db.is_some() {
            "postgres"
        } else {
            "sqlite"
        }
    }

    /// The database as an earlier earshot left it: migrated up to, not including, migration
    /// `version`. Returns a direct connection and how many migrations ran.
    pub(crate) async fn migrated_before(&self, version: i64) -> (sqlx::AnyPool, usize) {
        let dir = format!("migrations/{}", self.backend());
        let before = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.as_str() < format!("{version:04}").as_str() {
                std::fs::copy(&path, before.path().join(&name)).unwrap();
            }
        }
        let migrator = sqlx::migrate::Migrator::new(before.path()).await.unwrap();
        assert!(migrator.iter().all(|m| m.version < version));
        if self.postgres_db.is_none() {
            std::fs::File::create(self.db_path()).unwrap();
        }
        let raw = self.raw().await;
        migrator.run(&raw).await.unwrap();
        (raw, migrator.iter().count())
    }

    /// Runs each statement directly on the database, naming the one that fails.
    pub(crate) async fn execute_all(&self, raw: &sqlx::AnyPool, statements: &[&str]) {
        for statement in statements {
            sqlx::query(statement)
                .execute(raw)
                .await
                .unwrap_or_else(|e| panic!("{}: {statement}: {e}", self.backend()));
        }
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

    /// The config used by most tests, to add to: lexicon scorer (fast), brand `acme` at
    /// threshold 40, feeds `acme-feed` (three lines a poll) and `acme-other`.
    pub(crate) fn config(&self) -> ConfigBuilder {
        ConfigBuilder::new()
            .database(&self.database_url())
            .set("database", "busy_timeout_ms", 300)
            .scorer("lexicon")
            .brand(
                brand("acme", "Acme Air")
                    .set("keywords", vec!["acme air", "acmeair"])
                    .set("handles", vec!["@AcmeAir"])
                    .set("exclude", vec!["acme anvils"])
                    .set("threshold", 40),
            )
            .source(jsonl(self, "acme-feed").set("batch_lines", 3))
            .source(jsonl(self, "acme-other"))
    }

    /// The standard config's text.
    pub(crate) fn config_toml(&self) -> String {
        self.config().render()
    }

    pub(crate) fn write_config(&self) -> PathBuf {
        let path = self.dir.path().join("earshot.toml");
        std::fs::write(&path, self.config_toml()).unwrap();
        path
    }

    pub(crate) fn settings(&self) -> Settings {
        self.config().settings()
    }

    /// Opens the store (migrated, config mirrored) and a pipeline with the lexicon scorer.
    pub(crate) async fn pipeline(&self) -> Arc<Pipeline> {
        pipeline_for(self.settings()).await
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

/// A JSONL source of brand `acme` reading the env's feed named `id`, every five minutes.
fn jsonl(env: &TestEnv, id: &str) -> Table {
    source(id, "acme", "jsonl")
        .set("schedule", "0 */5 * * * *")
        .set("path", env.feed(id).display().to_string())
}

/// Opens the store for `settings` (migrated, config mirrored) and a pipeline on it with the
/// lexicon scorer.
pub(crate) async fn pipeline_for(settings: Settings) -> Arc<Pipeline> {
    let settings = Arc::new(settings);
    let store = earshot::app::open_store(&settings).await.expect("store opens");
    let scoring = ScoringService::start(Box::new(LexiconScorer), 2, 8);
    Arc::new(Pipeline::new(store, scoring, settings))
}

/// Polls the `acme-feed` source `polls` times through `pipeline` (three lines a poll), then
/// scores what was read.
pub(crate) async fn poll_feed(pipeline: &Pipeline, polls: usize) -> ScoreReport {
    let settings = pipeline.settings();
    let source = settings.source(&SourceId::parse("acme-feed").unwrap()).unwrap();
    let earshot::sources::SourceKind::Jsonl(jsonl) = &source.kind else {
        panic!("the test config's acme-feed is a jsonl source");
    };
    let feed = JsonlSource::new(source.id.clone(), jsonl.clone());
    for _ in 0..polls {
        pipeline.poll_source(&feed).await.unwrap();
    }
    pipeline.score_pending().await.unwrap()
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

/// One integer from a query, on either backend.
pub(crate) async fn scalar_any(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        let Some((_, name)) = self.postgres_db.take() else {
            return;
        };
        // Drop is synchronous; drop the database from a thread with its own small runtime.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(earshot::store::drop_scratch_database(POSTGRES_SERVER_URL, &name))
        })
        .join();
        // A database left behind is harmless (names are unique) but worth seeing in the log.
        if let Ok(Err(error)) = dropped {
            tracing::warn!(error = %error, "Could not drop the test database.");
        }
    }
}
