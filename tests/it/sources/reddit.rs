//! Reddit: app-only OAuth token (HTTP Basic, cached, renewed after a 401), search with the
//! configured User-Agent, stopping at the newest post already committed.

use earshot::domain::Platform;
use earshot::sources::SourceError;
use serde_json::json;
use wiremock::matchers::{body_string, header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::conformance::assert_source_conforms;
use crate::support::sources::{REDDIT_USER_AGENT, SourceEnv, reddit, stored_ids};

fn env(server: &MockServer) -> SourceEnv {
    SourceEnv::new(reddit(&server.uri()))
}

fn link(id: &str, created: f64, title: &str) -> serde_json::Value {
    json!({"kind": "t3", "data": {
        "id": id, "name": format!("t3_{id}"), "title": title, "selftext": "", "author": "jo",
        "created_utc": created, "permalink": format!("/r/travel/comments/{id}/x/"),
        "score": 12, "num_comments": 3, "subreddit": "travel", "is_self": true
    }})
}

fn listing(children: Vec<serde_json::Value>, after: Option<&str>) -> serde_json::Value {
    json!({"kind": "Listing", "data": {"after": after, "before": null, "dist": children.len(), "children": children}})
}

async fn mount_token(server: &MockServer, token: &str, times: u64) {
    // Basic base64("cid:csecret").
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .and(header("authorization", "Basic Y2lkOmNzZWNyZXQ="))
        .and(header("user-agent", REDDIT_USER_AGENT))
        .and(body_string("grant_type=client_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"
        })))
        .up_to_n_times(times)
        .expect(times)
        .mount(server)
        .await;
}

#[tokio::test]
async fn token_is_fetched_once_and_polls_stop_at_the_last_committed_post() {
    let server = MockServer::start().await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    mount_token(&server, "tok-1", 1).await;
    Mock::given(method("GET"))
        .and(path("/search"))
        .and(query_param("q", "acme air"))
        .and(query_param("sort", "new"))
        .and(query_param("limit", "100"))
        .and(query_param_is_missing("after"))
        .and(header("authorization", "Bearer tok-1"))
        .and(header("user-agent", REDDIT_USER_AGENT))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing(
            vec![
                link("b", 1_795_000_200.0, "Acme Air lost my bag"),
                link("a", 1_795_000_100.0, "Acme Air delay again"),
            ],
            None,
        )))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    // The second poll sees one new post above the committed ones.
    Mock::given(method("GET"))
        .and(path("/search"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing(
            vec![
                link("c", 1_795_000_300.0, "Acme Air refund?"),
                link("b", 1_795_000_200.0, "Acme Air lost my bag"),
                link("a", 1_795_000_100.0, "Acme Air delay again"),
            ],
            Some("t3_a"),
        )))
        .expect(1)
        .mount(&server)
        .await;
    let source = env.source();

    let first = pipeline.poll_source(source.as_ref()).await.unwrap();
    let second = pipeline.poll_source(source.as_ref()).await.unwrap();

    assert_eq!(first.n_new, 2);
    assert_eq!(
        (second.n_fetched, second.n_new, second.n_batches),
        (1, 1, 1),
        "stopped at t3_b"
    );
    assert_eq!(stored_ids(&pipeline).await, ["t3_a", "t3_b", "t3_c"]);
}

#[tokio::test]
async fn a_post_maps_title_selftext_permalink_and_score() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    let mut item = link("x1", 1_795_000_000.5, "Acme Air");
    item["data"]["selftext"] = json!("Worst &amp; slowest");
    Mock::given(method("GET"))
        .and(path("/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing(vec![item], None)))
        .mount(&server)
        .await;

    let batch = env(&server).source().poll(None).await.unwrap();

    let post = &batch.posts[0];
    assert_eq!(post.external_id, "t3_x1");
    assert_eq!(
        post.text, "Acme Air\n\nWorst & slowest",
        "selftext is Markdown source: an entity reads as its character"
    );
    assert_eq!(post.author_handle, "u/jo");
    assert_eq!(
        post.url.as_deref(),
        Some("https://www.reddit.com/r/travel/comments/x1/x/")
    );
    assert_eq!(post.created_at, 1_795_000_000_500);
    assert_eq!((post.engagement.likes, post.engagement.replies), (12, 3));
}

#[tokio::test]
async fn an_expired_token_is_renewed_once_then_a_second_401_is_unauthorized() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 2).await;
    Mock::given(method("GET"))
        .and(path("/search"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "Unauthorized", "error": 401})))
        .expect(2)
        .mount(&server)
        .await;

    let error = env(&server).source().poll(None).await.unwrap_err();

    match error {
        SourceError::Unauthorized { status, detail } => {
            assert_eq!(status, 401);
            assert_eq!(detail, "Unauthorized");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

#[tokio::test]
async fn rejected_credentials_at_the_token_endpoint_are_unauthorized() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;

    let error = env(&server).source().poll(None).await.unwrap_err();

    assert!(
        matches!(&error, SourceError::Unauthorized { detail, .. } if detail == "invalid_grant"),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_token_answer_that_does_not_decode_is_never_quarantined_with_its_token() {
    let server = MockServer::start().await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "leaky-secret-token", "token_type": "bearer", "expires_in": "a day"
        })))
        .mount(&server)
        .await;

    let error = pipeline.poll_source(env.source().as_ref()).await.unwrap_err();

    let text = format!("{error:?} {error}");
    assert!(
        text.contains("expires_in") && !text.contains("leaky-secret-token"),
        "{text}"
    );
    let quarantined = pipeline.store().quarantined(None, 10).await.unwrap();
    assert!(
        quarantined.iter().all(|q| !q.raw.contains("leaky-secret-token")),
        "{quarantined:?}"
    );
}

#[tokio::test]
async fn the_brands_own_reddit_account_is_not_a_mention() {
    let server = MockServer::start().await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    mount_token(&server, "tok", 1).await;
    let mut own = link("own1", 1_795_000_300.0, "Acme Air here: we are sorry, DM us");
    own["data"]["author"] = json!("Acme_Care");
    Mock::given(method("GET"))
        .and(path("/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing(
            vec![own, link("cust1", 1_795_000_200.0, "Acme Air lost my bag")],
            None,
        )))
        .mount(&server)
        .await;

    let report = pipeline.poll_source(env.source().as_ref()).await.unwrap();

    assert_eq!((report.n_new, report.n_own_posts), (1, 1), "{report:?}");
    assert_eq!(stored_ids(&pipeline).await, ["t3_cust1"]);
}

#[tokio::test]
async fn a_crosspost_keeps_the_post_it_shares_as_its_quote() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    let mut crosspost = link("x2", 1_795_000_300.0, "Acme Air does it again");
    crosspost["data"]["crosspost_parent"] = json!("t3_orig");
    crosspost["data"]["crosspost_parent_list"] =
        json!([{"name": "t3_orig", "title": "Acme Air lost my bag", "selftext": "Third time this year."}]);
    Mock::given(method("GET"))
        .and(path("/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing(vec![crosspost], None)))
        .mount(&server)
        .await;

    let batch = env(&server).source().poll(None).await.unwrap();

    let post = &batch.posts[0];
    assert_eq!(post.quote_of.as_deref(), Some("t3_orig"));
    assert_eq!(
        post.quoted_text.as_deref(),
        Some("Acme Air lost my bag\n\nThird time this year.")
    );
}

#[tokio::test]
async fn rate_limit_uses_seconds_until_reset() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/search"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-used", "100")
                .insert_header("x-ratelimit-remaining", "0.0")
                .insert_header("x-ratelimit-reset", "348"),
        )
        .mount(&server)
        .await;

    let error = env(&server).source().poll(None).await.unwrap_err();

    assert!(
        matches!(error, SourceError::RateLimited { retry_after: Some(wait) } if wait.as_secs() == 348),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_malformed_listing_keeps_the_raw_body() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 1).await;
    Mock::given(method("GET"))
        .and(path("/search"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>Our CDN is down</html>"))
        .mount(&server)
        .await;

    let error = env(&server).source().poll(None).await.unwrap_err();

    assert!(
        matches!(&error, SourceError::Malformed { raw, .. } if raw == b"<html>Our CDN is down</html>"),
        "{error:?}"
    );
}

#[tokio::test]
async fn deleted_authors_are_unknown_and_placeholder_bodies_are_dropped() {
    let server = MockServer::start().await;
    mount_token(&server, "tok", 2).await;
    // As Reddit answers for a post whose author deleted the account, one a moderator
    // removed, and one written in the new editor (an empty line is `&#x200B;`).
    let mut deleted = link("d1", 1_795_000_300.0, "Acme Air lost my bag, terrible, awful");
    deleted["data"]["author"] = json!("[deleted]");
    deleted["data"]["selftext"] = json!("[deleted]");
    let mut removed = link(
        "d2",
        1_795_000_200.0,
        "Acme Air cancelled my flight, worst, unacceptable",
    );
    removed["data"]["author"] = json!("[deleted]");
    removed["data"]["selftext"] = json!("[removed]");
    let mut spaced = link("d3", 1_795_000_100.0, "Acme Air refund?");
    spaced["data"]["selftext"] = json!("First line\n\n&#x200B;\n\nStill waiting &amp; angry");
    Mock::given(method("GET"))
        .and(path("/search"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing(vec![deleted, removed, spaced], None)))
        .mount(&server)
        .await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    let source = env.source();

    let first = pipeline.poll_source(source.as_ref()).await.unwrap();
    let scored = pipeline.score_pending().await.unwrap();
    let second = pipeline.poll_source(source.as_ref()).await.unwrap();

    assert_eq!(first.n_new, 3);
    assert_eq!(second.n_new, 0, "a second poll ingests nothing");
    let batch = env.source().poll(None).await.unwrap();
    let texts: Vec<(&str, &str)> = batch
        .posts
        .iter()
        .map(|p| (p.author_handle.as_str(), p.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            ("[deleted]", "Acme Air lost my bag, terrible, awful"),
            ("[deleted]", "Acme Air cancelled my flight, worst, unacceptable"),
            ("u/jo", "Acme Air refund?\n\nFirst line\n\nStill waiting & angry"),
        ]
    );
    assert!(batch.posts.iter().take(2).all(|p| !p.author_is_known()));
    // Two complaints by deleted accounts are two tasks, not one author's conversation.
    assert_eq!((scored.n_tasks_opened, scored.n_tasks_joined), (3, 0));
}

/// The conformance every source passes (see `conformance`): Reddit has no "since", so the
/// same listing comes back and the poll stops at the newest post committed.
#[tokio::test]
async fn reddit_conforms() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "tok-1", "token_type": "bearer", "expires_in": 86400, "scope": "*"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/search"))
        .and(query_param("q", "acme air"))
        .and(query_param_is_missing("after"))
        .and(header("authorization", "Bearer tok-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing(
            vec![
                link("b", 1_795_000_200.0, "Acme Air lost my bag"),
                link("a", 1_795_000_100.0, "Acme Air delay again"),
            ],
            None,
        )))
        .mount(&server)
        .await;

    assert_source_conforms(&env(&server), Some(&server), Platform::Reddit, &["t3_a", "t3_b"]).await;
}
