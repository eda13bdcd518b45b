//! RSS 2.0 and Atom feeds (Google Alerts included): conditional GET with the validators in the
//! cursor, guid/id dedup with a stable fallback key, redirect links unwrapped, markup
//! stripped, malformed XML quarantined with the raw body.

use earshot::domain::Platform;
use std::sync::atomic::{AtomicUsize, Ordering};

use earshot::domain::SourceId;
use wiremock::matchers::{header, header_exists, method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use super::conformance::assert_source_conforms;
use crate::support::Table;
use crate::support::sources::{SourceEnv, stored_ids};

const USER_AGENT: &str = concat!("earshot/", env!("CARGO_PKG_VERSION"), " (social care monitor)");

fn env(server: &MockServer, extra: Table) -> SourceEnv {
    SourceEnv::new(
        Table::new()
            .set("type", "rss")
            .set("url", format!("{}/feed.xml", server.uri()))
            .merge(extra),
    )
}

/// A server that answers every feed request with this Atom document.
async fn serving_atom(document: &'static str) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(document, "application/atom+xml"))
        .mount(&server)
        .await;
    server
}

const RSS2: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Travel Gripes</title>
  <link>https://gripes.example/</link>
  <description>Complaints, mostly</description>
  <language>en-gb</language>
  <item>
    <title>Acme Air lost my bag &amp; my patience</title>
    <link>https://gripes.example/2026/11/bag</link>
    <guid isPermaLink="true">https://gripes.example/2026/11/bag</guid>
    <description>&lt;p&gt;Third time this year &lt;b&gt;Acme Air&lt;/b&gt; lost a bag.&lt;/p&gt;</description>
    <pubDate>Fri, 20 Nov 2026 10:00:00 GMT</pubDate>
    <dc:creator>Jo Traveller</dc:creator>
  </item>
  <item>
    <title>Local guid only</title>
    <link>https://gripes.example/2026/11/other</link>
    <guid isPermaLink="false">4711</guid>
    <description>Acme Air again</description>
  </item>
</channel>
</rss>"#;

#[tokio::test]
async fn rss2_items_become_posts_with_text_author_time_language_and_the_user_agent_is_sent() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .and(header("user-agent", USER_AGENT))
        .respond_with(ResponseTemplate::new(200).set_body_raw(RSS2, "application/rss+xml"))
        .expect(1)
        .mount(&server)
        .await;
    let feed_url = format!("{}/feed.xml", server.uri());

    let batch = env(&server, Table::new()).source().poll(None).await.unwrap();

    assert_eq!(batch.posts.len(), 2, "{:?}", batch.quarantined);
    let first = &batch.posts[0];
    assert_eq!(first.external_id, "https://gripes.example/2026/11/bag");
    assert_eq!(
        first.text,
        "Acme Air lost my bag & my patience\n\nThird time this year Acme Air lost a bag."
    );
    assert_eq!(first.author_handle, "Jo Traveller");
    assert_eq!(first.created_at, 1_795_168_800_000);
    assert_eq!(first.lang.as_deref(), Some("en-gb"));
    assert_eq!(first.url.as_deref(), Some("https://gripes.example/2026/11/bag"));
    let second = &batch.posts[1];
    assert_eq!(
        second.external_id,
        format!("{feed_url}#4711"),
        "a guid that is not a URI is scoped to its feed"
    );
    assert_eq!(second.author_handle, "gripes.example", "no author: the linked site");
    assert!(
        (earshot::domain::now_millis() - second.created_at).abs() < 60_000,
        "undated: first seen now"
    );
}

const ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Acme watchers</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2026-11-21T08:00:00Z</updated>
  <author><name>Feed Owner</name></author>
  <entry>
    <title type="html">Why &lt;em&gt;Acme Air&lt;/em&gt; refunds take months</title>
    <link rel="alternate" href="https://watch.example/refunds"/>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <published>2026-11-21T07:30:00+01:00</published>
    <updated>2026-11-21T08:00:00Z</updated>
    <author><name>Kim</name></author>
    <content type="html">&lt;p&gt;Long story about refunds.&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Own press release about Acme Air</title>
    <link href="https://press.acme.example/news/1"/>
    <id>urn:uuid:own-1</id>
    <updated>2026-11-21T06:00:00Z</updated>
    <summary>We are proud.</summary>
  </entry>
</feed>"#;

#[tokio::test]
async fn atom_entries_use_content_published_time_and_skip_excluded_domains() {
    let server = serving_atom(ATOM).await;

    let batch = env(&server, Table::new().set("exclude_domains", vec!["acme.example"]))
        .source()
        .poll(None)
        .await
        .unwrap();

    assert_eq!(batch.posts.len(), 1, "the press release links to the brand's own site");
    let post = &batch.posts[0];
    assert_eq!(post.external_id, "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a");
    assert_eq!(
        post.text,
        "Why Acme Air refunds take months\n\nLong story about refunds."
    );
    assert_eq!(post.author_handle, "Kim");
    assert_eq!(
        post.created_at, 1_795_242_600_000,
        "published (06:30 UTC) wins over updated"
    );
}

const GOOGLE_ALERTS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:idx="urn:atom-extension:indexing">
  <id>tag:google.com,2005:reader/user/00357834823048673957/state/com.google/alerts/9170345013404045427</id>
  <title>Google Alert - &quot;acme air&quot;</title>
  <link href="https://www.google.com/alerts/feeds/00357834823048673957/9170345013404045427" rel="self"/>
  <updated>2026-11-22T09:12:41Z</updated>
  <entry>
    <id>tag:google.com,2013:googlealerts/feed:4785630196517371342</id>
    <title type="html">&lt;b&gt;Acme Air&lt;/b&gt; passengers stranded after cancellations</title>
    <link href="https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://news.example.com/2026/11/22/acme-air-stranded&amp;ct=ga&amp;cd=CAIyGjM0&amp;usg=AOvVaw0x" />
    <published>2026-11-22T09:12:41Z</published>
    <updated>2026-11-22T09:12:41Z</updated>
    <content type="html">Hundreds of &lt;b&gt;Acme Air&lt;/b&gt; passengers were stranded &amp;nbsp;...</content>
    <author><name></name></author>
  </entry>
</feed>"#;

#[tokio::test]
async fn google_alerts_links_are_unwrapped_and_bold_markup_stripped() {
    let server = serving_atom(GOOGLE_ALERTS).await;

    let batch = env(&server, Table::new()).source().poll(None).await.unwrap();

    assert_eq!(batch.posts.len(), 1, "{:?}", batch.quarantined);
    let post = &batch.posts[0];
    assert_eq!(
        post.url.as_deref(),
        Some("https://news.example.com/2026/11/22/acme-air-stranded")
    );
    assert_eq!(
        post.text,
        "Acme Air passengers stranded after cancellations\n\nHundreds of Acme Air passengers were stranded ..."
    );
    assert!(!post.text.contains("<b>"));
    assert_eq!(
        post.author_handle, "news.example.com",
        "the publisher, from the real link"
    );
    assert_eq!(
        post.external_id,
        "tag:google.com,2013:googlealerts/feed:4785630196517371342"
    );
}

#[tokio::test]
async fn etag_round_trip_sends_if_none_match_and_a_304_stores_nothing_new() {
    let server = MockServer::start().await;
    let env = env(&server, Table::new());
    let pipeline = env.pipeline().await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .insert_header("last-modified", "Fri, 20 Nov 2026 10:00:00 GMT")
                .set_body_raw(RSS2, "application/rss+xml"),
        )
        .expect(1)
        .mount(&server)
        .await;

    let first = pipeline.poll_source(env.source().as_ref()).await.unwrap();
    let cursor_after_first = stored_cursor(&pipeline).await;
    let second = pipeline.poll_source(env.source().as_ref()).await.unwrap();

    assert_eq!(first.n_new, 2);
    assert_eq!(
        cursor_after_first.as_deref(),
        Some(r#"{"etag":"\"v1\"","last_modified":"Fri, 20 Nov 2026 10:00:00 GMT"}"#)
    );
    assert_eq!((second.n_fetched, second.n_new), (0, 0));
    assert_eq!(
        stored_cursor(&pipeline).await,
        cursor_after_first,
        "a 304 keeps the cursor"
    );
    let requests = server.received_requests().await.unwrap();
    assert!(
        requests[0].headers.get("if-none-match").is_none(),
        "nothing to send the first time"
    );
    assert_eq!(requests[1].headers["if-none-match"], "\"v1\"");
    assert_eq!(
        requests[1].headers["if-modified-since"],
        "Fri, 20 Nov 2026 10:00:00 GMT"
    );
    assert_eq!(stored_ids(&pipeline).await.len(), 2);
}

async fn stored_cursor(pipeline: &earshot::pipeline::Pipeline) -> Option<String> {
    pipeline
        .store()
        .cursor(&SourceId::parse("src").unwrap())
        .await
        .unwrap()
        .map(|c| c.0)
}

const GUIDLESS: &str = r#"<rss version="2.0"><channel><title>t</title><link>https://f.example/</link><description>d</description>
  <item><title>Acme Air delayed again</title><link>https://www.google.com/url?url=https://f.example/a&amp;usg=SIG1</link></item>
</channel></rss>"#;

#[tokio::test]
async fn a_feed_repeating_guidless_items_keeps_one_copy_with_a_stable_key() {
    let server = MockServer::start().await;
    let env = env(&server, Table::new());
    let pipeline = env.pipeline().await;
    // The same item on every poll, its redirect signature changing each time.
    let n_served = AtomicUsize::new(0);
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(move |_: &Request| {
            let n = n_served.fetch_add(1, Ordering::SeqCst);
            ResponseTemplate::new(200).set_body_raw(GUIDLESS.replace("SIG1", &format!("SIG{n}")), "application/rss+xml")
        })
        .expect(2)
        .mount(&server)
        .await;

    let first = pipeline.poll_source(env.source().as_ref()).await.unwrap();
    let second = pipeline.poll_source(env.source().as_ref()).await.unwrap();

    assert_eq!((first.n_new, first.n_duplicates), (1, 0));
    assert_eq!(
        (second.n_new, second.n_duplicates),
        (0, 1),
        "seen before: a duplicate, not new"
    );
    let ids = stored_ids(&pipeline).await;
    assert_eq!(ids.len(), 1);
    assert!(ids[0].starts_with("urn:earshot:feed-item:"), "{ids:?}");
}

#[tokio::test]
async fn malformed_xml_is_quarantined_with_the_raw_body_once() {
    let server = MockServer::start().await;
    let env = env(&server, Table::new());
    let pipeline = env.pipeline().await;
    let broken = "<rss version=\"2.0\"><channel><title>Acme</title><item><title>cut off";
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .and(header_exists("user-agent"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(broken, "application/rss+xml"))
        .mount(&server)
        .await;

    for _ in 0..2 {
        let error = pipeline.poll_source(env.source().as_ref()).await.unwrap_err();
        assert!(error.to_string().contains("polling src failed"), "{error}");
    }

    let quarantined = pipeline.store().quarantined(None, 10).await.unwrap();
    assert_eq!(quarantined.len(), 1, "the same bad body is kept once");
    assert_eq!(quarantined[0].raw, broken);
    assert!(
        quarantined[0].reason.contains("not an RSS or Atom feed"),
        "{}",
        quarantined[0].reason
    );
    let health = pipeline.store().source_health().await.unwrap();
    assert_eq!(health[0].last_error_kind.as_deref(), Some("malformed"));
}

const AUTHORS_RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0">
<channel>
  <title>Travel Gripes</title>
  <link>https://gripes.example/</link>
  <description>Complaints</description>
  <item>
    <title>Acme Air lost my bag</title>
    <link>https://gripes.example/a</link>
    <guid>https://gripes.example/a</guid>
    <author>jo@gripes.example (Jo Traveller)</author>
  </item>
  <item>
    <title>Acme Air late</title>
    <link>https://gripes.example/b</link>
    <guid>https://gripes.example/b</guid>
    <author>kim@gripes.example</author>
  </item>
</channel>
</rss>"#;

const AUTHORS_ATOM: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <title>Lee's travel log</title>
  <updated>2026-11-22T09:00:00Z</updated>
  <author><name>Lee Flyer</name><email>lee@log.example</email></author>
  <entry>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <title>Acme Air cancelled again</title>
    <link href="https://log.example/1"/>
    <updated>2026-11-22T09:00:00Z</updated>
  </entry>
  <entry>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6b</id>
    <title>Acme Air guest post</title>
    <link href="https://log.example/2"/>
    <updated>2026-11-22T08:00:00Z</updated>
    <author><name>Guest Writer</name></author>
  </entry>
</feed>"#;

#[tokio::test]
async fn rss_authors_give_their_name_and_atom_entries_without_one_take_the_feeds() {
    for (document, expected) in [
        (AUTHORS_RSS, ["Jo Traveller", "kim@gripes.example"]),
        (AUTHORS_ATOM, ["Lee Flyer", "Guest Writer"]),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/feed.xml"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(document, "application/xml"))
            .mount(&server)
            .await;
        let env = env(&server, Table::new());
        let pipeline = env.pipeline().await;
        let source = env.source();

        let batch = source.poll(None).await.unwrap();
        let first = pipeline.poll_source(source.as_ref()).await.unwrap();
        let second = pipeline.poll_source(source.as_ref()).await.unwrap();

        let authors: Vec<&str> = batch.posts.iter().map(|p| p.author_handle.as_str()).collect();
        assert_eq!(authors, expected);
        assert_eq!((first.n_new, second.n_new), (2, 0), "a second poll ingests nothing");
    }
}

/// The conformance every source passes (see `conformance`): the feed with its validators,
/// then a 304 for the conditional GET.
#[tokio::test]
async fn rss_conforms() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .and(header("if-none-match", "\"v1\""))
        .respond_with(ResponseTemplate::new(304))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/feed.xml"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("etag", "\"v1\"")
                .set_body_raw(RSS2, "application/rss+xml"),
        )
        .mount(&server)
        .await;
    let scoped = format!("{}/feed.xml#4711", server.uri());

    assert_source_conforms(
        &env(&server, Table::new()),
        Some(&server),
        Platform::Rss,
        &["https://gripes.example/2026/11/bag", scoped.as_str()],
    )
    .await;
}
