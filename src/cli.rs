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
    /// Score a labelled dataset; print sentiment metrics (and complaint detection if labelled).
    Eval(EvalArgs),
    /// Benchmark scoring alone and the whole pipeline on generated posts.
    Bench {
        /// How many synthetic posts.
        #[arg(long, default_value_t = 2000)]
        posts: usize,
        /// Posts per model batch; default: the config's, else 32.
        #[arg(long)]
        batch_size: Option<usize>,
        /// Also write the generated posts here as JSONL (for `scripts/python_peer_bench.py`).
        #[arg(long)]
        write_posts: Option<PathBuf>,
        /// Generator seed.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Several-instances mode: compare pipeline throughput with these instance counts
        /// (e.g. `1,3`), each `earshot serve` a child process on a fresh PostgreSQL database.
        #[arg(long, value_delimiter = ',', requires = "database", conflicts_with = "write_posts")]
        instances: Option<Vec<usize>>,
        /// PostgreSQL server for `--instances` (scratch databases are created and dropped).
        #[arg(long)]
        database: Option<String>,
        /// Scorer for `--instances`: model (default) or lexicon.
        #[arg(long)]
        scorer: Option<String>,
    },
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
    /// Alert channels.
    Alerts {
        #[command(subcommand)]
        command: AlertsCommand,
    },
    /// Write one week's export (posts, daily summary, summary JSON, chart SVG and PNG) now.
    Export {
        /// ISO week in the configured time zone, e.g. 2026-W47.
        #[arg(long)]
        week: String,
        /// Only this brand (default: all brands).
        #[arg(long)]
        brand: Option<String>,
        /// Posts file format: csv, json (JSON Lines) or parquet.
        #[arg(long, default_value = "csv")]
        format: String,
    },
    /// Benchmark: N synthetic mentions in a temporary SQLite file, exported; prints rows/s
    /// and peak memory.
    ExportBench {
        #[arg(long, default_value_t = 1_000_000)]
        rows: u64,
        /// Format of the exported posts: csv, json or parquet.
        #[arg(long, default_value = "csv")]
        format: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password comes from EARSHOT_NEW_USER_PASSWORD or stdin.
    Add {
        #[arg(long)]
        username: String,
        /// agent, lead or admin.
        #[arg(long, default_value = "agent")]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token and print it once.
    Add {
        #[arg(long)]
        name: String,
        /// agent, lead, admin, or ingest (may only push posts to POST /api/ingest/{source}).
        #[arg(long, default_value = "agent")]
        role: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Download a sequence-classification model (safetensors only) into `models/<org>--<name>/`.
    Pull {
        /// Hub id, e.g. `cardiffnlp/twitter-roberta-base-sentiment-latest`.
        id: String,
        #[arg(long, default_value = "main")]
        revision: String,
        #[arg(long, env = "HF_ENDPOINT", default_value = "https://huggingface.co")]
        endpoint: String,
        /// Token for gated or private models, sent as a bearer header.
        #[arg(long, env = "HF_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[arg(long, default_value = "models")]
        dest: PathBuf,
        /// Languages the model covers (ISO 639-1); default en, or * for XLM-RoBERTa.
        #[arg(long, value_delimiter = ',')]
        languages: Option<Vec<String>>,
        #[arg(long, default_value_t = 128)]
        max_length: usize,
        /// Our label for each model output, in output order, when config.json's are generic.
        #[arg(long, value_delimiter = ',')]
        labels: Option<Vec<String>>,
    },
    /// Fine-tune the shipped recipe, optionally on extra reviewed posts (JSONL text/label).
    Train {
        /// Extra training examples, JSONL `{"text","label"}`; may be repeated.
        #[arg(long)]
        extra_train: Vec<PathBuf>,
        #[arg(long)]
        epochs: Option<u32>,
        #[arg(long, default_value = "models/sentiment-minilm-l6-custom")]
        out: PathBuf,
        /// Threads for training.
        #[arg(long, default_value_t = 2)]
        threads: usize,
    },
}

/// `earshot eval`: CSV/JSONL with `text`, `label` (and optional `complaint`), or a
/// TweetEval-style pair of files.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// CSV (header with `text`, `label`, optional `complaint`) or JSONL.
    #[arg(long, required_unless_present = "text", conflicts_with = "text")]
    pub data: Option<PathBuf>,
    /// One post per line (with `--labels`: line n labels line n).
    #[arg(long, requires = "labels")]
    pub text: Option<PathBuf>,
    /// One label per line: 0/1/2 or negative/neutral/positive.
    #[arg(long, requires = "text")]
    pub labels: Option<PathBuf>,
    /// Criticality (0-100) at which a post counts as flagged; default: the first brand's
    /// threshold in the config, else 55.
    #[arg(long)]
    pub threshold: Option<f32>,
    /// `model` or the `lexicon` baseline; default: the config's, else model.
    #[arg(long, value_parser = ["model", "lexicon"])]
    pub scorer: Option<String>,
    /// Model folder; default: the config's, else the shipped model.
    #[arg(long)]
    pub model: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Poll one source once against its configured API and print what would be ingested,
    /// writing nothing (the stored cursor is used if the database exists).
    Test {
        #[arg(long)]
        source: String,
        /// Posts to print in full.
        #[arg(long, default_value_t = 5)]
        show: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// Send a sample alert to one channel now (not through the outbox) and print the outcome.
    Test {
        /// The channel's `name` in `[[alerts.channels]]`.
        #[arg(long)]
        channel: String,
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
        Command::User {
            command: UserCommand::Add { username, role },
        } => add_user(&cli.config, &username, &role).await,
        Command::Token {
            command: TokenCommand::Add { name, role },
        } => add_token(&cli.config, &name, &role).await,
        Command::Sources {
            command: SourcesCommand::Test { source, show },
        } => sources_test(&cli.config, &source, show).await,
        Command::Alerts {
            command: AlertsCommand::Test { channel },
        } => alerts_test(&cli.config, &channel).await,
        Command::Export { week, brand, format } => export(&cli.config, &week, brand.as_deref(), &format).await,
        Command::ExportBench { rows, format } => export_bench(rows, &format).await,
        Command::Score => {
            let app = App::build(load(&cli.config)?).await?;
            let report = app.pipeline.score_pending().await?;
            say!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Eval(args) => eval(&cli.config, args).await,
        Command::Bench {
            posts,
            batch_size,
            seed,
            instances: Some(counts),
            database,
            scorer,
            write_posts: _,
        } => {
            let (mut scoring, _) = scoring_settings(&cli.config, scorer.as_deref(), None)?;
            if let Some(b) = batch_size {
                scoring.batch_size = b.max(1);
            }
            let bench = crate::bench_instances::InstancesBench {
                server_url: database.context("--instances needs --database postgres://…")?,
                counts,
                n_posts: posts,
                seed,
                scoring,
                binary: std::env::current_exe().context("cannot find the earshot binary")?,
            };
            say!(
                "earshot bench --instances: {posts} posts, scorer {:?}, profile {}",
                bench.scoring.scorer,
                if cfg!(debug_assertions) { "debug" } else { "release" }
            );
            let runs = crate::bench_instances::run(&bench, &|run| {
                say!(
                    "{} instance(s): {:.1} posts/s ({} posts, {} tasks, {:.2} s)",
                    run.instances,
                    run.posts_per_second(),
                    run.n_posts,
                    run.n_tasks,
                    run.seconds
                );
            })
            .await?;
            say!("\n{}", crate::bench_instances::table(&runs));
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench {
            posts,
            batch_size,
            write_posts,
            seed,
            ..
        } => bench(&cli.config, posts, batch_size, write_posts, seed).await,
        Command::Model { command } => model_command(command).await,
    }
}

/// The config's scoring settings and first brand threshold when the config file exists;
/// otherwise the defaults with the shipped model.
fn scoring_settings(
    config_path: &std::path::Path,
    scorer: Option<&str>,
    model: Option<PathBuf>,
) -> anyhow::Result<(config::ScoringSettings, Option<f32>)> {
    let (mut scoring, threshold) = if config_path.is_file() {
        let settings = load(config_path)?;
        let threshold = settings.brands.first().map(|b| b.threshold);
        (settings.scoring, threshold)
    } else {
        let scoring = config::ScoringSettings {
            model: crate::demo::shipped_model_dir(),
            ..config::ScoringSettings::default()
        };
        (scoring, None)
    };
    match scorer {
        Some("lexicon") => scoring.scorer = config::ScorerKind::Lexicon,
        Some(_) => scoring.scorer = config::ScorerKind::Model,
        None => {}
    }
    if let Some(model) = model {
        scoring.model = model;
        scoring.multilingual_model = None;
    }
    Ok((scoring, threshold))
}

async fn eval(config_path: &std::path::Path, args: EvalArgs) -> anyhow::Result<ExitCode> {
    use crate::scoring::eval;
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
    };
    let dataset = match (&args.data, &args.text, &args.labels) {
        (Some(data), _, _) => {
            eval::parse_dataset(&read(data)?).with_context(|| format!("cannot evaluate on {}", data.display()))?
        }
        (None, Some(text), Some(labels)) => eval::parse_pair(&read(text)?, &read(labels)?)
            .with_context(|| format!("cannot pair {} with {}", text.display(), labels.display()))?,
        _ => anyhow::bail!("pass --data FILE, or --text FILE --labels FILE"),
    };
    for bad in &dataset.bad_rows {
        say!("skipped line {}: {}", bad.line, bad.reason);
    }
    anyhow::ensure!(!dataset.examples.is_empty(), "no usable rows to evaluate");
    let (scoring, config_threshold) = scoring_settings(config_path, args.scorer.as_deref(), args.model)?;
    let threshold = args.threshold.or(config_threshold).unwrap_or(55.0);
    let scorer = crate::scoring::build_scorer(&scoring)?;
    let service = crate::scoring::ScoringService::start(scorer, scoring.queue_batches, scoring.batch_size);
    say!(
        "Evaluating {} on {} posts ({} rows skipped)",
        service.name(),
        dataset.examples.len(),
        dataset.bad_rows.len()
    );
    let result = eval::evaluate(&service, &dataset.examples, threshold).await?;
    if result.n_unscored > 0 {
        say!(
            "{} posts left unscored (no model for their language); not in the metrics",
            result.n_unscored
        );
    }
    say!("{}", result.sentiment.report().trim_end());
    if let Some(b) = result.complaint {
        say!(
            "complaint detection (criticality >= {threshold}): precision {:.2}  recall {:.2}  F1 {:.2}  (tp {}, fp {}, fn {}, tn {})",
            100.0 * b.precision(),
            100.0 * b.recall(),
            100.0 * b.f1(),
            b.true_positive,
            b.false_positive,
            b.false_negative,
            b.true_negative
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends the sample alert to one channel and reports the HTTP outcome (never the URL).
async fn alerts_test(config: &std::path::Path, name: &str) -> anyhow::Result<ExitCode> {
    let settings = load(config)?;
    let Some(channel) = settings.alerts.channels.iter().find(|c| c.name == name) else {
        let known: Vec<&str> = settings.alerts.channels.iter().map(|c| c.name.as_str()).collect();
        anyhow::bail!("no alert channel named {name:?} (configured: {known:?})");
    };
    let sink = crate::alerts::sink::AlertSink::new(channel.clone(), crate::app::http_client()?);
    let now = crate::domain::now_millis();
    let message_id = format!("earshot_test_{now}");
    match sink
        .send(&crate::alerts::AlertPayload::sample(), &message_id, None, now)
        .await
    {
        Ok(sent) => {
            say!("{name}: delivered (HTTP {}).", sent.status);
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            say!("{name}: not delivered: {error}.");
            Ok(ExitCode::FAILURE)
        }
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
    let meter = crate::exports::progress::ProgressMeter::for_stderr();
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

async fn export_bench(rows: u64, format: &str) -> anyhow::Result<ExitCode> {
    let format: crate::exports::ExportFormat = format.parse()?;
    let dir = tempfile::Builder::new().prefix("earshot-export-bench-").tempdir()?;
    let settings = crate::exports::bench::bench_settings(dir.path())?;
    let store = open_store(&settings).await?;
    say!("Generating {rows} synthetic mentions in {} …", dir.path().display());
    let meter = crate::exports::progress::ProgressMeter::for_stderr();
    let report = crate::exports::bench::run(store, &settings, rows, format, &|n_rows| meter.report(n_rows)).await;
    meter.finish();
    let report = report.context("export benchmark failed")?;
    say!("{}", serde_json::to_string_pretty(&report)?);
    Ok(ExitCode::SUCCESS)
}

/// The new user's password: `EARSHOT_NEW_USER_PASSWORD`, else one line from stdin (a
/// prompt is shown on a terminal; the input is not hidden, so prefer the variable).
fn new_user_password() -> anyhow::Result<String> {
    if let Some(password) = config::new_user_password_from_env() {
        return Ok(password);
    }
    use std::io::{BufRead, IsTerminal, Write};
    if std::io::stdin().is_terminal() {
        #[allow(clippy::print_stderr, reason = "an interactive prompt")]
        {
            eprint!("Password for the new user: ");
        }
        std::io::stderr().flush()?;
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn add_user(config_path: &std::path::Path, username: &str, role: &str) -> anyhow::Result<ExitCode> {
    let role: crate::auth::Role = role.parse()?;
    anyhow::ensure!(
        role.is_for_users(),
        "{role} is a role for API tokens (`earshot token add --role {role}`), not for users"
    );
    let username = username.trim();
    anyhow::ensure!(
        !username.is_empty() && username.len() <= 64 && !username.starts_with("token:"),
        "usernames are 1-64 characters and do not start with \"token:\""
    );
    let password = new_user_password()?;
    anyhow::ensure!(
        password.chars().count() >= crate::auth::MIN_PASSWORD_LEN,
        "the password needs at least {} characters",
        crate::auth::MIN_PASSWORD_LEN
    );
    let settings = load(config_path)?;
    let store = open_store(&settings).await?;
    let password_hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&password)).await??;
    store
        .create_user(crate::store::NewUser {
            username: username.to_owned(),
            password_hash,
            role,
            at: crate::domain::now_millis(),
        })
        .await
        .with_context(|| format!("failed to create user {username:?}"))?;
    say!("User {username} ({role}) created.");
    Ok(ExitCode::SUCCESS)
}

async fn add_token(config_path: &std::path::Path, name: &str, role: &str) -> anyhow::Result<ExitCode> {
    let role: crate::auth::Role = role.parse()?;
    anyhow::ensure!(!name.trim().is_empty(), "the token needs a name");
    let settings = load(config_path)?;
    let store = open_store(&settings).await?;
    let token = crate::auth::new_token();
    store
        .create_api_token(
            &crate::auth::token_hash(&token),
            name.trim(),
            role,
            crate::domain::now_millis(),
        )
        .await
        .with_context(|| format!("failed to create token {name:?}"))?;
    say!("{token}");
    say!("(shown once: send it as `Authorization: Bearer <token>`)");
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
        .with_context(|| format!("source {source:?} is disabled or a push source (not polled)"))?;
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
    let demo_password = crate::auth::new_token()[..16].to_owned();
    let hashed = demo_password.clone();
    let password_hash = tokio::task::spawn_blocking(move || crate::auth::hash_password(&hashed)).await??;
    match app
        .store
        .create_user(crate::store::NewUser {
            username: "demo".into(),
            password_hash,
            role: crate::auth::Role::Admin,
            at: crate::domain::now_millis(),
        })
        .await
    {
        Ok(_) => say!("Log in as demo / {demo_password} (an admin of this demo only)."),
        Err(crate::store::StoreError::Conflict(_)) => say!("Log in with the users of {}.", dir.display()),
        Err(error) => return Err(error.into()),
    }
    say!("Open the queue: http://{}/  (Ctrl-C to stop)", listener.local_addr()?);
    run_until_signal(app, listener).await?;
    Ok(ExitCode::SUCCESS)
}

async fn bench(
    config_path: &std::path::Path,
    n_posts: usize,
    batch_size: Option<usize>,
    write_posts: Option<PathBuf>,
    seed: u64,
) -> anyhow::Result<ExitCode> {
    use crate::scoring::bench;
    anyhow::ensure!(n_posts > 0, "--posts must be at least 1");
    let (mut scoring, _) = scoring_settings(config_path, None, None)?;
    if let Some(b) = batch_size {
        scoring.batch_size = b.max(1);
    }
    let posts = bench::generate_posts(n_posts, seed);
    let jsonl = bench::to_jsonl(&posts);
    if let Some(path) = &write_posts {
        std::fs::write(path, &jsonl).with_context(|| format!("failed to write {}", path.display()))?;
        say!("Wrote {} posts to {}", n_posts, path.display());
    }
    say!(
        "earshot bench: {n_posts} posts, batch size {}, threads {}, profile {}",
        scoring.batch_size,
        if scoring.threads == 0 {
            "all".to_owned()
        } else {
            scoring.threads.to_string()
        },
        if cfg!(debug_assertions) { "debug" } else { "release" }
    );

    // (a) Scoring alone, through the service (dedicated thread, bounded queue).
    let scorer = crate::scoring::build_scorer(&scoring)?;
    let service = crate::scoring::ScoringService::start(scorer, scoring.queue_batches, scoring.batch_size);
    let warmup: Vec<_> = posts
        .iter()
        .take(scoring.batch_size)
        .map(|p| crate::scoring::ScoreInput {
            text: p.text.clone(),
            lang_hint: Some("en".into()),
        })
        .collect();
    service.score(warmup).await?;
    let inputs: Vec<_> = posts
        .iter()
        .map(|p| crate::scoring::ScoreInput {
            text: p.text.clone(),
            lang_hint: Some("en".into()),
        })
        .collect();
    let started = std::time::Instant::now();
    // One job per batch, sent together, so the queue stays full as it would under load.
    let jobs = inputs
        .chunks(scoring.batch_size)
        .map(|chunk| service.score(chunk.to_vec()));
    let scored: usize = futures::future::try_join_all(jobs).await?.iter().map(Vec::len).sum();
    let seconds = started.elapsed().as_secs_f64();
    say!(
        "scoring alone:  {:.1} posts/s ({} posts in {:.2} s), peak RSS {}",
        scored as f64 / seconds,
        scored,
        seconds,
        rss_text(bench::peak_rss_mib())
    );
    drop(service);

    // (b) The whole pipeline on a temporary SQLite file: import, match, commit, score,
    // assess, tasks, outbox.
    let peak_reset = bench::reset_peak_rss();
    let dir = tempfile::Builder::new().prefix("earshot-bench-").tempdir()?;
    let import = dir.path().join("posts.jsonl");
    std::fs::write(&import, &jsonl).with_context(|| format!("failed to write {}", import.display()))?;
    let quote = |p: &std::path::Path| toml::Value::String(p.display().to_string()).to_string();
    let toml = format!(
        "[database]\nurl = {db}\n\n[scoring]\nmodel = {model}\nscorer = \"{kind}\"\nbatch_size = {batch}\nqueue_batches = {queue}\nthreads = {threads}\n\n[exports]\ndir = {exports}\n\n\
         [[brands]]\nid = \"{id}\"\nname = \"{name}\"\nkeywords = [\"northwind air\", \"northwindair\"]\nhandles = [\"{handle}\"]\n\n\
         [[sources]]\nid = \"bench-import\"\nbrand = \"{id}\"\nschedule = \"0 0 * * * *\"\ntype = \"jsonl\"\npath = {import}\n",
        db = toml::Value::String(format!("sqlite://{}", dir.path().join("bench.db").display())),
        model = quote(&scoring.model),
        kind = match scoring.scorer {
            config::ScorerKind::Model => "model",
            config::ScorerKind::Lexicon => "lexicon",
        },
        batch = scoring.batch_size,
        queue = scoring.queue_batches,
        threads = scoring.threads,
        exports = quote(&dir.path().join("exports")),
        id = bench::BRAND_ID,
        name = bench::BRAND_NAME,
        handle = bench::BRAND_HANDLE,
        import = quote(&import),
    );
    let settings = config::from_toml(&toml, "the benchmark configuration")?;
    let app = App::build(settings).await?;
    let (_, source) = app.sources.first().context("the benchmark source was not built")?;
    let started = std::time::Instant::now();
    let poll = app.pipeline.poll_source(source.as_ref()).await?;
    let report = app.pipeline.score_pending().await?;
    let seconds = started.elapsed().as_secs_f64();
    say!(
        "whole pipeline: {:.1} posts/s ({} posts read, {} mentions, {} scored, {} tasks opened, in {:.2} s), peak RSS {}{}",
        poll.n_fetched as f64 / seconds,
        poll.n_fetched,
        poll.n_new,
        report.n_scored,
        report.n_tasks_opened,
        seconds,
        rss_text(bench::peak_rss_mib()),
        if peak_reset {
            ""
        } else {
            " (process peak, could not reset)"
        }
    );
    Ok(ExitCode::SUCCESS)
}

fn rss_text(mib: Option<f64>) -> String {
    mib.map_or_else(|| "unknown".to_owned(), |m| format!("{m:.0} MiB"))
}

async fn model_command(command: ModelCommand) -> anyhow::Result<ExitCode> {
    match command {
        ModelCommand::Pull {
            id,
            revision,
            endpoint,
            token,
            dest,
            languages,
            max_length,
            labels,
        } => {
            let request = crate::scoring::hub::PullRequest {
                id,
                revision,
                endpoint: endpoint.trim_end_matches('/').to_owned(),
                token: token.filter(|t| !t.is_empty()),
                dest,
                languages,
                max_length,
                labels,
            };
            // Weights can take minutes: no overall timeout, only on connecting.
            #[allow(clippy::disallowed_methods, reason = "model pull needs no overall timeout")]
            let client = reqwest::Client::builder()
                .user_agent(concat!("earshot/", env!("CARGO_PKG_VERSION"), " (model pull)"))
                .connect_timeout(std::time::Duration::from_secs(30))
                .build()
                .context("failed to build the HTTP client")?;
            say!(
                "Pulling {} ({}) from {} …",
                request.id,
                request.revision,
                request.endpoint
            );
            let dir = crate::scoring::hub::pull(&client, &request).await?;
            let scorer = crate::scoring::model::TransformerScorer::load(&dir)
                .with_context(|| format!("pulled {} but it does not load", dir.display()))?;
            say!(
                "Pulled into {} and checked it loads ({}).",
                dir.display(),
                crate::scoring::Scorer::name(&scorer)
            );
            say!(
                "Use it with [scoring] model = \"{}\" (then `earshot eval` to measure it).",
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        ModelCommand::Train {
            extra_train,
            epochs,
            out,
            threads,
        } => {
            use crate::scoring::train;
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let shipped = crate::demo::shipped_model_dir();
            let manifest: crate::scoring::manifest::ModelManifest = toml::from_str(
                &std::fs::read_to_string(shipped.join("manifest.toml"))
                    .with_context(|| format!("failed to read {}/manifest.toml", shipped.display()))?,
            )
            .context("invalid shipped manifest")?;
            let recipe = train::Recipe::from_manifest(&manifest);
            let options = train::TrainOptions {
                extra_train,
                epochs,
                out,
            };
            let setup = root.join("scripts/setup-python.sh");
            say!("$ {}", setup.display());
            let output = std::process::Command::new(&setup)
                .stderr(std::process::Stdio::inherit())
                .output()
                .with_context(|| format!("failed to run {}", setup.display()))?;
            anyhow::ensure!(output.status.success(), "{} failed", setup.display());
            let python = String::from_utf8_lossy(&output.stdout)
                .lines()
                .last()
                .map(str::trim)
                .unwrap_or_default()
                .to_owned();
            anyhow::ensure!(!python.is_empty(), "{} printed no python path", setup.display());
            let args = train::train_args(root, &recipe, &options, threads);
            say!("$ {}", train::shell_line(&python, &args));
            let status = std::process::Command::new(&python)
                .args(&args)
                .status()
                .with_context(|| format!("failed to run {python}"))?;
            anyhow::ensure!(status.success(), "training failed ({status})");
            say!(
                "Trained into {}; evaluate it with `earshot eval --model {}`.",
                options.out.display(),
                options.out.display()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `sources test`: one poll, printed, nothing written. The stored cursor is read only when the
/// database already exists (an SQLite file that is missing is not created).
async fn sources_test(config_path: &std::path::Path, source: &str, show: usize) -> anyhow::Result<ExitCode> {
    use crate::pipeline::matching::{BrandMatcher, Verdict};

    let settings = load(config_path)?;
    let source_id = SourceId::parse(source)?;
    let source_settings = settings
        .source(&source_id)
        .with_context(|| format!("no source {source:?} in the configuration"))?;
    let brand = settings
        .brands
        .iter()
        .find(|b| b.id == source_settings.brand)
        .with_context(|| format!("source {source:?} names an unknown brand"))?;
    let cursor = stored_cursor(&settings, &source_id).await;
    let cursor_from = if cursor.is_some() { "stored cursor" } else { "start" };
    let built = source_settings
        .kind
        .build(source_id.clone(), &crate::app::http_client()?)
        .with_context(|| {
            format!("{source} is a push source: it is not polled, posts arrive at POST /api/ingest/{source}")
        })?;
    let batch = built
        .poll(cursor.as_ref())
        .await
        .map_err(|error| anyhow::anyhow!(crate::pipeline::error_chain(&error)))
        .with_context(|| format!("polling {source} failed"))?;
    let matcher = BrandMatcher::new(brand);
    let match_keywords = source_settings.kind.match_keywords();
    let verdicts: Vec<(&crate::domain::Post, Verdict)> = batch
        .posts
        .iter()
        .map(|p| (p, matcher.verdict_for(p, match_keywords)))
        .collect();
    let count = |wanted: Verdict| verdicts.iter().filter(|(_, v)| *v == wanted).count();
    say!(
        "{}",
        serde_json::json!({
            "source": source,
            "from": cursor_from,
            "fetched": batch.posts.len(),
            "mentions": count(Verdict::Mention),
            "own_posts": count(Verdict::OwnPost),
            "excluded": count(Verdict::Excluded),
            "unrelated": count(Verdict::Unrelated),
            "quarantined": batch.quarantined.len(),
            "has_more": batch.has_more,
            "next_cursor": batch.cursor.as_ref().map(|c| c.0.clone()),
        })
    );
    for (post, verdict) in verdicts.iter().filter(|(_, v)| *v == Verdict::Mention).take(show) {
        say!(
            "{}",
            serde_json::json!({ "verdict": format!("{verdict:?}").to_lowercase(), "post": post })
        );
    }
    for item in &batch.quarantined {
        say!(
            "{}",
            serde_json::json!({ "quarantined": item.location, "reason": item.reason })
        );
    }
    say!("Nothing was written.");
    Ok(ExitCode::SUCCESS)
}

/// The source's stored cursor, if the database exists and has one.
async fn stored_cursor(settings: &Settings, source: &SourceId) -> Option<crate::domain::Cursor> {
    if let Some(path) = settings.database.url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if !std::path::Path::new(path).exists() {
            return None;
        }
    }
    let store = crate::store::SqlStore::connect(&settings.database).await.ok()?;
    match crate::store::Store::cursor(&store, source).await {
        Ok(cursor) => cursor,
        Err(error) => {
            tracing::warn!(error = %error, "Cannot read the stored cursor; polling from the start.");
            None
        }
    }
}
