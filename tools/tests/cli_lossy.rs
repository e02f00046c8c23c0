//! `dfc encode` with lossy targets: float layers become quantized, the decoded tensors meet the
//! PSNR asked for, explicit methods win over the default, and contradictory targets are refused.

use serde_json::Value;
use std::ffi::OsStr;
use std::path::Path;

mod common;
use common::{corpus, dfc, ok};

/// Float32 values of a little-endian C-order float32 .npy file.
fn npy_f32(path: &Path) -> Vec<f32> {
    let bytes = std::fs::read(path).unwrap();
    let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    bytes[10 + header_len..]
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

fn psnr(original: &[f32], decoded: &[f32]) -> f64 {
    let peak = original
        .iter()
        .fold(0f64, |m, &v| m.max(f64::from(v).abs()));
    let mse = original
        .iter()
        .zip(decoded)
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum::<f64>()
        / original.len() as f64;
    10.0 * (peak * peak / mse).log10()
}

#[test]
fn target_psnr_quantizes_float_layers_and_is_met_after_decoding() {
    let tmp = tempfile::tempdir().unwrap();
    let stream = tmp.path().join("lossy.dfc");
    let out = ok(dfc([
        OsStr::new("encode"),
        corpus().as_os_str(),
        OsStr::new("-o"),
        stream.as_os_str(),
        OsStr::new("--target-psnr"),
        OsStr::new("40"),
        OsStr::new("--layer-method"),
        OsStr::new("opennsfw_resnet50_1by2/astronaut/fc_logits=raw"),
    ]));
    let summary = String::from_utf8_lossy(&out.stdout);
    assert!(
        summary.contains("quantized") && summary.contains(" dB"),
        "{summary}"
    );
    let decoded = tmp.path().join("decoded");
    ok(dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        decoded.as_os_str(),
    ]));
    let report: Value = serde_json::from_slice(
        &ok(dfc([
            OsStr::new("inspect"),
            stream.as_os_str(),
            OsStr::new("--json"),
        ]))
        .stdout,
    )
    .unwrap();
    let mut lossy = 0;
    for layer in report["layers"].as_array().unwrap() {
        let name = layer["name"].as_str().unwrap();
        let methods = layer["methods"].to_string();
        let rel = format!("{name}.npy");
        let (original, back) = (npy_f32(&corpus().join(&rel)), npy_f32(&decoded.join(&rel)));
        if name.ends_with("fc_logits") {
            assert!(methods.contains("raw"), "{name}: {methods}");
            assert_eq!(original, back);
        } else {
            assert!(methods.contains("quantized"), "{name}: {methods}");
            let p = psnr(&original, &back);
            assert!(p >= 40.0, "{name}: {p} dB");
            assert!(
                layer["coded_bytes"].as_u64().unwrap() * 4
                    < layer["decoded_bytes"].as_u64().unwrap()
            );
            lossy += 1;
        }
    }
    assert!(lossy >= 5);
}

#[test]
fn codebook_and_bits_and_refusals() {
    let tmp = tempfile::tempdir().unwrap();
    let input = corpus().join("hed_vgg16/astronaut/pool4.npy");
    let stream = tmp.path().join("c.dfc");
    let encode = |extra: &[&str]| {
        let mut args = vec![
            OsStr::new("encode"),
            input.as_os_str(),
            OsStr::new("-o"),
            stream.as_os_str(),
            OsStr::new("--force"),
        ];
        args.extend(extra.iter().map(OsStr::new));
        dfc(args)
    };
    let four = ok(encode(&[
        "--method",
        "quantized",
        "--bits",
        "4",
        "--quantizer",
        "codebook",
    ]));
    let size_four = std::fs::metadata(&stream).unwrap().len();
    assert!(String::from_utf8_lossy(&four.stdout).contains("quantized"));
    ok(encode(&[
        "--method",
        "quantized",
        "--bits",
        "8",
        "--quantizer",
        "codebook",
    ]));
    assert!(std::fs::metadata(&stream).unwrap().len() > size_four);
    // Lossless by default: no target, no quantization.
    let lossless = ok(encode(&[]));
    assert!(String::from_utf8_lossy(&lossless.stdout).contains("lossless"));
    for bad in [
        &["--bits", "4", "--qp", "30"][..],
        &["--bits", "0"],
        &["--bits", "17"],
        &["--target-psnr", "inf"],
        &["--target-bpe", "0"],
        // A quantizer without a lossy target or the quantized method would be ignored.
        &["--quantizer", "codebook"],
        &["--channels", "tensor"],
        &[
            "--method",
            "quantized",
            "--qp",
            "20",
            "--quantizer",
            "codebook",
        ],
    ] {
        let out = encode(bad);
        assert!(!out.status.success(), "{bad:?} was accepted");
        assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    }
}
