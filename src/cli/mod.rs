//! The command line: `Cli` and its `Command`s, one file per command, each a thin call into
//! the library that prints the outcome.
//!
//! Arguments are parsed into their types by clap (`IsoWeek`, `ExportFormat`, `Role`,
//! `ScorerKind`, `BrandId`, `SourceId`), so a bad value is a usage error before anything
//! runs. Adding a command: a file here with its `Args` and `run`, a `Command` variant and
//! its arm in `run`.
//!
//! Invariant: no business logic here; command output goes to stdout through `say!`, logs go
//! to stderr.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::{App, shutdown_signal};
use crate::config::{self, ConfigError, Precision, ScorerKind, ScoringSettings, Settings};
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

mod accounts_test;
mod alerts_test;
mod backup;
mod bench;
mod bench_instances;
mod check_config;
mod demo;
mod eval;
mod export;
mod export_bench;
mod ingest_bench;
mod match_bench;
mod migrate;
mod model_pull;
mod model_train;
mod poll;
mod print_config;
mod privacy;
mod problems_eval;
mod replies_send;
mod score;
mod serve;
mod sources_test;
mod token_add;
mod user_add;

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
    Demo(demo::DemoArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Copy a SQLite database into a new file while the service runs (PostgreSQL: pg_dump).
    Backup(backup::BackupArgs),
    /// Check the configuration and list every problem found.
    CheckConfig,
    /// Print the effective configuration with secrets redacted.
    PrintConfig,
    /// Poll one source: once (`--once`) or on its schedule until stopped.
    Poll(poll::PollArgs),
    /// Score and assess every stored mention that is not assessed yet.
    Score,
    /// Users of the web queue.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// API tokens for machines.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// Score a labelled dataset; print complaint metrics (if labelled) and sentiment metrics.
    Eval(eval::EvalArgs),
    /// Benchmark scoring alone and the whole pipeline on generated posts.
    Bench(bench::BenchArgs),
    /// Benchmark pipeline throughput with several instances (`earshot serve` child processes)
    /// on a fresh PostgreSQL database.
    BenchInstances(bench_instances::BenchInstancesArgs),
    /// Get or make sentiment models: pull from a Hugging Face hub, or fine-tune.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Work with the configured sources.
    Sources {
        #[command(subcommand)]
        command: SourcesCommand,
    },
    /// Personal data: erase one author's, or apply the retention window now.
    Privacy {
        #[command(subcommand)]
        command: PrivacyCommand,
    },
    /// The brands' reply accounts.
    Accounts {
        #[command(subcommand)]
        command: AccountsCommand,
    },
    /// Replies sent from earshot.
    Replies {
        #[command(subcommand)]
        command: RepliesCommand,
    },
    /// Alert channels.
    Alerts {
        #[command(subcommand)]
        command: AlertsCommand,
    },
    /// Recurring problems (complaints grouped by cause).
    Problems {
        #[command(subcommand)]
        command: ProblemsCommand,
    },
    /// Write one week's export (posts, daily summary, summary JSON, chart SVG and PNG) now.
    Export(export::ExportArgs),
    /// Benchmark: N synthetic mentions in a temporary SQLite file, exported; prints rows/s
    /// and peak memory.
    ExportBench(export_bench::ExportBenchArgs),
    /// Benchmark: posts/s of brand matching, many brands' keywords at once.
    MatchBench(match_bench::MatchBenchArgs),
    /// Benchmark: the push endpoint under concurrent clients (posts/s, p99, RSS), and every
    /// accepted post stored exactly once, optionally across a kill -9.
    IngestBench(ingest_bench::IngestBenchArgs),
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password comes from EARSHOT_NEW_USER_PASSWORD or stdin.
    Add(user_add::UserAddArgs),
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it once.
    Add(token_add::TokenAddArgs),
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Download a sequence-classification model (safetensors only) into `models/<org>--<name>/`.
    Pull(model_pull::PullArgs),
    /// Retrain the shipped recipe on the shared data plus the reviewed examples; val scores before and after.
    Train(model_train::TrainArgs),
}

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Poll one source once against its configured API and print what would be ingested,
    /// writing nothing (the stored cursor is used if the database exists).
    Test(sources_test::SourcesTestArgs),
}

#[derive(Debug, Subcommand)]
pub enum PrivacyCommand {
    /// Erase what identifies one author (posts' text, handle, links; tasks' texts; examples),
    /// keeping counts; logged without the handle.
    Erase(privacy::EraseArgs),
    /// Delete posts past `[privacy] retain_days` that no task holds, now.
    Expire,
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Check a reply account's credentials with a harmless read call and print who earshot
    /// posts as; nothing is posted.
    Test(accounts_test::AccountsTestArgs),
}

#[derive(Debug, Subcommand)]
pub enum RepliesCommand {
    /// Send the queued replies that are due now (what `serve` does every two seconds), then
    /// exit.
    Send,
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Send a sample alert to one channel now (not through the outbox) and print the outcome.
    Test(alerts_test::AlertsTestArgs),
}

#[derive(Debug, Subcommand)]
pub enum ProblemsCommand {
    /// Group posts with a reference category as the live system would and print how well the
    /// groups recover the categories (nmi, purity, ari, groups).
    Eval(problems_eval::ProblemsEvalArgs),
}

/// Runs a parsed command.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = cli.config.as_path();
    match cli.command {
        Command::Serve => serve::run(config).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Migrate => migrate::run(config).await,
        Command::Backup(args) => backup::run(config, args).await,
        Command::CheckConfig => check_config::run(config),
        Command::PrintConfig => print_config::run(config),
        Command::Poll(args) => poll::run(config, args).await,
        Command::Score => score::run(config).await,
        Command::User {
            command: UserCommand::Add(args),
        } => user_add::run(config, args).await,
        Command::Token {
            command: TokenCommand::Add(args),
        } => token_add::run(config, args).await,
        Command::Eval(args) => eval::run(config, args).await,
        Command::Bench(args) => bench::run(config, args).await,
        Command::BenchInstances(args) => bench_instances::run(config, args).await,
        Command::Model {
            command: ModelCommand::Pull(args),
        } => model_pull::run(args).await,
        Command::Model {
            command: ModelCommand::Train(args),
        } => model_train::run(config, args).await,
        Command::Sources {
            command: SourcesCommand::Test(args),
        } => sources_test::run(config, args).await,
        Command::Alerts {
            command: AlertsCommand::Test(args),
        } => alerts_test::run(config, args).await,
        Command::Privacy {
            command: PrivacyCommand::Erase(args),
        } => privacy::erase(config, args).await,
        Command::Privacy {
            command: PrivacyCommand::Expire,
        } => privacy::expire(config).await,
        Command::Accounts {
            command: AccountsCommand::Test(args),
        } => accounts_test::run(config, args).await,
        Command::Replies {
            command: RepliesCommand::Send,
        } => replies_send::run(config).await,
        Command::Problems {
            command: ProblemsCommand::Eval(args),
        } => problems_eval::run(config, args).await,
        Command::Export(args) => export::run(config, args).await,
        Command::ExportBench(args) => export_bench::run(args).await,
        Command::MatchBench(args) => match_bench::run(args),
        Command::IngestBench(args) => ingest_bench::run(args).await,
    }
}

/// Loads the configuration; a missing file points at `--config` and the demo.
fn load(path: &Path) -> anyhow::Result<Settings> {
    config::load(path).map_err(|error| match &error {
        ConfigError::Read { .. } => anyhow::Error::new(error)
            .context("no configuration: pass --config FILE (see config/example.toml), or try `earshot demo`"),
        ConfigError::Invalid { .. } => anyhow::Error::new(error),
    })
}

/// The config's scoring settings and first brand threshold when the config file exists;
/// otherwise the defaults with the shipped model. `scorer`, `model` and `precision` override
/// them.
fn scoring_settings(
    config_path: &Path,
    scorer: Option<ScorerKind>,
    model: Option<PathBuf>,
    precision: Option<Precision>,
) -> anyhow::Result<(ScoringSettings, Option<f32>)> {
    let (mut scoring, threshold) = if config_path.is_file() {
        let settings = load(config_path)?;
        let threshold = settings.brands.first().map(|b| b.threshold);
        (settings.scoring, threshold)
    } else {
        let scoring = ScoringSettings {
            model: crate::demo::shipped_model_dir(),
            ..ScoringSettings::default()
        };
        (scoring, None)
    };
    if let Some(scorer) = scorer {
        scoring.scorer = scorer;
    }
    if let Some(model) = model {
        scoring.model = model;
        scoring.multilingual_model = None;
    }
    if precision.is_some() {
        scoring.precision = precision;
    }
    Ok((scoring, threshold))
}

/// Serves `app` on `listener` until SIGINT or SIGTERM, then shuts down gracefully.
async fn run_until_signal(app: App, listener: TcpListener) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    let trigger = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        trigger.cancel();
    });
    app.run(listener, shutdown).await
}

/// The build profile, for benchmark headers.
fn profile() -> &'static str {
    if cfg!(debug_assertions) { "debug" } else { "release" }
}
