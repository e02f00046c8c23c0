//! Decode speed of the native method against zlib-6 on the conv and pool tensors of a corpus,
//! per model (fastest of alternating runs, one thread): the quick loop behind the decode target
//! of `native_eval`, without its slow LZMA and encode timings.
//!
//! cargo run --release -p dfc-encoder --example native_speed -- CORPUS [MODEL]
//!
//! Environment: RUNS (timed runs per tensor, default 7), NATIVE_ONLY (time the native decoder
//! alone, for a profiler), PER_TENSOR (a line per tensor on stderr).

mod common;

use dfc_decoder::methods::decode_payload;
use dfc_decoder::CodingMethod;
use dfc_encoder::encode_payload;
use std::collections::BTreeMap;
use std::time::Instant;

fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).expect("CORPUS"));
    let only = std::env::args().nth(2);
    // model -> (bytes, native bytes, zlib bytes, native seconds, zlib seconds)
    let mut totals: BTreeMap<String, [f64; 5]> = BTreeMap::new();
    for map in common::conv_and_pool_maps(&root, only.as_deref()) {
        let (tensor, desc, data) = (map.npy.tensor(), map.npy.desc(), &map.npy.data);
        let native = encode_payload(CodingMethod::Native, &tensor, 1);
        let zlib = encode_payload(CodingMethod::Zlib, &tensor, 1);
        assert!(decode_payload(CodingMethod::Native, &native, &desc, 1).unwrap() == *data);
        let mut best = [f64::MAX; 2];
        let runs = std::env::var("RUNS").map_or(7, |r| r.parse().unwrap());
        let native_only = std::env::var("NATIVE_ONLY").is_ok();
        for _ in 0..runs {
            for (b, (method, payload)) in best
                .iter_mut()
                .zip([(CodingMethod::Native, &native), (CodingMethod::Zlib, &zlib)])
            {
                if native_only && method == CodingMethod::Zlib {
                    continue;
                }
                let start = Instant::now();
                drop(decode_payload(method, payload, &desc, 1).unwrap());
                *b = b.min(start.elapsed().as_secs_f64());
            }
        }
        if std::env::var("PER_TENSOR").is_ok() {
            eprintln!(
                "{:50} {:>9} el  native {:6.0} MB/s  zlib {:6.0} MB/s  {:.2}",
                map.path,
                data.len() / 4,
                data.len() as f64 / 1e6 / best[0],
                data.len() as f64 / 1e6 / best[1],
                best[1] / best[0]
            );
        }
        let e = totals.entry(map.model.clone()).or_default();
        for (a, v) in e.iter_mut().zip([
            data.len() as f64,
            native.len() as f64,
            zlib.len() as f64,
            best[0],
            best[1],
        ]) {
            *a += v;
        }
    }
    println!("| model | native ratio | native decode MB/s | zlib-6 decode MB/s | native / zlib |");
    println!("|---|---:|---:|---:|---:|");
    for (model, t) in &totals {
        let mb = t[0] / 1e6;
        println!(
            "| {model} | {:.3} | {:.0} | {:.0} | {:.2} |",
            t[0] / t[1],
            mb / t[3],
            mb / t[4],
            t[4] / t[3]
        );
    }
}
