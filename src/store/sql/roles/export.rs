//! `SqlStore` as the `ExportStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::{BrandId, Millis};
use crate::store::ExportStore;
use crate::store::StoreError;
use crate::store::{ExportQuery, ExportRow, ExportRunEnd, ExportRunRow, ExportTask, NewExportRun};

use super::super::{SqlStore, exports, problems};

#[async_trait]
impl ExportStore for SqlStore {
    async fn export_rows(&self, query: &ExportQuery) -> Result<Vec<ExportRow>, StoreError> {
        exports::export_rows(&self.pool, query).await
    }

    async fn export_tasks(
        &self,
        start: Millis,
        end: Millis,
        brand: Option<&BrandId>,
    ) -> Result<Vec<ExportTask>, StoreError> {
        exports::export_tasks(&self.pool, start, end, brand).await
    }

    async fn export_problems(
        &self,
        start: Millis,
        end: Millis,
        brand: Option<&BrandId>,
        min_complaints: i64,
    ) -> Result<Vec<crate::store::ExportProblem>, StoreError> {
        problems::export(&self.pool, start, end, brand, min_complaints).await
    }

    async fn first_post_at(&self) -> Result<Option<Millis>, StoreError> {
        exports::first_post_at(&self.pool).await
    }

    async fn begin_export_run(&self, run: NewExportRun<'_>) -> Result<Option<i64>, StoreError> {
        let mut tx = self.write().await?;
        let id = exports::begin_export_run(&mut tx, &run).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn finish_export_run(&self, id: i64, end: ExportRunEnd, at: Millis) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        exports::finish_export_run(&mut tx, id, &end, at).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn export_runs(&self, limit: usize) -> Result<Vec<ExportRunRow>, StoreError> {
        exports::export_runs(&self.pool, limit).await
    }
}
