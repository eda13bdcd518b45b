//! Each platform's publisher against a loopback server answering in the platform's documented
//! shapes: the exact request (path, auth, body, reply references, idempotency key or record
//! key), the published id and link, refusals in the platform's words, and the lookup after an
//! uncertain outcome.

use std::sync::{Arc, Mutex};

use serde_json::json;
use wiremock::matchers::{body_json, body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use earshot::domain::{BrandId, Millis, Platform};
use earshot::replies::{
    NoVault, OutgoingReply, ReplyAccountSettings, ReplyError, ReplyTarget, StoredToken, TokenVault,
};

fn account(toml_text: &str) -> ReplyAccountSettings {
    toml::from_str(toml_text).unwrap()
}

fn reply(platform: Platform, external_id: &str, text: &str, key: &str) -> OutgoingReply {
    OutgoingReply {
        reply_id: earshot::domain::ReplyId::new(7),
        key: key.into(),
        text: text.into(),
        target: ReplyTarget {
            platform,
            external_id: external_id.into(),
            author_handle: "jo".into(),
            text: "@AcmeAir lost my bag".into(),
            url: None,
            conversation_id: Some("vid123".into()),
        },
    }
}

fn brand() -> BrandId {
    BrandId::parse("acme").unwrap()
}

fn http() -> reqwest::Client {
    earshot::app::http_client().unwrap()
}

#[tokio::test]
async fn mastodon_replies_on_the_brand_instance_with_the_idempotency_key_and_keeps_a_dm_direct() {
    let server = MockServer::start().await;
    let status_uri = "https://example.social/users/jo/statuses/1";
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .and(query_param("q", status_uri))
        .and(query_param("type", "statuses"))
        .and(query_param("resolve", "true"))
        .and(header("authorization", "Bearer mastodon-token-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "accounts": [], "hashtags": [],
            "statuses": [{"id": "109876543210987654", "visibility": "direct", "uri": status_uri,
                          "account": {"id": "9", "acct": "jo@example.social"}}]
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .and(header("authorization", "Bearer mastodon-token-1"))
        .and(header("idempotency-key", "reply-key-1"))
        .and(body_string_contains("in_reply_to_id=109876543210987654"))
        .and(body_string_contains("visibility=direct"))
        .and(body_string_contains("status=%40jo%40example.social+Sorry%21"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "110123456789012345",
            "uri": "https://brand.social/users/acme/statuses/110123456789012345",
            "url": "https://brand.social/@acme/110123456789012345",
            "in_reply_to_id": "109876543210987654",
            "visibility": "direct"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/verify_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "id": "42", "username": "acme", "acct": "acme", "display_name": "Acme Air"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v1/accounts/42/statuses"))
        .and(query_param("exclude_reblogs", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([
            {"id": "110123456789012345", "in_reply_to_id": "109876543210987654",
             "url": "https://brand.social/@acme/110123456789012345"}
        ])))
        .mount(&server)
        .await;
    let settings = account(&format!(
        "platform = \"mastodon\"\nbase_url = \"{}\"\naccess_token = \"mastodon-token-1\"\n",
        server.uri()
    ));
    let publisher = settings.build(&brand(), http(), Arc::new(NoVault));
    let outgoing = reply(
        Platform::Mastodon,
        status_uri,
        "@jo@example.social Sorry!",
        "reply-key-1",
    );

    let published = publisher.publish(&outgoing).await.unwrap();
    let found = publisher.find_published(&outgoing).await.unwrap();
    let me = publisher.whoami().await.unwrap();

    assert_eq!(published.external_id, "110123456789012345");
    assert_eq!(
        published.url.as_deref(),
        Some("https://brand.social/@acme/110123456789012345")
    );
    assert_eq!(found, Some(published), "the lookup finds the reply to the same post");
    let host = url::Url::parse(&server.uri()).unwrap().host_str().unwrap().to_owned();
    assert_eq!(me.handle, format!("@acme@{host}"));
}

#[tokio::test]
async fn a_mastodon_422_is_a_refusal_in_the_instances_words() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v2/search"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"statuses": [{"id": "5", "visibility": "public"}]})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/v1/statuses"))
        .respond_with(
            ResponseTemplate::new(422)
                .set_body_json(json!({"error": "Validation failed: Text character limit of 500 exceeded"})),
        )
        .mount(&server)
        .await;
    let settings = account(&format!(
        "platform = \"mastodon\"\nbase_url = \"{}\"\naccess_token = \"t\"\n",
        server.uri()
    ));
    let publisher = settings.build(&brand(), http(), Arc::new(NoVault));

    let error = publisher
        .publish(&reply(
            Platform::Mastodon,
            "https://example.social/users/jo/statuses/1",
            "hi",
            "k",
        ))
        .await
        .unwrap_err();

    assert!(matches!(error, ReplyError::Refused { .. }), "{error:?}");
    assert!(error.to_string().contains("character limit of 500 exceeded"), "{error}");
}

#[tokio::test]
async fn bluesky_creates_the_post_with_its_own_record_key_root_parent_and_facets() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .and(body_json(
            json!({"identifier": "acme.bsky.social", "password": "app-pass-1"}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "accessJwt": "access-1", "refreshJwt": "refresh-1", "did": "did:plc:acme", "handle": "acme.bsky.social"
        })))
        .expect(1)
        .mount(&server)
        .await;
    // The post answered is itself a reply: its root becomes the reply's root.
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.repo.getRecord"))
        .and(query_param("repo", "did:plc:jo"))
        .and(query_param("collection", "app.bsky.feed.post"))
        .and(query_param("rkey", "3k43tv4rft22g"))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uri": "at://did:plc:jo/app.bsky.feed.post/3k43tv4rft22g", "cid": "bafyparent",
            "value": {"$type": "app.bsky.feed.post", "text": "@acme.bsky.social lost my bag",
                      "reply": {"root": {"uri": "at://did:plc:kim/app.bsky.feed.post/3k0000000root", "cid": "bafyroot"},
                                "parent": {"uri": "at://did:plc:kim/app.bsky.feed.post/3k0000000root", "cid": "bafyroot"}}}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.identity.resolveHandle"))
        .and(query_param("handle", "jo.bsky.social"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"did": "did:plc:jo"})))
        .mount(&server)
        .await;
    let seen: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let recorder = seen.clone();
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.repo.createRecord"))
        .and(header("authorization", "Bearer access-1"))
        .respond_with(move |request: &Request| {
            recorder
                .lock()
                .unwrap()
                .push(serde_json::from_slice(&request.body).unwrap());
            ResponseTemplate::new(200).set_body_json(json!({
                "uri": "at://did:plc:acme/app.bsky.feed.post/3lbq2x7k4mz2a", "cid": "bafyreply",
                "commit": {"cid": "bafycommit", "rev": "3lbq2x7k4mz2b"}, "validationStatus": "valid"
            }))
        })
        .expect(1)
        .mount(&server)
        .await;
    let settings = account(&format!(
        "platform = \"bluesky\"\nidentifier = \"acme.bsky.social\"\napp_password = \"app-pass-1\"\nbase_url = \"{}\"\n",
        server.uri()
    ));
    let publisher = settings.build(&brand(), http(), Arc::new(NoVault));
    let text = "@jo.bsky.social so sorry — https://acme.example/bags";

    let published = publisher
        .publish(&reply(
            Platform::Bluesky,
            "at://did:plc:jo/app.bsky.feed.post/3k43tv4rft22g",
            text,
            "3lbq2x7k4mz2a",
        ))
        .await
        .unwrap();

    assert_eq!(
        published.external_id,
        "at://did:plc:acme/app.bsky.feed.post/3lbq2x7k4mz2a"
    );
    assert_eq!(
        published.url.as_deref(),
        Some("https://bsky.app/profile/acme.bsky.social/post/3lbq2x7k4mz2a")
    );
    let body = seen.lock().unwrap()[0].clone();
    assert_eq!(body["repo"], "did:plc:acme");
    assert_eq!(body["collection"], "app.bsky.feed.post");
    assert_eq!(
        body["rkey"], "3lbq2x7k4mz2a",
        "earshot's own record key, checkable after a timeout"
    );
    let record = &body["record"];
    assert_eq!(record["$type"], "app.bsky.feed.post");
    assert_eq!(record["text"], text);
    assert_eq!(
        record["reply"]["root"],
        json!({"uri": "at://did:plc:kim/app.bsky.feed.post/3k0000000root", "cid": "bafyroot"})
    );
    assert_eq!(
        record["reply"]["parent"],
        json!({"uri": "at://did:plc:jo/app.bsky.feed.post/3k43tv4rft22g", "cid": "bafyparent"})
    );
    assert_eq!(
        record["facets"][0],
        json!({"index": {"byteStart": 0, "byteEnd": 15},
               "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:jo"}]})
    );
    let link_start = text.find("https").unwrap();
    assert_eq!(record["facets"][1]["index"]["byteStart"], link_start);
    assert_eq!(record["facets"][1]["index"]["byteEnd"], text.len());
    assert_eq!(record["facets"][1]["features"][0]["uri"], "https://acme.example/bags");
    assert!(record["createdAt"].as_str().unwrap().ends_with('Z'));
}

#[tokio::test]
async fn bluesky_knows_for_certain_whether_a_reply_exists_by_its_record_key() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/xrpc/com.atproto.server.createSession"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "accessJwt": "a", "refreshJwt": "r", "did": "did:plc:acme", "handle": "acme.bsky.social"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.repo.getRecord"))
        .and(query_param("repo", "did:plc:acme"))
        .and(query_param("rkey", "3lbq2x7k4mz2a"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "uri": "at://did:plc:acme/app.bsky.feed.post/3lbq2x7k4mz2a", "cid": "bafyreply", "value": {}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/xrpc/com.atproto.repo.getRecord"))
        .and(query_param("rkey", "3lbq2x7k4mzzz"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({
            "error": "RecordNotFound", "message": "Could not locate record"
        })))
        .mount(&server)
        .await;
    let settings = account(&format!(
        "platform = \"bluesky\"\nidentifier = \"acme.bsky.social\"\napp_password = \"p\"\nbase_url = \"{}\"\n",
        server.uri()
    ));
    let publisher = settings.build(&brand(), http(), Arc::new(NoVault));
    let target = "at://did:plc:jo/app.bsky.feed.post/3k43tv4rft22g";

    let there = publisher
        .find_published(&reply(Platform::Bluesky, target, "t", "3lbq2x7k4mz2a"))
        .await
        .unwrap();
    let not_there = publisher
        .find_published(&reply(Platform::Bluesky, target, "t", "3lbq2x7k4mzzz"))
        .await
        .unwrap();

    assert_eq!(
        there.map(|p| p.external_id),
        Some("at://did:plc:acme/app.bsky.feed.post/3lbq2x7k4mz2a".to_owned())
    );
    assert_eq!(not_there, None);
}

/// Keeps rotated tokens in memory, as the store does.
#[derive(Default)]
struct MemoryVault(Mutex<Option<StoredToken>>);

#[async_trait::async_trait]
impl TokenVault for MemoryVault {
    async fn load(&self, _account: &str) -> Result<Option<StoredToken>, String> {
        Ok(self.0.lock().unwrap().clone())
    }
    async fn save(&self, _account: &str, token: &StoredToken, _now: Millis) -> Result<(), String> {
        *self.0.lock().unwrap() = Some(token.clone());
        Ok(())
    }
}

#[tokio::test]
async fn x_refreshes_the_user_token_keeps_the_rotated_one_and_replies_in_the_thread() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2/oauth2/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=configured-refresh"))
        // Basic base64("x-client:x-secret")
        .and(header("authorization", "Basic eC1jbGllbnQ6eC1zZWNyZXQ="))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "bearer", "expires_in": 7200, "access_token": "x-access-1",
            "scope": "tweet.read tweet.write users.read offline.access", "refresh_token": "rotated-refresh-2"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/2/tweets"))
        .and(header("authorization", "Bearer x-access-1"))
        .and(body_json(json!({
            "text": "@jo Sorry about your bag, DM us?",
            "reply": {"in_reply_to_tweet_id": "1790000000000000000"}
        })))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "data": {"id": "1790000000000000123", "text": "@jo Sorry about your bag, DM us?",
                     "edit_history_post_ids": ["1790000000000000123"]}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let settings = account(&format!(
        "platform = \"x\"\nusername = \"AcmeAir\"\nclient_id = \"x-client\"\nclient_secret = \"x-secret\"\n\
         refresh_token = \"configured-refresh\"\nbase_url = \"{}\"\n",
        server.uri()
    ));
    let vault = Arc::new(MemoryVault::default());
    let publisher = settings.build(&brand(), http(), vault.clone());

    let published = publisher
        .publish(&reply(
            Platform::X,
            "1790000000000000000",
            "@jo Sorry about your bag, DM us?",
            "k",
        ))
        .await
        .unwrap();

    assert_eq!(published.external_id, "1790000000000000123");
    assert_eq!(
        published.url.as_deref(),
        Some("https://x.com/AcmeAir/status/1790000000000000123")
    );
    let kept = vault.0.lock().unwrap().clone().expect("the rotated token is kept");
    assert_eq!(kept.token, "rotated-refresh-2");

    // A new process (another publisher) refreshes with the rotated token, not the configured one.
    let second = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2/oauth2/token"))
        .and(body_string_contains("refresh_token=rotated-refresh-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "x-access-2", "refresh_token": "rotated-refresh-3", "expires_in": 7200
        })))
        .expect(1)
        .mount(&second)
        .await;
    Mock::given(method("GET"))
        .and(path("/2/users/me"))
        .and(header("authorization", "Bearer x-access-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "data": {"id": "2244994945", "name": "Acme Air", "username": "AcmeAir"}
        })))
        .mount(&second)
        .await;
    let again = account(&format!(
        "platform = \"x\"\nusername = \"AcmeAir\"\nclient_id = \"x-client\"\nclient_secret = \"x-secret\"\n\
         refresh_token = \"configured-refresh\"\nbase_url = \"{}\"\n",
        second.uri()
    ))
    .build(&brand(), http(), vault.clone());
    let me = again.whoami().await.unwrap();
    assert_eq!((me.id.as_str(), me.handle.as_str()), ("2244994945", "@AcmeAir"));
    assert_eq!(vault.0.lock().unwrap().clone().unwrap().token, "rotated-refresh-3");
}

#[tokio::test]
async fn x_refuses_before_sending_when_the_post_does_not_mention_the_brand() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let settings = account(&format!(
        "platform = \"x\"\nusername = \"AcmeAir\"\nclient_id = \"c\"\nrefresh_token = \"r\"\nbase_url = \"{}\"\n",
        server.uri()
    ));
    let mut outgoing = reply(Platform::X, "1790000000000000000", "Sorry!", "k");
    outgoing.target.text = "acme air lost my bag".into();

    let why = settings.check_target(&outgoing.target).unwrap_err();
    let error = settings
        .build(&brand(), http(), Arc::new(NoVault))
        .publish(&outgoing)
        .await
        .unwrap_err();

    assert!(
        why.contains("mention @AcmeAir") && why.contains("reply on x.com"),
        "{why}"
    );
    assert!(matches!(error, ReplyError::NotPossible(_)), "{error:?}");
}

#[tokio::test]
async fn reddit_comments_with_a_password_grant_and_a_200_with_errors_is_a_refusal() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .and(body_string_contains("grant_type=password"))
        .and(body_string_contains("username=AcmeAir"))
        .and(body_string_contains("password=hunter2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "reddit-access", "token_type": "bearer", "expires_in": 3600, "scope": "submit identity history read"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/comment"))
        .and(header("authorization", "Bearer reddit-access"))
        .and(header("user-agent", "linux:com.acme.replies:v1 (by /u/AcmeAir)"))
        .and(body_string_contains("api_type=json"))
        .and(body_string_contains("thing_id=t3_abc"))
        .and(body_string_contains("text=Sorry%21"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"json": {"errors": [], "data": {"things": [
                {"kind": "t1", "data": {"name": "t1_xyz", "id": "xyz", "parent_id": "t3_abc", "link_id": "t3_abc",
                                        "permalink": "/r/acme/comments/abc/bag/xyz/"}}
            ]}}})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/comment"))
        .and(body_string_contains("thing_id=t3_locked"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"json": {"errors": [
            ["THREAD_LOCKED", "Comments are locked.", "parent"]
        ]}})))
        .mount(&server)
        .await;
    let settings = account(&format!(
        "platform = \"reddit\"\nusername = \"AcmeAir\"\nclient_id = \"rc\"\nclient_secret = \"rs\"\npassword = \"hunter2\"\n\
         user_agent = \"linux:com.acme.replies:v1 (by /u/AcmeAir)\"\nauth_url = \"{uri}\"\nbase_url = \"{uri}\"\n",
        uri = server.uri()
    ));
    let publisher = settings.build(&brand(), http(), Arc::new(NoVault));

    let published = publisher
        .publish(&reply(Platform::Reddit, "t3_abc", "Sorry!", "k"))
        .await
        .unwrap();
    let refused = publisher
        .publish(&reply(Platform::Reddit, "t3_locked", "Sorry!", "k"))
        .await
        .unwrap_err();

    assert_eq!(published.external_id, "t1_xyz");
    assert_eq!(
        published.url.as_deref(),
        Some("https://www.reddit.com/r/acme/comments/abc/bag/xyz/")
    );
    assert!(matches!(refused, ReplyError::Refused { .. }), "{refused:?}");
    assert!(
        refused.to_string().contains("THREAD_LOCKED: Comments are locked."),
        "{refused}"
    );
}

#[tokio::test]
async fn a_wrong_reddit_password_is_a_200_invalid_grant_and_reads_as_credentials_refused() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/v1/access_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;
    let settings = account(&format!(
        "platform = \"reddit\"\nusername = \"AcmeAir\"\nclient_id = \"rc\"\nclient_secret = \"rs\"\npassword = \"wrong\"\n\
         user_agent = \"ua\"\nauth_url = \"{uri}\"\nbase_url = \"{uri}\"\n",
        uri = server.uri()
    ));

    let error = settings
        .build(&brand(), http(), Arc::new(NoVault))
        .whoami()
        .await
        .unwrap_err();

    assert!(matches!(error, ReplyError::Unauthorized { .. }), "{error:?}");
    assert!(error.to_string().contains("invalid_grant"), "{error}");
    assert!(
        !error.to_string().contains("wrong"),
        "the password never shows: {error}"
    );
}

#[tokio::test]
async fn youtube_inserts_a_reply_under_the_top_level_comment() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains("refresh_token=yt-refresh"))
        .and(body_string_contains("client_id=yt-client"))
        .and(body_string_contains("client_secret=yt-secret"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "yt-access", "expires_in": 3599, "scope": "https://www.googleapis.com/auth/youtube.force-ssl",
            "token_type": "Bearer"
        })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/youtube/v3/comments"))
        .and(query_param("part", "snippet"))
        .and(header("authorization", "Bearer yt-access"))
        .and(body_json(
            json!({"snippet": {"parentId": "UgxTop", "textOriginal": "Sorry!"}}),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "kind": "youtube#comment", "id": "UgxTop.9zReply",
            "snippet": {"parentId": "UgxTop", "textOriginal": "Sorry!", "authorChannelId": {"value": "UCacme"}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let settings = account(&format!(
        "platform = \"youtube\"\nclient_id = \"yt-client\"\nclient_secret = \"yt-secret\"\nrefresh_token = \"yt-refresh\"\n\
         token_url = \"{uri}/token\"\nbase_url = \"{uri}/youtube/v3\"\n",
        uri = server.uri()
    ));

    let published = settings
        .build(&brand(), http(), Arc::new(NoVault))
        .publish(&reply(Platform::YouTube, "UgxTop.9zOther", "Sorry!", "k"))
        .await
        .unwrap();

    assert_eq!(published.external_id, "UgxTop.9zReply");
    assert_eq!(
        published.url.as_deref(),
        Some("https://www.youtube.com/watch?v=vid123&lc=UgxTop.9zReply")
    );
}
