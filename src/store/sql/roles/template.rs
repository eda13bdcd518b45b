//! `SqlStore` as the `TemplateStore` role of `store::roles`: each method takes what it needs (the pool
//! for a read, a write transaction for a write) and runs its queries, most of them in the
//! `sql` module of their area. Nothing here decides anything: that is the callers' business.

use async_trait::async_trait;

use crate::domain::BrandId;
use crate::store::StoreError;
use crate::store::TemplateStore;

use super::super::{SqlStore, templates};

#[async_trait]
impl TemplateStore for SqlStore {
    async fn reply_templates(
        &self,
        brand: Option<&BrandId>,
    ) -> Result<Vec<crate::store::ReplyTemplateRow>, StoreError> {
        templates::list(&self.pool, brand).await
    }

    async fn reply_template(&self, id: i64) -> Result<crate::store::ReplyTemplateRow, StoreError> {
        templates::one(&self.pool, id).await
    }

    async fn save_reply_template(
        &self,
        id: Option<i64>,
        template: &crate::store::NewReplyTemplate,
    ) -> Result<crate::store::ReplyTemplateRow, StoreError> {
        let mut tx = self.write().await?;
        let row = templates::save(&mut tx, id, template).await?;
        tx.commit().await?;
        Ok(row)
    }

    async fn delete_reply_template(&self, id: i64) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        templates::delete(&mut tx, id).await?;
        tx.commit().await?;
        Ok(())
    }
}
