//! The memory bound of `dfc decode` stated in the README: about the largest decoded tensor plus
//! the largest unit, not the whole output. Alone in its test binary, so that the peak RSS of
//! this process's children is that of the one decode.

use dfc_decoder::{CodingMethod, ElementType, LayerKind};
use dfc_encoder::{encode_stream, EncoderConfig, LayerInput, MethodChoice};
use std::ffi::OsStr;

mod common;
use common::{dfc, ok};

/// The largest peak resident set of the children waited for so far, in bytes.
#[cfg(target_os = "linux")]
fn children_peak_rss() -> u64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes the struct it is given.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    assert_eq!(rc, 0);
    // ru_maxrss is in KiB on Linux.
    usage.ru_maxrss as u64 * 1024
}

#[cfg(target_os = "linux")]
#[test]
fn safetensors_decode_of_a_zero_filled_stream_holds_about_one_tensor() {
    const MIB: u64 = 1 << 20;
    // 16 layers of 16 MiB of zeros: 256 MiB out of a stream about 1000 times smaller.
    let zeros = vec![0u8; 16 << 20];
    let layers: Vec<LayerInput<'_>> = (0..16)
        .map(|i| LayerInput {
            name: format!("zeros{i:02}"),
            kind: LayerKind::Conv,
            element_type: ElementType::Uint8,
            shape: vec![4096, 4096],
            data: &zeros,
            method: MethodChoice::Fixed(CodingMethod::Zlib),
        })
        .collect();
    let stream = encode_stream(&layers, &EncoderConfig::default()).unwrap();
    let output_bytes = 16 * zeros.len() as u64;
    assert!(output_bytes > 500 * stream.len() as u64);
    drop(layers);
    drop(zeros);

    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("zeros.dfc");
    std::fs::write(&input, &stream).unwrap();
    let out = tmp.path().join("zeros.safetensors");
    ok(dfc([
        OsStr::new("decode"),
        input.as_os_str(),
        OsStr::new("-o"),
        out.as_os_str(),
        OsStr::new("-q"),
    ]));
    assert!(
        std::fs::metadata(&out).unwrap().len() > output_bytes,
        "the file holds every tensor"
    );
    let peak = children_peak_rss();
    // One tensor (16 MiB), its unit, buffers and the program itself; holding the output
    // would take 256 MiB and more.
    assert!(
        peak < 16 * MIB + 48 * MIB,
        "peak RSS {} MiB for a {} MiB output",
        peak / MIB,
        output_bytes / MIB
    );
    // The file reads back: every tensor is there and zero.
    let bytes = std::fs::read(&out).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    assert_eq!(file.len(), 16);
    assert!(file
        .tensors()
        .iter()
        .all(|(_, v)| v.data().iter().all(|&b| b == 0)));
}
