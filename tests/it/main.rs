//! earshot's integration tests: one binary, one module per area.

// Helpers here are test code too: a failed unwrap is the test failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alert_kinds;
mod alerts;
mod browser;
mod commands;
mod config;
mod dashboard;
mod engagement;
mod exports;
mod exports_chat;
mod hub;
mod instances;
mod mentions;
mod model;
mod pipeline;
mod precision;
mod privacy;
mod problems;
mod process;
mod replies;
mod review;
mod server;
mod sla;
mod sources;
mod store;
mod support;
mod templates;
mod tidy;
mod web;
