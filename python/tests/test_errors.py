"""Every error is an exception of its kind, never a crash: each invalid golden stream of the
conformance suite raises DecodeError with the class, requirement and unit its expect.json gives,
every valid and uncommon stream decodes to the tensors it lists, and bad tensors or options raise
EncodeError or ValueError."""

import hashlib
import io
import json

import numpy as np
import pytest

import dfc
from conftest import REPO

CASES = sorted((REPO / "bitstreams").glob("*/*/expect.json"))


def case_id(path):
    return f"{path.parent.parent.name}/{path.parent.name}"


def decode_case(expect, stream):
    """Decodes as the conformance runner does: the selected layer, from the start frame (a
    random-access frame_header, so given to the streaming decoder as it is)."""
    layers = [expect["select_layer"]] if "select_layer" in expect else None
    if "start_frame" in expect:
        return list(dfc.Decoder(io.BytesIO(stream), layers=layers, start_frame=expect["start_frame"]))
    return [(f, name, a) for f, frame in dfc.decode_frames(stream, layers=layers) for name, a in frame.items()]


@pytest.mark.parametrize("expect_path", CASES, ids=case_id)
def test_golden_streams(expect_path, monkeypatch):
    monkeypatch.setattr(dfc, "_BFLOAT16", None)
    expect = json.loads(expect_path.read_text())
    stream = (expect_path.parent / "stream.dfc").read_bytes()
    expected = expect["expected"]
    if expected["outcome"] == "reject":
        with pytest.raises(dfc.DecodeError) as raised:
            decode_case(expect, stream)
        e = raised.value
        assert (e.error_class, e.requirement) == (expected["class"], expected["requirement"])
        if expected["location"] == "unit":
            assert (e.unit, e.offset) == (expected["unit_index"], expected["byte_offset"])
        elif expected["location"] == "identification":
            assert e.unit is None and e.offset is None
        else:
            assert e.unit is None
        assert expected["requirement"] in str(e)
        # The streaming decoder raises the same error when it reaches the unit.
        if "start_frame" not in expect:
            layers = [expect["select_layer"]] if "select_layer" in expect else None
            with pytest.raises(dfc.DecodeError) as streamed:
                list(dfc.Decoder(io.BytesIO(stream), layers=layers))
            assert (streamed.value.requirement, streamed.value.unit) == (e.requirement, e.unit)
    else:
        got = decode_case(expect, stream)
        want = expected["tensors"]
        assert [(f, name) for f, name, _ in got] == [(t["frame_index"], t["name"]) for t in want]
        for (_, _, array), t in zip(got, want):
            assert list(array.shape) == t["shape"]
            assert hashlib.sha256(array.tobytes()).hexdigest() == t["sha256"]


def test_there_are_golden_streams_of_each_group():
    groups = {p.parent.parent.name for p in CASES}
    assert groups == {"valid", "uncommon", "invalid"}


def small():
    return {"a": np.arange(24, dtype=np.float32).reshape(2, 3, 4)}


@pytest.mark.parametrize(
    "tensors, options, message",
    [
        ({"a": np.zeros(4, np.float64)}, {}, "float64 is not a DFC element type"),
        ({"a": np.zeros((1, 1, 1, 1, 2), np.float32)}, {}, "rank"),
        ({"a": np.zeros((), np.float32)}, {}, "rank"),
        ({"a": np.zeros((3, 0), np.float32)}, {}, "no zero dimension"),
        ({}, {}, "no tensors"),
        ([], {}, "no tensors"),
        ("not tensors", {}, "mapping"),
        ([{"a": np.zeros(2, np.float32)}, "x"], {}, "frame 1"),
        ({1: np.zeros(2, np.float32)}, {}, "layer names are strings"),
        (small(), {"method": "deflate"}, "unknown method"),
        (small(), {"qp": 40, "bits": 4}, "at most one"),
        (small(), {"bits": 17}, "1 to 16"),
        (small(), {"quantizer": "lloyd"}, "quantizer"),
        (small(), {"prediction": "future"}, "prediction"),
        (small(), {"profile": "high"}, "unknown profile"),
        (small(), {"level": "9.9"}, "level"),
        (small(), {"method": "native", "profile": "baseline"}, "baseline"),
        (small(), {"kinds": {"b": "conv"}}, "no layer"),
        (small(), {"kinds": {"a": "dense"}}, "unknown kind"),
        (small(), {"layer_methods": {"b": "raw"}}, "no layer"),
        (small(), {"rap_period": 0}, "rap_period"),
        (small(), {"target_psnr": float("nan")}, "finite"),
        ({"a": np.zeros((4096, 4096), np.float32)}, {"level": 1, "method": "raw"}, "level"),
    ],
)
def test_encode_errors(tensors, options, message):
    with pytest.raises(dfc.EncodeError, match=message):
        dfc.encode(tensors, **options)


def test_decode_argument_errors():
    stream = dfc.encode(small())
    with pytest.raises(ValueError, match="no layer"):
        dfc.decode(stream, layers=["b"])
    with pytest.raises(ValueError, match="random-access points"):
        dfc.decode(stream, start_frame=1)
    frames = dfc.encode([small(), small()], rap_period=1)
    assert [f for f, _ in dfc.decode_frames(frames, start_frame=1)] == [1]
    with pytest.raises(ValueError, match="no layer"):
        dfc.Decoder(frames, layers=["zz"])
    with pytest.raises(TypeError):
        dfc.Decoder(12)
    with pytest.raises(ValueError, match="threads"):
        dfc.decode(stream, threads=-1)


def test_errors_of_the_source_are_decode_errors_of_class_io():
    class Failing(io.RawIOBase):
        def readable(self):
            return True

        def readinto(self, b):
            raise OSError("the connection was reset")

    with pytest.raises(dfc.DecodeError, match="connection was reset") as raised:
        dfc.Decoder(Failing())
    assert raised.value.error_class == "io"


def test_decode_error_is_a_value_error_with_its_fields():
    stream = dfc.encode(small())
    damaged = bytearray(stream)
    damaged[-20] ^= 0xFF
    with pytest.raises(ValueError) as raised:
        dfc.decode(bytes(damaged))
    e = raised.value
    assert isinstance(e, dfc.DecodeError) and isinstance(e, dfc.DFCError)
    assert e.error_class == "corrupt" and e.requirement.startswith("REQ-")
    assert isinstance(e.unit, int) and isinstance(e.offset, int) and e.message in str(e)
