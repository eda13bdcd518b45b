//! `SqlStore`'s role implementations, one file per role of `store::roles`.

mod admin;
mod alert;
mod delivery;
mod engagement;
mod export;
mod health;
mod ingest;
mod lease;
mod mention;
mod privacy;
mod problem;
mod queue;
mod reply;
mod review;
mod scoring;
mod spike;
mod template;
mod user;
