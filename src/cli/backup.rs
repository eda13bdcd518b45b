//! `earshot backup --to FILE`: a consistent copy of a SQLite database while the service runs.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use crate::app::open_store;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// The new file to write (it must not exist yet).
    #[arg(long)]
    pub to: PathBuf,
}

pub(super) async fn run(config: &Path, args: BackupArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load(config)?;
    if args.to.exists() {
        anyhow::bail!("{} exists already: back up into a new file", args.to.display());
    }
    let store = open_store(&settings).await?;
    store
        .backup_into(&args.to)
        .await
        .with_context(|| format!("backup into {} failed", args.to.display()))?;
    let bytes = std::fs::metadata(&args.to).map(|m| m.len()).unwrap_or(0);
    say!("Backed up into {} ({bytes} bytes).", args.to.display());
    say!(
        "Restore: stop earshot, replace the database file with this copy (and delete the old file's -wal and -shm files), start earshot."
    );
    Ok(ExitCode::SUCCESS)
}
