//! Mastodon hashtag timelines: min_id paging from the Link header, boosts unwrapped, HTML to
//! text, optional bearer token and the timestamp rate-limit reset.

use earshot::domain::Platform;
use earshot::sources::SourceError;
use serde_json::json;
use wiremock::matchers::{header, method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::conformance::assert_source_conforms;
use crate::support::config::{brand, source};
use crate::support::sources::{SourceEnv, stored_ids};
use crate::support::{ConfigBuilder, Table};

fn env(server: &MockServer, extra: Table) -> SourceEnv {
    SourceEnv::new(
        Table::new()
            .set("type", "mastodon")
            .set("base_url", server.uri())
            .set("hashtags", vec!["AcmeAir"])
            .set("limit", 2)
            .merge(extra),
    )
}

fn status(id: &str, html: &str) -> serde_json::Value {
    json!({
        "id": id, "uri": format!("https://m.example/users/jo/statuses/{id}"), "url": format!("https://m.example/@jo/{id}"),
        "created_at": "2026-11-20T10:00:00.000Z", "content": html, "spoiler_text": "", "language": "en",
        "replies_count": 1, "reblogs_count": 2, "favourites_count": 3, "in_reply_to_id": null, "reblog": null,
        "account": {"id": "9", "username": "jo", "acct": "jo@m.example", "display_name": "Jo", "followers_count": 77}
    })
}

#[tokio::test]
async fn min_id_comes_from_the_link_header_and_full_pages_ask_for_more() {
    let server = MockServer::start().await;
    let env = env(&server, Table::new().set("access_token", "mast-token"));
    let pipeline = env.pipeline().await;
    let link = format!(
        r#"<{uri}/api/v1/timelines/tag/AcmeAir?max_id=110>; rel="next", <{uri}/api/v1/timelines/tag/AcmeAir?min_id=111>; rel="prev""#,
        uri = server.uri()
    );
    Mock::given(method("GET"))
        .and(path("/api/v1/timelines/tag/AcmeAir"))
        .and(query_param("limit", "2"))
        .and(query_param_is_missing("min_id"))
        .and(header("authorization", "Bearer mast-token"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("link", link.as_str())
                .set_body_json(json!([
                    status("111", "<p>#AcmeAir lost my bag</p>"),
                    status("110", "<p>#AcmeAir late</p>")
                ])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/timelines/tag/AcmeAir"))
        .and(query_param("min_id", "111"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;

    let report = pipeline.poll_source(env.source().as_ref()).await.unwrap();

    assert_eq!(
        (report.n_batches, report.n_new),
        (2, 2),
        "a full page makes the pipeline ask again"
    );
    assert_eq!(
        stored_ids(&pipeline).await,
        [
            "https://m.example/users/jo/statuses/110",
            "https://m.example/users/jo/statuses/111"
        ]
    );
}

#[tokio::test]
async fn boosts_are_unwrapped_and_html_becomes_text() {
    let server = MockServer::start().await;
    let mut boost = status("120", "");
    boost["reblog"] = status(
        "50",
        r#"<p>Thanks <span class="h-card"><a href="https://m.example/@AcmeAir">@<span>AcmeAir</span></a></span> &amp; crew</p><p>again</p>"#,
    );
    let mut spoiler = status("119", "<p>details</p>");
    spoiler["spoiler_text"] = json!("AcmeAir complaint");
    Mock::given(method("GET"))
        .and(path("/api/v1/timelines/tag/AcmeAir"))
        .and(query_param_is_missing("min_id"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([boost, spoiler, {"id": "118"}])))
        .mount(&server)
        .await;

    let batch = env(&server, Table::new()).source().poll(None).await.unwrap();

    assert_eq!(
        batch.posts[0].external_id, "https://m.example/users/jo/statuses/50",
        "the boosted status"
    );
    assert_eq!(batch.posts[0].text, "Thanks @AcmeAir & crew\nagain");
    assert_eq!(batch.posts[0].author_handle, "@jo@m.example");
    assert_eq!(batch.posts[0].author_followers, Some(77));
    assert_eq!(
        (batch.posts[0].engagement.likes, batch.posts[0].engagement.reposts),
        (3, 2)
    );
    assert_eq!(batch.posts[1].text, "AcmeAir complaint\n\ndetails");
    assert_eq!(batch.quarantined.len(), 1);
    assert_eq!(batch.quarantined[0].location, "status 118");
    assert_eq!(
        batch.cursor.unwrap().0,
        r#"{"acmeair":"120"}"#,
        "newest timeline id, not the boosted one"
    );
}

#[tokio::test]
async fn rate_limit_reset_timestamp_and_forbidden_are_mapped() {
    let server = MockServer::start().await;
    let reset = (chrono::Utc::now() + chrono::Duration::seconds(120)).to_rfc3339();
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-limit", "300")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.as_str())
                .set_body_json(json!({"error": "Too many requests"})),
        )
        .mount(&server)
        .await;
    let error = env(&server, Table::new()).source().poll(None).await.unwrap_err();
    assert!(
        matches!(error, SourceError::RateLimited { retry_after: Some(wait) } if wait.as_secs() > 100 && wait.as_secs() <= 120),
        "{error:?}"
    );

    let closed = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(401).set_body_json(json!({"error": "This method requires an authenticated user"})),
        )
        .mount(&closed)
        .await;
    let error = env(&closed, Table::new()).source().poll(None).await.unwrap_err();
    assert!(
        matches!(&error, SourceError::Unauthorized { detail, .. } if detail == "This method requires an authenticated user"),
        "{error:?}"
    );
}

#[tokio::test]
async fn statuses_search_sends_the_token_and_pages_with_min_id_and_offset() {
    let server = MockServer::start().await;
    let env = SourceEnv::new(
        Table::new()
            .set("type", "mastodon")
            .set("base_url", server.uri())
            .set("search", vec!["acme air"])
            .set("access_token", "user-token")
            .set("limit", 2),
    );
    let pipeline = env.pipeline().await;
    let search = |min_id: Option<&str>, offset: Option<&str>| {
        let mut mock = Mock::given(method("GET"))
            .and(path("/api/v2/search"))
            .and(query_param("q", "acme air"))
            .and(query_param("type", "statuses"))
            .and(query_param("resolve", "false"))
            .and(query_param("limit", "2"))
            .and(header("authorization", "Bearer user-token"));
        mock = match min_id {
            Some(id) => mock.and(query_param("min_id", id)),
            None => mock.and(query_param_is_missing("min_id")),
        };
        match offset {
            Some(offset) => mock.and(query_param("offset", offset)),
            None => mock.and(query_param_is_missing("offset")),
        }
    };
    let results = |statuses: Vec<serde_json::Value>| {
        ResponseTemplate::new(200).set_body_json(json!({ "accounts": [], "statuses": statuses, "hashtags": [] }))
    };
    search(None, None)
        .respond_with(results(vec![
            status("200", "<p>Acme Air lost my bag</p>"),
            status("199", "<p>Acme Air late</p>"),
        ]))
        .expect(1)
        .mount(&server)
        .await;
    search(Some("200"), None)
        .respond_with(results(vec![
            status("203", "<p>Acme Air again</p>"),
            status("202", "<p>Acme Air refund</p>"),
        ]))
        .expect(1)
        .mount(&server)
        .await;
    search(Some("200"), Some("2"))
        .respond_with(results(vec![status("201", "<p>Acme Air queue</p>")]))
        .expect(1)
        .mount(&server)
        .await;

    let first = pipeline.poll_source(env.source().as_ref()).await.unwrap();
    let second = pipeline.poll_source(env.source().as_ref()).await.unwrap();

    assert_eq!(
        (first.n_batches, first.n_new),
        (1, 2),
        "the first poll takes the newest page only"
    );
    assert_eq!(
        (second.n_batches, second.n_new),
        (2, 3),
        "a full page is followed with offset, same min_id"
    );
    let cursor = pipeline
        .store()
        .cursor(&earshot::domain::SourceId::parse("src").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cursor.0, r#"{"search:acme air":{"min_id":"203","offset":0}}"#);
}

#[test]
fn statuses_search_without_a_token_is_a_config_error() {
    let problems = ConfigBuilder::new()
        .brand(brand("acme", "Acme").set("keywords", vec!["acme"]))
        .source(
            source("m", "acme", "mastodon")
                .set("schedule", "0 */5 * * * *")
                .set("search", vec!["acme"]),
        )
        .problems();
    assert!(
        problems
            .iter()
            .any(|p| p.contains("sources[0].access_token") && p.contains("read:search")),
        "{problems:?}"
    );
}

#[tokio::test]
async fn local_accounts_get_their_server_so_the_brands_own_is_known() {
    let server = MockServer::start().await;
    // On its own instance an account's `acct` is just the username (Account entity).
    let local = |id: &str, acct: &str, url: Option<String>, html: &str| {
        let mut s = status(id, html);
        s["account"] = json!({"id": id, "username": acct, "acct": acct, "url": url, "display_name": acct});
        s
    };
    Mock::given(method("GET"))
        .and(path("/api/v1/timelines/tag/AcmeAir"))
        .and(query_param("min_id", "203"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/timelines/tag/AcmeAir"))
        .and(query_param_is_missing("min_id"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            local(
                "203",
                "acme_air",
                Some("https://m.example/@acme_air".into()),
                "<p>#AcmeAir sorry to hear that</p>"
            ),
            local(
                "202",
                "kim",
                Some("https://m.example/@kim".into()),
                "<p>#AcmeAir lost my bag</p>"
            ),
            local("201", "lee", None, "<p>#AcmeAir late again</p>"),
        ])))
        .mount(&server)
        .await;
    let env = env(&server, Table::new());
    let pipeline = env.pipeline().await;
    let source = env.source();

    let batch = source.poll(None).await.unwrap();
    let first = pipeline.poll_source(source.as_ref()).await.unwrap();
    let second = pipeline.poll_source(source.as_ref()).await.unwrap();

    let host = url::Url::parse(&server.uri()).unwrap().host_str().unwrap().to_owned();
    let authors: Vec<&str> = batch.posts.iter().map(|p| p.author_handle.as_str()).collect();
    assert_eq!(
        authors,
        ["@acme_air@m.example", "@kim@m.example", &format!("@lee@{host}")],
        "the server from account.url, else the instance"
    );
    assert_eq!(
        (first.n_new, first.n_own_posts),
        (2, 1),
        "the brand's own local account is skipped"
    );
    assert_eq!(second.n_new, 0, "a second poll ingests nothing");
}

#[tokio::test]
async fn a_rate_limited_poll_shows_the_reset_time_in_source_health() {
    let server = MockServer::start().await;
    let reset = chrono::Utc::now() + chrono::Duration::seconds(600);
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-ratelimit-limit", "300")
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_rfc3339().as_str())
                .set_body_json(json!({"error": "Too many requests"})),
        )
        .mount(&server)
        .await;
    let env = env(&server, Table::new());
    let pipeline = env.pipeline().await;

    pipeline.poll_source(env.source().as_ref()).await.unwrap_err();

    let health = pipeline.store().source_health().await.unwrap();
    let message = health[0].last_error.clone().unwrap();
    let shown = message
        .strip_prefix("rate limited until ")
        .and_then(|rest| rest.split(" UTC").next())
        .and_then(|at| chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S").ok())
        .unwrap_or_else(|| panic!("no reset time in {message:?}"))
        .and_utc();
    assert!((shown - reset).num_seconds().abs() <= 2, "{message} vs {reset}");
    assert_eq!(health[0].last_error_kind.as_deref(), Some("rate_limited"));
}

/// The conformance every source passes (see `conformance`): a full page, then nothing after
/// its newest id.
#[tokio::test]
async fn mastodon_conforms() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/timelines/tag/AcmeAir"))
        .and(query_param_is_missing("min_id"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            status("111", "<p>#AcmeAir lost my bag</p>"),
            status("110", "<p>#AcmeAir late</p>")
        ])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/timelines/tag/AcmeAir"))
        .and(query_param("min_id", "111"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .mount(&server)
        .await;

    assert_source_conforms(
        &env(&server, Table::new()),
        Some(&server),
        Platform::Mastodon,
        &[
            "https://m.example/users/jo/statuses/110",
            "https://m.example/users/jo/statuses/111",
        ],
    )
    .await;
}
