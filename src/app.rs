//! Wiring and lifecycle: builds everything from `Settings`, runs it, shuts it down gracefully.
//!
//! Invariant: the one place that builds the HTTP client, the database pool, the scorer and
//! the sources, and the one place that spawns long-lived tasks (through `Scheduler`).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::config::Settings;
use crate::domain::SourceId;
use crate::pipeline::Pipeline;
use crate::pipeline::delivery::Deliverer;
use crate::scheduler::Scheduler;
use crate::scoring::embedding::EmbeddingService;
use crate::scoring::start_service;
use crate::sources::Source;
use crate::store::{AdminStore, BrandRecord, SourceRecord, SqlStore, Store};
use crate::web::{self, AppState};

/// Everything a running earshot needs.
pub struct App {
    pub settings: Arc<Settings>,
    pub store: Arc<dyn Store>,
    pub pipeline: Arc<Pipeline>,
    pub sources: Vec<(SourceId, Arc<dyn Source>)>,
    /// The sentence encoder of the problems jobs (`[problems] enabled`); its weights load on
    /// first use.
    pub embedder: Option<EmbeddingService>,
}

/// The shared HTTP client: connection pool, timeouts and an honest user agent.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    #[allow(clippy::disallowed_methods, reason = "this is the one place that builds the client")]
    reqwest::Client::builder()
        .user_agent(concat!("earshot/", env!("CARGO_PKG_VERSION"), " (social care monitor)"))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .build()
        .context("failed to build the HTTP client")
}

/// Opens the store, migrates it and mirrors the configured brands and sources into it.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    let store = SqlStore::connect(&settings.database).await.with_context(|| {
        format!(
            "failed to open database {}",
            crate::config::redact_url(&settings.database.url)
        )
    })?;
    store.migrate().await.context("failed to migrate the database")?;
    let brands: Vec<BrandRecord> = settings
        .brands
        .iter()
        .map(|b| BrandRecord {
            id: b.id.clone(),
            name: b.name.clone(),
            threshold: b.threshold,
            settings_json: serde_json::to_string(b).unwrap_or_default(),
        })
        .collect();
    let sources: Vec<SourceRecord> = settings
        .sources
        .iter()
        .map(|s| SourceRecord {
            id: s.id.clone(),
            brand: s.brand.clone(),
            kind: s.kind.type_name().to_owned(),
            schedule: s.schedule.clone(),
        })
        .collect();
    store
        .sync_config(&brands, &sources)
        .await
        .context("failed to record brands and sources")?;
    Ok(Arc::new(store))
}

impl App {
    /// Opens the store, loads the model and builds the enabled sources.
    pub async fn build(settings: Settings) -> anyhow::Result<App> {
        let settings = Arc::new(settings);
        let store = open_store(&settings).await?;
        let scoring_settings = settings.scoring.clone();
        let scoring = tokio::task::spawn_blocking(move || start_service(&scoring_settings))
            .await
            .context("model loading panicked")?
            .context("failed to load the scoring model")?;
        let http = http_client()?;
        let sources = settings
            .sources
            .iter()
            .filter(|s| s.enabled)
            .filter_map(|s| {
                Some((
                    s.id.clone(),
                    Arc::<dyn Source>::from(s.kind.build(s.id.clone(), &http)?),
                ))
            })
            .collect();
        let pipeline = Arc::new(Pipeline::new(store.clone(), scoring, settings.clone()));
        let embedder = if settings.problems.enabled {
            let dir = crate::demo::resolve_shipped(&settings.problems.model);
            let batch_size = match settings.scoring.batch_size {
                0 => crate::scoring::TORCH_BATCH_SIZE,
                n => n,
            };
            let started = tokio::task::spawn_blocking(move || EmbeddingService::start(&dir, batch_size))
                .await
                .context("checking the problems model panicked")?
                .context("failed to set up the problems model ([problems] model)")?;
            Some(started)
        } else {
            None
        };
        Ok(App {
            settings,
            store,
            pipeline,
            sources,
            embedder,
        })
    }

    /// The built source with this id.
    pub fn source(&self, id: &SourceId) -> Option<Arc<dyn Source>> {
        self.sources.iter().find(|(sid, _)| sid == id).map(|(_, s)| s.clone())
    }

    /// Runs the scheduler and the web server until `shutdown` is cancelled, then stops
    /// the triggers, lets in-flight polls and scoring finish, and drains open requests.
    pub async fn run(self, listener: TcpListener, shutdown: CancellationToken) -> anyhow::Result<()> {
        let schedules: Vec<(Arc<dyn Source>, String)> = self
            .sources
            .iter()
            .filter_map(|(id, source)| self.settings.source(id).map(|s| (source.clone(), s.schedule.clone())))
            .collect();
        let (cron_tasks, catch_up) =
            crate::scheduler::cron_tasks(&self.settings, self.store.clone(), &self.sources, self.embedder.clone())?;
        let mut scheduler = Scheduler::start(self.pipeline.clone(), schedules, cron_tasks)
            .await
            .context("failed to start the scheduler")?;
        if !self.settings.alerts.channels.is_empty() {
            scheduler.spawn_alert_worker(Arc::new(
                Deliverer::new(
                    self.store.clone(),
                    &self.settings.alerts.channels,
                    &self.settings.alerts.rules,
                    http_client()?,
                )
                .with_lease(Duration::from_secs(self.settings.instances.delivery_lease_secs)),
            ));
        }
        if self.settings.alerts.spikes.enabled {
            scheduler.spawn_spike_worker(self.store.clone(), self.settings.clone());
        }
        let replies = crate::pipeline::replies::ReplySender::new(
            self.store.clone(),
            self.settings.clone(),
            http_client()?,
            crate::pipeline::instance::instance_id(&self.settings.instances),
        );
        if replies.has_accounts() {
            scheduler.spawn_reply_worker(Arc::new(replies));
        }
        // The first catch-up runs now, beside the service; shutdown waits for it.
        let catch_up = catch_up.map(tokio::spawn);
        let pipeline = self.pipeline.clone();
        let state = AppState::new(self.store.clone(), self.settings.clone())
            .with_shutdown(shutdown.clone())
            .with_model_probe(Arc::new(move || pipeline.scoring().is_running()));
        crate::metrics::install();
        let router = web::router(state);
        let limits = web::ServerLimits::from_settings(&self.settings.http);
        let server = tokio::spawn(web::serve(listener, router, shutdown.clone().cancelled_owned(), limits));
        shutdown.cancelled().await;
        tracing::info!("Shutting down: finishing work in flight.");
        scheduler.shutdown().await;
        if let Some(catch_up) = catch_up
            && let Err(error) = catch_up.await
        {
            tracing::error!(error = %error, "The start-up export catch-up panicked.");
        }
        server
            .await
            .context("web server task failed")?
            .context("web server failed")?;
        tracing::info!("Stopped cleanly.");
        Ok(())
    }
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}
