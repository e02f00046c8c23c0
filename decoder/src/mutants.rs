//! Deliberate misreadings of the specification, to measure how well the conformance suite tells
//! a decoder that misreads a rule from a correct one (its mutation score). Each entry of
//! [`MUTANTS`] is one plausible misreading of one normative rule; the code that implements the
//! rule asks [`mutant!`](crate::mutant) whether that misreading is switched on ([`activate`]).
//!
//! Only with the feature `mutants`: without it `mutant!` is the constant `false`, every
//! misreading compiles away and the decoder is the normative one. With it, one misreading at a
//! time is active for the whole process (none by default), and each `mutant!` that is
//! evaluated marks its entry as reached, so that a runner knows which cases can tell it apart.

/// One misreading of the specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mutant {
    /// Identifier, as `mutant!` names it.
    pub id: &'static str,
    /// The clause whose rule is misread.
    pub clause: &'static str,
    /// What the mutated decoder does instead of what the clause says.
    pub misreading: &'static str,
}

/// Every misreading, in the order of the table of `conformance/README.md`.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        id: "crc-payload-only",
        clause: "7.2",
        misreading: "unit_crc covers the payload only, not unit_type and payload_size",
    },
    Mutant {
        id: "unit-type-before-crc",
        clause: "8.2",
        misreading: "the unit type (REQ-7.2-1, REQ-7.2-2) is checked before the CRC",
    },
    Mutant {
        id: "tensor-hash-skips-metadata",
        clause: "5.2",
        misreading: "a metadata or reserved-skippable unit between a feature_data and its tensor_hash is allowed",
    },
    Mutant {
        id: "frame-index-increasing",
        clause: "5.2",
        misreading: "frame_index must increase from one feature_data unit to the next (not only be non-decreasing)",
    },
    Mutant {
        id: "feature-before-frame-header-allowed",
        clause: "5.2",
        misreading: "feature data before the first frame_header is not an error (REQ-5.2-6 unchecked)",
    },
    Mutant {
        id: "bytes-after-end-allowed",
        clause: "5.2",
        misreading: "bytes after the end_of_sequence unit are ignored (REQ-5.2-4 unchecked)",
    },
    Mutant {
        id: "layer-id-unchecked",
        clause: "7.4",
        misreading: "layer_id need not count the layer_parameters units before it (REQ-7.4-1 unchecked)",
    },
    Mutant {
        id: "layer-names-may-repeat",
        clause: "7.4",
        misreading: "two layers may have the same name (REQ-7.4-9 unchecked)",
    },
    Mutant {
        id: "frame-bytes-per-layer",
        clause: "A.2",
        misreading: "MaxFrameBytes bounds the tensor byte count of each layer, not their sum",
    },
    Mutant {
        id: "metadata-utf8-unchecked",
        clause: "7.7",
        misreading: "metadata text that is not UTF-8 is accepted (decoded with replacement characters)",
    },
    Mutant {
        id: "negative-zero-not-negative",
        clause: "8.4",
        misreading: "-0.0 is not negative (REQ-8.4-1 compares values, not sign bits)",
    },
    Mutant {
        id: "negative-nan-not-negative",
        clause: "8.4",
        misreading: "a NaN with its sign bit set is not negative",
    },
    Mutant {
        id: "tensor-hash-covers-ids",
        clause: "8.5",
        misreading: "the SHA-256 of a tensor covers its layer_id and frame_index before its canonical bytes",
    },
    Mutant {
        id: "version-minor-native-allowed",
        clause: "7.1",
        misreading: "native payloads of version_minor 2 to 4 streams are decoded as this version's (REQ-7.1-3 unchecked)",
    },
    Mutant {
        id: "random-access-keeps-references",
        clause: "8.7",
        misreading: "a random-access frame_header does not empty the reference lists",
    },
    Mutant {
        id: "references-without-frame-headers",
        clause: "8.7",
        misreading: "tensors of a stream without frame_header units become references",
    },
    Mutant {
        id: "references-unbounded",
        clause: "8.7",
        misreading: "the reference lists are not cut to MaxRefFrames",
    },
    Mutant {
        id: "value-references-any-method",
        clause: "8.7",
        misreading: "tensors of every lossless method go to the value reference list, not only native ones",
    },
    Mutant {
        id: "passed-over-units-checked",
        clause: "8.6",
        misreading: "units passed over before the start point are processed and checked as body units",
    },
    Mutant {
        id: "passed-over-frame-header-lenient",
        clause: "8.6",
        misreading: "a frame_header passed over is read without checking its payload size (REQ-7.2-6)",
    },
    Mutant {
        id: "raw-longer-accepted",
        clause: "8.3.1",
        misreading: "a raw payload longer than N is cut to N",
    },
    Mutant {
        id: "zlib-fdict-late",
        clause: "8.3.2",
        misreading: "FDICT (REQ-8.3.2-2) is not checked before decompression: the zlib decoder's error (REQ-8.3.2-1) is reported",
    },
    Mutant {
        id: "decompression-unbounded",
        clause: "8.3",
        misreading: "a compressed payload is decompressed to its end, so a damaged stream after N + 1 bytes reports the method's requirement",
    },
    Mutant {
        id: "trailing-bytes-before-length",
        clause: "8.3",
        misreading: "bytes after the compressed stream (REQ-8.3-2) are checked before its decompressed length (REQ-8.3-1)",
    },
    Mutant {
        id: "lzma-size-field-first",
        clause: "8.3.5",
        misreading: "the uncompressed size field (REQ-8.3.5-3) is checked before the properties and the dictionary size",
    },
    Mutant {
        id: "symbol-gap-without-one",
        clause: "8.3.6.4",
        misreading: "the symbol of an entry is the previous symbol + symbol_gap (without + 1)",
    },
    Mutant {
        id: "frequency-without-one",
        clause: "8.3.6.4",
        misreading: "the frequency of an entry is freq_minus1 (without + 1)",
    },
    Mutant {
        id: "ue-17-zero-bits",
        clause: "4.1",
        misreading: "a ue(v) element may have 17 leading zero bits",
    },
    Mutant {
        id: "frequency-tables-checked-when-parsed",
        clause: "8.3.6",
        misreading: "the frequency tables are checked (REQ-8.3.6-2) as they are parsed, before the alignment bits and the slice index",
    },
    Mutant {
        id: "native-exponent-table-28",
        clause: "8.3.6.7",
        misreading: "the exponent of a new element is decoded with table 28 + ExpCtx whatever NumKindTables (erratum 1)",
    },
    Mutant {
        id: "native-above-across-maps",
        clause: "8.3.6.3",
        misreading: "HasAbove ignores map boundaries: the first row of a map sees the last row of the previous map",
    },
    Mutant {
        id: "native-row-contexts-swapped",
        clause: "8.3.6.3",
        misreading: "RowCtx is 1 when the row above is zero and 2 when it is coded",
    },
    Mutant {
        id: "native-zero-row-not-above",
        clause: "8.3.6.3",
        misreading: "after a zero row, the row above is the last coded row instead of zeros",
    },
    Mutant {
        id: "native-kind-context-transposed",
        clause: "8.3.6.3",
        misreading: "KindCtx is 5 x Class(A) + Class(L)",
    },
    Mutant {
        id: "native-kind-context-reference-last",
        clause: "8.3.6.3",
        misreading: "with a reference, KindCtx is 25 x Class(L) + 5 x Class(A) + Class(RefValue)",
    },
    Mutant {
        id: "native-class-not-halved",
        clause: "8.3.6.3",
        misreading: "the magnitude class grows by one every exponent, not every two",
    },
    Mutant {
        id: "native-class-base-inclusive",
        clause: "8.3.6.3",
        misreading: "class 1 ends below kind_exp_base + 1 (the exponent difference is counted from 1)",
    },
    Mutant {
        id: "native-exponent-prediction-floor",
        clause: "8.3.6.3",
        misreading: "PredExp of two neighbours is (Exponent(L) + Exponent(A)) >> 1, rounded down",
    },
    Mutant {
        id: "native-exponent-prediction-left",
        clause: "8.3.6.3",
        misreading: "with two non-zero neighbours PredExp is Exponent(L)",
    },
    Mutant {
        id: "native-exponent-context-cap-15",
        clause: "8.3.6.3",
        misreading: "ExpCtx is 1 + Min(15, ...), not 1 + Min(14, ...)",
    },
    Mutant {
        id: "native-exponent-reference-ignored",
        clause: "8.3.6.3",
        misreading: "with a reference, ExpCtx is still predicted from the neighbours",
    },
    Mutant {
        id: "native-exponent-reference-zero",
        clause: "8.3.6.3",
        misreading: "a zero RefValue also predicts the exponent (ExpCtx 1), instead of the neighbours",
    },
    Mutant {
        id: "native-sign-after-mantissa",
        clause: "8.3.6.6",
        misreading: "the raw bits of a new element are its mantissa, then its sign",
    },
    Mutant {
        id: "native-sign-always-coded",
        clause: "8.3.6.2",
        misreading: "the sign bit is coded even when non_negative_flag is 1",
    },
    Mutant {
        id: "native-uint8-has-sign",
        clause: "8.3.6.2",
        misreading: "uint8 has a sign bit and a 7-bit exponent field, like int8",
    },
    Mutant {
        id: "native-reference-distance-zero-based",
        clause: "8.7",
        misreading: "ref_distance d selects entry d of the value reference list, not d - 1",
    },
    Mutant {
        id: "rans-word-big-endian",
        clause: "8.3.6.5",
        misreading: "the renormalization word is big-endian",
    },
    Mutant {
        id: "rans-state-big-endian",
        clause: "8.3.6.5",
        misreading: "the initial rANS state is big-endian",
    },
    Mutant {
        id: "rans-unread-bytes-allowed",
        clause: "8.3.6.5",
        misreading: "rans_data bytes left unread at the end of a slice are allowed",
    },
    Mutant {
        id: "rans-final-state-unchecked",
        clause: "8.3.6.5",
        misreading: "the final rANS state need not be 2^16",
    },
    Mutant {
        id: "raw-bits-lsb-first",
        clause: "8.3.6.6",
        misreading: "raw bits are read least significant bit of each byte first",
    },
    Mutant {
        id: "raw-padding-unchecked",
        clause: "8.3.6.6",
        misreading: "the bits after the last raw bit read are not checked",
    },
    Mutant {
        id: "first-row-of-slice-has-above",
        clause: "8.3.6.3",
        misreading: "HasAbove ignores slice starts inside a map (RowCtx 1 or 2 at the first row of such a slice)",
    },
    Mutant {
        id: "quantized-fused-multiply-add",
        clause: "8.3.7.5",
        misreading: "offset + level x step with one rounding (a fused multiply-add)",
    },
    Mutant {
        id: "quantized-double-precision",
        clause: "8.3.7.5",
        misreading: "offset + level x step computed in binary64 and rounded once to binary32",
    },
    Mutant {
        id: "quantized-bfloat16-truncated",
        clause: "8.3.7.5",
        misreading: "bfloat16 is the upper 16 bits of the binary32 value (truncation, no rounding)",
    },
    Mutant {
        id: "quantized-bfloat16-ties-away",
        clause: "8.3.7.5",
        misreading: "bfloat16 rounding breaks ties away from zero",
    },
    Mutant {
        id: "quantized-float16-saturates",
        clause: "8.3.7.5",
        misreading: "a value beyond the largest finite float16 becomes that value, not infinity",
    },
    Mutant {
        id: "quantized-level-context-signed-sum",
        clause: "8.3.7.3",
        misreading: "LevelCtx is computed from |L + A| instead of |L| + |A|",
    },
    Mutant {
        id: "quantized-half-octave-octave",
        clause: "8.3.7.3",
        misreading: "HalfOctave(s) is Floor(Log2(s)): one class per octave",
    },
    Mutant {
        id: "quantized-med-cases-swapped",
        clause: "8.3.7.3",
        misreading: "MED predicts Max(L, A) when AL >= Max(L, A) and Min(L, A) when AL <= Min(L, A)",
    },
    Mutant {
        id: "quantized-med-plane-only",
        clause: "8.3.7.3",
        misreading: "MED always predicts L + A - AL",
    },
    Mutant {
        id: "quantized-activity-without-above-right",
        clause: "8.3.7.3",
        misreading: "the Activity has no |AR - A| term",
    },
    Mutant {
        id: "quantized-above-right-wraps",
        clause: "8.3.7.3",
        misreading: "at the last column, AR is A instead of 0",
    },
    Mutant {
        id: "quantized-above-left-first-column",
        clause: "8.3.7.3",
        misreading: "at the first column, AL is A instead of 0",
    },
    Mutant {
        id: "quantized-inter-missing-above-read",
        clause: "8.3.7.3",
        misreading: "a missing above neighbour contributes |0 - RefAbove|, RefAbove read from the row before (erratum 9)",
    },
    Mutant {
        id: "quantized-inter-change-not-doubled",
        clause: "8.3.7.3",
        misreading: "Change is |L - RefLeft| + |A - RefAbove| + |RefLevel|, the residuals not doubled",
    },
    Mutant {
        id: "quantized-inter-change-without-reference",
        clause: "8.3.7.3",
        misreading: "Change has no |RefLevel| term",
    },
    Mutant {
        id: "quantized-inter-sign-inverted",
        clause: "8.3.7.6",
        misreading: "a sign bit 1 adds the magnitude to RefLevel",
    },
    Mutant {
        id: "quantized-residual-sign-if-signed-levels",
        clause: "8.3.7.6",
        misreading: "a MED or inter residual has a sign bit only when signed_levels is 1",
    },
    Mutant {
        id: "quantized-sign-before-extra-bits",
        clause: "8.3.7.4",
        misreading: "the sign bit of a level is read before its extra bits",
    },
    Mutant {
        id: "quantized-extra-bits-one-more",
        clause: "8.3.7.4",
        misreading: "ExtraBits(t) is 4 + ((t - 16) >> 1)",
    },
    Mutant {
        id: "quantized-token-second-bit-inverted",
        clause: "8.3.7.4",
        misreading: "a token of 16 or more gives 3 - ((t - 16) & 1) as the top two bits",
    },
    Mutant {
        id: "quantized-out-of-range-unreported",
        clause: "8.3.7.6",
        misreading: "a level outside the level range is clamped without an error (REQ-8.3.7-5 unchecked)",
    },
    Mutant {
        id: "quantized-signed-range-symmetric",
        clause: "8.3.7.2",
        misreading: "signed levels range from -(2^(B-1) - 1) to 2^(B-1) - 1",
    },
    Mutant {
        id: "quantized-codebook-range-from-bits",
        clause: "8.3.7.2",
        misreading: "the levels of a codebook range up to 2^B - 1, whatever NumCodewords",
    },
    Mutant {
        id: "quantized-parameter-set-last-dimension",
        clause: "8.3.7.1",
        misreading: "a per-channel parameter set is chosen by the index of the last dimension",
    },
    Mutant {
        id: "quantized-zero-row-not-above",
        clause: "8.3.7.3",
        misreading: "after a zero row, the above levels are those of the last coded row",
    },
    Mutant {
        id: "quantized-map-predictor-by-row",
        clause: "8.3.7.6",
        misreading: "the map_predictor of row y is map_predictor[y], not map_predictor[y / H]",
    },
    Mutant {
        id: "quantized-element-type-checked-late",
        clause: "8.3.7",
        misreading: "the layer's element type (REQ-8.3.7-2) is checked after quant_header( )",
    },
    Mutant {
        id: "quantized-inter-tables-with-map-prediction",
        clause: "6.10",
        misreading: "inter_parameters and the inter tables are present whenever map_prediction is 1",
    },
    Mutant {
        id: "quantized-reference-distance-zero-based",
        clause: "8.7",
        misreading: "ref_distance d selects entry d of the reference list, not d - 1",
    },
    Mutant {
        id: "quantized-slices-reported-last-first",
        clause: "8.3.6.7",
        misreading: "when several slices fail, the last one's violation is reported",
    },
];

/// Index of `id` in [`MUTANTS`]; a name that is not there does not compile (`mutant!` calls it
/// in a constant).
pub const fn index_of(id: &str) -> usize {
    let mut i = 0;
    while i < MUTANTS.len() {
        if eq(MUTANTS[i].id.as_bytes(), id.as_bytes()) {
            return i;
        }
        i += 1;
    }
    panic!("no such mutant")
}

const fn eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether the misreading with this index is the active one; marks it as reached.
#[inline(always)]
pub fn is_active(_index: usize) -> bool {
    #[cfg(feature = "mutants")]
    {
        use std::sync::atomic::Ordering::Relaxed;
        switch::REACHED[_index].store(true, Relaxed);
        switch::ACTIVE.load(Relaxed) == _index
    }
    #[cfg(not(feature = "mutants"))]
    false
}

/// `mutant!("id")`: whether the misreading `id` of [`MUTANTS`] is active (always `false`
/// without the feature `mutants`).
#[macro_export]
macro_rules! mutant {
    ($id:literal) => {
        $crate::mutants::is_active(const { $crate::mutants::index_of($id) })
    };
}

#[cfg(feature = "mutants")]
mod switch {
    use std::sync::atomic::{AtomicBool, AtomicUsize};

    /// The index of the active misreading; none is `usize::MAX`.
    pub static ACTIVE: AtomicUsize = AtomicUsize::new(usize::MAX);
    /// Which `mutant!` sites were evaluated since the last [`super::take_reached`].
    pub static REACHED: [AtomicBool; super::MUTANTS.len()] =
        [const { AtomicBool::new(false) }; super::MUTANTS.len()];
}

/// Whether this build has the misreadings (feature `mutants`).
pub const ENABLED: bool = cfg!(feature = "mutants");

/// Makes `id` the active misreading for the whole process, or none. Fails for an unknown
/// `id`, or without the feature `mutants` for any `id`.
pub fn activate(id: Option<&str>) -> Result<(), String> {
    let index = match id {
        None => usize::MAX,
        Some(id) => MUTANTS
            .iter()
            .position(|m| m.id == id)
            .ok_or_else(|| format!("no mutant {id:?}"))?,
    };
    #[cfg(feature = "mutants")]
    switch::ACTIVE.store(index, std::sync::atomic::Ordering::Relaxed);
    #[cfg(not(feature = "mutants"))]
    if index != usize::MAX {
        return Err("the decoder is built without the feature `mutants`".into());
    }
    Ok(())
}

/// Which misreadings' sites were evaluated since the last call (by index of [`MUTANTS`]), and
/// clears the marks. All false without the feature.
pub fn take_reached() -> Vec<bool> {
    #[cfg(feature = "mutants")]
    return switch::REACHED
        .iter()
        .map(|r| r.swap(false, std::sync::atomic::Ordering::Relaxed))
        .collect();
    #[cfg(not(feature = "mutants"))]
    vec![false; MUTANTS.len()]
}
