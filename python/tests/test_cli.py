"""The package against the `dfc` command line: the same streams byte for byte for the same
input and options, the same decoded tensors bit for bit, the same inspect JSON."""

import json
import subprocess

import numpy as np
import pytest

import dfc
from conftest import corpus, same_bits, sequence


def cli_decode(dfc_cli, stream_path, out_dir, *args):
    dfc_cli("decode", stream_path, "-o", out_dir, "--quiet", *args)
    return {p.relative_to(out_dir).as_posix()[: -len(".npy")]: np.load(p) for p in out_dir.rglob("*.npy")}


@pytest.mark.parametrize(
    "cli_args, options",
    [
        ([], {}),
        (["--method", "native", "--no-hash"], {"method": "native", "hashes": False}),
        (["--qp", "40"], {"qp": 40}),
        (["--target-psnr", "45", "--quantizer", "codebook"], {"target_psnr": 45.0, "quantizer": "codebook"}),
        (["--method", "zlib", "--profile", "baseline", "--meta", "image=astronaut"],
         {"method": "zlib", "profile": "baseline", "metadata": {"image": "astronaut"}}),
        (["--bits", "6", "--channels", "tensor", "--no-rdo", "--layer-method", "hed_vgg16/astronaut/pool4=lzma",
          "--kind", "hed_vgg16/astronaut/pool4=other", "--level", "3"],
         {"bits": 6, "channels": "tensor", "rdo": False, "layer_methods": {"hed_vgg16/astronaut/pool4": "lzma"},
          "kinds_override": {"hed_vgg16/astronaut/pool4": "other"}, "level": 3}),
    ],
)
def test_corpus_streams_and_tensors_equal_the_cli(dfc_cli, tmp_path, cli_args, options):
    layers, kinds = corpus()
    kinds.update(options.pop("kinds_override", {}))
    cli_stream = tmp_path / "cli.dfc"
    dfc_cli("encode", "samples/corpus", "-o", cli_stream, "--quiet", *cli_args)
    stream = dfc.encode(layers, kinds=kinds, source="samples/corpus", **options)
    assert stream == cli_stream.read_bytes()
    decoded = dfc.decode(stream)
    expected = cli_decode(dfc_cli, cli_stream, tmp_path / "out")
    assert sorted(decoded) == sorted(expected)
    for name, array in decoded.items():
        assert same_bits(array, expected[name]), name


def test_sequence_stream_and_frames_equal_the_cli(dfc_cli, tmp_path):
    frames, kinds = sequence()
    cli_stream = tmp_path / "cli.dfc"
    dfc_cli("encode", "samples/sequence", "-o", cli_stream, "--quiet", "--qp", "48", "--rap-period", "4")
    stream = dfc.encode(frames, kinds=kinds, qp=48, rap_period=4, source="samples/sequence")
    assert stream == cli_stream.read_bytes()
    expected = cli_decode(dfc_cli, cli_stream, tmp_path / "out", "--start-frame", "5")
    got = dfc.decode_frames(stream, start_frame=5)
    assert [f for f, _ in got] == [4, 5, 6, 7]
    # The CLI mirrors its input: layer a/b of frame 3 -> a/frame_03/b.npy.
    count = 0
    for frame, layers in got:
        for name, array in layers.items():
            head, base = name.rsplit("/", 1)
            assert same_bits(array, expected[f"{head}/frame_{frame:02d}/{base}"]), (frame, name)
            count += 1
    assert count == len(expected)


def test_bfloat16_decodes_as_the_cli_writes_it(dfc_cli, tmp_path, monkeypatch):
    monkeypatch.setattr(dfc, "_BFLOAT16", None)
    layers, _ = corpus()
    x = (layers["hed_vgg16/astronaut/pool4"].view(np.uint32) >> 16).astype(np.uint16)
    path = tmp_path / "bf16.dfc"
    path.write_bytes(dfc.encode({"pool4": x}, method="native"))
    expected = cli_decode(dfc_cli, path, tmp_path / "out")
    assert same_bits(dfc.decode(path)["pool4"], expected["pool4"])  # '<u2' bit patterns


def test_inspect_is_the_cli_json(dfc_cli, tmp_path):
    frames, kinds = sequence()
    path = tmp_path / "s.dfc"
    path.write_bytes(dfc.encode(frames, kinds=kinds, qp=48))
    assert dfc.inspect(path) == json.loads(dfc_cli("inspect", "--json", path))
    # A broken stream: the report with its error, as the CLI prints it (and exits 1).
    broken = tmp_path / "broken.dfc"
    broken.write_bytes(path.read_bytes()[:-7])
    report = dfc.inspect(broken)
    assert report["error"]["class"] == "truncated"
    cli = subprocess.run([*dfc_cli.command, "inspect", "--json", str(broken)], capture_output=True)
    assert cli.returncode == 1 and json.loads(cli.stdout) == report


def test_decode_errors_name_the_layer_and_frame(dfc_cli, tmp_path):
    frames = [{"a": np.arange(12, dtype=np.float32), "b": np.ones(20, np.float32)} for _ in range(3)]
    path = tmp_path / "s.dfc"
    path.write_bytes(dfc.encode(frames, method="raw"))
    unit = next(
        u for u in dfc.inspect(path)["units"] if u["summary"].startswith("layer 1 frame 2,")
    )
    # The last payload byte of layer b's frame 2, with a correct unit CRC: the tensor hash fails.
    damaged = tmp_path / "damaged.dfc"
    dfc_cli("mutate", path, "-o", damaged, "--quiet", f"pwrite:{unit['index']}@{unit['payload_size'] - 1}=7f")
    with pytest.raises(dfc.DecodeError) as raised:
        dfc.decode(damaged)
    e = raised.value
    assert (e.error_class, e.requirement, e.layer, e.frame) == ("corrupt", "REQ-8.5-1", "b", 2)
    with pytest.raises(dfc.DecodeError) as streamed:
        list(dfc.Decoder(damaged))
    assert (streamed.value.layer, streamed.value.frame) == ("b", 2)
