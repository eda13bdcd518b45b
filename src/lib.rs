//! earshot: a social-media complaint monitor.
//!
//! Pollers pull brand mentions from social platforms, a local sentiment model scores them,
//! posts above a brand's threshold become response tasks in a web queue, and alerts go to
//! chat channels.
//!
//! # Layout
//!
//! Along the pipeline, in reading order:
//! - [`domain`]: the vocabulary (posts, scores, tasks); no IO.
//! - [`config`]: settings from TOML and the environment, validated all at once; [`secret`]:
//!   a secret from config (inline or `{ env = "NAME" }`) that never prints.
//! - [`sources`]: one module per platform behind the `Source` trait.
//! - [`scoring`]: the local model, language routing, criticality.
//! - [`tasks`]: when a flagged post opens or joins a task, its priority and SLA.
//! - [`alerts`]: chat channels and alert payloads (delivered through the outbox).
//! - [`store`]: persistence on SQLite or PostgreSQL.
//! - [`pipeline`]: the one place that sequences the stages.
//! - [`replies`]: publishing replies as the brand, one module per platform behind the
//!   `Publisher` trait.
//! - [`scheduler`]: when things run.
//! - [`exports`]: weekly files (posts, summaries, chart) for managers and spreadsheets.
//! - [`web`]: the queue UI and JSON API; [`auth`]: roles, password hashes, tokens.
//! - [`app`], [`cli`], [`demo`], [`telemetry`]: wiring, commands (one file per command),
//!   the demo, logging.
//! - [`tools`]: offline tooling people run on purpose (model pull, training, evaluation,
//!   benchmarks); never used by the running service.

pub mod alerts;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod demo;
pub mod domain;
pub mod exports;
pub mod metrics;
pub mod pipeline;
pub mod problems;
pub mod replies;
pub mod scheduler;
pub mod scoring;
pub mod secret;
pub mod sources;
pub mod store;
pub mod tasks;
pub mod telemetry;
pub mod tools;
pub mod web;
