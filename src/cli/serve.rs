//! `earshot serve`: the service until SIGINT/SIGTERM.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::App;

pub(super) async fn run(config: &Path) -> anyhow::Result<ExitCode> {
    let settings = super::load(config)?;
    let bind = settings.http.bind;
    let app = App::build(settings).await?;
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("failed to listen on {bind}"))?;
    say!("earshot is listening on http://{}/", listener.local_addr()?);
    super::run_until_signal(app, listener).await?;
    Ok(ExitCode::SUCCESS)
}
