//! Import of mentions exported from elsewhere: a JSON Lines file, one post per line.
//!
//! Each line is an object such as
//! `{"platform":"x","id":"1","author":"@jo","text":"…","created_at":"2026-11-20T10:00:00Z"}`
//! with optional `author_name`, `followers`, `url`, `lang`, `likes`, `reposts`, `replies`,
//! `quotes`, `conversation_id` and `in_reply_to`; unknown fields are ignored. `created_at` is
//! RFC 3339 or Unix seconds; `platform` defaults to the source's `platform` setting.
//!
//! Cursor: the byte offset and line number after the last complete line read, plus the file's
//! inode. Only lines ending in a newline are read, so a file still being written is picked up
//! where it stopped. A file that shrank or was replaced is read again from the start; ingest is
//! idempotent, so nothing is doubled. A line that is not a valid post is quarantined with its
//! line number and the reason, and the rest of the file is ingested.

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::PathBuf;

use async_trait::async_trait;
use serde::Deserialize;

use super::{Source, SourceError};
use crate::domain::{Batch, Cursor, Engagement, Platform, Post, PostDraft, Quarantined, SourceId};

/// Settings of a `type = "jsonl"` source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JsonlSettings {
    pub path: PathBuf,
    /// Platform for lines that do not name one.
    #[serde(default = "default_platform")]
    pub platform: Platform,
    /// Most lines read in one batch; the pipeline commits and asks for more.
    #[serde(default = "default_batch_lines")]
    pub batch_lines: usize,
}

fn default_platform() -> Platform {
    Platform::Other
}
fn default_batch_lines() -> usize {
    1_000
}

impl JsonlSettings {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems = Vec::new();
        if self.batch_lines == 0 {
            problems.push(("batch_lines".to_owned(), "must be at least 1".to_owned()));
        }
        if self.path.as_os_str().is_empty() {
            problems.push(("path".to_owned(), "must not be empty".to_owned()));
        }
        problems
    }
}

/// Reads a JSON Lines file incrementally.
pub struct JsonlSource {
    id: SourceId,
    settings: JsonlSettings,
}

impl JsonlSource {
    pub fn new(id: SourceId, settings: JsonlSettings) -> JsonlSource {
        JsonlSource { id, settings }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct Position {
    offset: u64,
    line: u64,
    inode: u64,
}

#[async_trait]
impl Source for JsonlSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    #[tracing::instrument(skip_all, fields(source = %self.id))]
    async fn poll(&self, cursor: Option<&Cursor>) -> Result<Batch, SourceError> {
        // A cursor we cannot read (written by an older version) restarts the file: safe,
        // because ingest is idempotent.
        let position = cursor
            .and_then(|c| serde_json::from_str::<Position>(&c.0).ok())
            .unwrap_or_default();
        let settings = self.settings.clone();
        tokio::task::spawn_blocking(move || read_batch(&settings, position))
            .await
            .map_err(|error| SourceError::Io {
                path: self.settings.path.display().to_string(),
                source: std::io::Error::other(error),
            })?
    }
}

fn read_batch(settings: &JsonlSettings, mut position: Position) -> Result<Batch, SourceError> {
    let io_error = |source| SourceError::Io {
        path: settings.path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(&settings.path).map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    let inode = inode_of(&metadata);
    if inode != position.inode || metadata.len() < position.offset {
        position = Position {
            offset: 0,
            line: 0,
            inode,
        };
    }
    let mut reader = BufReader::new(file);
    reader.seek(SeekFrom::Start(position.offset)).map_err(io_error)?;

    let mut batch = Batch::default();
    let mut line = Vec::new();
    let mut n_lines = 0;
    loop {
        if n_lines == settings.batch_lines {
            batch.has_more = reader_has_complete_line(&mut reader).map_err(io_error)?;
            break;
        }
        line.clear();
        let n_read = reader.read_until(b'\n', &mut line).map_err(io_error)?;
        if n_read == 0 || line.last() != Some(&b'\n') {
            // End of file, or a last line still being written: leave it for the next poll.
            break;
        }
        n_lines += 1;
        position.offset += n_read as u64;
        position.line += 1;
        let content = trim_line(&line);
        if content.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(content, settings.platform) {
            Ok(post) => batch.posts.push(post),
            Err(reason) => batch
                .quarantined
                .push(Quarantined::new(format!("line {}", position.line), reason, content)),
        }
    }
    let encoded = serde_json::to_string(&position).expect("a struct of integers always serialises");
    batch.cursor = Some(Cursor(encoded));
    Ok(batch)
}

/// Whether the rest of the file holds a newline, read without consuming the reader's position.
fn reader_has_complete_line(reader: &mut BufReader<std::fs::File>) -> std::io::Result<bool> {
    let start = reader.stream_position()?;
    let mut rest = Vec::new();
    let n_read = reader.read_until(b'\n', &mut rest)?;
    reader.seek(SeekFrom::Start(start))?;
    Ok(n_read > 0 && rest.last() == Some(&b'\n'))
}

fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(unix)]
fn inode_of(metadata: &std::fs::Metadata) -> u64 {
    std::os::unix::fs::MetadataExt::ino(metadata)
}

#[cfg(not(unix))]
fn inode_of(_metadata: &std::fs::Metadata) -> u64 {
    0
}

/// One line of an import file.
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

/// Parses one line into a post, or says why it cannot be one.
pub fn parse_line(line: &[u8], default_platform: Platform) -> Result<Post, String> {
    let record: ImportRecord = serde_json::from_slice(line).map_err(|error| format!("invalid JSON: {error}"))?;
    let platform = match record.platform {
        Some(name) => name.parse::<Platform>().map_err(|error| error.to_string())?,
        None => default_platform,
    };
    let created_at = match record.created_at {
        Timestamp::Text(text) => chrono::DateTime::parse_from_rfc3339(&text)
            .map_err(|error| format!("created_at {text:?} is not RFC 3339: {error}"))?
            .timestamp_millis(),
        Timestamp::UnixSeconds(seconds) => seconds
            .checked_mul(1000)
            .ok_or_else(|| format!("created_at {seconds} is out of range"))?,
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
    };
    Post::new(platform, draft).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_line_maps_every_field() {
        let line = br#"{"platform":"bluesky","id":42,"author":"@jo","author_name":"Jo","followers":900,"text":"My order never arrived","created_at":"2026-11-20T10:00:00+01:00","url":"https://bsky.app/profile/jo/post/42","lang":"EN","likes":3,"reposts":1,"replies":2,"quotes":0,"conversation_id":"c1","extra":"ignored"}"#;

        let post = parse_line(line, Platform::Other).unwrap();

        assert_eq!(post.platform, Platform::Bluesky);
        assert_eq!(post.external_id, "42");
        assert_eq!(post.author_followers, Some(900));
        assert_eq!(post.created_at, 1_795_165_200_000, "10:00 at +01:00 is 09:00 UTC");
        assert_eq!(post.lang.as_deref(), Some("en"));
        assert_eq!(post.engagement.total(), 6);
        assert_eq!(post.conversation_id.as_deref(), Some("c1"));
    }

    #[test]
    fn bad_lines_say_why() {
        let cases: [(&[u8], &str); 4] = [
            (b"{not json", "invalid JSON"),
            (br#"{"id":"1","author":"a","text":"t"}"#, "missing field `created_at`"),
            (
                br#"{"id":"1","author":"a","text":"t","created_at":"yesterday"}"#,
                "not RFC 3339",
            ),
            (
                br#"{"platform":"myspace","id":"1","author":"a","text":"t","created_at":0}"#,
                "unknown platform",
            ),
        ];
        for (line, expected) in cases {
            let reason = parse_line(line, Platform::Other).unwrap_err();
            assert!(reason.contains(expected), "{reason:?} should contain {expected:?}");
        }
    }
}
