//! `earshot alerts test --channel NAME`: the sample alert sent to one channel now (not
//! through the outbox), with the outcome printed (never the URL).

use std::path::Path;
use std::process::ExitCode;

use crate::alerts::AlertPayload;
use crate::alerts::sink::AlertSink;
use crate::domain::now_millis;

#[derive(Debug, clap::Args)]
pub struct AlertsTestArgs {
    /// The channel's `name` in `[[alerts.channels]]`.
    #[arg(long)]
    channel: String,
}

pub(super) async fn run(config: &Path, args: AlertsTestArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load(config)?;
    let name = args.channel.as_str();
    let Some(channel) = settings.alerts.channels.iter().find(|c| c.name == name) else {
        let known: Vec<&str> = settings.alerts.channels.iter().map(|c| c.name.as_str()).collect();
        anyhow::bail!("no alert channel named {name:?} (configured: {known:?})");
    };
    let sink = AlertSink::new(channel.clone(), crate::app::http_client()?);
    let now = now_millis();
    let message_id = format!("earshot_test_{now}");
    match sink.send(&AlertPayload::sample(), &message_id, None, now).await {
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
