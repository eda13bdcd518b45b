//! Scratch databases on a PostgreSQL server, for `earshot bench --instances`: created empty
//! under a fresh name and dropped afterwards.

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, ConnectOptions, Connection};

use super::super::StoreError;

/// Creates an empty database named `<prefix>_<random>` on the server `server_url` points at
/// (any database there that the user may connect to) and returns its URL and name.
pub async fn create_scratch_database(server_url: &str, prefix: &str) -> Result<(String, String), StoreError> {
    sqlx::any::install_default_drivers();
    if !prefix.chars().all(|c| c.is_ascii_lowercase() || c == '_') || prefix.is_empty() {
        return Err(StoreError::Conflict(format!(
            "database name prefix {prefix:?} must be lower-case letters and _"
        )));
    }
    let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let mut admin = connect(server_url).await?;
    // The name is ours (checked prefix, hex suffix), so formatting it in is safe.
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok((with_database(server_url, &name)?, name))
}

/// Drops a database made by `create_scratch_database`, closing its connections.
pub async fn drop_scratch_database(server_url: &str, name: &str) -> Result<(), StoreError> {
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(StoreError::Conflict(format!("{name:?} is not a scratch database name")));
    }
    let mut admin = connect(server_url).await?;
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .await?;
    admin.close().await?;
    Ok(())
}

/// A connection for CREATE/DROP DATABASE, which are slow by nature: not logged as slow.
async fn connect(server_url: &str) -> Result<AnyConnection, StoreError> {
    let options: AnyConnectOptions = server_url.parse()?;
    Ok(options.disable_statement_logging().connect().await?)
}

/// `server_url` with its database (the path) replaced by `name`.
fn with_database(server_url: &str, name: &str) -> Result<String, StoreError> {
    let mut url = url::Url::parse(server_url)
        .map_err(|error| StoreError::Conflict(format!("the PostgreSQL URL does not parse: {error}")))?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_in_the_url_is_replaced_and_the_rest_kept() {
        assert_eq!(
            with_database("postgres://u:p@db:5433/postgres?sslmode=disable", "scratch_1").unwrap(),
            "postgres://u:p@db:5433/scratch_1?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://u@db", "scratch_2").unwrap(),
            "postgres://u@db/scratch_2"
        );
    }
}
