//! Import of mentions from a CSV file with a header row (reviews, forum or e-mail exports).
//!
//! The header names the columns; which column holds what is configurable (`[sources.columns]`),
//! matched without regard to case or surrounding spaces. Required: `id`, `text`, `author`,
//! `created_at` (RFC 3339, Unix seconds, or `YYYY-MM-DD[ HH:MM:SS]` taken as UTC). Optional,
//! used when the header has them: `url`, `platform`, `lang`, `author_name`, `title` (put in
//! front of the text). UTF-8, with or without a byte-order mark; the delimiter is configurable.
//!
//! Cursor: like the JSONL import, the byte offset and line number after the last complete
//! record read, plus the file's inode. The header is read again on every poll; a record not
//! yet ended by a newline is left for the next poll, so a file being appended to is picked up
//! where it stopped, and re-running on the same file adds nothing. A bad row (wrong number of
//! fields, invalid UTF-8, missing id or text, unreadable time) is quarantined with its line
//! number, the reason and the row's raw text; the rest of the file is ingested.

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::PathBuf;

use async_trait::async_trait;

use super::import::{FilePosition, blocking_read, default_true, parse_time, platform_or};
use super::{Source, SourceError};
use crate::domain::{Batch, Cursor, Platform, Post, PostDraft, Quarantined, SourceId};

/// Settings of a `type = "csv"` source.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvSettings {
    pub path: PathBuf,
    /// Platform for rows without a `platform` column value.
    #[serde(default = "default_platform")]
    pub platform: Platform,
    /// Header names of the columns, where they differ from the defaults.
    #[serde(default)]
    pub columns: CsvColumns,
    /// Field delimiter, one ASCII character.
    #[serde(default = "default_delimiter")]
    pub delimiter: char,
    /// Most rows read in one batch; the pipeline commits and asks for more.
    #[serde(default = "default_batch_rows")]
    pub batch_rows: usize,
    /// As for JSONL: false makes every row that is not the brand's own or excluded a mention.
    #[serde(default = "default_true")]
    pub match_keywords: bool,
}

/// Which header names hold which field. Unset optional columns are used when the header has
/// a column of the default name; a name set here must be in the header.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CsvColumns {
    pub id: Option<String>,
    pub text: Option<String>,
    pub author: Option<String>,
    pub created_at: Option<String>,
    pub url: Option<String>,
    pub platform: Option<String>,
    pub lang: Option<String>,
    pub author_name: Option<String>,
    pub title: Option<String>,
}

fn default_platform() -> Platform {
    Platform::Other
}
fn default_delimiter() -> char {
    ','
}
fn default_batch_rows() -> usize {
    1_000
}

impl CsvSettings {
    pub(crate) fn validate(&self) -> Vec<(String, String)> {
        let mut problems = super::import::validate_file_import(&self.path, self.batch_rows, "batch_rows");
        if !self.delimiter.is_ascii() || matches!(self.delimiter, '"' | '\n' | '\r') {
            problems.push((
                "delimiter".to_owned(),
                "must be one ASCII character other than a quote or newline".to_owned(),
            ));
        }
        problems
    }
}

/// Reads a CSV file incrementally.
pub struct CsvSource {
    id: SourceId,
    settings: CsvSettings,
}

impl CsvSource {
    pub fn new(id: SourceId, settings: CsvSettings) -> CsvSource {
        CsvSource { id, settings }
    }
}

#[async_trait]
impl Source for CsvSource {
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

/// Column indexes in the header, for each field.
struct Layout {
    n_fields: usize,
    id: usize,
    text: usize,
    author: usize,
    created_at: usize,
    url: Option<usize>,
    platform: Option<usize>,
    lang: Option<usize>,
    author_name: Option<usize>,
    title: Option<usize>,
}

impl Layout {
    fn from_header(header: &csv::StringRecord, columns: &CsvColumns) -> Result<Layout, String> {
        let find = |name: &str| header.iter().position(|h| h.trim().eq_ignore_ascii_case(name.trim()));
        let required = |set: &Option<String>, default: &str| {
            let name = set.as_deref().unwrap_or(default);
            find(name).ok_or_else(|| format!("the header has no column {name:?} (for {default})"))
        };
        let optional = |set: &Option<String>, default: &str| match set {
            Some(name) => find(name)
                .map(Some)
                .ok_or_else(|| format!("the header has no column {name:?} (for {default})")),
            None => Ok(find(default)),
        };
        Ok(Layout {
            n_fields: header.len(),
            id: required(&columns.id, "id")?,
            text: required(&columns.text, "text")?,
            author: required(&columns.author, "author")?,
            created_at: required(&columns.created_at, "created_at")?,
            url: optional(&columns.url, "url")?,
            platform: optional(&columns.platform, "platform")?,
            lang: optional(&columns.lang, "lang")?,
            author_name: optional(&columns.author_name, "author_name")?,
            title: optional(&columns.title, "title")?,
        })
    }

    fn to_post(&self, row: &csv::StringRecord, default_platform: Platform) -> Result<Post, String> {
        if row.len() != self.n_fields {
            return Err(format!(
                "row has {} fields, the header has {}",
                row.len(),
                self.n_fields
            ));
        }
        let field = |idx: usize| row.get(idx).unwrap_or("").trim();
        let optional = |idx: Option<usize>| idx.map(field).filter(|v| !v.is_empty()).map(str::to_owned);
        let body = row.get(self.text).unwrap_or("");
        let text = match optional(self.title) {
            Some(title) if !body.trim().is_empty() => format!("{title}\n\n{body}"),
            Some(title) => title,
            None => body.to_owned(),
        };
        let draft = PostDraft {
            external_id: field(self.id).to_owned(),
            text,
            author_handle: field(self.author).to_owned(),
            author_name: optional(self.author_name),
            author_followers: None,
            created_at: parse_time(field(self.created_at))?,
            url: optional(self.url),
            lang: optional(self.lang),
            engagement: Default::default(),
            conversation_id: None,
            in_reply_to: None,
            quote_of: None,
            quoted_text: None,
        };
        let platform = platform_or(self.platform.map(field), default_platform)?;
        Post::new(platform, draft).map_err(|error| error.to_string())
    }
}

fn read_batch(settings: &CsvSettings, position: FilePosition) -> Result<Batch, SourceError> {
    let io_error = |source| SourceError::Io {
        path: settings.path.display().to_string(),
        source,
    };
    let csv_error = |error: csv::Error| io_error(std::io::Error::other(error));
    let mut file = std::fs::File::open(&settings.path).map_err(io_error)?;
    let metadata = file.metadata().map_err(io_error)?;
    let mut position = position.for_file(&metadata);
    // Only whole lines are read: a last record without its newline is still being written.
    let complete_len = complete_length(&mut file, metadata.len()).map_err(io_error)?;

    let mut builder = csv::ReaderBuilder::new();
    builder
        .delimiter(settings.delimiter as u8)
        .has_headers(false)
        .flexible(true);
    (&file).seek(SeekFrom::Start(0)).map_err(io_error)?;
    let mut header_reader = builder.from_reader(BufReader::new((&file).take(complete_len)));
    let mut header = csv::ByteRecord::new();
    if !header_reader.read_byte_record(&mut header).map_err(csv_error)? {
        // Empty, or the header line is not complete yet.
        return Ok(Batch::default());
    }
    let header_end = header_reader.position().byte();
    let header = csv::StringRecord::from_byte_record(header).map_err(|error| SourceError::Malformed {
        reason: format!("the header row is not valid UTF-8: {error}"),
        raw: Vec::new(),
    })?;
    let layout = Layout::from_header(&header, &settings.columns).map_err(|reason| SourceError::Malformed {
        reason,
        raw: header
            .iter()
            .collect::<Vec<_>>()
            .join(&settings.delimiter.to_string())
            .into_bytes(),
    })?;
    if position.offset < header_end {
        position.offset = header_end;
        position.line = header_reader.position().line().saturating_sub(1);
    }

    drop(header_reader);
    let start = position.offset;
    (&file).seek(SeekFrom::Start(start)).map_err(io_error)?;
    let mut reader = builder.from_reader(BufReader::new((&file).take(complete_len.saturating_sub(start))));
    let mut batch = Batch::default();
    let mut record = csv::ByteRecord::new();
    let mut n_rows = 0;
    while n_rows < settings.batch_rows {
        let row_start = reader.position().clone();
        if !reader.read_byte_record(&mut record).map_err(csv_error)? {
            break;
        }
        n_rows += 1;
        let row_end = reader.position().byte();
        let line = position.line + row_start.line();
        let parsed = csv::StringRecord::from_byte_record(record.clone())
            .map_err(|error| format!("not valid UTF-8: {error}"))
            .and_then(|row| layout.to_post(&row, settings.platform));
        match parsed {
            Ok(post) => batch.posts.push(post),
            Err(reason) => {
                let raw = raw_bytes(&settings.path, start + row_start.byte(), start + row_end).map_err(io_error)?;
                batch
                    .quarantined
                    .push(Quarantined::new(format!("line {line}"), reason, trim_newline(&raw)));
            }
        }
    }
    let consumed = reader.position();
    let end = FilePosition {
        offset: start + consumed.byte(),
        line: position.line + consumed.line().saturating_sub(1),
        inode: position.inode,
    };
    batch.has_more = n_rows == settings.batch_rows && end.offset < complete_len;
    batch.cursor = Some(super::cursor::encode(&end)?);
    Ok(batch)
}

/// The length of the file up to and including its last newline.
fn complete_length(file: &mut std::fs::File, len: u64) -> std::io::Result<u64> {
    const CHUNK: u64 = 64 * 1024;
    let mut end = len;
    let mut buffer = vec![0u8; CHUNK as usize];
    while end > 0 {
        let begin = end.saturating_sub(CHUNK);
        let size = (end - begin) as usize;
        file.seek(SeekFrom::Start(begin))?;
        file.read_exact(&mut buffer[..size])?;
        if let Some(idx) = buffer[..size].iter().rposition(|b| *b == b'\n') {
            return Ok(begin + idx as u64 + 1);
        }
        end = begin;
    }
    Ok(0)
}

/// Most bytes of a bad row kept in quarantine.
const MAX_RAW_BYTES: u64 = 64 * 1024;

/// The bytes of a row, read again from the file for quarantine.
fn raw_bytes(path: &std::path::Path, from: u64, to: u64) -> std::io::Result<Vec<u8>> {
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(from))?;
    let len = to.saturating_sub(from).min(MAX_RAW_BYTES);
    let mut raw = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut raw)?;
    Ok(raw)
}

fn trim_newline(raw: &[u8]) -> &[u8] {
    let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
    raw.strip_suffix(b"\r").unwrap_or(raw)
}
