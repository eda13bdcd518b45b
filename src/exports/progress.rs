//! Progress of a long export: rows written and rows per second, shown as it goes.
//!
//! On a terminal the line rewrites itself on stderr (`\r`) at most every `TERMINAL_EVERY`;
//! anywhere else (a pipe, a log file, the scheduled job) an ordinary `tracing` event is
//! logged at most every `LOG_EVERY`, so logs get a heartbeat, not a flood. stdout is never
//! touched: it carries the command's result.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often the terminal line is redrawn.
pub const TERMINAL_EVERY: Duration = Duration::from_millis(250);
/// How often a progress event is logged when stderr is not a terminal.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// Where progress goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A self-rewriting line on stderr.
    Terminal,
    /// `tracing` events.
    Log,
}

/// Times an export and reports its row count now and then.
#[derive(Debug)]
pub struct ProgressMeter {
    mode: ProgressMode,
    started: Instant,
    /// When progress was last shown, and whether a terminal line is open.
    last: Mutex<(Option<Instant>, bool)>,
}

impl ProgressMeter {
    pub fn new(mode: ProgressMode) -> ProgressMeter {
        ProgressMeter {
            mode,
            started: Instant::now(),
            last: Mutex::new((None, false)),
        }
    }

    /// `Terminal` when stderr is a terminal, else `Log`.
    pub fn for_stderr() -> ProgressMeter {
        let mode = if std::io::stderr().is_terminal() {
            ProgressMode::Terminal
        } else {
            ProgressMode::Log
        };
        ProgressMeter::new(mode)
    }

    /// Called with the rows written so far; shows them if it is time.
    pub fn report(&self, n_rows: u64) {
        let now = Instant::now();
        let every = match self.mode {
            ProgressMode::Terminal => TERMINAL_EVERY,
            ProgressMode::Log => LOG_EVERY,
        };
        let mut last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let due = match last.0 {
            Some(at) => now.duration_since(at) >= every,
            // The first report waits one interval too: short exports print nothing.
            None => now.duration_since(self.started) >= every,
        };
        if !due {
            return;
        }
        last.0 = Some(now);
        let elapsed = now.duration_since(self.started);
        match self.mode {
            ProgressMode::Terminal => {
                let mut stderr = std::io::stderr().lock();
                let _ = write!(stderr, "\r{}\x1b[K", progress_line(n_rows, elapsed));
                let _ = stderr.flush();
                last.1 = true;
            }
            ProgressMode::Log => {
                tracing::info!(
                    n_rows,
                    rows_per_sec = rows_per_sec(n_rows, elapsed).round(),
                    elapsed_secs = elapsed.as_secs(),
                    "Export in progress."
                );
            }
        }
    }

    /// Ends the terminal line, if one was drawn.
    pub fn finish(&self) {
        let last = self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if last.1 {
            let _ = writeln!(std::io::stderr().lock());
        }
    }
}

fn rows_per_sec(n_rows: u64, elapsed: Duration) -> f64 {
    n_rows as f64 / elapsed.as_secs_f64().max(1e-3)
}

/// `Exported 120,000 rows · 12,300 rows/s · 9.8 s`.
pub fn progress_line(n_rows: u64, elapsed: Duration) -> String {
    format!(
        "Exported {} rows · {} rows/s · {:.1} s",
        thousands(n_rows),
        thousands(rows_per_sec(n_rows, elapsed).round() as u64),
        elapsed.as_secs_f64()
    )
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_has_rows_rate_and_time() {
        assert_eq!(
            progress_line(1_234_567, Duration::from_secs(10)),
            "Exported 1,234,567 rows · 123,457 rows/s · 10.0 s"
        );
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
    }
}
