//! Quick evaluation of the native method against zlib-6 and LZMA (xz, preset 6) on the conv and
//! pool tensors of a corpus with a manifest.json. `dfc bench` is the full tool; this is the
//! method developer's loop.
//!
//! cargo run --release -p dfc-encoder --example native_eval -- CORPUS [THREADS]

use dfc_decoder::methods::decode_payload;
use dfc_decoder::native::TensorDesc;
use dfc_decoder::{CodingMethod, ElementType};
use dfc_encoder::{encode_payload, is_non_negative, TensorRef};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::Instant;

fn time<T>(f: impl Fn() -> T) -> (T, f64) {
    let start = Instant::now();
    let mut out = f();
    let mut reps = 1;
    while start.elapsed().as_secs_f64() < 0.2 {
        out = f();
        reps += 1;
    }
    (out, start.elapsed().as_secs_f64() / reps as f64)
}

fn main() {
    let root = std::path::PathBuf::from(std::env::args().nth(1).expect("CORPUS"));
    let threads: usize = std::env::args().nth(2).map_or(1, |t| t.parse().unwrap());
    let manifest: serde_json::Value =
        serde_json::from_reader(std::fs::File::open(root.join("manifest.json")).unwrap()).unwrap();
    // per model: [bytes, native, lzma, zlib, native_enc_s, native_dec_s, zlib_enc_s, zlib_dec_s, lzma_enc_s]
    let mut totals: BTreeMap<String, [f64; 9]> = BTreeMap::new();
    println!(
        "{:<24} {:<16} {:>9} {:>7} {:>7} {:>7} {:>8} {:>8} {:>8} {:>8}",
        "model",
        "layer",
        "bytes",
        "native",
        "lzma",
        "zlib",
        "nat enc",
        "nat dec",
        "zl enc",
        "zl dec"
    );
    for t in manifest["tensors"].as_array().unwrap() {
        let kind = t["kind"].as_str().unwrap();
        if kind != "conv" && kind != "pool" {
            continue;
        }
        let path = root.join(t["path"].as_str().unwrap());
        let npy = npyz::NpyFile::new(std::fs::File::open(&path).unwrap()).unwrap();
        let shape: Vec<u32> = npy.shape().iter().map(|&d| d as u32).collect();
        if shape.len() < 2 {
            continue;
        }
        let mut data = Vec::new();
        npy.into_inner().read_to_end(&mut data).unwrap();
        let tensor = TensorRef {
            element_type: ElementType::Float32,
            shape: &shape,
            data: &data,
        };
        let desc = TensorDesc {
            element_type: ElementType::Float32,
            shape: &shape,
            non_negative: is_non_negative(ElementType::Float32, &data),
        };
        let (native, ne) = time(|| encode_payload(CodingMethod::Native, &tensor, threads));
        let (zlib, ze) = time(|| encode_payload(CodingMethod::Zlib, &tensor, 1));
        // Decoders alternate, and the fastest of each is kept, so that load on a shared
        // machine hits both alike.
        let (mut nd, mut zd) = (f64::MAX, f64::MAX);
        for _ in 0..15 {
            let start = Instant::now();
            let decoded = decode_payload(CodingMethod::Native, &native, &desc, threads).unwrap();
            nd = nd.min(start.elapsed().as_secs_f64());
            assert!(
                decoded == data,
                "{}: native is not bit-exact",
                path.display()
            );
            let start = Instant::now();
            decode_payload(CodingMethod::Zlib, &zlib, &desc, 1).unwrap();
            zd = zd.min(start.elapsed().as_secs_f64());
        }
        let (xz, le) = time(|| {
            let mut e = xz2::write::XzEncoder::new(Vec::new(), 6);
            e.write_all(&data).unwrap();
            e.finish().unwrap()
        });
        let n = data.len() as f64;
        println!(
            "{:<24} {:<16} {:>9} {:>7.3} {:>7.3} {:>7.3} {:>8.1} {:>8.1} {:>8.1} {:>8.1}",
            t["model"].as_str().unwrap(),
            t["layer"].as_str().unwrap(),
            data.len(),
            n / native.len() as f64,
            n / xz.len() as f64,
            n / zlib.len() as f64,
            n / ne / 1e6,
            n / nd / 1e6,
            n / ze / 1e6,
            n / zd / 1e6
        );
        let e = totals
            .entry(t["model"].as_str().unwrap().to_string())
            .or_default();
        for (i, v) in [
            n,
            native.len() as f64,
            xz.len() as f64,
            zlib.len() as f64,
            ne,
            nd,
            ze,
            zd,
            le,
        ]
        .iter()
        .enumerate()
        {
            e[i] += v;
        }
    }
    for (model, t) in &totals {
        println!(
            "{model}: aggregate ratio native {:.3}, lzma {:.3} ({:.3}x lzma), zlib {:.3}; MB/s native enc {:.1} dec {:.1}, zlib enc {:.1} dec {:.1}, lzma enc {:.1}; native enc {:.2}x zlib, dec {:.2}x zlib",
            t[0] / t[1], t[0] / t[2], t[2] / t[1], t[0] / t[3],
            t[0] / t[4] / 1e6, t[0] / t[5] / 1e6, t[0] / t[6] / 1e6, t[0] / t[7] / 1e6, t[0] / t[8] / 1e6,
            t[6] / t[4], t[7] / t[5]
        );
    }
}
