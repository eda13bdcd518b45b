//! `SqlStore` as the `AdminStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::now_millis;
use crate::store::AdminStore;
use crate::store::{Backend, BrandRecord, SourceRecord, StoreError};

use super::super::{MIGRATOR_POSTGRES, MIGRATOR_SQLITE, SqlStore, mentions};

#[async_trait]
impl AdminStore for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    #[tracing::instrument(skip_all)]
    async fn migrate(&self) -> Result<(), StoreError> {
        let migrator = match self.backend {
            Backend::Sqlite => &MIGRATOR_SQLITE,
            Backend::Postgres => &MIGRATOR_POSTGRES,
        };
        migrator.run(&self.pool).await?;
        let filled = mentions::backfill_search_text(self).await?;
        if filled > 0 {
            tracing::info!(n_posts = filled, "Filled in the search text of stored posts.");
        }
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn sync_config(&self, brands: &[BrandRecord], sources: &[SourceRecord]) -> Result<(), StoreError> {
        let now = now_millis();
        let mut tx = self.write().await?;
        sqlx::query("UPDATE brands SET active = 0").execute(&mut *tx).await?;
        sqlx::query("UPDATE sources SET active = 0").execute(&mut *tx).await?;
        for brand in brands {
            sqlx::query(
                "INSERT INTO brands (id, name, threshold, settings_json, active, updated_at_ms)
                 VALUES ($1, $2, $3, $4, 1, $5)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, threshold = excluded.threshold,
                     settings_json = excluded.settings_json, active = 1, updated_at_ms = excluded.updated_at_ms",
            )
            .bind(brand.id.as_str())
            .bind(&brand.name)
            .bind(f64::from(brand.threshold))
            .bind(&brand.settings_json)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        for source in sources {
            sqlx::query(
                "INSERT INTO sources (id, brand_id, kind, schedule, active, updated_at_ms)
                 VALUES ($1, $2, $3, $4, 1, $5)
                 ON CONFLICT (id) DO UPDATE SET brand_id = excluded.brand_id, kind = excluded.kind,
                     schedule = excluded.schedule, active = 1, updated_at_ms = excluded.updated_at_ms",
            )
            .bind(source.id.as_str())
            .bind(source.brand.as_str())
            .bind(&source.kind)
            .bind(&source.schedule)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn backup_into(&self, to: &std::path::Path) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => {
                let to = to
                    .to_str()
                    .ok_or_else(|| StoreError::Unsupported("the backup path must be UTF-8".into()))?;
                // One read transaction: the copy is the database as of one moment, while
                // writers go on (WAL).
                sqlx::query("VACUUM INTO $1").bind(to).execute(&self.pool).await?;
                Ok(())
            }
            Backend::Postgres => Err(StoreError::Unsupported(
                "PostgreSQL is backed up with its own tools: pg_dump --format=custom (see README, Backups)".into(),
            )),
        }
    }
}
