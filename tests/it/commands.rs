//! `earshot eval` and `earshot bench` as processes, with the lexicon baseline so they run fast.

use crate::support::ConfigBuilder;
use crate::support::bin::earshot;

#[test]
fn eval_prints_metrics_and_skips_bad_rows_with_their_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("reviewed.csv");
    std::fs::write(
        &data,
        "text,label,complaint\n\
         \"I love this, thank you!\",positive,0\n\
         \"Worst service ever, I want a refund\",negative,1\n\
         The shop opens at nine,neutral,0\n\
         broken row,sideways,0\n",
    )
    .unwrap();

    let output = earshot()
        .arg("--config")
        .arg(dir.path().join("none.toml"))
        .args(["eval", "--scorer", "lexicon", "--threshold", "30", "--data"])
        .arg(&data)
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("skipped line 5: label \"sideways\""), "{stdout}");
    assert!(stdout.contains("on 3 posts (1 rows skipped)"), "{stdout}");
    assert!(stdout.contains("macro recall"), "{stdout}");
    assert!(stdout.contains("confusion (rows true, columns predicted)"), "{stdout}");
    assert!(stdout.contains("complaint detection (criticality >= 30)"), "{stdout}");
}

#[test]
fn bench_reports_scoring_and_pipeline_and_writes_the_posts() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("earshot.toml");
    ConfigBuilder::new().scorer("lexicon").write(&config);
    let posts = dir.path().join("posts.jsonl");

    let output = earshot()
        .arg("--config")
        .arg(&config)
        .args(["bench", "--posts", "60", "--batch-size", "8", "--write-posts"])
        .arg(&posts)
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("scoring alone:") && stdout.contains("(60 posts in"),
        "{stdout}"
    );
    assert!(
        stdout.contains("whole pipeline:") && stdout.contains("60 posts read, 60 mentions, 60 scored"),
        "{stdout}"
    );
    assert!(stdout.contains("peak RSS"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&posts).unwrap().lines().count(), 60);
}

/// The ingest load benchmark, small: concurrent clients, a kill -9 halfway, retries — and
/// every post is stored exactly once (the command fails otherwise).
#[test]
fn the_ingest_bench_stores_every_post_exactly_once_across_a_kill() {
    let output = earshot()
        .args([
            "ingest-bench",
            "--clients",
            "8",
            "--requests",
            "40",
            "--posts-per-request",
            "5",
            "--kill",
        ])
        .output()
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("stored exactly once: yes (200 posts stored, 200 mentions, of 200 sent)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("posts/s accepted") && stdout.contains("p99"),
        "{stdout}"
    );
    assert!(
        stdout.contains(" MiB, then "),
        "two servers, before and after the kill: {stdout}"
    );
}
