"""Round trips through dfc.encode / dfc.decode on the shipped samples: every method and element
type, lossy targets, sequences with inter prediction and start_frame, array-like inputs, the
accepted forms of a stream, and coding from several threads at once."""

import io
import sys
import threading
import time

import numpy as np
import pytest

import dfc
from conftest import corpus, same_bits, sequence

LOSSLESS = ["raw", "zlib", "gzip", "bzip2", "lzma", "native", "auto"]
# A map, a vector and two signed values: each method's paths for ranks 3 and 1.
SUBSET = [
    "hed_vgg16/astronaut/pool4",
    "opennsfw_resnet50_1by2/astronaut/pool5",
    "opennsfw_resnet50_1by2/astronaut/fc_logits",
]


def bfloat16_bits(x):
    """bfloat16 bit patterns of float32 values (round toward zero), as uint16."""
    return (x.view(np.uint32) >> 16).astype(np.uint16)


def as_type(x, element_type):
    if element_type == "float32":
        return x
    if element_type == "float16":
        return x.astype(np.float16)
    if element_type == "bfloat16":
        return bfloat16_bits(x)
    if element_type == "int8":
        return np.clip(np.round(x * 20), -128, 127).astype(np.int8)
    return np.clip(np.round(np.abs(x) * 40), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def samples():
    layers, kinds = corpus()
    return {name: layers[name] for name in SUBSET}, {name: kinds[name] for name in SUBSET}


@pytest.mark.parametrize("element_type", ["float32", "float16", "bfloat16", "int8", "uint8"])
@pytest.mark.parametrize("method", LOSSLESS)
def test_lossless_round_trip_is_bit_exact(samples, method, element_type, monkeypatch):
    monkeypatch.setattr(dfc, "_BFLOAT16", None)  # bfloat16 as uint16 bit patterns
    layers, kinds = samples
    tensors = {name: as_type(x, element_type) for name, x in layers.items()}
    stream = dfc.encode(tensors, method=method, kinds=kinds)
    decoded = dfc.decode(stream)
    assert list(decoded) == list(tensors)
    for name, x in tensors.items():
        assert same_bits(decoded[name], x), name
    report = dfc.inspect(stream)
    assert [l["element_type"] for l in report["layers"]] == [element_type] * len(tensors)
    if method != "auto":
        assert {m for l in report["layers"] for m in l["methods"]} == {method}


def test_bfloat16_with_ml_dtypes_round_trips():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    layers, _ = corpus()
    x = layers["hed_vgg16/astronaut/pool4"].astype(ml_dtypes.bfloat16)
    decoded = dfc.decode(dfc.encode({"a": x}, method="native"))["a"]
    assert decoded.dtype == np.dtype(ml_dtypes.bfloat16)
    assert same_bits(decoded, x)


def test_special_values_survive_bit_for_bit():
    # NaN payloads, signed zeros, infinities, subnormals: lossless means the bits.
    bits = np.array([0x7FC00001, 0xFFC00000, 0x80000000, 0, 0x7F800000, 0xFF800000, 1, 0x807FFFFF], np.uint32)
    x = np.tile(bits, 100).view(np.float32).reshape(8, 100)
    for method in LOSSLESS:
        assert same_bits(dfc.decode(dfc.encode({"s": x}, method=method))["s"], x), method


@pytest.mark.parametrize(
    "target",
    [{"bits": 6}, {"qp": 40}, {"target_psnr": 45.0}, {"target_bpe": 2.0}, {"bits": 4, "quantizer": "codebook"}],
)
def test_lossy_targets(samples, target):
    layers, kinds = samples
    x = layers["hed_vgg16/astronaut/pool4"]
    stream = dfc.encode({"pool4": x}, kinds={"pool4": "pool"}, **target)
    y = dfc.decode(stream)["pool4"]
    assert y.dtype == np.float32 and y.shape == x.shape
    assert dfc.inspect(stream)["layers"][0]["methods"] == ["quantized"]
    peak = float(np.abs(x).max())
    psnr = 10 * np.log10(peak**2 / float(np.mean((x.astype(np.float64) - y) ** 2)))
    if "target_psnr" in target:
        assert psnr >= target["target_psnr"]
    if "target_bpe" in target:
        assert len(stream) * 8 / x.size <= target["target_bpe"] * 1.05  # payload + framing
    assert 20 < psnr < 120  # lossy, but close


def test_lossy_target_leaves_integer_layers_and_explicit_methods_lossless(samples):
    layers, _ = samples
    x = layers["hed_vgg16/astronaut/pool4"]
    q = as_type(x, "uint8")
    stream = dfc.encode({"f": x, "q": q, "raw": x}, qp=40, layer_methods={"raw": "raw"})
    methods = {l["name"]: l["methods"] for l in dfc.inspect(stream)["layers"]}
    assert methods["f"] == ["quantized"] and methods["raw"] == ["raw"]
    assert methods["q"] != ["quantized"]
    decoded = dfc.decode(stream)
    assert same_bits(decoded["q"], q) and same_bits(decoded["raw"], x)
    # method="auto" given with a target stays lossless, as `dfc encode --method auto --qp 40`.
    assert same_bits(dfc.decode(dfc.encode({"f": x}, method="auto", qp=40))["f"], x)


def test_sequence_with_inter_prediction_and_start_frame():
    frames, kinds = sequence()
    stream = dfc.encode(frames, kinds=kinds, qp=48, prediction="inter", rap_period=4)
    intra = dfc.encode(frames, kinds=kinds, qp=48, prediction="intra", rap_period=4)
    assert stream != intra  # inter residuals were chosen somewhere
    decoded = dfc.decode(stream)
    assert isinstance(decoded, list) and len(decoded) == len(frames)
    for got, original in zip(decoded, frames):
        assert list(got) == list(original)
        for name, x in original.items():
            assert got[name].shape == x.shape and got[name].dtype == np.float32
            assert np.max(np.abs(got[name] - x)) <= np.abs(x).max() * 2 ** (-48 / 8)
    # Random-access points at frames 0 and 4: start_frame 6 decodes from 4, to the same arrays.
    later = dfc.decode_frames(stream, start_frame=6)
    assert [f for f, _ in later] == [4, 5, 6, 7]
    for f, layers in later:
        for name, y in layers.items():
            assert same_bits(y, decoded[f][name])
    # Lossless sequences round trip exactly.
    lossless = dfc.decode(dfc.encode(frames, kinds=kinds, method="native"))
    assert all(same_bits(lossless[f][n], frames[f][n]) for f in range(len(frames)) for n in frames[f])


class ArrayLike:
    """A tensor type of some framework: only __array__, as PyTorch CPU tensors have."""

    def __init__(self, array):
        self._array = array

    def __array__(self, dtype=None, copy=None):
        return self._array if dtype is None else self._array.astype(dtype)


class DLPackOnly:
    """A tensor type that only speaks DLPack (the protocol PyTorch, JAX and CuPy share)."""

    def __init__(self, array):
        self._array = array

    def __dlpack__(self, **kwargs):
        return self._array.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._array.__dlpack_device__()


def test_array_protocols_are_read_without_a_copy(samples):
    layers, _ = samples
    x = layers["hed_vgg16/astronaut/pool4"]
    for wrapped in [ArrayLike(x), DLPackOnly(x)]:
        assert np.shares_memory(dfc._as_ndarray(wrapped), x), type(wrapped).__name__
        assert dfc.encode({"a": wrapped}) == dfc.encode({"a": x})


def test_array_like_objects_and_layouts(samples):
    layers, _ = samples
    x = layers["hed_vgg16/astronaut/pool4"]
    stream = dfc.encode({"a": ArrayLike(x)})
    assert stream == dfc.encode({"a": x})
    # Fortran order and big-endian input are coded as the same canonical tensor.
    assert dfc.encode({"a": np.asfortranarray(x)}) == stream
    assert dfc.encode({"a": x.astype(">f4")}) == stream
    assert dfc.encode({"a": x.transpose(1, 2, 0)}) == dfc.encode({"a": np.ascontiguousarray(x.transpose(1, 2, 0))})


def test_decoded_arrays_are_views_of_writeable_buffers(samples):
    layers, _ = samples
    x = layers["opennsfw_resnet50_1by2/astronaut/pool5"]
    y = dfc.decode(dfc.encode({"v": x}))["v"]
    assert y.flags.writeable and y.flags.c_contiguous and not y.flags.owndata
    # A view of the buffer the decoder wrote, which NumPy did not allocate: no copy was made.
    assert isinstance(y.base, np.ndarray) and not y.base.flags.owndata
    assert y.base.dtype == np.uint8 and y.base.nbytes == y.nbytes
    y[0] = 1.0


def test_streams_given_as_bytes_buffers_paths_and_files(samples, tmp_path):
    layers, _ = samples
    stream = dfc.encode(layers)
    path = tmp_path / "s.dfc"
    path.write_bytes(stream)
    expected = dfc.decode(stream)
    for source in [bytearray(stream), memoryview(stream), str(path), path, io.BytesIO(stream)]:
        got = dfc.decode(source)
        assert all(same_bits(got[n], expected[n]) for n in expected), type(source)
    with open(path, "rb") as f:
        assert dfc.inspect(f) == dfc.inspect(stream)


def test_layer_selection(samples):
    layers, _ = samples
    stream = dfc.encode(layers)
    name = SUBSET[1]
    got = dfc.decode(stream, layers=[name])
    assert list(got) == [name] and same_bits(got[name], layers[name])


def test_threads_give_the_same_results_concurrently(samples):
    layers, kinds = samples
    options = [dict(method="native"), dict(qp=44), dict(method="lzma"), dict(target_psnr=50.0)]
    expected = [dfc.encode(layers, kinds=kinds, **o) for o in options]
    decoded = [dfc.decode(s) for s in expected]
    results = {}

    def work(i):
        stream = dfc.encode(layers, kinds=kinds, threads=2, **options[i % len(options)])
        results[i] = (stream, dfc.decode(stream, threads=2))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, (stream, got) in results.items():
        assert stream == expected[i % len(options)]
        want = decoded[i % len(options)]
        assert all(same_bits(got[n], want[n]) for n in want)
    assert len(results) == 8


def test_coding_releases_the_gil():
    """Another Python thread runs while a call codes: with a switch interval far longer than the
    call, it could only run if the call let go of the GIL."""
    layers, _ = corpus()
    # Large enough (7.6 MB, about 0.4 s to decode here) for the other thread to get a core.
    tensors = {f"{name}/{i}": x for i in range(2) for name, x in layers.items()}
    stream = dfc.encode(tensors, method="bzip2")
    counter = [0]
    started, done = threading.Event(), threading.Event()

    def count():
        started.set()
        while not done.is_set():
            counter[0] += 1
            time.sleep(0)  # hands the GIL back to a thread that waits for it

    interval = sys.getswitchinterval()
    sys.setswitchinterval(30)
    thread = threading.Thread(target=count)
    try:
        thread.start()
        started.wait()
        for call in [lambda: dfc.encode(tensors, method="bzip2"), lambda: dfc.decode(stream)]:
            before = counter[0]
            call()
            assert counter[0] > before
    finally:
        done.set()
        sys.setswitchinterval(interval)
        thread.join()
