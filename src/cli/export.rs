//! `earshot export --week 2026-W47 [--brand B] [--format F]`: one week's export now,
//! recorded as a manual run.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::app::open_store;
use crate::domain::BrandId;
use crate::exports::progress::ProgressMeter;
use crate::exports::week::IsoWeek;
use crate::exports::{ExportFormat, ExportRequest, Exporter};
use crate::store::ExportTrigger;

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// ISO week in the configured time zone, e.g. 2026-W47.
    #[arg(long)]
    week: IsoWeek,
    /// Only this brand (default: all brands).
    #[arg(long)]
    brand: Option<BrandId>,
    /// Posts file format: csv, json (JSON Lines) or parquet.
    #[arg(long, default_value = "csv")]
    format: ExportFormat,
}

pub(super) async fn run(config_path: &Path, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load(config_path)?;
    let week = args.week;
    if let Some(brand) = &args.brand {
        anyhow::ensure!(
            settings.brand(brand).is_some(),
            "no brand {:?} in the configuration",
            brand.as_str()
        );
    }
    let store = open_store(&settings).await?;
    let exporter = Exporter::new(store, &settings.exports)?.with_problem_min_complaints(settings.problems.min_members);
    let request = ExportRequest {
        week,
        brand: args.brand,
        format: args.format,
        trigger: ExportTrigger::Manual,
    };
    let meter = ProgressMeter::for_stderr();
    let outcome = exporter.export_week(&request, &|n_rows| meter.report(n_rows)).await;
    meter.finish();
    let outcome = outcome
        .with_context(|| format!("failed to export {week}"))?
        .context("a manual export is always recorded")?;
    say!(
        "Exported {} rows of {} ({}) into {}:",
        outcome.n_rows,
        outcome.week,
        outcome.scope,
        exporter.dir().display()
    );
    for file in &outcome.files {
        say!("  {file}");
    }
    Ok(ExitCode::SUCCESS)
}
