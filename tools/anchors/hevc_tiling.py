#!/usr/bin/env python3
"""HEVC tiling anchor for `dfc rd --external` (the Choi-Bajic / MPEG feature-coding anchor).

    hevc_tiling.py INPUT OUTPUT QP [--bits 10] [--preset slower] [--gop 8] [--bframes 3]

INPUT is a float32 .npy tensor (a still) or a folder of frame_NN.npy files (a sequence, one
tensor per frame, all of one shape). The tensor is quantized linearly from [min, max] to
`--bits` bits (min and max over the whole sequence, sent once as two float32 values), its
channel maps are tiled in a near-square grid into one monochrome picture (4:0:0), and the
picture(s) are coded by x265 at the constant QP given: one intra picture for a still, a GOP
of `--gop` pictures with P and B pictures for a sequence. ffmpeg decodes the HEVC stream;
the decoded picture is cut back into maps and dequantized.

OUTPUT (an existing empty folder) receives the bitstream, `stream.hevc` and `side.bin` (min
and max, 8 bytes), whose sizes are the rate, and the reconstruction: `decoded.npy` for a
still, `decoded/frame_NN.npy` for a sequence (the protocol of `dfc rd --external`).

Needs numpy, and the programs x265 (8/10-bit build) and ffmpeg on PATH (Debian: `apt-get
install x265 ffmpeg`); a missing program is an error that says so.
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

# x265 refuses pictures smaller than one CTU (64 x 64 at preset slower); sides are padded to
# a multiple of the smallest coding block (8).
MIN_SIDE = 64
ALIGN = 8


def as_maps(tensor):
    """The tensor as a stack of 2-D maps (count, height, width) and a function that undoes it."""
    shape = tensor.shape
    if tensor.ndim >= 3:
        maps = tensor.reshape(-1, shape[-2], shape[-1])
    elif tensor.ndim == 2:
        maps = tensor.reshape(1, shape[0], shape[1])
    else:
        # A vector: one near-square map, zero-padded.
        n = tensor.size
        width = math.ceil(math.sqrt(n))
        height = math.ceil(n / width)
        padded = np.zeros(width * height, dtype=tensor.dtype)
        padded[:n] = tensor.reshape(-1)
        maps = padded.reshape(1, height, width)

    def restore(decoded_maps):
        if tensor.ndim >= 2:
            return decoded_maps.reshape(shape)
        return decoded_maps.reshape(-1)[: tensor.size].reshape(shape)

    return maps, restore


def grid(count):
    """Columns and rows of the near-square grid that holds `count` maps."""
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    return columns, rows


def padded_side(side):
    return max(MIN_SIDE, -(-side // ALIGN) * ALIGN)


def tile(maps):
    """Maps (count, h, w) placed row by row in the grid; unused tiles and the padding repeat
    the nearest edge of the picture so that they cost few bits. Returns the picture."""
    count, h, w = maps.shape
    columns, rows = grid(count)
    picture = np.zeros((rows * h, columns * w), dtype=maps.dtype)
    for k in range(count):
        r, c = divmod(k, columns)
        picture[r * h:(r + 1) * h, c * w:(c + 1) * w] = maps[k]
    height, width = padded_side(rows * h), padded_side(columns * w)
    return np.pad(picture, ((0, height - rows * h), (0, width - columns * w)), mode="edge")


def untile(picture, count, h, w):
    columns, _ = grid(count)
    maps = np.empty((count, h, w), dtype=picture.dtype)
    for k in range(count):
        r, c = divmod(k, columns)
        maps[k] = picture[r * h:(r + 1) * h, c * w:(c + 1) * w]
    return maps


def quantize(values, low, high, bits):
    top = (1 << bits) - 1
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint16)
    scaled = (values.astype(np.float64) - low) / (float(high) - float(low)) * top
    return np.clip(np.rint(scaled), 0, top).astype(np.uint16)


def dequantize(levels, low, high, bits):
    top = (1 << bits) - 1
    if high <= low:
        return np.full(levels.shape, low, dtype=np.float32)
    return (low + levels.astype(np.float64) * ((float(high) - float(low)) / top)).astype(np.float32)


def require(program):
    path = shutil.which(program)
    if path is None:
        sys.exit(f"hevc_tiling: {program} not found on PATH (Debian: apt-get install x265 ffmpeg)")
    return path


def run(command):
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace")[-2000:]
        sys.exit(f"hevc_tiling: {' '.join(command)} failed (exit {done.returncode}):\n{tail}")


def code_pictures(pictures, qp, bits, options, work):
    """Codes pictures (frames, height, width; levels) with x265 and decodes them with ffmpeg.
    Returns the HEVC stream's bytes and the decoded pictures."""
    frames, height, width = pictures.shape
    raw = os.path.join(work, "in.yuv")
    stream = os.path.join(work, "stream.hevc")
    decoded = os.path.join(work, "out.yuv")
    dtype = "<u2" if bits > 8 else "u1"
    pictures.astype(dtype).tofile(raw)
    command = [
        require("x265"), "--input", raw, "--input-res", f"{width}x{height}", "--fps", "25",
        "--input-csp", "i400", "--input-depth", str(8 if bits <= 8 else bits),
        "--output-depth", str(8 if bits <= 8 else bits), "--preset", options.preset,
        "--qp", str(qp), "--frames", str(frames), "--no-info", "--log-level", "error",
        "--pools", "1", "--no-wpp", "--frame-threads", "1",
    ]
    if options.tune:
        command += ["--tune", options.tune]
    if frames == 1:
        command += ["--keyint", "1"]
    else:
        command += ["--keyint", str(options.gop), "--min-keyint", str(options.gop),
                    "--no-scenecut", "--bframes", str(options.bframes)]
    run(command + ["-o", stream])
    pix_fmt = "gray10le" if bits > 8 else "gray"
    if bits not in (8, 10):
        sys.exit("hevc_tiling: --bits must be 8 or 10")
    run([require("ffmpeg"), "-loglevel", "error", "-y", "-i", stream, "-f", "rawvideo",
         "-pix_fmt", pix_fmt, decoded])
    out = np.fromfile(decoded, dtype=dtype)
    if out.size != frames * height * width:
        sys.exit(f"hevc_tiling: ffmpeg decoded {out.size} samples, expected {frames * height * width}")
    with open(stream, "rb") as f:
        return f.read(), out.reshape(frames, height, width).astype(np.uint16)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", help="float32 .npy tensor, or a folder of frame_NN.npy files")
    parser.add_argument("output", help="empty folder for the bitstream and the reconstruction")
    parser.add_argument("qp", type=int, help="x265 constant QP, 0..51")
    parser.add_argument("--bits", type=int, default=10, choices=[8, 10],
                        help="bit depth of the pictures (default 10)")
    parser.add_argument("--preset", default="slower", help="x265 preset (default slower)")
    parser.add_argument("--tune", default="psnr", help="x265 tune (default psnr; '' for none)")
    parser.add_argument("--gop", type=int, default=8, help="sequences: pictures per GOP (default 8)")
    parser.add_argument("--bframes", type=int, default=3, help="sequences: B pictures (default 3)")
    options = parser.parse_args()
    if not 0 <= options.qp <= 51:
        sys.exit(f"hevc_tiling: QP {options.qp} is not in 0..51")

    if os.path.isdir(options.input):
        names = sorted(n for n in os.listdir(options.input) if n.endswith(".npy"))
        if not names:
            sys.exit(f"hevc_tiling: no .npy frame in {options.input}")
        frames = [np.load(os.path.join(options.input, n)).astype(np.float32) for n in names]
    else:
        names = None
        frames = [np.load(options.input).astype(np.float32)]
    shape = frames[0].shape
    if any(f.shape != shape for f in frames):
        sys.exit("hevc_tiling: the frames differ in shape")
    low = np.float32(min(float(f.min()) for f in frames))
    high = np.float32(max(float(f.max()) for f in frames))

    pictures, restores = [], []
    for f in frames:
        maps, restore = as_maps(quantize(f, low, high, options.bits))
        pictures.append(tile(maps))
        restores.append((restore, maps.shape))
    with tempfile.TemporaryDirectory(prefix="hevc-tiling-") as work:
        stream, decoded = code_pictures(np.stack(pictures), options.qp, options.bits, options, work)

    with open(os.path.join(options.output, "stream.hevc"), "wb") as f:
        f.write(stream)
    with open(os.path.join(options.output, "side.bin"), "wb") as f:
        f.write(np.array([low, high], dtype="<f4").tobytes())
    outputs = []
    for picture, (restore, (count, h, w)) in zip(decoded, restores):
        levels = restore(untile(picture, count, h, w))
        outputs.append(dequantize(levels, low, high, options.bits))
    if names is None:
        np.save(os.path.join(options.output, "decoded.npy"), outputs[0])
    else:
        folder = os.path.join(options.output, "decoded")
        os.mkdir(folder)
        for name, out in zip(names, outputs):
            np.save(os.path.join(folder, name), out)


if __name__ == "__main__":
    main()
