//! Time as Unix milliseconds: the one representation the store, the API and the exports share.

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// The current time in Unix milliseconds.
pub fn now_millis() -> Millis {
    chrono::Utc::now().timestamp_millis()
}
