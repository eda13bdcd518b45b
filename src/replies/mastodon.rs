//! Mastodon: replies as `POST /api/v1/statuses` on the brand's own instance with a user token
//! (scopes `write:statuses read:statuses read:accounts read:search`).
//!
//! - The post answered is found on the brand's instance first: `in_reply_to_id` is the
//!   *local* id there, so the stored status URI is resolved with
//!   `GET /api/v2/search?q=<uri>&type=statuses&resolve=true`.
//! - Visibility: the more restrictive of the post's and the account's (`visibility`, default
//!   `public`), in the order public < unlisted < private < direct, so a reply to a direct
//!   message stays direct and a private conversation is never widened.
//! - `Idempotency-Key: <the reply's key>`: the instance returns the status it already created
//!   for a repeat within an hour. After an uncertain outcome the account's recent statuses
//!   (`GET /api/v1/accounts/:id/statuses`) are searched for a reply to the same post.
//! - Length: `max_characters` (default 500, Mastodon's default); set it to the instance's
//!   `configuration.statuses.max_characters` (`GET /api/v2/instance`) when it differs. A
//!   longer status is refused by the instance with a 422, shown on the task.
//! - Rate limits: 429 with `X-RateLimit-Reset` (an ISO 8601 time).

use async_trait::async_trait;
use serde::Deserialize;
use tokio::sync::OnceCell;

use super::text;
use super::{Identity, OutgoingReply, Published, Publisher, ReplyError, require};
use crate::domain::{HttpUrl, Platform};
use crate::secret::Secret;
use crate::sources::http::{self, ResetHeader, Response, RetryPolicy};

const PLATFORM: Platform = Platform::Mastodon;
const RESET: ResetHeader = ResetHeader::Timestamp("x-ratelimit-reset");

/// `platform = "mastodon"` under `[[brands.reply_accounts]]`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MastodonAccount {
    /// The brand account's instance, e.g. `https://brand.social`.
    pub base_url: String,
    /// A user token of the brand account.
    pub access_token: Secret,
    /// The widest visibility a reply may have: `public` (default), `unlisted`, `private` or
    /// `direct`.
    #[serde(default = "default_visibility")]
    pub visibility: String,
    /// The instance's status length; read from the instance when absent.
    #[serde(default)]
    pub max_characters: Option<usize>,
}

fn default_visibility() -> String {
    "public".into()
}

const VISIBILITIES: [&str; 4] = ["public", "unlisted", "private", "direct"];

impl MastodonAccount {
    /// The instance's status length: `max_characters`, else Mastodon's default.
    pub fn limit(&self) -> usize {
        self.max_characters.unwrap_or(text::MASTODON_DEFAULT_LIMIT)
    }

    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems: Vec<(String, String)> = HttpUrl::problem("base_url", &self.base_url).into_iter().collect();
        problems.extend(require("visibility", &self.visibility));
        if !VISIBILITIES.contains(&self.visibility.as_str()) {
            problems.push((
                "visibility".into(),
                format!("must be one of {}", VISIBILITIES.join(", ")),
            ));
        }
        if self.max_characters == Some(0) {
            problems.push(("max_characters".into(), "must be positive".into()));
        }
        problems
    }
}

/// The more restrictive of two visibilities (unknown ones count as `direct`).
pub fn narrower(a: &str, b: &str) -> &'static str {
    let rank = |v: &str| VISIBILITIES.iter().position(|known| *known == v).unwrap_or(3);
    VISIBILITIES[rank(a).max(rank(b))]
}

#[derive(Debug, Deserialize)]
struct Account {
    id: String,
    acct: String,
    #[serde(default)]
    display_name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Status {
    id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    uri: Option<String>,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    in_reply_to_id: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SearchResults {
    #[serde(default)]
    statuses: Vec<Status>,
}

pub struct MastodonPublisher {
    account: MastodonAccount,
    http: reqwest::Client,
    me: OnceCell<Account>,
}

impl MastodonPublisher {
    pub fn new(account: MastodonAccount, http: reqwest::Client) -> MastodonPublisher {
        MastodonPublisher {
            account,
            http,
            me: OnceCell::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        http::join(&self.account.base_url, path)
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Response, ReplyError> {
        http::send(
            || {
                self.http
                    .get(self.url(path))
                    .query(query)
                    .bearer_auth(self.account.access_token.expose())
            },
            RESET,
            RetryPolicy::default(),
        )
        .await
        .map_err(|error| ReplyError::from_read(PLATFORM, error))
    }

    async fn me(&self) -> Result<&Account, ReplyError> {
        self.me
            .get_or_try_init(|| async {
                let response = self.get("/api/v1/accounts/verify_credentials", &[]).await?;
                response
                    .json::<Account>()
                    .map_err(|error| ReplyError::from_read(PLATFORM, error))
            })
            .await
    }

    /// The post answered, as the brand's instance knows it.
    async fn resolve(&self, reply: &OutgoingReply) -> Result<Status, ReplyError> {
        let target = &reply.target;
        let query = target
            .url
            .as_deref()
            .filter(|_| !target.external_id.starts_with("http"))
            .unwrap_or(&target.external_id);
        let response = self
            .get(
                "/api/v2/search",
                &[("q", query), ("type", "statuses"), ("resolve", "true"), ("limit", "1")],
            )
            .await?;
        let found: SearchResults = response
            .json()
            .map_err(|error| ReplyError::from_read(PLATFORM, error))?;
        found.statuses.into_iter().next().ok_or_else(|| ReplyError::Refused {
            platform: PLATFORM,
            message: format!(
                "{} cannot find the post {query} (deleted, or not visible to the brand account)",
                self.account.base_url
            ),
        })
    }
}

#[async_trait]
impl Publisher for MastodonPublisher {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    async fn whoami(&self) -> Result<Identity, ReplyError> {
        let me = self.me().await?;
        let host = url::Url::parse(&self.account.base_url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_owned))
            .unwrap_or_default();
        let handle = if me.acct.contains('@') {
            format!("@{}", me.acct)
        } else {
            format!("@{}@{host}", me.acct)
        };
        Ok(Identity {
            id: me.id.clone(),
            handle,
            name: me.display_name.clone().filter(|name| !name.is_empty()),
        })
    }

    async fn publish(&self, reply: &OutgoingReply) -> Result<Published, ReplyError> {
        let parent = self.resolve(reply).await?;
        let visibility = narrower(
            parent.visibility.as_deref().unwrap_or("public"),
            &self.account.visibility,
        );
        let form = [
            ("status", reply.text.as_str()),
            ("in_reply_to_id", parent.id.as_str()),
            ("visibility", visibility),
        ];
        let response = http::send_unchecked(
            || {
                self.http
                    .post(self.url("/api/v1/statuses"))
                    .bearer_auth(self.account.access_token.expose())
                    .header("Idempotency-Key", &reply.key)
                    .form(&form)
            },
            RetryPolicy {
                attempts: 1,
                ..RetryPolicy::default()
            },
        )
        .await
        .map_err(|error| ReplyError::from_write(PLATFORM, error))?;
        let response = classify_write(response)?;
        let status: Status = response.json().map_err(|error| ReplyError::Uncertain {
            platform: PLATFORM,
            message: error.to_string(),
        })?;
        Ok(published(status))
    }

    async fn find_published(&self, reply: &OutgoingReply) -> Result<Option<Published>, ReplyError> {
        let parent = self.resolve(reply).await?;
        let me = self.me().await?;
        let response = self
            .get(
                &format!("/api/v1/accounts/{}/statuses", me.id),
                &[("limit", "40"), ("exclude_reblogs", "true")],
            )
            .await?;
        let statuses: Vec<Status> = response
            .json()
            .map_err(|error| ReplyError::from_read(PLATFORM, error))?;
        Ok(statuses
            .into_iter()
            .find(|status| status.in_reply_to_id.as_deref() == Some(parent.id.as_str()))
            .map(published))
    }
}

fn published(status: Status) -> Published {
    Published {
        url: status.url.or(status.uri),
        external_id: status.id,
    }
}

/// A write's answer: 2xx passes; 401 is the token; 429 waits; 5xx is uncertain; any other
/// 4xx (404 parent gone, 422 validation) is the instance's refusal, in its words.
fn classify_write(response: Response) -> Result<Response, ReplyError> {
    match response.status {
        200..=299 => Ok(response),
        401 => Err(ReplyError::Unauthorized {
            platform: PLATFORM,
            status: 401,
            message: http::error_detail(&response.body),
        }),
        429 => Err(ReplyError::RateLimited {
            platform: PLATFORM,
            retry_after: http::retry_after(&response.headers, RESET, std::time::SystemTime::now()),
        }),
        500..=599 => Err(ReplyError::Uncertain {
            platform: PLATFORM,
            message: format!("HTTP {}", response.status),
        }),
        status => Err(ReplyError::Refused {
            platform: PLATFORM,
            message: format!("HTTP {status}: {}", http::error_detail(&response.body)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_never_wider_than_the_post_or_the_account() {
        assert_eq!(narrower("direct", "public"), "direct", "a DM stays direct");
        assert_eq!(narrower("public", "unlisted"), "unlisted");
        assert_eq!(narrower("private", "unlisted"), "private");
        assert_eq!(
            narrower("limited", "public"),
            "direct",
            "an unknown visibility is treated as direct"
        );
    }
}
