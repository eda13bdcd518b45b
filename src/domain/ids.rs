//! Identifiers: brand and source ids written by people in config, and the store's numeric
//! row ids (task, mention, post, reply), one type each so one cannot be passed for another.

use std::fmt;

/// Why an identifier was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} id {value:?} must be 1-64 characters of a-z, 0-9, '-' or '_', starting with a letter or digit")]
pub struct IdError {
    kind: &'static str,
    value: String,
}

fn is_slug(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value.as_bytes()[0].is_ascii_alphanumeric()
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

macro_rules! slug_id {
    ($name:ident, $kind:literal) => {
        #[doc = concat!("The ", $kind, " id from config: a lowercase slug such as `acme-x`.")]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Parses a slug, rejecting anything that is not one.
            pub fn parse(value: &str) -> Result<Self, IdError> {
                if is_slug(value) {
                    Ok(Self(value.to_owned()))
                } else {
                    Err(IdError {
                        kind: $kind,
                        value: value.to_owned(),
                    })
                }
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::str::FromStr for $name {
            type Err = IdError;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Self::parse(value)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Self::parse(&value).map_err(serde::de::Error::custom)
            }
        }
    };
}

slug_id!(BrandId, "brand");
slug_id!(SourceId, "source");

macro_rules! row_id {
    ($name:ident, $kind:literal) => {
        #[doc = concat!("The store's id of a ", $kind, " row; JSON and URLs carry it as the bare number.")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(i64);

        impl $name {
            /// The id of the row the store numbered `value`.
            pub const fn new(value: i64) -> Self {
                Self(value)
            }

            /// The number, e.g. to bind in SQL.
            pub const fn get(self) -> i64 {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                value.parse().map(Self)
            }
        }
    };
}

row_id!(TaskId, "task");
row_id!(MentionId, "mention");
row_id!(PostId, "post");
row_id!(ReplyId, "reply");
row_id!(AlertId, "outbox alert");
row_id!(DeliveryId, "alert delivery");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_accepted_and_everything_else_rejected() {
        for ok in ["acme", "acme-x", "a_1", "9lives"] {
            assert!(BrandId::parse(ok).is_ok(), "{ok} should be accepted");
        }
        for bad in ["", "Acme", "-acme", "acme x", "acmé", &"a".repeat(65)] {
            assert!(SourceId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn row_ids_read_and_write_as_the_bare_number() {
        let id: TaskId = "42".parse().unwrap();
        assert_eq!(id, TaskId::new(42));
        assert_eq!(id.get(), 42);
        assert_eq!(id.to_string(), "42");
        assert_eq!(serde_json::to_string(&id).unwrap(), "42");
        assert_eq!(serde_json::from_str::<MentionId>("-7").unwrap(), MentionId::new(-7));
        assert_eq!(
            serde_json::to_string(&[PostId::new(1), PostId::new(2)]).unwrap(),
            "[1,2]"
        );
        for bad in ["", "4x", "1.5", " 3"] {
            assert!(bad.parse::<TaskId>().is_err(), "{bad:?} should be rejected");
        }
        assert!(serde_json::from_str::<PostId>("\"3\"").is_err());
    }
}
