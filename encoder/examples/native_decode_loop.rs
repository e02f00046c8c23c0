//! Decodes one .npy tensor with the native method in a loop, for profiling.
//! cargo run --release -p dfc-encoder --example native_decode_loop -- FILE.npy [ITERATIONS]

mod common;

use dfc_decoder::methods::decode_payload;
use dfc_decoder::CodingMethod;
use dfc_encoder::encode_payload;

fn main() {
    let path = std::env::args().nth(1).expect("FILE.npy");
    let iterations: usize = std::env::args().nth(2).map_or(50, |n| n.parse().unwrap());
    let npy = common::Npy::read(std::path::Path::new(&path));
    let (tensor, desc, data) = (npy.tensor(), npy.desc(), &npy.data);
    let method = std::env::var("METHOD").map_or(CodingMethod::Native, |m| {
        CodingMethod::from_name(&m).expect("METHOD")
    });
    let native = encode_payload(method, &tensor, 1);
    let start = std::time::Instant::now();
    for _ in 0..iterations {
        assert!(decode_payload(method, &native, &desc, 1).unwrap() == *data);
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
