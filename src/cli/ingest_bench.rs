//! `earshot ingest-bench [--clients 50] [--requests 2000] [--posts-per-request 10] [--kill]`:
//! the push endpoint under concurrent load, with "stored exactly once" checked in the store
//! (`tools::ingest_bench`).

use std::process::ExitCode;

use anyhow::Context;

use crate::tools::ingest_bench::{self, IngestBench};

#[derive(Debug, clap::Args)]
pub struct IngestBenchArgs {
    /// Concurrent clients.
    #[arg(long, default_value_t = 50)]
    clients: usize,
    /// Requests in all.
    #[arg(long, default_value_t = 2_000)]
    requests: usize,
    #[arg(long, default_value_t = 10)]
    posts_per_request: usize,
    /// Kill the server with SIGKILL halfway through and start it again.
    #[arg(long)]
    kill: bool,
}

pub(super) async fn run(args: IngestBenchArgs) -> anyhow::Result<ExitCode> {
    let binary = std::env::current_exe().context("cannot find the earshot binary")?;
    let run = ingest_bench::run(&IngestBench {
        clients: args.clients,
        requests: args.requests,
        posts_per_request: args.posts_per_request,
        kill: args.kill,
        binary,
    })
    .await?;
    say!("{} (profile {})", run.report(), super::profile());
    Ok(if run.exactly_once() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
