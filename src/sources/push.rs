//! Posts pushed to earshot (`POST /api/ingest/{source_id}`) for anything no connector covers:
//! the settings of a `type = "push"` source and the parsing of a request body.
//!
//! The body is a JSON array of posts, or NDJSON (one post per line), each in the shape
//! `import` documents (the JSONL import's). A body that is not valid JSON as a whole (array)
//! or line by line (NDJSON) is rejected, and nothing is stored; a well-formed item that is
//! not a valid post is quarantined and reported, and the others are stored. Push sources are
//! not polled: they have no schedule, and health shows when a push last arrived.
//!
//! A body may hold at most `max_items` items: an array is counted while it is parsed, so a
//! body of millions of tiny items is refused (413) before it is held in memory.

use std::cell::Cell;
use std::fmt;

use serde::de::{DeserializeSeed, Error as _, SeqAccess, Visitor};

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
    /// Most items in one request; more get 413 and nothing is stored.
    #[serde(default = "default_max_items")]
    pub max_items: usize,
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

fn default_max_items() -> usize {
    5_000
}

/// The most `max_items` may be.
pub const MAX_ITEMS_LIMIT: usize = 100_000;

/// The most `max_body_bytes` may be.
pub const MAX_BODY_BYTES_LIMIT: usize = 64 * 1024 * 1024;

impl PushSettings {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if !(1..=MAX_BODY_BYTES_LIMIT).contains(&self.max_body_bytes) {
            problems.push((
                "max_body_bytes".to_owned(),
                format!("must be between 1 and {MAX_BODY_BYTES_LIMIT}"),
            ));
        }
        if !(1..=MAX_ITEMS_LIMIT).contains(&self.max_items) {
            problems.push((
                "max_items".to_owned(),
                format!("must be between 1 and {MAX_ITEMS_LIMIT}"),
            ));
        }
        problems
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
    #[error("the body holds more than {max} items: send at most {max} per request")]
    TooManyItems { max: usize },
}

/// Reads a JSON array into values, failing at the first item past `max` (and noting so in
/// `exceeded`) instead of holding the rest.
struct BoundedArray<'a> {
    max: usize,
    exceeded: &'a Cell<bool>,
}

impl<'de> DeserializeSeed<'de> for BoundedArray<'_> {
    type Value = Vec<serde_json::Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for BoundedArray<'_> {
    type Value = Vec<serde_json::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a JSON array of at most {} posts", self.max)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut values = Vec::new();
        while let Some(value) = seq.next_element::<serde_json::Value>()? {
            if values.len() == self.max {
                self.exceeded.set(true);
                return Err(A::Error::custom("too many items"));
            }
            values.push(value);
        }
        Ok(values)
    }
}

/// Splits a body into items: a JSON array, or NDJSON (a single object is one line of it); at
/// most `max_items` of them. A UTF-8 byte-order mark at the start is ignored.
pub fn parse_body(body: &[u8], default_platform: Platform, max_items: usize) -> Result<Vec<PushedItem>, BodyError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    let start = body.iter().position(|b| !b.is_ascii_whitespace());
    match start.map(|idx| body[idx]) {
        None => Err(BodyError::Empty),
        Some(b'[') => {
            let exceeded = Cell::new(false);
            let mut deserializer = serde_json::Deserializer::from_slice(body);
            let values = BoundedArray {
                max: max_items,
                exceeded: &exceeded,
            }
            .deserialize(&mut deserializer)
            .and_then(|values| deserializer.end().map(|()| values));
            let values = match values {
                Ok(values) => values,
                Err(_) if exceeded.get() => return Err(BodyError::TooManyItems { max: max_items }),
                Err(error) => return Err(BodyError::Array(error.to_string())),
            };
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
                if items.len() == max_items {
                    return Err(BodyError::TooManyItems { max: max_items });
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
        let items = parse_body(array.as_bytes(), Platform::Other, 10).unwrap();
        assert_eq!(items.len(), 2);
        assert!(items[0].outcome.is_ok());
        let bad = items[1].outcome.as_ref().unwrap_err();
        assert_eq!(bad.location, "item 2");
        assert!(bad.reason.contains("missing field"), "{}", bad.reason);

        let ndjson = format!("{POST}\n\n{}\n", POST.replace("\"1\"", "\"3\""));
        let items = parse_body(ndjson.as_bytes(), Platform::Other, 10).unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].location, "line 3");
    }

    #[test]
    fn bodies_that_are_not_json_are_rejected_whole() {
        assert_eq!(parse_body(b"  \n", Platform::Other, 10).unwrap_err(), BodyError::Empty);
        assert!(matches!(
            parse_body(b"[{\"id\":", Platform::Other, 10),
            Err(BodyError::Array(_))
        ));
        assert!(matches!(
            parse_body(format!("{POST}\n{{oops").as_bytes(), Platform::Other, 10),
            Err(BodyError::Line { line: 2, .. })
        ));
        assert_eq!(
            parse_body(b"id,text", Platform::Other, 10).unwrap_err(),
            BodyError::NotJson
        );
    }

    #[test]
    fn item_counts_are_bounded_while_parsing_and_a_byte_order_mark_is_ignored() {
        let tiny = format!("[{}]", vec!["{}"; 2_000_000].join(","));
        assert_eq!(
            parse_body(tiny.as_bytes(), Platform::Other, 5_000).unwrap_err(),
            BodyError::TooManyItems { max: 5_000 }
        );
        let three = format!("[{POST},{POST},{POST}]");
        assert_eq!(parse_body(three.as_bytes(), Platform::Other, 3).unwrap().len(), 3);
        assert_eq!(
            parse_body(three.as_bytes(), Platform::Other, 2).unwrap_err(),
            BodyError::TooManyItems { max: 2 }
        );
        let ndjson = format!("{POST}\n{POST}\n{POST}\n");
        assert_eq!(
            parse_body(ndjson.as_bytes(), Platform::Other, 2).unwrap_err(),
            BodyError::TooManyItems { max: 2 }
        );
        let with_bom = format!("\u{feff}{POST}\n");
        assert_eq!(parse_body(with_bom.as_bytes(), Platform::Other, 2).unwrap().len(), 1);
    }
}
