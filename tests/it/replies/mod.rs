//! Replies sent from earshot: each platform's publisher against a loopback server in the
//! platform's documented request and response shapes (`publishers`), the reply worker's
//! exactly-once behaviour under 429s, 5xx storms, revoked tokens and a kill -9 between the
//! send and its record (`outbox`), reply accounts in config and `earshot accounts test`
//! (`accounts`), and sending from the queue's API (`api`).

mod accounts;
mod api;
mod outbox;
mod publishers;
