//! The week's recurring problems for the export: a table (label, status, complaints,
//! unanswered, median first response, first and last seen) in `problems.csv` and in the
//! summary JSON, and the top three per brand for the chat summary. Medians use the same
//! nearest-rank percentile as the rest of the summary, over waits the store measured from the
//! customer's post (the one SLA rule).

use std::io::Write;

use chrono_tz::Tz;

use super::csv::neutralise;
use super::summary::percentile;
use super::{ExportError, format_local};
use crate::domain::{BrandId, Millis};
use crate::problems::ProblemStatus;
use crate::store::{ExportStore, StoreError};

/// Problems named in the chat summary, per brand.
pub const TOP_IN_CHAT: usize = 3;

/// One problem's week.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WeekProblem {
    pub id: i64,
    pub brand: BrandId,
    pub label: String,
    pub status: ProblemStatus,
    /// Complaints written in the week.
    pub complaints: i64,
    /// Its active tasks without a first response, at export time.
    pub unanswered: i64,
    pub median_first_response_ms: Option<i64>,
    pub first_seen_ms: Millis,
    pub last_seen_ms: Millis,
}

/// The problems with at least `min_complaints` complaints written in `[start, end)`, most
/// complaints first.
pub async fn for_week(
    store: &dyn ExportStore,
    start: Millis,
    end: Millis,
    brand: Option<&BrandId>,
    min_complaints: u32,
) -> Result<Vec<WeekProblem>, StoreError> {
    Ok(store
        .export_problems(start, end, brand, i64::from(min_complaints))
        .await?
        .into_iter()
        .map(|p| WeekProblem {
            id: p.id,
            brand: p.brand,
            label: p.label,
            status: p.status,
            complaints: p.complaints,
            unanswered: p.unanswered,
            median_first_response_ms: percentile(&p.first_response_waits_ms, 50),
            first_seen_ms: p.first_seen_at_ms,
            last_seen_ms: p.last_seen_at_ms,
        })
        .collect())
}

/// One line per problem for chat: "login · app (43 complaints, 12 unanswered)".
pub fn chat_line(problem: &WeekProblem) -> String {
    format!(
        "{} ({} complaints, {} unanswered)",
        problem.label, problem.complaints, problem.unanswered
    )
}

const COLUMNS: [&str; 9] = [
    "brand",
    "problem_id",
    "label",
    "status",
    "complaints",
    "unanswered",
    "median_first_response_minutes",
    "first_seen",
    "last_seen",
];

/// Writes the problems table for spreadsheets (BOM, CRLF, cells neutralised like the posts
/// file, times in the export's zone).
pub fn write_csv<W: Write>(mut out: W, problems: &[WeekProblem], tz: Tz) -> Result<W, ExportError> {
    out.write_all(super::csv::BOM).map_err(ExportError::Write)?;
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::CRLF)
        .quote_style(::csv::QuoteStyle::NonNumeric)
        .from_writer(out);
    writer.write_record(COLUMNS)?;
    for p in problems {
        writer.write_record([
            neutralise(p.brand.as_str()).as_ref(),
            &p.id.to_string(),
            &neutralise(&p.label),
            p.status.as_str(),
            &p.complaints.to_string(),
            &p.unanswered.to_string(),
            &p.median_first_response_ms
                .map(|ms| format!("{:.1}", ms as f64 / 60_000.0))
                .unwrap_or_default(),
            &format_local(p.first_seen_ms, tz),
            &format_local(p.last_seen_ms, tz),
        ])?;
    }
    writer.into_inner().map_err(|e| ExportError::Write(e.into_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(label: &str) -> WeekProblem {
        WeekProblem {
            id: 4,
            brand: BrandId::parse("acme").unwrap(),
            label: label.into(),
            status: ProblemStatus::Acknowledged,
            complaints: 43,
            unanswered: 12,
            median_first_response_ms: Some(90_000),
            first_seen_ms: 0,
            last_seen_ms: 3_600_000,
        }
    }

    #[test]
    fn the_table_neutralises_labels_and_gives_minutes() {
        let out = write_csv(Vec::new(), &[problem("=cmd · login")], chrono_tz::UTC).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert!(lines[0].starts_with("\"brand\",\"problem_id\",\"label\""), "{text}");
        assert!(lines[1].contains("\"'=cmd · login\""), "{text}");
        assert!(lines[1].contains(",43,12,1.5,"), "{text}");
        assert_eq!(
            chat_line(&problem("login · app")),
            "login · app (43 complaints, 12 unanswered)"
        );
    }
}
