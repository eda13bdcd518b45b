//! Bluesky: replies as `com.atproto.repo.createRecord` of an `app.bsky.feed.post` in the
//! brand's repository, with an app password session (`com.atproto.server.createSession`,
//! refreshed with `refreshSession` on `ExpiredToken`).
//!
//! - `reply.parent` is the post answered (its AT-URI and CID from
//!   `com.atproto.repo.getRecord`); `reply.root` is the parent's own `reply.root` when the
//!   parent is itself a reply, else the parent.
//! - Facets: `@handle` mentions (resolved with `com.atproto.identity.resolveHandle`; a handle
//!   that does not resolve stays plain text) and `http(s)` links, at UTF-8 byte offsets.
//! - The record key is chosen by earshot (a TID made when the reply is queued), so after an
//!   uncertain outcome `getRecord` on that key says for certain whether the reply exists.
//! - Limits: 300 graphemes and 3,000 bytes; writes cost 3 points of 5,000 an hour; 429
//!   carries `RateLimit-Reset` (epoch seconds).

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;

use super::text;
use super::{Identity, OutgoingReply, Published, Publisher, ReplyError, require};
use crate::domain::{HttpUrl, Millis, Platform};
use crate::secret::Secret;
use crate::sources::http::{self, ResetHeader, Response, RetryPolicy};

const PLATFORM: Platform = Platform::Bluesky;
const RESET: ResetHeader = ResetHeader::EpochSeconds("ratelimit-reset");
const POST: &str = "app.bsky.feed.post";

/// `platform = "bluesky"` under `[[brands.reply_accounts]]`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlueskyAccount {
    /// The brand's handle or DID.
    pub identifier: String,
    /// An app password (Settings → Privacy and security → App passwords).
    pub app_password: Secret,
    /// The account's PDS (or the `bsky.social` entryway).
    #[serde(default = "default_base_url")]
    pub base_url: String,
}

fn default_base_url() -> String {
    "https://bsky.social".into()
}

impl BlueskyAccount {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        require("identifier", &self.identifier)
            .into_iter()
            .chain(HttpUrl::problem("base_url", &self.base_url))
            .collect()
    }
}

#[derive(Clone, Deserialize)]
struct Session {
    #[serde(rename = "accessJwt")]
    access: String,
    #[serde(rename = "refreshJwt")]
    refresh: String,
    did: String,
    handle: String,
}

/// A strong reference: a record's URI and CID.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct StrongRef {
    pub uri: String,
    pub cid: String,
}

#[derive(Deserialize)]
struct Record {
    uri: String,
    cid: String,
    #[serde(default)]
    value: serde_json::Value,
}

/// The parts of an AT-URI: `at://<repo>/<collection>/<rkey>`.
pub fn parse_at_uri(uri: &str) -> Option<(&str, &str, &str)> {
    let rest = uri.strip_prefix("at://")?;
    let mut parts = rest.splitn(3, '/');
    let (repo, collection, rkey) = (parts.next()?, parts.next()?, parts.next()?);
    (!repo.is_empty() && !collection.is_empty() && !rkey.is_empty() && !rkey.contains('/'))
        .then_some((repo, collection, rkey))
}

const TID_ALPHABET: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A record key in the TID format (13 base32-sortable characters: 53 bits of microseconds
/// since the epoch, 10 bits of clock id), made when the reply is queued and kept with it, so
/// every retry uses the same key.
pub fn tid(created_at: Millis, clock_id: i64) -> String {
    let micros = u64::try_from(created_at).unwrap_or(0).saturating_mul(1000) & ((1 << 53) - 1);
    let clock = u64::try_from(clock_id).unwrap_or(0) & 0x3FF;
    let value = (micros << 10) | clock;
    (0..13)
        .rev()
        .map(|i| char::from(TID_ALPHABET[((value >> (i * 5)) & 31) as usize]))
        .collect()
}

/// Facets for `@handle` mentions (with their DIDs) and links, at byte offsets of `text`.
pub fn facets(text: &str, mentions: &[(std::ops::Range<usize>, String)]) -> Vec<serde_json::Value> {
    let mut facets: Vec<(usize, serde_json::Value)> = mentions
        .iter()
        .map(|(range, did)| {
            (
                range.start,
                json!({
                    "index": {"byteStart": range.start, "byteEnd": range.end},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]
                }),
            )
        })
        .collect();
    for link in text::links(text) {
        let uri = &text[link.clone()];
        let uri = if uri.to_ascii_lowercase().starts_with("www.") {
            format!("https://{uri}")
        } else {
            uri.to_owned()
        };
        facets.push((
            link.start,
            json!({
                "index": {"byteStart": link.start, "byteEnd": link.end},
                "features": [{"$type": "app.bsky.richtext.facet#link", "uri": uri}]
            }),
        ));
    }
    facets.sort_by_key(|(start, _)| *start);
    facets.into_iter().map(|(_, facet)| facet).collect()
}

/// `@handle` spans in `text` (handles have a dot: `ann.bsky.social`).
pub fn mention_spans(text: &str) -> Vec<(std::ops::Range<usize>, String)> {
    #[allow(clippy::expect_used, reason = "a constant pattern, checked by the tests")]
    static HANDLE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"(?:^|[^\w@])(@([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+))",
        )
        .expect("handle pattern")
    });
    HANDLE
        .captures_iter(text)
        .filter_map(|c| Some((c.get(1)?.range(), c.get(2)?.as_str().trim_end_matches('.').to_owned())))
        .filter(|(_, handle)| !handle.is_empty())
        .collect()
}

pub struct BlueskyPublisher {
    account: BlueskyAccount,
    http: reqwest::Client,
    session: Mutex<Option<Session>>,
}

impl BlueskyPublisher {
    pub fn new(account: BlueskyAccount, http: reqwest::Client) -> BlueskyPublisher {
        BlueskyPublisher {
            account,
            http,
            session: Mutex::new(None),
        }
    }

    fn url(&self, method: &str) -> String {
        http::join(&self.account.base_url, &format!("/xrpc/{method}"))
    }

    async fn session(&self) -> Result<Session, ReplyError> {
        let mut session = self.session.lock().await;
        if let Some(current) = session.as_ref() {
            return Ok(current.clone());
        }
        let body = json!({"identifier": self.account.identifier, "password": self.account.app_password.expose()});
        let response = http::send(
            || self.http.post(self.url("com.atproto.server.createSession")).json(&body),
            RESET,
            RetryPolicy::default(),
        )
        .await
        .map_err(login_error)?;
        let fresh: Session = response
            .credentials_json()
            .map_err(|error| ReplyError::from_read(PLATFORM, error))?;
        *session = Some(fresh.clone());
        Ok(fresh)
    }

    /// Replaces an expired session: `refreshSession`, else a new login.
    async fn renew(&self, expired: &Session) -> Result<Session, ReplyError> {
        let mut session = self.session.lock().await;
        if let Some(current) = session.as_ref()
            && current.access != expired.access
        {
            return Ok(current.clone());
        }
        let refreshed = http::send(
            || {
                self.http
                    .post(self.url("com.atproto.server.refreshSession"))
                    .bearer_auth(&expired.refresh)
            },
            RESET,
            RetryPolicy::default(),
        )
        .await
        .ok()
        .and_then(|response| response.credentials_json::<Session>().ok());
        *session = refreshed;
        drop(session);
        self.session().await
    }

    /// A read with the session, renewed once on `ExpiredToken`.
    async fn get(&self, method: &str, query: &[(&str, &str)]) -> Result<Response, ReplyError> {
        let mut session = self.session().await?;
        for attempt in 0..2 {
            let response = http::send_unchecked(
                || {
                    self.http
                        .get(self.url(method))
                        .query(query)
                        .bearer_auth(&session.access)
                },
                RetryPolicy::default(),
            )
            .await
            .map_err(|error| ReplyError::from_read(PLATFORM, error))?;
            if attempt == 0 && is_expired(&response) {
                session = self.renew(&session).await?;
                continue;
            }
            return Ok(response);
        }
        unreachable_expired()
    }

    async fn record(&self, repo: &str, collection: &str, rkey: &str) -> Result<Option<Record>, ReplyError> {
        let response = self
            .get(
                "com.atproto.repo.getRecord",
                &[("repo", repo), ("collection", collection), ("rkey", rkey)],
            )
            .await?;
        if response.status == 400 && xrpc_error(&response.body).0 == "RecordNotFound" {
            return Ok(None);
        }
        let response = http::classify(response, RESET).map_err(|error| ReplyError::from_read(PLATFORM, error))?;
        response
            .json::<Record>()
            .map(Some)
            .map_err(|error| ReplyError::from_read(PLATFORM, error))
    }

    async fn resolve_mentions(&self, text: &str) -> Result<Vec<(std::ops::Range<usize>, String)>, ReplyError> {
        let mut resolved = Vec::new();
        for (range, handle) in mention_spans(text) {
            let response = self
                .get("com.atproto.identity.resolveHandle", &[("handle", handle.as_str())])
                .await?;
            if (200..300).contains(&response.status)
                && let Some(did) = serde_json::from_slice::<serde_json::Value>(&response.body)
                    .ok()
                    .and_then(|v| v.get("did")?.as_str().map(str::to_owned))
            {
                resolved.push((range, did));
            }
        }
        Ok(resolved)
    }

    fn permalink(&self, session: &Session, uri: &str) -> Option<String> {
        let (_, _, rkey) = parse_at_uri(uri)?;
        Some(format!("https://bsky.app/profile/{}/post/{rkey}", session.handle))
    }
}

fn unreachable_expired<T>() -> Result<T, ReplyError> {
    Err(ReplyError::Unauthorized {
        platform: PLATFORM,
        status: 400,
        message: "ExpiredToken: the session expired again right after it was renewed".into(),
    })
}

fn login_error(error: crate::sources::SourceError) -> ReplyError {
    match error {
        crate::sources::SourceError::Rejected { status, detail } => ReplyError::Unauthorized {
            platform: PLATFORM,
            status,
            message: detail,
        },
        other => ReplyError::from_read(PLATFORM, other),
    }
}

/// An XRPC error body's `error` and `message`.
fn xrpc_error(body: &[u8]) -> (String, String) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let field = |name: &str| value.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    (field("error"), field("message"))
}

fn is_expired(response: &Response) -> bool {
    matches!(response.status, 400 | 401) && xrpc_error(&response.body).0 == "ExpiredToken"
}

#[async_trait]
impl Publisher for BlueskyPublisher {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    async fn whoami(&self) -> Result<Identity, ReplyError> {
        let response = self.get("com.atproto.server.getSession", &[]).await?;
        let response = http::classify(response, RESET).map_err(|error| ReplyError::from_read(PLATFORM, error))?;
        let value: serde_json::Value = response
            .json()
            .map_err(|error| ReplyError::from_read(PLATFORM, error))?;
        let field = |name: &str| value.get(name).and_then(|v| v.as_str()).map(str::to_owned);
        Ok(Identity {
            id: field("did").unwrap_or_default(),
            handle: field("handle").unwrap_or_default(),
            name: None,
        })
    }

    async fn publish(&self, reply: &OutgoingReply) -> Result<Published, ReplyError> {
        let Some((repo, collection, rkey)) = parse_at_uri(&reply.target.external_id) else {
            return Err(ReplyError::NotPossible(format!(
                "{} is not a Bluesky post URI",
                reply.target.external_id
            )));
        };
        let parent = self
            .record(repo, collection, rkey)
            .await?
            .ok_or_else(|| ReplyError::Refused {
                platform: PLATFORM,
                message: "the post was deleted (RecordNotFound)".into(),
            })?;
        let parent_ref = StrongRef {
            uri: parent.uri.clone(),
            cid: parent.cid.clone(),
        };
        let root = parent
            .value
            .pointer("/reply/root")
            .and_then(|root| serde_json::from_value::<StrongRef>(root.clone()).ok())
            .unwrap_or_else(|| parent_ref.clone());
        let mentions = self.resolve_mentions(&reply.text).await?;
        let mut session = self.session().await?;
        let body = json!({
            "repo": session.did,
            "collection": POST,
            "rkey": reply.key,
            "record": {
                "$type": POST,
                "text": reply.text,
                "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "reply": {"root": root, "parent": parent_ref},
                "facets": facets(&reply.text, &mentions),
            }
        });
        for attempt in 0..2 {
            let response = http::send_unchecked(
                || {
                    self.http
                        .post(self.url("com.atproto.repo.createRecord"))
                        .bearer_auth(&session.access)
                        .json(&body)
                },
                RetryPolicy {
                    attempts: 1,
                    ..RetryPolicy::default()
                },
            )
            .await
            .map_err(|error| ReplyError::from_write(PLATFORM, error))?;
            if attempt == 0 && is_expired(&response) {
                // An expired token is checked before the write: nothing was created.
                session = self.renew(&session).await?;
                continue;
            }
            let response = classify_write(response)?;
            let created: StrongRef = response.json().map_err(|error| ReplyError::Uncertain {
                platform: PLATFORM,
                message: error.to_string(),
            })?;
            return Ok(Published {
                url: self.permalink(&session, &created.uri),
                external_id: created.uri,
            });
        }
        unreachable_expired()
    }

    async fn find_published(&self, reply: &OutgoingReply) -> Result<Option<Published>, ReplyError> {
        let session = self.session().await?;
        Ok(self
            .record(&session.did, POST, &reply.key)
            .await?
            .map(|record| Published {
                url: self.permalink(&session, &record.uri),
                external_id: record.uri,
            }))
    }
}

/// A write's answer: 401 and `AuthenticationRequired`/`InvalidToken` are the credentials;
/// 429 waits; 5xx is uncertain (a repeated record key also fails inside the repository
/// as a 5xx); other 4xx are refusals in the PDS's words.
fn classify_write(response: Response) -> Result<Response, ReplyError> {
    let (name, message) = xrpc_error(&response.body);
    let words = || {
        if name.is_empty() {
            http::error_detail(&response.body)
        } else {
            format!("{name}: {message}")
        }
    };
    match response.status {
        200..=299 => Ok(response),
        401 => Err(ReplyError::Unauthorized {
            platform: PLATFORM,
            status: 401,
            message: words(),
        }),
        400 if matches!(
            name.as_str(),
            "InvalidToken" | "AuthenticationRequired" | "AccountTakedown"
        ) =>
        {
            Err(ReplyError::Unauthorized {
                platform: PLATFORM,
                status: 400,
                message: words(),
            })
        }
        429 => Err(ReplyError::RateLimited {
            platform: PLATFORM,
            retry_after: http::retry_after(&response.headers, RESET, std::time::SystemTime::now()),
        }),
        500..=599 => Err(ReplyError::Uncertain {
            platform: PLATFORM,
            message: format!("HTTP {}: {}", response.status, words()),
        }),
        status => Err(ReplyError::Refused {
            platform: PLATFORM,
            message: format!("HTTP {status}: {}", words()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tid_is_13_sortable_characters_and_stable_per_reply() {
        let a = tid(1_795_000_000_000, 1);
        let b = tid(1_795_000_000_001, 1);
        assert_eq!(a.len(), 13);
        assert!(a < b, "later is larger: {a} {b}");
        assert_eq!(a, tid(1_795_000_000_000, 1));
        assert_ne!(a, tid(1_795_000_000_000, 2));
        assert!(a.chars().all(|c| TID_ALPHABET.contains(&(c as u8))));
    }

    #[test]
    fn at_uris_split_into_repo_collection_and_key() {
        assert_eq!(
            parse_at_uri("at://did:plc:ann/app.bsky.feed.post/3k43tv4rft22g"),
            Some(("did:plc:ann", "app.bsky.feed.post", "3k43tv4rft22g"))
        );
        assert_eq!(parse_at_uri("https://bsky.app/profile/ann"), None);
    }

    #[test]
    fn facets_mark_mentions_and_links_at_byte_offsets() {
        let text = "@ann.bsky.social désolé — see https://acme.example/fix";
        let spans = mention_spans(text);
        assert_eq!(spans, [(0..16, "ann.bsky.social".to_owned())]);
        let facets = facets(text, &[(0..16, "did:plc:ann".to_owned())]);
        assert_eq!(facets.len(), 2);
        assert_eq!(facets[0]["features"][0]["did"], "did:plc:ann");
        let start = text.find("https").unwrap();
        assert_eq!(facets[1]["index"]["byteStart"], start);
        assert_eq!(facets[1]["index"]["byteEnd"], text.len());
        assert_eq!(facets[1]["features"][0]["uri"], "https://acme.example/fix");
        assert!(
            mention_spans("mail ann@acme.example").is_empty(),
            "an e-mail is not a mention"
        );
    }
}
