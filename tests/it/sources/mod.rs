//! Platform connectors against loopback HTTP servers (wiremock) that answer in each
//! platform's documented shape and check the request the connector sends.

mod bluesky;
mod cli;
mod conformance;
mod csv;
mod hackernews;
mod health;
mod jsonl;
mod mastodon;
mod matching;
mod push;
mod reddit;
mod rss;
mod x;
mod youtube;

use std::sync::Arc;

use earshot::config::{Settings, from_toml};
use earshot::domain::SourceId;
use earshot::pipeline::Pipeline;
use earshot::scoring::ScoringService;
use earshot::scoring::lexicon::LexiconScorer;
use earshot::sources::Source;

/// A temporary SQLite store and a config with brand `acme` and one source of the given type.
pub(crate) struct SourceEnv {
    dir: tempfile::TempDir,
    source_toml: String,
}

impl SourceEnv {
    /// `source_toml` is the source's own keys (`type = …` and its settings).
    pub(crate) fn new(source_toml: &str) -> SourceEnv {
        SourceEnv {
            dir: tempfile::tempdir().unwrap(),
            source_toml: source_toml.to_owned(),
        }
    }

    pub(crate) fn settings(&self) -> Settings {
        let toml = format!(
            r#"
[database]
url = "sqlite://{db}"

[scoring]
scorer = "lexicon"

[[brands]]
id = "acme"
name = "Acme Air"
keywords = ["acme air", "acmeair"]
handles = ["@AcmeAir", "reddit:u/acme_care", "mastodon:acme_air@m.example"]
threshold = 40

[[sources]]
id = "src"
brand = "acme"
schedule = "0 */5 * * * *"
{source}
"#,
            db = self.dir.path().join("earshot.db").display(),
            source = self.source_toml,
        );
        from_toml(&toml, "test config").expect("test config is valid")
    }

    pub(crate) fn source(&self) -> Box<dyn Source> {
        let settings = self.settings();
        let source = settings.source(&SourceId::parse("src").unwrap()).unwrap();
        source
            .kind
            .build(source.id.clone(), &client())
            .expect("a polled source")
    }

    pub(crate) async fn pipeline(&self) -> Arc<Pipeline> {
        let settings = Arc::new(self.settings());
        let store = earshot::app::open_store(&settings).await.unwrap();
        let scoring = ScoringService::start(Box::new(LexiconScorer), 2, 8);
        Arc::new(Pipeline::new(store, scoring, settings))
    }
}

/// The shared production client (timeouts and user agent as in `serve`).
pub(crate) fn client() -> reqwest::Client {
    earshot::app::http_client().unwrap()
}

/// External ids of the posts committed for `src`, in id order.
pub(crate) async fn stored_ids(pipeline: &Pipeline) -> Vec<String> {
    let source = SourceId::parse("src").unwrap();
    let _ = pipeline.store().cursor(&source).await.unwrap();
    let settings = pipeline.settings();
    let url = settings.database.url.trim_start_matches("sqlite://").to_owned();
    let pool = crate::support::raw_sqlite(std::path::Path::new(&url)).await;
    sqlx::query_scalar::<_, String>("SELECT external_id FROM posts ORDER BY external_id")
        .fetch_all(&pool)
        .await
        .unwrap()
}
