//! `earshot score`: scores and assesses everything committed but not assessed yet.

use std::path::Path;
use std::process::ExitCode;

use crate::app::App;

pub(super) async fn run(config: &Path) -> anyhow::Result<ExitCode> {
    let app = App::build(super::load(config)?).await?;
    let report = app.pipeline.score_pending().await?;
    say!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
