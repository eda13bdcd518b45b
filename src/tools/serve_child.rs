//! A child `earshot serve` (this same binary) for the benchmarks that measure a running
//! service (`bench-instances`, `ingest-bench`): started on a config file on a free loopback
//! port, its log appended to a file, ready once it prints its first line
//! (`earshot is listening on http://…/`), killed when dropped.
//!
//! Must not be used by the service itself: it starts processes, which only offline tools do.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::Context;

/// A started `earshot serve`; SIGKILLed and reaped when dropped.
pub struct ServeChild {
    child: Child,
    log: PathBuf,
}

/// Starts `binary --config config serve` on `127.0.0.1:0`, with JSON logs at `warn` appended to
/// `log`. `database_url` replaces the config's database; without it the config's is used even
/// if this process's environment names another. Returns at once: see `wait_listening`.
pub fn spawn_serve(binary: &Path, config: &Path, log: &Path, database_url: Option<&str>) -> anyhow::Result<ServeChild> {
    let mut command = Command::new(binary);
    command
        .arg("--config")
        .arg(config)
        .args(["--log-format", "json", "serve"])
        .env("EARSHOT_HTTP_BIND", "127.0.0.1:0")
        .env_remove("EARSHOT_INSTANCE_ID")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::OpenOptions::new().create(true).append(true).open(log)?);
    match database_url {
        Some(url) => command.env("EARSHOT_DATABASE_URL", url),
        None => command.env_remove("EARSHOT_DATABASE_URL"),
    };
    let child = command
        .spawn()
        .with_context(|| format!("failed to start {}", binary.display()))?;
    Ok(ServeChild {
        child,
        log: log.to_owned(),
    })
}

impl ServeChild {
    /// Waits for the first line the child prints and returns the base URL it listens on
    /// (without the trailing slash). Call once.
    pub async fn wait_listening(&mut self) -> anyhow::Result<String> {
        let stdout = self
            .child
            .stdout
            .take()
            .context("the child's stdout was already read")?;
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        })
        .await??;
        base_url(&line).with_context(|| {
            format!(
                "earshot serve did not start (first line {line:?}):\n{}",
                tail(&self.log)
            )
        })
    }

    /// The child's process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Whether the child has exited, and how.
    pub fn try_wait(&mut self) -> std::io::Result<Option<std::process::ExitStatus>> {
        self.child.try_wait()
    }

    /// SIGKILL (no shutdown: whatever is in flight is cut) and reap.
    pub fn kill(&mut self) -> std::io::Result<()> {
        self.child.kill()?;
        self.child.wait().map(|_| ())
    }

    /// The last lines of the child's log, for error messages.
    pub fn log_tail(&self) -> String {
        tail(&self.log)
    }
}

impl Drop for ServeChild {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The base URL at the end of `serve`'s first line.
fn base_url(line: &str) -> Option<String> {
    line.trim()
        .rsplit(' ')
        .next()
        .filter(|url| url.starts_with("http"))
        .map(|url| url.trim_end_matches('/').to_owned())
}

/// The last 20 lines of a log file.
fn tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_url_is_read_from_the_first_line() {
        assert_eq!(
            base_url("earshot is listening on http://127.0.0.1:40123/\n").as_deref(),
            Some("http://127.0.0.1:40123")
        );
        assert_eq!(base_url(""), None);
        assert_eq!(base_url("Error: failed to bind\n"), None);
    }
}
