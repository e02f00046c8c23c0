//! Evaluation of the native method against zlib-6 and LZMA (xz, preset 6) on the conv and pool
//! tensors of a corpus with a manifest.json, per model and layer kind: aggregate ratios, where
//! the bits go, and encode/decode throughput with 1 and 2 threads (fastest of alternating runs,
//! so that load on a shared machine hits every coder alike). `dfc bench` is the full tool; this
//! is the method developer's loop.
//!
//! cargo run --release -p dfc-encoder --example native_eval -- CORPUS

mod common;

use dfc_decoder::methods::decode_payload;
use dfc_decoder::{CodingMethod, ElementType};
use dfc_encoder::{encode_payload, native_cost_breakdown};
use std::collections::BTreeMap;
use std::io::Write;
use std::time::Instant;

/// Fastest of `runs` timings of each closure, the closures run in turn.
fn fastest(runs: usize, jobs: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let mut best = vec![f64::MAX; jobs.len()];
    for _ in 0..runs {
        for (b, job) in best.iter_mut().zip(jobs.iter_mut()) {
            let start = Instant::now();
            job();
            *b = b.min(start.elapsed().as_secs_f64());
        }
    }
    best
}

#[derive(Default)]
struct Totals {
    tensors: usize,
    elements: f64,
    bytes: f64,
    native: f64,
    lzma: f64,
    zlib: f64,
    /// zero map (row and element kinds), exponents, raw bits, side information: bits.
    parts: [f64; 4],
    /// seconds: native enc 1t, enc 2t, dec 1t, dec 2t, zlib enc, zlib dec.
    time: [f64; 6],
}

fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).expect("CORPUS"));
    let mut totals: BTreeMap<(String, String), Totals> = BTreeMap::new();
    for map in common::conv_and_pool_maps(&root, None) {
        let (tensor, desc) = (map.npy.tensor(), map.npy.desc());
        let (shape, data) = (&map.npy.shape, &map.npy.data);
        let f32 = ElementType::Float32;
        let native = encode_payload(CodingMethod::Native, &tensor, 1);
        assert_eq!(native, encode_payload(CodingMethod::Native, &tensor, 2));
        assert!(
            decode_payload(CodingMethod::Native, &native, &desc, 1).unwrap() == *data,
            "{}",
            map.path
        );
        let zlib = encode_payload(CodingMethod::Zlib, &tensor, 1);
        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 6);
        xz.write_all(data).unwrap();
        let xz = xz.finish().unwrap();
        let time = fastest(
            5,
            &mut [
                &mut || drop(encode_payload(CodingMethod::Native, &tensor, 1)),
                &mut || drop(encode_payload(CodingMethod::Native, &tensor, 2)),
                &mut || drop(decode_payload(CodingMethod::Native, &native, &desc, 1).unwrap()),
                &mut || drop(decode_payload(CodingMethod::Native, &native, &desc, 2).unwrap()),
                &mut || drop(encode_payload(CodingMethod::Zlib, &tensor, 1)),
                &mut || drop(decode_payload(CodingMethod::Zlib, &zlib, &desc, 1).unwrap()),
            ],
        );
        let cost = native_cost_breakdown(f32, shape, data);
        let e = totals
            .entry((map.model.clone(), map.kind.clone()))
            .or_default();
        e.tensors += 1;
        e.elements += (data.len() / 4) as f64;
        e.bytes += data.len() as f64;
        e.native += native.len() as f64;
        e.lzma += xz.len() as f64;
        e.zlib += zlib.len() as f64;
        for (p, v) in e.parts.iter_mut().zip([
            cost.row_kinds + cost.element_kinds,
            cost.exponents,
            cost.raw,
            cost.side_info,
        ]) {
            *p += v;
        }
        for (a, b) in e.time.iter_mut().zip(time) {
            *a += b;
        }
        eprint!(".");
    }
    eprintln!();
    println!("| model | kind | tensors | MB | native ratio | LZMA-6 ratio | native / LZMA | zlib-6 ratio | bits/element: zero map, exponents, raw sign+mantissa, side info | encode MB/s 1 thread (2 threads) | zlib-6 encode MB/s | native encode / zlib | decode MB/s 1 thread (2 threads) | zlib-6 decode MB/s | native decode / zlib |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|");
    let mut per_model: BTreeMap<String, Totals> = BTreeMap::new();
    let row = |name: &str, kind: &str, t: &Totals| {
        let mb = t.bytes / 1e6;
        println!(
            "| {name} | {kind} | {} | {mb:.1} | {:.3} | {:.3} | {:.3} | {:.3} | {:.2}, {:.2}, {:.2}, {:.3} | {:.0} ({:.0}) | {:.0} | {:.2} | {:.0} ({:.0}) | {:.0} | {:.2} |",
            t.tensors, t.bytes / t.native, t.bytes / t.lzma, t.lzma / t.native, t.bytes / t.zlib,
            t.parts[0] / t.elements, t.parts[1] / t.elements, t.parts[2] / t.elements, t.parts[3] / t.elements,
            mb / t.time[0], mb / t.time[1], mb / t.time[4], t.time[4] / t.time[0],
            mb / t.time[2], mb / t.time[3], mb / t.time[5], t.time[5] / t.time[2],
        );
    };
    for ((model, kind), t) in &totals {
        row(model, kind, t);
        let m = per_model.entry(model.clone()).or_default();
        m.tensors += t.tensors;
        m.elements += t.elements;
        m.bytes += t.bytes;
        m.native += t.native;
        m.lzma += t.lzma;
        m.zlib += t.zlib;
        for i in 0..4 {
            m.parts[i] += t.parts[i];
        }
        for i in 0..6 {
            m.time[i] += t.time[i];
        }
    }
    for (model, t) in &per_model {
        row(model, "**conv + pool**", t);
    }
}
