//! `earshot export-bench --rows N [--format F]`: N synthetic mentions in a temporary SQLite
//! file, exported; prints rows/s and peak memory (`tools::export_bench`).

use std::process::ExitCode;

use anyhow::Context;

use crate::app::open_store;
use crate::exports::ExportFormat;
use crate::exports::progress::ProgressMeter;
use crate::tools::export_bench;

#[derive(Debug, clap::Args)]
pub struct ExportBenchArgs {
    #[arg(long, default_value_t = 1_000_000)]
    rows: u64,
    /// Format of the exported posts: csv, json or parquet.
    #[arg(long, default_value = "csv")]
    format: ExportFormat,
}

pub(super) async fn run(args: ExportBenchArgs) -> anyhow::Result<ExitCode> {
    let dir = tempfile::Builder::new().prefix("earshot-export-bench-").tempdir()?;
    let settings = export_bench::bench_settings(dir.path())?;
    let store = open_store(&settings).await?;
    say!(
        "Generating {} synthetic mentions in {} …",
        args.rows,
        dir.path().display()
    );
    let meter = ProgressMeter::for_stderr();
    let report = export_bench::run(store, &settings, args.rows, args.format, &|n_rows| meter.report(n_rows)).await;
    meter.finish();
    let report = report.context("export benchmark failed")?;
    say!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}
