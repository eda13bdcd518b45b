//! `earshot user add --username U --role R`: a queue user; the password comes from
//! `EARSHOT_NEW_USER_PASSWORD` or one line of stdin.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::app::open_store;
use crate::auth::{MIN_PASSWORD_LEN, Role, hash_password};
use crate::config;
use crate::domain::now_millis;
use crate::store::NewUser;

#[derive(Debug, clap::Args)]
pub struct UserAddArgs {
    #[arg(long)]
    username: String,
    /// agent, lead or admin.
    #[arg(long, default_value = "agent")]
    role: Role,
}

pub(super) async fn run(config_path: &Path, args: UserAddArgs) -> anyhow::Result<ExitCode> {
    let role = args.role;
    anyhow::ensure!(
        role.is_for_users(),
        "{role} is a role for API tokens (`earshot token add --role {role}`), not for users"
    );
    let username = args.username.trim();
    anyhow::ensure!(
        !username.is_empty() && username.len() <= 64 && !username.starts_with("token:"),
        "usernames are 1-64 characters and do not start with \"token:\""
    );
    let password = new_user_password()?;
    anyhow::ensure!(
        password.chars().count() >= MIN_PASSWORD_LEN,
        "the password needs at least {MIN_PASSWORD_LEN} characters",
    );
    let settings = super::load(config_path)?;
    let store = open_store(&settings).await?;
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
    store
        .create_user(NewUser {
            username: username.to_owned(),
            password_hash,
            role,
            at: now_millis(),
        })
        .await
        .with_context(|| format!("failed to create user {username:?}"))?;
    say!("User {username} ({role}) created.");
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
