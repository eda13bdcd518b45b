//! What every polled source must do, checked the same way for each (vector's
//! `run_and_assert_source_compliance`): each platform's test file serves a few mentions from
//! its loopback server (or file) in the platform's documented shape, answering the follow-up
//! request the way the platform does, and calls `assert_source_conforms`.

use std::collections::BTreeSet;

use earshot::domain::{BrandId, Cursor, Platform, Post, PostDraft, SourceId};
use earshot::pipeline::PipelineError;
use earshot::sources::SourceError;
use earshot::store::PollCommit;
use wiremock::MockServer;

use crate::support::sources::{SourceEnv, stored_ids};

/// Most batches one poll may take to deliver a fixture's few posts.
const MAX_BATCHES: usize = 10;

/// Checks that a source, polled from the start, returns exactly `expected_ids` as valid posts
/// of `platform`, each batch with a cursor; that a poll from that cursor brings nothing new,
/// through the pipeline too; and that a stored cursor it cannot read is a recorded health
/// problem that neither moves the cursor nor asks the platform (`server`, when there is one).
pub(crate) async fn assert_source_conforms(
    env: &SourceEnv,
    server: Option<&MockServer>,
    platform: Platform,
    expected_ids: &[&str],
) {
    let source = env.source();
    let expected: BTreeSet<String> = expected_ids.iter().map(|id| (*id).to_owned()).collect();

    // From the start: every batch carries the cursor after its posts.
    let mut seen = Vec::new();
    let mut cursor: Option<Cursor> = None;
    for n_batches in 1.. {
        assert!(n_batches <= MAX_BATCHES, "the first poll does not end");
        let batch = source.poll(cursor.as_ref()).await.expect("the first poll succeeds");
        assert!(batch.quarantined.is_empty(), "a clean fixture: {:?}", batch.quarantined);
        for post in &batch.posts {
            assert_valid(post, platform);
        }
        seen.extend(batch.posts.iter().map(|p| p.external_id.clone()));
        cursor = Some(batch.cursor.expect("a batch carries the cursor after its posts"));
        if !batch.has_more {
            break;
        }
    }
    let first: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), first.len(), "no post twice in one poll: {seen:?}");
    assert_eq!(first, expected, "the first poll brings the served posts");

    // From that cursor: nothing the first poll did not already bring.
    let again = source.poll(cursor.as_ref()).await.expect("the second poll succeeds");
    let new: Vec<&str> = again
        .posts
        .iter()
        .map(|p| p.external_id.as_str())
        .filter(|id| !first.contains(*id))
        .collect();
    assert!(new.is_empty(), "a poll from the cursor brings nothing new: {new:?}");

    // The same through the pipeline: committed once, a second poll adds nothing.
    let pipeline = env.pipeline().await;
    let report = pipeline.poll_source(source.as_ref()).await.unwrap();
    assert_eq!(report.n_new, expected.len(), "{report:?}");
    let report = pipeline.poll_source(source.as_ref()).await.unwrap();
    assert_eq!(report.n_new, 0, "{report:?}");
    let stored = stored_ids(&pipeline).await;
    assert_eq!(stored.iter().cloned().collect::<BTreeSet<_>>(), expected);

    // A stored cursor the source cannot read: reported, not a silent restart.
    for unreadable in ["{not a cursor", r#""a string""#] {
        let garbage = Cursor(unreadable.to_owned());
        let error = source.poll(Some(&garbage)).await.unwrap_err();
        assert!(
            matches!(error, SourceError::UnreadableCursor { .. }),
            "{unreadable}: {error:?}"
        );
    }
    let (id, brand) = (SourceId::parse("src").unwrap(), BrandId::parse("acme").unwrap());
    let garbage = Cursor("{not a cursor".to_owned());
    let store = pipeline.store();
    store
        .commit_poll(PollCommit {
            source: &id,
            brand: &brand,
            posts: &[],
            quarantined: &[],
            cursor: Some(&garbage),
            at: earshot::domain::now_millis(),
        })
        .await
        .unwrap();
    let n_requests = match server {
        Some(server) => server.received_requests().await.unwrap_or_default().len(),
        None => 0,
    };

    let error = pipeline.poll_source(source.as_ref()).await.unwrap_err();

    assert!(
        matches!(
            error,
            PipelineError::Source {
                error: SourceError::UnreadableCursor { .. },
                ..
            }
        ),
        "{error:?}"
    );
    let health = store.source_health().await.unwrap();
    let health = health.iter().find(|h| h.source == "src").expect("health of src");
    assert_eq!(health.last_error_kind.as_deref(), Some("cursor"));
    assert!(
        health
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("stored cursor cannot be read")),
        "{:?}",
        health.last_error
    );
    assert_eq!(health.consecutive_failures, 1);
    assert_eq!(store.cursor(&id).await.unwrap(), Some(garbage), "the cursor stays");
    assert_eq!(stored_ids(&pipeline).await, stored, "nothing read from the start");
    if let Some(server) = server {
        let n_after = server.received_requests().await.unwrap_or_default().len();
        assert_eq!(n_after, n_requests, "the platform is not asked");
    }
}

/// A post as the source returned it is already valid: validating it again changes nothing.
fn assert_valid(post: &Post, platform: Platform) {
    assert_eq!(post.platform, platform, "{post:?}");
    assert!(post.created_at > 0, "a creation time: {post:?}");
    let draft = PostDraft {
        external_id: post.external_id.clone(),
        text: post.text.clone(),
        author_handle: post.author_handle.clone(),
        author_name: post.author_name.clone(),
        author_followers: post.author_followers,
        created_at: post.created_at,
        url: post.url.clone(),
        lang: post.lang.clone(),
        engagement: post.engagement,
        conversation_id: post.conversation_id.clone(),
        in_reply_to: post.in_reply_to.clone(),
        quote_of: post.quote_of.clone(),
        quoted_text: post.quoted_text.clone(),
    };
    let again = Post::new(platform, draft).expect("the post validates");
    assert_eq!(&again, post, "validating the post again changes nothing");
}
