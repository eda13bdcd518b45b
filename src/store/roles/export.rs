//! Weekly exports: rows page by page, the week's tasks and problems, the run log that makes a
//! scheduled week run once.

use async_trait::async_trait;

use crate::domain::{BrandId, Millis};
use crate::store::{
    ExportProblem, ExportQuery, ExportRow, ExportRunEnd, ExportRunRow, ExportTask, NewExportRun, StoreError,
};

#[async_trait]
pub trait ExportStore: Send + Sync {
    /// One page of the mentions whose post was created in the range, by mention id.
    async fn export_rows(&self, query: &ExportQuery) -> Result<Vec<ExportRow>, StoreError>;

    /// Tasks opened, answered, resolved or dismissed in `[start, end)`.
    async fn export_tasks(
        &self,
        start: Millis,
        end: Millis,
        brand: Option<&BrandId>,
    ) -> Result<Vec<ExportTask>, StoreError>;

    /// Problems with complaints written in `[start, end)` (at least `min_complaints` of them),
    /// most complaints first, for the weekly export.
    async fn export_problems(
        &self,
        start: Millis,
        end: Millis,
        brand: Option<&BrandId>,
        min_complaints: i64,
    ) -> Result<Vec<ExportProblem>, StoreError>;

    /// When the earliest stored post was created, if there is one.
    async fn first_post_at(&self) -> Result<Option<Millis>, StoreError>;

    /// Records a run as `running` and returns its id. A scheduled run is recorded only if
    /// no scheduled run of the same week and scope is done or (freshly) running: `None`
    /// means someone else has it. A manual run is always recorded.
    async fn begin_export_run(&self, run: NewExportRun<'_>) -> Result<Option<i64>, StoreError>;

    /// Marks a run done or failed.
    async fn finish_export_run(&self, id: i64, end: ExportRunEnd, at: Millis) -> Result<(), StoreError>;

    /// The most recent runs, newest first.
    async fn export_runs(&self, limit: usize) -> Result<Vec<ExportRunRow>, StoreError>;
}
