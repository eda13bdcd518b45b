//! The mentions sweep under `/api`: every mention, flagged or not, with filters, text search,
//! paging and a total (`GET /mentions`), and "this needed an answer" (`POST
//! /mentions/{id}/task`), which opens or joins a task by the pipeline's rules and records a
//! missed-complaint example. Any role that reads the queue may use both.

use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;

use super::auth::Caller;
use super::{ApiError, AppState};
use crate::domain::{BrandId, Criticality, MentionId, Millis, Platform, SearchTerm, SentimentLabel, now_millis};
use crate::store::{
    MentionFilter, MentionPage, MentionRow, MentionSort, MentionTaskOutcome, MentionTaskRequest, TaskRow,
};

/// Mentions per page when the request does not say.
const DEFAULT_LIMIT: usize = 50;
/// Most mentions one page may hold.
const MAX_LIMIT: usize = 200;
/// Deepest page start accepted; narrow the filters (brand, dates, search) to go further.
const MAX_OFFSET: usize = 100_000;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/mentions", get(list_mentions))
        .route("/mentions/{id}/task", post(open_task))
}

/// The query string of `GET /api/mentions`, as text: every value is parsed here, so a bad
/// one is a 400 that says which and why.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MentionQuery {
    brand: Option<String>,
    platform: Option<String>,
    q: Option<String>,
    sentiment: Option<String>,
    below_threshold: Option<String>,
    since: Option<String>,
    until: Option<String>,
    sort: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
}

pub(super) fn bad(message: impl Into<String>) -> ApiError {
    ApiError::BadRequest(message.into())
}

pub(super) fn present(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// A whole number in `min..=max`.
pub(super) fn bounded(
    name: &str,
    value: Option<String>,
    default: usize,
    min: usize,
    max: usize,
) -> Result<usize, ApiError> {
    let Some(value) = present(value) else {
        return Ok(default);
    };
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            bad(format!(
                "{name} must be a whole number from {min} to {max}, not {value:?}"
            ))
        })
}

/// An instant: RFC 3339 (`2026-11-23T08:00:00Z`) or a date (`2026-11-23`, midnight UTC).
pub(super) fn instant(name: &str, value: Option<String>) -> Result<Option<Millis>, ApiError> {
    let Some(value) = present(value) else {
        return Ok(None);
    };
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(&value) {
        return Ok(Some(at.timestamp_millis()));
    }
    if let Ok(day) = chrono::NaiveDate::parse_from_str(&value, "%Y-%m-%d")
        && let Some(midnight) = day.and_hms_opt(0, 0, 0)
    {
        return Ok(Some(midnight.and_utc().timestamp_millis()));
    }
    Err(bad(format!(
        "{name} must be an RFC 3339 time (2026-11-23T08:00:00Z) or a date (2026-11-23), not {value:?}"
    )))
}

impl MentionQuery {
    fn into_filter(self) -> Result<MentionFilter, ApiError> {
        let brand = present(self.brand)
            .map(|b| BrandId::parse(&b).map_err(|e| bad(format!("brand: {e}"))))
            .transpose()?;
        let platform = present(self.platform)
            .map(|p| {
                p.parse::<Platform>().map_err(|_| {
                    let names: Vec<&str> = Platform::ALL.iter().map(|p| p.as_str()).collect();
                    bad(format!("platform must be one of {}, not {p:?}", names.join(", ")))
                })
            })
            .transpose()?;
        let q = present(self.q)
            .map(|q| SearchTerm::parse(&q).map_err(|e| bad(e.to_string())))
            .transpose()?;
        let sentiment = present(self.sentiment)
            .map(|s| {
                SentimentLabel::ALL
                    .into_iter()
                    .find(|l| l.as_str() == s)
                    .ok_or_else(|| bad(format!("sentiment must be negative, neutral or positive, not {s:?}")))
            })
            .transpose()?;
        let below_threshold = match present(self.below_threshold).as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => return Err(bad(format!("below_threshold must be true or false, not {other:?}"))),
        };
        let since = instant("since", self.since)?;
        let until = instant("until", self.until)?;
        if let (Some(since), Some(until)) = (since, until)
            && until <= since
        {
            return Err(bad("until must be later than since"));
        }
        let sort = match present(self.sort).as_deref() {
            None | Some("criticality") => MentionSort::Criticality,
            Some("newest") => MentionSort::Newest,
            Some(other) => return Err(bad(format!("sort must be criticality or newest, not {other:?}"))),
        };
        Ok(MentionFilter {
            brand,
            platform,
            q,
            sentiment,
            below_threshold,
            since,
            until,
            sort,
            limit: bounded("limit", self.limit, DEFAULT_LIMIT, 1, MAX_LIMIT)?,
            offset: bounded("offset", self.offset, 0, 0, MAX_OFFSET)?,
        })
    }
}

/// A page of mentions, the total and the paging that produced it.
#[derive(Debug, serde::Serialize)]
struct MentionsResponse {
    total: i64,
    limit: usize,
    offset: usize,
    sort: MentionSort,
    items: Vec<MentionRow>,
}

async fn list_mentions(
    State(state): State<AppState>,
    query: Result<Query<MentionQuery>, QueryRejection>,
) -> Result<Json<MentionsResponse>, ApiError> {
    let Query(query) = query.map_err(|rejection| bad(rejection.body_text()))?;
    let filter = query.into_filter()?;
    let MentionPage { total, items } = state.store.list_mentions(&filter).await?;
    Ok(Json(MentionsResponse {
        total,
        limit: filter.limit,
        offset: filter.offset,
        sort: filter.sort,
        items,
    }))
}

/// The optional body of `POST /api/mentions/{id}/task`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct OpenTaskRequest {
    /// The post's real sentiment, kept with the missed-complaint example if given.
    #[serde(default)]
    label: Option<SentimentLabel>,
}

/// What `POST /api/mentions/{id}/task` answers: `outcome` and `task_id` (from the flattened
/// outcome), the mention and the task as it is now.
#[derive(Debug, serde::Serialize)]
struct OpenTaskResponse {
    mention_id: MentionId,
    #[serde(flatten)]
    outcome: MentionTaskOutcome,
    task: TaskRow,
}

/// "This needed an answer": opens a task for the mention (or joins its author's open
/// conversation), once. 201 when a task was opened, 200 when it joined one or the mention
/// had its task already.
async fn open_task(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<OpenTaskResponse>), ApiError> {
    let mention_id = id
        .parse::<MentionId>()
        .ok()
        .filter(|id| id.get() > 0)
        .ok_or_else(|| bad(format!("mention id must be a positive whole number, not {id:?}")))?;
    let request: OpenTaskRequest = if body.iter().all(u8::is_ascii_whitespace) {
        OpenTaskRequest::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| bad(format!("body: {e}")))?
    };
    let detail = state.store.mention_detail(mention_id).await?;
    let outcome = match detail.row.task_id {
        Some(task_id) => MentionTaskOutcome::Existing { task_id },
        None => {
            if !detail.row.assessed {
                return Err(ApiError::Conflict(format!(
                    "mention {mention_id} is not scored yet; try again in a few seconds"
                )));
            }
            let brand = state.settings.brand(&detail.brand).ok_or_else(|| {
                ApiError::Conflict(format!(
                    "brand {} is no longer configured; its mentions open no tasks",
                    detail.brand
                ))
            })?;
            let now = now_millis();
            let criticality = Criticality::from_factors(detail.row.factors.clone());
            let plan = crate::tasks::plan_from_review(
                brand,
                &detail.post,
                detail.first_seen_at,
                &criticality,
                &state.settings.tasks,
                now,
                &caller.actor.name,
            );
            state
                .store
                .open_task_from_mention(MentionTaskRequest {
                    mention_id,
                    brand: detail.brand.clone(),
                    criticality: detail.row.criticality.unwrap_or_else(|| criticality.score()),
                    plan,
                    reviewer: caller.actor.name.clone(),
                    label: request.label,
                    at: now,
                })
                .await?
        }
    };
    let task_id = outcome.task_id();
    tracing::info!(
        mention = mention_id.get(),
        task = task_id.get(),
        actor = %caller.actor.name,
        outcome = ?outcome,
        "Task opened from a mention."
    );
    let task = state.store.task_detail(task_id).await?.task;
    let status = match outcome {
        MentionTaskOutcome::Opened { .. } => StatusCode::CREATED,
        MentionTaskOutcome::Joined { .. } | MentionTaskOutcome::Existing { .. } => StatusCode::OK,
    };
    Ok((
        status,
        Json(OpenTaskResponse {
            mention_id,
            outcome,
            task,
        }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(pairs: &[(&str, &str)]) -> Result<MentionFilter, ApiError> {
        let encoded = pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencoding_of(v)))
            .collect::<Vec<_>>()
            .join("&");
        let uri: axum::http::Uri = format!("/api/mentions?{encoded}").parse().unwrap();
        let Query(q) = Query::<MentionQuery>::try_from_uri(&uri).map_err(|r| bad(r.body_text()))?;
        q.into_filter()
    }

    fn urlencoding_of(value: &str) -> String {
        value
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect()
    }

    fn message(result: Result<MentionFilter, ApiError>) -> String {
        match result {
            Err(ApiError::BadRequest(message)) => message,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn defaults_and_every_filter_parse() {
        let filter = query(&[]).unwrap();
        assert_eq!(
            (filter.limit, filter.offset, filter.sort),
            (50, 0, MentionSort::Criticality)
        );
        assert!(!filter.below_threshold);
        let filter = query(&[
            ("brand", "acme"),
            ("platform", "bluesky"),
            ("q", " Lost BAG "),
            ("sentiment", "negative"),
            ("below_threshold", "true"),
            ("since", "2026-11-23"),
            ("until", "2026-11-24T12:00:00+01:00"),
            ("sort", "newest"),
            ("limit", "200"),
            ("offset", "100000"),
            ("unused", ""),
        ]);
        assert!(message(filter).contains("unknown field `unused`"));
        let filter = query(&[
            ("brand", "acme"),
            ("platform", "bluesky"),
            ("q", " Lost BAG "),
            ("sentiment", "negative"),
            ("below_threshold", "true"),
            ("since", "2026-11-23"),
            ("until", "2026-11-24T12:00:00+01:00"),
            ("sort", "newest"),
            ("limit", "200"),
            ("offset", "100000"),
        ])
        .unwrap();
        assert_eq!(filter.brand.unwrap().as_str(), "acme");
        assert_eq!(filter.platform, Some(Platform::Bluesky));
        assert_eq!(filter.q.unwrap().as_str(), "lost bag");
        assert_eq!(filter.sentiment, Some(SentimentLabel::Negative));
        assert!(filter.below_threshold);
        assert_eq!(filter.since, Some(1_795_392_000_000));
        assert_eq!(filter.until, Some(1_795_518_000_000));
        assert_eq!(
            (filter.limit, filter.offset, filter.sort),
            (200, 100_000, MentionSort::Newest)
        );
        let blank = query(&[("brand", ""), ("q", "  "), ("limit", ""), ("below_threshold", "")]).unwrap();
        assert!(blank.brand.is_none() && blank.q.is_none() && blank.limit == 50);
    }

    #[test]
    fn bad_values_are_400s_that_say_what_is_wrong() {
        let cases: &[(&str, &str, &str)] = &[
            ("limit", "0", "limit must be a whole number from 1 to 200"),
            ("limit", "201", "limit must be a whole number from 1 to 200"),
            ("limit", "-1", "limit must be"),
            ("limit", "ten", "limit must be"),
            ("offset", "100001", "offset must be a whole number from 0 to 100000"),
            ("offset", "9223372036854775808", "offset must be"),
            ("offset", "99999999999999999999999", "offset must be"),
            ("platform", "myspace", "platform must be one of x, bluesky"),
            ("sentiment", "angry", "sentiment must be negative, neutral or positive"),
            ("sentiment", "0", "sentiment must be"),
            ("below_threshold", "yes", "below_threshold must be true or false"),
            ("sort", "oldest", "sort must be criticality or newest"),
            ("since", "yesterday", "since must be an RFC 3339 time"),
            ("brand", "Acme Air!", "brand:"),
            ("q", "\u{7}", "q contains control characters"),
        ];
        for (key, value, expected) in cases {
            let got = message(query(&[(key, value)]));
            assert!(got.contains(expected), "{key}={value:?}: {got}");
        }
        let long = "x".repeat(201);
        assert!(message(query(&[("q", &long)])).contains("longer than 200"));
        let reversed = query(&[("since", "2026-11-24"), ("until", "2026-11-23")]);
        assert_eq!(message(reversed), "until must be later than since");
    }
}
