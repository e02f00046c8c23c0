//! Decodes a stream held in memory as `dfc decode` does, without writing the tensors
//! (`dfc_tools::decode::decode_tensors`, which the Python package calls too), ROUNDS times, and
//! prints the fastest round in seconds: the in-process baseline of
//! python/bench/decode_overhead.py.
//!
//! cargo run --release -p dfc-tools --example decode_stream -- STREAM.dfc [ROUNDS] [THREADS]

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: decode_stream STREAM.dfc [ROUNDS] [THREADS]");
    let rounds: usize = args.next().map_or(5, |n| n.parse().expect("ROUNDS"));
    let threads: usize = args.next().map_or(0, |n| n.parse().expect("THREADS"));
    let stream = std::fs::read(&path).expect("cannot read the stream");
    let cpu = || dfc_tools::bench::thread_cpu_time().map_or(f64::NAN, |d| d.as_secs_f64());
    let (mut wall, mut thread) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..rounds.max(1) {
        let (start, start_cpu) = (std::time::Instant::now(), cpu());
        let decoded = dfc_tools::decode::decode_tensors(&stream, &[], None, threads)
            .unwrap_or_else(|e| panic!("{path}: {e:#}"));
        wall = wall.min(start.elapsed().as_secs_f64());
        thread = thread.min(cpu() - start_cpu);
        drop(std::hint::black_box(decoded));
    }
    println!("{wall:.6} {thread:.6}");
}
