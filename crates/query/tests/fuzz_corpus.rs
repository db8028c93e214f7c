//! Replays the committed corpus and the regression inputs of the `parse` fuzz target
//! (`crates/query/fuzz/corpus/parse/`, `crates/query/fuzz/regressions/parse/`) through the very
//! check the fuzzer runs, so every `cargo test` re-checks them on stable Rust.
//! The parser's own regression tests are in `src/tests.rs`.

// Test code: a failed invariant should stop the test loudly, also in the included check.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

#[path = "../fuzz/src/parse.rs"]
mod parse;

use std::path::PathBuf;

/// Every file of `crates/query/fuzz/<dir>/parse`, sorted (missing directory: none).
fn inputs(dir: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(dir)
        .join("parse");
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&root) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files
}

fn replay(dir: &str) -> usize {
    let files = inputs(dir);
    for path in &files {
        let data = std::fs::read(path).unwrap();
        eprintln!("{}", path.display());
        parse::check(&data);
    }
    files.len()
}

#[test]
fn corpus_passes_the_fuzz_check() {
    let n = replay("corpus");
    assert!(n > 0, "the committed corpus is missing");
}

#[test]
fn regression_inputs_pass_the_fuzz_check() {
    replay("regressions");
}
