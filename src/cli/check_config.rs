//! `earshot check-config`: every problem of the configuration with its path; exit code 2 if
//! there is any.

use std::path::Path;
use std::process::ExitCode;

use crate::config::{self, ConfigError};

pub(super) fn run(path: &Path) -> anyhow::Result<ExitCode> {
    match config::load(path) {
        Ok(settings) => {
            say!(
                "{}: ok ({} brands, {} sources, {} alert channels)",
                path.display(),
                settings.brands.len(),
                settings.sources.len(),
                settings.alerts.channels.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(ConfigError::Invalid { origin, problems }) => {
            say!("{origin}: {} problem(s)", problems.len());
            for problem in problems {
                say!("  {problem}");
            }
            Ok(ExitCode::from(2))
        }
        Err(error) => Err(error.into()),
    }
}
