//! Source health: silence detection from the real store, fed by commits at chosen times.

use earshot::domain::{BrandId, Platform, Post, PostDraft, SourceId, now_millis};
use earshot::store::PollCommit;

use crate::support::Table;
use crate::support::sources::SourceEnv;

const H: i64 = 3_600_000;

fn post(id: &str) -> Post {
    Post::new(
        Platform::Other,
        PostDraft {
            external_id: id.into(),
            text: "Acme Air lost my bag".into(),
            author_handle: "@jo".into(),
            created_at: 0,
            ..PostDraft::default()
        },
    )
    .unwrap()
}

#[tokio::test]
async fn a_source_quiet_far_longer_than_usual_is_reported_silent() {
    let env = SourceEnv::new(Table::new().set("type", "hackernews").set("query", "acme air"));
    let pipeline = env.pipeline().await;
    let store = pipeline.store();
    let (source, brand) = (SourceId::parse("src").unwrap(), BrandId::parse("acme").unwrap());
    let now = now_millis();
    // New mentions hourly, then ten hours of successful but empty polls.
    for (idx, hours_ago) in [13, 12, 11, 10].into_iter().enumerate() {
        let posts = [post(&idx.to_string())];
        let commit = PollCommit {
            source: &source,
            brand: &brand,
            posts: &posts,
            quarantined: &[],
            cursor: None,
            at: now - hours_ago * H,
        };
        store.commit_poll(commit).await.unwrap();
    }
    let health = store.source_health().await.unwrap();
    assert_eq!(health[0].usual_gap_ms, Some(H));
    assert_eq!(health[0].silent, None, "the last poll with news was the last poll");

    let empty = PollCommit {
        source: &source,
        brand: &brand,
        posts: &[],
        quarantined: &[],
        cursor: None,
        at: now - 60_000,
    };
    store.commit_poll(empty).await.unwrap();

    let health = store.source_health().await.unwrap();
    assert_eq!(health[0].last_new_at_ms, Some(now - 10 * H));
    let reason = health[0].silent.clone().expect("silent");
    assert!(
        reason.starts_with("no new mentions for 10h") && reason.ends_with("usually every 1h 00m"),
        "{reason}"
    );
}
