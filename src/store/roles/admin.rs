//! Running the store itself: which backend, migrations, mirroring the config, backups.

use async_trait::async_trait;

use crate::store::{Backend, BrandRecord, SourceRecord, StoreError};

#[async_trait]
pub trait AdminStore: Send + Sync {
    /// Which database this is, for logs and backend-specific behaviour.
    fn backend(&self) -> Backend;

    /// Applies pending migrations.
    async fn migrate(&self) -> Result<(), StoreError>;

    /// Makes the brands and sources tables mirror the config; ones no longer configured stay
    /// (their posts refer to them) but are marked inactive.
    async fn sync_config(&self, brands: &[BrandRecord], sources: &[SourceRecord]) -> Result<(), StoreError>;

    /// A consistent copy of the whole database in a new file at `to`, taken while the service
    /// runs (SQLite's `VACUUM INTO`). PostgreSQL: `Unsupported` (use `pg_dump`).
    async fn backup_into(&self, to: &std::path::Path) -> Result<(), StoreError>;
}
