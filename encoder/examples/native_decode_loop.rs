//! Decodes one .npy tensor with the native method in a loop, for profiling.
//! cargo run --release -p dfc-encoder --example native_decode_loop -- FILE.npy [ITERATIONS]

use dfc_decoder::methods::decode_payload;
use dfc_decoder::native::TensorDesc;
use dfc_decoder::{CodingMethod, ElementType};
use dfc_encoder::{encode_payload, is_non_negative, TensorRef};
use std::io::Read;

fn main() {
    let path = std::env::args().nth(1).expect("FILE.npy");
    let iterations: usize = std::env::args().nth(2).map_or(50, |n| n.parse().unwrap());
    let npy = npyz::NpyFile::new(std::fs::File::open(&path).unwrap()).unwrap();
    let shape: Vec<u32> = npy.shape().iter().map(|&d| d as u32).collect();
    let mut data = Vec::new();
    npy.into_inner().read_to_end(&mut data).unwrap();
    let tensor = TensorRef {
        element_type: ElementType::Float32,
        shape: &shape,
        data: &data,
    };
    let method = std::env::var("METHOD").map_or(CodingMethod::Native, |m| {
        CodingMethod::from_name(&m).expect("METHOD")
    });
    let native = encode_payload(method, &tensor, 1);
    let desc = TensorDesc {
        element_type: ElementType::Float32,
        shape: &shape,
        non_negative: is_non_negative(ElementType::Float32, &data),
    };
    let start = std::time::Instant::now();
    for _ in 0..iterations {
        assert!(decode_payload(method, &native, &desc, 1).unwrap() == data);
    }
    let s = start.elapsed().as_secs_f64() / iterations.max(1) as f64;
    println!(
        "{} bytes -> {} ({:.3}x); decode {:.1} MB/s",
        data.len(),
        native.len(),
        data.len() as f64 / native.len() as f64,
        data.len() as f64 / s / 1e6
    );
}
