//! X recent search: request shape, mapping, paging with since_id/next_token through the real
//! pipeline and store, and each failure the API documents.

use earshot::domain::Platform;
use std::time::Duration;

use earshot::sources::SourceError;
use serde_json::json;
use wiremock::matchers::{header, header_exists, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::conformance::assert_source_conforms;
use crate::support::Table;
use crate::support::sources::{SourceEnv, stored_ids};

const PATH: &str = "/2/tweets/search/recent";

fn env(server: &MockServer) -> SourceEnv {
    SourceEnv::new(
        Table::new()
            .set("type", "x")
            .set("query", r#""acme air" OR @AcmeAir"#)
            .set("bearer_token", "test-bearer")
            .set("base_url", server.uri()),
    )
}

fn tweet(id: &str, author: &str, text: &str) -> serde_json::Value {
    json!({
        "id": id, "text": text, "author_id": author, "created_at": "2026-11-20T10:00:00.000Z",
        "lang": "en", "conversation_id": id, "edit_history_tweet_ids": [id],
        "public_metrics": {"retweet_count": 1, "reply_count": 2, "like_count": 3, "quote_count": 4}
    })
}

fn users() -> serde_json::Value {
    json!([
        {"id": "u1", "name": "Jo", "username": "jo", "public_metrics": {"followers_count": 1200, "following_count": 5, "tweet_count": 9, "listed_count": 0}},
        {"id": "u2", "name": "Kim", "username": "kim", "public_metrics": {"followers_count": 7}}
    ])
}

#[tokio::test]
async fn a_page_is_mapped_and_the_request_has_the_documented_shape() {
    let server = MockServer::start().await;
    let body = json!({
        "data": [
            tweet("1900", "u1", "Acme Air lost my bag &amp; nobody answers"),
            // post.fields spelling (OpenAPI since 2026-08): repost_count, referenced_posts.
            {"id": "1899", "text": "@AcmeAir still waiting", "author_id": "u2", "created_at": "2026-11-20T09:00:00Z",
             "public_metrics": {"repost_count": 5, "reply_count": 0, "like_count": 0, "quote_count": 0},
             "referenced_posts": [{"type": "replied_to", "id": "1800"}]},
            // A retweet: unwrapped to the original post from includes.
            {"id": "1898", "text": "RT @kim: Acme Air is the wor…", "author_id": "u1", "created_at": "2026-11-20T08:00:00Z",
             "referenced_tweets": [{"type": "retweeted", "id": "1700"}]},
            // A quote post: the quoted post comes in includes.
            {"id": "1897", "text": "Same here with Acme Air", "author_id": "u2", "created_at": "2026-11-20T07:00:00Z",
             "referenced_tweets": [{"type": "quoted", "id": "1600"}]}
        ],
        "includes": {"users": users(), "tweets": [
            tweet("1700", "u2", "Acme Air is the worst airline I have flown"),
            tweet("1600", "u1", "Acme Air lost 3 bags &lt;again&gt;"),
        ]},
        "meta": {"newest_id": "1900", "oldest_id": "1897", "result_count": 4}
    });
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("query", "\"acme air\" OR @AcmeAir"))
        .and(query_param("max_results", "100"))
        .and(query_param(
            "expansions",
            "author_id,referenced_tweets.id,referenced_tweets.id.author_id",
        ))
        .and(query_param("user.fields", "username,name,public_metrics"))
        .and(query_param(
            "tweet.fields",
            "author_id,created_at,lang,public_metrics,conversation_id,referenced_tweets,in_reply_to_user_id,note_tweet,entities",
        ))
        .and(query_param_is_missing("since_id"))
        .and(query_param_is_missing("next_token"))
        .and(header("authorization", "Bearer test-bearer"))
        .and(header_exists("user-agent"))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .expect(1)
        .mount(&server)
        .await;

    let batch = env(&server).source().poll(None).await.unwrap();

    let ids: Vec<&str> = batch.posts.iter().map(|p| p.external_id.as_str()).collect();
    assert_eq!(ids, ["1900", "1899", "1700", "1897"]);
    let quote = &batch.posts[3];
    assert_eq!(
        (quote.quote_of.as_deref(), quote.quoted_text.as_deref()),
        (Some("1600"), Some("Acme Air lost 3 bags <again>"))
    );
    assert_eq!(batch.posts[0].quote_of, None);
    let first = &batch.posts[0];
    assert_eq!(first.text, "Acme Air lost my bag & nobody answers", "entities decoded");
    assert_eq!(first.author_handle, "@jo");
    assert_eq!(first.author_followers, Some(1200));
    assert_eq!(first.url.as_deref(), Some("https://x.com/jo/status/1900"));
    assert_eq!(first.created_at, 1_795_168_800_000);
    assert_eq!(
        (
            first.engagement.reposts,
            first.engagement.replies,
            first.engagement.likes,
            first.engagement.quotes
        ),
        (1, 2, 3, 4)
    );
    assert_eq!(first.lang.as_deref(), Some("en"));
    assert_eq!(batch.posts[1].engagement.reposts, 5, "repost_count read");
    assert_eq!(
        batch.posts[1].in_reply_to.as_deref(),
        Some("1800"),
        "referenced_posts read"
    );
    assert_eq!(
        batch.posts[2].author_handle, "@kim",
        "the retweet became the original post"
    );
    assert!(!batch.has_more);
    assert_eq!(
        batch.cursor.unwrap().0,
        r#"{"since_id":"1900","next_token":null,"pending_newest":null}"#
    );
}

#[tokio::test]
async fn pages_keep_since_id_and_the_next_poll_starts_from_the_first_pages_newest() {
    let server = MockServer::start().await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    // Poll 1, page 1 (no since_id yet) and page 2 (same since_id, next_token).
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param_is_missing("since_id"))
        .and(query_param_is_missing("next_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [tweet("30", "u1", "Acme Air refund please")],
            "includes": {"users": users()},
            "meta": {"newest_id": "30", "oldest_id": "30", "result_count": 1, "next_token": "b26v89c19zqg8o3fpds"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param_is_missing("since_id"))
        .and(query_param("next_token", "b26v89c19zqg8o3fpds"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [tweet("20", "u2", "Acme Air lost my luggage")],
            "includes": {"users": users()},
            "meta": {"newest_id": "20", "oldest_id": "20", "result_count": 1}
        })))
        .expect(1)
        .mount(&server)
        .await;
    // Poll 2: since_id is the first page's newest (30), not the last page's (20).
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("since_id", "30"))
        .and(query_param_is_missing("next_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"meta": {"result_count": 0}})))
        .expect(1)
        .mount(&server)
        .await;
    let source = env.source();

    let first = pipeline.poll_source(source.as_ref()).await.unwrap();
    let second = pipeline.poll_source(source.as_ref()).await.unwrap();

    assert_eq!((first.n_batches, first.n_new), (2, 2));
    assert_eq!((second.n_fetched, second.n_new), (0, 0));
    assert_eq!(stored_ids(&pipeline).await, ["20", "30"]);
}

#[tokio::test]
async fn a_used_up_rate_limit_window_stops_paging_and_the_next_poll_resumes_at_the_next_page() {
    let server = MockServer::start().await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param_is_missing("next_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("x-rate-limit-limit", "450")
                .insert_header("x-rate-limit-remaining", "0")
                .insert_header("x-rate-limit-reset", "1795000900")
                .set_body_json(json!({
                    "data": [tweet("30", "u1", "Acme Air refund please")],
                    "includes": {"users": users()},
                    "meta": {"newest_id": "30", "result_count": 1, "next_token": "page2"}
                })),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("next_token", "page2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [tweet("20", "u2", "Acme Air lost my luggage")],
            "includes": {"users": users()},
            "meta": {"newest_id": "20", "result_count": 1}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let source = env.source();

    let first = pipeline.poll_source(source.as_ref()).await.unwrap();
    let requests_after_first = server.received_requests().await.unwrap().len();
    let second = pipeline.poll_source(source.as_ref()).await.unwrap();

    assert_eq!((first.n_batches, first.n_new), (1, 1), "no second page within the poll");
    assert_eq!(requests_after_first, 1);
    assert_eq!(second.n_new, 1, "the next poll went on with page 2");
    assert_eq!(stored_ids(&pipeline).await, ["20", "30"]);
}

#[tokio::test]
async fn a_failed_second_page_leaves_the_cursor_at_the_committed_first_page() {
    let server = MockServer::start().await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param_is_missing("next_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [tweet("30", "u1", "Acme Air refund please")],
            "includes": {"users": users()},
            "meta": {"newest_id": "30", "result_count": 1, "next_token": "page2"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("next_token", "page2"))
        .respond_with(ResponseTemplate::new(200).set_body_string("{\"data\": [tru"))
        .expect(1)
        .mount(&server)
        .await;
    let source = env.source();

    let error = pipeline.poll_source(source.as_ref()).await.unwrap_err();

    assert!(
        matches!(
            error,
            earshot::pipeline::PipelineError::Source {
                error: SourceError::Malformed { .. },
                ..
            }
        ),
        "{error:?}"
    );
    let id = earshot::domain::SourceId::parse("src").unwrap();
    let cursor = pipeline.store().cursor(&id).await.unwrap().unwrap();
    assert!(
        cursor.0.contains(r#""next_token":"page2""#),
        "resumes at the page not committed: {}",
        cursor.0
    );
    let quarantined = pipeline.store().quarantined(Some(&id), 10).await.unwrap();
    assert_eq!(quarantined.len(), 1);
    assert_eq!(quarantined[0].raw, "{\"data\": [tru", "raw body kept for inspection");
    let health = pipeline.store().source_health().await.unwrap();
    assert_eq!(health[0].last_error_kind.as_deref(), Some("malformed"));
    assert_eq!(stored_ids(&pipeline).await, ["30"]);
}

#[tokio::test]
async fn unauthorized_is_a_health_problem_with_the_platforms_message() {
    let server = MockServer::start().await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"
        })))
        .expect(1)
        .mount(&server)
        .await;

    let error = pipeline.poll_source(env.source().as_ref()).await.unwrap_err();

    assert!(matches!(
        error,
        earshot::pipeline::PipelineError::Source {
            error: SourceError::Unauthorized { status: 401, .. },
            ..
        }
    ));
    let health = pipeline.store().source_health().await.unwrap();
    assert_eq!(health[0].last_error_kind.as_deref(), Some("unauthorized"));
    let message = health[0].last_error.clone().unwrap();
    assert!(
        message.contains("HTTP 401") && message.contains("Unauthorized"),
        "{message}"
    );
    assert!(
        !message.contains("test-bearer"),
        "the token never reaches health records"
    );
}

#[tokio::test]
async fn rate_limit_reads_the_reset_header() {
    let server = MockServer::start().await;
    let reset = chrono::Utc::now().timestamp() + 600;
    Mock::given(method("GET"))
        .and(path(PATH))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-rate-limit-limit", "450")
                .insert_header("x-rate-limit-remaining", "0")
                .insert_header("x-rate-limit-reset", reset.to_string().as_str())
                .set_body_json(json!({"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank", "status": 429})),
        )
        .expect(1)
        .mount(&server)
        .await;

    let error = env(&server).source().poll(None).await.unwrap_err();

    let SourceError::RateLimited {
        retry_after: Some(wait),
    } = error
    else {
        panic!("expected RateLimited with a delay, got {error:?}");
    };
    assert!(
        wait > Duration::from_secs(590) && wait <= Duration::from_secs(600),
        "{wait:?}"
    );
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_then_reported() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(2)
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [tweet("5", "u1", "Acme Air ok now")], "includes": {"users": users()},
            "meta": {"newest_id": "5", "result_count": 1}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let source = env(&server).source();
    let started = std::time::Instant::now();

    let batch = source.poll(None).await.unwrap();

    assert_eq!(batch.posts.len(), 1);
    assert!(
        started.elapsed() >= Duration::from_millis(1500),
        "waited 0.5 s then 1 s: {:?}",
        started.elapsed()
    );

    let failing = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(502))
        .expect(3)
        .mount(&failing)
        .await;
    let error = env(&failing).source().poll(None).await.unwrap_err();
    assert!(matches!(error, SourceError::Server { status: 502 }), "{error:?}");
}

#[tokio::test]
async fn long_posts_are_stored_whole_and_t_co_links_expanded() {
    let server = MockServer::start().await;
    let long = format!(
        "Acme Air {} and the refund form at https://t.co/Ab12 still fails &amp; support is silent",
        "kept me waiting for six hours at the gate with no information whatsoever".repeat(4)
    );
    let mut note = tweet("2000", "u1", &format!("{}… https://t.co/Self99", &long[..250]));
    note["note_tweet"] = json!({"text": long, "entities": {"urls": [
        {"start": 10, "end": 33, "url": "https://t.co/Ab12", "expanded_url": "https://acme.example/refunds/form?id=77", "display_url": "acme.example/refunds/…"}
    ]}});
    let mut short = tweet("1999", "u2", "Acme Air see https://t.co/Xy9 and https://t.co/Zz8");
    short["entities"] = json!({"urls": [
        {"start": 13, "end": 36, "url": "https://t.co/Xy9", "expanded_url": "https://bit.ly/3abc", "unwound_url": "https://news.example/acme-air-strike", "display_url": "bit.ly/3abc"},
        {"start": 41, "end": 64, "url": "https://t.co/Zz8", "expanded_url": "https://x.com/kim/status/1999/photo/1", "display_url": "pic.x.com/Zz8"}
    ]});
    Mock::given(method("GET"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [note, short], "includes": {"users": users()},
            "meta": {"newest_id": "2000", "oldest_id": "1999", "result_count": 2}
        })))
        .mount(&server)
        .await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    let source = env.source();

    let batch = source.poll(None).await.unwrap();
    let first = pipeline.poll_source(source.as_ref()).await.unwrap();
    let second = pipeline.poll_source(source.as_ref()).await.unwrap();

    assert!(batch.posts[0].text.len() > 280);
    assert!(
        batch.posts[0]
            .text
            .ends_with("the refund form at https://acme.example/refunds/form?id=77 still fails & support is silent"),
        "{}",
        batch.posts[0].text
    );
    assert_eq!(
        batch.posts[1].text,
        "Acme Air see https://news.example/acme-air-strike and https://x.com/kim/status/1999/photo/1"
    );
    assert_eq!((first.n_new, second.n_new), (2, 0), "a second poll ingests nothing");
}

#[tokio::test]
async fn a_since_id_older_than_seven_days_restarts_from_the_window_and_records_the_gap() {
    let server = MockServer::start().await;
    // What X answers, at every poll, for a since_id older than recent search reaches.
    let refused = json!({
        "errors": [{"parameters": {"since_id": ["1000"]},
                    "message": "Invalid 'since_id':'1000'. 'since_id' must be a tweet id created after 2026-11-27T12:00Z. Please use a 'since_id' that is larger than 1862000000000000000"}],
        "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request"
    });
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("since_id", "1000"))
        .respond_with(ResponseTemplate::new(400).set_body_json(refused))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param_is_missing("since_id"))
        .and(header_exists("authorization"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [tweet("1900", "u1", "Acme Air lost my bag")], "includes": {"users": users()},
            "meta": {"newest_id": "1900", "oldest_id": "1900", "result_count": 1}
        })))
        .expect(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("since_id", "1900"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"meta": {"result_count": 0}})))
        .expect(1)
        .mount(&server)
        .await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    let source = env.source();
    let cursor = earshot::domain::Cursor(r#"{"since_id":"1000","next_token":null,"pending_newest":null}"#.into());

    let batch = source.poll(Some(&cursor)).await.unwrap();
    // The same through the pipeline, from a stored cursor that old.
    pipeline
        .store()
        .commit_poll(earshot::store::PollCommit {
            source: &earshot::domain::SourceId::parse("src").unwrap(),
            brand: &earshot::domain::BrandId::parse("acme").unwrap(),
            posts: &[],
            quarantined: &[],
            cursor: Some(&cursor),
            at: earshot::domain::now_millis(),
        })
        .await
        .unwrap();
    let first = pipeline.poll_source(source.as_ref()).await.unwrap();
    let second = pipeline.poll_source(source.as_ref()).await.unwrap();

    let requests = server.received_requests().await.unwrap();
    let restart = requests[1]
        .url
        .query_pairs()
        .find(|(k, _)| k == "start_time")
        .map(|(_, v)| v.into_owned());
    let start = chrono::DateTime::parse_from_rfc3339(&restart.expect("start_time sent")).unwrap();
    let window_start = chrono::Utc::now() - chrono::Duration::days(7);
    assert!((start.to_utc() - window_start).num_minutes().abs() <= 6, "{start}");
    assert_eq!(batch.posts.len(), 1);
    assert_eq!(batch.quarantined.len(), 1, "the gap is recorded");
    let gap = &batch.quarantined[0];
    assert_eq!(gap.location, "since_id 1000");
    assert!(gap.reason.starts_with("gap: since_id 1000 is older"), "{}", gap.reason);
    assert!(
        gap.reason.contains("must be a tweet id created after"),
        "X's own message: {}",
        gap.reason
    );
    assert_eq!(
        (first.n_new, first.n_quarantined),
        (1, 1),
        "the post, and the gap in source health"
    );
    assert_eq!(second.n_new, 0, "the next poll goes on from the restart's newest id");
}

#[tokio::test]
async fn a_rejected_request_shows_xs_own_error_messages() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "errors": [{"parameters": {"query": ["(acme"]}, "message": "There were errors processing your request: Unmatched parenthesis"}],
            "title": "Invalid Request", "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request"
        })))
        .mount(&server)
        .await;

    let error = env(&server).source().poll(None).await.unwrap_err();

    assert!(
        matches!(&error, SourceError::Rejected { status: 400, detail }
            if detail == "One or more parameters to your request was invalid.: There were errors processing your request: Unmatched parenthesis"),
        "{error:?}"
    );
}

/// The conformance every source passes (see `conformance`): two pages, then nothing after
/// the first page's newest id.
#[tokio::test]
async fn x_conforms() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param_is_missing("since_id"))
        .and(query_param_is_missing("next_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [tweet("30", "u1", "Acme Air refund please")],
            "includes": {"users": users()},
            "meta": {"newest_id": "30", "oldest_id": "30", "result_count": 1, "next_token": "page2"}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param_is_missing("since_id"))
        .and(query_param("next_token", "page2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": [tweet("20", "u2", "Acme Air lost my luggage")],
            "includes": {"users": users()},
            "meta": {"newest_id": "20", "oldest_id": "20", "result_count": 1}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(PATH))
        .and(query_param("since_id", "30"))
        .and(query_param_is_missing("next_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"meta": {"result_count": 0}})))
        .mount(&server)
        .await;

    assert_source_conforms(&env(&server), Some(&server), Platform::X, &["20", "30"]).await;
}
