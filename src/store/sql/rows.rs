//! Turning `Any` rows into store records.

use sqlx::Row;
use sqlx::any::AnyRow;

use super::super::{SourceHealth, StoreError, TaskRow};
use crate::domain::{
    BrandId, ComplaintScores, Engagement, Platform, Post, Priority, SentimentOutcome, SentimentScores, TaskStatus,
};

pub(super) fn get<'r, T>(row: &'r AnyRow, column: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    Ok(row.try_get::<T, _>(column)?)
}

/// A platform column, e.g. `platform` or `p_platform`; a name earshot does not know is
/// `Corrupt`, with the name.
pub(super) fn platform_at(row: &AnyRow, column: &str) -> Result<Platform, StoreError> {
    let platform: String = get(row, column)?;
    platform
        .parse::<Platform>()
        .map_err(|error| StoreError::Corrupt(error.to_string()))
}

/// A brand id column, e.g. `brand_id`; a value that is not a brand id is `Corrupt`, with the
/// value.
pub(super) fn brand_at(row: &AnyRow, column: &str) -> Result<BrandId, StoreError> {
    let brand: String = get(row, column)?;
    BrandId::parse(&brand).map_err(|error| StoreError::Corrupt(error.to_string()))
}

pub(super) fn f32_of(row: &AnyRow, column: &str) -> Result<f32, StoreError> {
    Ok(get::<f64>(row, column)? as f32)
}

pub(super) fn u64_of(row: &AnyRow, column: &str) -> Result<u64, StoreError> {
    Ok(u64::try_from(get::<i64>(row, column)?).unwrap_or(0))
}

/// The alert payload stored as JSON in the row's `payload_json` column.
pub(super) fn alert_payload_of(row: &AnyRow) -> Result<crate::alerts::AlertPayload, StoreError> {
    let payload_json: String = get(row, "payload_json")?;
    serde_json::from_str(&payload_json).map_err(|error| StoreError::Corrupt(format!("alert payload: {error}")))
}

/// An alert payload as the JSON the `payload_json` column keeps.
pub(super) fn alert_payload_json(payload: &crate::alerts::AlertPayload) -> Result<String, StoreError> {
    serde_json::to_string(payload).map_err(|error| StoreError::Corrupt(format!("alert does not serialise: {error}")))
}

pub(super) fn post_of(row: &AnyRow) -> Result<Post, StoreError> {
    let platform = platform_at(row, "platform")?;
    Ok(Post {
        platform,
        external_id: get(row, "external_id")?,
        text: get(row, "text")?,
        author_handle: get(row, "author_handle")?,
        author_name: get(row, "author_name")?,
        author_followers: get::<Option<i64>>(row, "author_followers")?.map(|v| u64::try_from(v).unwrap_or(0)),
        created_at: get(row, "created_at_ms")?,
        url: get(row, "url")?,
        lang: get(row, "lang")?,
        engagement: Engagement {
            likes: u64_of(row, "likes")?,
            reposts: u64_of(row, "reposts")?,
            replies: u64_of(row, "replies")?,
            quotes: u64_of(row, "quotes")?,
        },
        conversation_id: get(row, "conversation_id")?,
        in_reply_to: get(row, "in_reply_to")?,
        quote_of: get(row, "quote_of")?,
        quoted_text: get(row, "quoted_text")?,
    })
}

/// The sentiment columns (`s_status`, `s_negative`, …) of a joined row, if any.
pub(super) fn sentiment_of(row: &AnyRow) -> Result<Option<SentimentOutcome>, StoreError> {
    let Some(status) = get::<Option<String>>(row, "s_status")? else {
        return Ok(None);
    };
    let language = get::<Option<String>>(row, "s_language")?;
    if status != "scored" {
        let reason = get::<Option<String>>(row, "s_reason")?.unwrap_or_default();
        return Ok(Some(SentimentOutcome::Unscored { reason, language }));
    }
    let scores = scores_of(row)?.ok_or_else(|| StoreError::Corrupt("scored sentiment without probabilities".into()))?;
    let model = get::<Option<String>>(row, "s_model")?.unwrap_or_default();
    Ok(Some(SentimentOutcome::Scored {
        scores,
        model,
        language,
        complaint: complaint_of(row)?,
    }))
}

/// The complaint columns (`s_complaint`, `s_severity_json`) of a joined row, if the post was
/// scored by a complaint model.
pub(super) fn complaint_of(row: &AnyRow) -> Result<Option<ComplaintScores>, StoreError> {
    let probability = get::<Option<f64>>(row, "s_complaint")?;
    let severity = get::<Option<String>>(row, "s_severity_json")?;
    match (probability, severity) {
        (Some(probability), Some(json)) => {
            let levels: [f32; 5] = serde_json::from_str(&json)
                .map_err(|error| StoreError::Corrupt(format!("severity of a sentiment: {error}")))?;
            ComplaintScores::new(probability as f32, levels)
                .map(Some)
                .ok_or_else(|| StoreError::Corrupt(format!("invalid complaint scores {probability} {json}")))
        }
        _ => Ok(None),
    }
}

/// The severity distribution as stored in `sentiments.severity_json`.
pub(super) fn severity_json(complaint: &ComplaintScores) -> String {
    serde_json::to_string(&complaint.severity).unwrap_or_else(|_| "[]".into())
}

pub(super) fn scores_of(row: &AnyRow) -> Result<Option<SentimentScores>, StoreError> {
    let negative = get::<Option<f64>>(row, "s_negative")?;
    let neutral = get::<Option<f64>>(row, "s_neutral")?;
    let positive = get::<Option<f64>>(row, "s_positive")?;
    Ok(match (negative, neutral, positive) {
        (Some(negative), Some(neutral), Some(positive)) => Some(SentimentScores {
            negative: negative as f32,
            neutral: neutral as f32,
            positive: positive as f32,
        }),
        _ => None,
    })
}

pub(super) fn task_row_of(row: &AnyRow) -> Result<TaskRow, StoreError> {
    let status: String = get(row, "status")?;
    let status = status
        .parse::<TaskStatus>()
        .map_err(|error| StoreError::Corrupt(error.to_string()))?;
    let rank: i64 = get(row, "priority")?;
    let priority = Priority::from_rank(rank).ok_or_else(|| StoreError::Corrupt(format!("priority rank {rank}")))?;
    Ok(TaskRow {
        id: get(row, "id")?,
        brand: brand_at(row, "brand_id")?,
        platform: platform_at(row, "platform")?,
        author_handle: get(row, "author_handle")?,
        status,
        priority,
        criticality: f32_of(row, "criticality")?,
        assignee: get(row, "assignee")?,
        opened_at_ms: get(row, "opened_at_ms")?,
        sla_started_at_ms: get(row, "sla_started_at_ms")?,
        due_at_ms: get(row, "due_at_ms")?,
        first_response_at_ms: get(row, "first_response_at_ms")?,
        resolved_at_ms: get(row, "resolved_at_ms")?,
        dismissed_reason: get(row, "dismissed_reason")?,
        last_activity_at_ms: get(row, "last_activity_at_ms")?,
        n_posts: get(row, "n_posts")?,
        latest_text: get::<Option<String>>(row, "latest_text")?.unwrap_or_default(),
        latest_url: get(row, "latest_url")?,
        updated_at_ms: get(row, "updated_at_ms")?,
        follow_up_at_ms: get(row, "follow_up_at_ms")?,
        recovered: get::<Option<i64>>(row, "recovered")?.map(|r| r != 0),
        next_post_sentiment: get(row, "next_post_sentiment")?,
    })
}

pub(super) fn source_health_of(row: &AnyRow) -> Result<SourceHealth, StoreError> {
    Ok(SourceHealth {
        source: get(row, "id")?,
        brand: brand_at(row, "brand_id")?,
        kind: get(row, "kind")?,
        schedule: get(row, "schedule")?,
        active: get::<i64>(row, "active")? != 0,
        last_poll_at_ms: get(row, "last_poll_at_ms")?,
        last_success_at_ms: get(row, "last_success_at_ms")?,
        last_error: get(row, "last_error")?,
        last_error_kind: get(row, "last_error_kind")?,
        last_error_at_ms: get(row, "last_error_at_ms")?,
        consecutive_failures: get::<Option<i64>>(row, "consecutive_failures")?.unwrap_or(0),
        last_poll_new: get(row, "last_poll_new")?,
        total_new: get::<Option<i64>>(row, "total_new")?.unwrap_or(0),
        last_new_at_ms: get(row, "last_new_at_ms")?,
        usual_gap_ms: get(row, "usual_gap_ms")?,
        silent: None,
    })
}
