//! Publishing replies as the brand: one module per platform with a write API (`x`, `bluesky`,
//! `mastodon`, `reddit`, `youtube`) behind the `Publisher` trait, the reply accounts of
//! `[[brands.reply_accounts]]` (`ReplyAccountSettings`, tagged by `platform`), the platforms'
//! text counting (`text`) and the OAuth refresh-token grant three of them share (`oauth`).
//! Hacker News and feeds have no write API: their tasks keep "copy and open the original".
//!
//! A publisher does one request's worth of work and says what happened; it never retries a
//! write. What to do next (wait for a rate limit, look for an already-published reply after
//! an uncertain outcome, give up with the platform's message) is the outbox worker's
//! (`pipeline::replies`), and every reply is a row in the store before anything is sent.
//!
//! Invariant: no SQL and no waiting here; secrets only from `Secret`, never in errors or
//! logs (error messages carry the platform's own words, which never echo a token).

pub mod bluesky;
pub mod mastodon;
pub mod oauth;
pub mod reddit;
pub mod text;
pub mod x;
pub mod youtube;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{BrandId, Millis, Platform, ReplyId};
use crate::sources::SourceError;
pub use text::TextCheck;

/// The account a brand answers from on one platform (`[[brands.reply_accounts]]`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "platform", rename_all = "snake_case")]
pub enum ReplyAccountSettings {
    /// X API v2, OAuth 2.0 user token with refresh.
    X(x::XAccount),
    /// Bluesky with an app password.
    Bluesky(bluesky::BlueskyAccount),
    /// Mastodon with a user access token on the brand's instance.
    Mastodon(mastodon::MastodonAccount),
    /// Reddit with a script app (password grant) or a refresh token.
    Reddit(reddit::RedditAccount),
    /// YouTube Data API v3, OAuth with refresh.
    #[serde(rename = "youtube")]
    YouTube(youtube::YouTubeAccount),
}

impl ReplyAccountSettings {
    pub fn platform(&self) -> Platform {
        match self {
            ReplyAccountSettings::X(_) => Platform::X,
            ReplyAccountSettings::Bluesky(_) => Platform::Bluesky,
            ReplyAccountSettings::Mastodon(_) => Platform::Mastodon,
            ReplyAccountSettings::Reddit(_) => Platform::Reddit,
            ReplyAccountSettings::YouTube(_) => Platform::YouTube,
        }
    }

    /// Problems serde cannot see, as (field, message).
    pub fn validate(&self) -> Vec<(String, String)> {
        match self {
            ReplyAccountSettings::X(account) => account.validate(),
            ReplyAccountSettings::Bluesky(account) => account.validate(),
            ReplyAccountSettings::Mastodon(account) => account.validate(),
            ReplyAccountSettings::Reddit(account) => account.validate(),
            ReplyAccountSettings::YouTube(account) => account.validate(),
        }
    }

    /// The text counted as the platform counts it, against its limit.
    pub fn check_text(&self, reply: &str) -> TextCheck {
        match self {
            ReplyAccountSettings::X(_) => text::x_check(reply),
            ReplyAccountSettings::Bluesky(_) => text::bluesky_check(reply),
            ReplyAccountSettings::Mastodon(account) => text::mastodon_check(reply, account.limit()),
            ReplyAccountSettings::Reddit(_) => text::chars_check(reply, text::REDDIT_LIMIT),
            ReplyAccountSettings::YouTube(_) => text::chars_check(reply, text::YOUTUBE_LIMIT),
        }
    }

    /// Whether this post can be answered from this account at all; `Err` says why not (X
    /// only lets self-serve apps answer posts that mention the brand).
    pub fn check_target(&self, target: &ReplyTarget) -> Result<(), String> {
        match self {
            ReplyAccountSettings::X(account) => account.check_target(target),
            _ => Ok(()),
        }
    }

    /// How the account is named in config, until `whoami` says more: `@AcmeAir`,
    /// `acme.bsky.social`, the Mastodon instance, `u/acme`, `YouTube channel`.
    pub fn label(&self) -> String {
        match self {
            ReplyAccountSettings::X(account) => format!("@{}", account.username),
            ReplyAccountSettings::Bluesky(account) => account.identifier.clone(),
            ReplyAccountSettings::Mastodon(account) => format!("the brand account on {}", account.base_url),
            ReplyAccountSettings::Reddit(account) => format!("u/{}", account.username),
            ReplyAccountSettings::YouTube(_) => "the brand's YouTube channel".to_owned(),
        }
    }

    /// A key for a new reply: a TID (Bluesky's record key) from the reply's creation time and
    /// a random clock id, or a UUID elsewhere (Mastodon's `Idempotency-Key`).
    pub fn new_key(&self, at: Millis) -> String {
        match self {
            ReplyAccountSettings::Bluesky(_) => bluesky::tid(at, i64::from(fastrand::u16(..1024))),
            _ => uuid::Uuid::new_v4().to_string(),
        }
    }

    /// The publisher for this account. `vault` keeps tokens a platform rotates.
    pub fn build(&self, brand: &BrandId, http: reqwest::Client, vault: Arc<dyn TokenVault>) -> Arc<dyn Publisher> {
        let key = account_key(brand, self.platform());
        match self {
            ReplyAccountSettings::X(account) => Arc::new(x::XPublisher::new(key, account.clone(), http, vault)),
            ReplyAccountSettings::Bluesky(account) => Arc::new(bluesky::BlueskyPublisher::new(account.clone(), http)),
            ReplyAccountSettings::Mastodon(account) => {
                Arc::new(mastodon::MastodonPublisher::new(account.clone(), http))
            }
            ReplyAccountSettings::Reddit(account) => {
                Arc::new(reddit::RedditPublisher::new(key, account.clone(), http, vault))
            }
            ReplyAccountSettings::YouTube(account) => {
                Arc::new(youtube::YouTubePublisher::new(key, account.clone(), http, vault))
            }
        }
    }
}

/// The name an account's rotated tokens and health are kept under: `brand/platform`.
pub fn account_key(brand: &BrandId, platform: Platform) -> String {
    format!("{brand}/{platform}")
}

/// Whether earshot can publish on this platform at all (HN and feeds have no write API).
pub fn can_publish_on(platform: Platform) -> bool {
    matches!(
        platform,
        Platform::X | Platform::Bluesky | Platform::Mastodon | Platform::Reddit | Platform::YouTube
    )
}

/// Who earshot posts as.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Identity {
    /// The platform's id for the account (X user id, DID, Mastodon account id, Reddit
    /// `t2_…`, YouTube channel id).
    pub id: String,
    /// How people see it: `@acme`, `acme.bsky.social`, `@acme@brand.social`, `u/acme`, the
    /// channel's title.
    pub handle: String,
    pub name: Option<String>,
}

/// The post a reply answers, as earshot stored it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTarget {
    pub platform: Platform,
    /// The platform's id: X post id, Bluesky AT-URI, Mastodon status URI, Reddit fullname,
    /// YouTube comment id.
    pub external_id: String,
    pub author_handle: String,
    pub text: String,
    pub url: Option<String>,
    /// The thread (X conversation, Reddit link, YouTube video id, Bluesky root URI).
    pub conversation_id: Option<String>,
}

/// A reply to send: the row's key goes with it so a retry can be recognised.
#[derive(Debug, Clone)]
pub struct OutgoingReply {
    pub reply_id: ReplyId,
    /// Sent as `Idempotency-Key` (Mastodon) or as the record key (Bluesky); kept with the row.
    pub key: String,
    pub text: String,
    pub target: ReplyTarget,
}

/// A reply the platform accepted.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Published {
    pub external_id: String,
    pub url: Option<String>,
}

/// What went wrong, in the terms the outbox worker acts on.
#[derive(Debug, thiserror::Error)]
pub enum ReplyError {
    /// The platform said no to this reply; sending it again will not help. The message is the
    /// platform's own.
    #[error("{platform} refused the reply: {message}")]
    Refused { platform: Platform, message: String },
    /// earshot will not send it (before any request): the reason says why.
    #[error("{0}")]
    NotPossible(String),
    /// The credentials were refused (revoked or expired token, wrong password).
    #[error("{platform} refused the account's credentials (HTTP {status}): {message}")]
    Unauthorized {
        platform: Platform,
        status: u16,
        message: String,
    },
    /// Too many requests: nothing was created; try after `retry_after` (when said).
    #[error("{platform} rate limit reached")]
    RateLimited {
        platform: Platform,
        retry_after: Option<Duration>,
    },
    /// Nothing was created (the request never reached the platform, or a read failed);
    /// trying again is safe.
    #[error("{platform} could not be reached: {message}")]
    Transient { platform: Platform, message: String },
    /// The request may or may not have created the reply (timeout after sending, 5xx on the
    /// write): look for it before sending again.
    #[error("{platform} did not confirm the reply: {message}")]
    Uncertain { platform: Platform, message: String },
}

impl ReplyError {
    /// A short machine-readable kind for the row and account health.
    pub fn kind(&self) -> &'static str {
        match self {
            ReplyError::Refused { .. } => "refused",
            ReplyError::NotPossible(_) => "not_possible",
            ReplyError::Unauthorized { .. } => "unauthorized",
            ReplyError::RateLimited { .. } => "rate_limited",
            ReplyError::Transient { .. } => "transient",
            ReplyError::Uncertain { .. } => "uncertain",
        }
    }

    /// Whether trying again later can succeed without a person changing something.
    pub fn is_retriable(&self) -> bool {
        matches!(
            self,
            ReplyError::RateLimited { .. } | ReplyError::Transient { .. } | ReplyError::Uncertain { .. }
        )
    }

    /// A read's failure (who-am-I, lookups, token refresh) in these terms: nothing was
    /// written by a read, so transport and server failures are `Transient`.
    pub(crate) fn from_read(platform: Platform, error: SourceError) -> ReplyError {
        match error {
            SourceError::RateLimited { retry_after } => ReplyError::RateLimited { platform, retry_after },
            SourceError::Unauthorized { status, detail } => ReplyError::Unauthorized {
                platform,
                status,
                message: detail,
            },
            SourceError::Rejected { status, detail } => ReplyError::Refused {
                platform,
                message: format!("HTTP {status}: {detail}"),
            },
            SourceError::Malformed { reason, .. } => ReplyError::Transient {
                platform,
                message: reason,
            },
            other => ReplyError::Transient {
                platform,
                message: crate::telemetry::error_chain(&other),
            },
        }
    }

    /// A write's failure before a status was read: a request that never connected created
    /// nothing; any other transport failure (a timeout after sending, a cut answer) may have.
    pub(crate) fn from_write(platform: Platform, error: SourceError) -> ReplyError {
        match error {
            SourceError::Transport(error) if error.is_connect() => ReplyError::Transient {
                platform,
                message: crate::telemetry::error_chain(&error),
            },
            SourceError::Transport(error) => ReplyError::Uncertain {
                platform,
                message: crate::telemetry::error_chain(&error),
            },
            SourceError::Server { status } => ReplyError::Uncertain {
                platform,
                message: format!("HTTP {status}"),
            },
            other => ReplyError::from_read(platform, other),
        }
    }
}

/// One platform's write side, for one account.
#[async_trait]
pub trait Publisher: Send + Sync {
    fn platform(&self) -> Platform;

    /// Who earshot posts as: a harmless read call that proves the credentials.
    async fn whoami(&self) -> Result<Identity, ReplyError>;

    /// Sends the reply once. Never retried here.
    async fn publish(&self, reply: &OutgoingReply) -> Result<Published, ReplyError>;

    /// After an uncertain outcome: the reply if the platform has it already (by its key, or
    /// among the account's recent posts), so it is not sent twice.
    async fn find_published(&self, reply: &OutgoingReply) -> Result<Option<Published>, ReplyError>;
}

/// A refresh token a platform rotated, with a fingerprint of the configured token it
/// descends from: when the configured token changes (the account was authorised again),
/// the configured one wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredToken {
    pub origin_fingerprint: String,
    pub token: String,
}

/// Where rotated refresh tokens are kept (the store), so a restart uses the live one.
#[async_trait]
pub trait TokenVault: Send + Sync {
    async fn load(&self, account: &str) -> Result<Option<StoredToken>, String>;
    async fn save(&self, account: &str, token: &StoredToken, now: Millis) -> Result<(), String>;
}

/// A vault that keeps nothing (tests of platforms that do not rotate).
#[derive(Debug, Default)]
pub struct NoVault;

#[async_trait]
impl TokenVault for NoVault {
    async fn load(&self, _account: &str) -> Result<Option<StoredToken>, String> {
        Ok(None)
    }
    async fn save(&self, _account: &str, _token: &StoredToken, _now: Millis) -> Result<(), String> {
        Ok(())
    }
}

/// A required text setting must not be blank.
pub(crate) fn require(field: &str, value: &str) -> Option<(String, String)> {
    value
        .trim()
        .is_empty()
        .then(|| (field.to_owned(), "must not be empty".to_owned()))
}
