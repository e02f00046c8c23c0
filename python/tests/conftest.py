"""Shared helpers: the repository's samples (samples/corpus, samples/sequence) and the `dfc`
command line the package is compared with."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "samples" / "corpus"
SEQUENCE = REPO / "samples" / "sequence"


def _kinds(manifest_dir, name_of):
    manifest = json.loads((manifest_dir / "manifest.json").read_text())
    return {name_of(t["path"]): t["kind"] for t in manifest["tensors"]}


def corpus():
    """The sample as `dfc encode samples/corpus` reads it: (layers in sorted relative-path
    order, kinds from the manifest)."""
    paths = sorted(CORPUS.rglob("*.npy"), key=lambda p: p.relative_to(CORPUS).as_posix())
    layers = {p.relative_to(CORPUS).as_posix()[: -len(".npy")]: np.load(p) for p in paths}
    return layers, _kinds(CORPUS, lambda p: p[: -len(".npy")])


def _drop_frame(relative):
    parts = relative[: -len(".npy")].split("/")
    return "/".join(p for p in parts if not p.startswith("frame_"))


def sequence():
    """samples/sequence as frames: (one mapping per frame, kinds), as `dfc encode` reads it."""
    frames = {}
    for p in sorted(SEQUENCE.rglob("*.npy"), key=lambda p: p.relative_to(SEQUENCE).as_posix()):
        relative = p.relative_to(SEQUENCE).as_posix()
        frame = int(next(c for c in relative.split("/") if c.startswith("frame_"))[6:])
        frames.setdefault(frame, {})[_drop_frame(relative)] = np.load(p)
    return [frames[f] for f in sorted(frames)], _kinds(SEQUENCE, _drop_frame)


def same_bits(a, b):
    """Equal dtype, shape and bytes (NaN payloads and -0.0 included)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.fixture(scope="session")
def dfc_cli():
    """Runs the `dfc` binary: $DFC_BIN (set by .ci/run), else target/{release,debug}/dfc."""
    given = os.environ.get("DFC_BIN")
    candidates = [Path(given)] if given else [REPO / "target" / p / "dfc" for p in ("release", "debug")]
    found = [c for c in candidates if c.is_file()]
    if not found:
        if given:
            pytest.fail(f"DFC_BIN={given} does not exist")
        pytest.skip("no dfc binary: build it (cargo build -p dfc-tools) or set DFC_BIN")

    def run(*args):
        return subprocess.run(
            [str(found[0]), *map(str, args)], cwd=REPO, check=True, capture_output=True
        ).stdout

    run.command = [str(found[0])]
    return run
