//! libFuzzer entry point of the `bodies` target; the check lives in `src/bodies.rs`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| clientele_query_fuzz::bodies::check(data));
