//! The spreadsheet files: posts and daily summaries as CSV that opens cleanly in Excel,
//! LibreOffice and Google Sheets.
//!
//! - UTF-8 **with a byte-order mark**: Excel on Windows reads a CSV without one in the
//!   machine's ANSI code page and mangles every non-ASCII character (names, emoji, most
//!   languages); with the BOM it reads UTF-8. LibreOffice, Google Sheets, pandas
//!   (`encoding="utf-8-sig"`) and the `csv` crate all skip it.
//! - RFC 4180 quoting (the `csv` crate): quotes, commas and newlines in post text survive.
//! - Formula neutralisation: a text cell whose first visible character is `=`, `+`, `-` or
//!   `@` (spaces, line breaks and control characters before it do not hide it), or that
//!   starts with a control character (tab, carriage return, NUL…), is prefixed with `'`, so
//!   `=HYPERLINK(…)` in a post is shown, never evaluated (OWASP "CSV injection"). Only text
//!   that came from outside is neutralised; numbers we write ourselves (a negative
//!   week-over-week change) stay numbers.
//! - Every non-numeric field is quoted, so a `;` in a post cannot split a cell for a
//!   spreadsheet that takes `;` as the separator.

use std::io::Write;

use chrono_tz::Tz;

use super::summary::{DaySummary, Summary};
use super::{ExportError, format_local, format_utc, sla_met};
use crate::store::ExportRow;
use crate::tasks::sla;

/// The UTF-8 byte-order mark.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The posts file's columns, in order.
pub const POST_COLUMNS: [&str; 21] = [
    "mention_id",
    "created_at_local",
    "created_at_utc",
    "brand",
    "platform",
    "author",
    "text",
    "permalink",
    "sentiment",
    "p_negative",
    "p_neutral",
    "p_positive",
    "criticality",
    "task_id",
    "task_status",
    "task_opened_at_local",
    "first_response_at_local",
    "first_response_minutes",
    "resolved_at_local",
    "due_at_local",
    "sla_met",
];

/// Makes a text cell safe to open in a spreadsheet: see the module docs.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    let starts_with_control = cell.chars().next().is_some_and(char::is_control);
    let first_visible = cell.chars().find(|c| !c.is_whitespace() && !c.is_control());
    if starts_with_control || matches!(first_visible, Some('=' | '+' | '-' | '@')) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// Streams post rows to CSV.
pub struct PostsCsv<W: Write> {
    writer: csv::Writer<W>,
    tz: Tz,
    now: i64,
}

impl<W: Write> PostsCsv<W> {
    /// Writes the BOM and the header row.
    pub fn new(mut out: W, tz: Tz, now: i64) -> Result<PostsCsv<W>, ExportError> {
        out.write_all(BOM).map_err(ExportError::Write)?;
        let mut writer = csv::WriterBuilder::new()
            .terminator(csv::Terminator::CRLF)
            .quote_style(csv::QuoteStyle::NonNumeric)
            .from_writer(out);
        writer.write_record(POST_COLUMNS)?;
        Ok(PostsCsv { writer, tz, now })
    }

    pub fn write(&mut self, row: &ExportRow) -> Result<(), ExportError> {
        let tz = self.tz;
        let local = |at: Option<i64>| at.map(|at| format_local(at, tz)).unwrap_or_default();
        let number = |value: Option<f32>| value.map(|v| format!("{v:.4}")).unwrap_or_default();
        let response_minutes = match (row.task_sla_started_at_ms, row.first_response_at_ms) {
            (Some(started), Some(responded)) => {
                format!("{:.1}", sla::response_ms(started, responded) as f64 / 60_000.0)
            }
            _ => String::new(),
        };
        let sla = match sla_met(row, self.now) {
            Some(true) => "yes",
            Some(false) => "no",
            None => "",
        };
        self.writer.write_record([
            row.mention_id.to_string().as_str(),
            &format_local(row.created_at_ms, tz),
            &format_utc(row.created_at_ms),
            &neutralise(row.brand.as_str()),
            &neutralise(row.platform.as_str()),
            &neutralise(&row.author),
            &neutralise(&row.text),
            &neutralise(row.permalink.as_deref().unwrap_or("")),
            row.sentiment.as_deref().unwrap_or(""),
            &number(row.negative),
            &number(row.neutral),
            &number(row.positive),
            &row.criticality.map(|c| format!("{c:.1}")).unwrap_or_default(),
            &row.task_id.map(|id| id.to_string()).unwrap_or_default(),
            row.task_status.as_deref().unwrap_or(""),
            &local(row.task_opened_at_ms),
            &local(row.first_response_at_ms),
            &response_minutes,
            &local(row.resolved_at_ms),
            &local(row.due_at_ms),
            sla,
        ])?;
        Ok(())
    }

    /// Flushes and returns the underlying writer.
    pub fn finish(self) -> Result<W, ExportError> {
        self.writer
            .into_inner()
            .map_err(|error| ExportError::Write(error.into_error()))
    }
}

/// The summary table columns: one row per brand per day, then one per brand for the week.
pub const SUMMARY_COLUMNS: [&str; 19] = [
    "brand",
    "period",
    "mentions",
    "negative",
    "neutral",
    "positive",
    "unscored",
    "negative_share",
    "mean_criticality",
    "tasks_opened",
    "tasks_resolved",
    "tasks_dismissed",
    "median_first_response_minutes",
    "p90_first_response_minutes",
    "sla_breach_rate",
    "recovered_customers",
    "top_complaint_terms",
    "mentions_change_vs_previous_week",
    "negative_share_change_vs_previous_week",
];

/// Writes the summary as a table for spreadsheets.
pub fn write_summary<W: Write>(mut out: W, summary: &Summary) -> Result<W, ExportError> {
    out.write_all(BOM).map_err(ExportError::Write)?;
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .quote_style(csv::QuoteStyle::NonNumeric)
        .from_writer(out);
    writer.write_record(SUMMARY_COLUMNS)?;
    let opt = |value: Option<f64>, digits: usize| value.map(|v| format!("{v:.digits$}")).unwrap_or_default();
    let minutes = |value: Option<i64>| value.map(|v| format!("{:.1}", v as f64 / 60_000.0)).unwrap_or_default();
    for brand in &summary.brands {
        let periods = brand
            .days
            .iter()
            .map(|DaySummary { date, stats }| (date.to_string(), stats, None))
            .chain(std::iter::once((
                summary.week.to_string(),
                &brand.week,
                Some(&brand.change),
            )));
        for (period, stats, change) in periods {
            let terms: Vec<&str> = stats.top_terms.iter().map(|t| t.term.as_str()).collect();
            writer.write_record([
                neutralise(brand.brand.as_str()).as_ref(),
                &period,
                &stats.mentions.to_string(),
                &stats.negative.to_string(),
                &stats.neutral.to_string(),
                &stats.positive.to_string(),
                &stats.unscored.to_string(),
                &opt(stats.negative_share, 4),
                &opt(stats.mean_criticality, 1),
                &stats.tasks_opened.to_string(),
                &stats.tasks_resolved.to_string(),
                &stats.tasks_dismissed.to_string(),
                &minutes(stats.median_first_response_ms),
                &minutes(stats.p90_first_response_ms),
                &opt(stats.sla_breach_rate, 4),
                &stats.recovered_customers.map(|n| n.to_string()).unwrap_or_default(),
                &neutralise(&terms.join(" ")),
                &change
                    .and_then(|c| c.mentions_pct)
                    .map(|v| format!("{v:.1}%"))
                    .unwrap_or_default(),
                &change
                    .and_then(|c| c.negative_share_pts)
                    .map(|v| format!("{v:.1} pts"))
                    .unwrap_or_default(),
            ])?;
        }
    }
    writer
        .into_inner()
        .map_err(|error| ExportError::Write(error.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_that_a_spreadsheet_would_evaluate_get_a_quote_prefix() {
        for hostile in [
            "=1+1",
            "+SUM(A1)",
            "-2+3",
            "@cmd",
            "\t=x",
            "\r=x",
            " =spaced",
            "\n\n=HYPERLINK(\"x\")",
            "\u{0}=x",
            "\u{0}plain",
            "\u{a0}@cmd",
        ] {
            assert_eq!(neutralise(hostile), format!("'{hostile}"), "{hostile:?}");
        }
        for harmless in ["plain", "", "'already", "a=b", "😀 -", "  spaced words"] {
            assert_eq!(neutralise(harmless), harmless);
        }
    }
}
