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
