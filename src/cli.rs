//! The command line: one subcommand per job, each a thin call into the library.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::{App, open_store, shutdown_signal};
use crate::config::{self, ConfigError, Settings};
use crate::domain::SourceId;
use crate::scheduler::Scheduler;
use crate::telemetry::LogFormat;

/// Prints a line of command output to stdout (logs go to stderr).
macro_rules! say {
    ($($arg:tt)*) => {{
        #[allow(clippy::print_stdout, reason = "command output is the point of the CLI")]
        {
            println!($($arg)*);
        }
    }};
}

/// earshot: hear every complaint about your brand, answer the ones that matter first.
#[derive(Debug, Parser)]
#[command(name = "earshot", version, about)]
pub struct Cli {
    /// Configuration file (TOML).
    #[arg(long, short, global = true, env = "EARSHOT_CONFIG", default_value = "earshot.toml")]
    pub config: PathBuf,
    /// Log line format on stderr.
    #[arg(long, global = true, value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the service: scheduled polls, scoring, the web queue.
    Serve,
    /// Run the whole service on bundled sample data, with no config to write.
    Demo {
        /// Address for the web queue; if the port is taken, a free one is used.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Keep the demo database and files here instead of a temporary folder.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Check the configuration and list every problem found.
    CheckConfig,
    /// Print the effective configuration with secrets redacted.
    PrintConfig,
    /// Poll one source: once (`--once`) or on its schedule until stopped.
    Poll {
        #[arg(long)]
        source: String,
        #[arg(long)]
        once: bool,
    },
    /// Score and assess every stored mention that is not assessed yet.
    Score,
    /// Write one week's export (posts, daily summary, summary JSON, chart) now.
    Export {
        /// ISO week in the configured time zone, e.g. 2026-W47.
        #[arg(long)]
        week: String,
        /// Only this brand (default: all brands).
        #[arg(long)]
        brand: Option<String>,
        /// Posts file format: csv or json (JSON Lines). parquet is not built in.
        #[arg(long, default_value = "csv")]
        format: String,
    },
    /// Benchmark: N synthetic mentions in a temporary SQLite file, exported; prints rows/s
    /// and peak memory.
    ExportBench {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
    },
}

/// Runs a parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::CheckConfig => check_config(&cli.config),
        Command::PrintConfig => {
            let settings = load(&cli.config)?;
            say!(
                "{}",
                settings
                    .to_redacted_toml()
                    .context("failed to print the configuration")?
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let settings = load(&cli.config)?;
            open_store(&settings).await?;
            say!("Database {} is up to date.", config::redact_url(&settings.database.url));
            Ok(ExitCode::SUCCESS)
        }
        Command::Serve => {
            let settings = load(&cli.config)?;
            let bind = settings.http.bind;
            let app = App::build(settings).await?;
            let listener = TcpListener::bind(bind)
                .await
                .with_context(|| format!("failed to listen on {bind}"))?;
            say!("earshot is listening on http://{}/", listener.local_addr()?);
            run_until_signal(app, listener).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { bind, data_dir } => demo(bind, data_dir).await,
        Command::Poll { source, once } => poll(&cli.config, &source, once).await,
        Command::Score => {
            let app = App::build(load(&cli.config)?).await?;
            let report = app.pipeline.score_pending().await?;
            say!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { week, brand, format } => export(&cli.config, &week, brand.as_deref(), &format).await,
        Command::ExportBench { rows } => export_bench(rows).await,
    }
}

/// Writes `Exported N rows` over itself on stderr, when stderr is a terminal.
fn terminal_progress() -> Option<impl Fn(u64) + Send + Sync> {
    use std::io::{IsTerminal, Write};
    std::io::stderr().is_terminal().then_some(|n_rows: u64| {
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "\rExported {n_rows} rows");
        let _ = stderr.flush();
    })
}

fn end_progress() {
    use std::io::{IsTerminal, Write};
    if std::io::stderr().is_terminal() {
        let _ = writeln!(std::io::stderr().lock());
    }
}

async fn export(
    config_path: &std::path::Path,
    week: &str,
    brand: Option<&str>,
    format: &str,
) -> anyhow::Result<ExitCode> {
    use crate::exports::{ExportFormat, ExportRequest, Exporter, week::IsoWeek};
    let settings = load(config_path)?;
    let week: IsoWeek = week.parse()?;
    let format: ExportFormat = format.parse()?;
    let brand = brand
        .map(|b| {
            let id = crate::domain::BrandId::parse(b)?;
            anyhow::ensure!(settings.brand(&id).is_some(), "no brand {b:?} in the configuration");
            Ok(id)
        })
        .transpose()?;
    let store = open_store(&settings).await?;
    let exporter = Exporter::new(store, &settings.exports)?;
    let request = ExportRequest {
        week,
        brand,
        format,
        trigger: crate::store::ExportTrigger::Manual,
    };
    let progress = terminal_progress();
    let outcome = match &progress {
        Some(report) => exporter.export_week(&request, report).await,
        None => exporter.export_week(&request, &|_| {}).await,
    };
    end_progress();
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

async fn export_bench(rows: u64) -> anyhow::Result<ExitCode> {
    let dir = tempfile::Builder::new().prefix("earshot-export-bench-").tempdir()?;
    let settings = crate::exports::bench::bench_settings(dir.path())?;
    let store = open_store(&settings).await?;
    say!("Generating {rows} synthetic mentions in {} …", dir.path().display());
    let progress = terminal_progress();
    let report = match &progress {
        Some(report) => crate::exports::bench::run(store, &settings, rows, report).await,
        None => crate::exports::bench::run(store, &settings, rows, &|_| {}).await,
    };
    end_progress();
    let report = report.context("export benchmark failed")?;
    say!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

fn load(path: &std::path::Path) -> anyhow::Result<Settings> {
    config::load(path).map_err(|error| match &error {
        ConfigError::Read { .. } => anyhow::Error::new(error)
            .context("no configuration: pass --config FILE (see config/example.toml), or try `earshot demo`"),
        ConfigError::Invalid { .. } => anyhow::Error::new(error),
    })
}

fn check_config(path: &std::path::Path) -> anyhow::Result<ExitCode> {
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

async fn poll(config_path: &std::path::Path, source: &str, once: bool) -> anyhow::Result<ExitCode> {
    let settings = load(config_path)?;
    let source_id = SourceId::parse(source)?;
    let schedule = settings
        .source(&source_id)
        .map(|s| s.schedule.clone())
        .with_context(|| format!("no source {source:?} in the configuration"))?;
    let app = App::build(settings).await?;
    let built = app
        .source(&source_id)
        .with_context(|| format!("source {source:?} is disabled"))?;
    if once {
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

async fn run_until_signal(app: App, listener: TcpListener) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        trigger.cancel();
    });
    app.run(listener, shutdown).await
}

async fn demo(bind: SocketAddr, data_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    // A temporary folder lives as long as this function, i.e. until the demo stops.
    let temp = match &data_dir {
        Some(_) => None,
        None => Some(tempfile::Builder::new().prefix("earshot-demo-").tempdir()?),
    };
    let dir = data_dir.unwrap_or_else(|| temp.as_ref().map(|t| t.path().to_owned()).unwrap_or_default());
    let settings = crate::demo::prepare(&dir, bind)?;
    say!("earshot demo: data in {}", dir.display());
    say!(
        "Loading the sentiment model from {} …",
        settings.scoring.model.display()
    );
    let app = App::build(settings).await?;
    for (_, source) in &app.sources {
        let report = app.pipeline.poll_source(source.as_ref()).await?;
        say!(
            "Polled {}: {} posts read, {} new mentions, {} duplicates, {} quarantined, {} skipped (own posts, exclusions, unrelated)",
            report.source,
            report.n_fetched,
            report.n_new,
            report.n_duplicates,
            report.n_quarantined,
            report.n_own_posts + report.n_excluded + report.n_unrelated
        );
    }
    let scored = app.pipeline.score_pending().await?;
    let counts = app.store.counts().await?;
    say!(
        "Scored {} posts ({} left unscored: no model for their language); {} tasks opened, {} follow-ups joined to open tasks.",
        scored.n_scored,
        scored.n_unscored,
        scored.n_tasks_opened,
        scored.n_tasks_joined
    );
    say!(
        "{} mentions, {} active tasks, {} alerts queued, {} items in quarantine.",
        counts.mentions,
        counts.tasks_active,
        counts.alerts_pending,
        counts.quarantined
    );
    let listener = match TcpListener::bind(bind).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(bind = %bind, error = %error, "Address in use; picking a free port.");
            TcpListener::bind(SocketAddr::new(bind.ip(), 0)).await?
        }
    };
    say!("Open the queue: http://{}/  (Ctrl-C to stop)", listener.local_addr()?);
    run_until_signal(app, listener).await?;
    Ok(ExitCode::SUCCESS)
}
