//! RSS 2.0, RSS 1.0 and Atom feeds (Google Alerts included), parsed by the maintained
//! `feed-rs` crate from the raw bytes (it honours the XML encoding declaration). Pinned to
//! 2.1: later versions turn on `url`'s serde feature, which rebuilds torch-sys.
//!
//! Conditional GET: the `ETag` and `Last-Modified` of the last response are kept in the cursor
//! (so they are committed with the posts they cover) and sent back as `If-None-Match` and
//! `If-Modified-Since`; a 304 is an empty batch with the cursor unchanged.
//!
//! Each entry becomes a post: text = title + summary (else content), HTML stripped; created
//! time = published, else updated, else the time it was first seen (the store keeps the first);
//! author = the entry's author (the name of an RSS `email (Name)`), else the feed's (Atom),
//! else the linked site's host, else the feed's title; language =
//! the channel's. Google redirect links (`https://www.google.com/url?…&url=<target>`) are
//! unwrapped to the target. Dedup key: the entry's guid/id (prefixed with the feed URL unless
//! it is itself an absolute URI, so two feeds' `guid` 1 do not collide), else a stable hash of
//! the unwrapped link and the title. Feeds repeat items on every poll; the store's uniqueness
//! keeps them once and the poll counts them as duplicates, not new. Entries that link to an
//! `exclude_domains` site (the brand's own) are skipped. A body that is not a feed is a
//! `Malformed` response, quarantined with the raw body.

use async_trait::async_trait;
use sha2::{Digest, Sha256};

use super::http::{self, ResetHeader, RetryPolicy};
use super::import::default_true;
use super::{Source, SourceError, html};
use crate::domain::{Batch, Cursor, HttpUrl, Platform, Post, PostDraft, Quarantined, SourceId, now_millis};

/// Settings of a `type = "rss"` source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RssSettings {
    /// The feed's URL (for Google Alerts, the alert's "RSS feed" link).
    pub url: String,
    /// Sites whose entries are skipped (the brand's own site, its newsroom): the host or any
    /// subdomain of it.
    #[serde(default)]
    pub exclude_domains: Vec<String>,
    /// As for JSONL: false makes every entry that is not excluded a mention.
    #[serde(default = "default_true")]
    pub match_keywords: bool,
}

impl RssSettings {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems: Vec<(String, String)> = HttpUrl::problem("url", &self.url).into_iter().collect();
        for (idx, domain) in self.exclude_domains.iter().enumerate() {
            if domain.trim().is_empty() || domain.contains('/') {
                problems.push((
                    format!("exclude_domains[{idx}]"),
                    "must be a host name such as example.com".to_owned(),
                ));
            }
        }
        problems
    }
}

/// Polls one feed.
pub struct RssSource {
    id: SourceId,
    settings: RssSettings,
    http: reqwest::Client,
}

impl RssSource {
    pub fn new(id: SourceId, settings: RssSettings, http: reqwest::Client) -> RssSource {
        RssSource { id, settings, http }
    }
}

/// The validators of the last response, for the next conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct FeedCursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modified: Option<String>,
}

#[async_trait]
impl Source for RssSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    #[tracing::instrument(skip_all, fields(source = %self.id))]
    async fn poll(&self, cursor: Option<&Cursor>) -> Result<Batch, SourceError> {
        let validators: FeedCursor = super::cursor::decode(cursor)?;
        let response = http::send(
            || {
                let mut request = self.http.get(&self.settings.url).header(
                    reqwest::header::ACCEPT,
                    "application/atom+xml, application/rss+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.1",
                );
                if let Some(etag) = &validators.etag {
                    request = request.header(reqwest::header::IF_NONE_MATCH, etag);
                }
                if let Some(date) = &validators.last_modified {
                    request = request.header(reqwest::header::IF_MODIFIED_SINCE, date);
                }
                request
            },
            ResetHeader::None,
            RetryPolicy::default(),
        )
        .await?;
        if response.status == 304 {
            return Ok(Batch::default());
        }
        let mut batch = parse_feed(&response.body, &self.settings, now_millis())?;
        let next = FeedCursor {
            etag: response.header("etag").map(str::to_owned),
            last_modified: response.header("last-modified").map(str::to_owned),
        };
        batch.cursor = Some(super::cursor::encode(&next)?);
        Ok(batch)
    }
}

/// Maps a feed document to posts; `now` is the created time of undated entries.
pub fn parse_feed(body: &[u8], settings: &RssSettings, now: i64) -> Result<Batch, SourceError> {
    // An empty id from the generator means "the feed gave none": the fallback key is ours.
    let parser = feed_rs::parser::Builder::new()
        .id_generator(|_links, _title, _uri| String::new())
        .build();
    let feed = parser.parse(body).map_err(|error| SourceError::Malformed {
        reason: format!("not an RSS or Atom feed: {error}"),
        raw: body.to_vec(),
    })?;
    let feed_title = feed
        .title
        .as_ref()
        .map(|t| html::to_text(&t.content))
        .filter(|t| !t.is_empty());
    // An Atom entry without an author has the feed's (RFC 4287 §4.2.1).
    let feed_author = feed.authors.iter().find_map(person_name);
    let mut batch = Batch::default();
    for entry in feed.entries {
        let item = FeedItem::from_entry(entry, feed.language.clone(), feed_author.as_deref());
        if item
            .link_host()
            .is_some_and(|host| is_excluded(&host, &settings.exclude_domains))
        {
            continue;
        }
        match item.to_post(&settings.url, feed_title.as_deref(), now) {
            Ok(post) => batch.posts.push(post),
            Err(reason) => batch.quarantined.push(Quarantined::new(
                format!("entry {}", item.key(&settings.url)),
                reason,
                item.raw().as_bytes(),
            )),
        }
    }
    Ok(batch)
}

/// A feed person's name, as a post author. feed-rs names an Atom person without a name
/// "unknown", and an RSS 2.0 `<author>` by its role, "author", keeping the element's text,
/// `email (Name)` by the spec, as the email: that gives the name in brackets, else the email.
fn person_name(person: &feed_rs::model::Person) -> Option<String> {
    let name = person.name.trim();
    let name = if name.is_empty() || name == "unknown" || name == "author" {
        let email = person.email.as_deref()?.trim();
        match email.split_once('(') {
            Some((_, rest)) => rest.trim_end().strip_suffix(')').unwrap_or(rest).trim(),
            None => email,
        }
    } else {
        name
    };
    Some(html::to_text(name)).filter(|name| !name.is_empty())
}

/// The parts of an entry a post is made of, links unwrapped and markup stripped.
struct FeedItem {
    id: String,
    title: String,
    summary: String,
    link: Option<String>,
    author: Option<String>,
    created_at: Option<i64>,
    lang: Option<String>,
}

impl FeedItem {
    fn from_entry(entry: feed_rs::model::Entry, feed_lang: Option<String>, feed_author: Option<&str>) -> FeedItem {
        let title = entry.title.map(|t| html::to_text(&t.content)).unwrap_or_default();
        let summary = entry
            .summary
            .map(|s| s.content)
            .filter(|s| !s.trim().is_empty())
            .or_else(|| entry.content.and_then(|c| c.body))
            .map(|s| html::to_text(&s))
            .unwrap_or_default();
        let link = entry
            .links
            .iter()
            .find(|l| l.rel.as_deref().is_none_or(|r| r == "alternate"))
            .or(entry.links.first())
            .map(|l| unwrap_redirect(l.href.trim()));
        let author = entry
            .authors
            .iter()
            .find_map(person_name)
            .or_else(|| feed_author.map(str::to_owned));
        FeedItem {
            id: entry.id.trim().to_owned(),
            title,
            summary,
            link,
            author,
            created_at: entry.published.or(entry.updated).map(|t| t.timestamp_millis()),
            lang: entry.language.or(feed_lang),
        }
    }

    fn link_host(&self) -> Option<String> {
        let url = url::Url::parse(self.link.as_deref()?).ok()?;
        url.host_str()
            .map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
    }

    /// The dedup key: the entry's id, else a hash of the link and the title.
    fn key(&self, feed_url: &str) -> String {
        if self.id.is_empty() {
            let mut hasher = Sha256::new();
            hasher.update(self.link.as_deref().unwrap_or("").as_bytes());
            hasher.update(b"\n");
            hasher.update(self.title.as_bytes());
            format!("urn:earshot:feed-item:{}", hex::encode(&hasher.finalize()[..16]))
        } else if is_absolute_uri(&self.id) {
            self.id.clone()
        } else {
            format!("{feed_url}#{}", self.id)
        }
    }

    fn to_post(&self, feed_url: &str, feed_title: Option<&str>, now: i64) -> Result<Post, String> {
        let text = match (self.title.is_empty(), self.summary.is_empty()) {
            (false, false) if self.summary.starts_with(&self.title) => self.summary.clone(),
            (false, false) => format!("{}\n\n{}", self.title, self.summary),
            (false, true) => self.title.clone(),
            _ => self.summary.clone(),
        };
        let author = self
            .author
            .clone()
            .or_else(|| self.link_host())
            .or_else(|| feed_title.map(str::to_owned))
            .unwrap_or_else(|| feed_url.to_owned());
        let draft = PostDraft {
            external_id: self.key(feed_url),
            text,
            author_handle: author,
            author_name: None,
            author_followers: None,
            created_at: self.created_at.unwrap_or(now),
            url: self.link.clone(),
            lang: self.lang.clone(),
            engagement: Default::default(),
            conversation_id: None,
            in_reply_to: None,
            quote_of: None,
            quoted_text: None,
        };
        Post::new(Platform::Rss, draft).map_err(|error| error.to_string())
    }

    /// What quarantine keeps of an entry that is not a post.
    fn raw(&self) -> String {
        serde_json::json!({
            "id": self.id, "title": self.title, "summary": self.summary, "link": self.link, "author": self.author,
        })
        .to_string()
    }
}

fn is_absolute_uri(id: &str) -> bool {
    url::Url::parse(id).is_ok_and(|u| !u.cannot_be_a_base() || matches!(u.scheme(), "urn" | "tag" | "mailto"))
}

fn is_excluded(host: &str, domains: &[String]) -> bool {
    domains.iter().any(|domain| {
        let domain = domain.trim().trim_start_matches("www.").to_ascii_lowercase();
        host == domain || host.ends_with(&format!(".{domain}"))
    })
}

/// The target of a Google redirect link (`https://www.google.com/url?…&url=<target>`, or `q=`),
/// else the link as it is.
pub fn unwrap_redirect(link: &str) -> String {
    let Ok(url) = url::Url::parse(link) else {
        return link.to_owned();
    };
    let is_google = url
        .host_str()
        .is_some_and(|h| h == "google.com" || h.starts_with("www.google.") || h.starts_with("google."));
    if !is_google || url.path() != "/url" {
        return link.to_owned();
    }
    let target = url
        .query_pairs()
        .find(|(name, _)| name == "url")
        .or_else(|| url.query_pairs().find(|(name, _)| name == "q"))
        .map(|(_, value)| value.into_owned());
    match target {
        Some(target) if target.starts_with("http://") || target.starts_with("https://") => target,
        _ => link.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_redirects_are_unwrapped_and_other_links_kept() {
        let link = "https://www.google.com/url?rct=j&sa=t&url=https://news.example.com/acme-air-delays%3Fa%3D1&ct=ga&cd=CAIyGg&usg=AOvVaw1";
        assert_eq!(unwrap_redirect(link), "https://news.example.com/acme-air-delays?a=1");
        assert_eq!(
            unwrap_redirect("https://www.google.com/search?q=acme"),
            "https://www.google.com/search?q=acme"
        );
        assert_eq!(
            unwrap_redirect("https://blog.example/post"),
            "https://blog.example/post"
        );
        assert_eq!(
            unwrap_redirect("https://www.google.com/url?url=javascript:alert(1)"),
            "https://www.google.com/url?url=javascript:alert(1)"
        );
    }

    #[test]
    fn ids_that_are_not_uris_are_scoped_to_the_feed() {
        assert!(is_absolute_uri("tag:google.com,2013:googlealerts/feed:123"));
        assert!(is_absolute_uri("https://blog.example/?p=1"));
        assert!(!is_absolute_uri("1234"));
        assert!(is_excluded("press.acme.example", &["acme.example".into()]));
        assert!(!is_excluded("notacme.example", &["acme.example".into()]));
    }
}
