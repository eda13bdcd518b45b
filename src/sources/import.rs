//! What the file imports (JSONL, CSV) and the push endpoint share: the documented shape of an
//! imported post, lenient time parsing, and a read position in a local file.
//!
//! The post shape (one JSON object per post) is
//! `{"platform":"x","id":"1","author":"@jo","text":"…","created_at":"2026-11-20T10:00:00Z"}`
//! with optional `author_name`, `followers`, `url`, `lang`, `likes`, `reposts`, `replies`,
//! `quotes`, `conversation_id`, `in_reply_to`, `quote_of` and `quoted_text`; unknown fields
//! are ignored. `platform` defaults to the source's `platform` setting.

use serde::Deserialize;

use crate::domain::{Engagement, Millis, Platform, Post, PostDraft};

/// One imported post, as JSON.
#[derive(Debug, Deserialize)]
struct ImportRecord {
    platform: Option<String>,
    id: IdValue,
    author: String,
    author_name: Option<String>,
    followers: Option<u64>,
    text: String,
    created_at: Timestamp,
    url: Option<String>,
    lang: Option<String>,
    #[serde(default)]
    likes: u64,
    #[serde(default)]
    reposts: u64,
    #[serde(default)]
    replies: u64,
    #[serde(default)]
    quotes: u64,
    conversation_id: Option<IdValue>,
    in_reply_to: Option<IdValue>,
    quote_of: Option<IdValue>,
    quoted_text: Option<String>,
}

/// Ids arrive as strings or numbers; both become text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum IdValue {
    Text(String),
    Number(u64),
}

impl IdValue {
    fn into_string(self) -> String {
        match self {
            IdValue::Text(text) => text,
            IdValue::Number(number) => number.to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Timestamp {
    Text(String),
    UnixSeconds(i64),
}

/// Parses one JSON object (as bytes) into a post, or says why it cannot be one.
pub fn parse_json_post(bytes: &[u8], default_platform: Platform) -> Result<Post, String> {
    let record: ImportRecord = serde_json::from_slice(bytes).map_err(|error| format!("invalid JSON: {error}"))?;
    record_to_post(record, default_platform)
}

/// Like `parse_json_post`, for a value already parsed.
pub fn json_value_to_post(value: serde_json::Value, default_platform: Platform) -> Result<Post, String> {
    let record: ImportRecord = serde_json::from_value(value).map_err(|error| format!("not a post: {error}"))?;
    record_to_post(record, default_platform)
}

fn record_to_post(record: ImportRecord, default_platform: Platform) -> Result<Post, String> {
    let platform = platform_or(record.platform.as_deref(), default_platform)?;
    let created_at = match record.created_at {
        Timestamp::Text(text) => parse_time(&text)?,
        Timestamp::UnixSeconds(seconds) => unix_seconds_to_millis(seconds)?,
    };
    let draft = PostDraft {
        external_id: record.id.into_string(),
        text: record.text,
        author_handle: record.author,
        author_name: record.author_name,
        author_followers: record.followers,
        created_at,
        url: record.url,
        lang: record.lang,
        engagement: Engagement {
            likes: record.likes,
            reposts: record.reposts,
            replies: record.replies,
            quotes: record.quotes,
        },
        conversation_id: record.conversation_id.map(IdValue::into_string),
        in_reply_to: record.in_reply_to.map(IdValue::into_string),
        quote_of: record.quote_of.map(IdValue::into_string),
        quoted_text: record.quoted_text,
    };
    Post::new(platform, draft).map_err(|error| error.to_string())
}

/// The named platform, or the default when none is named.
pub fn platform_or(name: Option<&str>, default_platform: Platform) -> Result<Platform, String> {
    match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => name.parse::<Platform>().map_err(|error| error.to_string()),
        None => Ok(default_platform),
    }
}

fn unix_seconds_to_millis(seconds: i64) -> Result<Millis, String> {
    seconds
        .checked_mul(1000)
        .ok_or_else(|| format!("created_at {seconds} is out of range"))
}

/// A time as Unix milliseconds. Accepts RFC 3339 (`2026-11-20T10:00:00+01:00`), Unix seconds
/// (`1795165200`), and, taken as UTC, `2026-11-20 10:00:00`, `2026-11-20T10:00:00` and
/// `2026-11-20`.
pub fn parse_time(text: &str) -> Result<Millis, String> {
    let text = text.trim();
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(at.timestamp_millis());
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        let seconds = text
            .parse::<i64>()
            .map_err(|_| format!("created_at {text:?} is out of range"))?;
        return unix_seconds_to_millis(seconds);
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(at) = chrono::NaiveDateTime::parse_from_str(text, format) {
            return Ok(at.and_utc().timestamp_millis());
        }
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis());
    }
    Err(format!(
        "created_at {text:?} is not RFC 3339, Unix seconds or YYYY-MM-DD[ HH:MM:SS]"
    ))
}

/// Where an import stopped in a local file: the byte offset and line number after the last
/// complete record read, and the file's inode (a replaced file is read from the start).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FilePosition {
    pub offset: u64,
    pub line: u64,
    pub inode: u64,
}

impl FilePosition {
    /// The position to read from in `file`: this one, or the start if the file was replaced
    /// or shrank.
    pub fn for_file(self, metadata: &std::fs::Metadata) -> FilePosition {
        let inode = inode_of(metadata);
        if inode != self.inode || metadata.len() < self.offset {
            FilePosition {
                offset: 0,
                line: 0,
                inode,
            }
        } else {
            self
        }
    }
}

#[cfg(unix)]
fn inode_of(metadata: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(metadata)
}

#[cfg(not(unix))]
fn inode_of(_metadata: &std::fs::Metadata) -> u64 {
    0
}

/// Serde default for flags that are on unless turned off.
pub(crate) fn default_true() -> bool {
    true
}

/// Checks a file import's `path` and its batch size setting (`batch_field`).
pub(crate) fn validate_file_import(path: &std::path::Path, batch: usize, batch_field: &str) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    if batch == 0 {
        problems.push((batch_field.to_owned(), "must be at least 1".to_owned()));
    }
    if path.as_os_str().is_empty() {
        problems.push(("path".to_owned(), "must not be empty".to_owned()));
    }
    problems
}

/// Runs blocking file work off the async threads, mapping a panic to an IO error.
pub async fn blocking_read<T: Send + 'static>(
    path: &std::path::Path,
    work: impl FnOnce() -> Result<T, super::SourceError> + Send + 'static,
) -> Result<T, super::SourceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|error| super::SourceError::Io {
            path: path.display().to_string(),
            source: std::io::Error::other(error),
        })?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_the_usual_export_formats_parse_as_utc() {
        let cases = [
            ("2026-11-20T10:00:00+01:00", 1_795_165_200_000),
            ("2026-11-20T09:00:00Z", 1_795_165_200_000),
            ("1795165200", 1_795_165_200_000),
            ("2026-11-20 09:00:00", 1_795_165_200_000),
            ("2026-11-20T09:00:00", 1_795_165_200_000),
            ("2026-11-20", 1_795_132_800_000),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_time(text), Ok(expected), "{text}");
        }
        assert!(parse_time("yesterday").unwrap_err().contains("not RFC 3339"));
    }
}
