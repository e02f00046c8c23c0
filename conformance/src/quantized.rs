//! Hand-built payloads of the quantized method (spec clauses 6.10 and 8.3.7) for the cases the
//! reference encoder cannot make (chosen header values, parameters and levels), and their
//! reconstructions.
//!
//! Both are written from the spec, independently of the reference encoder and decoder: the
//! level coder here has its own tokens, contexts, frequency normalization and rANS encoder, and
//! the reconstruction its own binary32 arithmetic and its own conversions to binary16 and
//! bfloat16 (round to nearest, ties to even). The generator then checks that the reference
//! decoder outputs exactly these bytes, so a case made here checks the decoder against a second
//! reading of the spec, not against itself. The map prediction of clause 8.3.7.3 (the MED
//! prediction, the activity and ResidualCtx, the residual tokens and their sign bits) and the
//! inter prediction of clauses 8.3.7.3 and 8.7 (the residual against the co-located level of a
//! reference tensor, InterCtx from the neighbours' residuals, the inter_token tables 35 to 50)
//! are written here from the spec text too. Only the syntax structures (quant_header(),
//! uniform_parameters(), codebook(), map_predictors(), inter_parameters(), frequency_table(),
//! slice_index()) are the decoder's, to write the fields.

use bitstream_io::{BigEndian, BitWrite, BitWriter};
use dfc_decoder::native::syntax::{write_tables, FrequencyTable, SliceIndex};
use dfc_decoder::quant::syntax::{
    Codebook, InterParameters, MapPredictors, QuantHeader, UniformParameters,
};
use dfc_decoder::syntax::SyntaxStructure;
use dfc_decoder::ElementType;

/// 2^12, the sum of the frequencies of a table.
const SCALE: u32 = 4096;
/// Tables: 3 of `row_kind`, then 16 of `level_token`, then (with map prediction) 16 of
/// `residual_token`, then (with an inter map) 16 of `inter_token` (Table 8-4).
const ROW_TABLES: usize = 3;
const TOKEN_TABLES: usize = 16;
const RESIDUAL_TABLES: usize = 16;
const INTER_TABLES: usize = 16;
/// The first inter_token table (Table 8-4).
pub const FIRST_INTER_TABLE: usize = ROW_TABLES + TOKEN_TABLES + RESIDUAL_TABLES;
const TOKENS: usize = 40;
/// `map_predictor` values (Table 7-8).
pub const NONE: u8 = 0;
pub const MED: u8 = 1;
pub const INTER: u8 = 2;

/// Inter prediction of a payload (clauses 8.3.7.3 and 8.7): inter_parameters() and the levels
/// of the reference tensor it selects.
#[derive(Clone, Debug)]
pub struct Inter {
    pub ref_distance: u8,
    pub inter_ctx_base: u8,
    /// The levels of the reference tensor (entry `ref_distance` - 1 of the layer's reference
    /// list), one per element in C order.
    pub reference: Vec<i32>,
}

/// The quantizer part of the payload, as bit patterns (so that invalid values can be written).
#[derive(Clone, Debug, PartialEq)]
pub enum Params {
    /// (step, offset) per parameter set.
    Uniform(Vec<(u32, u32)>),
    /// The codewords.
    Codebook(Vec<u32>),
}

/// A quantized payload to write: header, parameters, the tensor's shape and one level per
/// element (C order).
///
/// A level outside the level range of clause 8.3.7.2 (for an invalid case) is coded as it is,
/// and the neighbours of the following elements are the nearest level of the range, as the
/// decoder of clause 8.3.7.6 has them.
#[derive(Clone, Debug)]
pub struct QuantPayload {
    pub header: QuantHeader,
    pub params: Params,
    pub shape: Vec<u32>,
    pub levels: Vec<i32>,
    /// Code rows whose levels are all 0 as coded rows of zero tokens instead of zero rows.
    pub code_zero_rows: bool,
    /// `map_predictor` of each map, written when `header.map_prediction` is 1. Maps whose
    /// predictor is 1 (med) are coded as MED residuals, maps whose predictor is 2 (inter) as
    /// residuals against `inter`'s reference; the value 3 codes the map's levels as they are
    /// (for invalid cases).
    pub map_predictors: Vec<u8>,
    /// inter_parameters() and the reference levels, needed when a map_predictor is 2.
    pub inter: Option<Inter>,
}

/// A header with the given fields, reserved bits 0.
pub fn header(
    quantizer_type: u8,
    level_bits: u8,
    signed_levels: bool,
    per_channel: bool,
    level_ctx_base: u8,
    rows_per_slice: u32,
) -> QuantHeader {
    QuantHeader {
        quantizer_type,
        level_bits,
        signed_levels,
        per_channel,
        map_prediction: false,
        reserved_zero_5bits: 0,
        residual_ctx_base: 0,
        level_ctx_base,
        rows_per_slice,
    }
}

/// The parts of a written payload, to be changed by invalid cases before [`Parts::to_bytes`].
#[derive(Clone, Debug)]
pub struct Parts {
    pub header: QuantHeader,
    pub params: Params,
    /// map_predictors() (present when `header.map_prediction` is 1).
    pub map_predictors: Option<MapPredictors>,
    /// inter_parameters() (present when a map_predictor is 2).
    pub inter: Option<InterParameters>,
    /// The 19 (35 with map prediction, 51 with an inter map) frequency tables, in payload order.
    pub tables: Vec<FrequencyTable>,
    /// (rans_data, raw_data) of each slice.
    pub slices: Vec<(Vec<u8>, Vec<u8>)>,
}

impl Parts {
    /// quant_header(), the parameters and map_predictors().
    pub fn head_bytes(&self) -> Vec<u8> {
        let mut out = self.header.to_bytes();
        match &self.params {
            Params::Uniform(p) => out.extend(UniformParameters { params: p.clone() }.to_bytes()),
            Params::Codebook(c) => out.extend(
                Codebook {
                    codewords: c.clone(),
                }
                .to_bytes(),
            ),
        }
        if let Some(m) = &self.map_predictors {
            out.extend(m.to_bytes());
        }
        if let Some(i) = &self.inter {
            out.extend(i.to_bytes());
        }
        out
    }

    /// The payload up to the slice index (the tables end on a byte boundary).
    pub fn table_bytes(&self) -> Vec<u8> {
        let mut out = self.head_bytes();
        let mut w = BitWriter::endian(&mut out, BigEndian);
        write_tables(&mut w, &self.tables).expect("in memory");
        out
    }

    /// The whole payload, with the slice index listing the slices as they are.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.table_bytes();
        out.extend(
            SliceIndex {
                slices: self
                    .slices
                    .iter()
                    .map(|(r, w)| (r.len() as u32, w.len() as u32))
                    .collect(),
            }
            .to_bytes(),
        );
        for (rans, raw) in &self.slices {
            out.extend_from_slice(rans);
            out.extend_from_slice(raw);
        }
        out
    }
}

/// W, H and NumRows of clause 8.3.6.1.
fn geometry(shape: &[u32]) -> (usize, usize, usize) {
    let n: usize = shape.iter().map(|&d| d as usize).product();
    let w = *shape.last().expect("rank 1 to 4") as usize;
    let h = if shape.len() >= 2 {
        shape[shape.len() - 2] as usize
    } else {
        1
    };
    (w, h, n / w)
}

/// The token of a magnitude, its number of extra bits and the extra bits (clause 8.3.7.4).
pub fn token(m: u32) -> (usize, u32, u32) {
    if m < 16 {
        return (m as usize, 0, 0);
    }
    let n = 31 - m.leading_zeros();
    let t = 16 + 2 * (n - 4) + ((m >> (n - 1)) & 1);
    (t as usize, n - 1, m & ((1 << (n - 1)) - 1))
}

/// HalfOctave(s) of clause 8.3.7.3 (s at least 1).
fn half_octave(s: u32) -> u32 {
    let n = 31 - s.leading_zeros();
    if s == 1 {
        0
    } else {
        2 * n - 1 + ((s >> (n - 1)) & 1)
    }
}

/// LevelCtx (and, from the activity, ResidualCtx) of clause 8.3.7.3.
fn level_ctx(s: u32, base: u8) -> usize {
    if s == 0 {
        return 0;
    }
    1 + (half_octave(s).saturating_sub(u32::from(base))).min(14) as usize
}

/// The prediction P of the median edge detector (clause 8.3.7.3), and which of its three cases
/// gave it (0: AL >= Max(L, A), 1: AL <= Min(L, A), 2: otherwise).
pub fn med(l: i32, a: i32, al: i32) -> (i32, usize) {
    if al >= l.max(a) {
        (l.min(a), 0)
    } else if al <= l.min(a) {
        (l.max(a), 1)
    } else {
        (l + a - al, 2)
    }
}

/// The activity D = |L - AL| + |A - AL| + |AR - A| of clause 8.3.7.3.
fn activity(l: i32, a: i32, al: i32, ar: i32) -> u32 {
    l.abs_diff(al) + a.abs_diff(al) + ar.abs_diff(a)
}

/// The level range of clause 8.3.7.2 (inclusive), B clamped to 1..16 so that a header that is
/// invalid anyway still gives a range.
pub fn level_range(header: &QuantHeader, params: &Params) -> (i32, i32) {
    let b = u32::from(header.level_bits.clamp(1, 16));
    match params {
        Params::Uniform(_) if header.signed_levels => (-(1 << (b - 1)), (1 << (b - 1)) - 1),
        Params::Uniform(_) => (0, (1 << b) - 1),
        Params::Codebook(c) => (0, ((1i64 << b) - 1).min(c.len() as i64 - 1) as i32),
    }
}

/// Frequencies summing to 4096 for the counts of a table (every present symbol at least 1;
/// the most frequent symbol absorbs the rounding).
fn normalize(counts: &[u64]) -> Vec<u32> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return vec![0; counts.len()];
    }
    let mut f: Vec<u32> = counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0
            } else {
                ((c * u64::from(SCALE) / total) as u32).max(1)
            }
        })
        .collect();
    loop {
        let sum: u32 = f.iter().sum();
        if sum == SCALE {
            return f;
        }
        let top = (0..f.len())
            .max_by_key(|&i| (f[i], usize::MAX - i))
            .expect("a symbol");
        if sum < SCALE {
            f[top] += SCALE - sum;
        } else {
            f[top] -= (sum - SCALE).min(f[top] - 1);
        }
    }
}

/// rANS encoding of (table, symbol) pairs: run backwards from the final state 2^16, so that the
/// decoder of clause 8.3.6.5 meets the words in order and ends in state 2^16.
fn rans(symbols: &[(usize, usize)], freq: &[Vec<u32>]) -> Vec<u8> {
    let cum: Vec<Vec<u32>> = freq
        .iter()
        .map(|f| {
            f.iter()
                .scan(0, |a, &x| {
                    let c = *a;
                    *a += x;
                    Some(c)
                })
                .collect()
        })
        .collect();
    let mut x: u64 = 1 << 16;
    let mut words = Vec::new();
    for &(t, s) in symbols.iter().rev() {
        let f = u64::from(freq[t][s]);
        assert!(f > 0, "symbol {s} of table {t} has no frequency");
        if x >= (1 << 20) * f {
            words.push(x as u16);
            x >>= 16;
        }
        x = (x / f) * u64::from(SCALE) + x % f + u64::from(cum[t][s]);
    }
    let mut out = (x as u32).to_le_bytes().to_vec();
    for w in words.iter().rev() {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out
}

/// The (table, symbol) pairs and the raw bytes of a slice.
type CodedSlice = (Vec<(usize, usize)>, Vec<u8>);

/// How an element is coded as a MED residual (see [`QuantPayload::med_elements`]).
#[derive(Clone, Copy, Debug)]
pub struct MedElement {
    /// The case of the MED prediction, as [`med`] numbers them.
    pub case: usize,
    /// The last element of a row with a row above whose level A is not 0, so that AR = 0
    /// (past the row end) adds |A| to the activity.
    pub row_end: bool,
    /// q - P.
    pub residual: i32,
    /// ResidualCtx.
    pub ctx: usize,
}

/// How an element of an inter map is coded (see [`QuantPayload::inter_elements`]).
#[derive(Clone, Copy, Debug)]
pub struct InterElement {
    /// R, the level of the reference tensor at the element's position.
    pub reference: i32,
    /// q - R.
    pub residual: i32,
    /// E = 2 × (|L − RL| + |A − RA|) + |R|.
    pub change: u32,
    /// InterCtx.
    pub ctx: usize,
}

/// A predicted element, as [`QuantPayload::code`] meets it.
enum Seen {
    Med(MedElement),
    Inter(InterElement),
}

impl QuantPayload {
    /// Whether a map is inter predicted (AnyInter of clause 6.10).
    pub fn any_inter(&self) -> bool {
        self.header.map_prediction && self.map_predictors.contains(&INTER)
    }

    /// How each element coded as an inter residual is coded, in coding order.
    pub fn inter_elements(&self) -> Vec<InterElement> {
        let mut out = Vec::new();
        self.code(|e| {
            if let Seen::Inter(e) = e {
                out.push(e)
            }
        });
        out
    }

    /// The `map_predictor` of map `k` as the decoder infers it: 0 without map prediction.
    fn predictor(&self, k: usize) -> u8 {
        if self.header.map_prediction {
            self.map_predictors[k]
        } else {
            NONE
        }
    }

    /// How each element coded as a MED residual is coded, in coding order.
    pub fn med_elements(&self) -> Vec<MedElement> {
        let mut out = Vec::new();
        self.code(|e| {
            if let Seen::Med(e) = e {
                out.push(e)
            }
        });
        out
    }

    /// Runs clause 8.3.7.6 forwards over the levels: per slice, the (table, symbol) pairs and
    /// the raw bits. `seen` is told of every MED and inter residual.
    fn code(&self, mut seen: impl FnMut(Seen)) -> Vec<CodedSlice> {
        let (w, h, rows) = geometry(&self.shape);
        assert_eq!(self.levels.len(), w * rows, "one level per element");
        if self.header.map_prediction {
            assert_eq!(
                self.map_predictors.len(),
                rows / h,
                "one map_predictor per map"
            );
        }
        let (min, max) = level_range(&self.header, &self.params);
        let inter = self.any_inter().then(|| {
            let inter = self
                .inter
                .as_ref()
                .expect("an inter map needs inter_parameters and a reference");
            assert_eq!(
                inter.reference.len(),
                self.levels.len(),
                "a reference level per element"
            );
            inter
        });
        let rps = self.header.rows_per_slice as usize;
        let mut slices = Vec::new();
        let mut first = 0;
        while first < rows {
            let end = rows.min(first.saturating_add(rps));
            let mut symbols = Vec::new();
            let mut raw = Vec::new();
            {
                let mut bits = BitWriter::endian(&mut raw, BigEndian);
                let mut above_zero = false;
                // The decoded levels of the row above (0 without a row above) and of this row.
                let mut above = vec![0i32; w];
                let mut current = vec![0i32; w];
                for y in first..end {
                    let has_above = y > first && y % h != 0;
                    if !has_above {
                        above.fill(0);
                    }
                    let row = &self.levels[y * w..(y + 1) * w];
                    let zero = !self.code_zero_rows && row.iter().all(|&q| q == 0);
                    let ctx = match (has_above, above_zero) {
                        (false, _) => 0,
                        (true, false) => 1,
                        (true, true) => 2,
                    };
                    symbols.push((ctx, usize::from(zero)));
                    above_zero = zero;
                    if zero {
                        current.fill(0);
                        std::mem::swap(&mut above, &mut current);
                        continue;
                    }
                    let predictor = self.predictor(y / h);
                    let predicted = predictor == MED;
                    for x in 0..w {
                        // Neighbours of clause 8.3.7.3 (0 where absent).
                        let l = if x > 0 { current[x - 1] } else { 0 };
                        let a = above[x];
                        let al = if x > 0 { above[x - 1] } else { 0 };
                        let ar = if x + 1 < w { above[x + 1] } else { 0 };
                        let q = row[x];
                        if predictor == INTER {
                            let inter = inter.expect("AnyInter");
                            let reference = &inter.reference;
                            let o = y * w + x;
                            let r_level = reference[o];
                            // E: the residuals of the left and above neighbours, each against
                            // the reference level at its own position; a missing one gives 0.
                            let left = if x > 0 {
                                l.abs_diff(reference[o - 1])
                            } else {
                                0
                            };
                            let up = if has_above {
                                a.abs_diff(reference[o - w])
                            } else {
                                0
                            };
                            // E = 2 × (|L − RL| + |A − RA|) + |R|.
                            let change = 2 * (left + up) + r_level.unsigned_abs();
                            let ctx = level_ctx(change, inter.inter_ctx_base);
                            let r = q - r_level;
                            let m = r.unsigned_abs();
                            let (t, n, e) = token(m);
                            seen(Seen::Inter(InterElement {
                                reference: r_level,
                                residual: r,
                                change,
                                ctx,
                            }));
                            symbols.push((FIRST_INTER_TABLE + ctx, t));
                            if n > 0 {
                                bits.write_var(n, e).expect("in memory");
                            }
                            if m != 0 {
                                bits.write_bit(r < 0).expect("in memory");
                            }
                        } else if predicted {
                            let (p, case) = med(l, a, al);
                            let r = q - p;
                            let m = r.unsigned_abs();
                            let (t, n, e) = token(m);
                            let ctx =
                                level_ctx(activity(l, a, al, ar), self.header.residual_ctx_base);
                            seen(Seen::Med(MedElement {
                                case,
                                row_end: has_above && x + 1 == w && a != 0,
                                residual: r,
                                ctx,
                            }));
                            symbols.push((ROW_TABLES + TOKEN_TABLES + ctx, t));
                            if n > 0 {
                                bits.write_var(n, e).expect("in memory");
                            }
                            // The sign bit of a residual is always there.
                            if m != 0 {
                                bits.write_bit(r < 0).expect("in memory");
                            }
                        } else {
                            let m = q.unsigned_abs();
                            let (t, n, e) = token(m);
                            symbols.push((
                                ROW_TABLES
                                    + level_ctx(
                                        l.unsigned_abs() + a.unsigned_abs(),
                                        self.header.level_ctx_base,
                                    ),
                                t,
                            ));
                            if n > 0 {
                                bits.write_var(n, e).expect("in memory");
                            }
                            if self.header.signed_levels && m != 0 {
                                bits.write_bit(q < 0).expect("in memory");
                            } else {
                                assert!(q >= 0, "a negative level needs signed_levels");
                            }
                        }
                        // The decoder goes on with the nearest level of the range.
                        current[x] = q.clamp(min, max);
                    }
                    std::mem::swap(&mut above, &mut current);
                }
                bits.byte_align().expect("in memory");
            }
            slices.push((symbols, raw));
            first = end;
        }
        slices
    }

    /// Codes the levels (clause 8.3.7.6 run forwards to collect the symbols and raw bits).
    pub fn parts(&self) -> Parts {
        let slices = self.code(|_| {});
        let num_tables = ROW_TABLES
            + TOKEN_TABLES
            + if self.header.map_prediction {
                RESIDUAL_TABLES
            } else {
                0
            }
            + if self.any_inter() { INTER_TABLES } else { 0 };
        let alphabet = |t: usize| if t < ROW_TABLES { 2 } else { TOKENS };
        let mut counts: Vec<Vec<u64>> = (0..num_tables).map(|t| vec![0; alphabet(t)]).collect();
        for (symbols, _) in &slices {
            for &(t, s) in symbols {
                counts[t][s] += 1;
            }
        }
        let freq: Vec<Vec<u32>> = counts.iter().map(|c| normalize(c)).collect();
        let tables = freq
            .iter()
            .map(|f| FrequencyTable {
                entries: f
                    .iter()
                    .enumerate()
                    .filter(|(_, &x)| x > 0)
                    .map(|(s, &x)| (s as u16, x as u16))
                    .collect(),
            })
            .collect();
        Parts {
            header: self.header.clone(),
            params: self.params.clone(),
            map_predictors: self.header.map_prediction.then(|| MapPredictors {
                predictors: self.map_predictors.clone(),
                alignment: 0,
            }),
            inter: self.any_inter().then(|| {
                let inter = self.inter.as_ref().expect("AnyInter");
                InterParameters {
                    ref_distance: inter.ref_distance,
                    inter_ctx_base: inter.inter_ctx_base,
                }
            }),
            tables,
            slices: slices
                .iter()
                .map(|(symbols, raw)| (rans(symbols, &freq), raw.clone()))
                .collect(),
        }
    }

    /// The method payload.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.parts().to_bytes()
    }

    /// The binary32 reconstruction of each element (clause 8.3.7.5).
    pub fn values(&self) -> Vec<f32> {
        let n = self.levels.len();
        let per_set = n / self.shape[0] as usize;
        self.levels
            .iter()
            .enumerate()
            .map(|(o, &q)| match &self.params {
                Params::Uniform(p) => {
                    let set = if self.header.per_channel {
                        o / per_set
                    } else {
                        0
                    };
                    let (step, offset) = (f32::from_bits(p[set].0), f32::from_bits(p[set].1));
                    // Two binary32 operations, each rounded to nearest even; Rust does not
                    // contract them into a fused multiply-add.
                    let product = q as f32 * step;
                    offset + product
                }
                Params::Codebook(c) => f32::from_bits(c[q as usize]),
            })
            .collect()
    }

    /// The decoded tensor's canonical bytes for a layer of type `t`.
    pub fn reconstruct(&self, t: ElementType) -> Vec<u8> {
        self.values()
            .into_iter()
            .flat_map(|v| match t {
                ElementType::Float32 => v.to_bits().to_le_bytes().to_vec(),
                ElementType::Float16 => to_f16(v).to_le_bytes().to_vec(),
                ElementType::BFloat16 => to_bf16(v).to_le_bytes().to_vec(),
                _ => panic!("the quantized method codes float layers"),
            })
            .collect()
    }
}

/// binary32 to binary16, round to nearest, ties to even (IEEE 754 convertFormat); values from
/// 65520 up round to infinity. Not for NaNs (no reconstruction is a NaN).
pub fn to_f16(v: f32) -> u16 {
    assert!(!v.is_nan());
    let bits = v.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let a = f64::from(v.abs());
    if a >= 65520.0 {
        return sign | 0x7C00;
    }
    if a < f64::powi(2.0, -14) {
        // Subnormal (or zero): a multiple of 2^-24; 1024 × 2^-24 is the smallest normal.
        let m = (a * f64::powi(2.0, 24)).round_ties_even();
        return sign | m as u16;
    }
    // A normal binary32 value: its exponent, and the significand scaled to 10 fraction bits.
    let mut e = ((bits >> 23) & 0xFF) as i32 - 127;
    let mut m = (a / f64::powi(2.0, e - 10)).round_ties_even() as u32;
    if m == 2048 {
        e += 1;
        m = 1024;
    }
    assert!(e <= 15, "below 65520");
    sign | (((e + 15) as u16) << 10) | (m - 1024) as u16
}

/// binary32 to bfloat16, round to nearest, ties to even; beyond the largest finite bfloat16,
/// infinity. Not for NaNs.
pub fn to_bf16(v: f32) -> u16 {
    assert!(!v.is_nan());
    let b = v.to_bits();
    let (upper, lower) = (b >> 16, b & 0xFFFF);
    let up = lower > 0x8000 || (lower == 0x8000 && upper & 1 == 1);
    (upper + u32::from(up)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_to_nearest_even() {
        assert_eq!(to_f16(1.0), 0x3C00);
        assert_eq!(to_f16(-0.0), 0x8000);
        assert_eq!(to_f16(1.0 + 1.0 / 2048.0), 0x3C00); // tie, down to even
        assert_eq!(to_f16(1.0 + 3.0 / 2048.0), 0x3C02); // tie, up to even
        assert_eq!(to_f16(65504.0), 0x7BFF);
        assert_eq!(to_f16(65519.996), 0x7BFF);
        assert_eq!(to_f16(65520.0), 0x7C00);
        assert_eq!(to_f16(f32::INFINITY), 0x7C00);
        assert_eq!(to_f16(f32::powi(2.0, -25)), 0x0000); // tie, down to 0
        assert_eq!(to_f16(3.0 * f32::powi(2.0, -25)), 0x0002); // tie, up
        assert_eq!(to_f16(-f32::powi(2.0, -14)), 0x8400);
        assert_eq!(to_f16(2047.0 * f32::powi(2.0, -25)), 0x0400); // rounds up to normal
        assert_eq!(to_bf16(1.0 + 1.0 / 256.0), 0x3F80);
        assert_eq!(to_bf16(1.0 + 3.0 / 256.0), 0x3F82);
        assert_eq!(to_bf16(f32::MAX), 0x7F80);
        assert_eq!(to_bf16(-f32::MAX), 0xFF80);
        for bits in (0..0x7F80_0000u32).step_by(0x0001_2345) {
            let v = f32::from_bits(bits);
            assert_eq!(to_f16(v), half::f16::from_f32(v).to_bits(), "{bits:08x}");
            assert_eq!(to_bf16(v), half::bf16::from_f32(v).to_bits(), "{bits:08x}");
        }
    }

    #[test]
    fn tokens() {
        assert_eq!(token(15), (15, 0, 0));
        assert_eq!(token(16), (16, 3, 0));
        assert_eq!(token(24), (17, 3, 0));
        assert_eq!(token(65535), (39, 14, 0x3FFF));
        assert_eq!(token(32768), (38, 14, 0));
        assert_eq!(level_ctx(0, 0), 0);
        assert_eq!(level_ctx(1, 0), 1);
        assert_eq!(level_ctx(3, 0), 3);
        assert_eq!(level_ctx(1 << 16, 0), 15);
        assert_eq!(level_ctx(65535, 255), 1);
    }

    #[test]
    fn inter_residuals_and_contexts() {
        // One map [2, 3]: inter against a reference; E from the left and above residuals.
        let reference = vec![5, 0, 9, 1, 2, 3];
        let levels = vec![5, 3, 9, 40, 2, 0];
        let mut p = QuantPayload {
            header: QuantHeader {
                map_prediction: true,
                ..header(0, 8, true, false, 0, 8)
            },
            params: Params::Uniform(vec![(0x3F80_0000, 0)]),
            shape: vec![2, 3],
            levels,
            code_zero_rows: false,
            map_predictors: vec![INTER],
            inter: Some(Inter {
                ref_distance: 1,
                inter_ctx_base: 0,
                reference,
            }),
        };
        let e = p.inter_elements();
        let residuals: Vec<i32> = e.iter().map(|x| x.residual).collect();
        assert_eq!(residuals, [0, 3, 0, 39, 0, -3]);
        // E = 2 × (left + above residuals) + |R|: 0 + 5; 2×0 + 0; 2×3 + 9; 2×0 + 1;
        // 2×(39 + 3) + 2; 2×(0 + 0) + 3.
        let changes: Vec<u32> = e.iter().map(|x| x.change).collect();
        assert_eq!(changes, [5, 0, 15, 1, 86, 3]);
        assert_eq!(e[4].ctx, 1 + half_octave(86) as usize);
        // 3 + 16 + 16 + 16 tables, and inter_parameters() after map_predictors().
        let parts = p.parts();
        assert_eq!(parts.tables.len(), 51);
        let head = parts.head_bytes();
        assert_eq!(&head[head.len() - 3..], &[0x80, 1, 0]);
        p.map_predictors = vec![MED];
        assert_eq!(p.parts().tables.len(), 35);
    }

    #[test]
    fn med_and_activity() {
        // HalfOctave as clause 8.3.7.3 lists it.
        let classes: Vec<u32> = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12].map(half_octave).to_vec();
        assert_eq!(classes, [0, 1, 2, 3, 3, 4, 4, 5, 5, 6]);
        assert_eq!(med(5, 9, 12), (5, 0));
        assert_eq!(med(5, 9, 9), (5, 0));
        assert_eq!(med(5, 9, 2), (9, 1));
        assert_eq!(med(5, 9, 5), (9, 1));
        assert_eq!(med(5, 9, 7), (7, 2));
        assert_eq!(med(-32768, 0, 0), (-32768, 0));
        assert_eq!(activity(1, 2, 3, 4), 2 + 1 + 2);
        assert_eq!(activity(-32768, 32767, 0, -32768), 32768 + 32767 + 65535);
        let range = |qt, b, s, params| level_range(&header(qt, b, s, false, 0, 1), &params);
        assert_eq!(range(0, 3, true, Params::Uniform(vec![])), (-4, 3));
        assert_eq!(range(0, 16, false, Params::Uniform(vec![])), (0, 65535));
        assert_eq!(range(1, 3, false, Params::Codebook(vec![0; 5])), (0, 4));
        assert_eq!(range(1, 2, false, Params::Codebook(vec![0; 5])), (0, 3));
    }
}
