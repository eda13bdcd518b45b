//! The OAuth 2.0 refresh-token grant X, Reddit and YouTube share: exchange the account's
//! refresh token (or, for a Reddit script app, its password) for an access token at the
//! platform's token endpoint, keep the access token until shortly before it expires, and
//! keep a rotated refresh token before using the access token it came with.
//!
//! X rotates refresh tokens (each refresh returns a new one and retires the old), so the
//! new one is saved in the `TokenVault` first; a restart then uses it instead of the
//! configured one, unless the configured token changed (the account was authorised again).
//!
//! Invariant: tokens never reach an error message or a log; a token endpoint's error body is
//! read only for its `error`/`error_description` words.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

use super::{ReplyError, StoredToken, TokenVault};
use crate::domain::{Millis, Platform, now_millis};
use crate::secret::Secret;
use crate::sources::http::{self, RetryPolicy};

/// How a token endpoint wants the client to authenticate.
#[derive(Debug, Clone)]
pub enum ClientAuth {
    /// `Authorization: Basic base64(id:secret)` (confidential clients).
    Basic { id: String, secret: Secret },
    /// `client_id` and `client_secret` in the form (Google).
    Form { id: String, secret: Secret },
    /// `client_id` in the form only (X public clients).
    Public { id: String },
}

/// What is exchanged for an access token.
#[derive(Debug, Clone)]
pub enum Grant {
    RefreshToken(Secret),
    /// Reddit script apps: the account's own username and password.
    Password {
        username: String,
        password: Secret,
    },
}

/// Access tokens are refreshed this long before they expire.
const EARLY: Duration = Duration::from_secs(60);

#[derive(Clone)]
struct Access {
    token: String,
    expires_at: Millis,
}

/// One account's access token, refreshed when needed.
pub struct TokenSource {
    platform: Platform,
    account: String,
    token_url: String,
    client: ClientAuth,
    grant: Grant,
    http: reqwest::Client,
    vault: std::sync::Arc<dyn TokenVault>,
    access: Mutex<Option<Access>>,
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: Option<String>,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    error: Option<String>,
    error_description: Option<String>,
}

/// A fingerprint of a configured token, to notice when it was replaced.
fn fingerprint(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl TokenSource {
    pub fn new(
        platform: Platform,
        account: String,
        token_url: String,
        client: ClientAuth,
        grant: Grant,
        http: reqwest::Client,
        vault: std::sync::Arc<dyn TokenVault>,
    ) -> TokenSource {
        TokenSource {
            platform,
            account,
            token_url,
            client,
            grant,
            http,
            vault,
            access: Mutex::new(None),
        }
    }

    /// A live access token, refreshed if it expires within a minute.
    pub async fn access_token(&self) -> Result<String, ReplyError> {
        let mut access = self.access.lock().await;
        if let Some(current) = access.as_ref()
            && current.expires_at > now_millis().saturating_add(EARLY.as_millis() as i64)
        {
            return Ok(current.token.clone());
        }
        let fresh = self.refresh().await?;
        let token = fresh.token.clone();
        *access = Some(fresh);
        Ok(token)
    }

    /// Forgets the access token (after a 401), so the next call refreshes.
    pub async fn invalidate(&self) {
        *self.access.lock().await = None;
    }

    async fn refresh(&self) -> Result<Access, ReplyError> {
        let mut form: Vec<(&str, String)> = Vec::new();
        let mut origin = None;
        match &self.grant {
            Grant::RefreshToken(configured) => {
                let configured_fingerprint = fingerprint(configured.expose());
                let stored = self
                    .vault
                    .load(&self.account)
                    .await
                    .map_err(|message| ReplyError::Transient {
                        platform: self.platform,
                        message: format!("cannot read the stored refresh token: {message}"),
                    })?;
                let token = match stored {
                    Some(stored) if stored.origin_fingerprint == configured_fingerprint => stored.token,
                    _ => configured.expose().to_owned(),
                };
                form.push(("grant_type", "refresh_token".to_owned()));
                form.push(("refresh_token", token));
                origin = Some(configured_fingerprint);
            }
            Grant::Password { username, password } => {
                form.push(("grant_type", "password".to_owned()));
                form.push(("username", username.clone()));
                form.push(("password", password.expose().to_owned()));
            }
        }
        match &self.client {
            ClientAuth::Basic { .. } => {}
            ClientAuth::Form { id, secret } => {
                form.push(("client_id", id.clone()));
                form.push(("client_secret", secret.expose().to_owned()));
            }
            ClientAuth::Public { id } => form.push(("client_id", id.clone())),
        }
        let build = || {
            let request = self.http.post(&self.token_url).form(&form);
            match &self.client {
                ClientAuth::Basic { id, secret } => request.basic_auth(id, Some(secret.expose())),
                _ => request,
            }
        };
        let response = http::send_unchecked(build, RetryPolicy::default())
            .await
            .map_err(|error| ReplyError::from_read(self.platform, error))?;
        let answer: Option<TokenAnswer> = serde_json::from_slice(&response.body).ok();
        let refused = |message: String| ReplyError::Unauthorized {
            platform: self.platform,
            status: response.status,
            message,
        };
        let Some(answer) = answer else {
            return Err(if response.status == 429 {
                ReplyError::RateLimited {
                    platform: self.platform,
                    retry_after: None,
                }
            } else {
                refused(format!(
                    "the token endpoint answered HTTP {} without a token",
                    response.status
                ))
            });
        };
        // Reddit answers a wrong password with HTTP 200 and {"error": "invalid_grant"}.
        let access_token = match (&answer.access_token, &answer.error) {
            (Some(token), None) if (200..300).contains(&response.status) => token.clone(),
            _ if response.status == 429 => {
                return Err(ReplyError::RateLimited {
                    platform: self.platform,
                    retry_after: None,
                });
            }
            _ => {
                let words = [answer.error.as_deref(), answer.error_description.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": ");
                return Err(refused(if words.is_empty() {
                    format!("the token endpoint answered HTTP {}", response.status)
                } else {
                    format!("token refresh refused: {words}")
                }));
            }
        };
        if let (Some(origin), Some(rotated)) = (origin, answer.refresh_token) {
            let stored = StoredToken {
                origin_fingerprint: origin,
                token: rotated,
            };
            self.vault
                .save(&self.account, &stored, now_millis())
                .await
                .map_err(|message| ReplyError::Transient {
                    platform: self.platform,
                    message: format!("cannot keep the rotated refresh token: {message}"),
                })?;
        }
        let lifetime_ms = i64::try_from(answer.expires_in.unwrap_or(3600)).unwrap_or(3600) * 1000;
        Ok(Access {
            token: access_token,
            expires_at: now_millis().saturating_add(lifetime_ms),
        })
    }
}
