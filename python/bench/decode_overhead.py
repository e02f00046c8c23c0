#!/usr/bin/env python3
"""What decoding through Python costs over the same decode in Rust: `dfc.decode` against the
in-process decode it wraps (tools/examples/decode_stream.rs, `dfc_tools::decode::decode_tensors`,
what `dfc decode` runs before writing files), on the same stream, in interleaved rounds; the
minimum of each side over all rounds, and their ratio.

    cargo build --release -p dfc-tools --example decode_stream
    pip install ./python                       # release build
    python python/bench/decode_overhead.py STREAM.dfc [--rounds 7] [--reps 5] [--threads 1]

Not a test: run it by hand; the figures go in notes and docs/results.md.
"""

import argparse
import subprocess
import sys
import time
from pathlib import Path

import dfc

REPO = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--reps", type=int, default=5, help="decodes per side and round (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="decoder threads (default 1)")
    parser.add_argument("--rust", type=Path, default=REPO / "target/release/examples/decode_stream")
    args = parser.parse_args()
    stream = args.stream.read_bytes()
    report = dfc.inspect(stream)
    rust, python = [], []
    for _ in range(args.rounds):
        out = subprocess.run(
            [str(args.rust), str(args.stream), str(args.reps), str(args.threads)],
            check=True, capture_output=True, text=True,
        ).stdout
        rust.append(float(out))
        best = float("inf")
        for _ in range(args.reps):
            start = time.perf_counter()
            decoded = dfc.decode(stream, threads=args.threads)
            best = min(best, time.perf_counter() - start)
            del decoded
        python.append(best)
    r, p = min(rust), min(python)
    t = report["totals"]
    print(f"stream {args.stream}: {len(stream)} bytes, {t['layers']} layers, {t['frames']} frame(s), "
          f"{t['decoded_bytes']} decoded bytes, methods "
          f"{sorted({m for l in report['layers'] for m in l['methods']})}, threads {args.threads}")
    print(f"rust in-process decode : min {r * 1e3:9.3f} ms  (rounds: {', '.join(f'{x * 1e3:.3f}' for x in rust)})")
    print(f"python dfc.decode      : min {p * 1e3:9.3f} ms  (rounds: {', '.join(f'{x * 1e3:.3f}' for x in python)})")
    print(f"python / rust = {p / r:.4f}  ({(p / r - 1) * 100:+.2f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
