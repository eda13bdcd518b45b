//! The `earshot` binary: parse the command line, set up logging, run the command.

use clap::Parser;

fn main() -> std::process::ExitCode {
    // Test builds read crash points from FAILPOINTS; release builds have none.
    #[cfg(feature = "failpoints")]
    let _fail_scenario = fail::FailScenario::setup();
    let cli = earshot::cli::Cli::parse();
    earshot::telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            tracing::error!(error = %error, "Cannot start the async runtime.");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(earshot::cli::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            tracing::error!(error = %format_args!("{error:#}"), "Command failed.");
            std::process::ExitCode::FAILURE
        }
    }
}
