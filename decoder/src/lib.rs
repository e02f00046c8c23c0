//! DFC reference decoder: the normative decoding process for Deep Feature Coding streams.
//!
//! Start with [`Decoder`] (streaming, any `Read`) or [`decode_all`] (a stream in memory).
//! Every failure is a [`DecodeError`] naming the unit and the requirement ID of `spec/`.
#![forbid(unsafe_code)]

pub mod coverage;
mod decoder;
pub mod error;
pub mod levels;
pub mod methods;
pub mod mutants;
pub mod names;
pub mod native;
pub mod quant;
mod random_access;
mod references;
pub mod syntax;
pub mod trace;
pub mod types;
pub mod units;

pub use decoder::{
    decode_all, tensor_sha256, DecodeOptions, DecodedTensor, Decoder, LayerInfo, StreamInfo,
};
pub use error::{DecodeError, ErrorClass, Location};
pub use levels::{LevelLimits, Profile, LEVELS};
pub use random_access::random_access_points;
pub use types::{CodingMethod, ElementType, HashType, LayerKind, UnitType};

/// `version_major` of the spec this decoder implements (clause 7.1).
pub const VERSION_MAJOR: u8 = 0;
/// `version_minor` of the spec this decoder implements (clause 7.1).
pub const VERSION_MINOR: u8 = 6;
