//! YouTube: replies as `comments.insert` (`POST /youtube/v3/comments?part=snippet` with
//! `snippet.parentId` and `snippet.textOriginal`), OAuth with a refresh token (scope
//! `https://www.googleapis.com/auth/youtube.force-ssl`) from `oauth2.googleapis.com/token`.
//!
//! - Replies go to top-level comments only: a reply's id is `<top-level id>.<reply id>`, so
//!   the part before the dot is the parent.
//! - No idempotency key: after an uncertain outcome the parent's replies
//!   (`comments.list?parentId=`) are searched for one by the brand's channel with the same
//!   text.
//! - Quota: 50 units per insert of 10,000 a day; an exhausted quota is a 403
//!   `quotaExceeded`, which waits rather than fails. Length: see `text`.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::json;
use tokio::sync::OnceCell;

use super::oauth::{ClientAuth, Grant, TokenSource};
use super::{Identity, OutgoingReply, Published, Publisher, ReplyError, TokenVault, require};
use crate::domain::{HttpUrl, Platform};
use crate::secret::Secret;
use crate::sources::http::{self, ResetHeader, Response, RetryPolicy};

const PLATFORM: Platform = Platform::YouTube;

/// `platform = "youtube"` under `[[brands.reply_accounts]]`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct YouTubeAccount {
    pub client_id: String,
    pub client_secret: Secret,
    /// From consenting as the channel's Google account (`access_type=offline`).
    pub refresh_token: Secret,
    #[serde(default = "default_token_url")]
    pub token_url: String,
    #[serde(default = "default_base_url")]
    pub base_url: String,
}

fn default_token_url() -> String {
    "https://oauth2.googleapis.com/token".into()
}
fn default_base_url() -> String {
    "https://www.googleapis.com/youtube/v3".into()
}

impl YouTubeAccount {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        require("client_id", &self.client_id)
            .into_iter()
            .chain(HttpUrl::problem("token_url", &self.token_url))
            .chain(HttpUrl::problem("base_url", &self.base_url))
            .collect()
    }
}

/// The top-level comment a reply must go under.
pub fn parent_of(comment_id: &str) -> &str {
    comment_id.split('.').next().unwrap_or(comment_id)
}

/// Google's error reason (`quotaExceeded`, `commentTextTooLong`, …) and message.
fn google_error(body: &[u8]) -> (String, String) {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let reason = value
        .pointer("/error/errors/0/reason")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    (reason, http::error_detail(body))
}

pub struct YouTubePublisher {
    account: YouTubeAccount,
    http: reqwest::Client,
    tokens: TokenSource,
    channel: OnceCell<Identity>,
}

impl YouTubePublisher {
    pub fn new(
        key: String,
        account: YouTubeAccount,
        http: reqwest::Client,
        vault: Arc<dyn TokenVault>,
    ) -> YouTubePublisher {
        let tokens = TokenSource::new(
            PLATFORM,
            key,
            account.token_url.clone(),
            ClientAuth::Form {
                id: account.client_id.clone(),
                secret: account.client_secret.clone(),
            },
            Grant::RefreshToken(account.refresh_token.clone()),
            http.clone(),
            vault,
        );
        YouTubePublisher {
            account,
            http,
            tokens,
            channel: OnceCell::new(),
        }
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<serde_json::Value, ReplyError> {
        let token = self.tokens.access_token().await?;
        let response = http::send_unchecked(
            || {
                self.http
                    .get(http::join(&self.account.base_url, path))
                    .query(query)
                    .bearer_auth(&token)
            },
            RetryPolicy::default(),
        )
        .await
        .map_err(|error| ReplyError::from_read(PLATFORM, error))?;
        let response = classify(response)?;
        response.json().map_err(|error| ReplyError::from_read(PLATFORM, error))
    }
}

#[async_trait]
impl Publisher for YouTubePublisher {
    fn platform(&self) -> Platform {
        PLATFORM
    }

    async fn whoami(&self) -> Result<Identity, ReplyError> {
        self.channel
            .get_or_try_init(|| async {
                let value = self.get("/channels", &[("part", "snippet"), ("mine", "true")]).await?;
                let channel = value.pointer("/items/0").ok_or_else(|| ReplyError::Refused {
                    platform: PLATFORM,
                    message: "the account has no YouTube channel (authenticatedUserNotChannel)".into(),
                })?;
                let text = |pointer: &str| channel.pointer(pointer).and_then(|v| v.as_str()).map(str::to_owned);
                Ok(Identity {
                    id: text("/id").unwrap_or_default(),
                    handle: text("/snippet/customUrl")
                        .or_else(|| text("/snippet/title"))
                        .unwrap_or_default(),
                    name: text("/snippet/title"),
                })
            })
            .await
            .cloned()
    }

    async fn publish(&self, reply: &OutgoingReply) -> Result<Published, ReplyError> {
        let token = self.tokens.access_token().await?;
        let body = json!({"snippet": {"parentId": parent_of(&reply.target.external_id), "textOriginal": reply.text}});
        let response = http::send_unchecked(
            || {
                self.http
                    .post(http::join(&self.account.base_url, "/comments"))
                    .query(&[("part", "snippet")])
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
        if response.status >= 500 {
            return Err(ReplyError::Uncertain {
                platform: PLATFORM,
                message: format!("HTTP {}", response.status),
            });
        }
        let response = classify(response)?;
        let value: serde_json::Value = response.json().map_err(|error| ReplyError::Uncertain {
            platform: PLATFORM,
            message: error.to_string(),
        })?;
        let id = value.get("id").and_then(|v| v.as_str()).unwrap_or_default().to_owned();
        Ok(Published {
            url: watch_url(reply, &id),
            external_id: id,
        })
    }

    async fn find_published(&self, reply: &OutgoingReply) -> Result<Option<Published>, ReplyError> {
        let me = self.whoami().await?;
        let value = self
            .get(
                "/comments",
                &[
                    ("part", "snippet"),
                    ("parentId", parent_of(&reply.target.external_id)),
                    ("maxResults", "100"),
                ],
            )
            .await?;
        let items = value
            .get("items")
            .and_then(|v| v.as_array())
            .cloned()
            .unwrap_or_default();
        Ok(items
            .iter()
            .find(|item| {
                item.pointer("/snippet/authorChannelId/value").and_then(|v| v.as_str()) == Some(me.id.as_str())
                    && item.pointer("/snippet/textOriginal").and_then(|v| v.as_str()) == Some(reply.text.as_str())
            })
            .and_then(|item| item.get("id")?.as_str())
            .map(|id| Published {
                url: watch_url(reply, id),
                external_id: id.to_owned(),
            }))
    }
}

/// `https://www.youtube.com/watch?v=<video>&lc=<comment>` (a convention, not in the API docs).
fn watch_url(reply: &OutgoingReply, id: &str) -> Option<String> {
    let video = reply.target.conversation_id.as_deref()?;
    Some(format!("https://www.youtube.com/watch?v={video}&lc={id}"))
}

fn classify(response: Response) -> Result<Response, ReplyError> {
    match response.status {
        200..=299 => Ok(response),
        401 => Err(ReplyError::Unauthorized {
            platform: PLATFORM,
            status: 401,
            message: http::error_detail(&response.body),
        }),
        403 | 429 => {
            let (reason, message) = google_error(&response.body);
            if response.status == 429 || matches!(reason.as_str(), "quotaExceeded" | "rateLimitExceeded") {
                Err(ReplyError::RateLimited {
                    platform: PLATFORM,
                    retry_after: http::retry_after(&response.headers, ResetHeader::None, std::time::SystemTime::now()),
                })
            } else {
                Err(ReplyError::Refused {
                    platform: PLATFORM,
                    message: format!("{reason}: {message}"),
                })
            }
        }
        500..=599 => Err(ReplyError::Transient {
            platform: PLATFORM,
            message: format!("HTTP {}", response.status),
        }),
        status => {
            let (reason, message) = google_error(&response.body);
            Err(ReplyError::Refused {
                platform: PLATFORM,
                message: format!("HTTP {status} {reason}: {message}"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_goes_under_its_top_level_comment() {
        assert_eq!(parent_of("UgxAbc"), "UgxAbc");
        assert_eq!(parent_of("UgxAbc.9zYx"), "UgxAbc");
    }
}
