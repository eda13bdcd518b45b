//! YouTube commentThreads: request shape with the API key, mapping, stopping at the last
//! committed comment, and quota versus permission 403s.

use earshot::domain::Platform;
use earshot::sources::SourceError;
use serde_json::json;
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::conformance::assert_source_conforms;
use crate::support::Table;
use crate::support::sources::{SourceEnv, stored_ids};

const PATH: &str = "/youtube/v3/commentThreads";

fn env(server: &MockServer) -> SourceEnv {
    SourceEnv::new(
        Table::new()
            .set("type", "youtube")
            .set("api_key", "yt-key")
            .set("channel_id", "UCacme")
            .set("base_url", server.uri()),
    )
}

fn thread(id: &str, text: &str, published: &str) -> serde_json::Value {
    json!({"kind": "youtube#commentThread", "etag": "e", "id": id, "snippet": {
        "channelId": "UCacme", "videoId": "vid1", "canReply": true, "totalReplyCount": 2, "isPublic": true,
        "topLevelComment": {"kind": "youtube#comment", "etag": "e", "id": id, "snippet": {
            "channelId": "UCacme", "videoId": "vid1", "textDisplay": text, "textOriginal": text,
            "authorDisplayName": "@jo", "authorChannelUrl": "http://www.youtube.com/@jo", "authorChannelId": {"value": "UCjo"},
            "canRate": true, "viewerRating": "none", "likeCount": 5, "publishedAt": published, "updatedAt": published}}}})
}

fn list(items: Vec<serde_json::Value>) -> serde_json::Value {
    json!({"kind": "youtube#commentThreadListResponse", "etag": "e", "pageInfo": {"totalResults": items.len(), "resultsPerPage": 100}, "items": items})
}

#[tokio::test]
async fn comments_map_and_the_next_poll_stops_at_the_last_committed_one() {
    let server = MockServer::start().await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("part", "snippet"))
        .and(query_param("order", "time"))
        .and(query_param("allThreadsRelatedToChannelId", "UCacme"))
        .and(query_param("key", "yt-key"))
        .and(query_param_is_missing("pageToken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(vec![thread(
            "c1",
            "Acme Air lost my bag",
            "2026-11-20T10:00:00Z",
        )])))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(vec![
            thread("c2", "Acme Air refund?", "2026-11-20T11:00:00Z"),
            thread("c1", "Acme Air lost my bag", "2026-11-20T10:00:00Z"),
        ])))
        .expect(1)
        .mount(&server)
        .await;
    let source = env.source();

    let batch = source.poll(None).await.unwrap();
    assert_eq!(
        batch.posts[0].url.as_deref(),
        Some("https://www.youtube.com/watch?v=vid1&lc=c1")
    );
    assert_eq!(batch.posts[0].author_handle, "UCjo");
    assert_eq!(batch.posts[0].author_name.as_deref(), Some("@jo"));
    assert_eq!(
        (batch.posts[0].engagement.likes, batch.posts[0].engagement.replies),
        (5, 2)
    );
    let first = pipeline.poll_source(source.as_ref()).await.unwrap();
    let second = pipeline.poll_source(source.as_ref()).await.unwrap();
    assert_eq!(first.n_new, 1);
    assert_eq!(
        (second.n_fetched, second.n_new),
        (1, 1),
        "stopped at c1, committed before"
    );
    assert_eq!(stored_ids(&pipeline).await, ["c1", "c2"]);
}

#[tokio::test]
async fn quota_exceeded_waits_for_the_reset_and_other_403s_are_unauthorized() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {"code": 403,
            "message": "The request cannot be completed because you have exceeded your quota.",
            "errors": [{"message": "The request cannot be completed because you have exceeded your quota.", "domain": "youtube.quota", "reason": "quotaExceeded"}]}})))
        .mount(&server)
        .await;
    let error = env(&server).source().poll(None).await.unwrap_err();
    assert!(
        matches!(error, SourceError::RateLimited { retry_after: Some(wait) } if wait.as_secs() > 0 && wait.as_secs() <= 25 * 3600),
        "{error:?}"
    );

    let short = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {"code": 403,
            "message": "The request cannot be completed because you have exceeded your quota.",
            "errors": [{"domain": "youtube.quota", "reason": "rateLimitExceeded"}]}})))
        .mount(&short)
        .await;
    let error = env(&short).source().poll(None).await.unwrap_err();
    assert!(
        matches!(error, SourceError::RateLimited { retry_after: Some(wait) } if wait.as_secs() == 60),
        "a short-term limit waits a minute, not until midnight: {error:?}"
    );

    let disabled = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(403).set_body_json(json!({"error": {"code": 403,
            "message": "The video identified by the videoId parameter has disabled comments.",
            "errors": [{"domain": "youtube.commentThread", "reason": "commentsDisabled"}]}})))
        .mount(&disabled)
        .await;
    let error = env(&disabled).source().poll(None).await.unwrap_err();
    assert!(
        matches!(&error, SourceError::Unauthorized { status: 403, detail } if detail.contains("disabled comments")),
        "{error:?}"
    );
    assert!(!format!("{error:?} {error}").contains("yt-key"));
}

#[tokio::test]
async fn plain_text_display_is_kept_verbatim() {
    let server = MockServer::start().await;
    // With textFormat=plainText, textDisplay is plain text; textOriginal goes only to the
    // comment's author, so an API key does not get it.
    let text = "Acme Air fares went from <$100 to >$250 & the <b>app</b> says nothing";
    let mut item = thread("c9", text, "2026-11-20T10:00:00Z");
    item["snippet"]["topLevelComment"]["snippet"]
        .as_object_mut()
        .unwrap()
        .remove("textOriginal");
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("textFormat", "plainText"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(vec![item])))
        .mount(&server)
        .await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    let source = env.source();

    let batch = source.poll(None).await.unwrap();
    let first = pipeline.poll_source(source.as_ref()).await.unwrap();
    let second = pipeline.poll_source(source.as_ref()).await.unwrap();

    assert_eq!(batch.posts[0].text, text);
    assert_eq!((first.n_new, second.n_new), (1, 0), "a second poll ingests nothing");
}

/// The conformance every source passes (see `conformance`): the same threads come back and
/// the poll stops at the newest comment committed.
#[tokio::test]
async fn youtube_conforms() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("key", "yt-key"))
        .respond_with(ResponseTemplate::new(200).set_body_json(list(vec![
            thread("c2", "Acme Air refund?", "2026-11-20T11:00:00Z"),
            thread("c1", "Acme Air lost my bag", "2026-11-20T10:00:00Z"),
        ])))
        .mount(&server)
        .await;

    assert_source_conforms(&env(&server), Some(&server), Platform::YouTube, &["c1", "c2"]).await;
}
