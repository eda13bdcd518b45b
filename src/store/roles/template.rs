//! Reply templates leads keep per brand in the database.

use async_trait::async_trait;

use crate::domain::BrandId;
use crate::store::{NewReplyTemplate, ReplyTemplateRow, StoreError};

#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// The stored templates, of one brand or of all, by brand and name.
    async fn reply_templates(&self, brand: Option<&BrandId>) -> Result<Vec<ReplyTemplateRow>, StoreError>;

    /// One stored template; `NotFound` if there is none.
    async fn reply_template(&self, id: i64) -> Result<ReplyTemplateRow, StoreError>;

    /// Stores a new template (`id` `None`) or replaces template `id`; `Conflict` when the
    /// brand has another template of that name, `NotFound` when `id` is not stored.
    async fn save_reply_template(
        &self,
        id: Option<i64>,
        template: &NewReplyTemplate,
    ) -> Result<ReplyTemplateRow, StoreError>;

    /// Deletes a template; `NotFound` if there is none.
    async fn delete_reply_template(&self, id: i64) -> Result<(), StoreError>;
}
