//! Replaying a fuzz target's committed inputs on stable Rust: each crate's
//! `tests/fuzz_corpus.rs` includes this file and its target's check module by `#[path]`, so the
//! corpus and the regression inputs go through the very `check` the fuzzer runs. Owns only
//! finding and reading the input files; the invariants live in the target modules.

use std::path::{Path, PathBuf};

/// Runs `check` on every file of `<fuzz_root>/<dir>/<target>` in name order (a missing
/// directory has none); returns how many there were.
pub fn replay(fuzz_root: &Path, dir: &str, target: &str, check: fn(&[u8])) -> usize {
    let folder = fuzz_root.join(dir).join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&folder) {
        Ok(entries) => entries.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    for path in &files {
        eprintln!("{}", path.display());
        check(&std::fs::read(path).unwrap());
    }
    files.len()
}
