//! How the integration tests are built: `TestEnv` (a temporary folder and a fresh database
//! on SQLite or PostgreSQL, `on_both_backends!` runs a check on each, and the loopback chat
//! and platform servers a test asks for, `loopback`), `ConfigBuilder` (the config, built key
//! by key and rendered as TOML) and `TestApp` (the real app served on a loopback port, with
//! callers that send real HTTP requests, anonymous, logged in or carrying a token). The
//! topic modules hold what several test modules share: stores filled for the queue (`fill`),
//! alert channels (`chat`), reply accounts (`replies`), a polled source (`sources`) and the
//! weekly export (`exports`).

pub(crate) mod app;
pub(crate) mod bin;
pub(crate) mod chat;
pub(crate) mod config;
pub(crate) mod env;
pub(crate) mod exports;
pub(crate) mod fill;
pub(crate) mod loopback;
pub(crate) mod replies;
pub(crate) mod sources;

pub(crate) use app::{Client, TestApp, api_bearer};
pub(crate) use config::{ConfigBuilder, Table};
pub(crate) use env::{TestEnv, line, pipeline_for, poll_feed, scalar_any};

/// Runs each named `async fn(TestEnv)` twice: on a SQLite file and on a PostgreSQL database.
macro_rules! on_both_backends {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test]
            async fn $check() {
                super::$check($crate::support::TestEnv::new()).await
            })*
        }
        mod postgres {
            $(#[tokio::test]
            async fn $check() {
                super::$check($crate::support::TestEnv::postgres().await).await
            })*
        }
    };
}
pub(crate) use on_both_backends;
