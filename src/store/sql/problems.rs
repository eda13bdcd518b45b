//! Recurring problems' rows: embeddings waiting to be grouped, a brand's window of grouped
//! complaints, saving a grouping (members once per mention, counts recomputed from the
//! members), labels, growth counts and the once-per-cool-down alert, and the problems as the
//! queue and the weekly export read them. Counts always come from `problem_members`, never
//! from a counter that could drift.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Transaction};

use super::alerts;
use super::params::placeholders;
use super::rows::{brand_at, get, platform_at};
use crate::alerts::AlertPayload;
use crate::domain::{BrandId, Embedding, MentionId, Millis, PostId, Priority, TaskId, TaskStatus};
use crate::problems::ProblemStatus;
use crate::problems::grouping::Centroid;
use crate::store::{
    ExportProblem, GroupCandidate, Grouping, GroupingSaved, ProblemChange, ProblemDetail, ProblemFilter, ProblemPost,
    ProblemRef, ProblemRow, ProblemTask, StoreError, TaskProblem, WindowMember,
};

const DAY_MS: i64 = 24 * 3_600_000;
/// Days in a listed problem's sparkline.
const SPARKLINE_DAYS: i64 = 14;

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn embedding_of(row: &AnyRow, column: &str) -> Result<Embedding, StoreError> {
    let text: String = get(row, column)?;
    Embedding::decode(&text).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn status_of(row: &AnyRow) -> Result<ProblemStatus, StoreError> {
    let status: String = get(row, "status")?;
    ProblemStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("problem status {status:?}")))
}

fn brand_of(row: &AnyRow) -> Result<BrandId, StoreError> {
    brand_at(row, "brand_id")
}

pub(super) async fn ungrouped(
    pool: &AnyPool,
    model: &str,
    since: Millis,
    after_mention_id: MentionId,
    limit: usize,
) -> Result<Vec<GroupCandidate>, StoreError> {
    let rows = sqlx::query(
        "SELECT m.id AS mention_id, m.post_id, m.brand_id, p.created_at_ms, p.text, e.vector
         FROM mentions m
         JOIN posts p ON p.id = m.post_id
         JOIN sentiments s ON s.post_id = m.post_id
         LEFT JOIN post_embeddings e ON e.post_id = m.post_id AND e.model = $1
         LEFT JOIN problem_members pm ON pm.mention_id = m.id
         WHERE pm.mention_id IS NULL AND m.id > $2 AND p.created_at_ms >= $3
           AND p.gone_at_ms IS NULL AND p.text <> ''
           AND s.status = 'scored' AND (s.label = 'negative' OR s.complaint >= $4)
         ORDER BY m.id
         LIMIT $5",
    )
    .bind(model)
    .bind(after_mention_id)
    .bind(since)
    .bind(crate::problems::COMPLAINT_CUT)
    .bind(limit_of(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(GroupCandidate {
                mention_id: get(row, "mention_id")?,
                post_id: get(row, "post_id")?,
                brand: brand_of(row)?,
                post_created_at: get(row, "created_at_ms")?,
                text: get(row, "text")?,
                embedding: match get::<Option<String>>(row, "vector")? {
                    Some(text) => Some(Embedding::decode(&text).map_err(|e| StoreError::Corrupt(e.to_string()))?),
                    None => None,
                },
            })
        })
        .collect()
}

pub(super) async fn save_embeddings(
    tx: &mut Transaction<'static, Any>,
    model: &str,
    embeddings: &[(PostId, Embedding)],
) -> Result<(), StoreError> {
    for (post_id, embedding) in embeddings {
        sqlx::query(
            "INSERT INTO post_embeddings (post_id, model, vector) VALUES ($1, $2, $3)
             ON CONFLICT (post_id) DO UPDATE SET model = excluded.model, vector = excluded.vector",
        )
        .bind(post_id)
        .bind(model)
        .bind(embedding.encode())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

pub(super) async fn centroids(
    pool: &AnyPool,
    brand: &BrandId,
    seen_since: Millis,
) -> Result<Vec<Centroid>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, centroid, n_members FROM problems
         WHERE brand_id = $1 AND merged_into IS NULL AND last_seen_at_ms >= $2
         ORDER BY id",
    )
    .bind(brand.as_str())
    .bind(seen_since)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let n: i64 = get(row, "n_members")?;
            Ok(Centroid {
                problem_id: get(row, "id")?,
                centroid: embedding_of(row, "centroid")?,
                n_members: u32::try_from(n.max(0)).unwrap_or(u32::MAX),
            })
        })
        .collect()
}

pub(super) async fn window_members(
    pool: &AnyPool,
    brand: &BrandId,
    model: &str,
    since: Millis,
    limit: usize,
) -> Result<Vec<WindowMember>, StoreError> {
    let rows = sqlx::query(
        "SELECT pm.mention_id, pm.problem_id, pm.post_created_at_ms, e.vector, p.text, p.lang
         FROM problem_members pm
         JOIN mentions m ON m.id = pm.mention_id
         JOIN posts p ON p.id = m.post_id
         JOIN post_embeddings e ON e.post_id = p.id
         WHERE pm.brand_id = $1 AND e.model = $2 AND pm.post_created_at_ms >= $3
         ORDER BY pm.post_created_at_ms DESC, pm.mention_id DESC
         LIMIT $4",
    )
    .bind(brand.as_str())
    .bind(model)
    .bind(since)
    .bind(limit_of(limit))
    .fetch_all(pool)
    .await?;
    let mut members = rows
        .iter()
        .map(|row| {
            Ok(WindowMember {
                mention_id: get(row, "mention_id")?,
                problem_id: get(row, "problem_id")?,
                post_created_at: get(row, "post_created_at_ms")?,
                embedding: embedding_of(row, "vector")?,
                text: get(row, "text")?,
                lang: get(row, "lang")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    members.reverse();
    Ok(members)
}

pub(super) async fn save_grouping(
    tx: &mut Transaction<'static, Any>,
    grouping: &Grouping,
    move_members: bool,
) -> Result<GroupingSaved, StoreError> {
    let brand = grouping
        .brand
        .as_ref()
        .ok_or_else(|| StoreError::Corrupt("a grouping names its brand".into()))?;
    let at = grouping.at;
    let centroid_of = |r: ProblemRef| grouping.centroids.iter().find(|(p, _)| *p == r).map(|(_, c)| c);
    let mut new_ids = Vec::with_capacity(grouping.new_problems);
    for k in 0..grouping.new_problems {
        let centroid = centroid_of(ProblemRef::New(k))
            .ok_or_else(|| StoreError::Corrupt(format!("new problem {k} has no centroid")))?;
        let seen = grouping
            .members
            .iter()
            .filter(|m| m.problem == ProblemRef::New(k))
            .map(|m| m.post_created_at);
        let first = seen.clone().min().unwrap_or(at);
        let last = seen.max().unwrap_or(at);
        let row = sqlx::query(
            "INSERT INTO problems (brand_id, status, centroid, n_members, first_seen_at_ms, last_seen_at_ms,
                                   created_at_ms, updated_at_ms)
             VALUES ($1, 'new', $2, 0, $3, $4, $5, $5) RETURNING id",
        )
        .bind(brand.as_str())
        .bind(centroid.encode())
        .bind(first)
        .bind(last)
        .bind(at)
        .fetch_one(&mut **tx)
        .await?;
        new_ids.push(get::<i64>(&row, "id")?);
    }
    let resolve = |r: ProblemRef| -> Result<i64, StoreError> {
        match r {
            ProblemRef::Existing(id) => Ok(id),
            ProblemRef::New(k) => new_ids
                .get(k)
                .copied()
                .ok_or_else(|| StoreError::Corrupt(format!("member of unknown new problem {k}"))),
        }
    };
    let mut touched: BTreeSet<i64> = new_ids.iter().copied().collect();
    let mut joined: BTreeSet<i64> = BTreeSet::new();
    for member in &grouping.members {
        let problem_id = resolve(member.problem)?;
        let sql = if move_members {
            "INSERT INTO problem_members (mention_id, problem_id, brand_id, post_created_at_ms, similarity, assigned_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (mention_id) DO UPDATE SET problem_id = excluded.problem_id, similarity = excluded.similarity"
        } else {
            "INSERT INTO problem_members (mention_id, problem_id, brand_id, post_created_at_ms, similarity, assigned_at_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (mention_id) DO NOTHING"
        };
        let inserted = sqlx::query(sql)
            .bind(member.mention_id)
            .bind(problem_id)
            .bind(brand.as_str())
            .bind(member.post_created_at)
            .bind(f64::from(member.similarity))
            .bind(at)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if inserted > 0 {
            touched.insert(problem_id);
            joined.insert(problem_id);
        }
    }
    for (problem, centroid) in &grouping.centroids {
        let id = resolve(*problem)?;
        sqlx::query("UPDATE problems SET centroid = $2, updated_at_ms = $3 WHERE id = $1")
            .bind(id)
            .bind(centroid.encode())
            .bind(at)
            .execute(&mut **tx)
            .await?;
        touched.insert(id);
    }
    for (from, into) in &grouping.merges {
        let into = resolve(*into)?;
        sqlx::query(
            "UPDATE problems SET merged_into = $2, updated_at_ms = $3
             WHERE id = $1 AND id <> $2 AND NOT EXISTS (SELECT 1 FROM problem_members WHERE problem_id = $1)",
        )
        .bind(from)
        .bind(into)
        .bind(at)
        .execute(&mut **tx)
        .await?;
        touched.insert(*from);
    }
    // Counts and first/last seen from the members: of every problem of the brand after a
    // re-clustering (members moved between them), else of the touched ones.
    let scope: Vec<i64> = if move_members {
        let rows = sqlx::query("SELECT id FROM problems WHERE brand_id = $1 AND merged_into IS NULL")
            .bind(brand.as_str())
            .fetch_all(&mut **tx)
            .await?;
        rows.iter().map(|r| get::<i64>(r, "id")).collect::<Result<_, _>>()?
    } else {
        touched.iter().copied().collect()
    };
    for id in &scope {
        sqlx::query(
            "UPDATE problems SET
                 n_members = (SELECT COUNT(*) FROM problem_members WHERE problem_id = $1),
                 first_seen_at_ms = COALESCE((SELECT MIN(post_created_at_ms) FROM problem_members WHERE problem_id = $1), first_seen_at_ms),
                 last_seen_at_ms = COALESCE((SELECT MAX(post_created_at_ms) FROM problem_members WHERE problem_id = $1), last_seen_at_ms)
             WHERE id = $1",
        )
        .bind(id)
        .execute(&mut **tx)
        .await?;
    }
    if !move_members {
        // A fixed problem that new complaints join is back: acknowledged, so leads see it.
        for id in &joined {
            sqlx::query(
                "UPDATE problems SET status = 'acknowledged', updated_at_ms = $2 WHERE id = $1 AND status = 'fixed'",
            )
            .bind(id)
            .bind(at)
            .execute(&mut **tx)
            .await?;
        }
        // A new problem whose members another instance grouped first holds nothing: drop it.
        for id in &new_ids {
            sqlx::query(
                "DELETE FROM problems WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM problem_members WHERE problem_id = $1)",
            )
            .bind(id)
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(GroupingSaved {
        new_ids,
        touched: touched.into_iter().collect(),
    })
}

pub(super) async fn set_labels(
    tx: &mut Transaction<'static, Any>,
    labels: &[(i64, String, Vec<String>)],
) -> Result<(), StoreError> {
    for (id, label, terms) in labels {
        let terms = serde_json::to_string(terms).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query("UPDATE problems SET label = $2, terms_json = $3 WHERE id = $1")
            .bind(id)
            .bind(label)
            .bind(terms)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// For each problem: complaints written at or after `window_start`, those in
/// `[baseline_start, window_start)`, and when it last alerted as growing.
pub(super) async fn growth_counts(
    pool: &AnyPool,
    ids: &[i64],
    window_start: Millis,
    baseline_start: Millis,
) -> Result<Vec<(i64, i64, i64, Option<Millis>)>, StoreError> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(200) {
        let sql = format!(
            "SELECT pr.id, pr.growing_alert_at_ms,
                    (SELECT COUNT(*) FROM problem_members pm WHERE pm.problem_id = pr.id AND pm.post_created_at_ms >= $1) AS n_window,
                    (SELECT COUNT(*) FROM problem_members pm WHERE pm.problem_id = pr.id
                        AND pm.post_created_at_ms >= $2 AND pm.post_created_at_ms < $1) AS n_baseline
             FROM problems pr WHERE pr.merged_into IS NULL AND pr.id IN ({})",
            placeholders(3, chunk.len())
        );
        let mut query = sqlx::query(&sql).bind(window_start).bind(baseline_start);
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(pool).await? {
            out.push((
                get(&row, "id")?,
                get(&row, "n_window")?,
                get(&row, "n_baseline")?,
                get(&row, "growing_alert_at_ms")?,
            ));
        }
    }
    Ok(out)
}

/// Enqueues the growing alert and records when, unless the problem alerted at or after
/// `cooldown_since` (another instance, or an earlier run): false then, and nothing changes.
pub(super) async fn alert_growing(
    tx: &mut Transaction<'static, Any>,
    problem_id: i64,
    payload: &AlertPayload,
    cooldown_since: Millis,
    at: Millis,
) -> Result<bool, StoreError> {
    let marked = sqlx::query(
        "UPDATE problems SET growing_alert_at_ms = $2
         WHERE id = $1 AND (growing_alert_at_ms IS NULL OR growing_alert_at_ms < $3)",
    )
    .bind(problem_id)
    .bind(at)
    .bind(cooldown_since)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if marked == 0 {
        return Ok(false);
    }
    let brand = match payload {
        AlertPayload::ProblemGrowing { brand, .. } => Some(brand.as_str()),
        _ => None,
    };
    alerts::enqueue_alert(tx, brand, payload, at).await
}

const PROBLEM_COLUMNS: &str = "pr.id, pr.brand_id, pr.status, pr.label, pr.terms_json, pr.first_seen_at_ms,
    pr.last_seen_at_ms, pr.owner, pr.note, pr.message, pr.updated_at_ms";

/// What the members of the listed problems add: counts, tasks, platforms and the sparkline.
async fn with_member_stats(pool: &AnyPool, rows: Vec<AnyRow>, now: Millis) -> Result<Vec<ProblemRow>, StoreError> {
    let mut problems = rows
        .iter()
        .map(|row| {
            let terms: String = get(row, "terms_json")?;
            Ok(ProblemRow {
                id: get(row, "id")?,
                brand: brand_at(row, "brand_id")?,
                status: status_of(row)?,
                label: get(row, "label")?,
                terms: serde_json::from_str(&terms).map_err(|e| StoreError::Corrupt(e.to_string()))?,
                n_complaints: 0,
                first_seen_at_ms: get(row, "first_seen_at_ms")?,
                last_seen_at_ms: get(row, "last_seen_at_ms")?,
                owner: get(row, "owner")?,
                note: get(row, "note")?,
                message: get(row, "message")?,
                updated_at_ms: get(row, "updated_at_ms")?,
                n_last_day: 0,
                n_day_before: 0,
                n_active_tasks: 0,
                n_unanswered: 0,
                platforms: Vec::new(),
                daily: vec![0; SPARKLINE_DAYS as usize],
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    if problems.is_empty() {
        return Ok(problems);
    }
    let at: HashMap<i64, usize> = problems.iter().enumerate().map(|(i, p)| (p.id, i)).collect();
    let ids: Vec<i64> = problems.iter().map(|p| p.id).collect();
    let mut platforms: Vec<BTreeSet<String>> = vec![BTreeSet::new(); problems.len()];
    let mut tasks: Vec<BTreeMap<TaskId, (String, Option<Millis>)>> = vec![BTreeMap::new(); problems.len()];
    let today_start = now - DAY_MS;
    for chunk in ids.chunks(200) {
        let sql = format!(
            "SELECT pm.problem_id, pm.post_created_at_ms, p.platform, t.id AS task_id, t.status AS task_status,
                    t.first_response_at_ms
             FROM problem_members pm
             JOIN mentions m ON m.id = pm.mention_id
             JOIN posts p ON p.id = m.post_id
             LEFT JOIN assessments a ON a.mention_id = pm.mention_id
             LEFT JOIN tasks t ON t.id = a.task_id
             WHERE pm.problem_id IN ({})",
            placeholders(1, chunk.len())
        );
        let mut query = sqlx::query(&sql);
        for id in chunk {
            query = query.bind(id);
        }
        for row in query.fetch_all(pool).await? {
            let problem_id: i64 = get(&row, "problem_id")?;
            let Some(&i) = at.get(&problem_id) else { continue };
            let created: Millis = get(&row, "post_created_at_ms")?;
            let p = &mut problems[i];
            p.n_complaints += 1;
            if created >= today_start {
                p.n_last_day += 1;
            } else if created >= today_start - DAY_MS {
                p.n_day_before += 1;
            }
            let days_ago = (now - created).div_euclid(DAY_MS);
            if (0..SPARKLINE_DAYS).contains(&days_ago) {
                p.daily[(SPARKLINE_DAYS - 1 - days_ago) as usize] += 1;
            }
            platforms[i].insert(get(&row, "platform")?);
            if let Some(task_id) = get::<Option<TaskId>>(&row, "task_id")? {
                let status: String = get(&row, "task_status")?;
                tasks[i].insert(task_id, (status, get(&row, "first_response_at_ms")?));
            }
        }
    }
    for (i, p) in problems.iter_mut().enumerate() {
        p.platforms = std::mem::take(&mut platforms[i]).into_iter().collect();
        for (status, first_response) in tasks[i].values() {
            let active = status
                .parse::<TaskStatus>()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?
                .is_active();
            if active {
                p.n_active_tasks += 1;
                if first_response.is_none() {
                    p.n_unanswered += 1;
                }
            }
        }
    }
    Ok(problems)
}

pub(super) async fn list(pool: &AnyPool, filter: &ProblemFilter) -> Result<Vec<ProblemRow>, StoreError> {
    let sql = format!(
        "SELECT {PROBLEM_COLUMNS} FROM problems pr
         WHERE pr.merged_into IS NULL AND pr.n_members >= $1 AND pr.last_seen_at_ms >= $2
           AND ($3 = '' OR pr.brand_id = $3) AND ($4 = '' OR pr.status = $4)
         ORDER BY pr.last_seen_at_ms DESC, pr.id DESC
         LIMIT $5"
    );
    let rows = sqlx::query(&sql)
        .bind(filter.min_complaints)
        .bind(filter.seen_since)
        .bind(filter.brand.as_ref().map(|b| b.as_str().to_owned()).unwrap_or_default())
        .bind(filter.status.map(|s| s.as_str()).unwrap_or_default())
        .bind(limit_of(filter.limit))
        .fetch_all(pool)
        .await?;
    with_member_stats(pool, rows, filter.now).await
}

pub(super) async fn row(pool: &AnyPool, id: i64, now: Millis) -> Result<ProblemRow, StoreError> {
    let sql = format!("SELECT {PROBLEM_COLUMNS} FROM problems pr WHERE pr.id = $1 AND pr.merged_into IS NULL");
    let rows = sqlx::query(&sql).bind(id).fetch_all(pool).await?;
    with_member_stats(pool, rows, now)
        .await?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("problem {id}")))
}

pub(super) async fn detail(pool: &AnyPool, id: i64, now: Millis) -> Result<ProblemDetail, StoreError> {
    let problem = row(pool, id, now).await?;
    let example_rows = sqlx::query(
        "SELECT pm.mention_id, p.platform, p.author_handle, p.text, p.url, p.created_at_ms, a.task_id
         FROM problem_members pm
         JOIN mentions m ON m.id = pm.mention_id
         JOIN posts p ON p.id = m.post_id
         LEFT JOIN assessments a ON a.mention_id = pm.mention_id
         WHERE pm.problem_id = $1 AND p.text <> ''
         ORDER BY pm.similarity DESC, p.created_at_ms DESC
         LIMIT 5",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let examples = example_rows
        .iter()
        .map(|row| {
            Ok(ProblemPost {
                mention_id: get(row, "mention_id")?,
                platform: platform_at(row, "platform")?,
                author: get(row, "author_handle")?,
                text: get(row, "text")?,
                url: get(row, "url")?,
                created_at_ms: get(row, "created_at_ms")?,
                task_id: get(row, "task_id")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let task_rows = sqlx::query(
        "SELECT DISTINCT t.id, t.status, t.priority, t.platform, t.author_handle, t.assignee, t.first_response_at_ms,
                t.opened_at_ms
         FROM problem_members pm
         JOIN assessments a ON a.mention_id = pm.mention_id
         JOIN tasks t ON t.id = a.task_id
         WHERE pm.problem_id = $1
         ORDER BY t.opened_at_ms DESC, t.id DESC
         LIMIT 500",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let tasks = task_rows
        .iter()
        .map(|row| {
            let status: String = get(row, "status")?;
            let rank: i64 = get(row, "priority")?;
            Ok(ProblemTask {
                id: get(row, "id")?,
                status: status
                    .parse()
                    .map_err(|e: crate::domain::UnknownName| StoreError::Corrupt(e.to_string()))?,
                priority: Priority::from_rank(rank)
                    .ok_or_else(|| StoreError::Corrupt(format!("priority rank {rank}")))?,
                platform: platform_at(row, "platform")?,
                author: get(row, "author_handle")?,
                assignee: get(row, "assignee")?,
                first_response_at_ms: get(row, "first_response_at_ms")?,
                opened_at_ms: get(row, "opened_at_ms")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(ProblemDetail {
        problem,
        examples,
        tasks,
    })
}

pub(super) async fn update(tx: &mut Transaction<'static, Any>, change: &ProblemChange) -> Result<(), StoreError> {
    let row = sqlx::query("SELECT status, owner, note, message FROM problems WHERE id = $1 AND merged_into IS NULL")
        .bind(change.id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("problem {}", change.id)))?;
    let status = change.status.unwrap_or(status_of(&row)?);
    let owner = match &change.owner {
        Some(owner) => owner.clone(),
        None => get(&row, "owner")?,
    };
    let note = match &change.note {
        Some(note) => note.clone(),
        None => get(&row, "note")?,
    };
    let message = match &change.message {
        Some(message) => message.clone(),
        None => get(&row, "message")?,
    };
    sqlx::query(
        "UPDATE problems SET status = $2, owner = $3, note = $4, message = $5, updated_at_ms = $6 WHERE id = $1",
    )
    .bind(change.id)
    .bind(status.as_str())
    .bind(owner)
    .bind(note)
    .bind(message)
    .bind(change.at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(super) async fn task_problem(pool: &AnyPool, task_id: TaskId) -> Result<Option<TaskProblem>, StoreError> {
    let row = sqlx::query(
        "SELECT pr.id, pr.label, pr.status, pr.message, COUNT(*) AS n
         FROM assessments a
         JOIN problem_members pm ON pm.mention_id = a.mention_id
         JOIN problems pr ON pr.id = pm.problem_id
         WHERE a.task_id = $1 AND pr.merged_into IS NULL
         GROUP BY pr.id, pr.label, pr.status, pr.message
         ORDER BY n DESC, pr.id
         LIMIT 1",
    )
    .bind(task_id)
    .fetch_optional(pool)
    .await?;
    row.map(|row| {
        Ok(TaskProblem {
            id: get(&row, "id")?,
            label: get(&row, "label")?,
            status: status_of(&row)?,
            message: get(&row, "message")?,
        })
    })
    .transpose()
}

pub(super) async fn export(
    pool: &AnyPool,
    start: Millis,
    end: Millis,
    brand: Option<&BrandId>,
    min_complaints: i64,
) -> Result<Vec<ExportProblem>, StoreError> {
    let rows = sqlx::query(
        "SELECT pr.id, pr.brand_id, pr.label, pr.status, pr.first_seen_at_ms, pr.last_seen_at_ms,
                pm.mention_id, t.id AS task_id, t.status AS task_status, t.first_response_at_ms, t.sla_started_at_ms
         FROM problem_members pm
         JOIN problems pr ON pr.id = pm.problem_id
         LEFT JOIN assessments a ON a.mention_id = pm.mention_id
         LEFT JOIN tasks t ON t.id = a.task_id
         WHERE pm.post_created_at_ms >= $1 AND pm.post_created_at_ms < $2 AND pr.merged_into IS NULL
           AND ($3 = '' OR pr.brand_id = $3)
         ORDER BY pr.id",
    )
    .bind(start)
    .bind(end)
    .bind(brand.map(|b| b.as_str().to_owned()).unwrap_or_default())
    .fetch_all(pool)
    .await?;
    struct Acc {
        problem: ExportProblem,
        tasks: BTreeMap<TaskId, (bool, Option<Millis>)>,
    }
    let mut by_id: BTreeMap<i64, Acc> = BTreeMap::new();
    for row in &rows {
        let id: i64 = get(row, "id")?;
        let acc = match by_id.entry(id) {
            std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::btree_map::Entry::Vacant(entry) => entry.insert(Acc {
                problem: ExportProblem {
                    id,
                    brand: brand_at(row, "brand_id")?,
                    label: get(row, "label")?,
                    status: status_of(row)?,
                    complaints: 0,
                    unanswered: 0,
                    first_response_waits_ms: Vec::new(),
                    first_seen_at_ms: get(row, "first_seen_at_ms")?,
                    last_seen_at_ms: get(row, "last_seen_at_ms")?,
                },
                tasks: BTreeMap::new(),
            }),
        };
        acc.problem.complaints += 1;
        if let Some(task_id) = get::<Option<TaskId>>(row, "task_id")? {
            let status: String = get(row, "task_status")?;
            let active = status
                .parse::<TaskStatus>()
                .map_err(|e| StoreError::Corrupt(e.to_string()))?
                .is_active();
            let first: Option<Millis> = get(row, "first_response_at_ms")?;
            let started: Option<Millis> = get(row, "sla_started_at_ms")?;
            let minutes = first.zip(started).map(|(f, s)| (f - s).max(0));
            acc.tasks.insert(task_id, (active && first.is_none(), minutes));
        }
    }
    let mut out: Vec<ExportProblem> = by_id
        .into_values()
        .filter(|acc| acc.problem.complaints >= min_complaints)
        .map(|mut acc| {
            acc.problem.unanswered = acc.tasks.values().filter(|(unanswered, _)| *unanswered).count() as i64;
            let mut waits: Vec<i64> = acc.tasks.values().filter_map(|(_, ms)| *ms).collect();
            waits.sort_unstable();
            acc.problem.first_response_waits_ms = waits;
            acc.problem
        })
        .collect();
    out.sort_by(|a, b| b.complaints.cmp(&a.complaints).then(a.id.cmp(&b.id)));
    Ok(out)
}
