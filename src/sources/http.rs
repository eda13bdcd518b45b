//! The HTTP part every platform connector shares: send a request with the shared client,
//! retry 5xx answers and timeouts a bounded number of times with exponential backoff and
//! jitter (tokio time, so tests run with paused time), map the final status to `SourceError`,
//! and decode JSON bodies or hand back the raw body as `Malformed`.
//!
//! Waiting for a rate-limit reset is not done here: a 429 becomes `RateLimited` with the delay
//! read from `Retry-After` (seconds or HTTP date) or the platform's own reset header, and the
//! scheduler waits. 401/403 become `Unauthorized` with the body's message, so source health
//! shows why.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde::de::DeserializeOwned;

use super::SourceError;

/// How a platform says when its rate-limit window resets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetHeader {
    /// Unix epoch seconds (X `x-rate-limit-reset`, Bluesky `RateLimit-Reset`).
    EpochSeconds(&'static str),
    /// Seconds from now (Reddit `X-Ratelimit-Reset`).
    SecondsFromNow(&'static str),
    /// An RFC 3339 timestamp (Mastodon `X-RateLimit-Reset`).
    Timestamp(&'static str),
    /// The platform documents no reset header.
    None,
}

/// Retry policy within one poll, for 5xx answers and transport failures.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in total, the first included.
    pub attempts: u32,
    /// Delay before the second attempt; doubles each time, plus up to 50% jitter.
    pub base_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 3,
            base_delay: Duration::from_millis(500),
        }
    }
}

/// A response with a status the connector has to look at (2xx or 304), body read.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as `T`, or `Malformed` with the raw body kept for quarantine.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, SourceError> {
        decode_json(&self.body)
    }

    /// Like `json`, for an answer that carries credentials (a session or an access token):
    /// when it does not decode, the raw body is not kept, so no token can reach the
    /// quarantine (which the UI shows); the reason still says where it went wrong.
    pub fn credentials_json<T: DeserializeOwned>(&self) -> Result<T, SourceError> {
        decode_json(&self.body).map_err(|error| match error {
            SourceError::Malformed { reason, .. } => SourceError::Malformed {
                reason: format!("{reason} (the answer carries credentials, so it is not kept)"),
                raw: Vec::new(),
            },
            other => other,
        })
    }

    /// Whether the answer says the rate-limit window has no requests left
    /// (`x-rate-limit-remaining` on X, `RateLimit-Remaining` on Bluesky,
    /// `X-RateLimit-Remaining` on Mastodon and Reddit, which sends a decimal): a poll then
    /// stops paging, keeping its cursor, instead of running into a 429.
    pub fn quota_exhausted(&self) -> bool {
        ["x-rate-limit-remaining", "ratelimit-remaining", "x-ratelimit-remaining"]
            .iter()
            .filter_map(|name| self.header(name))
            .filter_map(|value| value.trim().parse::<f64>().ok())
            .any(|remaining| remaining < 1.0)
    }

    /// A header's value as text, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Decodes a JSON body, or says why not and keeps the raw bytes.
pub fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, SourceError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| SourceError::Malformed {
        reason: format!("unexpected JSON at {}: {}", error.path(), error.inner()),
        raw: body.to_vec(),
    })
}

/// Sends the request `build` makes (called again for each attempt), retrying 5xx answers and
/// transport failures per `retry`, and maps the final outcome to `SourceError`. 2xx and 304
/// come back as a `Response`.
pub async fn send(
    build: impl Fn() -> reqwest::RequestBuilder,
    reset: ResetHeader,
    retry: RetryPolicy,
) -> Result<Response, SourceError> {
    let attempts = retry.attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let outcome = attempt_once(build(), reset).await;
        match outcome {
            Err(error) if attempt < attempts && retriable_now(&error) => {
                let delay = backoff(retry.base_delay, attempt);
                tracing::debug!(
                    attempt,
                    kind = error.kind(),
                    delay_ms = delay.as_millis() as u64,
                    "Request failed; retrying."
                );
                tokio::time::sleep(delay).await;
            }
            other => return other,
        }
    }
}

/// Errors worth retrying within the same poll: server errors and transport failures.
fn retriable_now(error: &SourceError) -> bool {
    matches!(error, SourceError::Server { .. } | SourceError::Transport(_))
}

/// `base * 2^(attempt-1)` plus up to half of that again, at random.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let exponential = base.saturating_mul(1u32 << (attempt.saturating_sub(1)).min(16));
    let jitter = exponential.mul_f64(fastrand::f64() * 0.5);
    exponential.saturating_add(jitter)
}

/// Like `send`, but hands back every answer that is not a 5xx or a transport failure, so a
/// connector can read a platform-specific error body (YouTube's `quotaExceeded` 403) before
/// mapping it with `classify`.
pub async fn send_unchecked(
    build: impl Fn() -> reqwest::RequestBuilder,
    retry: RetryPolicy,
) -> Result<Response, SourceError> {
    let attempts = retry.attempts.max(1);
    let mut attempt = 0;
    loop {
        attempt += 1;
        let outcome = match receive(build()).await {
            Ok(response) if response.status >= 500 => Err(SourceError::Server {
                status: response.status,
            }),
            other => other,
        };
        match outcome {
            Err(error) if attempt < attempts && retriable_now(&error) => {
                tokio::time::sleep(backoff(retry.base_delay, attempt)).await;
            }
            other => return other,
        }
    }
}

async fn receive(request: reqwest::RequestBuilder) -> Result<Response, SourceError> {
    // Without the URL: a query-string API key (YouTube) must not reach logs or health records.
    let response = request
        .send()
        .await
        .map_err(|e| SourceError::Transport(e.without_url()))?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| SourceError::Transport(e.without_url()))?
        .to_vec();
    Ok(Response { status, headers, body })
}

async fn attempt_once(request: reqwest::RequestBuilder, reset: ResetHeader) -> Result<Response, SourceError> {
    classify(receive(request).await?, reset)
}

/// Maps a response's status to `SourceError`; 2xx and 304 pass through.
pub fn classify(response: Response, reset: ResetHeader) -> Result<Response, SourceError> {
    let Response { status, headers, body } = response;
    match status {
        200..=299 | 304 => Ok(Response { status, headers, body }),
        401 | 403 => Err(SourceError::Unauthorized {
            status,
            detail: error_detail(&body),
        }),
        429 => Err(SourceError::RateLimited {
            retry_after: retry_after(&headers, reset, SystemTime::now()),
        }),
        500..=599 => Err(SourceError::Server { status }),
        _ => Err(SourceError::Rejected {
            status,
            detail: error_detail(&body),
        }),
    }
}

/// Longest error message kept from a response body.
const MAX_DETAIL_CHARS: usize = 500;

/// The human message in an error body: the first of the usual fields (`detail`, `message`,
/// `error_description`, `error`, `title`, `errors[0].message`, `error.message`), else the
/// body's text, cut short. X puts the generic words in `detail` and what was wrong in
/// `errors[].message`: those messages follow the detail.
pub fn error_detail(body: &[u8]) -> String {
    let from_json = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|value| {
            let specific: Vec<&str> = value
                .pointer("/errors")
                .and_then(|e| e.as_array())
                .map(|errors| errors.iter().filter_map(|e| e.get("message")?.as_str()).collect())
                .unwrap_or_default();
            let candidates = [
                value.pointer("/detail"),
                value.pointer("/message"),
                value.pointer("/error/message"),
                value.pointer("/error_description"),
                value.pointer("/error"),
                value.pointer("/errors/0/message"),
                value.pointer("/title"),
            ];
            let general = candidates.into_iter().flatten().find_map(|v| v.as_str());
            match general {
                Some(general) if !specific.is_empty() && !specific.contains(&general) => {
                    Some(format!("{general}: {}", specific.join("; ")))
                }
                Some(general) => Some(general.to_owned()),
                None => None,
            }
        });
    let text = from_json.unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_owned());
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_DETAIL_CHARS)
        .collect();
    if cleaned.is_empty() {
        "no detail given".to_owned()
    } else {
        cleaned
    }
}

/// How long to wait before the next request, from `Retry-After` (seconds or HTTP date) or the
/// platform's reset header. `None` when neither says.
pub fn retry_after(headers: &HeaderMap, reset: ResetHeader, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(value) = header("retry-after") {
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(at) = httpdate::parse_http_date(value) {
            return Some(at.duration_since(now).unwrap_or_default());
        }
    }
    let until = |epoch_secs: f64| {
        let at = SystemTime::UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(epoch_secs).ok()?)?;
        Some(at.duration_since(now).unwrap_or_default())
    };
    match reset {
        ResetHeader::EpochSeconds(name) => until(header(name)?.parse::<f64>().ok()?),
        ResetHeader::SecondsFromNow(name) => Duration::try_from_secs_f64(header(name)?.parse::<f64>().ok()?).ok(),
        ResetHeader::Timestamp(name) => {
            let at = chrono::DateTime::parse_from_rfc3339(header(name)?).ok()?;
            until(at.timestamp_millis() as f64 / 1000.0)
        }
        ResetHeader::None => None,
    }
}

/// Parses an RFC 3339 time into Unix milliseconds, saying what was wrong otherwise.
pub fn rfc3339_millis(value: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.timestamp_millis())
        .map_err(|error| format!("time {value:?} is not RFC 3339: {error}"))
}

/// Joins a configured base URL and a path without doubling or losing the slash.
pub fn join(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    const NOW: u64 = 1_795_000_000;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(NOW)
    }

    #[test]
    fn retry_after_seconds_and_http_date_win_over_reset_headers() {
        let reset = ResetHeader::EpochSeconds("x-rate-limit-reset");
        let h = headers(&[("retry-after", "7"), ("x-rate-limit-reset", "1795000900")]);
        assert_eq!(retry_after(&h, reset, now()), Some(Duration::from_secs(7)));
        let date = httpdate::fmt_http_date(now() + Duration::from_secs(120));
        let h = headers(&[("retry-after", &date)]);
        assert_eq!(retry_after(&h, reset, now()), Some(Duration::from_secs(120)));
    }

    #[test]
    fn each_platform_reset_style_is_read() {
        let h = headers(&[("x-rate-limit-reset", "1795000900")]);
        assert_eq!(
            retry_after(&h, ResetHeader::EpochSeconds("x-rate-limit-reset"), now()),
            Some(Duration::from_secs(900))
        );
        let h = headers(&[("x-ratelimit-reset", "348")]);
        assert_eq!(
            retry_after(&h, ResetHeader::SecondsFromNow("x-ratelimit-reset"), now()),
            Some(Duration::from_secs(348))
        );
        let at = chrono::DateTime::from_timestamp((NOW + 60) as i64, 0)
            .unwrap()
            .to_rfc3339();
        let h = headers(&[("x-ratelimit-reset", &at)]);
        assert_eq!(
            retry_after(&h, ResetHeader::Timestamp("x-ratelimit-reset"), now()),
            Some(Duration::from_secs(60))
        );
        assert_eq!(retry_after(&HeaderMap::new(), ResetHeader::None, now()), None);
        let h = headers(&[("x-rate-limit-reset", "soon")]);
        assert_eq!(
            retry_after(&h, ResetHeader::EpochSeconds("x-rate-limit-reset"), now()),
            None
        );
    }

    #[test]
    fn a_reset_in_the_past_means_no_wait() {
        let h = headers(&[("ratelimit-reset", "1794999000")]);
        assert_eq!(
            retry_after(&h, ResetHeader::EpochSeconds("ratelimit-reset"), now()),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn a_remaining_count_below_one_means_the_window_is_used_up() {
        let with = |name: &'static str, value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, value.parse().unwrap());
            Response {
                status: 200,
                headers,
                body: Vec::new(),
            }
        };
        assert!(with("x-rate-limit-remaining", "0").quota_exhausted());
        assert!(with("RateLimit-Remaining", "0").quota_exhausted());
        assert!(with("X-Ratelimit-Remaining", "0.0").quota_exhausted());
        assert!(!with("X-Ratelimit-Remaining", "12.0").quota_exhausted());
        assert!(!with("x-rate-limit-remaining", "n/a").quota_exhausted());
        assert!(!with("content-type", "0").quota_exhausted());
    }

    #[test]
    fn error_detail_prefers_the_message_and_is_bounded() {
        assert_eq!(
            error_detail(br#"{"title":"Unauthorized","detail":"Bad token"}"#),
            "Bad token"
        );
        assert_eq!(error_detail(br#"{"error":{"code":403,"message":"quota"}}"#), "quota");
        assert_eq!(error_detail(b"plain\ntext"), "plain text");
        // X: the generic detail, then what was wrong.
        assert_eq!(
            error_detail(
                br#"{"errors":[{"parameters":{"query":[""]},"message":"Invalid 'query'"},{"message":"Bad 'max_results'"}],
                    "title":"Invalid Request","detail":"One or more parameters to your request was invalid.",
                    "type":"https://api.twitter.com/2/problems/invalid-request"}"#
            ),
            "One or more parameters to your request was invalid.: Invalid 'query'; Bad 'max_results'"
        );
        assert_eq!(error_detail(br#"{"errors":[{"message":"only this"}]}"#), "only this");
        assert_eq!(error_detail(b""), "no detail given");
        assert_eq!(error_detail(&[b'a'; 1000]).len(), MAX_DETAIL_CHARS);
    }

    #[test]
    fn backoff_grows_and_stays_within_jitter() {
        let base = Duration::from_millis(100);
        for attempt in 1..=4 {
            let delay = backoff(base, attempt);
            let floor = base * (1 << (attempt - 1));
            assert!(
                delay >= floor && delay <= floor.mul_f64(1.5),
                "{delay:?} for attempt {attempt}"
            );
        }
    }

    #[test]
    fn malformed_json_keeps_the_raw_body_and_says_where() {
        #[derive(Debug, serde::Deserialize)]
        struct Page {
            #[allow(dead_code, reason = "only decoding is tested")]
            items: Vec<u32>,
        }
        let error = decode_json::<Page>(br#"{"items":[1,"two"]}"#).unwrap_err();
        match error {
            SourceError::Malformed { reason, raw } => {
                assert!(reason.contains("items[1]"), "{reason}");
                assert_eq!(raw, br#"{"items":[1,"two"]}"#);
            }
            other => panic!("expected Malformed, got {other:?}"),
        }
    }
}
