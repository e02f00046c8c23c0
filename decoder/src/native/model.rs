//! The native method's element model (spec clause 8.3.6.2): how an element splits into sign,
//! exponent and mantissa fields, the element kinds, and the context of each coded symbol.
//! The encoder uses these same functions, so both sides derive contexts identically.

use crate::types::ElementType;

/// Element kinds (symbol `element_kind`, clause 8.3.6.4).
pub const KIND_ZERO: u8 = 0;
pub const KIND_LEFT: u8 = 1;
pub const KIND_ABOVE: u8 = 2;
pub const KIND_NEW: u8 = 3;
pub const NUM_KINDS: usize = 4;

/// Row kinds (symbol `row_kind`, clause 8.3.6.4): a zero row codes no element.
pub const ROW_CODED: u8 = 0;
pub const ROW_ZERO: u8 = 1;
pub const NUM_ROW_KINDS: usize = 2;
/// Contexts of `row_kind`: first row of a map in the slice, row above coded, row above zero.
pub const NUM_ROW_CONTEXTS: usize = 3;

/// Context of `row_kind`.
#[inline(always)]
pub fn row_context(has_above: bool, above_zero: bool) -> usize {
    let swapped = crate::mutant!("native-row-contexts-swapped");
    match (has_above, above_zero != swapped) {
        (false, _) => 0,
        (true, false) => 1,
        (true, true) => 2,
    }
}

/// Magnitude classes of a neighbour for the kind context: 0 for zero, 1 to 4 by exponent.
pub const NUM_MAG_CLASSES: u32 = 5;
/// Contexts of `element_kind`: one per (left class, above class).
pub const NUM_KIND_CONTEXTS: usize = (NUM_MAG_CLASSES * NUM_MAG_CLASSES) as usize;
/// Contexts of `element_kind` with a reference: one per (reference class, left class, above
/// class).
pub const NUM_KIND_CONTEXTS_WITH_REFERENCE: usize =
    (NUM_MAG_CLASSES * NUM_MAG_CLASSES * NUM_MAG_CLASSES) as usize;
/// Contexts of `exponent`: 0 when both neighbours are zero, then 15 predicted-exponent classes.
pub const NUM_EXP_CONTEXTS: usize = 16;

/// Bit fields of an element (Table 8-3): value = sign << (E + M) | exponent << M | mantissa.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElementFields {
    /// 1 when the sign bit is coded (raw), 0 when it is known to be 0.
    pub sign_bits: u32,
    /// E: width of the entropy-coded exponent field.
    pub exp_bits: u32,
    /// M: width of the raw mantissa field.
    pub mant_bits: u32,
}

impl ElementFields {
    /// Fields of an element type; `non_negative` is the layer's `non_negative_flag`.
    pub fn of(element_type: ElementType, non_negative: bool) -> Self {
        let sign_bits = u32::from(!non_negative || crate::mutant!("native-sign-always-coded"));
        let uint8_signed =
            element_type == ElementType::Uint8 && crate::mutant!("native-uint8-has-sign");
        let (exp_bits, mant_bits) = match element_type {
            ElementType::Float32 => (8, 23),
            ElementType::Float16 => (5, 10),
            ElementType::BFloat16 => (8, 7),
            ElementType::Int8 => (7, 0),
            ElementType::Uint8 if uint8_signed => (7, 0),
            ElementType::Uint8 => (8, 0),
        };
        // uint8 has no sign bit: its top bit belongs to the exponent field.
        let sign_bits = if element_type == ElementType::Uint8 && !uint8_signed {
            0
        } else {
            sign_bits
        };
        ElementFields {
            sign_bits,
            exp_bits,
            mant_bits,
        }
    }

    /// Size of the exponent alphabet, 2^E.
    pub fn exp_alphabet(&self) -> usize {
        1 << self.exp_bits
    }

    /// The exponent field of a value.
    #[inline(always)]
    pub fn exponent(&self, value: u32) -> u32 {
        (value >> self.mant_bits) & ((1 << self.exp_bits) - 1)
    }
}

/// Magnitude class of a non-zero value whose exponent field is `exponent` (clause 8.3.6.3).
#[inline(always)]
pub fn nonzero_class(exponent: u32, kind_exp_base: u32) -> u32 {
    let from = u32::from(crate::mutant!("native-class-base-inclusive"));
    let halving = u32::from(!crate::mutant!("native-class-not-halved"));
    1 + ((exponent + from).saturating_sub(kind_exp_base) >> halving).min(3)
}

/// Magnitude class of a neighbour value: 0 for zero, else [`nonzero_class`].
#[inline(always)]
pub fn mag_class(fields: &ElementFields, value: u32, kind_exp_base: u32) -> u32 {
    if value == 0 {
        0
    } else {
        nonzero_class(fields.exponent(value), kind_exp_base)
    }
}

/// Context of `element_kind` from the magnitude classes of the left and above neighbours.
#[inline(always)]
pub fn kind_context_of_classes(left_class: u32, above_class: u32) -> usize {
    if crate::mutant!("native-kind-context-transposed") {
        return (above_class * NUM_MAG_CLASSES + left_class) as usize;
    }
    (left_class * NUM_MAG_CLASSES + above_class) as usize
}

/// Context of `element_kind` from the left and above neighbour values (0 where absent).
#[inline(always)]
pub fn kind_context(fields: &ElementFields, left: u32, above: u32, kind_exp_base: u32) -> usize {
    kind_context_of_classes(
        mag_class(fields, left, kind_exp_base),
        mag_class(fields, above, kind_exp_base),
    )
}

/// KindCtx with a reference (clause 8.3.6.3): the intra context, offset by 25 per magnitude
/// class of the co-located reference value.
#[inline(always)]
pub fn kind_context_with_reference(reference_class: u32, intra_context: usize) -> usize {
    if crate::mutant!("native-kind-context-reference-last") {
        return intra_context * NUM_MAG_CLASSES as usize + reference_class as usize;
    }
    (reference_class * NUM_MAG_CLASSES * NUM_MAG_CLASSES) as usize + intra_context
}

/// ExpCtx with a reference whose co-located value is non-zero with exponent field
/// `reference_exponent` (clause 8.3.6.3): the reference's exponent is the prediction.
#[inline(always)]
pub fn exp_context_from_reference(reference_exponent: u32, exp_ctx_base: u32) -> usize {
    1 + reference_exponent
        .saturating_sub(exp_ctx_base)
        .min(NUM_EXP_CONTEXTS as u32 - 2) as usize
}

/// Context of `exponent` from the neighbours' exponent fields, given as 0 for a zero (or
/// absent) neighbour, and whether each neighbour is non-zero (clause 8.3.6.3).
#[inline(always)]
pub fn exp_context_of(
    left_exponent: u32,
    above_exponent: u32,
    left_nonzero: bool,
    above_nonzero: bool,
    exp_ctx_base: u32,
) -> usize {
    let nonzero = u32::from(left_nonzero) + u32::from(above_nonzero);
    // With one non-zero neighbour the other contributes 0 to the sum.
    let predicted = if nonzero == 2 {
        let rounding = u32::from(!crate::mutant!("native-exponent-prediction-floor"));
        (left_exponent + above_exponent + rounding) >> 1
    } else {
        left_exponent + above_exponent
    };
    let cap =
        NUM_EXP_CONTEXTS as u32 - 2 + u32::from(crate::mutant!("native-exponent-context-cap-15"));
    let class = 1 + predicted.saturating_sub(exp_ctx_base).min(cap);
    if nonzero == 0 {
        0
    } else {
        class as usize
    }
}

/// Context of `exponent` from the left and above neighbour values (0 where absent).
#[inline(always)]
pub fn exp_context(fields: &ElementFields, left: u32, above: u32, exp_ctx_base: u32) -> usize {
    let exponent = |v: u32| if v == 0 { 0 } else { fields.exponent(v) };
    exp_context_of(
        exponent(left),
        exponent(above),
        left != 0,
        above != 0,
        exp_ctx_base,
    )
}

/// The tensor seen as rows of W elements (clause 8.3.6.1): W is the last dimension, H the one
/// before it (1 for rank 1), and the rows of all leading dimensions follow each other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    /// Elements per row.
    pub width: usize,
    /// Rows per map: "above" exists only within a map.
    pub height: usize,
    /// Total rows: maps x height.
    pub rows: usize,
}

impl Geometry {
    pub fn of(shape: &[u32]) -> Self {
        let width = shape.last().map_or(1, |&w| w as usize);
        let height = if shape.len() >= 2 {
            shape[shape.len() - 2] as usize
        } else {
            1
        };
        let count: usize = shape.iter().map(|&d| d as usize).product();
        Geometry {
            width,
            height,
            rows: count / width.max(1),
        }
    }
}

/// Reads element `index` (little-endian) of a canonical byte buffer as an unsigned value.
#[inline(always)]
pub fn load(data: &[u8], size: usize, index: usize) -> u32 {
    match size {
        4 => u32::from_le_bytes([
            data[4 * index],
            data[4 * index + 1],
            data[4 * index + 2],
            data[4 * index + 3],
        ]),
        2 => u32::from(u16::from_le_bytes([data[2 * index], data[2 * index + 1]])),
        _ => u32::from(data[index]),
    }
}
