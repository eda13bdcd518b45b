//! Reddit: replies as `POST /api/comment` (`api_type=json`, `thing_id=<fullname>`, `text`)
//! on `oauth.reddit.com`, with a script app's password grant or a web app's refresh token
//! (scopes `submit identity history read`) from `POST /api/v1/access_token`.
//!
//! - Refusals come back as HTTP 200 with `json.errors` (`[code, message, field]`), so the
//!   body is always read: `RATELIMIT` waits, the rest (`THREAD_LOCKED`, `TOO_OLD`,
//!   `DELETED_COMMENT`, `USER_BLOCKED`, …) are refusals in Reddit's words.
//! - A wrong password is HTTP 200 with `{"error": "invalid_grant"}` at the token endpoint.
//! - No idempotency key: after an uncertain outcome the account's newest comments
//!   (`GET /user/<name>/comments`) are searched for one whose `parent_id` is the post.
//! - Reddit requires a descriptive `User-Agent` naming the account (`user_agent`).
//! - 10,000 characters; 100 requests a minute per client; `X-Ratelimit-Reset` in seconds.

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;

use super::oauth::{ClientAuth, Grant, TokenSource};
use super::{Identity, OutgoingReply, Published, Publisher, ReplyError, TokenVault, require};
use crate::domain::{HttpUrl, Platform};
use crate::secret::Secret;
use crate::sources::http::{self, ResetHeader, Response, RetryPolicy};

const PLATFORM: Platform = Platform::Reddit;
const RESET: ResetHeader = ResetHeader::SecondsFromNow("x-ratelimit-reset");

/// `platform = "reddit"` under `[[brands.reply_accounts]]`: `password` (script app) or
/// `refresh_token` (web app), not both.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedditAccount {
    /// The brand account's username, without `u/`.
    pub username: String,
    pub client_id: String,
    pub client_secret: Secret,
    #[serde(default)]
    pub password: Option<Secret>,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    /// `<platform>:<app id>:<version> (by /u/<username>)`, as Reddit asks.
    pub user_agent: String,
    #[serde(default = "default_auth_url")]
    pub auth_url: String,
    #[serde(default = "default_base_url")]
    pub base_url: String,
}

fn default_auth_url() -> String {
    "https://www.reddit.com".into()
}
fn default_base_url() -> String {
    "https://oauth.reddit.com".into()
}

impl RedditAccount {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems: Vec<(String, String)> = require("username", &self.username)
            .into_iter()
            .chain(require("client_id", &self.client_id))
            .chain(require("user_agent", &self.user_agent))
            .chain(HttpUrl::problem("auth_url", &self.auth_url))
            .chain(HttpUrl::problem("base_url", &self.base_url))
            .collect();
        if self.password.is_some() == self.refresh_token.is_some() {
            problems.push((
                "password".into(),
                "give either password (script app) or refresh_token (web app)".into(),
            ));
        }
        problems
    }
}

#[derive(Deserialize)]
struct Comment {
    name: String,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    permalink: Option<String>,
}

pub struct RedditPublisher {
    account: RedditAccount,
    http: reqwest::Client,
    tokens: TokenSource,
}

impl RedditPublisher {
    pub fn new(
        key: String,
        account: RedditAccount,
        http: reqwest::Client,
        vault: Arc<dyn TokenVault>,
    ) -> RedditPublisher {
        let grant = match (&account.refresh_token, &account.password) {
            (Some(token), _) => Grant::RefreshToken(token.clone()),
            (None, Some(password)) => Grant::Password {
                username: account.username.clone(),
                password: password.clone(),
            },
            // Refused by validation; an empty password fails at Reddit with its own words.
            (None, None) => Grant::Password {
                username: account.username.clone(),
                password: Secret::inline("-"),
            },
        };
        let tokens = TokenSource::new(
            PLATFORM,
            key,
            http::join(&account.auth_url, "/api/v1/access_token"),
            ClientAuth::Basic {
                id: account.client_id.clone(),
                secret: account.client_secret.clone(),
            },
            grant,
            http.clone(),
            vault,
        );
        RedditPublisher { account, http, tokens }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Response, ReplyError> {
        let token = self.tokens.access_token().await?;
        http::send(
            || {
                self.http
                    .get(http::join(&self.account.base_url, path))
                    .query(query)
                    .bearer_auth(&token)
                    .header(reqwest::header::USER_AGENT, &self.account.user_agent)
            },
            RESET,
            RetryPolicy::default(),
        )
        .await
        .map_err(|error| ReplyError::from_read(PLATFORM, error))
    }
}

fn permalink(comment: &Comment) -> Option<String> {
    comment
        .permalink
        .as_deref()
        .map(|path| format!("https://www.reddit.com{path}"))
}

/// Reddit's `json.errors`: `[[code, message, field], …]` as (code, message).
pub fn form_errors(body: &serde_json::Value) -> Vec<(String, String)> {
    body.pointer("/json/errors")
        .and_then(|errors| errors.as_array())
        .map(|errors| {
            errors
                .iter()
                .map(|error| {
                    let part = |i: usize| error.get(i).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
                    (part(0), part(1))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// "try again in 7 minutes." / "in 30 seconds" as a wait.
pub fn ratelimit_wait(message: &str) -> Option<std::time::Duration> {
    let lower = message.to_lowercase();
    let rest = &lower[lower.find("try again in ")? + "try again in ".len()..];
    let mut words = rest.split_whitespace();
    let amount: u64 = words.next()?.parse().ok()?;
    let unit = words.next()?;
    let seconds = if unit.starts_with("minute") {
        amount * 60
    } else if unit.starts_with("second") {
        amount
    } else if unit.starts_with("hour") {
        amount * 3600
    } else {
        return None;
    };
    Some(std::time::Duration::from_secs(seconds))
}

#[async_trait]
impl Publisher for RedditPublisher {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    async fn whoami(&self) -> Result<Identity, ReplyError> {
        let response = self.get("/api/v1/me", &[]).await?;
        let value: serde_json::Value = response
            .json()
            .map_err(|error| ReplyError::from_read(PLATFORM, error))?;
        let name = value.get("name").and_then(|v| v.as_str()).unwrap_or_default();
        let id = value.get("id").and_then(|v| v.as_str()).unwrap_or_default();
        Ok(Identity {
            id: format!("t2_{id}"),
            handle: format!("u/{name}"),
            name: None,
        })
    }

    async fn publish(&self, reply: &OutgoingReply) -> Result<Published, ReplyError> {
        let token = self.tokens.access_token().await?;
        let form = [
            ("api_type", "json"),
            ("thing_id", reply.target.external_id.as_str()),
            ("text", reply.text.as_str()),
        ];
        let response = http::send_unchecked(
            || {
                self.http
                    .post(http::join(&self.account.base_url, "/api/comment"))
                    .bearer_auth(&token)
                    .header(reqwest::header::USER_AGENT, &self.account.user_agent)
                    .form(&form)
            },
            RetryPolicy {
                attempts: 1,
                ..RetryPolicy::default()
            },
        )
        .await
        .map_err(|error| ReplyError::from_write(PLATFORM, error))?;
        let response = match response.status {
            200..=299 => response,
            401 => {
                self.tokens.invalidate().await;
                return Err(ReplyError::Unauthorized {
                    platform: PLATFORM,
                    status: 401,
                    message: http::error_detail(&response.body),
                });
            }
            429 => {
                return Err(ReplyError::RateLimited {
                    platform: PLATFORM,
                    retry_after: http::retry_after(&response.headers, RESET, std::time::SystemTime::now()),
                });
            }
            status => {
                return Err(ReplyError::Refused {
                    platform: PLATFORM,
                    message: format!("HTTP {status}: {}", http::error_detail(&response.body)),
                });
            }
        };
        let body: serde_json::Value =
            serde_json::from_slice(&response.body).map_err(|error| ReplyError::Uncertain {
                platform: PLATFORM,
                message: format!("unreadable answer: {error}"),
            })?;
        let errors = form_errors(&body);
        if let Some((code, message)) = errors.first() {
            if code == "RATELIMIT" {
                return Err(ReplyError::RateLimited {
                    platform: PLATFORM,
                    retry_after: ratelimit_wait(message),
                });
            }
            return Err(ReplyError::Refused {
                platform: PLATFORM,
                message: errors
                    .iter()
                    .map(|(code, message)| format!("{code}: {message}"))
                    .collect::<Vec<_>>()
                    .join("; "),
            });
        }
        let comment: Comment = body
            .pointer("/json/data/things/0/data")
            .cloned()
            .and_then(|data| serde_json::from_value(data).ok())
            .ok_or_else(|| ReplyError::Uncertain {
                platform: PLATFORM,
                message: "the answer names no comment".into(),
            })?;
        Ok(Published {
            url: permalink(&comment),
            external_id: comment.name,
        })
    }

    async fn find_published(&self, reply: &OutgoingReply) -> Result<Option<Published>, ReplyError> {
        let response = self
            .get(
                &format!("/user/{}/comments", self.account.username),
                &[("sort", "new"), ("limit", "100")],
            )
            .await?;
        let value: serde_json::Value = response
            .json()
            .map_err(|error| ReplyError::from_read(PLATFORM, error))?;
        let comments = value
            .pointer("/data/children")
            .and_then(|c| c.as_array())
            .cloned()
            .unwrap_or_default();
        Ok(comments
            .into_iter()
            .filter_map(|child| serde_json::from_value::<Comment>(child.get("data")?.clone()).ok())
            .find(|comment| comment.parent_id.as_deref() == Some(reply.target.external_id.as_str()))
            .map(|comment| Published {
                url: permalink(&comment),
                external_id: comment.name,
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_errors_and_their_waits_are_read_from_a_200_body() {
        let body = serde_json::json!({"json": {"errors": [
            ["RATELIMIT", "you are doing that too much. try again in 7 minutes.", "ratelimit"]
        ]}});
        let errors = form_errors(&body);
        assert_eq!(errors[0].0, "RATELIMIT");
        assert_eq!(ratelimit_wait(&errors[0].1), Some(std::time::Duration::from_secs(420)));
        assert_eq!(
            ratelimit_wait("try again in 30 seconds."),
            Some(std::time::Duration::from_secs(30))
        );
        assert!(form_errors(&serde_json::json!({"json": {"errors": []}})).is_empty());
    }
}
