//! Bluesky: the app-password session (created once, refreshed on expiry), searchPosts with
//! `sort=latest` and `since`, dedup on uri across polls, and the failures.

use earshot::domain::Platform;
use earshot::sources::SourceError;
use serde_json::json;
use wiremock::matchers::{body_json, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::conformance::assert_source_conforms;
use crate::support::Table;
use crate::support::sources::{SourceEnv, stored_ids};

const SEARCH: &str = "/xrpc/app.bsky.feed.searchPosts";
const CREATE: &str = "/xrpc/com.atproto.server.createSession";
const REFRESH: &str = "/xrpc/com.atproto.server.refreshSession";

fn env(server: &MockServer) -> SourceEnv {
    SourceEnv::new(
        Table::new()
            .set("type", "bluesky")
            .set("query", "acme air")
            .set("identifier", "care.acme.example")
            .set("app_password", "abcd-efgh-ijkl-mnop")
            .set("base_url", server.uri())
            .set("overlap_secs", 60),
    )
}

fn post(rkey: &str, text: &str, created: &str) -> serde_json::Value {
    json!({
        "uri": format!("at://did:plc:jo/app.bsky.feed.post/{rkey}"), "cid": "bafyrei",
        "author": {"did": "did:plc:jo", "handle": "jo.bsky.social", "displayName": "Jo", "labels": []},
        "record": {"$type": "app.bsky.feed.post", "text": text, "createdAt": created, "langs": ["en"],
                   "reply": {"root": {"uri": "at://did:plc:x/app.bsky.feed.post/root", "cid": "c"}, "parent": {"uri": "at://did:plc:x/app.bsky.feed.post/parent", "cid": "c"}}},
        "indexedAt": created, "likeCount": 4, "repostCount": 1, "replyCount": 2, "quoteCount": 0, "labels": []
    })
}

async fn mount_login(server: &MockServer, access: &str, times: u64) {
    Mock::given(method("POST"))
        .and(path(CREATE))
        .and(body_json(
            json!({"identifier": "care.acme.example", "password": "abcd-efgh-ijkl-mnop"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "did": "did:plc:care", "handle": "care.acme.example", "accessJwt": access, "refreshJwt": "refresh-1"
        })))
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn one_session_serves_every_poll_and_since_moves_with_the_committed_posts() {
    let server = MockServer::start().await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    mount_login(&server, "access-1", 1).await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("q", "acme air"))
        .and(query_param("sort", "latest"))
        .and(query_param("limit", "100"))
        .and(query_param_is_missing("since"))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "posts": [post("3kb", "Acme Air cancelled my flight", "2026-11-20T10:00:00.000Z")]
        })))
        .expect(1)
        .mount(&server)
        .await;
    // 10:00 minus the 60 s overlap; the repeated post is not stored twice.
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("since", "2026-11-20T09:59:00.000Z"))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "posts": [post("3kc", "Acme Air refund pending", "2026-11-20T10:05:00.000Z"), post("3kb", "Acme Air cancelled my flight", "2026-11-20T10:00:00.000Z")]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let source = env.source();

    let first = pipeline.poll_source(source.as_ref()).await.unwrap();
    let second = pipeline.poll_source(source.as_ref()).await.unwrap();

    assert_eq!(first.n_new, 1);
    assert_eq!((second.n_new, second.n_duplicates), (1, 1));
    assert_eq!(
        stored_ids(&pipeline).await,
        [
            "at://did:plc:jo/app.bsky.feed.post/3kb",
            "at://did:plc:jo/app.bsky.feed.post/3kc"
        ]
    );
}

#[tokio::test]
async fn a_post_maps_permalink_language_and_reply_and_quote_context() {
    let server = MockServer::start().await;
    // A quote post with media: app.bsky.embed.recordWithMedia#view around the quoted record.
    let mut quote = post("3kc", "Same with Acme Air", "2026-11-20T09:00:00.000Z");
    quote["embed"] = json!({"$type": "app.bsky.embed.recordWithMedia#view",
        "media": {"$type": "app.bsky.embed.images#view", "images": []},
        "record": {"$type": "app.bsky.embed.record#view", "record": {
            "$type": "app.bsky.embed.record#viewRecord", "uri": "at://did:plc:kim/app.bsky.feed.post/3ka", "cid": "c",
            "author": {"did": "did:plc:kim", "handle": "kim.bsky.social"},
            "value": {"$type": "app.bsky.feed.post", "text": "Acme Air lost my bag", "createdAt": "2026-11-20T08:00:00.000Z"},
            "indexedAt": "2026-11-20T08:00:00.000Z"}}});
    mount_login(&server, "access-1", 1).await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "posts": [post("3kb", "Acme Air cancelled my flight", "2026-11-20T10:00:00.000Z"), {"uri": "at://bad"}, quote],
            "cursor": "page-2"
        })))
        .mount(&server)
        .await;

    let batch = env(&server).source().poll(None).await.unwrap();

    let post = &batch.posts[0];
    assert_eq!(
        post.url.as_deref(),
        Some("https://bsky.app/profile/jo.bsky.social/post/3kb")
    );
    assert_eq!(post.author_handle, "@jo.bsky.social");
    assert_eq!(post.lang.as_deref(), Some("en"));
    assert_eq!(
        post.in_reply_to.as_deref(),
        Some("at://did:plc:x/app.bsky.feed.post/parent")
    );
    assert_eq!(
        post.conversation_id.as_deref(),
        Some("at://did:plc:x/app.bsky.feed.post/root")
    );
    assert_eq!(post.engagement.total(), 7);
    assert_eq!(post.quote_of, None);
    let quoting = &batch.posts[1];
    assert_eq!(
        (quoting.quote_of.as_deref(), quoting.quoted_text.as_deref()),
        (
            Some("at://did:plc:kim/app.bsky.feed.post/3ka"),
            Some("Acme Air lost my bag")
        )
    );
    assert_eq!(batch.quarantined.len(), 1);
    assert!(batch.has_more, "the search cursor is followed");
    assert!(batch.cursor.unwrap().0.contains(r#""page":"page-2""#));
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_not_logged_in_again() {
    let server = MockServer::start().await;
    mount_login(&server, "access-1", 1).await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"error": "ExpiredToken", "message": "Token has expired"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(REFRESH))
        .and(header("authorization", "Bearer refresh-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "did": "did:plc:care", "handle": "care.acme.example", "accessJwt": "access-2", "refreshJwt": "refresh-2"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(header("authorization", "Bearer access-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"posts": []})))
        .expect(1)
        .mount(&server)
        .await;

    let batch = env(&server).source().poll(None).await.unwrap();

    assert!(batch.posts.is_empty() && !batch.has_more);
}

#[tokio::test]
async fn a_wrong_app_password_and_a_rate_limit_are_reported() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"error": "AuthenticationRequired", "message": "Invalid identifier or password"})),
        )
        .mount(&server)
        .await;
    let error = env(&server).source().poll(None).await.unwrap_err();
    assert!(
        matches!(&error, SourceError::Unauthorized { detail, .. } if detail == "Invalid identifier or password"),
        "{error:?}"
    );

    let limited = MockServer::start().await;
    mount_login(&limited, "access-1", 1).await;
    let reset = chrono::Utc::now().timestamp() + 300;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("ratelimit-limit", "3000")
                .insert_header("ratelimit-remaining", "0")
                .insert_header("ratelimit-reset", reset.to_string().as_str())
                .insert_header("ratelimit-policy", "3000;w=300"),
        )
        .mount(&limited)
        .await;
    let error = env(&limited).source().poll(None).await.unwrap_err();
    assert!(
        matches!(error, SourceError::RateLimited { retry_after: Some(wait) } if wait.as_secs() > 290 && wait.as_secs() <= 300),
        "{error:?}"
    );
}

#[tokio::test]
async fn invalid_handles_become_dids_and_link_facets_keep_the_full_link() {
    let server = MockServer::start().await;
    // Two accounts whose handles no longer resolve: the AppView sends `handle.invalid`.
    let mut first = post("3ma", "Acme Air lost my bag", "2026-11-20T10:00:00.000Z");
    first["uri"] = json!("at://did:plc:ann/app.bsky.feed.post/3ma");
    first["author"] = json!({"did": "did:plc:ann", "handle": "handle.invalid"});
    let mut second = post("3mb", "Acme Air late again", "2026-11-20T10:01:00.000Z");
    second["uri"] = json!("at://did:plc:bob/app.bsky.feed.post/3mb");
    second["author"] = json!({"did": "did:plc:bob", "handle": "handle.invalid"});
    // The app shows a shortened link; the facet (UTF-8 byte offsets) holds the whole one.
    let text = "Acme Air “refund” policy: acme.example/refunds/pol... what?";
    let shown = "acme.example/refunds/pol...";
    let start = text.find(shown).unwrap();
    let mut linked = post("3mc", text, "2026-11-20T10:02:00.000Z");
    linked["record"]["facets"] = json!([{
        "index": {"byteStart": start, "byteEnd": start + shown.len()},
        "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://acme.example/refunds/policy-2026?ref=app"}]
    }, {
        "index": {"byteStart": 0, "byteEnd": 8},
        "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "acme"}]
    }]);
    mount_login(&server, "access-1", 1).await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"posts": [linked, second, first]})))
        .mount(&server)
        .await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    let source = env.source();

    let first_poll = pipeline.poll_source(source.as_ref()).await.unwrap();
    let second_poll = pipeline.poll_source(source.as_ref()).await.unwrap();
    let batch = source.poll(None).await.unwrap();

    assert_eq!(first_poll.n_new, 3);
    assert_eq!(second_poll.n_new, 0, "a second poll ingests nothing");
    assert_eq!(
        batch.posts[0].text,
        "Acme Air “refund” policy: https://acme.example/refunds/policy-2026?ref=app what?"
    );
    let authors: Vec<(&str, Option<&str>)> = batch.posts[1..]
        .iter()
        .map(|p| (p.author_handle.as_str(), p.url.as_deref()))
        .collect();
    assert_eq!(
        authors,
        [
            ("@did:plc:bob", Some("https://bsky.app/profile/did:plc:bob/post/3mb")),
            ("@did:plc:ann", Some("https://bsky.app/profile/did:plc:ann/post/3ma")),
        ]
    );
}

/// The conformance every source passes (see `conformance`): `since` re-reads the overlap, so
/// the post comes again and is not new.
#[tokio::test]
async fn bluesky_conforms() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(CREATE))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "did": "did:plc:care", "handle": "care.acme.example", "accessJwt": "access-1", "refreshJwt": "refresh-1"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param_is_missing("since"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "posts": [post("3kb", "Acme Air cancelled my flight", "2026-11-20T10:00:00.000Z")]
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(SEARCH))
        .and(query_param("since", "2026-11-20T09:59:00.000Z"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "posts": [post("3kb", "Acme Air cancelled my flight", "2026-11-20T10:00:00.000Z")]
        })))
        .mount(&server)
        .await;

    assert_source_conforms(
        &env(&server),
        Some(&server),
        Platform::Bluesky,
        &["at://did:plc:jo/app.bsky.feed.post/3kb"],
    )
    .await;
}
