"""DFC (Deep Feature Coding) for NumPy: encode, decode and inspect streams of neural-network
features in memory.

    import dfc, numpy as np
    stream = dfc.encode({"conv1": np.random.rand(64, 56, 56).astype(np.float32)}, qp=48)
    features = dfc.decode(stream)          # {"conv1": array of float32, shape (64, 56, 56)}
    dfc.inspect(stream)["layers"][0]["methods"]   # ["quantized"]

The streams are those of the `dfc` command line for the same tensors and options, byte for byte,
and decoded arrays equal its output bit for bit. Coding runs without the GIL.

Element types: float32, float16, bfloat16, int8, uint8. bfloat16 arrays are `ml_dtypes.bfloat16`
when ml_dtypes is installed (``pip install ml_dtypes``); without it, decoded bfloat16 tensors are
uint16 arrays of their bit patterns (``(a.astype(np.uint32) << 16).view(np.float32)`` gives
float32), and for encoding, a uint16 array is taken as bfloat16 bit patterns.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from typing import IO, Any, Dict, Iterator, List, Optional, Tuple, Union

import numpy as np

from . import _dfc
from ._errors import DecodeError, DFCError, EncodeError

__all__ = [
    "encode",
    "decode",
    "decode_frames",
    "Decoder",
    "inspect",
    "DecodeError",
    "EncodeError",
    "DFCError",
    "ENCODER_VERSION",
    "SPEC_VERSION",
]

ENCODER_VERSION: str = _dfc.ENCODER_VERSION
"""Version of the encoder, as written in the `encoder` metadata entry."""
SPEC_VERSION: str = _dfc.SPEC_VERSION
"""major.minor of the DFC specification the decoder implements."""

try:
    import ml_dtypes as _ml_dtypes

    _BFLOAT16: Optional[np.dtype] = np.dtype(_ml_dtypes.bfloat16)
except ImportError:  # documented fallback: uint16 bit patterns
    _BFLOAT16 = None

ArrayLike = Any
"""A NumPy array, or anything with ``__array__`` or ``__dlpack__`` (a PyTorch CPU tensor)."""
Source = Union[bytes, bytearray, memoryview, str, "os.PathLike[str]", IO[bytes]]
"""Stream bytes, a buffer, a path, or a binary file object."""

_ELEMENT_TYPES = {
    np.dtype(np.float32): "float32",
    np.dtype(np.float16): "float16",
    np.dtype(np.int8): "int8",
    np.dtype(np.uint8): "uint8",
    np.dtype(np.uint16): "bfloat16",
}


def _dtype(element_type: str) -> np.dtype:
    if element_type == "bfloat16":
        return _BFLOAT16 if _BFLOAT16 is not None else np.dtype("<u2")
    return np.dtype(
        {"float32": "<f4", "float16": "<f2", "int8": "i1", "uint8": "u1"}[element_type]
    )


def _as_ndarray(value: ArrayLike) -> np.ndarray:
    """The array behind `value`, without a copy where the layout allows."""
    if isinstance(value, np.ndarray):
        return value
    if str(getattr(value, "dtype", "")) == "torch.bfloat16":
        import torch  # the value is a torch tensor, so torch is there

        # NumPy has no bfloat16: the bit patterns, as the uint16 convention says.
        return value.detach().cpu().contiguous().view(torch.int16).numpy().view(np.uint16)
    if hasattr(value, "__dlpack__"):
        try:
            return np.from_dlpack(value)
        except (TypeError, BufferError, RuntimeError, AttributeError):
            pass
    return np.asarray(value)


def _element_type(name: str, dtype: np.dtype) -> str:
    if dtype.name == "bfloat16":
        return "bfloat16"
    element_type = _ELEMENT_TYPES.get(dtype.newbyteorder("="))
    if element_type is None:
        raise EncodeError(
            f"{name}: dtype {dtype} is not a DFC element type "
            "(float32, float16, bfloat16, int8, uint8); convert it, e.g. a.astype(np.float32)"
        )
    return element_type


def _canonical(name: str, frame: Optional[int], value: ArrayLike) -> tuple:
    if not isinstance(name, str):
        raise EncodeError(f"layer names are strings, not {type(name).__name__} ({name!r})")
    array = _as_ndarray(value)
    element_type = _element_type(name, array.dtype)
    shape = list(array.shape)
    if array.dtype.byteorder == ">":
        array = array.astype(array.dtype.newbyteorder("<"))
    # C order, little-endian: the canonical layout (spec clause 8.4); no copy if it is one.
    data = np.ascontiguousarray(array).reshape(-1).view(np.uint8)
    return (name, frame, element_type, shape, data)


def _threads(threads: Optional[int]) -> int:
    if threads is None:
        return 0
    if threads < 0:
        raise ValueError("threads must be 0 (one per CPU) or more")
    return threads


def encode(
    tensors: Union[Mapping[str, ArrayLike], Sequence[Mapping[str, ArrayLike]]],
    *,
    method: Optional[str] = None,
    layer_methods: Optional[Mapping[str, str]] = None,
    kinds: Optional[Mapping[str, str]] = None,
    bits: Optional[int] = None,
    qp: Optional[float] = None,
    target_psnr: Optional[float] = None,
    target_bpe: Optional[float] = None,
    target_bitrate: Optional[float] = None,
    fps: Optional[float] = None,
    quantizer: str = "uniform",
    channels: str = "auto",
    rdo: bool = False,
    step_scale: str = "rms",
    prediction: str = "auto",
    rap_period: int = 8,
    profile: str = "main",
    level: Union[str, float, None] = None,
    hashes: bool = True,
    source: Optional[str] = None,
    metadata: Optional[Mapping[str, str]] = None,
    threads: Optional[int] = None,
) -> bytes:
    """Encodes tensors into one DFC stream, as ``dfc encode`` does with the same options.

    Args:
        tensors: a mapping layer name -> array (one still image), or a sequence of such
            mappings, one per frame (frame i of the sequence is frame_index i; one access unit
            per frame).
        method: raw, zlib, gzip, bzip2, lzma, native, quantized or auto (the smallest lossless
            payload). None (the default) is auto, except that with a lossy target (bits, qp,
            target_psnr, target_bpe) the float layers are quantized, as ``dfc encode`` without
            ``--method``.
        layer_methods: method of single layers, overriding `method` (``--layer-method``).
        kinds: layer kind (conv, pool, fc, other) of single layers; the others are fc for
            rank 1, else conv.
        bits, qp, target_psnr, target_bpe: the lossy target, at most one (``--bits`` ...); qp
            gives step = scale * 2^(-qp/8), fractions allowed. target_bitrate (kbit/s) with fps:
            a sequence's bitrate (``--target-bitrate``, ``--fps``).
        quantizer: uniform or codebook. channels: auto, tensor or channel. rdo: rate-distortion
            optimized rounding (off by default: nearest rounding keeps tasks at lower rates).
            step_scale: rms (default) or peak, what qp's step is relative to.
            prediction: auto, inter, intra or none.
        rap_period: frames from one random-access point to the next (sequences).
        profile: main or baseline. level: e.g. "2" or "2.5"; None picks the smallest that fits.
        hashes: write a tensor_hash (SHA-256) unit after each tensor.
        source: written as the ``source`` metadata entry (``dfc encode`` writes its input
            paths there); metadata: more entries, after ``encoder``.
        threads: threads for the native method's slices (None or 0: one per CPU); the stream
            does not depend on it.

    Raises:
        EncodeError: the tensors or options cannot make a conforming stream.
    """
    if isinstance(tensors, Mapping):
        items = [_canonical(name, None, value) for name, value in tensors.items()]
    elif isinstance(tensors, Sequence) and not isinstance(tensors, (str, bytes)):
        items = []
        for frame, layers in enumerate(tensors):
            if not isinstance(layers, Mapping):
                raise EncodeError(f"frame {frame}: a mapping layer name -> array is needed")
            items.extend(_canonical(name, frame, value) for name, value in layers.items())
    else:
        raise EncodeError("tensors: a mapping name -> array or a sequence of such mappings")
    return _dfc.encode_tensors(
        items,
        method=method,
        layer_methods=list((layer_methods or {}).items()),
        kinds=list((kinds or {}).items()),
        bits=bits,
        qp=qp,
        target_psnr=target_psnr,
        target_bpe=target_bpe,
        target_bitrate=target_bitrate,
        fps=fps,
        quantizer=quantizer,
        channels=channels,
        rdo=rdo,
        step_scale=step_scale,
        prediction=prediction,
        profile=profile,
        level=None if level is None else str(level),
        hashes=hashes,
        source=source,
        metadata=list((metadata or {}).items()),
        threads=_threads(threads),
        rap_period=rap_period,
    )


def _read(data: Source) -> bytes:
    """The bytes of a stream given as bytes, a buffer, a path or a binary file object."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, (str, os.PathLike)):
        with open(data, "rb") as f:
            return f.read()
    if hasattr(data, "read"):
        read = data.read()
        if not isinstance(read, bytes):
            raise TypeError("the file object must be opened in binary mode")
        return read
    return bytes(memoryview(data))


def _array(element_type: str, shape: List[int], raw: np.ndarray) -> np.ndarray:
    # A view of the decoder's buffer: no copy.
    return raw.view(_dtype(element_type)).reshape(shape)


def _decode(data, layers, start_frame, threads) -> Tuple[bool, List[Tuple[int, Dict[str, np.ndarray]]]]:
    """Whether the stream is a sequence, and its tensors grouped by frame in stream order."""
    sequence, tensors = _dfc.decode_stream(
        _read(data),
        layers=None if layers is None else list(layers),
        start_frame=start_frame,
        threads=_threads(threads),
    )
    frames: List[Tuple[int, Dict[str, np.ndarray]]] = []
    for frame, name, element_type, shape, raw in tensors:
        if not frames or frames[-1][0] != frame:
            frames.append((frame, {}))
        frames[-1][1][name] = _array(element_type, shape, raw)
    return sequence, frames


def decode_frames(
    data: Source,
    *,
    layers: Optional[Sequence[str]] = None,
    start_frame: Optional[int] = None,
    threads: Optional[int] = None,
) -> List[Tuple[int, Dict[str, np.ndarray]]]:
    """Decodes a stream into (frame_index, {layer name: array}) per frame, in stream order (a
    still-image stream has one frame, 0). See `decode` for the arguments."""
    return _decode(data, layers, start_frame, threads)[1]


def decode(
    data: Source,
    *,
    layers: Optional[Sequence[str]] = None,
    start_frame: Optional[int] = None,
    threads: Optional[int] = None,
) -> Union[Dict[str, np.ndarray], List[Dict[str, np.ndarray]]]:
    """Decodes a stream, as ``dfc decode`` does.

    Returns a dict layer name -> array for a still-image stream, and for a sequence (a stream
    with access units, or tensors of several frames) a list of such dicts, one per decoded
    frame in stream order
    (`decode_frames` gives their frame indices). Arrays are writeable NumPy arrays over the
    decoder's own buffers.

    Args:
        data: the stream: bytes, a buffer, a path, or a binary file object (read whole; use
            `Decoder` to decode as the data arrives).
        layers: decode only these layers (by name); the others are checked but not
            decompressed. None (or empty): every layer.
        start_frame: sequences: decode from the last random-access point at or before it.
        threads: threads for the native method's slices (None or 0: one per CPU).

    Raises:
        DecodeError: the stream breaks a requirement (`.requirement`, `.error_class`, `.unit`).
        ValueError: no such layer, or no random-access point at or before `start_frame`.
    """
    sequence, frames = _decode(data, layers, start_frame, threads)
    if not sequence and len(frames) <= 1:
        return frames[0][1] if frames else {}
    return [tensors for _, tensors in frames]


class Decoder:
    """Decodes a stream as it arrives: iterate to get (frame_index, layer_name, array) for each
    tensor, in stream order, as soon as its units have been read.

        with socket.create_connection(addr) as s:
            for frame, name, array in dfc.Decoder(s.makefile("rb"), layers=["conv5_3"]):
                ...

    Args:
        source: bytes, a buffer or a path (read whole), or a binary file object (a pipe, a
            socket's makefile("rb"), an open file), read as needed (with ``read1`` when it has
            one, so that the decoder never waits for more than the next unit).
        layers: decode only these layers (random access); the others are read and checked but
            not decompressed. None (or empty): every layer.
        start_frame: sequences: decode from the last random-access point at or before it. For a
            file object it must be a random-access frame itself (the stream cannot be searched
            ahead).
        threads: threads for the native method's slices (None or 0: one per CPU).

    The header units are read when the decoder is made: `layers` and `metadata` are there at
    once. Raises DecodeError as `decode` does, when the failing unit is reached.
    """

    def __init__(
        self,
        source: Source,
        *,
        layers: Optional[Sequence[str]] = None,
        start_frame: Optional[int] = None,
        threads: Optional[int] = None,
    ) -> None:
        if isinstance(source, (str, os.PathLike)) or not hasattr(source, "read"):
            source = _read(source)
        self._decoder = _dfc.StreamDecoder(
            source,
            layers=None if layers is None else list(layers),
            start_frame=start_frame,
            threads=_threads(threads),
        )

    @property
    def layers(self) -> List[Dict[str, Any]]:
        """The layers the stream declares: id, name, kind, element_type, shape, non_negative,
        default_method."""
        return self._decoder.layers()

    @property
    def metadata(self) -> List[Tuple[str, str]]:
        """The metadata entries read so far, in stream order."""
        return self._decoder.metadata()

    def __iter__(self) -> Iterator[Tuple[int, str, np.ndarray]]:
        return self

    def __next__(self) -> Tuple[int, str, np.ndarray]:
        tensor = self._decoder.next_tensor()
        if tensor is None:
            raise StopIteration
        frame, name, element_type, shape, raw = tensor
        return frame, name, _array(element_type, shape, raw)


def inspect(data: Source) -> Dict[str, Any]:
    """What ``dfc inspect --json`` prints for the stream, as a dict: version, profile, level,
    metadata, units, layers, totals, and ``error`` (None, or the first error of a broken
    stream, which is reported there rather than raised). Nothing is decompressed."""
    return json.loads(_dfc.inspect_json(_read(data)))
