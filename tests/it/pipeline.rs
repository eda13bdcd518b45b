//! The pipeline end to end on a real SQLite file: poll, commit, score, assess, open tasks.

use earshot::domain::SourceId;
use earshot::sources::jsonl::JsonlSource;

use crate::support::{TestEnv, line, on_both_backends, scalar_any};

fn source(env: &TestEnv, id: &str) -> JsonlSource {
    let settings = env.settings();
    let source = settings.source(&SourceId::parse(id).unwrap()).unwrap();
    match &source.kind {
        earshot::sources::SourceKind::Jsonl(jsonl) => JsonlSource::new(source.id.clone(), jsonl.clone()),
        other => panic!("{id} is a {} source, not jsonl", other.type_name()),
    }
}

async fn complaints_open_tasks_praise_does_not_and_a_rerun_changes_nothing(env: TestEnv) {
    env.append(
        "acme-feed",
        &[
            line(
                "1",
                "@jo",
                "@AcmeAir lost my bag and the refund never came, worst airline, never again",
            ),
            line("2", "@kim", "Acme Air crew were great, thanks for the smooth flight"),
            line("3", "@lee", "Flying Acme Air to Oslo tomorrow"),
        ],
    );
    let pipeline = env.pipeline().await;
    let feed = source(&env, "acme-feed");

    let poll = pipeline.poll_source(&feed).await.unwrap();
    let scoring = pipeline.score_pending().await.unwrap();

    assert_eq!((poll.n_fetched, poll.n_new, poll.n_quarantined), (3, 3, 0));
    assert_eq!(
        (scoring.n_scored, scoring.n_assessed, scoring.n_tasks_opened),
        (3, 3, 1)
    );
    let db = env.raw().await;
    assert_eq!(scalar_any(&db, "SELECT COUNT(*) FROM tasks").await, 1);
    let flagged_author: String = sqlx::query_scalar("SELECT author_handle FROM tasks")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(flagged_author, "@jo");
    assert_eq!(
        scalar_any(&db, "SELECT COUNT(*) FROM alert_outbox WHERE kind = 'task_opened'").await,
        1
    );

    let again = pipeline.poll_source(&feed).await.unwrap();
    let rescored = pipeline.score_pending().await.unwrap();

    assert_eq!(
        (again.n_fetched, again.n_new),
        (0, 0),
        "the cursor moved past what was committed"
    );
    assert_eq!(rescored.n_assessed, 0);
    assert_eq!(scalar_any(&db, "SELECT COUNT(*) FROM posts").await, 3);
}

async fn a_malformed_line_is_quarantined_with_its_reason_and_the_rest_is_ingested(env: TestEnv) {
    env.append(
        "acme-feed",
        &[
            line("1", "@jo", "Acme Air app is broken again"),
            "{\"platform\":\"x\",\"id\":\"2\",\"author\":".to_owned(),
            line("3", "@kim", "Acme Air lounge is lovely"),
            r#"{"platform":"x","id":"4","author":"@ann","text":"acme air","created_at":"not a date"}"#.to_owned(),
        ],
    );
    let pipeline = env.pipeline().await;

    let report = pipeline.poll_source(&source(&env, "acme-feed")).await.unwrap();

    assert_eq!((report.n_new, report.n_quarantined), (2, 2));
    let db = env.raw().await;
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT location, reason, raw FROM quarantine ORDER BY id")
            .fetch_all(&db)
            .await
            .unwrap();
    assert_eq!(rows[0].0, "line 2");
    assert!(rows[0].1.starts_with("invalid JSON"), "{}", rows[0].1);
    assert_eq!(rows[0].2, "{\"platform\":\"x\",\"id\":\"2\",\"author\":");
    assert_eq!(rows[1].0, "line 4");
    assert!(rows[1].1.contains("not RFC 3339"), "{}", rows[1].1);
}

async fn a_partial_last_line_waits_until_it_is_complete(env: TestEnv) {
    env.append("acme-other", &[line("1", "@jo", "Acme Air is late again")]);
    let partial = line("2", "@kim", "Acme Air lost my luggage");
    let (head, tail) = partial.split_at(20);
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(env.feed("acme-other"))
            .unwrap();
        write!(file, "{head}").unwrap();
    }
    let pipeline = env.pipeline().await;
    let other = source(&env, "acme-other");

    let first = pipeline.poll_source(&other).await.unwrap();
    {
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(env.feed("acme-other"))
            .unwrap();
        writeln!(file, "{tail}").unwrap();
    }
    let second = pipeline.poll_source(&other).await.unwrap();

    assert_eq!(
        (first.n_new, first.n_quarantined),
        (1, 0),
        "the half-written line is not read"
    );
    assert_eq!((second.n_new, second.n_quarantined), (1, 0), "it is read once complete");
}

async fn a_poll_pages_through_batches_committing_each_with_its_cursor(env: TestEnv) {
    let lines: Vec<String> = (0..8)
        .map(|i| line(&i.to_string(), "@jo", "acme air delayed again"))
        .collect();
    env.append("acme-feed", &lines);
    let pipeline = env.pipeline().await;

    let report = pipeline.poll_source(&source(&env, "acme-feed")).await.unwrap();

    assert_eq!(report.n_batches, 3, "batch_lines = 3 gives 3 + 3 + 2");
    assert_eq!(report.n_new, 8);
    let db = env.raw().await;
    let cursor: String = sqlx::query_scalar("SELECT cursor FROM source_state WHERE source_id = 'acme-feed'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(cursor.contains("\"line\":8"), "{cursor}");
}

async fn the_same_post_from_two_sources_is_stored_once_and_own_and_excluded_posts_are_skipped(env: TestEnv) {
    let shared = line("42", "@jo", "acme air cancelled my flight, I want a refund");
    env.append(
        "acme-feed",
        &[
            shared.clone(),
            line("43", "@AcmeAir", "Sorry to hear that, Acme Air here"),
        ],
    );
    env.append(
        "acme-other",
        &[shared, line("44", "@ann", "acme anvils and acme air, both broken")],
    );
    let pipeline = env.pipeline().await;

    let feed = pipeline.poll_source(&source(&env, "acme-feed")).await.unwrap();
    let other = pipeline.poll_source(&source(&env, "acme-other")).await.unwrap();

    assert_eq!((feed.n_new, feed.n_own_posts), (1, 1));
    assert_eq!((other.n_new, other.n_duplicates, other.n_excluded), (0, 1, 1));
    let db = env.raw().await;
    assert_eq!(scalar_any(&db, "SELECT COUNT(*) FROM posts").await, 1);
}

async fn follow_ups_from_the_same_author_join_the_open_task(env: TestEnv) {
    env.append(
        "acme-feed",
        &[
            line("1", "@jo", "@AcmeAir lost my bag, worst service, I want a refund"),
            line("2", "@jo", "@AcmeAir still no bag and no reply. Unacceptable, terrible"),
            line(
                "3",
                "@kim",
                "@AcmeAir my flight was cancelled and I was overcharged, awful",
            ),
        ],
    );
    let pipeline = env.pipeline().await;

    pipeline.poll_source(&source(&env, "acme-feed")).await.unwrap();
    let report = pipeline.score_pending().await.unwrap();

    assert_eq!((report.n_tasks_opened, report.n_tasks_joined), (2, 1));
    let db = env.raw().await;
    let jo_posts = scalar_any(
        &db,
        "SELECT COUNT(*) FROM assessments a JOIN tasks t ON t.id = a.task_id WHERE t.author_handle = '@jo'",
    )
    .await;
    assert_eq!(jo_posts, 2);
    assert_eq!(
        scalar_any(&db, "SELECT COUNT(*) FROM task_events WHERE kind = 'post_added'").await,
        1
    );
    assert_eq!(
        scalar_any(&db, "SELECT COUNT(*) FROM alert_outbox").await,
        2,
        "one alert per opened task"
    );
}

#[tokio::test]
async fn a_failed_commit_leaves_the_cursor_where_it_was_and_the_retry_ingests_everything_once() {
    let env = TestEnv::new();
    env.append(
        "acme-feed",
        &[line("1", "@jo", "acme air broken"), line("2", "@kim", "acme air late")],
    );
    let pipeline = env.pipeline().await;
    let feed = source(&env, "acme-feed");
    // Another process holds the write lock for longer than our busy timeout.
    let mut blocker =
        sqlx::SqliteConnection::connect_with(&sqlx::sqlite::SqliteConnectOptions::new().filename(env.db_path()))
            .await
            .unwrap();
    use sqlx::Connection;
    sqlx::query("BEGIN EXCLUSIVE").execute(&mut blocker).await.unwrap();

    let failed = tokio::time::timeout(std::time::Duration::from_secs(30), pipeline.poll_source(&feed))
        .await
        .unwrap();
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    let retried = pipeline.poll_source(&feed).await.unwrap();

    assert!(failed.is_err(), "the commit cannot take the lock");
    assert_eq!(retried.n_new, 2);
    let db = env.raw().await;
    assert_eq!(scalar_any(&db, "SELECT COUNT(*) FROM posts").await, 2);
}

async fn two_instances_scoring_at_once_assess_each_mention_once_and_open_one_task_per_conversation(env: TestEnv) {
    let lines: Vec<String> = (0..40)
        .map(|i| {
            line(
                &format!("p{i}"),
                &format!("@angry{}", i % 8),
                "@AcmeAir lost my bag, worst airline, refund now",
            )
        })
        .collect();
    env.append("acme-feed", &lines);
    let first = env.pipeline().await;
    let second = env.pipeline().await;
    first.poll_source(&source(&env, "acme-feed")).await.unwrap();

    let (a, b) = tokio::join!(first.score_pending(), second.score_pending());

    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.n_assessed + b.n_assessed, 40, "{a:?} {b:?}");
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM assessments").await, 40);
    assert_eq!(
        env.scalar_of("SELECT COUNT(*) FROM tasks").await,
        8,
        "one task per author"
    );
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM alert_outbox").await, 8);
    assert_eq!(env.assessed_flag_disagreements().await, 0);
}

/// The shipped complaint model through the whole pipeline: its heads are stored with the
/// sentiment; a brand with a high threshold (90) still gets a task for a VIP's or a
/// high-reach author's complaint (half the threshold, at least high priority), while the
/// same complaint from anyone else stays below it.
async fn the_complaint_model_stores_its_heads_and_escalates_vips_and_high_reach_authors(env: TestEnv) {
    let complaint = "@AcmeAir you lost my bag three days ago, nobody answers the phone and I want a refund now";
    let big = serde_json::json!({
        "platform": "x", "id": "3", "author": "@big_account", "followers": 480_000,
        "text": complaint, "created_at": chrono::Utc::now().to_rfc3339(),
    });
    env.append(
        "acme-feed",
        &[
            line("1", "@jo", complaint),
            line("2", "@Press_Desk", complaint),
            big.to_string(),
            line("4", "@kim", "Acme Air crew were great, thanks for the smooth flight"),
        ],
    );
    let settings = env
        .config()
        .scorer("model")
        .brand_set("acme", "threshold", 90)
        .brand_set("acme", "vip_handles", vec!["press_desk"])
        .settings();
    let settings = std::sync::Arc::new(settings);
    let store = earshot::app::open_store(&settings).await.unwrap();
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/complaint-minilm-l6");
    let scorer = earshot::scoring::model::TransformerScorer::load(&model).unwrap();
    let scoring = earshot::scoring::ScoringService::start(Box::new(scorer), 2, 8);
    let pipeline = earshot::pipeline::Pipeline::new(store, scoring, settings);

    pipeline.poll_source(&source(&env, "acme-feed")).await.unwrap();
    let report = pipeline.score_pending().await.unwrap();

    assert_eq!((report.n_scored, report.n_assessed), (4, 4));
    let db = env.raw().await;
    /// author, p(complaint), severity, severity distribution
    type Heads = (String, Option<f64>, Option<String>, Option<String>);
    let heads: Vec<Heads> = sqlx::query_as(
        "SELECT p.author_handle, s.complaint, s.severity, s.severity_json
         FROM posts p JOIN sentiments s ON s.post_id = p.id ORDER BY p.external_id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let p_complaint: Vec<f64> = heads.iter().map(|h| h.1.expect("complaint head stored")).collect();
    assert!(p_complaint[0] > 0.5 && p_complaint[3] < 0.5, "{heads:?}");
    assert!(
        heads
            .iter()
            .all(|h| h.2.is_some() && h.3.as_deref().is_some_and(|j| j.starts_with('[')))
    );

    let mut tasks: Vec<(String, i64)> = sqlx::query_as("SELECT author_handle, priority FROM tasks")
        .fetch_all(&db)
        .await
        .unwrap();
    tasks.sort();
    assert_eq!(
        tasks.iter().map(|t| t.0.as_str()).collect::<Vec<_>>(),
        ["@Press_Desk", "@big_account"],
        "the same complaint from @jo stays below 90"
    );
    let priorities: Vec<Option<earshot::domain::Priority>> = tasks
        .iter()
        .map(|t| earshot::domain::Priority::from_rank(t.1))
        .collect();
    assert!(
        priorities.iter().all(|p| matches!(
            p,
            Some(earshot::domain::Priority::High | earshot::domain::Priority::Critical)
        )),
        "{tasks:?}"
    );
    let factors: Vec<String> = sqlx::query_scalar(
        "SELECT a.factors_json FROM assessments a JOIN mentions m ON m.id = a.mention_id
         JOIN posts p ON p.id = m.post_id WHERE p.external_id IN ('2', '3') ORDER BY p.external_id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    assert!(
        factors[0].contains("\"vip\"") && factors[1].contains("\"high_reach\""),
        "{factors:?}"
    );
    assert!(factors[1].contains("480k followers"), "{}", factors[1]);
}

/// A stop during scoring (SIGTERM with a backlog): the chunk in flight (256 mentions) is
/// assessed whole, the rest stays pending for the next start, which assesses it once.
async fn a_stop_finishes_the_chunks_in_flight_and_leaves_the_backlog_for_the_next_start(env: TestEnv) {
    use earshot::pipeline::{ASSESS_CHUNK, CHUNKS_IN_FLIGHT};
    use earshot::scoring::{ScoreInput, Scorer, ScoringError, lexicon::LexiconScorer};
    use tokio_util::sync::CancellationToken;

    /// The lexicon scorer, with the stop arriving while it scores its first batch.
    struct StopDuringFirstBatch {
        stop: CancellationToken,
        inner: LexiconScorer,
    }
    impl Scorer for StopDuringFirstBatch {
        fn name(&self) -> &str {
            self.inner.name()
        }
        fn score_batch(
            &mut self,
            inputs: &[ScoreInput],
        ) -> Result<Vec<earshot::domain::SentimentOutcome>, ScoringError> {
            self.stop.cancel();
            self.inner.score_batch(inputs)
        }
    }

    const POSTS: usize = 1000;
    let lines: Vec<String> = (0..POSTS)
        .map(|i| line(&i.to_string(), &format!("@user{i}"), "Acme Air lost my bag, refund now"))
        .collect();
    env.append("acme-feed", &lines);
    let settings = std::sync::Arc::new(env.settings());
    let store = earshot::app::open_store(&settings).await.unwrap();
    let stop = CancellationToken::new();
    let scorer = StopDuringFirstBatch {
        stop: stop.clone(),
        inner: LexiconScorer,
    };
    let scoring = earshot::scoring::ScoringService::start(Box::new(scorer), 2, 8);
    let pipeline = earshot::pipeline::Pipeline::new(store, scoring, settings);
    // The test feed reads 3 lines a batch, 50 batches a poll: poll until all are in.
    while pipeline.poll_source(&source(&env, "acme-feed")).await.unwrap().n_new > 0 {}

    let stopped = pipeline.score_pending_until(&stop).await.unwrap();
    let assessed_at_stop = env.scalar_of("SELECT COUNT(*) FROM assessments").await;
    let next_start = pipeline.score_pending().await.unwrap();

    // The stop arrives while the first chunk is scored; whether the second was claimed by
    // then is a race, so either one or two whole chunks are finished, never more.
    let (chunk, in_flight) = (ASSESS_CHUNK, ASSESS_CHUNK * CHUNKS_IN_FLIGHT);
    assert!(
        stopped.n_assessed > 0 && stopped.n_assessed % chunk == 0 && stopped.n_assessed <= in_flight,
        "the chunks in flight are finished whole, and no more are claimed: {}",
        stopped.n_assessed
    );
    assert_eq!(assessed_at_stop, stopped.n_assessed as i64, "and nothing past them");
    assert_eq!(
        next_start.n_assessed,
        POSTS - stopped.n_assessed,
        "the next start assesses the rest"
    );
    assert_eq!(env.scalar_of("SELECT COUNT(*) FROM assessments").await, POSTS as i64);
}

/// One scoring chunk, one author writing three times (and another author once): each
/// mention's history counts the author's mentions assessed before it — in the same chunk,
/// saved in one transaction — as if each had been saved before the next was assessed.
async fn a_chunk_counts_an_authors_earlier_mentions_in_the_same_chunk(env: TestEnv) {
    env.append(
        "acme-feed",
        &[
            line("1", "@ann", "Acme Air lost my bag, terrible service, refund now"),
            line("2", "@bob", "Acme Air lost my bag, terrible service, refund now"),
            line("3", "@ann", "Acme Air still terrible, still no bag, awful"),
        ],
    );
    let pipeline = env.pipeline().await;

    pipeline.poll_source(&source(&env, "acme-feed")).await.unwrap();
    let report = pipeline.score_pending().await.unwrap();

    assert_eq!(report.n_assessed, 3);
    let db = env.raw().await;
    let factors: Vec<(String, String)> = sqlx::query_as(
        "SELECT p.external_id, a.factors_json FROM assessments a
         JOIN mentions m ON m.id = a.mention_id JOIN posts p ON p.id = m.post_id ORDER BY p.external_id",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    let history = |id: &str| {
        let json = &factors.iter().find(|f| f.0 == id).unwrap().1;
        let parsed: Vec<serde_json::Value> = serde_json::from_str(json).unwrap();
        parsed
            .iter()
            .find(|f| f["name"] == "author_history")
            .map(|f| f["detail"].as_str().unwrap().to_owned())
    };
    assert_eq!(history("1"), None, "ann's first mention has no history");
    assert_eq!(history("2"), None, "bob's history is his own");
    assert_eq!(
        history("3").as_deref(),
        Some("1 negative of 1 mentions in the last 14 days"),
        "ann's second mention sees her first, from the same chunk"
    );
}

on_both_backends!(
    a_chunk_counts_an_authors_earlier_mentions_in_the_same_chunk,
    a_stop_finishes_the_chunks_in_flight_and_leaves_the_backlog_for_the_next_start,
    the_complaint_model_stores_its_heads_and_escalates_vips_and_high_reach_authors,
    two_instances_scoring_at_once_assess_each_mention_once_and_open_one_task_per_conversation,
    complaints_open_tasks_praise_does_not_and_a_rerun_changes_nothing,
    a_malformed_line_is_quarantined_with_its_reason_and_the_rest_is_ingested,
    a_partial_last_line_waits_until_it_is_complete,
    a_poll_pages_through_batches_committing_each_with_its_cursor,
    the_same_post_from_two_sources_is_stored_once_and_own_and_excluded_posts_are_skipped,
    follow_ups_from_the_same_author_join_the_open_task,
);

/// Two instances on one PostgreSQL database, each firing the same cron trigger (the second a
/// moment later, as clocks and schedulers drift): the source is polled once. After a failed
/// poll, the lease is held through the backoff, so no instance polls before it ends.
#[tokio::test]
async fn one_instance_polls_each_trigger_and_a_failing_source_waits_on_all() {
    use earshot::pipeline::poll_lease::{BACKOFF_BASE, TriggerOutcome, poll_once_per_trigger};

    let env = TestEnv::postgres().await;
    env.append("acme-feed", &[line("1", "@jo", "Acme Air lost my bag")]);
    let (a, b) = (env.pipeline().await, env.pipeline().await);
    let feed = source(&env, "acme-feed");
    let new_posts = |outcome: TriggerOutcome| match outcome {
        TriggerOutcome::Polled { result: Ok(report), .. } => Some(report.n_new),
        TriggerOutcome::Polled { result: Err(error), .. } => panic!("the poll failed: {error}"),
        TriggerOutcome::Skipped => None,
    };

    let first = new_posts(poll_once_per_trigger(&a, &feed, 0).await);
    env.append("acme-feed", &[line("2", "@max", "Acme Air cancelled my flight")]);
    let late = new_posts(poll_once_per_trigger(&b, &feed, 0).await);
    let next = new_posts(poll_once_per_trigger(&a, &feed, 0).await);

    assert_eq!(first, Some(1));
    assert_eq!(late, None, "the other instance's late trigger found the lease held");
    assert_eq!(next, Some(1), "the holder's next trigger polls");

    // The feed file disappears: after a fourth failure in a row the backoff is 8 × 30 s,
    // and the lease is held that long, for every instance.
    std::fs::remove_file(env.feed("acme-feed")).unwrap();
    let failed = poll_once_per_trigger(&a, &feed, 3).await;
    let TriggerOutcome::Polled {
        result: Err(_),
        wait: Some(wait),
    } = failed
    else {
        panic!("a failed poll with a wait: {failed:?}");
    };
    assert_eq!(wait, BACKOFF_BASE * 8);
    let held_ms = env
        .scalar_of(&format!(
            "SELECT expires_at_ms - {} FROM leases WHERE name = 'poll:acme-feed'",
            earshot::domain::now_millis()
        ))
        .await;
    assert!(held_ms > 200_000, "held for the backoff: {held_ms} ms left");
    assert!(matches!(
        poll_once_per_trigger(&b, &feed, 0).await,
        TriggerOutcome::Skipped
    ));
}
