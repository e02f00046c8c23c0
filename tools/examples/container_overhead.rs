//! Round-trips every .npy tensor under a directory through every DFC coding method and reports,
//! per method, the DFC stream size against the same compressor on the bare tensor bytes.
//!
//! cargo run --release -p dfc-tools --example container_overhead -- DIR

use dfc_decoder::{decode_all, CodingMethod, LayerKind};
use dfc_encoder::{
    encode_payload, encode_stream, EncoderConfig, LayerInput, MethodChoice, TensorRef,
};
use std::path::{Path, PathBuf};

fn npy_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            npy_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "npy") {
            out.push(p);
        }
    }
}

fn main() {
    let dir = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: container_overhead DIR"),
    );
    let mut files = Vec::new();
    npy_files(&dir, &mut files);
    println!("{} tensors under {}", files.len(), dir.display());
    println!("| method | tensors | bare bytes | DFC bytes (with hash) | DFC bytes (no hash) | overhead per tensor, with hash / no hash | worst relative overhead (tensor, bare → DFC no hash) |");
    println!("|---|---|---|---|---|---|---|");
    let tensors: Vec<_> = files
        .iter()
        .map(|f| (f, dfc_tools::io::npy::read_npy(f).unwrap()))
        .collect();
    for &method in CodingMethod::LOSSLESS {
        let (mut bare, mut with_hash, mut without) = (0u64, 0u64, 0u64);
        let mut worst = (0.0f64, String::new());
        for (file, t) in &tensors {
            let tensor = TensorRef {
                element_type: t.element_type,
                shape: &t.shape,
                data: &t.data,
            };
            let payload = encode_payload(method, &tensor, 1);
            let layer = LayerInput {
                name: file.file_stem().unwrap().to_string_lossy().into_owned(),
                kind: LayerKind::Other,
                element_type: t.element_type,
                shape: t.shape.clone(),
                data: &t.data,
                method: MethodChoice::Fixed(method),
            };
            let mut sizes = [0usize; 2];
            for (i, hashes) in [true, false].into_iter().enumerate() {
                let config = EncoderConfig {
                    tensor_hashes: hashes,
                    ..EncoderConfig::default()
                };
                let stream = encode_stream(std::slice::from_ref(&layer), &config).unwrap();
                let (_, decoded) = decode_all(&stream).unwrap();
                assert!(
                    decoded[0].data == t.data,
                    "{} {method}: not bit-exact",
                    file.display()
                );
                sizes[i] = stream.len();
            }
            bare += payload.len() as u64;
            with_hash += sizes[0] as u64;
            without += sizes[1] as u64;
            let rel = sizes[1] as f64 / payload.len() as f64 - 1.0;
            if rel > worst.0 {
                let name = file.strip_prefix(&dir).unwrap_or(file).display();
                worst = (rel, format!("{name}, {} → {}", payload.len(), sizes[1]));
            }
        }
        let n = tensors.len() as u64;
        println!(
            "| {method} | {n} | {bare} | {with_hash} (+{:.3}%) | {without} (+{:.3}%) | {} / {} B | +{:.0}% ({}) |",
            100.0 * (with_hash as f64 / bare as f64 - 1.0),
            100.0 * (without as f64 / bare as f64 - 1.0),
            (with_hash - bare) / n,
            (without - bare) / n,
            100.0 * worst.0,
            worst.1
        );
    }
    println!(
        "all {} tensors round-trip bit for bit through every method",
        tensors.len()
    );
}
