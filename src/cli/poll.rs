//! `earshot poll --source ID [--once]`: one poll of one source then scoring, or its schedule
//! until Ctrl-C.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::app::{App, shutdown_signal};
use crate::domain::SourceId;
use crate::scheduler::Scheduler;

#[derive(Debug, clap::Args)]
pub struct PollArgs {
    #[arg(long)]
    source: SourceId,
    #[arg(long)]
    once: bool,
}

pub(super) async fn run(config: &Path, args: PollArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load(config)?;
    let source = args.source.as_str();
    let schedule = settings
        .source(&args.source)
        .map(|s| s.schedule.clone())
        .with_context(|| format!("no source {source:?} in the configuration"))?;
    let app = App::build(settings).await?;
    let built = app
        .source(&args.source)
        .with_context(|| format!("source {source:?} is disabled or a push source (not polled)"))?;
    if args.once {
        let poll_report = app.pipeline.poll_source(built.as_ref()).await?;
        let score_report = app.pipeline.score_pending().await?;
        say!(
            "{}",
            serde_json::json!({ "poll": poll_report, "scoring": score_report })
        );
        return Ok(ExitCode::SUCCESS);
    }
    let scheduler = Scheduler::start(app.pipeline.clone(), vec![(built, schedule.clone())], Vec::new()).await?;
    say!("Polling {source} on {schedule:?}; Ctrl-C to stop.");
    shutdown_signal().await;
    scheduler.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
