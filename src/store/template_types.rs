//! The records of reply templates kept in the database: one brand's named text with
//! placeholders, written by a lead in the queue. Checking the text is `domain::template`'.

use crate::domain::{BrandId, Millis};

/// A template to create or to replace a stored one with, already checked.
#[derive(Debug, Clone)]
pub struct NewReplyTemplate {
    pub brand: BrandId,
    pub name: String,
    pub text: String,
    /// Offered first on a negative task.
    pub apology: bool,
    /// Who wrote it, and when.
    pub actor: String,
    pub at: Millis,
}

/// A stored template.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplyTemplateRow {
    pub id: i64,
    pub brand: BrandId,
    pub name: String,
    pub text: String,
    pub apology: bool,
    pub updated_by: String,
    pub updated_at_ms: Millis,
}
