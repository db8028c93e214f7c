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
#[path = "../fuzz/src/replay.rs"]
mod replay;

use std::path::PathBuf;

fn fuzz_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

#[test]
fn corpus_passes_the_fuzz_check() {
    let n = replay::replay(&fuzz_root(), "corpus", "parse", parse::check);
    assert!(n > 0, "the committed corpus is missing");
}

#[test]
fn regression_inputs_pass_the_fuzz_check() {
    replay::replay(&fuzz_root(), "regressions", "parse", parse::check);
}
