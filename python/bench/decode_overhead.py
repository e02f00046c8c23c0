#!/usr/bin/env python3
"""What decoding through Python costs over the same decode in Rust: `dfc.decode` against the
in-process decode it wraps (tools/examples/decode_stream.rs, `dfc_tools::decode::decode_tensors`,
what `dfc decode` runs before writing files), on the same stream, in interleaved rounds; the
minimum of each side over all rounds, and their ratio.

    cargo build --release -p dfc-tools --example decode_stream
    pip install ./python                       # release build
    python python/bench/decode_overhead.py STREAM.dfc [--rounds 7] [--reps 5] [--threads 1]
    python python/bench/decode_overhead.py STREAM.dfc --callgrind

--callgrind counts instructions instead (valgrind), steady on a busy machine: each side runs
with 1 and with 3 decodes, and the difference over 2 is the count of one decode (process start,
imports and reading the file cancel out).

Not a test: run it by hand; the figures go in notes and docs/results.md.
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

import dfc

REPO = Path(__file__).resolve().parents[2]


PYTHON_DECODES = """
import sys, dfc
stream = open(sys.argv[1], "rb").read()
for _ in range(int(sys.argv[2])):
    decoded = dfc.decode(stream, threads=int(sys.argv[3]))
    del decoded
"""


def instructions(command) -> int:
    run = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
                         check=True, capture_output=True, text=True)
    return int(re.search(r"Collected : (\d+)", run.stderr).group(1))


def callgrind(args) -> None:
    sides = {
        "rust in-process decode": lambda n: [str(args.rust), str(args.stream), str(n), str(args.threads)],
        "python dfc.decode": lambda n: [sys.executable, "-c", PYTHON_DECODES, str(args.stream), str(n),
                                        str(args.threads)],
    }
    per_decode = {}
    for name, command in sides.items():
        one, three = instructions(command(1)), instructions(command(3))
        per_decode[name] = (three - one) / 2
        print(f"{name:23}: {per_decode[name]:14,.0f} instructions per decode")
    r, p = per_decode.values()
    print(f"python / rust = {p / r:.4f}  ({(p / r - 1) * 100:+.2f} %)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stream", type=Path)
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--reps", type=int, default=5, help="decodes per side and round (default 5)")
    parser.add_argument("--threads", type=int, default=1, help="decoder threads (default 1)")
    parser.add_argument("--rust", type=Path, default=REPO / "target/release/examples/decode_stream")
    parser.add_argument("--callgrind", action="store_true", help="count instructions (valgrind)")
    args = parser.parse_args()
    stream = args.stream.read_bytes()
    report = dfc.inspect(stream)
    t = report["totals"]
    print(f"stream {args.stream}: {len(stream)} bytes, {t['layers']} layers, {t['frames']} frame(s), "
          f"{t['decoded_bytes']} decoded bytes, methods "
          f"{sorted({m for l in report['layers'] for m in l['methods']})}, threads {args.threads}")
    if args.callgrind:
        callgrind(args)
        return 0
    rust, python = [], []  # (wall, thread CPU) minima of each round
    for _ in range(args.rounds):
        out = subprocess.run(
            [str(args.rust), str(args.stream), str(args.reps), str(args.threads)],
            check=True, capture_output=True, text=True,
        ).stdout
        rust.append(tuple(map(float, out.split())))
        wall = cpu = float("inf")
        for _ in range(args.reps):
            start, start_cpu = time.perf_counter(), time.thread_time()
            decoded = dfc.decode(stream, threads=args.threads)
            wall = min(wall, time.perf_counter() - start)
            cpu = min(cpu, time.thread_time() - start_cpu)
            del decoded
        python.append((wall, cpu))
    for i, clock in enumerate(["wall clock", "thread CPU time"]):
        r, p = min(x[i] for x in rust), min(x[i] for x in python)
        print(f"{clock}:")
        print(f"  rust in-process decode : min {r * 1e3:9.3f} ms  (rounds: {', '.join(f'{x[i] * 1e3:.1f}' for x in rust)})")
        print(f"  python dfc.decode      : min {p * 1e3:9.3f} ms  (rounds: {', '.join(f'{x[i] * 1e3:.1f}' for x in python)})")
        print(f"  python / rust = {p / r:.4f}  ({(p / r - 1) * 100:+.2f} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
