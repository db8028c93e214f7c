//! The checks behind the fuzz targets, one module per target. Each module is also included by
//! a test of the crate it exercises (`tests/fuzz_corpus.rs` in domain, query and server), which
//! replays the committed corpus through the same `check` on stable Rust in every `cargo test`.

pub mod bodies;
pub mod parse;
pub mod query_string;
pub mod replay;
