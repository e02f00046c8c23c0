//! The quantized coding method (spec clause 8.3.7): lossy coding with a bit-exact decoder.
//! Each element is an integer level, entropy coded with the native method's rANS coder and a
//! context from the left and above levels; the decoder turns levels into floats with a uniform
//! quantizer (offset + level × step, per tensor or per channel) or a codebook.

pub mod model;
pub mod syntax;

use crate::methods::MethodError;
use crate::native::model::{row_context, Geometry, NUM_ROW_CONTEXTS, NUM_ROW_KINDS, ROW_ZERO};
use crate::native::rans::{ExpTables, RansDecoder, RawBits, SmallTable};
use crate::native::slices::{
    check_row, check_slice_end, decode_in_groups, rans_error, read_slice_index,
};
use crate::native::syntax::{FrequencyTable, SliceIndex};
use crate::native::TensorDesc;
use crate::types::ElementType;
use bitstream_io::{BigEndian, BitReader, FromBitStream, FromBitStreamWith};
use model::{
    extra_bits_of, inter_context, is_finite_bits, is_float_type, level_context, magnitude_of,
    med_prediction, reconstruct_uniform, residual_context, to_element, LevelRange, MAX_LEVEL_BITS,
    MAX_PREDICTOR, NUM_LEVEL_CONTEXTS, NUM_TOKENS, PREDICTOR_INTER, PREDICTOR_MED, PREDICTOR_NONE,
};
use syntax::{
    Codebook, InterParameters, MapPredictors, QuantHeader, UniformParameters,
    INTER_PARAMETERS_BYTES, QUANTIZER_CODEBOOK, QUANTIZER_UNIFORM,
};

/// How levels become values (clause 8.3.7.5).
#[derive(Clone, Debug, PartialEq)]
pub enum Dequantizer {
    /// (step, offset) per parameter set: one for the tensor, or one per index of dim[0].
    Uniform(Vec<(f32, f32)>),
    /// The value of each level.
    Codebook(Vec<f32>),
}

impl Dequantizer {
    /// The value of `level` in parameter set `set` (the channel, 0 when per tensor).
    #[inline(always)]
    pub fn value(&self, level: i32, set: usize) -> f32 {
        match self {
            Dequantizer::Uniform(p) => {
                let (step, offset) = p[set.min(p.len() - 1)];
                reconstruct_uniform(level, step, offset)
            }
            Dequantizer::Codebook(c) => c[(level.max(0) as usize).min(c.len() - 1)],
        }
    }
}

/// Everything parsed before the slice data.
pub struct QuantParts {
    pub header: QuantHeader,
    pub dequantizer: Dequantizer,
    pub range: LevelRange,
    /// The predictor of each map (all 0 without map prediction).
    pub map_predictors: Vec<u8>,
    pub row_tables: Vec<FrequencyTable>,
    pub token_tables: Vec<FrequencyTable>,
    /// The residual token tables, empty without map prediction.
    pub residual_tables: Vec<FrequencyTable>,
    /// Present when a map uses inter prediction.
    pub inter: Option<InterParameters>,
    /// The inter token tables, empty without inter maps.
    pub inter_tables: Vec<FrequencyTable>,
    pub index: SliceIndex,
    /// Byte offset of the first slice's data in the payload.
    pub data_offset: usize,
    /// The parsed parameter structure, for traces.
    pub uniform: Option<UniformParameters>,
    pub codebook: Option<Codebook>,
}

/// Number of parameter sets of a uniform quantizer: dim[0] when per channel, else 1.
pub fn num_param_sets(shape: &[u32], per_channel: bool) -> usize {
    if per_channel {
        shape.first().map_or(1, |&d| d as usize)
    } else {
        1
    }
}

/// Checks quant_header() (REQ-8.3.7-1).
fn check_header(h: &QuantHeader) -> Result<(), MethodError> {
    let bad = |m: String| Err(MethodError::new("REQ-8.3.7-1", m));
    if h.quantizer_type > QUANTIZER_CODEBOOK {
        return bad(format!("quantizer_type {} is reserved", h.quantizer_type));
    }
    if !(1..=MAX_LEVEL_BITS).contains(&h.level_bits) {
        return bad(format!("level_bits {} is not 1 to 16", h.level_bits));
    }
    if h.reserved_zero_5bits != 0 {
        return bad("reserved_zero_5bits is not 0".into());
    }
    if h.rows_per_slice == 0 {
        return bad("rows_per_slice is 0".into());
    }
    if h.quantizer_type == QUANTIZER_CODEBOOK && (h.signed_levels || h.per_channel) {
        return bad("a codebook quantizer has signed_levels and per_channel equal to 0".into());
    }
    Ok(())
}

/// Parses quantized_payload() up to the slice data (clause 6.10), checking the requirements in
/// the order of clause 8.3.7; the tables themselves (REQ-8.3.6-2) are checked afterwards.
/// `num_refs` is the number of reference tensors the layer has (clause 8.7).
pub fn parse_parts(
    payload: &[u8],
    desc: &TensorDesc<'_>,
    num_refs: usize,
) -> Result<QuantParts, MethodError> {
    let not_float = || {
        MethodError::new(
            "REQ-8.3.7-2",
            format!(
                "the quantized method codes float layers, not {}",
                desc.element_type
            ),
        )
    };
    // Clause 8.3.7, step 1: the element type before anything of the payload.
    let type_late = crate::mutant!("quantized-element-type-checked-late");
    if !is_float_type(desc.element_type) && !type_late {
        return Err(not_float());
    }
    let truncated = || {
        MethodError::new(
            "REQ-8.3.7-4",
            "quantized payload ends inside its header, parameters, map predictors, tables or slice index",
        )
    };
    let short = |_: std::io::Error| truncated();
    let geometry = Geometry::of(desc.shape);
    let mut r = BitReader::endian(payload, BigEndian);
    let header = QuantHeader::from_reader(&mut r).map_err(short)?;
    crate::coverage::syntax(&header);
    check_header(&header)?;
    if !is_float_type(desc.element_type) && type_late {
        return Err(not_float());
    }
    // quant_header() is byte aligned and 9 bytes long; what follows is checked against the
    // payload's size before anything is allocated.
    let after_header = (payload.len() - syntax::QUANT_HEADER_BYTES) as u64;
    let params_bytes: u64;
    let (dequantizer, range, uniform, codebook) = if header.quantizer_type == QUANTIZER_UNIFORM {
        crate::coverage::value("quantizer_type", "uniform");
        let sets = num_param_sets(desc.shape, header.per_channel);
        // Checked before allocating: the payload holds 8 bytes per set.
        if after_header < 8 * sets as u64 {
            return Err(truncated());
        }
        params_bytes = 8 * sets as u64;
        let params = UniformParameters::from_reader(&mut r, &sets).map_err(short)?;
        crate::coverage::syntax(&params);
        for (i, &(step, offset)) in params.params.iter().enumerate() {
            if !is_finite_bits(step) || !is_finite_bits(offset) {
                return Err(MethodError::new(
                    "REQ-8.3.7-3",
                    format!("step or offset of parameter set {i} is not finite"),
                ));
            }
        }
        let values = params
            .params
            .iter()
            .map(|&(s, o)| (f32::from_bits(s), f32::from_bits(o)))
            .collect();
        let range = LevelRange::of(header.level_bits, header.signed_levels, None);
        (Dequantizer::Uniform(values), range, Some(params), None)
    } else {
        crate::coverage::value("quantizer_type", "codebook");
        let at = syntax::QUANT_HEADER_BYTES;
        if after_header < 2 {
            return Err(truncated());
        }
        let count = u64::from(u16::from_be_bytes([payload[at], payload[at + 1]])) + 1;
        if after_header < 2 + 4 * count {
            return Err(truncated());
        }
        params_bytes = 2 + 4 * count;
        let book = Codebook::from_reader(&mut r).map_err(short)?;
        crate::coverage::syntax(&book);
        if book.codewords.len() > 1usize << header.level_bits {
            return Err(MethodError::new(
                "REQ-8.3.7-3",
                format!(
                    "{} codewords do not fit in levels of {} bits",
                    book.codewords.len(),
                    header.level_bits
                ),
            ));
        }
        if let Some(i) = book.codewords.iter().position(|&c| !is_finite_bits(c)) {
            return Err(MethodError::new(
                "REQ-8.3.7-3",
                format!("codeword {i} is not finite"),
            ));
        }
        let values = book.codewords.iter().map(|&c| f32::from_bits(c)).collect();
        let range = LevelRange::of(header.level_bits, false, Some(book.codewords.len() as u32));
        (Dequantizer::Codebook(values), range, None, Some(book))
    };
    crate::coverage::value(
        "signed_levels",
        if header.signed_levels { "1" } else { "0" },
    );
    crate::coverage::value("per_channel", if header.per_channel { "1" } else { "0" });
    crate::coverage::value(
        "map_prediction",
        if header.map_prediction { "1" } else { "0" },
    );
    let num_maps = geometry.rows / geometry.height.max(1);
    let map_predictors = if header.map_prediction {
        if after_header - params_bytes < MapPredictors::bytes_for(num_maps) as u64 {
            return Err(truncated());
        }
        let maps = MapPredictors::from_reader(&mut r, &num_maps).map_err(short)?;
        crate::coverage::syntax(&maps);
        if let Some(m) = maps.predictors.iter().position(|&p| p > MAX_PREDICTOR) {
            return Err(MethodError::new(
                "REQ-8.3.7-6",
                format!("map_predictor of map {m} is {}", maps.predictors[m]),
            ));
        }
        if maps.alignment != 0 {
            return Err(MethodError::new(
                "REQ-8.3.6-3",
                "alignment_zero_bits is not 0",
            ));
        }
        maps.predictors
    } else {
        vec![0; num_maps]
    };
    for &p in &map_predictors {
        crate::coverage::value(
            "map_predictor",
            match p {
                PREDICTOR_NONE => "none",
                PREDICTOR_MED => "med",
                _ => "inter",
            },
        );
    }
    let inter = if map_predictors.contains(&PREDICTOR_INTER)
        || (header.map_prediction && crate::mutant!("quantized-inter-tables-with-map-prediction"))
    {
        let used = params_bytes + MapPredictors::bytes_for(num_maps) as u64;
        if after_header - used < INTER_PARAMETERS_BYTES as u64 {
            return Err(truncated());
        }
        let inter = InterParameters::from_reader(&mut r).map_err(short)?;
        crate::coverage::syntax(&inter);
        if inter.ref_distance == 0 || usize::from(inter.ref_distance) > num_refs {
            return Err(MethodError::new(
                "REQ-8.3.7-7",
                format!(
                    "ref_distance {} but the layer has {num_refs} reference tensor(s)",
                    inter.ref_distance
                ),
            ));
        }
        Some(inter)
    } else {
        None
    };
    let mut read_tables =
        |count: usize, alphabet: usize| -> Result<Vec<FrequencyTable>, MethodError> {
            (0..count)
                .map(|_| {
                    let t = FrequencyTable::from_reader(&mut r, &alphabet).map_err(short)?;
                    crate::coverage::syntax(&t);
                    Ok(t)
                })
                .collect()
        };
    let row_tables = read_tables(NUM_ROW_CONTEXTS, NUM_ROW_KINDS)?;
    let token_tables = read_tables(NUM_LEVEL_CONTEXTS, NUM_TOKENS)?;
    let residual_tables = if header.map_prediction {
        read_tables(NUM_LEVEL_CONTEXTS, NUM_TOKENS)?
    } else {
        Vec::new()
    };
    let inter_tables = if inter.is_some() {
        read_tables(NUM_LEVEL_CONTEXTS, NUM_TOKENS)?
    } else {
        Vec::new()
    };
    if crate::mutant!("frequency-tables-checked-when-parsed") {
        let row = row_tables.iter().map(|t| (t, NUM_ROW_KINDS));
        let tokens = [&token_tables, &residual_tables, &inter_tables]
            .into_iter()
            .flatten()
            .map(|t| (t, NUM_TOKENS));
        for (t, alphabet) in row.chain(tokens) {
            crate::native::rans::cumulative(t, alphabet)
                .map_err(|e| MethodError::new("REQ-8.3.6-2", e.0))?;
        }
    }
    let num_slices = geometry.rows.div_ceil(header.rows_per_slice as usize);
    let (index, data_offset) = read_slice_index(r, payload, num_slices, truncated)?;
    Ok(QuantParts {
        header,
        dequantizer,
        range,
        map_predictors,
        row_tables,
        token_tables,
        residual_tables,
        inter,
        inter_tables,
        index,
        data_offset,
        uniform,
        codebook,
    })
}

/// Everything a slice needs, shared by all slices.
struct SliceContext<'t> {
    geometry: Geometry,
    element_type: ElementType,
    signed: bool,
    ctx_base: u32,
    residual_ctx_base: u32,
    inter_ctx_base: u32,
    map_predictors: &'t [u8],
    /// The levels of the reference tensor (empty without inter maps).
    reference: &'t [i32],
    range: LevelRange,
    dequantizer: &'t Dequantizer,
    /// Elements per parameter set (per channel: the elements of one index of dim[0]).
    set_len: usize,
    row_tables: &'t [SmallTable],
    token_tables: &'t ExpTables,
    residual_tables: &'t ExpTables,
    inter_tables: &'t ExpTables,
}

struct SliceJob<'a> {
    first_row: usize,
    rows: usize,
    rans: &'a [u8],
    raw: &'a [u8],
    out: &'a mut [u8],
    levels: &'a mut [i32],
}

/// Decodes a quantized method payload without reference tensors into the tensor's canonical
/// bytes (clause 8.3.7).
pub fn decode_quantized(
    payload: &[u8],
    desc: &TensorDesc<'_>,
    threads: usize,
) -> Result<Vec<u8>, MethodError> {
    decode_quantized_with_refs(payload, desc, threads, &[]).map(|(bytes, _)| bytes)
}

/// Decodes a quantized method payload (clause 8.3.7) with the layer's reference tensors, most
/// recent first (clause 8.7); returns the canonical bytes and the levels.
pub fn decode_quantized_with_refs(
    payload: &[u8],
    desc: &TensorDesc<'_>,
    threads: usize,
    refs: &[&[i32]],
) -> Result<(Vec<u8>, Vec<i32>), MethodError> {
    let parts = parse_parts(payload, desc, refs.len())?;
    let geometry = Geometry::of(desc.shape);
    let table_error = |e: crate::native::rans::TableError| MethodError::new("REQ-8.3.6-2", e.0);
    let row_tables = parts
        .row_tables
        .iter()
        .map(|t| SmallTable::new(t, NUM_ROW_KINDS).map_err(table_error))
        .collect::<Result<Vec<_>, _>>()?;
    let token_tables = ExpTables::new(&parts.token_tables, NUM_TOKENS).map_err(table_error)?;
    let residual_tables =
        ExpTables::new(&parts.residual_tables, NUM_TOKENS).map_err(table_error)?;
    let inter_tables = ExpTables::new(&parts.inter_tables, NUM_TOKENS).map_err(table_error)?;
    let reference: &[i32] = match &parts.inter {
        Some(inter) => {
            // Clause 8.7: ref_distance d is entry d - 1 of the reference list.
            let d = usize::from(inter.ref_distance);
            let entry = if crate::mutant!("quantized-reference-distance-zero-based") {
                d
            } else {
                d - 1
            };
            refs.get(entry).copied().ok_or_else(|| {
                MethodError::new(
                    "REQ-8.3.7-7",
                    format!(
                        "ref_distance {d} but the layer has {} reference tensor(s)",
                        refs.len()
                    ),
                )
            })?
        }
        None => &[],
    };
    let size = desc.element_type.size();
    let row_bytes = geometry.width * size;
    let rows_per_slice = parts.header.rows_per_slice as usize;
    let count = geometry.rows * geometry.width;
    let sets = num_param_sets(desc.shape, parts.header.per_channel);
    let mut out = vec![0u8; count * size];
    let mut levels = vec![0i32; count];
    let mut rest_levels: &mut [i32] = &mut levels;

    let mut jobs = Vec::with_capacity(parts.index.slices.len());
    let mut offset = parts.data_offset;
    let mut rest: &mut [u8] = &mut out;
    for (i, &(rans_len, raw_len)) in parts.index.slices.iter().enumerate() {
        let first_row = i * rows_per_slice;
        let rows = rows_per_slice.min(geometry.rows - first_row);
        let (slice_out, tail) = std::mem::take(&mut rest).split_at_mut(rows * row_bytes);
        rest = tail;
        let (slice_levels, tail) =
            std::mem::take(&mut rest_levels).split_at_mut(rows * geometry.width);
        rest_levels = tail;
        let rans = &payload[offset..offset + rans_len as usize];
        offset += rans_len as usize;
        let raw = &payload[offset..offset + raw_len as usize];
        offset += raw_len as usize;
        jobs.push(SliceJob {
            first_row,
            rows,
            rans,
            raw,
            out: slice_out,
            levels: slice_levels,
        });
    }
    let ctx = SliceContext {
        geometry,
        element_type: desc.element_type,
        signed: parts.header.signed_levels,
        ctx_base: u32::from(parts.header.level_ctx_base),
        residual_ctx_base: u32::from(parts.header.residual_ctx_base),
        inter_ctx_base: parts
            .inter
            .as_ref()
            .map_or(0, |i| u32::from(i.inter_ctx_base)),
        map_predictors: &parts.map_predictors,
        reference,
        range: parts.range,
        dequantizer: &parts.dequantizer,
        set_len: (count / sets.max(1)).max(1),
        row_tables: &row_tables,
        token_tables: &token_tables,
        residual_tables: &residual_tables,
        inter_tables: &inter_tables,
    };
    if crate::mutant!("quantized-slices-reported-last-first") {
        jobs.reverse();
    }
    decode_in_groups(jobs, threads, |group| {
        group
            .into_iter()
            .try_for_each(|job| decode_slice(&ctx, job))
    })?;
    Ok((out, levels))
}

/// Decodes one slice (clause 8.3.7.6), checking each row as clause 8.3.6.7 does.
fn decode_slice(ctx: &SliceContext<'_>, job: SliceJob<'_>) -> Result<(), MethodError> {
    let width = ctx.geometry.width;
    let size = ctx.element_type.size();
    let mut rans = RansDecoder::new(job.rans).map_err(rans_error)?;
    let mut raw = RawBits::new(job.raw);
    // Levels of the row above and of the current row; 0 where there is no row above.
    let mut above = vec![0i32; width];
    let mut current = vec![0i32; width];
    let mut above_zero = false;
    for r in 0..job.rows {
        let y = job.first_row + r;
        let has_above = (r > 0 || crate::mutant!("first-row-of-slice-has-above"))
            && y % ctx.geometry.height != 0;
        if !has_above {
            above.fill(0);
        }
        let rc = row_context(has_above, above_zero);
        above_zero = rans.decode_small(&ctx.row_tables[rc]) == u32::from(ROW_ZERO);
        let map = if crate::mutant!("quantized-map-predictor-by-row") {
            y.min(ctx.map_predictors.len() - 1)
        } else {
            y / ctx.geometry.height
        };
        let predictor = ctx.map_predictors[map];
        let row_ref: &[i32] = if predictor == PREDICTOR_INTER {
            &ctx.reference[y * width..(y + 1) * width]
        } else {
            &[]
        };
        let above_ref: &[i32] = if predictor == PREDICTOR_INTER && has_above {
            &ctx.reference[(y - 1) * width..y * width]
        } else {
            &[]
        };
        let mut out_of_range = false;
        if above_zero {
            current.fill(0);
        } else {
            let mut left = 0i32;
            for x in 0..width {
                let a = above[x];
                let level = if predictor == PREDICTOR_INTER {
                    // Residuals of the left and above neighbours against the reference.
                    let left_residual = if x > 0 { left - row_ref[x - 1] } else { 0 };
                    let above_residual = if has_above {
                        a - above_ref[x]
                    } else if y > 0 && crate::mutant!("quantized-inter-missing-above-read") {
                        -ctx.reference[(y - 1) * width + x]
                    } else {
                        0
                    };
                    let ic = inter_context(
                        left_residual,
                        above_residual,
                        row_ref[x],
                        ctx.inter_ctx_base,
                    );
                    let token = rans.decode_exponent(ctx.inter_tables, ic);
                    let m = magnitude_of(token, raw.read(extra_bits_of(token))) as i32;
                    let signed =
                        ctx.signed || !crate::mutant!("quantized-residual-sign-if-signed-levels");
                    let negative = m != 0 && signed && raw.read(1) == 1;
                    if negative != crate::mutant!("quantized-inter-sign-inverted") {
                        row_ref[x] - m
                    } else {
                        row_ref[x] + m
                    }
                } else if predictor == PREDICTOR_MED {
                    let al = if x > 0 {
                        above[x - 1]
                    } else if crate::mutant!("quantized-above-left-first-column") {
                        a
                    } else {
                        0
                    };
                    let ar = if x + 1 < width {
                        above[x + 1]
                    } else if crate::mutant!("quantized-above-right-wraps") {
                        a
                    } else {
                        0
                    };
                    let rc = residual_context(left, a, al, ar, ctx.residual_ctx_base);
                    let token = rans.decode_exponent(ctx.residual_tables, rc);
                    let m = magnitude_of(token, raw.read(extra_bits_of(token))) as i32;
                    let signed =
                        ctx.signed || !crate::mutant!("quantized-residual-sign-if-signed-levels");
                    let residual = if m != 0 && signed && raw.read(1) == 1 {
                        -m
                    } else {
                        m
                    };
                    med_prediction(left, a, al) + residual
                } else {
                    let lc = if crate::mutant!("quantized-level-context-signed-sum") {
                        level_context((left + a).unsigned_abs(), 0, ctx.ctx_base)
                    } else {
                        level_context(left.unsigned_abs(), a.unsigned_abs(), ctx.ctx_base)
                    };
                    let token = rans.decode_exponent(ctx.token_tables, lc);
                    // A token other than 0 has a non-zero magnitude, so the sign bit follows.
                    let sign_first = ctx.signed
                        && token != 0
                        && crate::mutant!("quantized-sign-before-extra-bits");
                    let early_sign = sign_first && raw.read(1) == 1;
                    let m = magnitude_of(token, raw.read(extra_bits_of(token))) as i32;
                    if early_sign || (!sign_first && ctx.signed && m != 0 && raw.read(1) == 1) {
                        -m
                    } else {
                        m
                    }
                };
                if !ctx.range.contains(level)
                    && !crate::mutant!("quantized-out-of-range-unreported")
                {
                    out_of_range = true;
                }
                // An out-of-range level is reported after the row; clamped meanwhile so that
                // the arithmetic of the following predictions stays defined.
                let level = level.clamp(ctx.range.min, ctx.range.max);
                current[x] = level;
                left = level;
            }
        }
        job.levels[r * width..(r + 1) * width].copy_from_slice(&current);
        let row_out = &mut job.out[r * width * size..(r + 1) * width * size];
        for (x, (&level, o)) in current
            .iter()
            .zip(row_out.chunks_exact_mut(size))
            .enumerate()
        {
            let set = if crate::mutant!("quantized-parameter-set-last-dimension") {
                x
            } else {
                (y * width + x) / ctx.set_len
            };
            let value = to_element(ctx.dequantizer.value(level, set), ctx.element_type);
            o.copy_from_slice(&value.to_le_bytes()[..size]);
        }
        check_row(&rans, &raw)?;
        if out_of_range {
            return Err(MethodError::new(
                "REQ-8.3.7-5",
                format!(
                    "a level of row {y} is outside {}..{}",
                    ctx.range.min, ctx.range.max
                ),
            ));
        }
        if !(above_zero && crate::mutant!("quantized-zero-row-not-above")) {
            std::mem::swap(&mut above, &mut current);
        }
    }
    check_slice_end(&rans, &raw)
}
