//! Replays every input the fuzzers saved (fuzz/regressions/<target>/*) through the same
//! checks as the fuzz targets, so that a fixed crash stays fixed.

#[path = "../../fuzz/checks.rs"]
mod checks;

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return 0;
    };
    let mut count = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        check(&data);
        count += 1;
    }
    count
}

#[test]
fn saved_fuzz_inputs_pass_their_checks() {
    let total = replay("decode", checks::decode)
        + replay("random_access", checks::random_access)
        + replay("native_payload", checks::native_payload)
        + replay("roundtrip", checks::roundtrip)
        + replay("quantized_payload", checks::quantized_payload)
        + replay("quantized_roundtrip", checks::quantized_roundtrip);
    // The regressions folder always holds at least the seeds below.
    assert!(total > 0, "no saved fuzz inputs found");
}

#[test]
fn the_checks_accept_valid_inputs() {
    // A real stream through decode and random access, and a round trip of every method.
    let data: Vec<u8> = (0..96u32)
        .flat_map(|i| ((i as f32 * 0.3).sin().max(0.0)).to_le_bytes())
        .collect();
    for method in 0..6u8 {
        let mut input = vec![0u8, method, 7];
        input.extend_from_slice(&data);
        checks::roundtrip(&input);
    }
    for options in [0x0Cu8, 0x1D, 0x2E, 0x4F] {
        let mut input = vec![0u8, options, 5, 8];
        input.extend_from_slice(&data);
        checks::quantized_roundtrip(&input);
    }
}
