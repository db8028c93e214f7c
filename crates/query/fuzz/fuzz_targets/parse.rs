//! libFuzzer entry point of the `parse` target; the check lives in `src/parse.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| clientele_query_fuzz::parse::check(data));
