//! Import of mentions exported from elsewhere: a JSON Lines file, one post per line.
//!
//! Each line is one post in the shape `import` documents (the push endpoint takes the same).
//!
//! Cursor: the byte offset and line number after the last complete line read, plus the file's
//! inode. Only lines ending in a newline are read, so a file still being written is picked up
//! where it stopped. A file that shrank or was replaced is read again from the start; ingest is
//! idempotent, so nothing is doubled. A line that is not a valid post is quarantined with its
//! line number and the reason, and the rest of the file is ingested.

use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::PathBuf;

use async_trait::async_trait;

use super::import::{FilePosition, blocking_read};
use super::{Source, SourceError};
use crate::domain::{Batch, Cursor, Platform, Post, Quarantined, SourceId};

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
    /// Whether a post must contain a brand keyword or handle to count as a mention (true),
    /// or every post that is not the brand's own or excluded counts (false: for exports that
    /// are about the brand already).
    #[serde(default = "super::import::default_true")]
    pub match_keywords: bool,
}

fn default_platform() -> Platform {
    Platform::Other
}
fn default_batch_lines() -> usize {
    1_000
}

impl JsonlSettings {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        super::import::validate_file_import(&self.path, self.batch_lines, "batch_lines")
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

#[async_trait]
impl Source for JsonlSource {
    fn id(&self) -> &SourceId {
        &self.id
    }

    #[tracing::instrument(skip_all, fields(source = %self.id))]
    async fn poll(&self, cursor: Option<&Cursor>) -> Result<Batch, SourceError> {
        let position: FilePosition = super::cursor::decode(cursor)?;
        let settings = self.settings.clone();
        blocking_read(&self.settings.path, move || read_batch(&settings, position)).await
    }
}

fn read_batch(settings: &JsonlSettings, position: FilePosition) -> Result<Batch, SourceError> {
    let io_error = |source| SourceError::Io {
        path: settings.path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(&settings.path).map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    let mut position = position.for_file(&metadata);
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
        let mut content = trim_line(&line);
        // A file saved by Windows tools may start with a UTF-8 byte-order mark.
        if position.line == 1 {
            content = content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content);
        }
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
    batch.cursor = Some(super::cursor::encode(&position)?);
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

/// Parses one line into a post, or says why it cannot be one.
pub fn parse_line(line: &[u8], default_platform: Platform) -> Result<Post, String> {
    super::import::parse_json_post(line, default_platform)
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
    fn a_byte_order_mark_before_the_first_line_is_not_part_of_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("with-bom.jsonl");
        let line = |id: &str| format!(r#"{{"id":"{id}","author":"@jo","text":"acme","created_at":0}}"#);
        std::fs::write(&path, format!("\u{feff}{}\n{}\n", line("1"), line("2"))).unwrap();
        let settings = JsonlSettings {
            path,
            platform: Platform::Other,
            batch_lines: 10,
            match_keywords: true,
        };

        let batch = read_batch(&settings, FilePosition::default()).unwrap();

        assert!(batch.quarantined.is_empty(), "{:?}", batch.quarantined);
        let ids: Vec<&str> = batch.posts.iter().map(|p| p.external_id.as_str()).collect();
        assert_eq!(ids, ["1", "2"]);
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
