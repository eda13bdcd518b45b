//! The one cursor codec: a source's position state to and from the opaque `Cursor` the store
//! keeps, as JSON. Every polled source reads and writes its cursor through here.
//!
//! No cursor (a source never committed) is the start. A stored cursor that cannot be read
//! (written by hand, or by a version with another shape) is `SourceError::UnreadableCursor`:
//! the pipeline records it in source health like any failed poll, and the cursor stays as
//! it is. This module must not repair, default or skip an unreadable cursor: starting again
//! from the beginning would silently miss whatever the platform no longer shows.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::SourceError;
use crate::domain::Cursor;

/// The state in `cursor`: the default (the start) when there is none, an error when there is
/// one this source cannot read.
pub(crate) fn decode<T: DeserializeOwned + Default>(cursor: Option<&Cursor>) -> Result<T, SourceError> {
    match cursor {
        None => Ok(T::default()),
        Some(cursor) => serde_json::from_str(&cursor.0).map_err(|error| SourceError::UnreadableCursor {
            reason: error.to_string(),
        }),
    }
}

/// A position state inside a cursor (a part the source reads on its own, such as one query's
/// state among several), read as strictly as a whole cursor.
pub(crate) fn decode_part<T: DeserializeOwned>(part: serde_json::Value) -> Result<T, SourceError> {
    serde_json::from_value(part).map_err(|error| SourceError::UnreadableCursor {
        reason: error.to_string(),
    })
}

/// A source's position state as a cursor.
pub(crate) fn encode(state: &impl Serialize) -> Result<Cursor, SourceError> {
    serde_json::to_string(state)
        .map(Cursor)
        .map_err(|error| SourceError::Malformed {
            reason: format!("cannot encode cursor: {error}"),
            raw: Vec::new(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
    struct State {
        newest: i64,
        page: Option<String>,
    }

    #[test]
    fn no_cursor_is_the_start_and_a_written_cursor_reads_back() {
        assert_eq!(decode::<State>(None).unwrap(), State::default());

        let state = State {
            newest: 42,
            page: Some("p2".into()),
        };
        let cursor = encode(&state).unwrap();

        assert_eq!(cursor.0, r#"{"newest":42,"page":"p2"}"#);
        assert_eq!(decode::<State>(Some(&cursor)).unwrap(), state);
    }

    #[test]
    fn an_unreadable_cursor_is_an_error_not_the_start() {
        for text in [
            "",
            "not json",
            r#"{"page":"p2"}"#,
            r#"{"newest":"soon","page":null}"#,
            "[]",
        ] {
            let error = decode::<State>(Some(&Cursor(text.into()))).unwrap_err();

            assert!(
                matches!(error, SourceError::UnreadableCursor { .. }),
                "{text:?}: {error:?}"
            );
            assert_eq!(error.kind(), "cursor");
            assert!(!error.is_retriable(), "{text:?}");
        }
    }

    #[test]
    fn an_unreadable_part_is_an_error_too() {
        let error = decode_part::<State>(serde_json::json!({"newest": []})).unwrap_err();

        assert!(matches!(error, SourceError::UnreadableCursor { .. }), "{error:?}");
    }
}
