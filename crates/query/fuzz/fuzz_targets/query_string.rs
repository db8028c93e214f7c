//! libFuzzer entry point of the `query_string` target; the check lives in `src/query_string.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| clientele_query_fuzz::query_string::check(data));
