//! End-to-end tests of the web queue in headless Chromium, driven over WebDriver
//! (`webdriver` → chromedriver → Debian's `chromium`; `scripts/setup-test-services.sh`
//! installs both).
//!
//! Each test serves the real app over a real store on a loopback port (`support::TestApp`), and
//! starts its own chromedriver on a free loopback port with a fresh Chromium profile
//! (`Browser`); both are stopped when the test ends, also when it fails. Waits poll the page
//! for an observable condition with a deadline, never sleep. A failing scenario saves a
//! screenshot, the page source and chromedriver's log into a kept folder and prints its path.

mod context;
mod dashboard;
mod mentions;
mod operations;
mod problems;
mod queue;
mod scale;
mod send;
mod templates;
mod webdriver;
mod workday;

use std::future::Future;
use std::io::{BufRead, BufReader};
use std::net::TcpListener as StdListener;
use std::os::unix::process::CommandExt;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use futures::FutureExt;

pub(crate) use webdriver::Client;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// How long chromedriver may take to say it listens.
const DRIVER_START: Duration = Duration::from_secs(30);
/// How long the page may take to show what a test waits for (the live-update stream checks
/// every two seconds, so this leaves room on a busy two-core machine).
pub(crate) const PAGE_DEADLINE: Duration = Duration::from_secs(20);
/// How often a wait looks at the page again.
const POLL: Duration = Duration::from_millis(50);

/// A chromedriver process in its own process group; the whole group (chromedriver and the
/// browser it started) is killed on drop.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(log: &Path) -> Driver {
        // The port is free now; chromedriver binds it right away, and says so.
        let port = StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("{CHROMEDRIVER} does not start ({e}); run scripts/setup-test-services.sh to install it")
            });
        let stdout = child.stdout.take().unwrap();
        let (ready, started) = std::sync::mpsc::channel();
        // Reads chromedriver's output to the end, so it never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.contains("started successfully") {
                    let _ = ready.send(());
                }
            }
        });
        let driver = Driver { child, port };
        if started.recv_timeout(DRIVER_START).is_err() {
            panic!("chromedriver did not report it listens on port {port} within {DRIVER_START:?}");
        }
        driver
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        // The group id is chromedriver's pid (process_group(0)).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session with its own profile and a folder for failure evidence.
pub(crate) struct Browser {
    client: Client,
    // Dropped in this order: the session's driver, then the profile it used.
    _driver: Driver,
    _profile: tempfile::TempDir,
    evidence: tempfile::TempDir,
}

impl Browser {
    pub(crate) async fn start() -> Browser {
        let evidence = tempfile::Builder::new().prefix("earshot-e2e-").tempdir().unwrap();
        let driver = Driver::start(&evidence.path().join("chromedriver.log"));
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless=new".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            "--window-size=1400,1000".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = serde_json::json!({
            "browserName": "chrome",
            // A JS dialog stays open, so the test sees it (an injected alert() must not run).
            "unhandledPromptBehavior": "ignore",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
        });
        let client = Client::connect(&format!("http://127.0.0.1:{}", driver.port), capabilities)
            .await
            .expect("a chromedriver session with headless Chromium");
        Browser {
            client,
            _driver: driver,
            _profile: profile,
            evidence,
        }
    }

    /// Runs `scenario`; if it panics, saves the evidence, prints where, and fails the test.
    pub(crate) async fn run<F, Fut>(self, scenario: F)
    where
        F: FnOnce(Client) -> Fut,
        Fut: Future<Output = ()>,
    {
        let outcome = AssertUnwindSafe(scenario(self.client.clone())).catch_unwind().await;
        if let Err(panic) = outcome {
            let kept = self.save_evidence().await;
            #[allow(clippy::print_stderr, reason = "tells the developer where the evidence is")]
            {
                eprintln!(
                    "browser test failed; screenshot, page source and chromedriver log in {}",
                    kept.display()
                );
            }
            std::panic::resume_unwind(panic);
        }
        let _ = self.client.close().await;
    }

    async fn save_evidence(self) -> PathBuf {
        let dir = self.evidence.keep();
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(dir.join("screenshot.png"), png);
        }
        if let Ok(html) = self.client.source().await {
            let _ = std::fs::write(dir.join("page.html"), html);
        }
        if let Ok(url) = self.client.current_url().await {
            let _ = std::fs::write(dir.join("url.txt"), url.as_str());
        }
        let _ = self.client.close().await;
        dir
    }
}

/// Waits until `check` returns `Some`, looking again every few milliseconds, up to
/// `PAGE_DEADLINE`; panics with `what` and the last thing seen otherwise.
pub(crate) async fn wait_for<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, String>>,
{
    let deadline = tokio::time::Instant::now() + PAGE_DEADLINE;
    loop {
        let last = match check().await {
            Ok(Some(value)) => return value,
            Ok(None) => String::from("condition not met"),
            Err(error) => error,
        };
        if tokio::time::Instant::now() >= deadline {
            panic!("waited {PAGE_DEADLINE:?} for {what}; last: {last}");
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The text of the element `css` matches, once it contains `expected`.
pub(crate) async fn wait_for_text(client: &Client, css: &str, expected: &str) -> String {
    wait_for(&format!("{css} to contain {expected:?}"), || async {
        let element = client.find(css).await.map_err(|e| e.to_string())?;
        let text = element.text().await.map_err(|e| e.to_string())?;
        if text.contains(expected) {
            Ok(Some(text))
        } else {
            Err(format!("text is {text:?}"))
        }
    })
    .await
}
