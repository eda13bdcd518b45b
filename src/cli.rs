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
        /// agent, lead or admin.
        #[arg(long, default_value = "agent")]
        role: String,
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
        Command::Score => {
            let app = App::build(load(&cli.config)?).await?;
            let report = app.pipeline.score_pending().await?;
            say!("{}", serde_json::to_string_pretty(&report)?);
            Ok(ExitCode::SUCCESS)
        }
    }
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
