//! The summary of a decoded value that the contexts of the following elements read (clause
//! 8.3.6.3), packed so that each context costs one lookup.
//!
//! The info of a value is 0 for a zero value and otherwise
//! `Class(v) | 1 << 4 | Exponent(v) << 6`. The sum of two infos keeps the two classes apart
//! (each at most 4) and, shifted right by 4, is the sum of the exponents times 4 plus the
//! number of non-zero values: the index of ExpCtx in [`InfoTables::exp_context`].

use super::model;

/// The magnitude class bits of an info.
const CLASS_MASK: u32 = 7;
const NONZERO: u32 = 1 << 4;
const EXPONENT_SHIFT: u32 = 6;
/// Exponent sums up to 2 × 255, times 4, plus up to 2 non-zero values.
const EXP_CONTEXT_ENTRIES: usize = 2048;

/// The lookup tables of one payload (from `kind_exp_base` and `exp_ctx_base`).
#[derive(Clone)]
pub struct InfoTables {
    /// The info of a non-zero value, by its exponent field.
    of_exponent: [u32; 256],
    /// ExpCtx by (left info + above info) >> 4.
    exp_context: [u8; EXP_CONTEXT_ENTRIES],
}

impl InfoTables {
    pub fn new(kind_exp_base: u32, exp_ctx_base: u32) -> Self {
        let mut of_exponent = [0u32; 256];
        for (e, info) in (0u32..).zip(&mut of_exponent) {
            *info = model::nonzero_class(e, kind_exp_base) | NONZERO | e << EXPONENT_SHIFT;
        }
        let mut exp_context = [0u8; EXP_CONTEXT_ENTRIES];
        for (index, ctx) in (0u32..).zip(&mut exp_context) {
            let (sum, nonzero) = (index >> 2, index & 3);
            // With one non-zero neighbour the sum is its exponent (clause 8.3.6.3).
            let c = model::exp_context_of(sum, 0, nonzero >= 1, nonzero == 2, exp_ctx_base);
            *ctx = c as u8;
        }
        InfoTables {
            of_exponent,
            exp_context,
        }
    }

    /// The info of `value`, whose exponent field is `exponent`.
    #[inline(always)]
    pub fn info(&self, value: u32, exponent: u32) -> u32 {
        self.of_exponent[exponent as usize & 255] & 0u32.wrapping_sub(u32::from(value != 0))
    }

    /// ExpCtx of a new element from the infos of its left and above neighbours; with a
    /// non-zero reference value, from its info and 0 (clause 8.3.6.3).
    #[inline(always)]
    pub fn exp_context(&self, left_info: u32, above_info: u32) -> usize {
        usize::from(self.exp_context[((left_info + above_info) >> 4) as usize & 2047])
    }
}

/// The magnitude class of the value of an info.
#[inline(always)]
pub fn class(info: u32) -> u32 {
    info & CLASS_MASK
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables give the contexts of clause 8.3.6.3 for every pair of neighbours.
    #[test]
    fn lookups_agree_with_the_contexts_of_the_values() {
        for (kind_exp_base, exp_ctx_base) in [(0, 0), (119, 115), (127, 120), (255, 255)] {
            let tables = InfoTables::new(kind_exp_base, exp_ctx_base);
            let fields = model::ElementFields::of(crate::types::ElementType::Float32, false);
            // Zero, then non-zero values over every exponent field (and -0.0, exponent 0).
            let values = std::iter::once(0u32)
                .chain((0..256u32).map(|e| e << 23 | 0x1234))
                .chain([0x8000_0000]);
            let values: Vec<u32> = values.collect();
            let info = |v: u32| tables.info(v, fields.exponent(v));
            for &l in &values {
                assert_eq!(class(info(l)), model::mag_class(&fields, l, kind_exp_base));
                for &a in &values {
                    assert_eq!(
                        tables.exp_context(info(l), info(a)),
                        model::exp_context(&fields, l, a, exp_ctx_base),
                        "left {l:#x} above {a:#x}"
                    );
                }
                if l != 0 {
                    assert_eq!(
                        tables.exp_context(info(l), 0),
                        model::exp_context_from_reference(fields.exponent(l), exp_ctx_base)
                    );
                }
            }
        }
    }
}
