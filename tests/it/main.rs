//! earshot's integration tests: one binary, one module per area.

// Helpers here are test code too: a failed unwrap is the test failing, with its message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alerts;
mod config;
mod hub;
mod model;
mod exports;
mod pipeline;
mod process;
mod sources;
mod review;
mod store;
mod support;
mod tidy;
mod web;
