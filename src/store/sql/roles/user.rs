//! `SqlStore` as the `UserStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::Millis;
use crate::store::StoreError;
use crate::store::UserStore;
use crate::store::{ApiTokenRecord, NewUser, SessionUser, UserRecord};

use super::super::{SqlStore, queue_actions};

#[async_trait]
impl UserStore for SqlStore {
    async fn create_user(&self, user: NewUser) -> Result<i64, StoreError> {
        let mut tx = self.write().await?;
        let id = queue_actions::create_user(&mut tx, &user).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>, StoreError> {
        queue_actions::user_by_name(&self.pool, username).await
    }

    async fn create_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf_token: &str,
        at: Millis,
        expires_at_ms: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        queue_actions::create_session(&mut tx, token_hash, user_id, csrf_token, at, expires_at_ms).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session_user(&self, token_hash: &str, now: Millis) -> Result<Option<SessionUser>, StoreError> {
        queue_actions::session_user(&self.pool, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        queue_actions::delete_session(&self.pool, token_hash).await
    }

    async fn create_api_token(
        &self,
        token_hash: &str,
        name: &str,
        role: crate::auth::Role,
        at: Millis,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        queue_actions::create_api_token(&mut tx, token_hash, name, role, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn api_token(&self, token_hash: &str) -> Result<Option<ApiTokenRecord>, StoreError> {
        queue_actions::api_token(&self.pool, token_hash).await
    }
}
