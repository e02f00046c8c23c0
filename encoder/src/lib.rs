//! DFC encoder (non-normative): writes streams that the reference decoder reads.
//!
//! [`encode_stream`] takes tensors in the canonical layout (little-endian, C order) and writes
//! one still-image stream: identification, sequence header, optional metadata, one
//! layer_parameters unit per layer, then per layer its feature_data and tensor_hash units, and
//! the end of sequence. Output is deterministic: same input and options, same bytes.

mod lossy;
mod methods;
mod native;
mod rans;
mod sequence;
mod stream;

pub use lossy::{
    distortion, encode_quantized, encode_quantized_frame, encode_quantized_with_output,
    float_values, ChannelMode, Distortion, LossyError, LossyOptions, QuantTarget, Quantizer,
    SequenceState, StepScale, RDO_LAMBDA_SCALE,
};
pub use methods::{
    encode_payload, encode_payload_within, is_non_negative, lzma_dict_size, TensorRef, BZIP2_LEVEL,
    DEFLATE_LEVEL, LZMA_PRESET,
};
pub use native::{
    encode_native, encode_native_with_reference, native_cost_breakdown, rows_per_slice,
    CostBreakdown, NativeReference, SLICE_TARGET_ELEMENTS,
};
pub use sequence::{encode_sequence, FrameInput, Prediction, SequenceOptions};
pub use stream::{
    choose_method, encode_stream, smallest_lossless, CodedTensor, EncodeError, EncoderConfig,
    LayerInput, MethodChoice,
};

/// The encoder's version, recorded by tools that generate golden streams.
pub const ENCODER_VERSION: &str = env!("CARGO_PKG_VERSION");
