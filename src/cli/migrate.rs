//! `earshot migrate`: applies the database migrations (they also run at every start).

use std::path::Path;
use std::process::ExitCode;

use crate::app::open_store;
use crate::config;

pub(super) async fn run(config: &Path) -> anyhow::Result<ExitCode> {
    let settings = super::load(config)?;
    open_store(&settings).await?;
    say!("Database {} is up to date.", config::redact_url(&settings.database.url));
    Ok(ExitCode::SUCCESS)
}
