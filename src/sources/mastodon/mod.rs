//! Mastodon hashtag timelines: `GET /api/v1/timelines/tag/:hashtag` on one instance, with an
//! optional bearer token (needed where the instance restricts hashtag feeds).
//!
//! Cursor: per hashtag, the newest status id committed. Each poll asks every hashtag for
//! `min_id={that id}` (gap-free forward paging, per the API guidelines); the next `min_id`
//! comes from the `Link` header's `rel="prev"` URL, else the largest id on the page (ids are
//! opaque strings compared by length, then lexically). A full page means more is waiting, so
//! the pipeline polls again right after committing. Boosts (`reblog`) are unwrapped to the
//! original status; `content` is HTML and is turned into text, with `spoiler_text` in front.
//! Authors are always `@user@server`: a local account's `acct` has no server, so it is taken
//! from the account's `url` (else the instance), and the brand's own local account is known.
//!
//! Statuses search (`search = ["…"]`, see `search`) runs beside the hashtags in the same poll.
//!
//! Rate limits: 300 requests / 5 min by default; 429 carries `X-RateLimit-Reset` (a timestamp).
//!
//! Engagement re-read (viral escalation): statuses are stored by their `uri`; for a status of
//! this instance (`{base_url}/users/{name}/statuses/{id}`) the local id is its last segment,
//! and up to 20 are read at once with `GET /api/v1/statuses?id[]=…` (Mastodon 4.3+). A status
//! the answer leaves out is asked for alone (`GET /api/v1/statuses/:id`): a 404 (`Record not
//! found`) means it was deleted (or made private) and is deleted here too. Statuses of other
//! servers have no id on this instance that their URI gives, so they are not re-read.

mod search;

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Deserialize;

use super::http::{self, ResetHeader, RetryPolicy};
use super::{EngagementLookup, Lookup, Reading, Source, SourceError, cursor, html};
use crate::domain::{Batch, Cursor, Engagement, HttpUrl, Platform, Post, PostDraft, Quarantined, SourceId};
use crate::secret::Secret;

/// Settings of a `type = "mastodon"` source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MastodonSettings {
    /// The instance, e.g. `https://mastodon.social`.
    #[serde(default = "default_base_url")]
    pub base_url: String,
    /// Hashtags to follow, without `#`.
    #[serde(default)]
    pub hashtags: Vec<String>,
    /// Full-text statuses searches (`/api/v2/search?type=statuses`); they need a user token.
    #[serde(default)]
    pub search: Vec<String>,
    /// App token with `read:statuses`, for instances that require one; for `search`, a user
    /// token with `read:search`.
    #[serde(default)]
    pub access_token: Option<Secret>,
    /// Statuses per request, 1-40.
    #[serde(default = "default_limit")]
    pub limit: u32,
}

fn default_base_url() -> String {
    "https://mastodon.social".into()
}
fn default_limit() -> u32 {
    40
}

impl MastodonSettings {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if self.hashtags.is_empty() && self.search.is_empty() {
            problems.push((
                "hashtags".to_owned(),
                "name at least one hashtag or search query".to_owned(),
            ));
        }
        problems.extend(search::validate(&self.search, self.access_token.is_some()));
        for (idx, tag) in self.hashtags.iter().enumerate() {
            if tag.is_empty() || tag.starts_with('#') || !tag.chars().all(|c| c.is_alphanumeric() || c == '_') {
                problems.push((
                    format!("hashtags[{idx}]"),
                    "must be letters, digits or _ without the #".to_owned(),
                ));
            }
        }
        if !(1..=40).contains(&self.limit) {
            problems.push(("limit".to_owned(), "must be between 1 and 40".to_owned()));
        }
        problems.extend(HttpUrl::problem("base_url", &self.base_url));
        problems
    }
}

/// Polls hashtag timelines on one Mastodon instance.
pub struct MastodonSource {
    id: SourceId,
    settings: MastodonSettings,
    http: reqwest::Client,
}

impl MastodonSource {
    pub fn new(id: SourceId, settings: MastodonSettings, http: reqwest::Client) -> MastodonSource {
        MastodonSource { id, settings, http }
    }
}

impl MastodonSource {
    /// GETs an API path with the token, if any, retrying per the shared policy.
    async fn get(&self, url: &str, query: &[(&str, String)]) -> Result<http::Response, SourceError> {
        http::send(
            || {
                let request = self.http.get(url).query(query);
                match &self.settings.access_token {
                    Some(token) => request.bearer_auth(token.expose()),
                    None => request,
                }
            },
            ResetHeader::Timestamp("x-ratelimit-reset"),
            RetryPolicy::default(),
        )
        .await
    }
}

/// Per hashtag (lowercase), the `min_id` for its next request (a string); per search query
/// (`search:` and the query), a `search::SearchCursor` object.
type MastodonCursor = BTreeMap<String, serde_json::Value>;

#[async_trait]
impl Source for MastodonSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    fn engagement(&self) -> Option<&dyn EngagementLookup> {
        Some(self)
    }

    #[tracing::instrument(skip_all, fields(source = %self.id))]
    async fn poll(&self, cursor: Option<&Cursor>) -> Result<Batch, SourceError> {
        let mut state: MastodonCursor = cursor::decode(cursor)?;
        let mut batch = Batch::default();
        for tag in &self.settings.hashtags {
            let key = tag.to_lowercase();
            let url = http::join(&self.settings.base_url, &format!("/api/v1/timelines/tag/{tag}"));
            let mut query = vec![("limit", self.settings.limit.to_string())];
            if let Some(min_id) = state.get(&key) {
                query.push(("min_id", cursor::decode_part::<String>(min_id.clone())?));
            }
            let response = self.get(&url, &query).await?;
            let page = parse_statuses(&response.body, &self.settings.base_url)?;
            let n_read = page.n_statuses;
            let newest = response.header("link").and_then(link_min_id).or(page.newest_id);
            if let Some(newest) = newest {
                state.insert(key, serde_json::Value::String(newest));
            }
            if n_read >= self.settings.limit as usize && !response.quota_exhausted() {
                batch.has_more = true;
            }
            batch.posts.extend(page.batch.posts);
            batch.quarantined.extend(page.batch.quarantined);
        }
        for query in &self.settings.search {
            let key = format!("search:{query}");
            let previous = state.get(&key).cloned().map(cursor::decode_part).transpose()?;
            let (page, next) = search::poll_query(self, query, previous).await?;
            if next.offset > 0 {
                batch.has_more = true;
            }
            state.insert(key, serde_json::to_value(next).unwrap_or_default());
            batch.posts.extend(page.batch.posts);
            batch.quarantined.extend(page.batch.quarantined);
        }
        batch.cursor = Some(cursor::encode(&state)?);
        Ok(batch)
    }
}

/// Most ids one `GET /api/v1/statuses` takes (more is refused with 422).
pub const LOOKUP_BATCH: usize = 20;

#[async_trait]
impl EngagementLookup for MastodonSource {
    fn batch_size(&self) -> usize {
        LOOKUP_BATCH
    }

    #[tracing::instrument(skip_all, fields(source = %self.id, n_ids = uris.len()))]
    async fn lookup(&self, uris: &[String]) -> Result<Lookup, SourceError> {
        let local: Vec<(&String, String)> = uris
            .iter()
            .filter_map(|uri| Some((uri, local_status_id(uri, &self.settings.base_url)?)))
            .collect();
        if local.is_empty() {
            return Ok(Lookup::default());
        }
        let url = http::join(&self.settings.base_url, "/api/v1/statuses");
        let query: Vec<(&str, String)> = local.iter().map(|(_, id)| ("id[]", id.clone())).collect();
        let response = self.get(&url, &query).await?;
        let mut quota_exhausted = response.quota_exhausted();
        let found: Vec<CountsStatus> = response.json()?;
        let mut readings = Vec::new();
        for (uri, id) in &local {
            match found.iter().find(|status| &status.id == id) {
                Some(status) => readings.push(((*uri).clone(), Reading::Found(status.engagement()))),
                None if !quota_exhausted => {
                    // Left out: deleted, private, or not visible to this token. Only a 404
                    // for the status itself says it is gone.
                    let one = http::join(&self.settings.base_url, &format!("/api/v1/statuses/{id}"));
                    match self.get(&one, &[]).await {
                        Ok(response) => {
                            quota_exhausted = response.quota_exhausted();
                            let status: CountsStatus = response.json()?;
                            readings.push(((*uri).clone(), Reading::Found(status.engagement())));
                        }
                        Err(SourceError::Rejected { status: 404, .. }) => {
                            readings.push(((*uri).clone(), Reading::Gone))
                        }
                        Err(error) => return Err(error),
                    }
                }
                None => {}
            }
        }
        Ok(Lookup {
            readings,
            quota_exhausted,
        })
    }
}

/// A status's counts, as the instance knows them.
#[derive(Debug, Deserialize)]
struct CountsStatus {
    id: String,
    #[serde(default)]
    replies_count: u64,
    #[serde(default)]
    reblogs_count: u64,
    #[serde(default)]
    favourites_count: u64,
    #[serde(default)]
    quotes_count: u64,
}

impl CountsStatus {
    fn engagement(&self) -> Engagement {
        Engagement {
            likes: self.favourites_count,
            reposts: self.reblogs_count,
            replies: self.replies_count,
            quotes: self.quotes_count,
        }
    }
}

/// The id on this instance of a status stored by `uri`: the last segment of
/// `{base_url}/users/{name}/statuses/{id}`, for statuses of this instance only.
pub fn local_status_id(uri: &str, base_url: &str) -> Option<String> {
    let uri = url::Url::parse(uri).ok()?;
    let base = url::Url::parse(base_url).ok()?;
    if uri.host_str()?.to_lowercase() != base.host_str()?.to_lowercase() {
        return None;
    }
    let segments: Vec<&str> = uri.path_segments()?.collect();
    match segments.as_slice() {
        ["users", _, "statuses", id] if !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Some((*id).to_owned())
        }
        _ => None,
    }
}

/// The `min_id` of the `rel="prev"` link in a `Link` header (RFC 8288).
pub fn link_min_id(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let is_prev = params
            .split(';')
            .any(|p| matches!(p.trim().replace(' ', "").as_str(), "rel=\"prev\"" | "rel=prev"));
        if !is_prev {
            return None;
        }
        let target = target.trim().trim_start_matches('<').trim_end_matches('>');
        let url = url::Url::parse(target).ok()?;
        url.query_pairs()
            .find(|(name, _)| name == "min_id")
            .map(|(_, value)| value.into_owned())
    })
}

/// Mastodon ids are opaque: the longer is newer, then the lexically greater.
pub(crate) fn newer(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

#[derive(Debug, Deserialize)]
struct Status {
    id: String,
    url: Option<String>,
    uri: Option<String>,
    created_at: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    spoiler_text: String,
    language: Option<String>,
    #[serde(default)]
    replies_count: u64,
    #[serde(default)]
    reblogs_count: u64,
    #[serde(default)]
    favourites_count: u64,
    #[serde(default)]
    quotes_count: u64,
    in_reply_to_id: Option<String>,
    account: Account,
    reblog: Option<Box<Status>>,
    /// Mastodon 4.5 quotes: `{"state": "accepted", "quoted_status": Status}` (or a shallow
    /// `quoted_status_id`), read loosely.
    quote: Option<serde_json::Value>,
}

/// The quoted status of a quote, if it was accepted and sent along: its URI and plain text.
fn quoted_status(quote: Option<&serde_json::Value>) -> (Option<String>, Option<String>) {
    let Some(quote) = quote.filter(|q| q.get("state").and_then(|s| s.as_str()) == Some("accepted")) else {
        return (None, None);
    };
    match quote.get("quoted_status").filter(|s| s.is_object()) {
        Some(status) => (
            status
                .get("uri")
                .or_else(|| status.get("id"))
                .and_then(|u| u.as_str())
                .map(str::to_owned),
            status.get("content").and_then(|c| c.as_str()).map(html::to_text),
        ),
        None => (
            quote
                .get("quoted_status_id")
                .and_then(|i| i.as_str())
                .map(str::to_owned),
            None,
        ),
    }
}

#[derive(Debug, Deserialize)]
struct Account {
    acct: String,
    /// The profile page, on the account's home server.
    url: Option<String>,
    display_name: Option<String>,
    followers_count: Option<u64>,
}

/// A parsed timeline page.
pub struct MastodonPage {
    pub batch: Batch,
    /// Statuses in the response, boosts and bad items included.
    pub n_statuses: usize,
    /// The largest status id in the response (of the timeline entries, not the boosted ones).
    pub newest_id: Option<String>,
}

/// Maps a timeline body (an array of Status) from the instance at `base_url` to posts;
/// boosts become the boosted status.
pub fn parse_statuses(body: &[u8], base_url: &str) -> Result<MastodonPage, SourceError> {
    let items: Vec<serde_json::Value> = http::decode_json(body)?;
    Ok(statuses_page(&items, base_url))
}

/// Maps statuses (as JSON values) from the instance at `base_url` to posts, quarantining the
/// ones that are not statuses.
fn statuses_page(items: &[serde_json::Value], base_url: &str) -> MastodonPage {
    let instance_host = url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_lowercase));
    let mut batch = Batch::default();
    let mut newest_id: Option<String> = None;
    for raw in items {
        let id = raw.get("id").and_then(|v| v.as_str()).unwrap_or("?");
        if id != "?" && newest_id.as_deref().is_none_or(|n| newer(id, n)) {
            newest_id = Some(id.to_owned());
        }
        let location = format!("status {id}");
        let parsed = serde_json::from_value::<Status>(raw.clone())
            .map_err(|error| format!("unexpected status: {error}"))
            .and_then(|mut status| {
                // A boost wraps the boosted status: keep that one.
                let boosted = status.reblog.take();
                to_post(boosted.map(|b| *b).unwrap_or(status), instance_host.as_deref())
            });
        match parsed {
            Ok(post) => batch.posts.push(post),
            Err(reason) => batch
                .quarantined
                .push(Quarantined::new(location, reason, raw.to_string().as_bytes())),
        }
    }
    MastodonPage {
        batch,
        n_statuses: items.len(),
        newest_id,
    }
}

/// `@user@server` for an account: `acct` is `user@server` for remote accounts but only
/// `user` for the instance's own, whose server is `account.url`'s host, else the instance's.
fn account_handle(account: &Account, instance_host: Option<&str>) -> String {
    if account.acct.contains('@') {
        return format!("@{}", account.acct);
    }
    let home = account
        .url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .and_then(|u| u.host_str().map(str::to_lowercase))
        .or_else(|| instance_host.map(str::to_owned));
    match home {
        Some(host) => format!("@{}@{host}", account.acct),
        None => format!("@{}", account.acct),
    }
}

fn to_post(status: Status, instance_host: Option<&str>) -> Result<Post, String> {
    let content = html::to_text(&status.content);
    let text = if status.spoiler_text.trim().is_empty() {
        content
    } else {
        format!("{}\n\n{content}", status.spoiler_text.trim())
    };
    let (quote_of, quoted_text) = quoted_status(status.quote.as_ref());
    let draft = PostDraft {
        external_id: status.uri.clone().unwrap_or_else(|| status.id.clone()),
        text,
        author_handle: account_handle(&status.account, instance_host),
        author_name: status.account.display_name,
        author_followers: status.account.followers_count,
        created_at: http::rfc3339_millis(&status.created_at)?,
        url: status.url.or(status.uri),
        lang: status.language,
        engagement: Engagement {
            likes: status.favourites_count,
            reposts: status.reblogs_count,
            replies: status.replies_count,
            quotes: status.quotes_count,
        },
        conversation_id: None,
        in_reply_to: status.in_reply_to_id,
        quote_of,
        quoted_text,
    };
    Post::new(Platform::Mastodon, draft).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accepted_quote_gives_the_quoted_uri_and_text_and_others_nothing() {
        let full = serde_json::json!({"state": "accepted", "quoted_status": {
            "id": "9", "uri": "https://m.example/users/kim/statuses/9", "content": "<p>Acme Air lost my bag</p>"}});
        assert_eq!(
            quoted_status(Some(&full)),
            (
                Some("https://m.example/users/kim/statuses/9".to_owned()),
                Some("Acme Air lost my bag".to_owned())
            )
        );
        let shallow = serde_json::json!({"state": "accepted", "quoted_status_id": "9"});
        assert_eq!(quoted_status(Some(&shallow)), (Some("9".to_owned()), None));
        let pending = serde_json::json!({"state": "pending", "quoted_status": null});
        assert_eq!(quoted_status(Some(&pending)), (None, None));
        assert_eq!(quoted_status(None), (None, None));
    }

    #[test]
    fn link_header_prev_gives_min_id() {
        let link = r#"<https://m.example/api/v1/timelines/tag/acme?max_id=109>; rel="next", <https://m.example/api/v1/timelines/tag/acme?min_id=115>; rel="prev""#;
        assert_eq!(link_min_id(link).as_deref(), Some("115"));
        assert_eq!(link_min_id("<https://m.example/x?max_id=1>; rel=\"next\""), None);
    }

    #[test]
    fn ids_compare_by_length_then_lexically() {
        assert!(newer("110", "99"));
        assert!(newer("110", "109"));
        assert!(!newer("99", "100"));
    }
}
