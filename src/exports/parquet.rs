//! The analyst files as Apache Parquet: posts and the daily summary table, typed.
//!
//! Same column names as the CSV files, with Parquet types instead of text: ids and counts
//! are INT64, probabilities FLOAT, rates and minutes DOUBLE, `sla_met` BOOLEAN, and every
//! time a millisecond TIMESTAMP: `created_at_utc` is adjusted to UTC, the `…_local` columns
//! are wall-clock times in the export's zone (`isAdjustedToUTC = false`, what Parquet calls
//! a local timestamp). Anything the CSV leaves empty is a null here. Text is stored
//! verbatim (no formula neutralisation: Parquet is not opened by spreadsheets as text).
//!
//! Rows are buffered per column and written as a row group every `ROW_GROUP_ROWS`, so memory
//! is bounded by one row group whatever the week's size. Snappy-compressed.

use std::io::Write;
use std::sync::Arc;

use chrono_tz::Tz;
use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, FloatType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::summary::Summary;
use super::{ExportError, sla_met};
use crate::domain::{Millis, TaskId};
use crate::store::ExportRow;

/// Rows per row group (and the most rows held in memory).
pub const ROW_GROUP_ROWS: usize = 20_000;

/// The posts file's schema; the column order is `csv::POST_COLUMNS`.
pub const POSTS_SCHEMA: &str = "
message earshot_posts {
  REQUIRED INT64 mention_id;
  REQUIRED INT64 created_at_local (TIMESTAMP(MILLIS,false));
  REQUIRED INT64 created_at_utc (TIMESTAMP(MILLIS,true));
  REQUIRED BYTE_ARRAY brand (STRING);
  REQUIRED BYTE_ARRAY platform (STRING);
  REQUIRED BYTE_ARRAY author (STRING);
  REQUIRED BYTE_ARRAY text (STRING);
  OPTIONAL BYTE_ARRAY permalink (STRING);
  OPTIONAL BYTE_ARRAY sentiment (STRING);
  OPTIONAL FLOAT p_negative;
  OPTIONAL FLOAT p_neutral;
  OPTIONAL FLOAT p_positive;
  OPTIONAL FLOAT criticality;
  OPTIONAL INT64 task_id;
  OPTIONAL BYTE_ARRAY task_status (STRING);
  OPTIONAL INT64 task_opened_at_local (TIMESTAMP(MILLIS,false));
  OPTIONAL INT64 first_response_at_local (TIMESTAMP(MILLIS,false));
  OPTIONAL DOUBLE first_response_minutes;
  OPTIONAL INT64 resolved_at_local (TIMESTAMP(MILLIS,false));
  OPTIONAL INT64 due_at_local (TIMESTAMP(MILLIS,false));
  OPTIONAL BOOLEAN sla_met;
}";

/// The daily summary table's schema; the column order is `csv::SUMMARY_COLUMNS`.
/// `period` is the local date (`2026-11-16`) or, for the week row, the week (`2026-W47`).
pub const SUMMARY_SCHEMA: &str = "
message earshot_daily {
  REQUIRED BYTE_ARRAY brand (STRING);
  REQUIRED BYTE_ARRAY period (STRING);
  REQUIRED INT64 mentions;
  REQUIRED INT64 negative;
  REQUIRED INT64 neutral;
  REQUIRED INT64 positive;
  REQUIRED INT64 unscored;
  OPTIONAL DOUBLE negative_share;
  OPTIONAL DOUBLE mean_criticality;
  REQUIRED INT64 tasks_opened;
  REQUIRED INT64 tasks_resolved;
  REQUIRED INT64 tasks_dismissed;
  OPTIONAL DOUBLE median_first_response_minutes;
  OPTIONAL DOUBLE p90_first_response_minutes;
  OPTIONAL DOUBLE sla_breach_rate;
  OPTIONAL INT64 recovered_customers;
  REQUIRED BYTE_ARRAY top_complaint_terms (STRING);
  OPTIONAL DOUBLE mentions_change_vs_previous_week;
  OPTIONAL DOUBLE negative_share_change_vs_previous_week;
}";

/// One column's values of the current row group, with definition levels when nullable.
enum Values {
    Int64(Vec<i64>),
    Float(Vec<f32>),
    Double(Vec<f64>),
    Bool(Vec<bool>),
    Text(Vec<ByteArray>),
}

struct ColumnBuffer {
    values: Values,
    /// `Some` for OPTIONAL columns: 1 where a value is present, 0 for null.
    defs: Option<Vec<i16>>,
}

impl ColumnBuffer {
    fn clear(&mut self) {
        match &mut self.values {
            Values::Int64(v) => v.clear(),
            Values::Float(v) => v.clear(),
            Values::Double(v) => v.clear(),
            Values::Bool(v) => v.clear(),
            Values::Text(v) => v.clear(),
        }
        if let Some(defs) = &mut self.defs {
            defs.clear();
        }
    }

    fn mark(&mut self, present: bool) {
        if let Some(defs) = &mut self.defs {
            defs.push(i16::from(present));
        }
    }
}

/// Appends a present value; false for a null.
fn push<T>(values: &mut Vec<T>, value: Option<T>) -> bool {
    match value {
        Some(value) => {
            values.push(value);
            true
        }
        None => false,
    }
}

/// A value for one cell; `None` is a null.
pub(crate) enum Cell<'a> {
    Int64(Option<i64>),
    Float(Option<f32>),
    Double(Option<f64>),
    Bool(Option<bool>),
    Text(Option<&'a str>),
}

/// A Parquet file written a row group at a time from buffered rows.
pub(crate) struct ParquetTable<W: Write + Send> {
    writer: SerializedFileWriter<W>,
    columns: Vec<ColumnBuffer>,
    n_buffered: usize,
}

impl<W: Write + Send> ParquetTable<W> {
    pub(crate) fn new(out: W, schema: &str) -> Result<ParquetTable<W>, ExportError> {
        let schema = Arc::new(parse_message_type(schema)?);
        let columns = schema
            .get_fields()
            .iter()
            .map(|field| {
                let info = field.get_basic_info();
                let values = match field.get_physical_type() {
                    parquet::basic::Type::INT64 => Values::Int64(Vec::new()),
                    parquet::basic::Type::FLOAT => Values::Float(Vec::new()),
                    parquet::basic::Type::DOUBLE => Values::Double(Vec::new()),
                    parquet::basic::Type::BOOLEAN => Values::Bool(Vec::new()),
                    _ => Values::Text(Vec::new()),
                };
                let optional = info.repetition() == parquet::basic::Repetition::OPTIONAL;
                ColumnBuffer {
                    values,
                    defs: optional.then(Vec::new),
                }
            })
            .collect();
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("earshot {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = SerializedFileWriter::new(out, schema, Arc::new(properties))?;
        Ok(ParquetTable {
            writer,
            columns,
            n_buffered: 0,
        })
    }

    /// Buffers one row (cells in schema order) and writes a row group when it is full.
    pub(crate) fn push(&mut self, cells: &[Cell<'_>]) -> Result<(), ExportError> {
        if cells.len() != self.columns.len() {
            return Err(ExportError::Schema(format!(
                "{} cells for {} columns",
                cells.len(),
                self.columns.len()
            )));
        }
        for (column, cell) in self.columns.iter_mut().zip(cells) {
            let present = match (&mut column.values, cell) {
                (Values::Int64(v), Cell::Int64(x)) => push(v, *x),
                (Values::Float(v), Cell::Float(x)) => push(v, *x),
                (Values::Double(v), Cell::Double(x)) => push(v, *x),
                (Values::Bool(v), Cell::Bool(x)) => push(v, *x),
                (Values::Text(v), Cell::Text(x)) => push(v, x.map(ByteArray::from)),
                _ => return Err(ExportError::Schema("a cell does not match its column's type".into())),
            };
            if !present && column.defs.is_none() {
                return Err(ExportError::Schema("a null in a required column".into()));
            }
            column.mark(present);
        }
        self.n_buffered += 1;
        if self.n_buffered >= ROW_GROUP_ROWS {
            self.flush_row_group()?;
        }
        Ok(())
    }

    fn flush_row_group(&mut self) -> Result<(), ExportError> {
        if self.n_buffered == 0 {
            return Ok(());
        }
        let mut row_group = self.writer.next_row_group()?;
        for column in &mut self.columns {
            let Some(mut writer) = row_group.next_column()? else {
                return Err(ExportError::Schema("fewer column writers than columns".into()));
            };
            let defs = column.defs.as_deref();
            match &column.values {
                Values::Int64(v) => writer.typed::<Int64Type>().write_batch(v, defs, None)?,
                Values::Float(v) => writer.typed::<FloatType>().write_batch(v, defs, None)?,
                Values::Double(v) => writer.typed::<DoubleType>().write_batch(v, defs, None)?,
                Values::Bool(v) => writer.typed::<BoolType>().write_batch(v, defs, None)?,
                Values::Text(v) => writer.typed::<ByteArrayType>().write_batch(v, defs, None)?,
            };
            writer.close()?;
            column.clear();
        }
        row_group.close()?;
        self.n_buffered = 0;
        Ok(())
    }

    /// Writes the last row group and the footer; returns the output.
    pub(crate) fn finish(mut self) -> Result<W, ExportError> {
        self.flush_row_group()?;
        Ok(self.writer.into_inner()?)
    }
}

/// Milliseconds of the wall-clock time at `at` in `tz`, as if that wall clock were UTC:
/// the value of a Parquet local timestamp.
pub fn local_millis(at: Millis, tz: Tz) -> Option<Millis> {
    chrono::DateTime::from_timestamp_millis(at).map(|t| t.with_timezone(&tz).naive_local().and_utc().timestamp_millis())
}

/// Streams post rows to Parquet.
pub struct PostsParquet<W: Write + Send> {
    table: ParquetTable<W>,
    tz: Tz,
    now: Millis,
}

impl<W: Write + Send> PostsParquet<W> {
    pub fn new(out: W, tz: Tz, now: Millis) -> Result<PostsParquet<W>, ExportError> {
        Ok(PostsParquet {
            table: ParquetTable::new(out, POSTS_SCHEMA)?,
            tz,
            now,
        })
    }

    pub fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        let tz = self.tz;
        let local = |at: Option<Millis>| at.and_then(|at| local_millis(at, tz));
        let response_minutes = row
            .task_sla_started_at_ms
            .zip(row.first_response_at_ms)
            .map(|(started, responded)| crate::tasks::sla::response_ms(started, responded) as f64 / 60_000.0);
        self.table.push(&[
            Cell::Int64(Some(row.mention_id.get())),
            Cell::Int64(local(Some(row.created_at_ms))),
            Cell::Int64(Some(row.created_at_ms)),
            Cell::Text(Some(row.brand.as_str())),
            Cell::Text(Some(row.platform.as_str())),
            Cell::Text(Some(row.author.as_str())),
            Cell::Text(Some(row.text.as_str())),
            Cell::Text(row.permalink.as_deref()),
            Cell::Text(row.sentiment.as_deref()),
            Cell::Float(row.negative),
            Cell::Float(row.neutral),
            Cell::Float(row.positive),
            Cell::Float(row.criticality),
            Cell::Int64(row.task_id.map(TaskId::get)),
            Cell::Text(row.task_status.as_deref()),
            Cell::Int64(local(row.task_opened_at_ms)),
            Cell::Int64(local(row.first_response_at_ms)),
            Cell::Double(response_minutes),
            Cell::Int64(local(row.resolved_at_ms)),
            Cell::Int64(local(row.due_at_ms)),
            Cell::Bool(sla_met(row, self.now)),
        ])
    }

    pub fn finish(self) -> Result<W, ExportError> {
        self.table.finish()
    }
}

/// Writes the summary table (one row per brand per day, then the brand's week).
pub fn write_summary<W: Write + Send>(out: W, summary: &Summary) -> Result<W, ExportError> {
    let mut table = ParquetTable::new(out, SUMMARY_SCHEMA)?;
    let minutes = |ms: Option<i64>| ms.map(|ms| ms as f64 / 60_000.0);
    let count = |n: u64| Cell::Int64(Some(i64::try_from(n).unwrap_or(i64::MAX)));
    for brand in &summary.brands {
        let week = summary.week.to_string();
        let periods = brand
            .days
            .iter()
            .map(|day| (day.date.to_string(), &day.stats, None))
            .chain(std::iter::once((week, &brand.week, Some(&brand.change))));
        for (period, stats, change) in periods {
            let terms: Vec<&str> = stats.top_terms.iter().map(|t| t.term.as_str()).collect();
            let terms = terms.join(" ");
            table.push(&[
                Cell::Text(Some(brand.brand.as_str())),
                Cell::Text(Some(period.as_str())),
                count(stats.mentions),
                count(stats.negative),
                count(stats.neutral),
                count(stats.positive),
                count(stats.unscored),
                Cell::Double(stats.negative_share),
                Cell::Double(stats.mean_criticality),
                count(stats.tasks_opened),
                count(stats.tasks_resolved),
                count(stats.tasks_dismissed),
                Cell::Double(minutes(stats.median_first_response_ms)),
                Cell::Double(minutes(stats.p90_first_response_ms)),
                Cell::Double(stats.sla_breach_rate),
                Cell::Int64(stats.recovered_customers.map(|n| i64::try_from(n).unwrap_or(i64::MAX))),
                Cell::Text(Some(terms.as_str())),
                Cell::Double(change.and_then(|c| c.mentions_pct)),
                Cell::Double(change.and_then(|c| c.negative_share_pts)),
            ])?;
        }
    }
    table.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_parse_and_match_the_csv_columns() {
        let posts = parse_message_type(POSTS_SCHEMA).unwrap();
        let names: Vec<&str> = posts.get_fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, super::super::csv::POST_COLUMNS);
        let summary = parse_message_type(SUMMARY_SCHEMA).unwrap();
        let names: Vec<&str> = summary.get_fields().iter().map(|f| f.name()).collect();
        assert_eq!(names, super::super::csv::SUMMARY_COLUMNS);
    }

    #[test]
    fn local_timestamps_are_wall_clock_times() {
        // 2026-07-01T12:00:00Z is 13:00 in London (BST).
        let at = 1_782_907_200_000;
        assert_eq!(local_millis(at, chrono_tz::Europe::London), Some(at + 3_600_000));
        assert_eq!(local_millis(at, chrono_tz::UTC), Some(at));
    }
}
