//! `earshot sources test --source ID`: one poll against the source from its stored cursor,
//! printed with each post's verdict; nothing is written. The stored cursor is read only when
//! the database already exists (a missing SQLite file is not created).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::config::Settings;
use crate::domain::{Cursor, Post, SourceId};
use crate::pipeline::matching::{BrandMatcher, Verdict};
use crate::store::{IngestStore, SqlStore};
use crate::telemetry::error_chain;

#[derive(Debug, clap::Args)]
pub struct SourcesTestArgs {
    #[arg(long)]
    source: SourceId,
    /// Posts to print in full.
    #[arg(long, default_value_t = 5)]
    show: usize,
}

pub(super) async fn run(config_path: &Path, args: SourcesTestArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load(config_path)?;
    let source_id = args.source;
    let source = source_id.as_str();
    let source_settings = settings
        .source(&source_id)
        .with_context(|| format!("no source {source:?} in the configuration"))?;
    let brand = settings
        .brands
        .iter()
        .find(|b| b.id == source_settings.brand)
        .with_context(|| format!("source {source:?} names an unknown brand"))?;
    let cursor = stored_cursor(&settings, &source_id).await;
    let cursor_from = if cursor.is_some() { "stored cursor" } else { "start" };
    let built = source_settings
        .kind
        .build(source_id.clone(), &crate::app::http_client()?)
        .with_context(|| {
            format!("{source} is a push source: it is not polled, posts arrive at POST /api/ingest/{source}")
        })?;
    let batch = built
        .poll(cursor.as_ref())
        .await
        .map_err(|error| anyhow::anyhow!(error_chain(&error)))
        .with_context(|| format!("polling {source} failed"))?;
    let matcher = BrandMatcher::new(brand);
    let match_keywords = source_settings.kind.match_keywords();
    let verdicts: Vec<(&Post, Verdict)> = batch
        .posts
        .iter()
        .map(|p| (p, matcher.verdict_for(p, match_keywords)))
        .collect();
    let count = |wanted: Verdict| verdicts.iter().filter(|(_, v)| *v == wanted).count();
    say!(
        "{}",
        serde_json::json!({
            "source": source,
            "from": cursor_from,
            "fetched": batch.posts.len(),
            "mentions": count(Verdict::Mention),
            "own_posts": count(Verdict::OwnPost),
            "excluded": count(Verdict::Excluded),
            "unrelated": count(Verdict::Unrelated),
            "quarantined": batch.quarantined.len(),
            "has_more": batch.has_more,
            "next_cursor": batch.cursor.as_ref().map(|c| c.0.clone()),
        })
    );
    for (post, verdict) in verdicts.iter().filter(|(_, v)| *v == Verdict::Mention).take(args.show) {
        say!(
            "{}",
            serde_json::json!({ "verdict": format!("{verdict:?}").to_lowercase(), "post": post })
        );
    }
    for item in &batch.quarantined {
        say!(
            "{}",
            serde_json::json!({ "quarantined": item.location, "reason": item.reason })
        );
    }
    say!("Nothing was written.");
    Ok(ExitCode::SUCCESS)
}

/// The source's stored cursor, if the database exists and has one.
async fn stored_cursor(settings: &Settings, source: &SourceId) -> Option<Cursor> {
    if let Some(path) = settings.database.url.strip_prefix("sqlite://") {
        let path = path.split('?').next().unwrap_or(path);
        if !Path::new(path).exists() {
            return None;
        }
    }
    let store = SqlStore::connect(&settings.database).await.ok()?;
    match store.cursor(source).await {
        Ok(cursor) => cursor,
        Err(error) => {
            tracing::warn!(error = %error, "Cannot read the stored cursor; polling from the start.");
            None
        }
    }
}
