//! Fuzz target `random_access`: see `checks::random_access`.
#![no_main]
#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::random_access(data));
