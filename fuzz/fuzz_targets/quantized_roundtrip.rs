//! Fuzz target `quantized_roundtrip`: see `checks::quantized_roundtrip`.
#![no_main]
#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::quantized_roundtrip(data));
