//! `earshot demo`: the whole service on bundled sample data (`crate::demo`), polled and
//! scored at start, with a demo admin, until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use tokio::net::TcpListener;

use crate::app::App;
use crate::auth::{Role, hash_password, new_token};
use crate::domain::now_millis;
use crate::store::{NewUser, StoreError};

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Address for the web queue; if the port is taken, a free one is used.
    #[arg(long, default_value = "127.0.0.1:8080")]
    bind: SocketAddr,
    /// Keep the demo database and files here instead of a temporary folder.
    #[arg(long)]
    data_dir: Option<PathBuf>,
}

pub(super) async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let DemoArgs { bind, data_dir } = args;
    // A temporary folder lives as long as this function, i.e. until the demo stops.
    let temp = match &data_dir {
        Some(_) => None,
        None => Some(tempfile::Builder::new().prefix("earshot-demo-").tempdir()?),
    };
    let dir = data_dir.unwrap_or_else(|| temp.as_ref().map(|t| t.path().to_owned()).unwrap_or_default());
    let settings = crate::demo::prepare(&dir, bind)?;
    say!("earshot demo: data in {}", dir.display());
    say!(
        "Loading the sentiment model from {} …",
        settings.scoring.model.display()
    );
    let app = App::build(settings).await?;
    for (_, source) in &app.sources {
        let report = app.pipeline.poll_source(source.as_ref()).await?;
        say!(
            "Polled {}: {} posts read, {} new mentions, {} duplicates, {} quarantined, {} skipped (own posts, exclusions, unrelated)",
            report.source,
            report.n_fetched,
            report.n_new,
            report.n_duplicates,
            report.n_quarantined,
            report.n_own_posts + report.n_excluded + report.n_unrelated
        );
    }
    // The brands' apologies, stored once: a lead's edits survive a restart on --data-dir.
    for template in crate::demo::starter_templates(now_millis()) {
        if app.store.reply_templates(Some(&template.brand)).await?.is_empty() {
            app.store.save_reply_template(None, &template).await?;
        }
    }
    let scored = app.pipeline.score_pending().await?;
    let counts = app.store.counts().await?;
    say!(
        "Scored {} posts ({} left unscored: no model for their language); {} tasks opened, {} follow-ups joined to open tasks.",
        scored.n_scored,
        scored.n_unscored,
        scored.n_tasks_opened,
        scored.n_tasks_joined
    );
    if let Some(embedder) = &app.embedder {
        // What the scheduled problems jobs will keep doing: group the complaints now, so the
        // Problems view has them from the start.
        let ctx = crate::pipeline::problems::ProblemsContext {
            store: app.store.as_ref(),
            settings: &app.settings.problems,
            brands: &app.settings.brands,
            embedder: Some(embedder),
            model: embedder.name(),
            holder: "demo",
            public_url: None,
        };
        let grouped = crate::pipeline::problems::group_new_complaints(&ctx, now_millis()).await?;
        crate::pipeline::problems::recluster(&ctx, now_millis()).await?;
        say!(
            "Grouped {} complaints and negative mentions into recurring problems (the Problems view).",
            grouped.n_grouped
        );
    }
    say!(
        "{} mentions, {} active tasks, {} alerts queued, {} items in quarantine.",
        counts.mentions,
        counts.tasks_active,
        counts.alerts_pending,
        counts.quarantined
    );
    let listener = match TcpListener::bind(bind).await {
        Ok(listener) => listener,
        Err(error) => {
            tracing::warn!(bind = %bind, error = %error, "Address in use; picking a free port.");
            TcpListener::bind(SocketAddr::new(bind.ip(), 0)).await?
        }
    };
    let demo_password = new_token()[..16].to_owned();
    let hashed = demo_password.clone();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&hashed)).await??;
    match app
        .store
        .create_user(NewUser {
            username: "demo".into(),
            password_hash,
            role: Role::Admin,
            at: now_millis(),
        })
        .await
    {
        Ok(_) => say!("Log in as demo / {demo_password} (an admin of this demo only)."),
        Err(StoreError::Conflict(_)) => say!("Log in with the users of {}.", dir.display()),
        Err(error) => return Err(error.into()),
    }
    say!("Open the queue: http://{}/  (Ctrl-C to stop)", listener.local_addr()?);
    super::run_until_signal(app, listener).await?;
    Ok(ExitCode::SUCCESS)
}
