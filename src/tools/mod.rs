//! Offline tooling that people run on purpose, beside the service: pulling a model from a
//! Hugging Face hub, fine-tuning one, evaluating a scorer on labelled posts, and the
//! benchmarks (`bench`, `bench-instances`, `export-bench`, `match-bench`, `ingest-bench`).
//!
//! Invariant: nothing in `serve` (the scheduler, the pipeline, the web API) uses this module;
//! the service never downloads or trains anything. Each tool is a plain library function the
//! CLI calls and tests call directly.

pub mod bench;
pub mod bench_instances;
pub mod eval;
pub mod export_bench;
pub mod hub;
pub mod ingest_bench;
pub mod match_bench;
pub mod memory;
pub mod problems_eval;
pub mod serve_child;
pub mod train;
