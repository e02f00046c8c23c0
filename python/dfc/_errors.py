"""The exceptions of the dfc package."""

from typing import Optional


class DFCError(Exception):
    """Base class of the errors of the dfc package."""


class DecodeError(DFCError, ValueError):
    """A stream that does not decode: it breaks a requirement of the DFC specification.

    Attributes:
        error_class: "truncated", "invalid", "limit_exceeded", "corrupt", "unsupported" or "io"
            (the classes of spec clause 9).
        requirement: the requirement ID of the spec, e.g. "REQ-7.2-3".
        unit: index of the unit where decoding failed (0 = the first unit after the
            identification); None for the identification or after the last unit.
        offset: byte offset of that unit (or of the end of the data read); None for the
            identification.
        layer: name of the layer whose unit failed, when the decoder knows it, else None.
        frame: frame index of that unit, when the decoder knows it, else None.
        message: the decoder's message without the location and requirement.
    """

    def __init__(
        self,
        text: str,
        error_class: str,
        requirement: str,
        unit: Optional[int],
        offset: Optional[int],
        message: str,
        layer: Optional[str] = None,
        frame: Optional[int] = None,
    ) -> None:
        super().__init__(text)
        self.error_class = error_class
        self.requirement = requirement
        self.unit = unit
        self.offset = offset
        self.message = message
        self.layer = layer
        self.frame = frame


class EncodeError(DFCError, ValueError):
    """Tensors or options that cannot be written as a conforming stream."""
