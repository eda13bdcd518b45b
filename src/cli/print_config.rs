//! `earshot print-config`: the effective configuration as TOML, secrets redacted.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

pub(super) fn run(config: &Path) -> anyhow::Result<ExitCode> {
    let settings = super::load(config)?;
    say!(
        "{}",
        settings
            .to_redacted_toml()
            .context("failed to print the configuration")?
    );
    Ok(ExitCode::SUCCESS)
}
