//! `earshot privacy erase` (one author's personal data, on their request) and
//! `earshot privacy expire` (the retention job, now).

use std::path::Path;
use std::process::ExitCode;

use crate::app::open_store;
use crate::domain::{Platform, now_millis};

#[derive(Debug, clap::Args)]
pub struct EraseArgs {
    /// The platform the person wrote on (x, bluesky, mastodon, reddit, …).
    #[arg(long)]
    pub platform: Platform,
    /// Their handle as the queue shows it (`@jo` on X, `u/jo` on Reddit,
    /// `@jo@mastodon.social`); case does not matter.
    #[arg(long)]
    pub author: String,
}

pub(super) async fn erase(config: &Path, args: EraseArgs) -> anyhow::Result<ExitCode> {
    let settings = super::load(config)?;
    let store = open_store(&settings).await?;
    // Whoever can run the CLI against the database is an operator: logged as `cli`.
    let erased = store
        .erase_author(args.platform, args.author.trim(), "cli", now_millis())
        .await?;
    say!(
        "Erased {} posts, {} tasks' author and texts, {} training examples of {} on {} (logged without the handle).",
        erased.n_posts,
        erased.n_tasks,
        erased.n_examples,
        args.author.trim(),
        args.platform.as_str()
    );
    if erased.n_posts == 0 && erased.n_tasks == 0 {
        say!("Nothing matched: give the handle as the queue shows it, with its @ or u/.");
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) async fn expire(config: &Path) -> anyhow::Result<ExitCode> {
    let settings = super::load(config)?;
    let Some(retain_days) = settings.privacy.retain_days else {
        anyhow::bail!("[privacy] retain_days is not set: nothing expires");
    };
    let store = open_store(&settings).await?;
    let n = crate::pipeline::privacy::apply_retention(store.as_ref(), retain_days, now_millis()).await?;
    say!("Deleted {n} posts first seen more than {retain_days} days ago that no task holds.");
    Ok(ExitCode::SUCCESS)
}
