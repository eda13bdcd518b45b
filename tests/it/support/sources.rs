//! `SourceEnv`: a `TestEnv` whose config has brand `acme` and one polled source, `src`, of
//! the type under test, for the connector tests against loopback platform servers.

use std::sync::Arc;

use earshot::config::Settings;
use earshot::domain::SourceId;
use earshot::pipeline::Pipeline;
use earshot::sources::Source;

use super::config::{ConfigBuilder, Table, brand};
use super::env::{TestEnv, pipeline_for};

/// A temporary SQLite store and a config with brand `acme` and one source of the given type.
pub(crate) struct SourceEnv {
    env: TestEnv,
    source: Table,
}

impl SourceEnv {
    /// `settings` is the source's own keys (`type` and the type's settings).
    pub(crate) fn new(settings: Table) -> SourceEnv {
        SourceEnv {
            env: TestEnv::new(),
            source: settings,
        }
    }

    /// The config: lexicon scorer, brand `acme` (with handles on X, Reddit and Mastodon) and
    /// the source `src` every five minutes.
    pub(crate) fn config(&self) -> ConfigBuilder {
        let src = Table::new()
            .set("id", "src")
            .set("brand", "acme")
            .set("schedule", "0 */5 * * * *")
            .merge(self.source.clone());
        ConfigBuilder::new()
            .database(&self.env.database_url())
            .scorer("lexicon")
            .brand(
                brand("acme", "Acme Air")
                    .set("keywords", vec!["acme air", "acmeair"])
                    .set(
                        "handles",
                        vec!["@AcmeAir", "reddit:u/acme_care", "mastodon:acme_air@m.example"],
                    )
                    .set("threshold", 40),
            )
            .source(src)
    }

    pub(crate) fn settings(&self) -> Settings {
        self.config().settings()
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
        pipeline_for(self.settings()).await
    }
}

/// The shared production client (timeouts and user agent as in `serve`).
fn client() -> reqwest::Client {
    earshot::app::http_client().unwrap()
}

/// External ids of the posts committed for `src`, in id order.
pub(crate) async fn stored_ids(pipeline: &Pipeline) -> Vec<String> {
    let source = SourceId::parse("src").unwrap();
    let _ = pipeline.store().cursor(&source).await.unwrap();
    let settings = pipeline.settings();
    let url = settings.database.url.trim_start_matches("sqlite://").to_owned();
    let pool = super::env::raw_sqlite(std::path::Path::new(&url)).await;
    sqlx::query_scalar::<_, String>("SELECT external_id FROM posts ORDER BY external_id")
        .fetch_all(&pool)
        .await
        .unwrap()
}

/// The User-Agent the Reddit source is configured with (Reddit asks for one naming the app).
pub(crate) const REDDIT_USER_AGENT: &str = "linux:earshot-test:0.1 (by /u/acme_care)";

/// The Reddit source's keys against a loopback server at `uri` (API and token endpoint).
pub(crate) fn reddit(uri: &str) -> Table {
    Table::new()
        .set("type", "reddit")
        .set("query", "acme air")
        .set("client_id", "cid")
        .set("client_secret", "csecret")
        .set("user_agent", REDDIT_USER_AGENT)
        .set("base_url", uri)
        .set("auth_url", uri)
}
