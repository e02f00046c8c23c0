//! Uniform scalar quantization of a tensor's [min, max] to b bits, the levels' byte layout, and
//! their ideal order-0 entropy: the baseline pipeline every configuration is compared with.

/// Bits per level that [`quantize`] accepts.
pub const BITS: std::ops::RangeInclusive<u32> = 1..=16;

/// A tensor quantized to `2^bits` levels spread evenly over [min, max].
#[derive(Clone, Debug, PartialEq)]
pub struct Quantized {
    pub min: f32,
    pub max: f32,
    pub bits: u32,
    pub levels: Vec<u16>,
}

/// Level of each element: round((x − min) / (max − min) · (2^b − 1)); all 0 when max = min.
/// `values` must be finite and `bits` in [`BITS`].
pub fn quantize(values: &[f32], bits: u32) -> Quantized {
    assert!(BITS.contains(&bits), "bits {bits} outside {BITS:?}");
    let min = values.iter().copied().fold(f32::INFINITY, f32::min);
    let max = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let (min, max) = if values.is_empty() {
        (0.0, 0.0)
    } else {
        (min, max)
    };
    let top = f64::from((1u32 << bits) - 1);
    let range = f64::from(max) - f64::from(min);
    let levels = if range > 0.0 {
        values
            .iter()
            .map(|&x| ((f64::from(x) - f64::from(min)) / range * top).round() as u16)
            .collect()
    } else {
        vec![0; values.len()]
    };
    Quantized {
        min,
        max,
        bits,
        levels,
    }
}

impl Quantized {
    /// Bytes a coder must carry besides the levels: min and max as float32.
    pub const SIDE_BYTES: u64 = 8;

    /// min + level · (max − min) / (2^b − 1), rounded to float32.
    pub fn reconstruct(&self) -> Vec<f32> {
        let top = f64::from((1u32 << self.bits) - 1);
        let (min, max) = (f64::from(self.min), f64::from(self.max));
        let step = (max - min) / top;
        self.levels
            .iter()
            .map(|&l| (min + f64::from(l) * step) as f32)
            .collect()
    }

    /// The levels as one byte each for b ≤ 8, else as little-endian u16.
    pub fn level_bytes(&self) -> Vec<u8> {
        if self.bits <= 8 {
            self.levels.iter().map(|&l| l as u8).collect()
        } else {
            self.levels.iter().flat_map(|l| l.to_le_bytes()).collect()
        }
    }

    /// Inverse of [`Quantized::level_bytes`].
    pub fn levels_from_bytes(bits: u32, bytes: &[u8]) -> Vec<u16> {
        if bits <= 8 {
            bytes.iter().map(|&b| u16::from(b)).collect()
        } else {
            bytes
                .chunks_exact(2)
                .map(|b| u16::from_le_bytes([b[0], b[1]]))
                .collect()
        }
    }

    /// Σ −log2 p(level) over the elements, p the empirical frequency of the level in this
    /// tensor: what an ideal order-0 entropy coder spends, without its table.
    pub fn order0_bits(&self) -> f64 {
        let mut counts = vec![0u64; 1 << self.bits];
        for &l in &self.levels {
            counts[usize::from(l)] += 1;
        }
        let n = self.levels.len() as f64;
        counts
            .iter()
            .filter(|&&c| c > 0)
            .map(|&c| c as f64 * (n / c as f64).log2())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_reconstruction() {
        let q = quantize(&[0.0, 1.0, 2.0, 3.0, 0.4], 2);
        assert_eq!(q.levels, [0, 1, 2, 3, 0]);
        assert_eq!(q.reconstruct(), [0.0, 1.0, 2.0, 3.0, 0.0]);
        // The ends of the range come back exactly.
        let x = [-1.7f32, 0.3, 5.9];
        let r = quantize(&x, 3).reconstruct();
        assert_eq!((r[0], r[2]), (x[0], x[2]));
    }

    #[test]
    fn error_is_at_most_half_a_step() {
        let x: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin() * 3.0).collect();
        for bits in [2, 5, 8, 10] {
            let q = quantize(&x, bits);
            let step = (f64::from(q.max) - f64::from(q.min)) / f64::from((1u32 << bits) - 1);
            for (a, b) in x.iter().zip(q.reconstruct()) {
                assert!(f64::from((a - b).abs()) <= step / 2.0 + 1e-6);
            }
        }
    }

    #[test]
    fn constant_tensor() {
        let q = quantize(&[2.5; 4], 8);
        assert_eq!(q.levels, [0; 4]);
        assert_eq!(q.reconstruct(), [2.5; 4]);
        assert_eq!(q.order0_bits(), 0.0);
    }

    #[test]
    fn byte_layout_round_trips() {
        let x: Vec<f32> = (0..300).map(|i| i as f32).collect();
        for bits in [4, 8, 10, 16] {
            let q = quantize(&x, bits);
            let bytes = q.level_bytes();
            assert_eq!(bytes.len(), x.len() * if bits <= 8 { 1 } else { 2 });
            assert_eq!(Quantized::levels_from_bytes(bits, &bytes), q.levels);
        }
    }

    #[test]
    fn order0_entropy() {
        // Levels 0, 0, 1, 3: −2 log2(1/2) − 2 log2(1/4) = 2 + 4 = 6 bits.
        let q = Quantized {
            min: 0.0,
            max: 3.0,
            bits: 2,
            levels: vec![0, 0, 1, 3],
        };
        assert!((q.order0_bits() - 6.0).abs() < 1e-12);
    }
}
