//! Encoder of the native method (spec clause 8.3.6; encoder choices in Annex C): symbolizes
//! the tensor with the decoder's own model, counts symbols per context, normalizes the counts to
//! 2^12, and codes every slice with rANS, in reverse, so that the decoder reads forwards.

use crate::rans::{cumulative, frequency_tables, normalize, parallel_map, rans_encode, Symbol};
use bitstream_io::{BigEndian, BitWrite, BitWriter, ToBitStream};
use dfc_decoder::native::model::{
    exp_context, exp_context_from_reference, kind_context, kind_context_with_reference, load,
    mag_class, row_context, ElementFields, Geometry, KIND_ABOVE, KIND_LEFT, KIND_NEW, KIND_ZERO,
    NUM_EXP_CONTEXTS, NUM_KINDS, NUM_KIND_CONTEXTS, NUM_KIND_CONTEXTS_WITH_REFERENCE,
    NUM_ROW_CONTEXTS, NUM_ROW_KINDS, ROW_CODED, ROW_ZERO,
};
use dfc_decoder::native::syntax::{write_tables, NativeHeader, SliceIndex, PROB_SCALE};
use dfc_decoder::ElementType;

/// Slices hold about this many elements, so that large tensors decode on several threads.
pub const SLICE_TARGET_ELEMENTS: usize = 1 << 15;

/// Tables in payload order: row kinds, element kinds (25, or 125 with a reference), exponents.
const FIRST_KIND_TABLE: usize = NUM_ROW_CONTEXTS;

/// The table numbers of a payload with or without a reference.
#[derive(Clone, Copy)]
struct TableLayout {
    first_exp: usize,
    count: usize,
}

impl TableLayout {
    fn new(with_reference: bool) -> Self {
        let kinds = if with_reference {
            NUM_KIND_CONTEXTS_WITH_REFERENCE
        } else {
            NUM_KIND_CONTEXTS
        };
        let first_exp = FIRST_KIND_TABLE + kinds;
        TableLayout {
            first_exp,
            count: first_exp + NUM_EXP_CONTEXTS,
        }
    }
}

/// A reference for inter prediction (clause 8.7): `ref_distance` and the canonical bytes of
/// that entry of the layer's value reference list (same type and shape as the tensor).
#[derive(Clone, Copy, Debug)]
pub struct NativeReference<'a> {
    pub ref_distance: u8,
    pub data: &'a [u8],
}

/// A slice after symbolization: its symbols in decoding order and its raw bits.
struct SymbolizedSlice {
    symbols: Vec<Symbol>,
    raw: Vec<u8>,
}

/// Rows per slice (Annex C): slices of about `SLICE_TARGET_ELEMENTS` elements, whole maps while
/// a map is smaller, and an even number of slices of equal size, so that they split evenly
/// over two threads.
pub fn rows_per_slice(geometry: &Geometry) -> u32 {
    let map = (geometry.width * geometry.height).max(1);
    let total = geometry.rows * geometry.width;
    let mut slices = total.div_ceil(SLICE_TARGET_ELEMENTS).max(1);
    if slices > 1 {
        slices += slices % 2;
    }
    let rows = if map <= SLICE_TARGET_ELEMENTS {
        let maps = geometry.rows / geometry.height.max(1);
        maps.div_ceil(slices).max(1) * geometry.height
    } else {
        geometry.rows.div_ceil(slices)
    };
    rows.clamp(1, u32::MAX as usize) as u32
}

/// The context bases (Annex C): the exponent classes end at a high exponent of the tensor,
/// so that the classes cover the exponents that carry most values.
fn context_bases(fields: &ElementFields, values: &[u32]) -> (u8, u8) {
    let mut histogram = vec![0u64; fields.exp_alphabet()];
    let mut nonzero = 0u64;
    for &v in values {
        if v != 0 {
            histogram[fields.exponent(v) as usize] += 1;
            nonzero += 1;
        }
    }
    // The exponent below which 99.9% of the non-zero values lie.
    let mut seen = 0u64;
    let mut high = 0usize;
    for (e, &n) in histogram.iter().enumerate() {
        seen += n;
        high = e;
        if seen * 1000 >= nonzero * 999 {
            break;
        }
    }
    let high = high as i64;
    let kind_base = (high - 7).clamp(0, 255) as u8;
    let exp_base = (high - (NUM_EXP_CONTEXTS as i64 - 2)).clamp(0, 255) as u8;
    (kind_base, exp_base)
}

fn symbolize(
    values: &[u32],
    reference: Option<&[u32]>,
    geometry: &Geometry,
    fields: &ElementFields,
    header: &NativeHeader,
    first_row: usize,
    rows: usize,
) -> SymbolizedSlice {
    let layout = TableLayout::new(reference.is_some());
    let width = geometry.width;
    let mut symbols = Vec::with_capacity(rows * width * 2);
    let mut raw = Vec::new();
    let mut bits = BitWriter::endian(&mut raw, BigEndian);
    let raw_bits = fields.sign_bits + fields.mant_bits;
    let zero_row = vec![0u32; width];
    let kind_base = u32::from(header.kind_exp_base);
    let exp_base = u32::from(header.exp_ctx_base);
    let mut above_zero = false;
    for r in first_row..first_row + rows {
        let row = &values[r * width..(r + 1) * width];
        let has_above = r > first_row && r % geometry.height != 0;
        let above_row = if has_above {
            &values[(r - 1) * width..r * width]
        } else {
            &zero_row[..]
        };
        let zero = row.iter().all(|&v| v == 0);
        symbols.push(Symbol {
            table: row_context(has_above, above_zero) as u8,
            value: if zero { ROW_ZERO } else { ROW_CODED },
        });
        above_zero = zero;
        if zero {
            continue;
        }
        let reference_row = reference.map(|v| &v[r * width..(r + 1) * width]);
        let mut left = 0u32;
        for (x, (&value, &above)) in row.iter().zip(above_row).enumerate() {
            let co_located = reference_row.map_or(0, |rr| rr[x]);
            let mut kc = kind_context(fields, left, above, kind_base);
            if reference.is_some() {
                kc = kind_context_with_reference(mag_class(fields, co_located, kind_base), kc);
            }
            let kind = if value == 0 {
                KIND_ZERO
            } else if value == left {
                KIND_LEFT
            } else if value == above {
                KIND_ABOVE
            } else {
                KIND_NEW
            };
            symbols.push(Symbol {
                table: (FIRST_KIND_TABLE + kc) as u8,
                value: kind,
            });
            if kind == KIND_NEW {
                let ec = if reference.is_some() && co_located != 0 {
                    exp_context_from_reference(fields.exponent(co_located), exp_base)
                } else {
                    exp_context(fields, left, above, exp_base)
                };
                symbols.push(Symbol {
                    table: (layout.first_exp + ec) as u8,
                    value: fields.exponent(value) as u8,
                });
                if raw_bits > 0 {
                    let sign = value >> (fields.exp_bits + fields.mant_bits) & fields.sign_bits;
                    let mantissa = value & ((1u32 << fields.mant_bits) - 1);
                    bits.write_var::<u32>(raw_bits, sign << fields.mant_bits | mantissa)
                        .expect("writing to a Vec");
                }
            }
            left = value;
        }
    }
    bits.byte_align().expect("writing to a Vec");
    SymbolizedSlice { symbols, raw }
}

/// A tensor symbolized with the decoder's model: header, per-slice symbols and raw bits,
/// symbol counts and the normalized frequencies of every table.
struct Model {
    header: NativeHeader,
    layout: TableLayout,
    slices: Vec<SymbolizedSlice>,
    counts: Vec<Vec<u64>>,
    freq: Vec<Vec<u32>>,
}

fn build_model(
    element_type: ElementType,
    shape: &[u32],
    non_negative: bool,
    data: &[u8],
    reference: Option<NativeReference<'_>>,
    threads: usize,
) -> Model {
    let fields = ElementFields::of(element_type, non_negative);
    let geometry = Geometry::of(shape);
    let size = element_type.size();
    let to_values = |bytes: &[u8]| -> Vec<u32> {
        (0..bytes.len() / size)
            .map(|i| load(bytes, size, i))
            .collect()
    };
    let values = to_values(data);
    let reference_values = reference.map(|r| to_values(r.data));
    let layout = TableLayout::new(reference.is_some());
    let (kind_exp_base, exp_ctx_base) = context_bases(&fields, &values);
    let header = NativeHeader {
        rows_per_slice: rows_per_slice(&geometry),
        kind_exp_base,
        exp_ctx_base,
        ref_distance: reference.map_or(0, |r| r.ref_distance),
    };
    let rps = header.rows_per_slice as usize;
    let ranges: Vec<(usize, usize)> = (0..geometry.rows)
        .step_by(rps)
        .map(|first| (first, rps.min(geometry.rows - first)))
        .collect();

    let slices: Vec<SymbolizedSlice> = parallel_map(&ranges, threads, |&(first, rows)| {
        symbolize(
            &values,
            reference_values.as_deref(),
            &geometry,
            &fields,
            &header,
            first,
            rows,
        )
    });

    let alphabet = |t: usize| match t {
        t if t < FIRST_KIND_TABLE => NUM_ROW_KINDS,
        t if t < layout.first_exp => NUM_KINDS,
        _ => fields.exp_alphabet(),
    };
    let mut counts: Vec<Vec<u64>> = (0..layout.count).map(|t| vec![0; alphabet(t)]).collect();
    for slice in &slices {
        for s in &slice.symbols {
            counts[s.table as usize][s.value as usize] += 1;
        }
    }
    let freq: Vec<Vec<u32>> = counts.iter().map(|c| normalize(c)).collect();
    Model {
        header,
        layout,
        slices,
        counts,
        freq,
    }
}

/// Where the bits of a native payload go (ideal rANS cost of the symbols, in bits).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct CostBreakdown {
    /// `row_kind` symbols (zero rows).
    pub row_kinds: f64,
    /// `element_kind` symbols: the zero map and the copies of neighbours.
    pub element_kinds: f64,
    /// `exponent` symbols.
    pub exponents: f64,
    /// Raw sign and mantissa bits.
    pub raw: f64,
    /// Header, frequency tables and slice index.
    pub side_info: f64,
}

/// The cost of each part of the native model for a tensor (for reports; Annex C).
pub fn native_cost_breakdown(
    element_type: ElementType,
    shape: &[u32],
    data: &[u8],
) -> CostBreakdown {
    let non_negative = crate::methods::is_non_negative(element_type, data);
    let model = build_model(element_type, shape, non_negative, data, None, 1);
    let mut cost = CostBreakdown::default();
    for (t, (counts, freqs)) in model.counts.iter().zip(&model.freq).enumerate() {
        let bits: f64 = counts
            .iter()
            .zip(freqs)
            .filter(|(&c, _)| c > 0)
            .map(|(&c, &f)| c as f64 * (f64::from(PROB_SCALE) / f64::from(f)).log2())
            .sum();
        match t {
            t if t < FIRST_KIND_TABLE => cost.row_kinds += bits,
            t if t < model.layout.first_exp => cost.element_kinds += bits,
            _ => cost.exponents += bits,
        }
    }
    cost.raw = model.slices.iter().map(|s| 8.0 * s.raw.len() as f64).sum();
    let payload = encode_native(element_type, shape, non_negative, data, 1);
    cost.side_info = 8.0 * payload.len() as f64
        - cost.row_kinds
        - cost.element_kinds
        - cost.exponents
        - cost.raw;
    cost
}

/// Codes a tensor with the native method. `non_negative` must be the layer's
/// `non_negative_flag`. `threads` spreads slices over threads; the bytes do not depend on it.
pub fn encode_native(
    element_type: ElementType,
    shape: &[u32],
    non_negative: bool,
    data: &[u8],
    threads: usize,
) -> Vec<u8> {
    encode_native_with_reference(element_type, shape, non_negative, data, None, threads)
}

/// Codes a tensor with the native method, its contexts conditioned on `reference` if given
/// (inter prediction, clause 8.3.6.3).
pub fn encode_native_with_reference(
    element_type: ElementType,
    shape: &[u32],
    non_negative: bool,
    data: &[u8],
    reference: Option<NativeReference<'_>>,
    threads: usize,
) -> Vec<u8> {
    let Model {
        header,
        slices,
        freq,
        ..
    } = build_model(element_type, shape, non_negative, data, reference, threads);
    let cum = cumulative(&freq);
    let coded: Vec<Vec<u8>> = parallel_map(&slices, threads, |slice| {
        rans_encode(&slice.symbols, &freq, &cum)
    });

    let mut out = Vec::new();
    {
        let mut w = BitWriter::endian(&mut out, BigEndian);
        header.to_writer(&mut w).expect("writing to a Vec");
        let tables = frequency_tables(&freq);
        write_tables(&mut w, &tables).expect("writing to a Vec");
        SliceIndex {
            slices: coded
                .iter()
                .zip(&slices)
                .map(|(r, s)| (r.len() as u32, s.raw.len() as u32))
                .collect(),
        }
        .to_writer(&mut w)
        .expect("writing to a Vec");
    }
    for (rans, slice) in coded.iter().zip(&slices) {
        out.extend_from_slice(rans);
        out.extend_from_slice(&slice.raw);
    }
    out
}
