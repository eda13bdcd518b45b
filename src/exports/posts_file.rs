//! The posts file in each export format behind one trait, so the exporter streams rows into
//! whichever format the request names: CSV (`csv::PostsCsv`), JSON Lines (here) and Parquet
//! (`parquet::PostsParquet`).

use std::fs::File;
use std::io::{BufWriter, Write};

use chrono_tz::Tz;

use super::{ExportError, ExportFormat, format_utc, sla_met};
use crate::domain::Millis;
use crate::store::ExportRow;

/// Rows in, one at a time; then the finished file.
pub(super) trait PostsFile: Send {
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError>;
    /// Writes whatever is buffered (a footer, the last row group) and flushes the file.
    fn finish(self: Box<Self>) -> Result<(), ExportError>;
}

/// The writer for `format` over `out`; `now` decides whether open tasks met their SLA yet.
pub(super) fn for_format(
    format: ExportFormat,
    out: BufWriter<File>,
    tz: Tz,
    now: Millis,
) -> Result<Box<dyn PostsFile>, ExportError> {
    Ok(match format {
        ExportFormat::Csv => Box::new(super::csv::PostsCsv::new(out, tz, now)?),
        ExportFormat::Json => Box::new(PostsJsonLines { out, now }),
        ExportFormat::Parquet => Box::new(super::parquet::PostsParquet::new(out, tz, now)?),
    })
}

impl PostsFile for super::csv::PostsCsv<BufWriter<File>> {
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        super::csv::PostsCsv::write(self, row)
    }
    fn finish(self: Box<Self>) -> Result<(), ExportError> {
        super::csv::PostsCsv::finish(*self)?.flush().map_err(ExportError::Write)
    }
}

impl PostsFile for super::parquet::PostsParquet<BufWriter<File>> {
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        super::parquet::PostsParquet::write(self, row)
    }
    fn finish(self: Box<Self>) -> Result<(), ExportError> {
        super::parquet::PostsParquet::finish(*self)?
            .flush()
            .map_err(ExportError::Write)
    }
}

/// JSON Lines: one object per post, with the UTC time spelled out and whether the SLA was met.
struct PostsJsonLines {
    out: BufWriter<File>,
    now: Millis,
}

/// A row as the JSON Lines file carries it.
#[derive(serde::Serialize)]
struct JsonRow<'a> {
    #[serde(flatten)]
    row: &'a ExportRow,
    created_at: String,
    sla_met: Option<bool>,
}

impl PostsFile for PostsJsonLines {
    fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        let line = JsonRow {
            row,
            created_at: format_utc(row.created_at_ms),
            sla_met: sla_met(row, self.now),
        };
        serde_json::to_writer(&mut self.out, &line)?;
        self.out.write_all(b"\n").map_err(ExportError::Write)
    }
    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.out.flush().map_err(ExportError::Write)
    }
}
