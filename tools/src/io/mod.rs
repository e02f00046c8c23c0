//! Tensor files in and out: .npy, .safetensors, corpus manifests, atomic output.

pub mod npy;

use dfc_decoder::ElementType;

/// A tensor in the canonical layout of the spec (clause 8.4): little-endian elements, C order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tensor {
    pub element_type: ElementType,
    pub shape: Vec<u32>,
    pub data: Vec<u8>,
}

impl Tensor {
    pub fn element_count(&self) -> u64 {
        self.shape.iter().map(|&d| u64::from(d)).product()
    }
}
