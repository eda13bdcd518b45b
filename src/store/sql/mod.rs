//! `SqlStore`: the `Store` on SQLite or PostgreSQL through sqlx's `Any` driver.
//!
//! The SQL is written once in the dialect both accept: `$N` placeholders,
//! `INSERT … ON CONFLICT … DO NOTHING RETURNING`, `CASE` instead of two-argument MIN/MAX, and
//! casts on aggregates (PostgreSQL's SUM of BIGINT is NUMERIC, which `Any` cannot decode).
//! Write transactions on SQLite start with `BEGIN IMMEDIATE`, so two writers queue on the
//! busy timeout instead of failing when a read lock cannot be upgraded.

pub(super) mod admin;
mod alert_holds;
mod alerts;
mod engagement;
mod exports;
mod ids;
mod ingest;
mod mentions;
mod params;
mod privacy;
mod problems;
mod queue;
mod queue_actions;
mod replies;
mod roles;
mod rows;
mod scoring;
mod templates;

use std::path::Path;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Executor, Transaction};

use super::{Backend, StoreError};
use crate::config::DatabaseSettings;

/// The statuses of active tasks (`TaskStatus::is_active`) as an SQL list, for `status IN …`.
const ACTIVE_TASK_STATUSES: &str = "('open', 'assigned', 'responded')";
/// The statuses of tasks still waiting for their first response, as an SQL list.
const UNANSWERED_TASK_STATUSES: &str = "('open', 'assigned')";

/// SQLite migrations, embedded in the binary.
pub static MIGRATOR_SQLITE: Migrator = sqlx::migrate!("migrations/sqlite");
/// PostgreSQL migrations, embedded in the binary.
pub static MIGRATOR_POSTGRES: Migrator = sqlx::migrate!("migrations/postgres");

/// The store on a SQL database.
#[derive(Clone)]
pub struct SqlStore {
    pool: AnyPool,
    backend: Backend,
}

impl SqlStore {
    /// Opens (creating if needed) the database the settings name.
    pub async fn connect(settings: &DatabaseSettings) -> Result<SqlStore, StoreError> {
        install_default_drivers();
        let backend = if settings.url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        };
        let mut url = settings.url.clone();
        if backend == Backend::Sqlite {
            url = sqlite_url_with_create(&url)?;
        }
        let busy_timeout_ms = settings.busy_timeout_ms;
        let pool = AnyPoolOptions::new()
            .max_connections(settings.max_connections)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute(format!("PRAGMA busy_timeout = {busy_timeout_ms}").as_str())
                            .await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await?;
        if backend == Backend::Sqlite {
            // WAL lets the web queue read while the pipeline writes; it is a property of the
            // file, so setting it once per open is enough.
            pool.execute("PRAGMA journal_mode = WAL").await?;
        }
        Ok(SqlStore { pool, backend })
    }

    /// The pool, for tests that need to look underneath.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    async fn write(&self) -> Result<Transaction<'static, Any>, StoreError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        };
        Ok(tx)
    }
}

/// Adds `mode=rwc` (create if missing) and creates the parent folder of a SQLite file.
fn sqlite_url_with_create(url: &str) -> Result<String, StoreError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let parent = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent.filter(|_| path != ":memory:") {
        std::fs::create_dir_all(parent).map_err(|error| {
            StoreError::Backend(sqlx::Error::Configuration(
                format!("cannot create folder {} for the database: {error}", parent.display()).into(),
            ))
        })?;
    }
    if query.split('&').any(|pair| pair.starts_with("mode=")) {
        return Ok(url.to_owned());
    }
    let separator = if url.contains('?') { "&" } else { "?" };
    Ok(format!("{url}{separator}mode=rwc"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_status_lists_are_the_domain_s() {
        use crate::domain::TaskStatus;
        let list = |statuses: Vec<TaskStatus>| {
            let quoted: Vec<String> = statuses.iter().map(|s| format!("'{}'", s.as_str())).collect();
            format!("({})", quoted.join(", "))
        };
        let active: Vec<TaskStatus> = TaskStatus::ALL.into_iter().filter(|s| s.is_active()).collect();
        assert_eq!(ACTIVE_TASK_STATUSES, list(active));
        // Responded means the first response was given.
        assert_eq!(
            UNANSWERED_TASK_STATUSES,
            list(vec![TaskStatus::Open, TaskStatus::Assigned])
        );
    }

    #[test]
    fn sqlite_urls_get_create_mode_unless_they_set_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("nested/earshot.db");
        let url = format!("sqlite://{}", file.display());

        assert_eq!(sqlite_url_with_create(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(file.parent().unwrap().is_dir(), "the parent folder is created");
        assert_eq!(
            sqlite_url_with_create("sqlite::memory:?cache=shared").unwrap(),
            "sqlite::memory:?cache=shared&mode=rwc"
        );
        assert_eq!(
            sqlite_url_with_create("sqlite://x.db?mode=ro").unwrap(),
            "sqlite://x.db?mode=ro"
        );
    }
}
