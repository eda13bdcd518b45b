//! `earshot token add --name N --role R`: an API token for machines, printed once.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::app::open_store;
use crate::auth::{Role, new_token, token_hash};
use crate::domain::now_millis;

#[derive(Debug, clap::Args)]
pub struct TokenAddArgs {
    #[arg(long)]
    name: String,
    /// agent, lead, admin, or ingest (may only push posts to POST /api/ingest/{source}).
    #[arg(long, default_value = "agent")]
    role: Role,
}

pub(super) async fn run(config_path: &Path, args: TokenAddArgs) -> anyhow::Result<ExitCode> {
    let name = args.name.trim();
    anyhow::ensure!(!name.is_empty(), "the token needs a name");
    let settings = super::load(config_path)?;
    let store = open_store(&settings).await?;
    let token = new_token();
    store
        .create_api_token(&token_hash(&token), name, args.role, now_millis())
        .await
        .with_context(|| format!("failed to create token {:?}", args.name))?;
    say!("{token}");
    say!("(shown once: send it as `Authorization: Bearer <token>`)");
    Ok(ExitCode::SUCCESS)
}
