//! Posts pushed to earshot (`POST /api/ingest/{source_id}`) for anything no connector covers:
//! the settings of a `type = "push"` source and the parsing of a request body.
//!
//! The body is a JSON array of posts, or NDJSON (one post per line), each in the shape
//! `import` documents (the JSONL import's). A body that is not valid JSON as a whole (array)
//! or line by line (NDJSON) is rejected, and nothing is stored; a well-formed item that is
//! not a valid post is quarantined and reported, and the others are stored. Push sources are
//! not polled: they have no schedule, and health shows when a push last arrived.

use super::import::{default_true, json_value_to_post};
use crate::domain::{Platform, Post, Quarantined};

/// Settings of a `type = "push"` source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushSettings {
    /// Platform for items that do not name one.
    #[serde(default = "default_platform")]
    pub platform: Platform,
    /// Largest request body accepted, in bytes; larger ones get 413.
    #[serde(default = "default_max_body_bytes")]
    pub max_body_bytes: usize,
    /// As for JSONL: false makes every pushed post that is not the brand's own or excluded a
    /// mention.
    #[serde(default = "default_true")]
    pub match_keywords: bool,
}

fn default_platform() -> Platform {
    Platform::Other
}
fn default_max_body_bytes() -> usize {
    4 * 1024 * 1024
}

/// The most `max_body_bytes` may be.
pub const MAX_BODY_BYTES_LIMIT: usize = 64 * 1024 * 1024;

impl PushSettings {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        if (1..=MAX_BODY_BYTES_LIMIT).contains(&self.max_body_bytes) {
            Vec::new()
        } else {
            vec![(
                "max_body_bytes".to_owned(),
                format!("must be between 1 and {MAX_BODY_BYTES_LIMIT}"),
            )]
        }
    }
}

/// One item of a pushed body: where it was, and the post or why it is not one.
#[derive(Debug, Clone)]
pub struct PushedItem {
    /// `item 3` (1-based, in an array) or `line 3` (NDJSON).
    pub location: String,
    pub outcome: Result<Post, Quarantined>,
}

/// Why a body was rejected as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("the body is empty: send a JSON array of posts or NDJSON")]
    Empty,
    #[error("the body is not a JSON array of posts: {0}")]
    Array(String),
    #[error("line {line} is not JSON: {reason}")]
    Line { line: usize, reason: String },
    #[error("the body is not UTF-8 JSON: send a JSON array of posts or NDJSON")]
    NotJson,
}

/// Splits a body into items: a JSON array, or NDJSON (a single object is one line of it).
pub fn parse_body(body: &[u8], default_platform: Platform) -> Result<Vec<PushedItem>, BodyError> {
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|idx| body[idx]) {
        None => Err(BodyError::Empty),
        Some(b'[') => {
            let values: Vec<serde_json::Value> =
                serde_json::from_slice(body).map_err(|error| BodyError::Array(error.to_string()))?;
            Ok(values
                .into_iter()
                .enumerate()
                .map(|(idx, value)| item(format!("item {}", idx + 1), value, default_platform))
                .collect())
        }
        Some(b'{') => {
            let text = std::str::from_utf8(body).map_err(|_| BodyError::NotJson)?;
            let mut items = Vec::new();
            for (idx, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let value: serde_json::Value = serde_json::from_str(line).map_err(|error| BodyError::Line {
                    line: idx + 1,
                    reason: error.to_string(),
                })?;
                items.push(item(format!("line {}", idx + 1), value, default_platform));
            }
            Ok(items)
        }
        Some(_) => Err(BodyError::NotJson),
    }
}

fn item(location: String, value: serde_json::Value, default_platform: Platform) -> PushedItem {
    let raw = value.to_string();
    let outcome = json_value_to_post(value, default_platform)
        .map_err(|reason| Quarantined::new(location.clone(), reason, raw.as_bytes()));
    PushedItem { location, outcome }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POST: &str = r#"{"id":"1","author":"@jo","text":"Acme Air lost my bag","created_at":"2026-11-20T10:00:00Z"}"#;

    #[test]
    fn arrays_and_ndjson_give_items_and_bad_items_are_kept_with_their_place() {
        let array = format!("[{POST}, {{\"id\":\"2\"}}]");
        let items = parse_body(array.as_bytes(), Platform::Other).unwrap();
        assert_eq!(items.len(), 2);
        assert!(items[0].outcome.is_ok());
        let bad = items[1].outcome.as_ref().unwrap_err();
        assert_eq!(bad.location, "item 2");
        assert!(bad.reason.contains("missing field"), "{}", bad.reason);

        let ndjson = format!("{POST}\n\n{}\n", POST.replace("\"1\"", "\"3\""));
        let items = parse_body(ndjson.as_bytes(), Platform::Other).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].location, "line 3");
    }

    #[test]
    fn bodies_that_are_not_json_are_rejected_whole() {
        assert_eq!(parse_body(b"  \n", Platform::Other).unwrap_err(), BodyError::Empty);
        assert!(matches!(
            parse_body(b"[{\"id\":", Platform::Other),
            Err(BodyError::Array(_))
        ));
        assert!(matches!(
            parse_body(format!("{POST}\n{{oops").as_bytes(), Platform::Other),
            Err(BodyError::Line { line: 2, .. })
        ));
        assert_eq!(parse_body(b"id,text", Platform::Other).unwrap_err(), BodyError::NotJson);
    }
}
