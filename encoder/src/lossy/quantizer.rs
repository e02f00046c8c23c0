//! Quantizers (non-normative; Annex C): uniform levels with nearest or rate–distortion optimized
//! rounding, and codebooks fitted with the Lloyd–Max algorithm. Reconstruction always goes
//! through the decoder's own functions, so the encoder measures exactly what a decoder outputs.

use super::coder::TokenCosts;
use dfc_decoder::native::model::Geometry;
use dfc_decoder::quant::model::{
    level_context, reconstruct_uniform, token_of, LevelRange, MAX_LEVEL_BITS,
};

/// A uniform quantizer: (step, offset) per parameter set, each set covering `set_len`
/// consecutive elements.
#[derive(Clone, Debug, PartialEq)]
pub struct Uniform {
    pub sets: Vec<(f32, f32)>,
    pub set_len: usize,
    pub signed: bool,
    /// Values within this many steps of the offset take level 0 (0.5: nearest rounding).
    pub zero_threshold: f64,
}

/// The level range a quantizer may use: 16 bits, signed or not.
fn full_range(signed: bool) -> LevelRange {
    LevelRange::of(MAX_LEVEL_BITS, signed, None)
}

/// Bits of the levels: the fewest that hold every level (at least 1).
pub fn level_bits(levels: &[i32], signed: bool) -> u8 {
    let bits_for = |v: u32| 32 - v.leading_zeros();
    let bits = if signed {
        let need = levels
            .iter()
            .map(|&l| {
                if l < 0 {
                    bits_for((-l - 1) as u32)
                } else {
                    bits_for(l as u32)
                }
            })
            .max()
            .unwrap_or(0);
        need + 1
    } else {
        levels
            .iter()
            .map(|&l| bits_for(l as u32))
            .max()
            .unwrap_or(0)
    };
    bits.clamp(1, u32::from(MAX_LEVEL_BITS)) as u8
}

impl Uniform {
    /// Nearest level of `x` in set `set`, inside the 16-bit range.
    #[inline]
    pub(super) fn nearest(&self, x: f32, set: usize) -> i32 {
        let (step, offset) = self.sets[set];
        let range = full_range(self.signed);
        let r = (f64::from(x) - f64::from(offset)) / f64::from(step);
        // Outside the threshold at least one step: below 0.5 small values are kept.
        let q = if r.abs() < self.zero_threshold || r == 0.0 {
            0.0
        } else {
            r.abs().round().max(1.0).copysign(r)
        };
        q.clamp(f64::from(range.min), f64::from(range.max)) as i32
    }

    pub fn reconstruct(&self, level: i32, set: usize) -> f32 {
        let (step, offset) = self.sets[set];
        reconstruct_uniform(level, step, offset)
    }

    /// Levels by nearest rounding.
    pub fn quantize_nearest(&self, values: &[f32]) -> Vec<i32> {
        values
            .iter()
            .enumerate()
            .map(|(i, &x)| self.nearest(x, i / self.set_len))
            .collect()
    }

    /// Levels chosen to minimize squared error + lambda × bits, with lambda = `lambda_scale` ×
    /// step²: each level is its nearest one or the next towards zero, costed with the token
    /// statistics of nearest rounding and the contexts of the levels already chosen.
    /// Inter-aware rounding (Annex C): a level one step from the co-located reference level
    /// becomes the reference level where the added squared error is below λ × `residual_bits`,
    /// the rate a non-zero residual costs over a zero one; λ = `lambda_scale` × step², as for
    /// [`Self::quantize_rdo`]. Consecutive frames then repeat their levels where the features
    /// only moved by noise.
    pub fn snap_to_reference(
        &self,
        values: &[f32],
        levels: &mut [i32],
        reference: &[i32],
        lambda_scale: f64,
        residual_bits: f64,
    ) {
        for (i, (level, &r)) in levels.iter_mut().zip(reference).enumerate() {
            if level.abs_diff(r) != 1 || (!self.signed && r < 0) {
                continue;
            }
            let set = i / self.set_len;
            let lambda = lambda_scale * f64::from(self.sets[set].0).powi(2);
            let error = |l: i32| {
                let e = f64::from(values[i]) - f64::from(self.reconstruct(l, set));
                e * e
            };
            if error(r) - error(*level) < lambda * residual_bits {
                *level = r;
            }
        }
    }

    pub fn quantize_rdo(&self, values: &[f32], shape: &[u32], lambda_scale: f64) -> Vec<i32> {
        let mut levels = self.quantize_nearest(values);
        let costs = TokenCosts::of(&levels, shape, self.signed);
        let geometry = Geometry::of(shape);
        let w = geometry.width;
        let sign_bits = if self.signed { 1.0 } else { 0.0 };
        let bits_of = |m: u32, ctx: usize| {
            let (token, extra, _) = token_of(m);
            f64::from(costs.cost[ctx][token as usize])
                + f64::from(extra)
                + if m != 0 { sign_bits } else { 0.0 }
        };
        for y in 0..geometry.rows {
            let has_above = y % geometry.height != 0;
            let mut left = 0u32;
            for x in 0..w {
                let i = y * w + x;
                let nearest = levels[i];
                let above = if has_above {
                    levels[i - w].unsigned_abs()
                } else {
                    0
                };
                if nearest != 0 {
                    let set = i / self.set_len;
                    let lambda = lambda_scale * f64::from(self.sets[set].0).powi(2);
                    let ctx = level_context(left, above, costs.ctx_base);
                    let cost = |l: i32| {
                        let e = f64::from(values[i]) - f64::from(self.reconstruct(l, set));
                        e * e + lambda * bits_of(l.unsigned_abs(), ctx)
                    };
                    let lower = nearest - nearest.signum();
                    if cost(lower) < cost(nearest) {
                        levels[i] = lower;
                    }
                }
                left = levels[i].unsigned_abs();
            }
        }
        levels
    }
}

/// A codebook quantizer: codewords ordered by magnitude, so that level magnitudes follow value
/// magnitudes and the neighbour contexts keep their meaning.
#[derive(Clone, Debug, PartialEq)]
pub struct CodebookQuantizer {
    pub codewords: Vec<f32>,
    /// (value, level) sorted by value, for the nearest-codeword search.
    sorted: Vec<(f32, i32)>,
}

impl CodebookQuantizer {
    /// Fits `size` codewords to `values` with Lloyd–Max iterations; 0.0 is always a codeword
    /// (exact zeros are common after ReLU).
    pub fn fit(values: &[f32], size: usize) -> Self {
        let mut sorted: Vec<f64> = values
            .iter()
            .map(|&v| f64::from(v))
            .filter(|v| *v != 0.0)
            .collect();
        sorted.sort_by(f64::total_cmp);
        let free = size.saturating_sub(1).min(sorted.len());
        let mut centres: Vec<f64> = (0..free)
            .map(|k| sorted[((2 * k + 1) * sorted.len()) / (2 * free)])
            .collect();
        centres.dedup();
        let prefix: Vec<f64> = std::iter::once(0.0)
            .chain(sorted.iter().scan(0.0, |acc, &v| {
                *acc += v;
                Some(*acc)
            }))
            .collect();
        for _ in 0..30 {
            let mut all: Vec<f64> = centres.clone();
            all.push(0.0);
            all.sort_by(f64::total_cmp);
            all.dedup();
            // Cells between midpoints; a codeword moves to the mean of its cell (0.0 stays).
            let bounds: Vec<usize> = all
                .windows(2)
                .map(|p| sorted.partition_point(|&v| v < (p[0] + p[1]) / 2.0))
                .collect();
            let mut next = Vec::with_capacity(all.len());
            for (k, &c) in all.iter().enumerate() {
                let lo = if k == 0 { 0 } else { bounds[k - 1] };
                let hi = if k == all.len() - 1 {
                    sorted.len()
                } else {
                    bounds[k]
                };
                if c == 0.0 {
                    continue;
                }
                if hi > lo {
                    next.push((prefix[hi] - prefix[lo]) / (hi - lo) as f64);
                } else {
                    next.push(c);
                }
            }
            next.dedup();
            if next == centres {
                break;
            }
            centres = next;
        }
        let mut codewords: Vec<f32> = std::iter::once(0.0f32)
            .chain(centres.iter().map(|&c| c as f32))
            .collect();
        codewords.sort_by(|a, b| a.abs().total_cmp(&b.abs()).then(b.total_cmp(a)));
        codewords.dedup();
        Self::new(codewords)
    }

    pub fn new(codewords: Vec<f32>) -> Self {
        let mut sorted: Vec<(f32, i32)> = codewords
            .iter()
            .enumerate()
            .map(|(i, &c)| (c, i as i32))
            .collect();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        CodebookQuantizer { codewords, sorted }
    }

    /// Index of the nearest codeword.
    pub fn quantize(&self, values: &[f32]) -> Vec<i32> {
        values
            .iter()
            .map(|&x| {
                let p = self.sorted.partition_point(|&(c, _)| c < x);
                let candidates = [p.saturating_sub(1), p.min(self.sorted.len() - 1)];
                let best = candidates
                    .iter()
                    .min_by(|&&a, &&b| {
                        (f64::from(self.sorted[a].0) - f64::from(x))
                            .abs()
                            .total_cmp(&(f64::from(self.sorted[b].0) - f64::from(x)).abs())
                    })
                    .expect("two candidates");
                self.sorted[*best].1
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_snap_to_the_reference_only_when_it_costs_little_error() {
        let q = Uniform {
            sets: vec![(1.0, 0.0)],
            set_len: 4,
            signed: false,
            zero_threshold: 0.5,
        };
        let values = [1.6f32, 2.0, 1.6, 0.4];
        let mut levels = q.quantize_nearest(&values);
        assert_eq!(levels, [2, 2, 2, 0]);
        // Element 0: reference 1 adds 0.36 - 0.16 = 0.2 of squared error, below 0.1155 × 5.
        // Element 1: an exact level; reference 1 would add 1.0. Element 2: reference 3 would
        // add 1.8. Element 3: reference 2 is two steps away.
        q.snap_to_reference(&values, &mut levels, &[1, 1, 3, 2], 0.1155, 5.0);
        assert_eq!(levels, [1, 2, 2, 0]);
        // With no rate to save nothing moves but where the reference is closer.
        let mut levels = vec![2, 2, 2, 0];
        q.snap_to_reference(&values, &mut levels, &[1, 1, 3, 2], 0.1155, 0.0);
        assert_eq!(levels, [2, 2, 2, 0]);
    }
}
