//! The `earshot` binary as a process: exit codes, crashes at exact points, graceful stop.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use crate::support::bin::earshot;
use crate::support::config::brand;
use crate::support::{ConfigBuilder, TestEnv, line};

#[test]
fn check_config_lists_every_problem_and_exits_2() {
    let env = TestEnv::new();
    let path = env.path().join("bad.toml");
    ConfigBuilder::new()
        .brand(brand("X", "x").set("keywords", Vec::<&str>::new()))
        .set("http", "port", 1)
        .write(&path);

    let output = earshot()
        .arg("--config")
        .arg(&path)
        .arg("check-config")
        .output()
        .unwrap();

    assert_eq!(output.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("2 problem(s)"), "{stdout}");
    assert!(!stdout.contains("\nin `"), "messages carry the path once: {stdout}");
    assert!(
        stdout.contains("http.port: unknown field `port`") && stdout.contains("brands[0].id"),
        "{stdout}"
    );
}

#[test]
fn a_good_config_checks_ok_and_prints_without_secrets() {
    let env = TestEnv::new();
    let config = env.write_config();

    let check = earshot()
        .arg("--config")
        .arg(&config)
        .arg("check-config")
        .output()
        .unwrap();
    let print = earshot()
        .arg("--config")
        .arg(&config)
        .arg("print-config")
        .output()
        .unwrap();

    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stderr));
    assert!(String::from_utf8_lossy(&check.stdout).contains("ok (1 brands, 2 sources"));
    let printed = String::from_utf8_lossy(&print.stdout);
    assert!(
        printed.contains("id = \"acme-feed\"") && printed.contains("type = \"jsonl\""),
        "{printed}"
    );
}

#[tokio::test]
async fn serve_stops_cleanly_on_sigterm() {
    let env = TestEnv::new();
    env.append("acme-feed", &[line("1", "@jo", "acme air broken")]);
    let config = env.write_config();
    let mut child = earshot()
        .arg("--config")
        .arg(&config)
        .arg("serve")
        .env("EARSHOT_HTTP_BIND", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first_line)
        .unwrap();
    let url = first_line.trim().rsplit(' ').next().unwrap().to_owned();

    let health = reqwest::get(format!("{url}healthz")).await.unwrap();
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .unwrap()
        .unwrap();

    assert_eq!(health.status(), 200);
    assert!(status.success(), "exit status {status:?}");
}

/// `earshot backup` copies the SQLite database while it is in use; the copy, opened as a
/// restored deployment would open it, holds the same queue. A second backup into the same
/// file is refused rather than overwriting it.
#[tokio::test]
async fn a_backup_restores_to_the_same_queue() {
    let env = TestEnv::new();
    env.append(
        "acme-feed",
        &[line(
            "1",
            "@jo",
            "@AcmeAir lost my bag and the refund never came, worst airline",
        )],
    );
    let config = env.write_config();
    let polled = earshot()
        .arg("--config")
        .arg(&config)
        .args(["poll", "--source", "acme-feed", "--once"])
        .output()
        .unwrap();
    assert!(polled.status.success(), "{}", String::from_utf8_lossy(&polled.stderr));
    // The service keeps the database open (a reader mid-transaction) during the backup.
    let live = env.raw().await;
    let mut reading = live.begin().await.unwrap();
    let _: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tasks")
        .fetch_one(&mut *reading)
        .await
        .unwrap();
    let copy = env.path().join("backup.db");

    let backup = earshot()
        .arg("--config")
        .arg(&config)
        .args(["backup", "--to"])
        .arg(&copy)
        .output()
        .unwrap();
    let again = earshot()
        .arg("--config")
        .arg(&config)
        .args(["backup", "--to"])
        .arg(&copy)
        .output()
        .unwrap();
    reading.rollback().await.unwrap();

    assert!(backup.status.success(), "{}", String::from_utf8_lossy(&backup.stderr));
    assert!(String::from_utf8_lossy(&backup.stdout).contains("Backed up into"));
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    let settings = env
        .config()
        .database(&format!("sqlite://{}", copy.display()))
        .settings();
    let restored = earshot::app::open_store(&settings).await.unwrap();
    let tasks = restored
        .list_tasks(&earshot::store::TaskFilter {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].author_handle, "@jo");
}

#[cfg(feature = "failpoints")]
mod crashes {
    use super::*;
    use crate::support::on_both_backends;

    /// One poll and scoring pass. The runs share an instance id, as a restarted service with
    /// `[instances] id` does: on PostgreSQL it then resumes its own claims at once instead of
    /// waiting for them to expire (claims of other instances are waited for).
    fn poll_once(config: &std::path::Path, failpoint: Option<&str>) -> std::process::Output {
        let mut command = earshot();
        command
            .arg("--config")
            .arg(config)
            .env("EARSHOT_INSTANCE_ID", "crash-tests")
            .args(["poll", "--source", "acme-feed", "--once"]);
        if let Some(failpoint) = failpoint {
            command.env("FAILPOINTS", format!("{failpoint}=return"));
        }
        command.output().unwrap()
    }

    fn complaints() -> Vec<String> {
        (0..5)
            .map(|i| {
                line(
                    &format!("c{i}"),
                    &format!("@user{i}"),
                    "@AcmeAir lost my bag, worst airline, refund now",
                )
            })
            .collect()
    }

    async fn a_crash_between_poll_and_commit_loses_nothing_and_doubles_nothing(env: TestEnv) {
        env.append("acme-feed", &complaints());
        let config = env.write_config();

        let crashed = poll_once(&config, Some("pipeline::after_poll"));
        let posts_after_crash = env.scalar_of("SELECT COUNT(*) FROM posts").await;
        let cursors_after_crash = env
            .scalar_of("SELECT COUNT(*) FROM source_state WHERE cursor IS NOT NULL")
            .await;
        let rerun = poll_once(&config, None);
        let third = poll_once(&config, None);

        assert!(!crashed.status.success(), "the process died at the fail point");
        assert_eq!(
            (posts_after_crash, cursors_after_crash),
            (0, 0),
            "nothing was committed"
        );
        assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
        assert!(String::from_utf8_lossy(&third.stdout).contains("\"n_new\":0"));
        assert_eq!(env.scalar_of("SELECT COUNT(*) FROM posts").await, 5);
        assert_eq!(env.scalar_of("SELECT COUNT(*) FROM tasks").await, 5);
        assert_eq!(env.scalar_of("SELECT COUNT(*) FROM alert_outbox").await, 5);
    }

    async fn a_crash_after_commit_but_before_scoring_is_finished_by_the_next_run(env: TestEnv) {
        env.append("acme-feed", &complaints());
        let config = env.write_config();

        let crashed = poll_once(&config, Some("pipeline::after_commit"));
        let committed = env.scalar_of("SELECT COUNT(*) FROM mentions").await;
        let assessed = env.scalar_of("SELECT COUNT(*) FROM assessments").await;
        let rerun = poll_once(&config, None);

        assert!(!crashed.status.success());
        assert_eq!(
            (committed, assessed),
            (3, 0),
            "the first batch (3 lines) was committed, nothing scored"
        );
        assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
        assert_eq!(env.scalar_of("SELECT COUNT(*) FROM mentions").await, 5);
        assert_eq!(env.scalar_of("SELECT COUNT(*) FROM assessments").await, 5);
        assert_eq!(env.scalar_of("SELECT COUNT(*) FROM tasks").await, 5);
        assert_eq!(env.assessed_flag_disagreements().await, 0);
    }

    async fn a_crash_between_sentiments_and_assessments_reuses_the_saved_scores(env: TestEnv) {
        env.append("acme-feed", &complaints());
        let config = env.write_config();

        let crashed = poll_once(&config, Some("pipeline::after_sentiments"));
        let sentiments = env.scalar_of("SELECT COUNT(*) FROM sentiments").await;
        let rerun = poll_once(&config, None);

        assert!(!crashed.status.success());
        assert_eq!(sentiments, 5);
        assert!(rerun.status.success(), "{}", String::from_utf8_lossy(&rerun.stderr));
        assert_eq!(env.scalar_of("SELECT COUNT(*) FROM sentiments").await, 5);
        assert_eq!(env.scalar_of("SELECT COUNT(*) FROM tasks").await, 5);
        assert_eq!(env.scalar_of("SELECT COUNT(*) FROM alert_outbox").await, 5);
        assert_eq!(env.assessed_flag_disagreements().await, 0);
    }

    on_both_backends!(
        a_crash_between_poll_and_commit_loses_nothing_and_doubles_nothing,
        a_crash_after_commit_but_before_scoring_is_finished_by_the_next_run,
        a_crash_between_sentiments_and_assessments_reuses_the_saved_scores,
    );
}
