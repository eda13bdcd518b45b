//! `/api/exports`: the export run log and downloads of the files the runs wrote.
//!
//! Downloads are path-safe by construction: the week must parse as an ISO week, the file
//! name must be one of the names an export writes for that week (`earshot-<week>-<scope>-
//! <kind>`, a slug scope and a known kind), so `..`, slashes, encoded separators and hidden
//! files never reach the file system. Symbolic links (a week folder or a file) are refused,
//! so nothing outside the export folder is served. Files are streamed, not read into memory.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{ApiError, AppState};
use crate::exports::week::IsoWeek;
use crate::store::ExportRunRow;

/// The kinds of file an export writes, with their content types.
const KINDS: [(&str, &str); 8] = [
    ("posts.csv", "text/csv; charset=utf-8"),
    ("daily.csv", "text/csv; charset=utf-8"),
    ("posts.jsonl", "application/x-ndjson"),
    ("posts.parquet", "application/vnd.apache.parquet"),
    ("daily.parquet", "application/vnd.apache.parquet"),
    ("summary.json", "application/json"),
    ("chart.svg", "image/svg+xml"),
    ("chart.png", "image/png"),
];

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/exports", get(list_runs))
        .route("/api/exports/{week}/{file}", get(download))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunsQuery {
    limit: Option<usize>,
}

async fn list_runs(
    State(state): State<AppState>,
    Query(query): Query<RunsQuery>,
) -> Result<Json<Vec<ExportRunRow>>, ApiError> {
    Ok(Json(state.store.export_runs(query.limit.unwrap_or(100)).await?))
}

/// The content type of an export file name for `week`, or `None` if it is not one.
fn content_type(week: IsoWeek, file: &str) -> Option<&'static str> {
    let rest = file.strip_prefix(&format!("earshot-{week}-"))?;
    KINDS.iter().find_map(|(kind, content_type)| {
        let scope = rest.strip_suffix(kind)?.strip_suffix('-')?;
        let is_slug = !scope.is_empty()
            && scope.len() <= 64
            && scope
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        is_slug.then_some(*content_type)
    })
}

async fn download(
    State(state): State<AppState>,
    Path((week, file)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let week: IsoWeek = week.parse().map_err(|_| ApiError::NotFound("export".into()))?;
    let content_type = content_type(week, &file).ok_or_else(|| ApiError::NotFound("export file".into()))?;
    let week_dir = state.settings.exports.dir.join(week.to_string());
    let path = week_dir.join(&file);
    // Export runs write plain folders and files: a symbolic link in their place (the week
    // folder or the file) could point anywhere on the machine, so it is never followed.
    for step in [&week_dir, &path] {
        match tokio::fs::symlink_metadata(step).await {
            Ok(meta) if meta.file_type().is_symlink() => {
                tracing::warn!(path = %step.display(), "Refused a symbolic link in the export folder.");
                return Err(ApiError::NotFound(format!("export file {file}")));
            }
            _ => {}
        }
    }
    // O_NOFOLLOW: a link swapped in after the check above still fails to open.
    let opened = tokio::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .await;
    let handle = match opened {
        Ok(handle) => handle,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::NotFound(format!("export file {file}")));
        }
        Err(error) => {
            tracing::error!(error = %error, path = %path.display(), "Could not open an export file.");
            return Err(ApiError::NotFound(format!("export file {file}")));
        }
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(handle));
    // The PNG chart opens in the browser (the link in the weekly chat summary); the rest,
    // the SVG included (it could carry script if it were ever not ours), download.
    let disposition = if content_type == "image/png" {
        "inline"
    } else {
        "attachment"
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("{disposition}; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_names_an_export_writes_are_served() {
        let week: IsoWeek = "2026-W47".parse().unwrap();
        assert_eq!(
            content_type(week, "earshot-2026-W47-all-posts.csv"),
            Some("text/csv; charset=utf-8")
        );
        assert_eq!(
            content_type(week, "earshot-2026-W47-acme-air-chart.svg"),
            Some("image/svg+xml")
        );
        for bad in [
            "earshot-2026-W46-all-posts.csv",
            "earshot-2026-W47--posts.csv",
            "earshot-2026-W47-../x-posts.csv",
            "earshot-2026-W47-a/b-posts.csv",
            "earshot-2026-W47-all-posts.csv.bak",
            ".partial-abc",
            "earshot.db",
        ] {
            assert_eq!(content_type(week, bad), None, "{bad}");
        }
    }
}
