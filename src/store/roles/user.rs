//! Who may use earshot: users, sessions, machine tokens.

use async_trait::async_trait;

use crate::domain::Millis;
use crate::store::{ApiTokenRecord, NewUser, SessionUser, StoreError, UserRecord};

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user; `Conflict` if the username is taken.
    async fn create_user(&self, user: NewUser) -> Result<i64, StoreError>;

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError>;

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        at: Millis,
        expires_at_ms: Millis,
    ) -> Result<(), StoreError>;

    /// The user of an unexpired session of an enabled user.
    async fn session_user(&self, token_hash: &str, now: Millis) -> Result<Option<SessionUser>, StoreError>;

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Creates a machine token; `Conflict` if the name is taken.
    async fn create_api_token(
        &self,
        token_hash: &str,
        name: &str,
        role: crate::auth::Role,
        at: Millis,
    ) -> Result<(), StoreError>;

    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRecord>, StoreError>;
}
