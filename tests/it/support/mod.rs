//! Test helpers: a temporary folder with a SQLite file, JSONL sources and a config.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use earshot::config::{Settings, from_toml};
use earshot::pipeline::Pipeline;
use earshot::scoring::ScoringService;
use earshot::scoring::lexicon::LexiconScorer;

/// The PostgreSQL server every test machine runs (trust auth); each test gets a database of
/// its own on it, dropped when the test ends.
const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// One brand (`acme`) with two JSONL sources, in a fresh temporary folder, on a fresh
/// SQLite file or a fresh PostgreSQL database.
pub(crate) struct TestEnv {
    pub(crate) dir: tempfile::TempDir,
    postgres_db: Option<String>,
}

impl TestEnv {
    /// On a SQLite file in the temporary folder.
    pub(crate) fn new() -> TestEnv {
        let env = TestEnv {
            dir: tempfile::tempdir().expect("temp dir"),
            postgres_db: None,
        };
        std::fs::write(env.feed("acme-feed"), "").unwrap();
        std::fs::write(env.feed("acme-other"), "").unwrap();
        env
    }

    /// On a new, empty PostgreSQL database.
    pub(crate) async fn postgres() -> TestEnv {
        use sqlx::Connection;
        let name = format!("earshot_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = sqlx::PgConnection::connect(POSTGRES_ADMIN_URL)
            .await
            .expect("the local PostgreSQL server on 127.0.0.1:5432 (scripts/setup-test-services.sh starts it)");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        let mut env = TestEnv::new();
        env.postgres_db = Some(name);
        env
    }

    pub(crate) fn database_url(&self) -> String {
        match &self.postgres_db {
            Some(name) => format!("postgres://postgres@127.0.0.1:5432/{name}"),
            None => format!("sqlite://{}", self.db_path().display()),
        }
    }

    /// The first column of the first row of `sql`, read directly from the database.
    /// How many mentions' `assessed` flag disagrees with whether an assessment exists (the
    /// flag is what the scoring claim reads; migration 0009). Always 0.
    pub(crate) async fn assessed_flag_disagreements(&self) -> i64 {
        self.scalar_of(
            "SELECT COUNT(*) FROM mentions m
             WHERE m.assessed <> (SELECT COUNT(*) FROM assessments a WHERE a.mention_id = m.id)",
        )
        .await
    }

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
url = "{db}"
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
            db = self.database_url(),
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

/// One integer from a query, on either backend.
pub(crate) async fn scalar_any(pool: &sqlx::AnyPool, sql: &str) -> i64 {
    sqlx::query_scalar::<_, i64>(sql)
        .fetch_one(pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Runs each named `async fn(TestEnv)` twice: on a SQLite file and on a PostgreSQL database.
macro_rules! on_both_backends {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $check() {
                super::$check($crate::support::TestEnv::new()).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $check() {
                super::$check($crate::support::TestEnv::postgres().await).await
            })*
        }
    };
}
pub(crate) use on_both_backends;

impl Drop for TestEnv {
    fn drop(&mut self) {
        let Some(name) = self.postgres_db.take() else {
            return;
        };
        // Drop is synchronous; drop the database from a thread with its own small runtime.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                use sqlx::Connection;
                let mut admin = sqlx::PgConnection::connect(POSTGRES_ADMIN_URL).await?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                Ok::<(), sqlx::Error>(())
            })
        })
        .join();
        // A database left behind is harmless (names are unique) but worth seeing in the log.
        if let Ok(Err(error)) = dropped {
            tracing::warn!(error = %error, "Could not drop the test database.");
        }
    }
}

/// Creates a machine token for API tests (the API needs a session or a token) and returns
/// the `authorization` header value for it (one token per role: names are unique).
pub(crate) async fn api_bearer(store: &std::sync::Arc<dyn earshot::store::Store>, role: earshot::auth::Role) -> String {
    let token = earshot::auth::new_token();
    store
        .create_api_token(
            &earshot::auth::token_hash(&token),
            &format!("tests-{}", role.as_str()),
            role,
            earshot::domain::now_millis(),
        )
        .await
        .expect("create an API token");
    format!("Bearer {token}")
}
