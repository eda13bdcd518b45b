//! The store on a SQLite file: idempotent ingest, atomic assessment, migrations.

use std::sync::Arc;

use earshot::domain::{BrandId, Criticality, Factor, Platform, Post, PostDraft, Priority, SourceId, now_millis};
use earshot::store::{AssessmentOutcome, Claim, NewAssessment, PollCommit, Store, TaskAlert, TaskPlan};

use crate::support::{TestEnv, on_both_backends, scalar_any};

fn post(id: &str, author: &str) -> Post {
    let draft = PostDraft {
        external_id: id.into(),
        text: format!("acme air post {id}"),
        author_handle: author.into(),
        created_at: now_millis(),
        ..PostDraft::default()
    };
    Post::new(Platform::Reddit, draft).unwrap()
}

async fn store(env: &TestEnv) -> Arc<dyn Store> {
    earshot::app::open_store(&env.settings()).await.unwrap()
}

/// Commits `posts` as one poll of the `acme-feed` source.
async fn commit_for_acme(store: &Arc<dyn Store>, posts: &[Post]) {
    let (source, brand) = (SourceId::parse("acme-feed").unwrap(), BrandId::parse("acme").unwrap());
    let commit = PollCommit {
        source: &source,
        brand: &brand,
        posts,
        quarantined: &[],
        cursor: None,
        at: now_millis(),
    };
    store.commit_poll(commit).await.unwrap();
}

fn plan(author: &str, priority: Priority) -> TaskPlan {
    TaskPlan {
        platform: Platform::Reddit,
        author_handle: author.into(),
        conversation_key: None,
        window_start: now_millis() - 3_600_000,
        priority,
        sla_started_at: now_millis() - 60_000,
        due_at: now_millis() + 3_600_000,
        alert: Some(TaskAlert {
            brand: "Acme Air".into(),
            platform: Platform::Reddit,
            author: author.into(),
            text: "text".into(),
            url: None,
            reasons: vec![],
        }),
    }
}

fn claim() -> Claim<'static> {
    Claim {
        holder: "test",
        now: now_millis(),
        ttl_ms: 60_000,
    }
}

fn criticality(points: f32) -> Criticality {
    Criticality::from_factors(vec![Factor {
        name: "negative_sentiment".into(),
        points,
        detail: String::new(),
    }])
}

async fn committing_the_same_posts_twice_stores_them_once(env: TestEnv) {
    let store = store(&env).await;
    let (source, brand) = (SourceId::parse("acme-feed").unwrap(), BrandId::parse("acme").unwrap());
    let posts = vec![post("t3_a", "u/a"), post("t3_b", "u/b")];
    let commit = || PollCommit {
        source: &source,
        brand: &brand,
        posts: &posts,
        quarantined: &[],
        cursor: None,
        at: now_millis(),
    };

    let first = store.commit_poll(commit()).await.unwrap();
    let second = store.commit_poll(commit()).await.unwrap();

    assert_eq!((first.n_new, first.n_duplicates), (2, 0));
    assert_eq!((second.n_new, second.n_duplicates), (0, 2));
    let db = env.raw().await;
    assert_eq!(scalar_any(&db, "SELECT COUNT(*) FROM mentions").await, 2);
}

/// The scoring loop claims chunk n+1 while chunk n is still being saved: the second claim
/// must not hand back chunk n's mentions, which are unassessed and (on SQLite) always ours.
async fn a_holder_with_a_chunk_in_flight_claims_the_mentions_after_it(env: TestEnv) {
    let store = store(&env).await;
    commit_for_acme(
        &store,
        &[
            post("t3_a", "u/a"),
            post("t3_b", "u/b"),
            post("t3_c", "u/c"),
            post("t3_d", "u/d"),
        ],
    )
    .await;

    let first = store.claim_pending_mentions(&claim(), None, 2).await.unwrap();
    let last = first.last().map(|m| m.mention_id);
    let second = store.claim_pending_mentions(&claim(), last, 2).await.unwrap();
    let third = store
        .claim_pending_mentions(&claim(), second.last().map(|m| m.mention_id), 2)
        .await
        .unwrap();
    let from_the_start = store.claim_pending_mentions(&claim(), None, 10).await.unwrap();

    let ids =
        |chunk: &[earshot::store::PendingMention]| chunk.iter().map(|m| m.post.external_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&first), ["t3_a", "t3_b"]);
    assert_eq!(
        ids(&second),
        ["t3_c", "t3_d"],
        "only mentions after the chunk in flight"
    );
    assert!(third.is_empty(), "nothing after the last one: {:?}", ids(&third));
    assert_eq!(
        from_the_start.len(),
        4,
        "unsaved chunks are claimed again from the start (a restart)"
    );
}

async fn an_assessment_is_saved_once_with_its_task_and_a_single_alert(env: TestEnv) {
    let store = store(&env).await;
    let brand = BrandId::parse("acme").unwrap();
    commit_for_acme(&store, &[post("t3_a", "u/a")]).await;
    let mention_id = store.claim_pending_mentions(&claim(), None, 10).await.unwrap()[0].mention_id;
    let assessment = || NewAssessment {
        mention_id,
        brand: brand.clone(),
        criticality: criticality(80.0),
        at: now_millis(),
        task: Some(plan("u/a", Priority::High)),
    };

    let first = store.save_assessment(assessment()).await.unwrap();
    let second = store.save_assessment(assessment()).await.unwrap();

    assert!(matches!(first, AssessmentOutcome::Opened { .. }), "{first:?}");
    assert_eq!(second, AssessmentOutcome::AlreadyAssessed);
    assert!(
        store
            .claim_pending_mentions(&claim(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let db = env.raw().await;
    assert_eq!(scalar_any(&db, "SELECT COUNT(*) FROM tasks").await, 1);
    assert_eq!(scalar_any(&db, "SELECT COUNT(*) FROM alert_outbox").await, 1);
    assert_eq!(
        scalar_any(&db, "SELECT COUNT(*) FROM task_events WHERE kind = 'opened'").await,
        1
    );
}

async fn a_more_urgent_follow_up_raises_the_task_priority_and_brings_its_due_time_forward(env: TestEnv) {
    let store = store(&env).await;
    let brand = BrandId::parse("acme").unwrap();
    commit_for_acme(&store, &[post("t3_a", "u/a"), post("t3_b", "u/a")]).await;
    let pending = store.claim_pending_mentions(&claim(), None, 10).await.unwrap();
    let mut low = plan("u/a", Priority::Medium);
    low.due_at = now_millis() + 86_400_000;
    let mut urgent = plan("u/a", Priority::Critical);
    urgent.due_at = now_millis() + 3_600_000;

    store
        .save_assessment(NewAssessment {
            mention_id: pending[0].mention_id,
            brand: brand.clone(),
            criticality: criticality(60.0),
            at: now_millis(),
            task: Some(low),
        })
        .await
        .unwrap();
    let joined = store
        .save_assessment(NewAssessment {
            mention_id: pending[1].mention_id,
            brand: brand.clone(),
            criticality: criticality(90.0),
            at: now_millis(),
            task: Some(urgent.clone()),
        })
        .await
        .unwrap();

    assert!(matches!(joined, AssessmentOutcome::Joined { .. }), "{joined:?}");
    let task = &store.list_tasks(&Default::default()).await.unwrap()[0];
    assert_eq!(task.priority, Priority::Critical);
    assert_eq!(task.due_at_ms, urgent.due_at);
    assert_eq!(task.criticality, 90.0);
    assert_eq!(task.n_posts, 2);
}

#[test]
fn sqlite_and_postgres_migrations_list_the_same_versions() {
    let versions = |migrator: &sqlx::migrate::Migrator| -> Vec<(i64, String)> {
        migrator
            .iter()
            .map(|m| (m.version, m.description.to_string()))
            .collect()
    };

    assert_eq!(
        versions(&earshot::store::MIGRATOR_SQLITE),
        versions(&earshot::store::MIGRATOR_POSTGRES)
    );
    assert!(earshot::store::MIGRATOR_SQLITE.iter().next().is_some());
}

async fn a_lease_has_one_holder_until_it_expires_or_is_released(env: TestEnv) {
    let store = store(&env).await;
    let now = now_millis();

    let first = store.try_acquire_lease("poll:x", "a", now, 1_000).await.unwrap();
    let second = store.try_acquire_lease("poll:x", "b", now + 10, 1_000).await.unwrap();
    let renewed = store.try_acquire_lease("poll:x", "a", now + 20, 1_000).await.unwrap();
    let after_expiry = store
        .try_acquire_lease("poll:x", "b", now + 2_000, 1_000)
        .await
        .unwrap();
    store.release_lease("poll:x", "b").await.unwrap();
    let after_release = store
        .try_acquire_lease("poll:x", "a", now + 2_010, 1_000)
        .await
        .unwrap();

    assert_eq!(
        (first, second, renewed, after_expiry, after_release),
        (true, false, true, true, true)
    );
}

async fn claims_split_the_work_and_expire_for_a_killed_holder(env: TestEnv) {
    let store = store(&env).await;
    commit_for_acme(&store, &[post("t3_a", "u/a"), post("t3_b", "u/b"), post("t3_c", "u/c")]).await;
    let now = now_millis();

    let by_a = store
        .claim_pending_mentions(
            &Claim {
                holder: "a",
                now,
                ttl_ms: 1_000,
            },
            None,
            2,
        )
        .await
        .unwrap();
    let by_b = store
        .claim_pending_mentions(
            &Claim {
                holder: "b",
                now,
                ttl_ms: 1_000,
            },
            None,
            10,
        )
        .await
        .unwrap();
    let b_again = store
        .claim_pending_mentions(
            &Claim {
                holder: "b",
                now: now + 10,
                ttl_ms: 1_000,
            },
            None,
            10,
        )
        .await
        .unwrap();
    let after_a_died = store
        .claim_pending_mentions(
            &Claim {
                holder: "c",
                now: now + 5_000,
                ttl_ms: 1_000,
            },
            None,
            10,
        )
        .await
        .unwrap();

    assert_eq!((by_a.len(), by_b.len()), (2, 1), "b gets only what a did not claim");
    assert_eq!(b_again.len(), 1, "b's own live claim is still b's");
    assert_eq!(after_a_died.len(), 3, "expired claims are taken over");
}

async fn an_unknown_stored_platform_or_brand_is_corrupt_data_named_in_the_error(env: TestEnv) {
    let store = store(&env).await;
    commit_for_acme(&store, &[post("t3_a", "u/a")]).await;
    let mention_id = store.claim_pending_mentions(&claim(), None, 10).await.unwrap()[0].mention_id;
    let assessment = NewAssessment {
        mention_id,
        brand: BrandId::parse("acme").unwrap(),
        criticality: criticality(80.0),
        at: now_millis(),
        task: Some(plan("u/a", Priority::High)),
    };
    let AssessmentOutcome::Opened { task_id } = store.save_assessment(assessment).await.unwrap() else {
        panic!("the assessment opens a task");
    };
    let db = env.raw().await;
    // A brand row the foreign key accepts, whose id is no brand id.
    sqlx::query(
        "INSERT INTO brands (id, name, threshold, settings_json, active, updated_at_ms) \
         VALUES ('Not A Brand', 'x', 50.0, '{}', 1, 0)",
    )
    .execute(&db)
    .await
    .unwrap();

    for (column, value) in [("platform", "myspace"), ("brand_id", "Not A Brand")] {
        let original: String = sqlx::query_scalar(&format!("SELECT {column} FROM tasks WHERE id = {task_id}"))
            .fetch_one(&db)
            .await
            .unwrap();
        sqlx::query(&format!("UPDATE tasks SET {column} = '{value}' WHERE id = {task_id}"))
            .execute(&db)
            .await
            .unwrap();

        let error = store.task_detail(task_id).await.unwrap_err();

        assert!(
            matches!(&error, earshot::store::StoreError::Corrupt(message) if message.contains(value)),
            "{column} {value:?}: {error:?}"
        );
        sqlx::query(&format!(
            "UPDATE tasks SET {column} = '{original}' WHERE id = {task_id}"
        ))
        .execute(&db)
        .await
        .unwrap();
    }
    store.task_detail(task_id).await.unwrap();
}

/// Leases and claims coordinate instances sharing a PostgreSQL database.
mod several_instances {
    #[tokio::test]
    async fn a_lease_has_one_holder_until_it_expires_or_is_released() {
        super::a_lease_has_one_holder_until_it_expires_or_is_released(crate::support::TestEnv::postgres().await).await
    }

    #[tokio::test]
    async fn claims_split_the_work_and_expire_for_a_killed_holder() {
        super::claims_split_the_work_and_expire_for_a_killed_holder(crate::support::TestEnv::postgres().await).await
    }
}

on_both_backends!(
    committing_the_same_posts_twice_stores_them_once,
    a_holder_with_a_chunk_in_flight_claims_the_mentions_after_it,
    an_assessment_is_saved_once_with_its_task_and_a_single_alert,
    a_more_urgent_follow_up_raises_the_task_priority_and_brings_its_due_time_forward,
    an_unknown_stored_platform_or_brand_is_corrupt_data_named_in_the_error,
);
