//! DFC's quantized coding method as rate–distortion configurations.

use super::configs::Config;

/// The DFC configurations (none until the encoder has the quantized method).
pub fn all() -> Vec<Box<dyn Config>> {
    Vec::new()
}
