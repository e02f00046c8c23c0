"""Type stubs of the native module; the public API is in dfc/__init__.py."""

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

ENCODER_VERSION: str
SPEC_VERSION: str

# (name, frame, element_type, shape, canonical bytes as a C-contiguous uint8 array)
_TensorIn = Tuple[str, Optional[int], str, List[int], np.ndarray]
# (frame_index, name, element_type, shape, canonical bytes as a uint8 array)
_TensorOut = Tuple[int, str, str, List[int], np.ndarray]

def encode_tensors(
    tensors: Sequence[_TensorIn],
    *,
    method: Optional[str],
    layer_methods: List[Tuple[str, str]],
    kinds: List[Tuple[str, str]],
    bits: Optional[int],
    qp: Optional[float],
    target_psnr: Optional[float],
    target_bpe: Optional[float],
    target_bitrate: Optional[float],
    fps: Optional[float],
    quantizer: str,
    channels: str,
    rdo: bool,
    step_scale: str,
    prediction: str,
    profile: str,
    level: Optional[str],
    hashes: bool,
    source: Optional[str],
    metadata: List[Tuple[str, str]],
    threads: int,
    rap_period: int,
) -> bytes: ...
def decode_stream(
    data: bytes,
    *,
    layers: Optional[List[str]],
    start_frame: Optional[int],
    threads: int,
) -> Tuple[bool, List[_TensorOut]]: ...
def inspect_json(data: bytes) -> str: ...

class StreamDecoder:
    def __init__(
        self,
        source: Any,
        *,
        layers: Optional[List[str]],
        start_frame: Optional[int],
        threads: int,
    ) -> None: ...
    def layers(self) -> List[Dict[str, Any]]: ...
    def metadata(self) -> List[Tuple[str, str]]: ...
    def next_tensor(self) -> Optional[_TensorOut]: ...
