//! Guessing and flooding at the login. At most `CONCURRENT_CHECKS` password checks run at
//! once (argon2 takes about 19 MiB and tens of milliseconds each, so a flood of logins
//! queues instead of exhausting memory), and a username with `MAX_FAILURES` failed attempts
//! within `WINDOW` is refused without a check (429 with `Retry-After`) until the window of
//! its first failure has passed. Counted per username, known or not (so the answer does not
//! reveal which exist), per process.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

pub(super) const CONCURRENT_CHECKS: usize = 4;
pub(super) const MAX_FAILURES: u32 = 10;
pub(super) const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Past this many tracked usernames, entries whose window has passed are dropped.
const PRUNE_AT: usize = 10_000;

/// The process's guard.
pub(super) static LOGIN_GUARD: LazyLock<LoginGuard> = LazyLock::new(LoginGuard::default);

#[derive(Debug)]
pub(super) struct LoginGuard {
    checks: Semaphore,
    /// Lowercased username → failures in the current window, and when the window began.
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Default for LoginGuard {
    fn default() -> Self {
        LoginGuard {
            checks: Semaphore::new(CONCURRENT_CHECKS),
            failures: Mutex::new(HashMap::new()),
        }
    }
}

impl LoginGuard {
    /// How long `username` must wait before another attempt, if it is locked out.
    pub(super) fn locked_for(&self, username: &str, now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        let (count, since) = failures.get(&username.to_lowercase())?;
        let left = WINDOW.checked_sub(now.duration_since(*since))?;
        (*count >= MAX_FAILURES && !left.is_zero()).then_some(left)
    }

    /// A slot for one password check; waits while `CONCURRENT_CHECKS` are running.
    pub(super) async fn check_slot(&self) -> Option<SemaphorePermit<'_>> {
        self.checks.acquire().await.ok()
    }

    pub(super) fn failed(&self, username: &str, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        if failures.len() >= PRUNE_AT {
            failures.retain(|_, (_, since)| now.duration_since(*since) < WINDOW);
        }
        let entry = failures.entry(username.to_lowercase()).or_insert((0, now));
        if now.duration_since(entry.1) >= WINDOW {
            *entry = (0, now);
        }
        entry.0 = entry.0.saturating_add(1);
    }

    pub(super) fn succeeded(&self, username: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(PoisonError::into_inner);
        failures.remove(&username.to_lowercase());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_failures_lock_a_username_for_the_rest_of_the_window_and_success_clears_it() {
        let guard = LoginGuard::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            guard.failed("Ann", start);
        }
        assert_eq!(guard.locked_for("ann", start), None, "nine failures are allowed");
        guard.failed("ann", start + Duration::from_secs(60));
        let left = guard.locked_for("ANN", start + Duration::from_secs(60)).unwrap();
        assert_eq!(left, WINDOW - Duration::from_secs(60));
        assert_eq!(guard.locked_for("bob", start), None, "others are not affected");
        assert_eq!(guard.locked_for("ann", start + WINDOW), None, "the window passes");
        guard.failed("ann", start + WINDOW);
        assert_eq!(
            guard.locked_for("ann", start + WINDOW),
            None,
            "a new window starts at one"
        );
        guard.succeeded("ann");
        assert_eq!(guard.failures.lock().unwrap().len(), 0);
    }
}
