//! The `earshot` binary as tests run it: no database URL or bind address from the caller's
//! environment, warnings only in its log.

use std::process::Command;

pub(crate) fn earshot() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_earshot"));
    command
        .env_remove("EARSHOT_DATABASE_URL")
        .env_remove("EARSHOT_HTTP_BIND")
        .env("RUST_LOG", "warn");
    command
}
