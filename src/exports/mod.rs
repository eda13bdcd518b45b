//! Weekly exports: a week's posts and summaries as files analysts and managers can open.
//!
//! `Exporter::export_week` streams a week's mentions out of the store page by page (keyset
//! order, constant memory), writing the posts file and feeding the summary builder as it
//! goes, then writes the summary (JSON and a CSV or Parquet table) and the chart (SVG and
//! PNG). Before summarising it records task follow-ups (`ReviewStore::record_follow_ups`), so
//! recovered customers count every author who has posted again. Files go to
//! `<dir>/<week>/` under stable names, written to a temporary name and renamed, so a reader
//! never sees half a file. `Exporter::run_due` is the scheduled job and its own catch-up:
//! it exports every recent full week that has no successful scheduled run, recording each
//! in `export_runs` first so a week is exported once even if two triggers race.
//!
//! Invariant: the store is only read through `ExportStore` and written through the run
//! log and the follow-up recording; nothing here knows SQL. Post text is hostile: CSV cells are neutralised (`csv`),
//! SVG text is escaped (`chart`), and file names are built from validated week and brand ids.

pub mod announce;
pub mod chart;
pub mod chart_png;
pub mod csv;
pub mod dashboard;
pub mod job;
pub mod parquet;
mod posts_file;
pub mod problems;
pub mod progress;
pub mod summary;
pub mod week;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use chrono_tz::Tz;

use crate::config::ExportSettings;
use crate::domain::{BrandId, MentionId, Millis, now_millis};
use crate::store::{ExportQuery, ExportRow, ExportRunEnd, ExportTrigger, NewExportRun, Store, StoreError};
use summary::{Summary, SummaryBuilder};
use week::IsoWeek;

/// Rows per store page.
pub const PAGE_SIZE: usize = 2_000;
/// How many full weeks back the scheduled job looks for weeks it missed.
pub const CATCH_UP_WEEKS: usize = 4;
/// A scheduled run still `running` after this long is taken as crashed and retried.
pub const STALE_RUN_MS: Millis = 60 * 60 * 1000;

/// What went wrong in an export.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("format {0:?} is not supported: use csv, json or parquet")]
    UnsupportedFormat(String),
    #[error("unknown time zone {0:?}")]
    UnknownTimezone(String),
    #[error("reading the store failed")]
    Store(#[from] StoreError),
    #[error("failed to write the export")]
    Write(#[source] std::io::Error),
    #[error("failed to write {path}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write CSV")]
    Csv(#[from] ::csv::Error),
    #[error("failed to write JSON")]
    Json(#[from] serde_json::Error),
    #[error("failed to write Parquet")]
    Parquet(#[from] ::parquet::errors::ParquetError),
    #[error("Parquet table mismatch: {0}")]
    Schema(String),
    #[error("failed to draw the chart")]
    Chart(#[from] chart_png::ChartError),
    #[error("benchmark setup failed: {0}")]
    Bench(String),
}

/// The posts file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// `…-posts.csv` plus `…-daily.csv`.
    Csv,
    /// `…-posts.jsonl` (JSON Lines).
    Json,
    /// `…-posts.parquet` plus `…-daily.parquet`.
    Parquet,
}

impl FromStr for ExportFormat {
    type Err = ExportError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "csv" => Ok(ExportFormat::Csv),
            "json" | "jsonl" => Ok(ExportFormat::Json),
            "parquet" => Ok(ExportFormat::Parquet),
            other => Err(ExportError::UnsupportedFormat(other.to_owned())),
        }
    }
}

/// One export to write.
#[derive(Debug, Clone)]
pub struct ExportRequest {
    pub week: IsoWeek,
    pub brand: Option<BrandId>,
    pub format: ExportFormat,
    pub trigger: ExportTrigger,
}

impl ExportRequest {
    /// `all` or the brand id: part of the file names and the run record.
    pub fn scope(&self) -> String {
        self.brand.as_ref().map_or_else(|| "all".to_owned(), |b| b.to_string())
    }
}

/// What an export wrote.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportOutcome {
    pub week: IsoWeek,
    pub scope: String,
    pub run_id: i64,
    /// Paths relative to the export folder, e.g. `2026-W47/earshot-2026-W47-all-posts.csv`.
    pub files: Vec<String>,
    pub n_rows: u64,
    pub summary: Summary,
}

/// Stable file name of one export file.
pub fn file_name(week: IsoWeek, scope: &str, kind: &str) -> String {
    format!("earshot-{week}-{scope}-{kind}")
}

/// Local time as spreadsheets parse it: `2026-11-16 09:30:00`.
pub fn format_local(at: Millis, tz: Tz) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// RFC 3339 in UTC: `2026-11-16T09:30:00Z`.
pub fn format_utc(at: Millis) -> String {
    chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default()
}

/// Whether the row's task met its SLA; `None` when there is no task or it is undecided.
pub fn sla_met(row: &ExportRow, now: Millis) -> Option<bool> {
    let outcome = crate::tasks::sla::outcome(
        row.task_status.as_deref()?,
        row.due_at_ms?,
        row.first_response_at_ms,
        row.resolved_at_ms,
        now,
    )?;
    Some(!outcome.breached)
}

/// Progress reports: called with the number of rows written so far.
pub type Progress<'a> = &'a (dyn Fn(u64) + Send + Sync);

/// Writes exports into the configured folder.
pub struct Exporter {
    store: Arc<dyn Store>,
    dir: PathBuf,
    tz: Tz,
    page_size: usize,
    /// Channels that get the weekly summary after a scheduled run.
    summary_channels: Vec<String>,
    public_url: Option<String>,
    /// Problems with fewer complaints in the week are left out of its problems table.
    problem_min_complaints: u32,
}

/// A file being written under a temporary name in its final folder.
struct PendingFile {
    temp: tempfile::NamedTempFile,
    path: PathBuf,
}

impl PendingFile {
    fn create(dir: &Path, name: &str) -> Result<PendingFile, ExportError> {
        let temp = tempfile::Builder::new()
            .prefix(".partial-")
            .tempfile_in(dir)
            .map_err(|source| ExportError::File {
                path: dir.join(name),
                source,
            })?;
        Ok(PendingFile {
            temp,
            path: dir.join(name),
        })
    }

    fn writer(&self) -> Result<BufWriter<File>, ExportError> {
        let file = self.temp.as_file().try_clone().map_err(|source| ExportError::File {
            path: self.path.clone(),
            source,
        })?;
        Ok(BufWriter::with_capacity(256 * 1024, file))
    }

    fn write_all(self, bytes: &[u8]) -> Result<(), ExportError> {
        let mut writer = self.writer()?;
        writer.write_all(bytes).map_err(ExportError::Write)?;
        writer.flush().map_err(ExportError::Write)?;
        drop(writer);
        self.commit()
    }

    fn commit(self) -> Result<(), ExportError> {
        let path = self.path;
        self.temp.persist(&path).map_err(|error| ExportError::File {
            path,
            source: error.error,
        })?;
        Ok(())
    }
}

impl Exporter {
    pub fn new(store: Arc<dyn Store>, settings: &ExportSettings) -> Result<Exporter, ExportError> {
        let tz: Tz = settings
            .timezone
            .parse()
            .map_err(|_| ExportError::UnknownTimezone(settings.timezone.clone()))?;
        Ok(Exporter {
            store,
            dir: settings.dir.clone(),
            tz,
            page_size: PAGE_SIZE,
            summary_channels: settings.summary_channels.clone(),
            public_url: settings.public_url.clone(),
            problem_min_complaints: crate::problems::ProblemSettings::default().min_members,
        })
    }

    /// The same exporter, listing problems with at least `n` complaints in the week
    /// (`[problems] min_members`).
    pub fn with_problem_min_complaints(self, n: u32) -> Exporter {
        Exporter {
            problem_min_complaints: n.max(1),
            ..self
        }
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Records the run, writes the files and records how it ended. A scheduled run of a week
    /// that already has one (done, or running elsewhere) returns `Ok(None)` without writing.
    #[tracing::instrument(skip_all, fields(week = %request.week, scope = %request.scope()))]
    pub async fn export_week(
        &self,
        request: &ExportRequest,
        progress: Progress<'_>,
    ) -> Result<Option<ExportOutcome>, ExportError> {
        let scope = request.scope();
        let week_text = request.week.to_string();
        let now = now_millis();
        let run = NewExportRun {
            week: &week_text,
            scope: &scope,
            trigger: request.trigger,
            at: now,
            stale_before: now - STALE_RUN_MS,
        };
        let Some(run_id) = self.store.begin_export_run(run).await? else {
            tracing::info!(week = %week_text, scope = %scope, "Week already exported; skipping.");
            return Ok(None);
        };
        let written = match self.write_week(request, &scope, progress).await {
            // Announced before the run is marked done: a crash in between retries the run,
            // and the dedup key keeps the second enqueue from doubling the message.
            Ok(written) => self.announce(request, &written.2).await.map(|()| written),
            Err(error) => Err(error),
        };
        match written {
            Ok((files, n_rows, summary)) => {
                self.store
                    .finish_export_run(
                        run_id,
                        ExportRunEnd::Done {
                            files: files.clone(),
                            n_rows,
                        },
                        now_millis(),
                    )
                    .await?;
                tracing::info!(week = %week_text, scope = %scope, n_rows, "Export written.");
                Ok(Some(ExportOutcome {
                    week: request.week,
                    scope,
                    run_id,
                    files,
                    n_rows,
                    summary,
                }))
            }
            Err(error) => {
                let message = crate::telemetry::error_chain(&error);
                if let Err(record_error) = self
                    .store
                    .finish_export_run(run_id, ExportRunEnd::Failed { error: message }, now_millis())
                    .await
                {
                    tracing::error!(error = %record_error, run_id, "Could not record the failed export.");
                }
                Err(error)
            }
        }
    }

    /// Queues the weekly chat summary of a scheduled run, if channels are configured for it.
    async fn announce(&self, request: &ExportRequest, summary: &Summary) -> Result<(), ExportError> {
        if request.trigger != ExportTrigger::Scheduled || self.summary_channels.is_empty() {
            return Ok(());
        }
        let alert = announce::weekly_alert(summary, self.public_url.as_deref(), &self.summary_channels);
        let brand = request.brand.as_ref().map(BrandId::as_str);
        if self.store.enqueue_alert(brand, &alert, now_millis()).await? {
            tracing::info!(week = %request.week, scope = %summary.scope, "Weekly summary queued for chat.");
        }
        Ok(())
    }

    async fn write_week(
        &self,
        request: &ExportRequest,
        scope: &str,
        progress: Progress<'_>,
    ) -> Result<(Vec<String>, u64, Summary), ExportError> {
        let week = request.week;
        let week_dir = self.dir.join(week.to_string());
        std::fs::create_dir_all(&week_dir).map_err(|source| ExportError::File {
            path: week_dir.clone(),
            source,
        })?;
        let now = now_millis();
        // The previous week is summarised too, so its resolved tasks need their record as well.
        let (previous_start, _) = week.previous().bounds(self.tz);
        let resolved_since = previous_start.min(now.saturating_sub(crate::pipeline::follow_up::FOLLOW_UP_LOOKBACK_MS));
        let n_follow_ups = self.store.record_follow_ups(now, resolved_since).await?;
        tracing::debug!(n_follow_ups, "Task follow-ups recorded before the export.");
        let previous = self
            .summarise(week.previous(), request.brand.as_ref(), scope, now, None)
            .await?;

        let posts_name = match request.format {
            ExportFormat::Csv => file_name(week, scope, "posts.csv"),
            ExportFormat::Json => file_name(week, scope, "posts.jsonl"),
            ExportFormat::Parquet => file_name(week, scope, "posts.parquet"),
        };
        let posts_file = PendingFile::create(&week_dir, &posts_name)?;
        let out = posts_file.writer()?;
        let mut builder = self.builder(week, request.brand.as_ref());
        let mut n_rows = 0u64;
        let tz = self.tz;
        let mut writer = self::posts_file::for_format(request.format, out, tz, now)?;
        self.stream(
            week,
            request.brand.as_ref(),
            |row| {
                writer.write(row)?;
                builder.add_row(row);
                n_rows += 1;
                Ok(())
            },
            progress,
        )
        .await?;
        writer.finish()?;
        posts_file.commit()?;
        progress(n_rows);

        let (start, end) = week.bounds(tz);
        for task in self.store.export_tasks(start, end, request.brand.as_ref()).await? {
            builder.add_task(&task, now);
        }
        let mut summary = builder.finish(scope, now, Some(&previous));
        summary.problems = problems::for_week(
            self.store.as_ref(),
            start,
            end,
            request.brand.as_ref(),
            self.problem_min_complaints,
        )
        .await?;

        let mut files = vec![posts_name];
        if request.format == ExportFormat::Csv {
            let name = file_name(week, scope, "daily.csv");
            let file = PendingFile::create(&week_dir, &name)?;
            let out = csv::write_summary(file.writer()?, &summary)?;
            out.into_inner()
                .map_err(|error| ExportError::Write(error.into_error()))?;
            file.commit()?;
            files.push(name);
        }
        if request.format == ExportFormat::Parquet {
            let name = file_name(week, scope, "daily.parquet");
            let file = PendingFile::create(&week_dir, &name)?;
            parquet::write_summary(file.writer()?, &summary)?
                .flush()
                .map_err(ExportError::Write)?;
            file.commit()?;
            files.push(name);
        }
        let name = file_name(week, scope, "summary.json");
        PendingFile::create(&week_dir, &name)?.write_all(&serde_json::to_vec_pretty(&summary)?)?;
        files.push(name);
        let svg = chart::render_svg(&summary);
        let name = file_name(week, scope, "chart.svg");
        PendingFile::create(&week_dir, &name)?.write_all(svg.as_bytes())?;
        files.push(name);
        let png = chart_png::svg_to_png(&svg)?;
        let name = file_name(week, scope, "chart.png");
        PendingFile::create(&week_dir, &name)?.write_all(&png)?;
        files.push(name);
        let name = file_name(week, scope, "problems.csv");
        let file = PendingFile::create(&week_dir, &name)?;
        problems::write_csv(file.writer()?, &summary.problems, tz)?
            .flush()
            .map_err(ExportError::Write)?;
        file.commit()?;
        files.push(name);

        let files = files.into_iter().map(|name| format!("{week}/{name}")).collect();
        Ok((files, n_rows, summary))
    }

    fn builder(&self, week: IsoWeek, brand: Option<&BrandId>) -> SummaryBuilder {
        let brands: Vec<String> = brand.map(|b| vec![b.to_string()]).unwrap_or_default();
        SummaryBuilder::new(week, self.tz, &brands)
    }

    /// A week's summary without writing anything (for the week-over-week change, and the
    /// dashboard), compared with `previous` (last week's) when given.
    pub async fn summarise(
        &self,
        week: IsoWeek,
        brand: Option<&BrandId>,
        scope: &str,
        now: Millis,
        previous: Option<&Summary>,
    ) -> Result<Summary, ExportError> {
        let mut builder = self.builder(week, brand);
        self.stream(
            week,
            brand,
            |row| {
                builder.add_row(row);
                Ok(())
            },
            &|_| {},
        )
        .await?;
        let (start, end) = week.bounds(self.tz);
        for task in self.store.export_tasks(start, end, brand).await? {
            builder.add_task(&task, now);
        }
        Ok(builder.finish(scope, now, previous))
    }

    /// Feeds every row of the week to `each`, a page at a time.
    async fn stream(
        &self,
        week: IsoWeek,
        brand: Option<&BrandId>,
        mut each: impl FnMut(&ExportRow) -> Result<(), ExportError>,
        progress: Progress<'_>,
    ) -> Result<u64, ExportError> {
        let (start_ms, end_ms) = week.bounds(self.tz);
        let mut query = ExportQuery {
            start_ms,
            end_ms,
            brand: brand.cloned(),
            after_mention_id: MentionId::new(0),
            limit: self.page_size,
        };
        let mut n_rows = 0u64;
        loop {
            let page = self.store.export_rows(&query).await?;
            let Some(last) = page.last() else { break };
            query.after_mention_id = last.mention_id;
            for row in &page {
                each(row)?;
            }
            n_rows += page.len() as u64;
            progress(n_rows);
            if page.len() < query.limit {
                break;
            }
        }
        Ok(n_rows)
    }

    /// The full weeks the scheduled job should export at `now`, oldest first: the last
    /// `CATCH_UP_WEEKS` full weeks, minus any that ended before the first stored post (the
    /// last full week is always included).
    pub async fn due_weeks(&self, now: Millis) -> Result<Vec<IsoWeek>, ExportError> {
        let last = IsoWeek::last_full(now, self.tz);
        let first_post = self.store.first_post_at().await?;
        let mut weeks = vec![last];
        let mut week = last;
        for _ in 1..CATCH_UP_WEEKS {
            week = week.previous();
            let (_, end) = week.bounds(self.tz);
            if first_post.is_some_and(|first| first < end) {
                weeks.push(week);
            }
        }
        weeks.reverse();
        Ok(weeks)
    }

    /// The scheduled job and its catch-up: exports each due week that has no scheduled run
    /// yet. Returns what was written; weeks already done are skipped silently. A week that
    /// fails is recorded as failed and logged here, the others still run, and the next
    /// trigger retries it.
    pub async fn run_due(&self, now: Millis) -> Result<Vec<ExportOutcome>, ExportError> {
        let mut written = Vec::new();
        for week in self.due_weeks(now).await? {
            let request = ExportRequest {
                week,
                brand: None,
                format: ExportFormat::Csv,
                trigger: ExportTrigger::Scheduled,
            };
            let meter = progress::ProgressMeter::new(progress::ProgressMode::Log);
            match self.export_week(&request, &|n_rows| meter.report(n_rows)).await {
                Ok(Some(outcome)) => written.push(outcome),
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(week = %week, error = %crate::telemetry::error_chain(&error), "Scheduled export failed.");
                }
            }
        }
        Ok(written)
    }
}
