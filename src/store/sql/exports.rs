//! Reading a week's mentions and tasks for exports, and the export run log.

use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Transaction};

use super::super::{
    ExportQuery, ExportRow, ExportRunEnd, ExportRunRow, ExportTask, ExportTrigger, NewExportRun, StoreError,
};
use super::rows::{brand_at, get, platform_at, scores_of};
use crate::domain::{BrandId, Millis, SentimentScores};

pub(super) async fn export_rows(pool: &AnyPool, query: &ExportQuery) -> Result<Vec<ExportRow>, StoreError> {
    // Keyset paging on the mention id: each page is an index range scan, so a million-row
    // week streams in constant memory and constant time per page.
    let brand_condition = if query.brand.is_some() {
        "AND m.brand_id = $5"
    } else {
        ""
    };
    let sql = format!(
        "SELECT m.id AS mention_id, p.id AS post_id, m.brand_id, p.platform, p.author_handle, p.text, p.url, p.created_at_ms,
                s.status AS s_status, s.negative AS s_negative, s.neutral AS s_neutral, s.positive AS s_positive,
                a.criticality, a.task_id, t.status AS task_status, t.opened_at_ms AS task_opened_at_ms, t.sla_started_at_ms AS task_sla_started_at_ms,
                t.first_response_at_ms, t.resolved_at_ms,
                t.due_at_ms
         FROM mentions m
         JOIN posts p ON p.id = m.post_id
         LEFT JOIN sentiments s ON s.post_id = p.id
         LEFT JOIN assessments a ON a.mention_id = m.id
         LEFT JOIN tasks t ON t.id = a.task_id
         WHERE m.id > $1 AND p.created_at_ms >= $2 AND p.created_at_ms < $3 {brand_condition}
         ORDER BY m.id
         LIMIT $4"
    );
    let limit = i64::try_from(query.limit.clamp(1, 100_000)).unwrap_or(1_000);
    let mut statement = sqlx::query(&sql)
        .bind(query.after_mention_id)
        .bind(query.start_ms)
        .bind(query.end_ms)
        .bind(limit);
    if let Some(brand) = &query.brand {
        statement = statement.bind(brand.as_str());
    }
    let rows = statement.fetch_all(pool).await?;
    rows.iter().map(export_row_of).collect()
}

fn export_row_of(row: &AnyRow) -> Result<ExportRow, StoreError> {
    let status: Option<String> = get(row, "s_status")?;
    let scores = if status.as_deref() == Some("scored") {
        scores_of(row)?
    } else {
        None
    };
    Ok(ExportRow {
        mention_id: get(row, "mention_id")?,
        post_id: get(row, "post_id")?,
        created_at_ms: get(row, "created_at_ms")?,
        brand: brand_at(row, "brand_id")?,
        platform: platform_at(row, "platform")?,
        author: get(row, "author_handle")?,
        text: get(row, "text")?,
        permalink: get(row, "url")?,
        sentiment: scores.map(|s: SentimentScores| s.label().as_str().to_owned()),
        negative: scores.map(|s| s.negative),
        neutral: scores.map(|s| s.neutral),
        positive: scores.map(|s| s.positive),
        criticality: get::<Option<f64>>(row, "criticality")?.map(|c| c as f32),
        task_id: get(row, "task_id")?,
        task_status: get(row, "task_status")?,
        task_opened_at_ms: get(row, "task_opened_at_ms")?,
        task_sla_started_at_ms: get(row, "task_sla_started_at_ms")?,
        first_response_at_ms: get(row, "first_response_at_ms")?,
        resolved_at_ms: get(row, "resolved_at_ms")?,
        due_at_ms: get(row, "due_at_ms")?,
    })
}

pub(super) async fn export_tasks(
    pool: &AnyPool,
    start: Millis,
    end: Millis,
    brand: Option<&BrandId>,
) -> Result<Vec<ExportTask>, StoreError> {
    let brand_condition = if brand.is_some() { "WHERE t.brand_id = $3" } else { "" };
    // Every task something happened to in the week: opened, answered, resolved, dismissed
    // (the time of its `dismissed` event; a later note does not move it), or due (an SLA
    // decided in the week, answered or not).
    let sql = format!(
        "SELECT * FROM (
             SELECT t.id, t.brand_id, t.status, t.opened_at_ms, t.sla_started_at_ms, t.due_at_ms, t.first_response_at_ms,
                    t.resolved_at_ms, t.recovered, t.assignee,
                    CASE WHEN t.status = 'dismissed' THEN
                        (SELECT MAX(e.at_ms) FROM task_events e WHERE e.task_id = t.id AND e.kind = 'dismissed')
                    END AS dismissed_at_ms
             FROM tasks t {brand_condition}) AS w
         WHERE (opened_at_ms >= $1 AND opened_at_ms < $2)
            OR (first_response_at_ms >= $1 AND first_response_at_ms < $2)
            OR (resolved_at_ms >= $1 AND resolved_at_ms < $2)
            OR (dismissed_at_ms >= $1 AND dismissed_at_ms < $2)
            OR (due_at_ms >= $1 AND due_at_ms < $2)
         ORDER BY id"
    );
    let mut statement = sqlx::query(&sql).bind(start).bind(end);
    if let Some(brand) = brand {
        statement = statement.bind(brand.as_str());
    }
    let rows = statement.fetch_all(pool).await?;
    rows.iter()
        .map(|row| {
            Ok(ExportTask {
                id: get(row, "id")?,
                brand: brand_at(row, "brand_id")?,
                status: get(row, "status")?,
                opened_at_ms: get(row, "opened_at_ms")?,
                sla_started_at_ms: get(row, "sla_started_at_ms")?,
                due_at_ms: get(row, "due_at_ms")?,
                first_response_at_ms: get(row, "first_response_at_ms")?,
                resolved_at_ms: get(row, "resolved_at_ms")?,
                dismissed_at_ms: get(row, "dismissed_at_ms")?,
                recovered: get::<Option<i64>>(row, "recovered")?.map(|r| r != 0),
                assignee: get(row, "assignee")?,
            })
        })
        .collect()
}

pub(super) async fn first_post_at(pool: &AnyPool) -> Result<Option<Millis>, StoreError> {
    let row = sqlx::query("SELECT MIN(created_at_ms) AS first FROM posts")
        .fetch_one(pool)
        .await?;
    get::<Option<i64>>(&row, "first")
}

pub(super) async fn begin_export_run(
    tx: &mut Transaction<'static, Any>,
    run: &NewExportRun<'_>,
) -> Result<Option<i64>, StoreError> {
    if run.trigger == ExportTrigger::Scheduled {
        // A run that has been `running` for too long crashed; let this one replace it.
        sqlx::query(
            "UPDATE export_runs SET status = 'failed', finished_at_ms = $1, error = 'abandoned: still running after the stale limit'
             WHERE week = $2 AND scope = $3 AND trigger_kind = 'scheduled' AND status = 'running'
               AND started_at_ms < $4",
        )
        .bind(run.at)
        .bind(run.week)
        .bind(run.scope)
        .bind(run.stale_before)
        .execute(&mut **tx)
        .await?;
    }
    let row = sqlx::query(
        "INSERT INTO export_runs (week, scope, trigger_kind, status, started_at_ms)
         VALUES ($1, $2, $3, 'running', $4)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(run.week)
    .bind(run.scope)
    .bind(run.trigger.as_str())
    .bind(run.at)
    .fetch_optional(&mut **tx)
    .await?;
    row.map(|row| get::<i64>(&row, "id")).transpose()
}

pub(super) async fn finish_export_run(
    tx: &mut Transaction<'static, Any>,
    id: i64,
    end: &ExportRunEnd,
    at: Millis,
) -> Result<(), StoreError> {
    let result = match end {
        ExportRunEnd::Done { files, n_rows } => {
            let files_json = serde_json::to_string(files).map_err(|error| StoreError::Corrupt(error.to_string()))?;
            sqlx::query(
                "UPDATE export_runs SET status = 'done', finished_at_ms = $1, files_json = $2, n_rows = $3
                 WHERE id = $4",
            )
            .bind(at)
            .bind(files_json)
            .bind(i64::try_from(*n_rows).unwrap_or(i64::MAX))
            .bind(id)
            .execute(&mut **tx)
            .await?
        }
        ExportRunEnd::Failed { error } => {
            sqlx::query("UPDATE export_runs SET status = 'failed', finished_at_ms = $1, error = $2 WHERE id = $3")
                .bind(at)
                .bind(error.as_str())
                .bind(id)
                .execute(&mut **tx)
                .await?
        }
    };
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("export run {id}")));
    }
    Ok(())
}

pub(super) async fn export_runs(pool: &AnyPool, limit: usize) -> Result<Vec<ExportRunRow>, StoreError> {
    let limit = i64::try_from(limit.clamp(1, 1_000)).unwrap_or(100);
    let rows = sqlx::query(
        "SELECT id, week, scope, trigger_kind, status, started_at_ms, finished_at_ms, files_json, n_rows, error
         FROM export_runs ORDER BY started_at_ms DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let files_json: Option<String> = get(row, "files_json")?;
            let files = match files_json {
                Some(json) => serde_json::from_str(&json).map_err(|error| StoreError::Corrupt(error.to_string()))?,
                None => Vec::new(),
            };
            Ok(ExportRunRow {
                id: get(row, "id")?,
                week: get(row, "week")?,
                scope: get(row, "scope")?,
                trigger: get(row, "trigger_kind")?,
                status: get(row, "status")?,
                started_at_ms: get(row, "started_at_ms")?,
                finished_at_ms: get(row, "finished_at_ms")?,
                files,
                n_rows: get(row, "n_rows")?,
                error: get(row, "error")?,
            })
        })
        .collect()
}
