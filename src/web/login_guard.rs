//! Guessing and flooding at the login.
//!
//! - **Counted before the check.** An attempt is counted as a failure, atomically per
//!   username and per client address, *before* its password is checked; a success then takes
//!   it back. So an attacker with N connections still gets at most `MAX_FAILURES` guesses per
//!   username per window: the 11th concurrent attempt is refused without a check (429 with
//!   `Retry-After`) until the window of the first failure has passed. Counted per username,
//!   known or not (so the answer does not reveal which exist), and per process.
//! - **Per client address.** At most `MAX_FAILURES_PER_CLIENT` failures per window from one
//!   address across all usernames (password spraying). Behind a reverse proxy every client
//!   shares the proxy's address, so the limit is generous.
//! - **Bounded memory.** Password checks (argon2, 19 MiB and tens of milliseconds each) run on
//!   a fixed pool of `CHECK_THREADS` threads, each reusing one argon2 buffer, so a flood of
//!   logins queues and memory stays flat instead of growing with every blocking thread the
//!   runtime would start.

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

use argon2::Block;
use tokio::sync::{Semaphore, oneshot};

use crate::auth::verify_password_reusing;

/// Threads that check passwords; at most this many checks run at once.
pub(super) const CHECK_THREADS: usize = 2;
/// Failed attempts per username per window.
pub(super) const MAX_FAILURES: u32 = 10;
/// Failed attempts per client address per window, whatever the usernames.
pub(super) const MAX_FAILURES_PER_CLIENT: u32 = 100;
pub(super) const WINDOW: Duration = Duration::from_secs(15 * 60);
/// Past this many tracked usernames or addresses, entries whose window has passed are dropped.
const PRUNE_AT: usize = 10_000;

/// The process's guard.
pub(super) static LOGIN_GUARD: LazyLock<LoginGuard> = LazyLock::new(LoginGuard::default);

thread_local! {
    /// The argon2 working memory of one checking thread, reused by every check it runs.
    static ARGON2_BLOCKS: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Failures in the current window, and when the window began.
#[derive(Debug, Clone, Copy)]
struct Window {
    count: u32,
    since: Instant,
}

#[derive(Debug, Default)]
struct Counts {
    users: HashMap<String, Window>,
    clients: HashMap<IpAddr, Window>,
}

#[derive(Debug)]
pub(super) struct LoginGuard {
    /// Checks waiting for or running on the pool; bounds the queue to the pool's size.
    slots: Semaphore,
    pool: Option<rayon::ThreadPool>,
    counts: Mutex<Counts>,
}

impl Default for LoginGuard {
    fn default() -> Self {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(CHECK_THREADS)
            .thread_name(|i| format!("earshot-login-{i}"))
            .build()
            .map_err(|error| tracing::error!(error = %error, "No password-check threads; logins run inline."))
            .ok();
        LoginGuard {
            slots: Semaphore::new(CHECK_THREADS),
            pool,
            counts: Mutex::new(Counts::default()),
        }
    }
}

/// An attempt already counted as failed; [`LoginGuard::succeeded`] takes it back.
#[derive(Debug)]
#[must_use]
pub(super) struct Attempt {
    username: String,
    client: Option<IpAddr>,
}

/// Counts one more failure in `window` at `now`, unless it is full; how long is left when full.
fn count(window: &mut Window, max: u32, now: Instant) -> Result<(), Duration> {
    if now.duration_since(window.since) >= WINDOW {
        *window = Window { count: 0, since: now };
    }
    if window.count >= max {
        let left = WINDOW.saturating_sub(now.duration_since(window.since));
        return Err(left.max(Duration::from_secs(1)));
    }
    window.count += 1;
    Ok(())
}

impl LoginGuard {
    /// Counts an attempt for `username` from `client` before its password is checked, or
    /// says how long to wait if either is locked out.
    pub(super) fn begin(&self, username: &str, client: Option<IpAddr>, now: Instant) -> Result<Attempt, Duration> {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.users.len() >= PRUNE_AT {
            counts.users.retain(|_, w| now.duration_since(w.since) < WINDOW);
        }
        if counts.clients.len() >= PRUNE_AT {
            counts.clients.retain(|_, w| now.duration_since(w.since) < WINDOW);
        }
        let username = username.to_lowercase();
        let fresh = Window { count: 0, since: now };
        // Check both before counting either, so a refusal leaves no trace.
        let mut user = counts.users.get(&username).copied().unwrap_or(fresh);
        count(&mut user, MAX_FAILURES, now)?;
        let client_window = match client {
            Some(ip) => {
                let mut window = counts.clients.get(&ip).copied().unwrap_or(fresh);
                count(&mut window, MAX_FAILURES_PER_CLIENT, now)?;
                Some((ip, window))
            }
            None => None,
        };
        counts.users.insert(username.clone(), user);
        if let Some((ip, window)) = client_window {
            counts.clients.insert(ip, window);
        }
        Ok(Attempt { username, client })
    }

    /// The password was right: the username starts afresh and the client's count for this
    /// attempt is taken back.
    pub(super) fn succeeded(&self, attempt: Attempt) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        counts.users.remove(&attempt.username);
        if let Some(ip) = attempt.client
            && let Some(window) = counts.clients.get_mut(&ip)
        {
            window.count = window.count.saturating_sub(1);
        }
    }

    /// Whether `password` matches the stored PHC string, checked on the pool.
    pub(super) async fn verify(&self, password: String, stored: String) -> bool {
        let Ok(_slot) = self.slots.acquire().await else {
            return false;
        };
        let check = move || ARGON2_BLOCKS.with_borrow_mut(|blocks| verify_password_reusing(&password, &stored, blocks));
        let Some(pool) = &self.pool else {
            return tokio::task::spawn_blocking(check).await.unwrap_or(false);
        };
        let (sender, receiver) = oneshot::channel();
        pool.spawn(move || {
            let _ = sender.send(check());
        });
        receiver.await.unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_attempts_lock_a_username_for_the_rest_of_the_window_and_success_clears_it() {
        let guard = LoginGuard::default();
        let start = Instant::now();
        // Counted when they begin: none of these has been checked yet.
        let attempts: Vec<Attempt> = (0..MAX_FAILURES)
            .map(|_| guard.begin("Ann", None, start).unwrap())
            .collect();
        let later = start + Duration::from_secs(60);
        let left = guard.begin("ANN", None, later).unwrap_err();
        assert_eq!(left, WINDOW - Duration::from_secs(60));
        assert!(guard.begin("bob", None, later).is_ok(), "others are not affected");
        assert!(guard.begin("ann", None, start + WINDOW).is_ok(), "the window passes");
        // One of the counted attempts turns out right: the username starts afresh.
        let mut attempts = attempts.into_iter();
        guard.succeeded(attempts.next().unwrap());
        assert!(!guard.counts.lock().unwrap().users.contains_key("ann"));
    }

    #[test]
    fn a_client_address_is_limited_across_usernames_and_a_success_is_taken_back() {
        let guard = LoginGuard::default();
        let start = Instant::now();
        let ip: IpAddr = [203, 0, 113, 9].into();
        for i in 0..MAX_FAILURES_PER_CLIENT - 1 {
            let _ = guard.begin(&format!("user{i}"), Some(ip), start).unwrap();
        }
        let last = guard.begin("someone", Some(ip), start).unwrap();
        guard.succeeded(last);
        let _ = guard.begin("someone-else", Some(ip), start).unwrap();
        assert!(
            guard.begin("another", Some(ip), start).is_err(),
            "the address is out of attempts"
        );
        assert!(
            !guard.counts.lock().unwrap().users.contains_key("another"),
            "a refused attempt is not counted against its username"
        );
        assert!(guard.begin("another", Some([203, 0, 113, 10].into()), start).is_ok());
    }

    #[tokio::test]
    async fn checks_run_on_the_pool_and_agree_with_the_hash() {
        let guard = LoginGuard::default();
        let hash = crate::auth::hash_password("s3cret!").unwrap();
        let checks = (0..6).map(|i| {
            let password = if i % 2 == 0 { "s3cret!" } else { "wrong" };
            guard.verify(password.to_owned(), hash.clone())
        });
        let results = futures::future::join_all(checks).await;
        assert_eq!(results, [true, false, true, false, true, false]);
    }
}
