//! Reply templates kept per brand: listed, read, created or replaced, deleted. The name is
//! unique per brand in the schema, so two leads saving the same name get one row and a
//! conflict, never two templates that look alike.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Transaction};

use super::super::{NewReplyTemplate, ReplyTemplateRow, StoreError};
use super::rows::{brand_at, get};
use crate::domain::BrandId;

const COLUMNS: &str = "id, brand_id, name, text, apology, updated_by, updated_at_ms";

fn template_of(row: &AnyRow) -> Result<ReplyTemplateRow, StoreError> {
    Ok(ReplyTemplateRow {
        id: get(row, "id")?,
        brand: brand_at(row, "brand_id")?,
        name: get(row, "name")?,
        text: get(row, "text")?,
        apology: get::<i64>(row, "apology")? != 0,
        updated_by: get(row, "updated_by")?,
        updated_at_ms: get(row, "updated_at_ms")?,
    })
}

pub(super) async fn list(pool: &AnyPool, brand: Option<&BrandId>) -> Result<Vec<ReplyTemplateRow>, StoreError> {
    let rows = match brand {
        Some(brand) => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM reply_templates WHERE brand_id = $1 ORDER BY name, id"
            ))
            .bind(brand.to_string())
            .fetch_all(pool)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM reply_templates ORDER BY brand_id, name, id"
            ))
            .fetch_all(pool)
            .await?
        }
    };
    rows.iter().map(template_of).collect()
}

pub(super) async fn one(pool: &AnyPool, id: i64) -> Result<ReplyTemplateRow, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM reply_templates WHERE id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("template {id}")))?;
    template_of(&row)
}

fn name_taken(error: sqlx::Error, template: &NewReplyTemplate) -> StoreError {
    match error {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(format!(
            "brand {} already has a template named {:?}",
            template.brand, template.name
        )),
        other => StoreError::Backend(other),
    }
}

pub(super) async fn save(
    tx: &mut Transaction<'_, Any>,
    id: Option<i64>,
    template: &NewReplyTemplate,
) -> Result<ReplyTemplateRow, StoreError> {
    let apology = i64::from(template.apology);
    let row = match id {
        None => sqlx::query(&format!(
            "INSERT INTO reply_templates (brand_id, name, text, apology, created_by, created_at_ms, updated_by, updated_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $5, $6) RETURNING {COLUMNS}"
        ))
        .bind(template.brand.to_string())
        .bind(&template.name)
        .bind(&template.text)
        .bind(apology)
        .bind(&template.actor)
        .bind(template.at)
        .fetch_one(&mut **tx)
        .await
        .map_err(|error| name_taken(error, template))?,
        Some(id) => sqlx::query(&format!(
            "UPDATE reply_templates SET brand_id = $1, name = $2, text = $3, apology = $4, updated_by = $5,
                    updated_at_ms = $6
             WHERE id = $7 RETURNING {COLUMNS}"
        ))
        .bind(template.brand.to_string())
        .bind(&template.name)
        .bind(&template.text)
        .bind(apology)
        .bind(&template.actor)
        .bind(template.at)
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .map_err(|error| name_taken(error, template))?
        .ok_or_else(|| StoreError::NotFound(format!("template {id}")))?,
    };
    template_of(&row)
}

pub(super) async fn delete(tx: &mut Transaction<'_, Any>, id: i64) -> Result<(), StoreError> {
    let deleted = sqlx::query("DELETE FROM reply_templates WHERE id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(StoreError::NotFound(format!("template {id}")));
    }
    Ok(())
}
