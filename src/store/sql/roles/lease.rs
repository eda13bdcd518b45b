//! `SqlStore` as the `LeaseStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::Millis;
use crate::store::LeaseStore;
use crate::store::{Backend, StoreError};

use super::super::SqlStore;

#[async_trait]
impl LeaseStore for SqlStore {
    async fn try_acquire_lease(&self, name: &str, holder: &str, now: Millis, ttl_ms: i64) -> Result<bool, StoreError> {
        if self.backend == Backend::Sqlite {
            // One instance per SQLite file: nobody to share with, and a restarted process must
            // not wait for the lease of the one it replaces.
            return Ok(true);
        }
        let mut tx = self.write().await?;
        let row = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at_ms = excluded.expires_at_ms
             WHERE leases.expires_at_ms < $4 OR leases.holder = excluded.holder
             RETURNING holder",
        )
        .bind(name)
        .bind(holder)
        .bind(now.saturating_add(ttl_ms))
        .bind(now)
        .fetch_optional(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(row.is_some())
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}
