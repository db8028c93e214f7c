//! Replays the committed corpus and the regression inputs of the `query_string` fuzz target
//! (`crates/query/fuzz/corpus/query_string/`, `crates/query/fuzz/regressions/query_string/`) through the very
//! check the fuzzer runs, so every `cargo test` re-checks them on stable Rust.
//! Each bug the target found also has a unit test in the crate that owns it.

// Test code: a failed invariant should stop the test loudly, also in the included check.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub
)]

#[path = "../../query/fuzz/src/query_string.rs"]
mod query_string;
#[path = "../../query/fuzz/src/replay.rs"]
mod replay;

use std::path::PathBuf;

fn fuzz_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../query/fuzz")
}

#[test]
fn corpus_passes_the_fuzz_check() {
    let n = replay::replay(&fuzz_root(), "corpus", "query_string", query_string::check);
    assert!(n > 0, "the committed corpus is missing");
}

#[test]
fn regression_inputs_pass_the_fuzz_check() {
    replay::replay(
        &fuzz_root(),
        "regressions",
        "query_string",
        query_string::check,
    );
}
