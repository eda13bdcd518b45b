//! The reply worker: sends the replies agents queued, exactly once.
//!
//! Each pass claims due replies (a lease of `[instances] delivery_lease_secs`, so several
//! instances never send the same one) and, for each:
//! 1. if an earlier attempt's outcome is unknown (`in_doubt`: a timeout, a 5xx on the write,
//!    or a crash between the send and its record), asks the platform whether the reply is
//!    there already (Bluesky by its record key; Mastodon, X, Reddit, YouTube among the
//!    account's recent posts) and records it as sent if so;
//! 2. marks the attempt (`in_doubt` = 1) and commits that before the request leaves;
//! 3. sends once (Mastodon also gets the reply's `Idempotency-Key`);
//! 4. records the outcome: sent (with the platform's id and link; the platform's acceptance
//!    is the task's first response), or retried later (429 at the platform's reset time, 5xx
//!    and transport failures with backoff), or failed with the platform's message (refusals,
//!    revoked tokens: shown on the task, the account's health says so too).
//!
//! Invariant: the order "row, attempt mark, send, record" is never changed; nothing is sent
//! for a reply whose attempt mark was not committed.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

use crate::config::Settings;
use crate::domain::{BrandId, Millis, Platform, now_millis, secs_to_millis};
use crate::replies::{OutgoingReply, Published, Publisher, ReplyError, StoredToken, TokenVault, account_key};
use crate::store::{AccountEvent, Claim, ClaimedReply, ReplyFailure, ReplySent, ReplyStore, Store, StoreError};
use crate::tasks::actions::{AcceptedReply, reply_published};

/// Replies claimed per pass.
const BATCH: usize = 10;
/// Attempts before a reply that keeps failing for passing reasons is given up.
pub const MAX_ATTEMPTS: i64 = 8;
/// First retry delay; doubles per attempt up to `MAX_BACKOFF`.
const BASE_BACKOFF: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(3600);
/// A rate limit without a reset time waits this long.
const RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// Times the task's change is decided again when the task changed meanwhile.
const TASK_RETRIES: usize = 5;

/// Rotated refresh tokens kept in the store (its reply role).
pub struct StoreVault(pub Arc<dyn ReplyStore>);

#[async_trait]
impl TokenVault for StoreVault {
    async fn load(&self, account: &str) -> Result<Option<StoredToken>, String> {
        self.0.reply_token(account).await.map_err(|error| error.to_string())
    }
    async fn save(&self, account: &str, token: &StoredToken, now: Millis) -> Result<(), String> {
        self.0
            .save_reply_token(account, token, now)
            .await
            .map_err(|error| error.to_string())
    }
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct SendReport {
    pub n_claimed: usize,
    pub n_sent: usize,
    /// Found on the platform after an uncertain attempt: recorded, not sent again.
    pub n_found: usize,
    pub n_retrying: usize,
    pub n_failed: usize,
}

/// Sends queued replies through the brands' reply accounts.
pub struct ReplySender {
    store: Arc<dyn Store>,
    settings: Arc<Settings>,
    publishers: HashMap<(BrandId, Platform), Arc<dyn Publisher>>,
    holder: String,
    lease_ms: i64,
}

impl ReplySender {
    /// One publisher per configured reply account; `holder` names this instance in claims.
    pub fn new(store: Arc<dyn Store>, settings: Arc<Settings>, http: reqwest::Client, holder: String) -> ReplySender {
        let vault: Arc<dyn TokenVault> = Arc::new(StoreVault(store.clone()));
        let publishers = settings
            .brands
            .iter()
            .flat_map(|brand| {
                brand.reply_accounts.iter().map(|account| {
                    (
                        (brand.id.clone(), account.platform()),
                        account.build(&brand.id, http.clone(), vault.clone()),
                    )
                })
            })
            .collect();
        let lease_ms = secs_to_millis(settings.instances.delivery_lease_secs);
        ReplySender {
            store,
            settings,
            publishers,
            holder,
            lease_ms,
        }
    }

    /// Whether any brand has a reply account (else the worker need not run).
    pub fn has_accounts(&self) -> bool {
        !self.publishers.is_empty()
    }

    /// Claims due replies and handles each; `now` decides what is due.
    pub async fn send_due(&self, now: Millis) -> Result<SendReport, StoreError> {
        let claim = Claim {
            holder: &self.holder,
            now,
            ttl_ms: self.lease_ms,
        };
        let claimed = self.store.claim_replies(&claim, BATCH).await?;
        let mut report = SendReport {
            n_claimed: claimed.len(),
            ..SendReport::default()
        };
        for reply in claimed {
            match self.handle(reply).await? {
                Outcome::Sent => report.n_sent += 1,
                Outcome::Found => report.n_found += 1,
                Outcome::Retrying => report.n_retrying += 1,
                Outcome::Failed => report.n_failed += 1,
                Outcome::Lost => {}
            }
        }
        Ok(report)
    }

    async fn handle(&self, claimed: ClaimedReply) -> Result<Outcome, StoreError> {
        let ClaimedReply { row, target } = claimed;
        let brand = row.brand.clone();
        let account = account_key(&brand, target.platform);
        let Some(publisher) = self.publishers.get(&(brand.clone(), target.platform)) else {
            let error = ReplyError::NotPossible(format!(
                "brand {brand} has no {} reply account in the configuration",
                target.platform
            ));
            return self.failed(&row, &account, error, row.in_doubt, now_millis()).await;
        };
        let outgoing = OutgoingReply {
            reply_id: row.id,
            key: row.idempotency_key.clone(),
            text: row.text.clone(),
            target,
        };
        if row.in_doubt {
            match publisher.find_published(&outgoing).await {
                Ok(Some(published)) => {
                    tracing::info!(
                        reply = row.id.get(),
                        "A reply in doubt was found published; not sending it again."
                    );
                    return self.sent(&row, &account, published, now_millis(), Outcome::Found).await;
                }
                Ok(None) => {}
                // Cannot tell now: stays in doubt, looked for again next time.
                Err(error) if error.is_retriable() => {
                    return self.retry_later(&row, &account, error, true, now_millis()).await;
                }
                // Cannot look at all (credentials refused, the post gone): failed, still in
                // doubt, so a Retry looks again before sending.
                Err(error) => return self.failed(&row, &account, error, true, now_millis()).await,
            }
        }
        if let Some(check) = self
            .settings
            .brand(&brand)
            .and_then(|b| b.reply_account(outgoing.target.platform))
        {
            if let Err(reason) = check.check_target(&outgoing.target) {
                return self
                    .failed(&row, &account, ReplyError::NotPossible(reason), false, now_millis())
                    .await;
            }
            if let Some(problem) = check.check_text(&outgoing.text).problem() {
                return self
                    .failed(&row, &account, ReplyError::NotPossible(problem), false, now_millis())
                    .await;
            }
        }
        if !self
            .store
            .begin_reply_attempt(row.id, &self.holder, now_millis())
            .await?
        {
            return Ok(Outcome::Lost);
        }
        let result = publisher.publish(&outgoing).await;
        fail::fail_point!("replies::after_publish", |_| std::process::abort());
        let now = now_millis();
        match result {
            Ok(published) => self.sent(&row, &account, published, now, Outcome::Sent).await,
            Err(error) => {
                let in_doubt = matches!(error, ReplyError::Uncertain { .. });
                self.failed(&row, &account, error, in_doubt, now).await
            }
        }
    }

    async fn sent(
        &self,
        row: &crate::store::ReplyRow,
        account: &str,
        published: Published,
        accepted_at: Millis,
        outcome: Outcome,
    ) -> Result<Outcome, StoreError> {
        let follow_up_ms = secs_to_millis(self.settings.tasks.follow_up_secs);
        for _ in 0..TASK_RETRIES {
            let task = self.store.task_detail(row.task_id).await?.task;
            let accepted = AcceptedReply {
                reply_id: row.id,
                sent_by: &row.requested_by,
                url: published.url.as_deref(),
                resolve: row.resolve_after,
                accepted_at,
            };
            let change = reply_published(&task, &accepted, now_millis(), follow_up_ms);
            let sent = ReplySent {
                reply_id: row.id,
                holder: self.holder.clone(),
                external_id: published.external_id.clone(),
                url: published.url.clone(),
                at: accepted_at,
                change: Some(change),
            };
            match self.store.record_reply_sent(&sent).await {
                Ok(true) => {
                    tracing::info!(reply = row.id.get(), task = row.task_id.get(), platform = %row.platform, "Reply published.");
                    metrics::counter!(crate::metrics::REPLIES, "platform" => row.platform.to_string(), "outcome" => "published")
                        .increment(1);
                    self.store
                        .record_account_event(
                            account,
                            &AccountEvent::Worked {
                                handle: None,
                                at: accepted_at,
                            },
                        )
                        .await?;
                    return Ok(outcome);
                }
                Ok(false) => return Ok(Outcome::Lost),
                // The task changed between reading and writing: decide again.
                Err(StoreError::Conflict(_)) => continue,
                Err(error) => return Err(error),
            }
        }
        Err(StoreError::Conflict(format!(
            "task {} kept changing while its reply {} was recorded",
            row.task_id, row.id
        )))
    }

    /// A final failure, or a retry when the error passes and attempts are left. `in_doubt`:
    /// the reply may exist on the platform (it is looked for before any resend).
    async fn failed(
        &self,
        row: &crate::store::ReplyRow,
        account: &str,
        error: ReplyError,
        in_doubt: bool,
        now: Millis,
    ) -> Result<Outcome, StoreError> {
        if error.is_retriable() && row.attempts < MAX_ATTEMPTS {
            return self.retry_later(row, account, error, in_doubt, now).await;
        }
        let message = if error.is_retriable() {
            format!("gave up after {} attempts: {error}", row.attempts)
        } else {
            error.to_string()
        };
        tracing::warn!(reply = row.id.get(), task = row.task_id.get(), kind = error.kind(), error = %message, "Reply failed.");
        let record = FailureRecord {
            message,
            retry_at: None,
            account_event: matches!(error, ReplyError::Unauthorized { .. }),
            in_doubt,
            at: now,
        };
        self.record_failure(row, account, &error, record).await?;
        Ok(Outcome::Failed)
    }

    async fn retry_later(
        &self,
        row: &crate::store::ReplyRow,
        account: &str,
        error: ReplyError,
        in_doubt: bool,
        now: Millis,
    ) -> Result<Outcome, StoreError> {
        let wait = match &error {
            ReplyError::RateLimited { retry_after, .. } => {
                retry_after.unwrap_or(RATE_LIMIT_WAIT).max(Duration::from_secs(1))
            }
            _ => backoff(row.attempts),
        };
        let retry_at = now.saturating_add(i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2));
        tracing::info!(
            reply = row.id.get(),
            kind = error.kind(),
            wait_ms = wait.as_millis() as u64,
            error = %error,
            "Reply not sent yet; retrying later."
        );
        let record = FailureRecord {
            message: error.to_string(),
            retry_at: Some(retry_at),
            account_event: matches!(error, ReplyError::RateLimited { .. }),
            in_doubt,
            at: now,
        };
        self.record_failure(row, account, &error, record).await?;
        Ok(Outcome::Retrying)
    }

    /// What a final failure and a retry both record: the metric, the account's health when
    /// the failure is about the account, then the reply's failure.
    async fn record_failure(
        &self,
        row: &crate::store::ReplyRow,
        account: &str,
        error: &ReplyError,
        record: FailureRecord,
    ) -> Result<(), StoreError> {
        let outcome = if record.retry_at.is_some() {
            "retrying"
        } else {
            "failed"
        };
        metrics::counter!(crate::metrics::REPLIES, "platform" => row.platform.to_string(), "outcome" => outcome)
            .increment(1);
        if record.account_event {
            self.store
                .record_account_event(
                    account,
                    &AccountEvent::Failed {
                        error: record.message.clone(),
                        kind: error.kind().to_owned(),
                        at: record.at,
                    },
                )
                .await?;
        }
        let failure = ReplyFailure {
            reply_id: row.id,
            holder: self.holder.clone(),
            error: record.message,
            kind: error.kind().to_owned(),
            retry_at: record.retry_at,
            in_doubt: record.in_doubt,
            at: record.at,
        };
        self.store.record_reply_failure(&failure, row.task_id).await
    }
}

/// A failed attempt as `ReplySender::record_failure` writes it.
struct FailureRecord {
    /// What the reply (and the account, if `account_event`) shows as the error.
    message: String,
    /// When to try again; `None`: failed for good.
    retry_at: Option<Millis>,
    /// The failure is about the account (revoked token, rate limit): its health shows it.
    account_event: bool,
    /// The reply may exist on the platform.
    in_doubt: bool,
    at: Millis,
}

/// `BASE_BACKOFF · 2^(attempts-1)`, at most `MAX_BACKOFF`.
fn backoff(attempts: i64) -> Duration {
    let exponent = u32::try_from(attempts.saturating_sub(1).clamp(0, 16)).unwrap_or(16);
    BASE_BACKOFF.saturating_mul(1u32 << exponent).min(MAX_BACKOFF)
}

enum Outcome {
    Sent,
    Found,
    Retrying,
    Failed,
    /// The claim was lost to another instance (its lease expired): nothing done.
    Lost,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(3), Duration::from_secs(120));
        assert_eq!(backoff(20), Duration::from_secs(3600));
    }
}
