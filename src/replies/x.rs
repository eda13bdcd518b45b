//! X: replies as `POST /2/tweets` with `reply.in_reply_to_tweet_id`, with an OAuth 2.0 user
//! token (scopes `tweet.read tweet.write users.read offline.access`) refreshed at
//! `POST /2/oauth2/token`. X rotates refresh tokens: each refresh's new token is kept in the
//! store before the access token is used (`oauth`).
//!
//! - Self-serve (pay-per-use) apps may only reply to a post whose author summoned the brand:
//!   the post mentions `@username` (or quotes the brand). earshot checks the stored post
//!   before offering "Send" and says why when it cannot (`check_target`); answer such posts
//!   on x.com.
//! - Length: 280 weighted characters (`text::x_weighted_length`).
//! - No idempotency key: after an uncertain outcome the account's recent posts
//!   (`GET /2/users/:id/tweets`) are searched for a reply to the same post.
//! - Errors: `{"title","detail","type"}`, with `errors[].message` for parameters; a duplicate
//!   text is a 403; 429 carries `x-rate-limit-reset` (epoch seconds).

use std::sync::Arc;

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::OnceCell;

use super::oauth::{ClientAuth, Grant, TokenSource};
use super::{Identity, OutgoingReply, Published, Publisher, ReplyError, ReplyTarget, TokenVault, require};
use crate::domain::{HttpUrl, Platform};
use crate::secret::Secret;
use crate::sources::http::{self, ResetHeader, Response, RetryPolicy};

const PLATFORM: Platform = Platform::X;
const RESET: ResetHeader = ResetHeader::EpochSeconds("x-rate-limit-reset");

/// `platform = "x"` under `[[brands.reply_accounts]]`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XAccount {
    /// The brand's username, without `@`: posts must mention it to be answerable.
    pub username: String,
    /// The app's OAuth 2.0 client id.
    pub client_id: String,
    /// The client secret of a confidential client (Web App, Automated App or bot).
    #[serde(default)]
    pub client_secret: Option<Secret>,
    /// The refresh token from authorising the app as the brand (with `offline.access`).
    pub refresh_token: Secret,
    #[serde(default = "default_base_url")]
    pub base_url: String,
}

fn default_base_url() -> String {
    "https://api.x.com".into()
}

impl XAccount {
    /// Self-serve X apps may answer only posts that mention the brand: `Err` says why not.
    pub fn check_target(&self, target: &ReplyTarget) -> Result<(), String> {
        if mentions(&target.text, &self.username) {
            Ok(())
        } else {
            Err(format!(
                "X lets earshot's app answer only posts that mention @{} (or quote its posts); this one does not, so reply on x.com",
                self.username
            ))
        }
    }

    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems: Vec<(String, String)> = require("username", &self.username)
            .into_iter()
            .chain(require("client_id", &self.client_id))
            .chain(HttpUrl::problem("base_url", &self.base_url))
            .collect();
        if self.username.starts_with('@') {
            problems.push(("username".into(), "without the @".into()));
        }
        problems
    }
}

/// Whether `text` mentions `@username` (whole handle, any case).
pub fn mentions(text: &str, username: &str) -> bool {
    let wanted = format!("@{}", username.trim_start_matches('@').to_lowercase());
    let lower = text.to_lowercase();
    lower.match_indices(&wanted).any(|(at, found)| {
        let before_ok = lower[..at]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        let after_ok = lower[at + found.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
        before_ok && after_ok
    })
}

#[derive(Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Deserialize)]
struct User {
    id: String,
    username: String,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize)]
struct Created {
    id: String,
}

#[derive(Deserialize)]
struct Tweet {
    id: String,
    #[serde(default)]
    referenced_tweets: Vec<Reference>,
}

#[derive(Deserialize)]
struct Reference {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

pub struct XPublisher {
    account: XAccount,
    http: reqwest::Client,
    tokens: TokenSource,
    me: OnceCell<User>,
}

impl XPublisher {
    pub fn new(key: String, account: XAccount, http: reqwest::Client, vault: Arc<dyn TokenVault>) -> XPublisher {
        let client = match &account.client_secret {
            Some(secret) => ClientAuth::Basic {
                id: account.client_id.clone(),
                secret: secret.clone(),
            },
            None => ClientAuth::Public {
                id: account.client_id.clone(),
            },
        };
        let tokens = TokenSource::new(
            PLATFORM,
            key,
            http::join(&account.base_url, "/2/oauth2/token"),
            client,
            Grant::RefreshToken(account.refresh_token.clone()),
            http.clone(),
            vault,
        );
        XPublisher {
            account,
            http,
            tokens,
            me: OnceCell::new(),
        }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Response, ReplyError> {
        let token = self.tokens.access_token().await?;
        let result = http::send(
            || {
                self.http
                    .get(http::join(&self.account.base_url, path))
                    .query(query)
                    .bearer_auth(&token)
            },
            RESET,
            RetryPolicy::default(),
        )
        .await;
        if matches!(
            result,
            Err(crate::sources::SourceError::Unauthorized { status: 401, .. })
        ) {
            self.tokens.invalidate().await;
        }
        result.map_err(|error| ReplyError::from_read(PLATFORM, error))
    }

    async fn me(&self) -> Result<&User, ReplyError> {
        self.me
            .get_or_try_init(|| async {
                let response = self.get("/2/users/me", &[]).await?;
                response
                    .json::<Data<User>>()
                    .map(|d| d.data)
                    .map_err(|error| ReplyError::from_read(PLATFORM, error))
            })
            .await
    }

    fn permalink(&self, id: &str) -> String {
        format!("https://x.com/{}/status/{id}", self.account.username)
    }
}

#[async_trait]
impl Publisher for XPublisher {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    async fn whoami(&self) -> Result<Identity, ReplyError> {
        let me = self.me().await?;
        Ok(Identity {
            id: me.id.clone(),
            handle: format!("@{}", me.username),
            name: me.name.clone(),
        })
    }

    async fn publish(&self, reply: &OutgoingReply) -> Result<Published, ReplyError> {
        self.account
            .check_target(&reply.target)
            .map_err(ReplyError::NotPossible)?;
        let token = self.tokens.access_token().await?;
        let body = json!({"text": reply.text, "reply": {"in_reply_to_tweet_id": reply.target.external_id}});
        let response = http::send_unchecked(
            || {
                self.http
                    .post(http::join(&self.account.base_url, "/2/tweets"))
                    .bearer_auth(&token)
                    .json(&body)
            },
            RetryPolicy {
                attempts: 1,
                ..RetryPolicy::default()
            },
        )
        .await
        .map_err(|error| ReplyError::from_write(PLATFORM, error))?;
        if response.status == 401 {
            self.tokens.invalidate().await;
        }
        let response = classify_write(response)?;
        let created: Data<Created> = response.json().map_err(|error| ReplyError::Uncertain {
            platform: PLATFORM,
            message: error.to_string(),
        })?;
        Ok(Published {
            url: Some(self.permalink(&created.data.id)),
            external_id: created.data.id,
        })
    }

    async fn find_published(&self, reply: &OutgoingReply) -> Result<Option<Published>, ReplyError> {
        let me = self.me().await?;
        let response = self
            .get(
                &format!("/2/users/{}/tweets", me.id),
                &[("max_results", "100"), ("tweet.fields", "referenced_tweets,created_at")],
            )
            .await?;
        let value: serde_json::Value = response
            .json()
            .map_err(|error| ReplyError::from_read(PLATFORM, error))?;
        let tweets: Vec<Tweet> = value
            .get("data")
            .cloned()
            .map(serde_json::from_value)
            .transpose()
            .map_err(|error| ReplyError::Transient {
                platform: PLATFORM,
                message: format!("unexpected timeline: {error}"),
            })?
            .unwrap_or_default();
        Ok(tweets
            .into_iter()
            .find(|tweet| {
                tweet
                    .referenced_tweets
                    .iter()
                    .any(|r| r.kind == "replied_to" && r.id == reply.target.external_id)
            })
            .map(|tweet| Published {
                url: Some(self.permalink(&tweet.id)),
                external_id: tweet.id,
            }))
    }
}

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
    fn a_mention_is_the_whole_handle_in_any_case() {
        assert!(mentions("@AcmeAir lost my bag", "AcmeAir"));
        assert!(mentions("hey @acmeair, why", "AcmeAir"));
        assert!(!mentions("@AcmeAirlines lost my bag", "AcmeAir"));
        assert!(!mentions("AcmeAir lost my bag", "AcmeAir"), "no @, no summons");
        assert!(!mentions("mail x@acmeair", "AcmeAir"));
    }
}
