//! Where mentions come from: one module per platform behind the `Source` trait.
//!
//! Invariant: sources never write to the store and never sleep or retry on their own. A poll
//! returns a `Batch` (posts, quarantined items, the cursor after them); the pipeline commits it
//! and the scheduler decides when to try again.

pub mod jsonl;

use std::time::Duration;

use async_trait::async_trait;

use crate::domain::{Batch, Cursor, SourceId};

/// A pollable source of brand mentions.
#[async_trait]
pub trait Source: Send + Sync {
    /// The id from config.
    fn id(&self) -> &SourceId;

    /// Fetches what is new after `cursor` (from the start when `None`). Must not write
    /// anywhere: the returned cursor is stored only once the batch is committed.
    async fn poll(&self, cursor: Option<&Cursor>) -> Result<Batch, SourceError>;
}

/// Why a poll failed. The variants say what the scheduler should do next.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("rate limited")]
    RateLimited { retry_after: Option<Duration> },
    #[error("credentials rejected (HTTP {status})")]
    Unauthorized { status: u16, detail: String },
    #[error("request failed")]
    Transport(#[source] reqwest::Error),
    #[error("server error (HTTP {status})")]
    Server { status: u16 },
    /// The whole response could not be understood; the raw body goes to quarantine.
    #[error("malformed response: {reason}")]
    Malformed { reason: String, raw: Vec<u8> },
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl SourceError {
    /// Whether trying again later can succeed without someone changing something.
    pub fn is_retriable(&self) -> bool {
        match self {
            SourceError::RateLimited { .. } | SourceError::Transport(_) | SourceError::Server { .. } => true,
            SourceError::Io { .. } => true,
            SourceError::Unauthorized { .. } | SourceError::Malformed { .. } => false,
        }
    }

    /// A short machine-readable kind for health records and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            SourceError::RateLimited { .. } => "rate_limited",
            SourceError::Unauthorized { .. } => "unauthorized",
            SourceError::Transport(_) => "transport",
            SourceError::Server { .. } => "server",
            SourceError::Malformed { .. } => "malformed",
            SourceError::Io { .. } => "io",
        }
    }
}

/// The platform-specific part of a source's config, tagged by `type`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SourceKind {
    /// Mentions exported from elsewhere, one JSON object per line.
    Jsonl(jsonl::JsonlSettings),
}

impl SourceKind {
    /// Checks serde cannot make, as `(field, message)` pairs.
    pub fn validate(&self) -> Vec<(String, String)> {
        match self {
            SourceKind::Jsonl(settings) => settings.validate(),
        }
    }

    /// The type name as written in config.
    pub fn type_name(&self) -> &'static str {
        match self {
            SourceKind::Jsonl(_) => "jsonl",
        }
    }

    /// Builds the source. `http` is the shared client (timeouts, user agent).
    pub fn build(&self, id: SourceId, _http: &reqwest::Client) -> Box<dyn Source> {
        match self {
            SourceKind::Jsonl(settings) => Box::new(jsonl::JsonlSource::new(id, settings.clone())),
        }
    }
}
