//! The level model of the quantized method (spec clauses 8.3.7.3 and 8.3.7.4): magnitude tokens,
//! the context of a token, and the reconstruction of a level as a float. The encoder uses these
//! same functions, so both sides derive tokens, contexts and values identically.

use crate::types::ElementType;

/// Tokens 0..15 are magnitudes; tokens 16..39 carry the top two bits of a larger magnitude.
pub const NUM_TOKENS: usize = 40;
/// Magnitudes below this are coded by their token alone.
pub const DIRECT_TOKENS: u32 = 16;
/// Contexts of `level_token`: 0 when both neighbours are zero, then 15 classes of their sum.
pub const NUM_LEVEL_CONTEXTS: usize = 16;
/// Largest `level_bits`.
pub const MAX_LEVEL_BITS: u8 = 16;

/// The token of a magnitude and its extra bits: (token, number of extra bits, extra bits).
#[inline]
pub fn token_of(magnitude: u32) -> (u32, u32, u32) {
    if magnitude < DIRECT_TOKENS {
        return (magnitude, 0, 0);
    }
    let n = 31 - magnitude.leading_zeros(); // Floor(Log2(m)), at least 4
    let second = (magnitude >> (n - 1)) & 1;
    let extra_bits = n - 1;
    (
        DIRECT_TOKENS + 2 * (n - 4) + second,
        extra_bits,
        magnitude & ((1 << extra_bits) - 1),
    )
}

/// Number of extra bits that follow `token` (clause 8.3.7.4).
#[inline(always)]
pub fn extra_bits_of(token: u32) -> u32 {
    if token < DIRECT_TOKENS {
        0
    } else {
        3 + u32::from(crate::mutant!("quantized-extra-bits-one-more"))
            + ((token - DIRECT_TOKENS) >> 1)
    }
}

/// The magnitude of `token` with its extra bits.
#[inline(always)]
pub fn magnitude_of(token: u32, extra: u32) -> u32 {
    if token < DIRECT_TOKENS {
        token
    } else {
        let n = extra_bits_of(token) + 1;
        let second = ((token - DIRECT_TOKENS) & 1)
            ^ u32::from(crate::mutant!("quantized-token-second-bit-inverted"));
        (2 | second) << (n - 1) | extra
    }
}

/// HalfOctave(s) of clause 8.3.7.3: 0 for s = 1, then two classes per power of two.
#[inline(always)]
pub fn half_octave(sum: u32) -> u32 {
    let n = 31 - sum.max(1).leading_zeros();
    if crate::mutant!("quantized-half-octave-octave") {
        return n;
    }
    if n == 0 {
        0
    } else {
        2 * n - 1 + ((sum >> (n - 1)) & 1)
    }
}

/// LevelCtx: the context of a token from the magnitudes of the left and above neighbours.
#[inline(always)]
pub fn level_context(left: u32, above: u32, ctx_base: u32) -> usize {
    let sum = left + above;
    if sum == 0 {
        0
    } else {
        1 + half_octave(sum)
            .saturating_sub(ctx_base)
            .min(NUM_LEVEL_CONTEXTS as u32 - 2) as usize
    }
}

/// Predictors of a map (`map_predictor`, clause 8.3.7.3): levels coded as they are, or as the
/// residual of the median edge detector on the left, above and above-left levels.
pub const PREDICTOR_NONE: u8 = 0;
pub const PREDICTOR_MED: u8 = 1;
/// Inter prediction: the co-located level of the reference tensor (clause 8.3.7.3).
pub const PREDICTOR_INTER: u8 = 2;
/// Largest `map_predictor` value defined in this version.
pub const MAX_PREDICTOR: u8 = PREDICTOR_INTER;

/// The median edge detector (LOCO-I): the median of L, A and L + A − AL.
#[inline(always)]
pub fn med_prediction(left: i32, above: i32, above_left: i32) -> i32 {
    let (lo, hi) = if left < above {
        (left, above)
    } else {
        (above, left)
    };
    if crate::mutant!("quantized-med-plane-only") {
        return left + above - above_left;
    }
    let (lo, hi) = if crate::mutant!("quantized-med-cases-swapped") {
        (hi, lo)
    } else {
        (lo, hi)
    };
    if above_left >= hi.max(lo) {
        lo
    } else if above_left <= lo.min(hi) {
        hi
    } else {
        left + above - above_left
    }
}

/// ResidualCtx: the context of a residual token from the local activity
/// |L − AL| + |A − AL| + |AR − A| (clause 8.3.7.3).
#[inline(always)]
pub fn residual_context(
    left: i32,
    above: i32,
    above_left: i32,
    above_right: i32,
    ctx_base: u32,
) -> usize {
    let above_right_term = if crate::mutant!("quantized-activity-without-above-right") {
        0
    } else {
        above_right.abs_diff(above)
    };
    let activity = left.abs_diff(above_left) + above.abs_diff(above_left) + above_right_term;
    if activity == 0 {
        0
    } else {
        1 + half_octave(activity)
            .saturating_sub(ctx_base)
            .min(NUM_LEVEL_CONTEXTS as u32 - 2) as usize
    }
}

/// InterCtx: the context of an inter residual token from the residuals of the left and above
/// neighbours and the reference level, 2 × (|L − RL| + |A − RA|) + |R| (clause 8.3.7.3).
#[inline(always)]
pub fn inter_context(
    left_residual: i32,
    above_residual: i32,
    reference: i32,
    ctx_base: u32,
) -> usize {
    let factor = if crate::mutant!("quantized-inter-change-not-doubled") {
        1
    } else {
        2
    };
    let reference_term = if crate::mutant!("quantized-inter-change-without-reference") {
        0
    } else {
        reference.unsigned_abs()
    };
    let change =
        factor * (left_residual.unsigned_abs() + above_residual.unsigned_abs()) + reference_term;
    if change == 0 {
        0
    } else {
        1 + half_octave(change)
            .saturating_sub(ctx_base)
            .min(NUM_LEVEL_CONTEXTS as u32 - 2) as usize
    }
}

/// Range of the levels of a quantizer (clause 8.3.7.2), inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelRange {
    pub min: i32,
    pub max: i32,
}

impl LevelRange {
    /// Levels of `level_bits` bits, signed or not, limited to `num_codewords` for a codebook.
    pub fn of(level_bits: u8, signed: bool, num_codewords: Option<u32>) -> Self {
        let bits = u32::from(level_bits.clamp(1, MAX_LEVEL_BITS));
        let (min, max) = if signed {
            let symmetric = i32::from(crate::mutant!("quantized-signed-range-symmetric"));
            (-(1i32 << (bits - 1)) + symmetric, (1i32 << (bits - 1)) - 1)
        } else {
            (0, (1i32 << bits) - 1)
        };
        match num_codewords {
            Some(n) if !crate::mutant!("quantized-codebook-range-from-bits") => LevelRange {
                min,
                max: max.min(n as i32 - 1),
            },
            _ => LevelRange { min, max },
        }
    }

    #[inline(always)]
    pub fn contains(&self, level: i32) -> bool {
        self.min <= level && level <= self.max
    }
}

/// Uniform reconstruction (clause 8.3.7.5): offset + level × step, each operation one IEEE 754
/// binary32 operation rounded to nearest, ties to even, the product first.
#[inline(always)]
pub fn reconstruct_uniform(level: i32, step: f32, offset: f32) -> f32 {
    // |level| <= 2^16, so the conversion is exact; Rust never fuses these two operations.
    if crate::mutant!("quantized-fused-multiply-add") {
        return (level as f32).mul_add(step, offset);
    }
    if crate::mutant!("quantized-double-precision") {
        return (f64::from(level) * f64::from(step) + f64::from(offset)) as f32;
    }
    let product = level as f32 * step;
    offset + product
}

/// Whether a binary32 bit pattern is finite (exponent field not all ones).
#[inline]
pub fn is_finite_bits(bits: u32) -> bool {
    (bits >> 23) & 0xFF != 0xFF
}

/// Writes a binary32 value as an element of `element_type` (clause 8.3.7.5): float32 as is,
/// float16 and bfloat16 converted with round to nearest, ties to even. Returns the element's
/// little-endian value in the low bits.
#[inline(always)]
pub fn to_element(value: f32, element_type: ElementType) -> u32 {
    match element_type {
        ElementType::Float16 => {
            let bits = half::f16::from_f32(value).to_bits();
            if bits & 0x7FFF == 0x7C00
                && value.is_finite()
                && crate::mutant!("quantized-float16-saturates")
            {
                return u32::from(bits & 0x8000 | 0x7BFF);
            }
            u32::from(bits)
        }
        ElementType::BFloat16 => {
            let b = value.to_bits();
            if crate::mutant!("quantized-bfloat16-truncated") {
                return b >> 16;
            }
            if crate::mutant!("quantized-bfloat16-ties-away") {
                return (b & 0x8000_0000 | ((b & 0x7FFF_FFFF) + 0x8000)) >> 16;
            }
            u32::from(half::bf16::from_f32(value).to_bits())
        }
        _ => value.to_bits(),
    }
}

/// Whether the quantized method can code a layer of this element type (REQ-8.3.7-2).
pub fn is_float_type(element_type: ElementType) -> bool {
    matches!(
        element_type,
        ElementType::Float32 | ElementType::Float16 | ElementType::BFloat16
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_every_magnitude() {
        for m in 0..=65536u32 {
            let (t, n, extra) = token_of(m);
            assert!((t as usize) < NUM_TOKENS + 2, "{m}");
            assert_eq!(extra_bits_of(t), n, "{m}");
            assert_eq!(magnitude_of(t, extra), m, "{m}");
        }
        assert_eq!(token_of(65535).0, 39);
        assert_eq!(token_of(15), (15, 0, 0));
        assert_eq!(token_of(16), (16, 3, 0));
        assert_eq!(token_of(24), (17, 3, 0));
    }

    #[test]
    fn half_octaves_increase() {
        let classes: Vec<u32> = [1, 2, 3, 4, 6, 8, 12, 16].map(half_octave).to_vec();
        assert_eq!(classes, [0, 1, 2, 3, 4, 5, 6, 7]);
        assert_eq!(level_context(0, 0, 0), 0);
        assert_eq!(level_context(1, 0, 0), 1);
        assert_eq!(level_context(1 << 16, 1 << 16, 0), 15);
        assert_eq!(level_context(3, 0, 5), 1);
    }

    #[test]
    fn med_predicts_edges_and_planes() {
        assert_eq!(med_prediction(5, 9, 12), 5); // AL above both: the smaller
        assert_eq!(med_prediction(5, 9, 2), 9); // AL below both: the larger
        assert_eq!(med_prediction(5, 9, 7), 7); // in between: the plane L + A − AL
        assert_eq!(med_prediction(-3, 4, 0), 1);
        assert_eq!(residual_context(0, 0, 0, 0, 0), 0);
        assert_eq!(residual_context(3, 1, 1, 1, 0), 1 + half_octave(2) as usize);
        assert_eq!(residual_context(-65535, 65535, 0, -65535, 0), 15);
        // InterCtx: 2 × (|3| + |−1|) + |−2| = 10, HalfOctave(10) = 5.
        assert_eq!(inter_context(3, -1, -2, 0), 6);
        assert_eq!(inter_context(3, -1, -2, 5), 1);
        assert_eq!(inter_context(0, 0, 0, 0), 0);
        assert_eq!(inter_context(0, 0, 1, 0), 1);
        assert_eq!(inter_context(65535, 65535, 65535, 0), 15);
    }

    #[test]
    fn level_ranges() {
        assert_eq!(
            LevelRange::of(8, false, None),
            LevelRange { min: 0, max: 255 }
        );
        assert_eq!(
            LevelRange::of(1, true, None),
            LevelRange { min: -1, max: 0 }
        );
        assert_eq!(
            LevelRange::of(16, true, None),
            LevelRange {
                min: -32768,
                max: 32767
            }
        );
        assert_eq!(
            LevelRange::of(4, false, Some(5)),
            LevelRange { min: 0, max: 4 }
        );
    }

    #[test]
    fn reconstruction_is_two_rounded_operations() {
        // 3 × 0.1f32 rounds once, then the sum rounds again: not a fused multiply-add.
        let step = 0.1f32;
        let offset = 1.0e-8f32;
        let expected = offset + (3.0f32 * step);
        assert_eq!(
            reconstruct_uniform(3, step, offset).to_bits(),
            expected.to_bits()
        );
        assert_eq!(
            reconstruct_uniform(0, 2.5, -0.0).to_bits(),
            0.0f32.to_bits()
        );
        assert_eq!(to_element(1.0, ElementType::BFloat16), 0x3F80);
        assert_eq!(to_element(1.0, ElementType::Float16), 0x3C00);
        // Ties to even: 1 + 2^-8 is half way between two bfloat16 values.
        assert_eq!(to_element(1.0 + 1.0 / 256.0, ElementType::BFloat16), 0x3F80);
        assert_eq!(to_element(65520.0, ElementType::Float16), 0x7C00);
    }
}
