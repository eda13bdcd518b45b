//! Coordination between instances: named leases (a poll, the engagement refresh, the problems
//! jobs).

use async_trait::async_trait;

use crate::domain::Millis;
use crate::store::StoreError;

#[async_trait]
pub trait LeaseStore: Send + Sync {
    /// Takes or renews the named lease for `holder` until `now + ttl_ms`; false when another
    /// holder has it and it has not expired. Always true on SQLite (one instance per file).
    async fn try_acquire_lease(&self, name: &str, holder: &str, now: Millis, ttl_ms: i64) -> Result<bool, StoreError>;

    /// Gives the lease back if `holder` still has it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StoreError>;
}
