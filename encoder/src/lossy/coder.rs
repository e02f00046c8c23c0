//! Entropy coding of quantization levels into a quantized_payload() (spec clauses 6.10 and
//! 8.3.7; encoder choices in Annex C): per map, levels coded as they are or as residuals of the
//! MED prediction; tokens per context, extra and sign bits raw, slices coded with rANS.
//! Contexts, predictions and tokens come from the decoder's own model.

use crate::rans::{cumulative, frequency_tables, normalize, parallel_map, rans_encode, Symbol};
use bitstream_io::{BigEndian, BitWrite, BitWriter, ToBitStream};
use dfc_decoder::native::model::{
    row_context, Geometry, NUM_ROW_CONTEXTS, NUM_ROW_KINDS, ROW_CODED, ROW_ZERO,
};
use dfc_decoder::native::syntax::{write_tables, SliceIndex};
use dfc_decoder::quant::model::{
    half_octave, med_prediction, token_of, NUM_LEVEL_CONTEXTS, NUM_TOKENS, PREDICTOR_INTER,
    PREDICTOR_MED, PREDICTOR_NONE,
};
use dfc_decoder::quant::syntax::{
    Codebook, InterParameters, MapPredictors, QuantHeader, UniformParameters,
};

/// Tables in payload order: row kinds, level tokens, residual tokens, inter tokens (Table 8-4).
const FIRST_TOKEN_TABLE: usize = NUM_ROW_CONTEXTS;
const FIRST_RESIDUAL_TABLE: usize = FIRST_TOKEN_TABLE + NUM_LEVEL_CONTEXTS;
const FIRST_INTER_TABLE: usize = FIRST_RESIDUAL_TABLE + NUM_LEVEL_CONTEXTS;
/// Largest useful context base: half-octave classes of a context value below 2^19.
const MAX_CTX_BASE: u32 = 36;
/// Context classes: 0 for a context value of 0, else 1 + HalfOctave (clause 8.3.7.3).
const NUM_CLASSES: usize = MAX_CTX_BASE as usize + 2;

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
    // Whole maps while they are small, else rows; in units of half the target, as before the
    // native method balanced its slices, so that quantized payloads stay the same.
    const UNIT: usize = SLICE_TARGET_LEVELS / 2;
    let map = geometry.width * geometry.height;
    let rows = if map <= UNIT {
        (UNIT / map.max(1)).max(1) * geometry.height
    } else {
        UNIT.div_ceil(geometry.width.max(1))
    };
    (rows * 2)
        .clamp(1, geometry.rows.max(1))
        .min(u32::MAX as usize) as u32
}

/// The coding of one element by the decoder's model: its context class, its token and extra
/// bits, and whether a sign bit follows.
#[derive(Clone, Copy, Default)]
struct Coded {
    class: u8,
    token: u8,
    extra_bits: u8,
    sign: bool,
}

fn class_of(value: u32) -> u8 {
    if value == 0 {
        0
    } else {
        (1 + half_octave(value) as usize).min(NUM_CLASSES - 1) as u8
    }
}

/// LevelCtx or ResidualCtx of a class, for a context base (clause 8.3.7.3).
fn context_of_class(class: u8, base: u32) -> usize {
    if class == 0 {
        0
    } else {
        1 + (u32::from(class) - 1)
            .saturating_sub(base)
            .min(NUM_LEVEL_CONTEXTS as u32 - 2) as usize
    }
}

/// Every element coded every way: as a level (context from L + A), as the residual of the
/// MED prediction (context from the activity) and, with a reference, as the residual of the
/// co-located reference level (context from the neighbours' residuals). Elements of zero rows
/// are not coded.
struct BothWays {
    plain: Vec<Coded>,
    residual: Vec<Coded>,
    inter: Vec<Coded>,
    zero_row: Vec<bool>,
}

/// The levels above an element, left to right: above-left, above, above-right (0 if absent).
fn above_levels(t: &LevelTensor<'_>, w: usize, y: usize, x: usize, has_above: bool) -> [i32; 3] {
    if !has_above {
        return [0; 3];
    }
    let row = &t.levels[(y - 1) * w..y * w];
    [
        if x > 0 { row[x - 1] } else { 0 },
        row[x],
        if x + 1 < w { row[x + 1] } else { 0 },
    ]
}

fn code_both_ways(
    t: &LevelTensor<'_>,
    geometry: &Geometry,
    rows_per_slice: usize,
    reference: Option<&[i32]>,
) -> BothWays {
    let w = geometry.width;
    let n = geometry.rows * w;
    let (mut plain, mut residual) = (vec![Coded::default(); n], vec![Coded::default(); n]);
    let mut inter = if reference.is_some() {
        vec![Coded::default(); n]
    } else {
        Vec::new()
    };
    let mut zero_row = vec![false; geometry.rows];
    for y in 0..geometry.rows {
        let row = &t.levels[y * w..(y + 1) * w];
        zero_row[y] = row.iter().all(|&l| l == 0);
        if zero_row[y] {
            continue;
        }
        let has_above = y % rows_per_slice != 0 && y % geometry.height != 0;
        let mut left = 0i32;
        for (x, &l) in row.iter().enumerate() {
            let [al, a, ar] = above_levels(t, w, y, x, has_above);
            let m = l.unsigned_abs();
            let (token, extra_bits, _) = token_of(m);
            plain[y * w + x] = Coded {
                class: class_of(left.unsigned_abs() + a.unsigned_abs()),
                token: token as u8,
                extra_bits: extra_bits as u8,
                sign: t.signed && m != 0,
            };
            let r = l - med_prediction(left, a, al);
            let (token, extra_bits, _) = token_of(r.unsigned_abs());
            let activity = left.abs_diff(al) + a.abs_diff(al) + ar.abs_diff(a);
            residual[y * w + x] = Coded {
                class: class_of(activity),
                token: token as u8,
                extra_bits: extra_bits as u8,
                sign: r != 0,
            };
            if let Some(reference) = reference {
                let i = y * w + x;
                let r = l - reference[i];
                let left_residual = if x > 0 { left - reference[i - 1] } else { 0 };
                let above_residual = if has_above { a - reference[i - w] } else { 0 };
                let (token, extra_bits, _) = token_of(r.unsigned_abs());
                let change = 2 * (left_residual.unsigned_abs() + above_residual.unsigned_abs())
                    + reference[i].unsigned_abs();
                inter[i] = Coded {
                    class: class_of(change),
                    token: token as u8,
                    extra_bits: extra_bits as u8,
                    sign: r != 0,
                };
            }
            left = l;
        }
    }
    BothWays {
        plain,
        residual,
        inter,
        zero_row,
    }
}

type Histogram = Vec<[u64; NUM_TOKENS]>;

/// Token counts per class over the maps `chosen` selects.
fn class_histogram(coded: &[Coded], map_len: usize, chosen: impl Fn(usize) -> bool) -> Histogram {
    let mut hist = vec![[0u64; NUM_TOKENS]; NUM_CLASSES];
    for (m, map) in coded.chunks(map_len.max(1)).enumerate() {
        if chosen(m) {
            for c in map {
                hist[c.class as usize][c.token as usize] += 1;
            }
        }
    }
    hist
}

/// Ideal cost in bits of coding `counts` with a static table, plus the table's own size.
fn table_cost(counts: &[u64]) -> f64 {
    let total: u64 = counts.iter().sum();
    let mut bits = 9.0;
    for &c in counts.iter().filter(|&&c| c > 0) {
        bits += c as f64 * (total as f64 / c as f64).log2() + 14.0;
    }
    bits
}

/// Token counts per context for a context base.
fn merge(hist: &[[u64; NUM_TOKENS]], base: u32) -> Histogram {
    let mut merged = vec![[0u64; NUM_TOKENS]; NUM_LEVEL_CONTEXTS];
    for (class, h) in hist.iter().enumerate() {
        let ctx = context_of_class(class as u8, base);
        for (m, &c) in merged[ctx].iter_mut().zip(h) {
            *m += c;
        }
    }
    merged
}

/// The context base that minimizes the token cost (Annex C).
fn choose_ctx_base(hist: &[[u64; NUM_TOKENS]]) -> u32 {
    (0..=MAX_CTX_BASE)
        .map(|base| {
            let cost: f64 = merge(hist, base).iter().map(|c| table_cost(c)).sum();
            (cost, base)
        })
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(0, |(_, base)| base)
}

/// Bits of each token per context, from counts (one pseudo-count per token).
fn token_bits(merged: &[[u64; NUM_TOKENS]]) -> Vec<[f32; NUM_TOKENS]> {
    merged
        .iter()
        .map(|counts| {
            let total: u64 = counts.iter().sum::<u64>() + NUM_TOKENS as u64;
            let mut c = [0f32; NUM_TOKENS];
            for (ci, &n) in c.iter_mut().zip(counts) {
                *ci = (total as f64 / (n + 1) as f64).log2() as f32;
            }
            c
        })
        .collect()
}

/// Bits of a map's elements under the given token costs.
fn map_bits(map: &[Coded], bits: &[[f32; NUM_TOKENS]], base: u32) -> f64 {
    map.iter()
        .map(|c| {
            f64::from(bits[context_of_class(c.class, base)][c.token as usize])
                + f64::from(c.extra_bits)
                + f64::from(u8::from(c.sign))
        })
        .sum()
}

/// One way of coding the maps, with its token costs under the current statistics.
struct WayCost<'a> {
    predictor: u8,
    coded: &'a [Coded],
    bits: Vec<[f32; NUM_TOKENS]>,
    base: u32,
}

/// The predictor of each map (Annex C): the cheapest way to code it under the statistics of
/// the maps coded each way, refined twice. `allowed` lists the predictors that may be used.
fn choose_predictors(both: &BothWays, map_len: usize, num_maps: usize, allowed: &[u8]) -> Vec<u8> {
    let mut predictors = vec![PREDICTOR_NONE; num_maps];
    let ways: Vec<(u8, &[Coded])> = [
        (PREDICTOR_NONE, &both.plain[..]),
        (PREDICTOR_MED, &both.residual[..]),
        (PREDICTOR_INTER, &both.inter[..]),
    ]
    .into_iter()
    .filter(|(p, coded)| allowed.contains(p) && !coded.is_empty())
    .collect();
    if ways.len() < 2 || map_len == 0 {
        return predictors;
    }
    // First pass: every way's statistics over all maps; then over the maps that chose it.
    let mut chosen: Option<Vec<u8>> = None;
    for _ in 0..3 {
        let costs: Vec<WayCost<'_>> = ways
            .iter()
            .map(|&(predictor, coded)| {
                let hist = class_histogram(coded, map_len, |m| {
                    chosen.as_ref().is_none_or(|c| c[m] == predictor)
                });
                let base = choose_ctx_base(&hist);
                WayCost {
                    predictor,
                    coded,
                    bits: token_bits(&merge(&hist, base)),
                    base,
                }
            })
            .collect();
        for (m, best) in predictors.iter_mut().enumerate() {
            let range = m * map_len..(m + 1) * map_len;
            *best = costs
                .iter()
                .map(|w| {
                    (
                        map_bits(&w.coded[range.clone()], &w.bits, w.base),
                        w.predictor,
                    )
                })
                .min_by(|a, b| a.0.total_cmp(&b.0))
                .map_or(PREDICTOR_NONE, |(_, p)| p);
        }
        chosen = Some(predictors.clone());
    }
    predictors
}

struct SymbolizedSlice {
    symbols: Vec<Symbol>,
    raw: Vec<u8>,
}

/// What symbolizing needs besides the levels.
struct Plan<'a> {
    both: &'a BothWays,
    predictors: &'a [u8],
    ctx_base: u32,
    residual_ctx_base: u32,
    inter_ctx_base: u32,
    reference: Option<&'a [i32]>,
}

fn symbolize(
    t: &LevelTensor<'_>,
    geometry: &Geometry,
    plan: &Plan<'_>,
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
        let zero = plan.both.zero_row[y];
        symbols.push(Symbol {
            table: row_context(has_above, above_zero) as u8,
            value: if zero { ROW_ZERO } else { ROW_CODED },
        });
        above_zero = zero;
        if zero {
            continue;
        }
        let predictor = plan.predictors[y / geometry.height];
        let (coded, first_table, base) = match predictor {
            PREDICTOR_MED => (
                &plan.both.residual,
                FIRST_RESIDUAL_TABLE,
                plan.residual_ctx_base,
            ),
            PREDICTOR_INTER => (&plan.both.inter, FIRST_INTER_TABLE, plan.inter_ctx_base),
            _ => (&plan.both.plain, FIRST_TOKEN_TABLE, plan.ctx_base),
        };
        let mut left = 0i32;
        for (x, &l) in t.levels[y * w..(y + 1) * w].iter().enumerate() {
            let c = coded[y * w + x];
            symbols.push(Symbol {
                table: (first_table + context_of_class(c.class, base)) as u8,
                value: c.token,
            });
            let value = match predictor {
                PREDICTOR_MED => {
                    let [al, a, _] = above_levels(t, w, y, x, has_above);
                    l - med_prediction(left, a, al)
                }
                PREDICTOR_INTER => l - plan.reference.expect("inter needs a reference")[y * w + x],
                _ => l,
            };
            let (_, n, extra) = token_of(value.unsigned_abs());
            if n > 0 {
                bits.write_var::<u32>(n, extra).expect("writing to a Vec");
            }
            if c.sign {
                bits.write_bit(value < 0).expect("writing to a Vec");
            }
            left = l;
        }
    }
    bits.byte_align().expect("writing to a Vec");
    SymbolizedSlice { symbols, raw }
}

/// What maps may be predicted from.
#[derive(Clone, Copy, Debug, Default)]
pub struct PredictionChoice<'a> {
    /// MED intra prediction.
    pub intra: bool,
    /// Inter prediction from these reference levels (the most recent reference tensor).
    pub reference: Option<&'a [i32]>,
}

/// Codes the levels as a quantized_payload(); each map takes the cheapest of no prediction and
/// the predictions `prediction` allows. Deterministic; `threads` does not change the bytes.
pub fn encode_levels(
    t: &LevelTensor<'_>,
    prediction: PredictionChoice<'_>,
    threads: usize,
) -> Vec<u8> {
    let geometry = Geometry::of(t.shape);
    let rps = slice_rows(&geometry);
    let map_len = geometry.height * geometry.width;
    let num_maps = geometry.rows / geometry.height.max(1);
    let both = code_both_ways(t, &geometry, rps as usize, prediction.reference);
    let mut allowed = vec![PREDICTOR_NONE];
    if prediction.intra {
        allowed.push(PREDICTOR_MED);
    }
    if prediction.reference.is_some() {
        allowed.push(PREDICTOR_INTER);
    }
    let predictors = choose_predictors(&both, map_len, num_maps, &allowed);
    let chosen = encode_with_predictors(
        t,
        &geometry,
        &both,
        predictors.clone(),
        prediction.reference,
        threads,
    );
    if predictors.iter().all(|&p| p == PREDICTOR_NONE) {
        return chosen;
    }
    // The choice is made on estimates: prediction must not cost more than none at all.
    let none = vec![PREDICTOR_NONE; num_maps];
    let plain = encode_with_predictors(t, &geometry, &both, none, None, threads);
    if plain.len() <= chosen.len() {
        plain
    } else {
        chosen
    }
}

/// Codes the levels with the given predictor per map.
fn encode_with_predictors(
    t: &LevelTensor<'_>,
    geometry: &Geometry,
    both: &BothWays,
    predictors: Vec<u8>,
    reference: Option<&[i32]>,
    threads: usize,
) -> Vec<u8> {
    let geometry = *geometry;
    let rps = slice_rows(&geometry);
    let map_len = geometry.height * geometry.width;
    let any_inter = predictors.contains(&PREDICTOR_INTER);
    let any_predicted = predictors.iter().any(|&p| p != PREDICTOR_NONE);
    let ctx_base = choose_ctx_base(&class_histogram(&both.plain, map_len, |m| {
        predictors[m] == PREDICTOR_NONE
    }));
    let residual_ctx_base = if predictors.contains(&PREDICTOR_MED) {
        choose_ctx_base(&class_histogram(&both.residual, map_len, |m| {
            predictors[m] == PREDICTOR_MED
        }))
    } else {
        0
    };
    let inter_ctx_base = if any_inter {
        choose_ctx_base(&class_histogram(&both.inter, map_len, |m| {
            predictors[m] == PREDICTOR_INTER
        }))
    } else {
        0
    };
    let header = QuantHeader {
        quantizer_type: match t.quantizer {
            QuantizerSyntax::Uniform(_) => dfc_decoder::quant::syntax::QUANTIZER_UNIFORM,
            QuantizerSyntax::Codebook(_) => dfc_decoder::quant::syntax::QUANTIZER_CODEBOOK,
        },
        level_bits: t.level_bits,
        signed_levels: t.signed,
        per_channel: t.per_channel,
        map_prediction: any_predicted,
        reserved_zero_5bits: 0,
        level_ctx_base: ctx_base as u8,
        residual_ctx_base: residual_ctx_base as u8,
        rows_per_slice: rps,
    };
    let plan = Plan {
        both,
        predictors: &predictors,
        ctx_base,
        residual_ctx_base,
        inter_ctx_base,
        reference,
    };
    let rps = rps as usize;
    let ranges: Vec<(usize, usize)> = (0..geometry.rows)
        .step_by(rps)
        .map(|first| (first, rps.min(geometry.rows - first)))
        .collect();
    let slices = parallel_map(&ranges, threads, |&(first, rows)| {
        symbolize(t, &geometry, &plan, first, rows)
    });
    let num_tables = if any_inter {
        FIRST_INTER_TABLE + NUM_LEVEL_CONTEXTS
    } else if any_predicted {
        FIRST_INTER_TABLE
    } else {
        FIRST_RESIDUAL_TABLE
    };
    let alphabet = |table: usize| {
        if table < FIRST_TOKEN_TABLE {
            NUM_ROW_KINDS
        } else {
            NUM_TOKENS
        }
    };
    let mut counts: Vec<Vec<u64>> = (0..num_tables).map(|t| vec![0; alphabet(t)]).collect();
    for slice in &slices {
        for s in &slice.symbols {
            counts[s.table as usize][s.value as usize] += 1;
        }
    }
    let freq: Vec<Vec<u32>> = counts.iter().map(|c| normalize(c)).collect();
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
        if any_predicted {
            MapPredictors {
                predictors,
                alignment: 0,
            }
            .to_writer(&mut w)
            .expect("writing to a Vec");
        }
        if any_inter {
            InterParameters {
                ref_distance: 1,
                inter_ctx_base: inter_ctx_base as u8,
            }
            .to_writer(&mut w)
            .expect("writing to a Vec");
        }
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

/// Bit costs of level tokens per context, from a first pass over the levels (for RDO
/// quantization): `cost[ctx][token]` in bits, with the context base chosen for these levels.
pub struct TokenCosts {
    pub ctx_base: u32,
    pub cost: Vec<[f32; NUM_TOKENS]>,
}

impl TokenCosts {
    pub fn of(levels: &[i32], shape: &[u32], signed: bool) -> Self {
        let geometry = Geometry::of(shape);
        let rps = slice_rows(&geometry) as usize;
        let tensor = LevelTensor {
            shape,
            levels,
            level_bits: 16,
            signed,
            per_channel: false,
            quantizer: &QuantizerSyntax::Codebook(Codebook::default()),
        };
        let both = code_both_ways(&tensor, &geometry, rps, None);
        let hist = class_histogram(&both.plain, levels.len(), |_| true);
        let ctx_base = choose_ctx_base(&hist);
        TokenCosts {
            ctx_base,
            cost: token_bits(&merge(&hist, ctx_base)),
        }
    }
}
