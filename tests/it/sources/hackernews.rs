//! Hacker News via Algolia search_by_date: the created_at_i filter with its overlap, paging,
//! comment and story mapping.

use earshot::domain::Platform;
use serde_json::json;
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::conformance::assert_source_conforms;
use crate::support::Table;
use crate::support::sources::{SourceEnv, stored_ids};

fn env(server: &MockServer) -> SourceEnv {
    SourceEnv::new(
        Table::new()
            .set("type", "hackernews")
            .set("query", "acme air")
            .set("base_url", server.uri())
            .set("overlap_secs", 60),
    )
}

fn story(id: &str, at: i64, title: &str) -> serde_json::Value {
    json!({"objectID": id, "title": title, "url": null, "author": "pg", "points": 10, "story_text": "<p>Their app &amp; site are down</p>",
           "num_comments": 4, "created_at": "2026-11-20T10:00:00Z", "created_at_i": at, "_tags": ["story", format!("story_{id}")], "story_id": id.parse::<u64>().unwrap()})
}

fn comment(id: &str, at: i64, html: &str) -> serde_json::Value {
    json!({"objectID": id, "comment_text": html, "author": "dang", "points": null, "created_at": "2026-11-20T10:00:00Z",
           "created_at_i": at, "story_id": 100, "parent_id": 101, "story_title": "Ask HN", "_tags": ["comment"]})
}

fn page(hits: Vec<serde_json::Value>, page: u32, nb_pages: u32) -> serde_json::Value {
    json!({"hits": hits, "nbHits": 3, "page": page, "nbPages": nb_pages, "hitsPerPage": 100, "processingTimeMS": 1, "query": "acme air", "params": ""})
}

#[tokio::test]
async fn pages_are_followed_and_the_next_poll_filters_from_the_newest_minus_overlap() {
    let server = MockServer::start().await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .and(query_param("query", "acme air"))
        .and(query_param("tags", "(story,comment)"))
        .and(query_param("numericFilters", "created_at_i>0"))
        .and(query_param("page", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![story("300", 1_795_000_300, "Acme Air outage")],
            0,
            2,
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .and(query_param("numericFilters", "created_at_i>0"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![comment(
                "200",
                1_795_000_200,
                "<p>Acme Air<br>lost &quot;everything&quot;</p>",
            )],
            1,
            2,
        )))
        .expect(1)
        .mount(&server)
        .await;
    // Second poll: newest committed (…300) minus the 60 s overlap; the repeat is not doubled.
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .and(query_param("numericFilters", "created_at_i>1795000240"))
        .and(query_param("page", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![story("300", 1_795_000_300, "Acme Air outage")],
            0,
            1,
        )))
        .expect(1)
        .mount(&server)
        .await;
    let source = env.source();

    let first = pipeline.poll_source(source.as_ref()).await.unwrap();
    let second = pipeline.poll_source(source.as_ref()).await.unwrap();

    assert_eq!((first.n_batches, first.n_new), (2, 2));
    assert_eq!((second.n_new, second.n_duplicates), (0, 1));
    assert_eq!(stored_ids(&pipeline).await, ["200", "300"]);
}

#[tokio::test]
async fn a_page_of_only_malformed_hits_does_not_end_the_paging() {
    let server = MockServer::start().await;
    let env = env(&server);
    let pipeline = env.pipeline().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .and(query_param("page", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![json!({"objectID": "1", "author": "x"})],
            0,
            2,
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![story("300", 1_795_000_300, "Acme Air outage")],
            1,
            2,
        )))
        .expect(1)
        .mount(&server)
        .await;

    let report = pipeline.poll_source(env.source().as_ref()).await.unwrap();

    assert_eq!(
        (report.n_batches, report.n_new, report.n_quarantined),
        (2, 1, 1),
        "{report:?}"
    );
    assert_eq!(stored_ids(&pipeline).await, ["300"]);
}

#[tokio::test]
async fn stories_and_comments_map_to_text_links_and_threads() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![
                story("300", 1_795_000_300, "Acme Air outage"),
                comment("200", 1_795_000_200, "Acme Air<p>lost &quot;everything&quot;"),
                json!({"objectID": "1", "author": "x"}),
            ],
            0,
            1,
        )))
        .mount(&server)
        .await;

    let batch = env(&server).source().poll(None).await.unwrap();

    assert_eq!(batch.posts[0].text, "Acme Air outage\n\nTheir app & site are down");
    assert_eq!(
        batch.posts[0].url.as_deref(),
        Some("https://news.ycombinator.com/item?id=300")
    );
    assert_eq!(batch.posts[0].engagement.likes, 10);
    assert_eq!(batch.posts[1].text, "Acme Air\nlost \"everything\"");
    assert_eq!(batch.posts[1].conversation_id.as_deref(), Some("100"));
    assert_eq!(batch.posts[1].in_reply_to.as_deref(), Some("101"));
    assert_eq!(batch.quarantined.len(), 1, "a hit without created_at_i is quarantined");
    assert_eq!(batch.quarantined[0].location, "hit 1");
}

#[tokio::test]
async fn server_errors_surface_after_retries() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .expect(3)
        .mount(&server)
        .await;

    let error = env(&server).source().poll(None).await.unwrap_err();

    assert!(
        matches!(error, earshot::sources::SourceError::Server { status: 500 }),
        "{error:?}"
    );
}

/// The conformance every source passes (see `conformance`): two pages, then the overlap
/// window brings the newest story again, which is not new.
#[tokio::test]
async fn hackernews_conforms() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .and(query_param("numericFilters", "created_at_i>0"))
        .and(query_param("page", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![story("300", 1_795_000_300, "Acme Air outage")],
            0,
            2,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .and(query_param("numericFilters", "created_at_i>0"))
        .and(query_param("page", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![comment("200", 1_795_000_200, "<p>Acme Air lost my bag</p>")],
            1,
            2,
        )))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/search_by_date"))
        .and(query_param("numericFilters", "created_at_i>1795000240"))
        .and(query_param("page", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_json(page(
            vec![story("300", 1_795_000_300, "Acme Air outage")],
            0,
            1,
        )))
        .mount(&server)
        .await;

    assert_source_conforms(&env(&server), Some(&server), Platform::HackerNews, &["200", "300"]).await;
}
