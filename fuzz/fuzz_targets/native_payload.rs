//! Fuzz target `native_payload`: see `checks::native_payload`.
#![no_main]
#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::native_payload(data));
