//! Fuzz target `quantized_payload`: see `checks::quantized_payload`.
#![no_main]
#[path = "../checks.rs"]
mod checks;

libfuzzer_sys::fuzz_target!(|data: &[u8]| checks::quantized_payload(data));
