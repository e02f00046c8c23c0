//! Entropy coding of quantization levels into a quantized_payload() (spec clauses 6.10 and
//! 8.3.7; encoder choices in Annex C): tokens per context, extra and sign bits raw, slices coded
//! with rANS. Contexts and tokens come from the decoder's own model.

use crate::native::rows_per_slice;
use crate::rans::{cumulative, frequency_tables, normalize, parallel_map, rans_encode, Symbol};
use bitstream_io::{BigEndian, BitWrite, BitWriter, ToBitStream};
use dfc_decoder::native::model::{
    row_context, Geometry, NUM_ROW_CONTEXTS, NUM_ROW_KINDS, ROW_CODED, ROW_ZERO,
};
use dfc_decoder::native::syntax::{write_tables, SliceIndex, PROB_SCALE};
use dfc_decoder::quant::model::{
    half_octave, level_context, token_of, NUM_LEVEL_CONTEXTS, NUM_TOKENS,
};
use dfc_decoder::quant::syntax::{Codebook, QuantHeader, UniformParameters};

/// Tables in payload order: row kinds, then tokens.
const FIRST_TOKEN_TABLE: usize = NUM_ROW_CONTEXTS;
const NUM_TABLES: usize = FIRST_TOKEN_TABLE + NUM_LEVEL_CONTEXTS;
/// Largest useful `level_ctx_base`: half-octave classes of a sum of two 16-bit magnitudes.
const MAX_CTX_BASE: u32 = 34;

/// The quantizer part of the payload: uniform parameters or a codebook.
#[derive(Clone, Debug)]
pub enum QuantizerSyntax {
    Uniform(UniformParameters),
    Codebook(Codebook),
}

/// Levels of a tensor with the header fields the coder does not choose.
pub struct LevelTensor<'a> {
    pub shape: &'a [u32],
    pub levels: &'a [i32],
    pub level_bits: u8,
    pub signed: bool,
    pub per_channel: bool,
    pub quantizer: &'a QuantizerSyntax,
}

/// Slices hold about this many elements: fewer, larger slices than the native method, since
/// the slice overhead weighs more at low rates.
const SLICE_TARGET_LEVELS: usize = 1 << 16;

fn slice_rows(geometry: &Geometry) -> u32 {
    let native = rows_per_slice(geometry) as usize;
    let factor = SLICE_TARGET_LEVELS / crate::native::SLICE_TARGET_ELEMENTS;
    (native * factor)
        .clamp(1, geometry.rows.max(1))
        .min(u32::MAX as usize) as u32
}

/// Per (half-octave class of L + A, or none when both are 0) the token histogram: enough to
/// pick `level_ctx_base` without symbolizing again.
fn class_histogram(
    levels: &[i32],
    geometry: &Geometry,
    rows_per_slice: usize,
) -> Vec<[u64; NUM_TOKENS]> {
    let mut hist = vec![[0u64; NUM_TOKENS]; MAX_CTX_BASE as usize + 2];
    let w = geometry.width;
    for y in 0..geometry.rows {
        let has_above = y % rows_per_slice != 0 && y % geometry.height != 0;
        let row = &levels[y * w..(y + 1) * w];
        if row.iter().all(|&l| l == 0) {
            continue;
        }
        let mut left = 0u32;
        for (x, &l) in row.iter().enumerate() {
            let above = if has_above {
                levels[(y - 1) * w + x].unsigned_abs()
            } else {
                0
            };
            let m = l.unsigned_abs();
            let sum = left + above;
            let class = if sum == 0 {
                0
            } else {
                1 + half_octave(sum) as usize
            };
            hist[class.min(MAX_CTX_BASE as usize + 1)][token_of(m).0 as usize] += 1;
            left = m;
        }
    }
    hist
}

/// Ideal cost in bits of coding `counts` with a static table, plus the table's own size.
fn table_cost(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return 9.0;
    }
    let mut bits = 9.0;
    for &c in counts.iter().filter(|&&c| c > 0) {
        bits += c as f64 * (total as f64 / c as f64).log2() + 14.0;
    }
    bits
}

/// The `level_ctx_base` that minimizes the token cost (Annex C).
fn choose_ctx_base(hist: &[[u64; NUM_TOKENS]]) -> u8 {
    let mut best = (f64::INFINITY, 0u32);
    for base in 0..=MAX_CTX_BASE {
        let mut merged = vec![[0u64; NUM_TOKENS]; NUM_LEVEL_CONTEXTS];
        for (class, h) in hist.iter().enumerate() {
            let ctx = if class == 0 {
                0
            } else {
                1 + ((class as u32 - 1).saturating_sub(base)).min(NUM_LEVEL_CONTEXTS as u32 - 2)
                    as usize
            };
            for (m, &c) in merged[ctx].iter_mut().zip(h) {
                *m += c;
            }
        }
        let cost: f64 = merged.iter().map(|c| table_cost(c)).sum();
        if cost < best.0 {
            best = (cost, base);
        }
    }
    best.1 as u8
}

struct SymbolizedSlice {
    symbols: Vec<Symbol>,
    raw: Vec<u8>,
}

fn symbolize(
    t: &LevelTensor<'_>,
    geometry: &Geometry,
    ctx_base: u32,
    first_row: usize,
    rows: usize,
) -> SymbolizedSlice {
    let w = geometry.width;
    let mut symbols = Vec::with_capacity(rows * w);
    let mut raw = Vec::new();
    let mut bits = BitWriter::endian(&mut raw, BigEndian);
    let mut above_zero = false;
    for y in first_row..first_row + rows {
        let has_above = y > first_row && y % geometry.height != 0;
        let row = &t.levels[y * w..(y + 1) * w];
        let zero = row.iter().all(|&l| l == 0);
        symbols.push(Symbol {
            table: row_context(has_above, above_zero) as u8,
            value: if zero { ROW_ZERO } else { ROW_CODED },
        });
        above_zero = zero;
        if zero {
            continue;
        }
        let mut left = 0u32;
        for (x, &l) in row.iter().enumerate() {
            let above = if has_above {
                t.levels[(y - 1) * w + x].unsigned_abs()
            } else {
                0
            };
            let m = l.unsigned_abs();
            let (token, n, extra) = token_of(m);
            symbols.push(Symbol {
                table: (FIRST_TOKEN_TABLE + level_context(left, above, ctx_base)) as u8,
                value: token as u8,
            });
            if n > 0 {
                bits.write_var::<u32>(n, extra).expect("writing to a Vec");
            }
            if t.signed && m != 0 {
                bits.write_bit(l < 0).expect("writing to a Vec");
            }
            left = m;
        }
    }
    bits.byte_align().expect("writing to a Vec");
    SymbolizedSlice { symbols, raw }
}

/// Codes the levels as a quantized_payload(). Deterministic; `threads` does not change the bytes.
pub fn encode_levels(t: &LevelTensor<'_>, threads: usize) -> Vec<u8> {
    let geometry = Geometry::of(t.shape);
    let rps = slice_rows(&geometry);
    let ctx_base = choose_ctx_base(&class_histogram(t.levels, &geometry, rps as usize));
    let header = QuantHeader {
        quantizer_type: match t.quantizer {
            QuantizerSyntax::Uniform(_) => dfc_decoder::quant::syntax::QUANTIZER_UNIFORM,
            QuantizerSyntax::Codebook(_) => dfc_decoder::quant::syntax::QUANTIZER_CODEBOOK,
        },
        level_bits: t.level_bits,
        signed_levels: t.signed,
        per_channel: t.per_channel,
        reserved_zero_6bits: 0,
        level_ctx_base: ctx_base,
        rows_per_slice: rps,
    };
    let rps = rps as usize;
    let ranges: Vec<(usize, usize)> = (0..geometry.rows)
        .step_by(rps)
        .map(|first| (first, rps.min(geometry.rows - first)))
        .collect();
    let slices = parallel_map(&ranges, threads, |&(first, rows)| {
        symbolize(t, &geometry, u32::from(ctx_base), first, rows)
    });
    let alphabet = |table: usize| {
        if table < FIRST_TOKEN_TABLE {
            NUM_ROW_KINDS
        } else {
            NUM_TOKENS
        }
    };
    let mut counts: Vec<Vec<u64>> = (0..NUM_TABLES).map(|t| vec![0; alphabet(t)]).collect();
    for slice in &slices {
        for s in &slice.symbols {
            counts[s.table as usize][s.value as usize] += 1;
        }
    }
    let freq: Vec<Vec<u32>> = counts.iter().map(|c| normalize(c)).collect();
    debug_assert!(freq.iter().all(|f| f.iter().sum::<u32>() % PROB_SCALE == 0));
    let cum = cumulative(&freq);
    let coded: Vec<Vec<u8>> =
        parallel_map(&slices, threads, |s| rans_encode(&s.symbols, &freq, &cum));

    let mut out = Vec::new();
    {
        let mut w = BitWriter::endian(&mut out, BigEndian);
        header.to_writer(&mut w).expect("writing to a Vec");
        match t.quantizer {
            QuantizerSyntax::Uniform(p) => p.to_writer(&mut w),
            QuantizerSyntax::Codebook(c) => c.to_writer(&mut w),
        }
        .expect("writing to a Vec");
        write_tables(&mut w, &frequency_tables(&freq)).expect("writing to a Vec");
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

/// Bit costs of tokens per context, from a first pass over the levels (for RDO quantization):
/// `cost[ctx][token]` in bits, with the context base chosen for these levels.
pub struct TokenCosts {
    pub ctx_base: u32,
    pub cost: Vec<[f32; NUM_TOKENS]>,
}

impl TokenCosts {
    pub fn of(levels: &[i32], shape: &[u32]) -> Self {
        let geometry = Geometry::of(shape);
        let rps = slice_rows(&geometry) as usize;
        let hist = class_histogram(levels, &geometry, rps);
        let ctx_base = u32::from(choose_ctx_base(&hist));
        let mut merged = vec![[0u64; NUM_TOKENS]; NUM_LEVEL_CONTEXTS];
        for (class, h) in hist.iter().enumerate() {
            let ctx = if class == 0 {
                0
            } else {
                1 + ((class as u32 - 1).saturating_sub(ctx_base)).min(NUM_LEVEL_CONTEXTS as u32 - 2)
                    as usize
            };
            for (m, &c) in merged[ctx].iter_mut().zip(h) {
                *m += c;
            }
        }
        let cost = merged
            .iter()
            .map(|counts| {
                let total: u64 = counts.iter().sum::<u64>() + NUM_TOKENS as u64;
                let mut c = [0f32; NUM_TOKENS];
                for (ci, &n) in c.iter_mut().zip(counts) {
                    // One pseudo-count per token keeps unseen tokens finite.
                    *ci = (total as f64 / (n + 1) as f64).log2() as f32;
                }
                c
            })
            .collect();
        TokenCosts { ctx_base, cost }
    }
}
