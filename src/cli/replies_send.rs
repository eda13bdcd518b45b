//! `earshot replies send`: one pass of the reply worker (`pipeline::replies`), pass after pass
//! until no reply is due, then prints what it did. `earshot serve` runs the same worker
//! every two seconds; this is for operators and for tests of the send path.

use std::path::Path;
use std::process::ExitCode;

use crate::domain::now_millis;
use crate::pipeline::instance::instance_id;
use crate::pipeline::replies::{ReplySender, SendReport};

pub(super) async fn run(config_path: &Path) -> anyhow::Result<ExitCode> {
    let settings = std::sync::Arc::new(super::load(config_path)?);
    let store = crate::app::open_store(&settings).await?;
    let holder = instance_id(&settings.instances);
    let sender = ReplySender::new(store, settings.clone(), crate::app::http_client()?, holder);
    let mut total = SendReport::default();
    loop {
        let report = sender.send_due(now_millis()).await?;
        total.n_claimed += report.n_claimed;
        total.n_sent += report.n_sent;
        total.n_found += report.n_found;
        total.n_retrying += report.n_retrying;
        total.n_failed += report.n_failed;
        if report.n_claimed == 0 {
            break;
        }
    }
    say!("{}", serde_json::to_string(&total)?);
    Ok(ExitCode::SUCCESS)
}
