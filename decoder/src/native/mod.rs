//! The native coding method (spec clause 8.3.6): a feature-aware lossless coder. Each element
//! is a kind (zero, copy of the left or above neighbour, or new); new elements code their
//! exponent field with a context from the neighbours' exponents, and their sign and mantissa
//! as raw bits. Symbols are coded with static rANS tables carried in the payload; rows are
//! grouped into independently decodable slices.

pub mod info;
pub mod model;
pub mod rans;
pub mod slices;
pub mod syntax;

use crate::methods::MethodError;
use crate::types::ElementType;
use bitstream_io::{BigEndian, BitReader, FromBitStream, FromBitStreamWith};
use info::InfoTables;
use model::{
    ElementFields, Geometry, KIND_ABOVE, KIND_LEFT, KIND_NEW, NUM_EXP_CONTEXTS, NUM_KINDS,
    NUM_KIND_CONTEXTS, NUM_KIND_CONTEXTS_WITH_REFERENCE, NUM_ROW_CONTEXTS, NUM_ROW_KINDS, ROW_ZERO,
};
use rans::{ExpTables, RansDecoder, RawBits, SmallTable};
use slices::rans_error;
use syntax::{FrequencyTable, NativeHeader, SliceIndex};

/// What the native decoder needs to know about the layer.
#[derive(Clone, Copy, Debug)]
pub struct TensorDesc<'a> {
    pub element_type: ElementType,
    pub shape: &'a [u32],
    pub non_negative: bool,
}

/// Everything parsed before the slice data.
pub struct NativeParts {
    pub header: NativeHeader,
    pub row_tables: Vec<FrequencyTable>,
    pub kind_tables: Vec<FrequencyTable>,
    pub exp_tables: Vec<FrequencyTable>,
    pub index: SliceIndex,
    /// Byte offset of the first slice's data in the payload.
    pub data_offset: usize,
}

fn err(requirement: &'static str, message: impl Into<String>) -> MethodError {
    MethodError {
        requirement,
        message: message.into(),
    }
}

/// Parses native_payload() up to the slice data (clause 6.9), checking REQ-8.3.6-7, -1, -3 and
/// -4 in stream order; the tables themselves (REQ-8.3.6-2) are checked by `decode_native`.
pub fn parse_parts(payload: &[u8], desc: &TensorDesc<'_>) -> Result<NativeParts, MethodError> {
    let fields = ElementFields::of(desc.element_type, desc.non_negative);
    let geometry = Geometry::of(desc.shape);
    let short = |_| {
        err(
            "REQ-8.3.6-7",
            "native payload ends inside its header or tables",
        )
    };
    let mut r = BitReader::endian(payload, BigEndian);
    let header = NativeHeader::from_reader(&mut r).map_err(short)?;
    crate::coverage::syntax(&header);
    if header.rows_per_slice == 0 {
        return Err(err("REQ-8.3.6-1", "rows_per_slice is 0"));
    }
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
    let kind_contexts = if header.ref_distance == 0 {
        NUM_KIND_CONTEXTS
    } else {
        NUM_KIND_CONTEXTS_WITH_REFERENCE
    };
    let kind_tables = read_tables(kind_contexts, NUM_KINDS)?;
    let exp_tables = read_tables(NUM_EXP_CONTEXTS, fields.exp_alphabet())?;
    // Clause 8.3.6: the tables are parsed here, checked (REQ-8.3.6-2) after the slice index.
    if crate::mutant!("frequency-tables-checked-when-parsed") {
        let row = row_tables.iter().map(|t| (t, NUM_ROW_KINDS));
        let kinds = kind_tables.iter().map(|t| (t, NUM_KINDS));
        let exps = exp_tables.iter().map(|t| (t, fields.exp_alphabet()));
        for (t, alphabet) in row.chain(kinds).chain(exps) {
            rans::cumulative(t, alphabet).map_err(|e| err("REQ-8.3.6-2", e.0))?;
        }
    }
    let num_slices = geometry.rows.div_ceil(header.rows_per_slice as usize);
    let (index, data_offset) = slices::read_slice_index(r, payload, num_slices, || {
        err(
            "REQ-8.3.6-7",
            "native payload ends inside its tables or slice index",
        )
    })?;
    Ok(NativeParts {
        header,
        row_tables,
        kind_tables,
        exp_tables,
        index,
        data_offset,
    })
}

/// Decodes a native method payload into the tensor's canonical bytes (clause 8.3.6), without
/// reference tensors. Slices are decoded on up to `threads` threads; the output does not
/// depend on it.
pub fn decode_native(
    payload: &[u8],
    desc: &TensorDesc<'_>,
    threads: usize,
) -> Result<Vec<u8>, MethodError> {
    decode_native_with_refs(payload, desc, threads, &[])
}

/// Decodes a native method payload with the layer's value reference list (clause 8.7): the
/// canonical bytes of its most recent native tensors, most recent first.
pub fn decode_native_with_refs(
    payload: &[u8],
    desc: &TensorDesc<'_>,
    threads: usize,
    references: &[&[u8]],
) -> Result<Vec<u8>, MethodError> {
    let fields = ElementFields::of(desc.element_type, desc.non_negative);
    let geometry = Geometry::of(desc.shape);
    let parts = parse_parts(payload, desc)?;
    let ref_distance = usize::from(parts.header.ref_distance);
    let reference = match ref_distance {
        0 => None,
        d => {
            // Clause 8.7: ref_distance d is entry d - 1 of the value reference list.
            let entry = if crate::mutant!("native-reference-distance-zero-based") {
                d
            } else {
                d - 1
            };
            let Some(&reference) = references.get(entry) else {
                return Err(err(
                    "REQ-8.3.6-8",
                    format!(
                        "ref_distance is {d}, the layer's value reference list holds {} tensor(s)",
                        references.len()
                    ),
                ));
            };
            crate::coverage::hit("branch:native_with_reference");
            Some(reference)
        }
    };
    let table_error = |e: rans::TableError| err("REQ-8.3.6-2", e.0);
    let small = |tables: &[FrequencyTable], alphabet: usize| {
        tables
            .iter()
            .map(|t| SmallTable::new(t, alphabet).map_err(table_error))
            .collect::<Result<Vec<_>, _>>()
    };
    let row_tables = small(&parts.row_tables, NUM_ROW_KINDS)?;
    let mut kind_tables = [SmallTable::default(); KIND_TABLE_SLOTS];
    let kinds = small(&parts.kind_tables, NUM_KINDS)?;
    kind_tables[..kinds.len()].copy_from_slice(&kinds);
    // Table 8-2: the exponent tables follow the 3 row and NumKindTables kind tables.
    let misread_tables: Vec<FrequencyTable>;
    let exp_source = if ref_distance != 0 && crate::mutant!("native-exponent-table-28") {
        misread_tables = [&parts.row_tables[..], &parts.kind_tables, &parts.exp_tables].concat();
        &misread_tables[28..44]
    } else {
        &parts.exp_tables[..]
    };
    let exp_tables = ExpTables::new(exp_source, fields.exp_alphabet()).map_err(table_error)?;
    let loop_tables = Box::new(LoopTables {
        kind_tables,
        zero_frequency: kind_tables.map(|t| t.first_frequency()),
        exp_tables,
        info: InfoTables::new(
            u32::from(parts.header.kind_exp_base),
            u32::from(parts.header.exp_ctx_base),
        ),
    });
    let size = desc.element_type.size();
    let row_bytes = geometry.width * size;
    let rows_per_slice = parts.header.rows_per_slice as usize;

    // Split the payload into per-slice jobs.
    let mut jobs = Vec::with_capacity(parts.index.slices.len());
    let mut offset = parts.data_offset;
    for (i, &(rans_len, raw_len)) in parts.index.slices.iter().enumerate() {
        let first_row = i * rows_per_slice;
        let rows = rows_per_slice.min(geometry.rows - first_row);
        let rans = &payload[offset..offset + rans_len as usize];
        offset += rans_len as usize;
        let raw = &payload[offset..offset + raw_len as usize];
        offset += raw_len as usize;
        let reference =
            reference.map(|r| &r[first_row * row_bytes..(first_row + rows) * row_bytes]);
        jobs.push(SliceJob {
            first_row,
            rows,
            rans,
            raw,
            reference,
        });
    }
    let ctx = SliceContext {
        fields,
        element_size: size,
        geometry,
        row_tables: &row_tables,
        loop_tables: &loop_tables,
    };
    let total = geometry.rows * row_bytes;
    let mut groups = slices::decode_in_groups(jobs, threads, |group| {
        // Each group appends its rows to its own buffer; the first one's has room for all.
        let capacity = match group.first() {
            Some(job) if job.first_row == 0 => total,
            _ => group.iter().map(|job| job.rows * row_bytes).sum(),
        };
        let mut out = Vec::with_capacity(capacity);
        decode_slices(&ctx, group, size, &mut out)?;
        Ok(out)
    })?
    .into_iter();
    let mut out = groups.next().unwrap_or_default();
    for group in groups {
        out.extend_from_slice(&group);
    }
    Ok(out)
}

struct SliceContext<'t> {
    fields: ElementFields,
    /// ElementSize, bytes per element.
    element_size: usize,
    geometry: Geometry,
    row_tables: &'t [SmallTable],
    loop_tables: &'t LoopTables,
}

/// The tables the row loop reads (18 KiB), copied into the frame of each thread's loop so that
/// it addresses them from the stack pointer, without a register for each.
#[derive(Clone)]
struct LoopTables {
    /// Padded so that a masked index is always inside.
    kind_tables: [SmallTable; KIND_TABLE_SLOTS],
    /// The frequency of `zero` in each kind table.
    zero_frequency: [u32; KIND_TABLE_SLOTS],
    exp_tables: ExpTables,
    info: InfoTables,
}

/// Kind tables held, a power of two above the 125 contexts with a reference.
const KIND_TABLE_SLOTS: usize = 128;

struct SliceJob<'a> {
    first_row: usize,
    rows: usize,
    rans: &'a [u8],
    raw: &'a [u8],
    /// The reference tensor's canonical bytes of the slice's rows, with a reference.
    reference: Option<&'a [u8]>,
}

/// Decodes a group of slices (clause 8.3.6.7) with a loop specialized for the element fields.
fn decode_slices(
    ctx: &SliceContext<'_>,
    jobs: Vec<SliceJob<'_>>,
    size: usize,
    out: &mut Vec<u8>,
) -> Result<(), MethodError> {
    let f = ctx.fields;
    if jobs.first().is_some_and(|j| j.reference.is_some()) {
        return decode_slices_for::<true>(ctx, jobs, size, f, out);
    }
    decode_slices_for::<false>(ctx, jobs, size, f, out)
}

fn decode_slices_for<const REF: bool>(
    ctx: &SliceContext<'_>,
    jobs: Vec<SliceJob<'_>>,
    size: usize,
    f: ElementFields,
    out: &mut Vec<u8>,
) -> Result<(), MethodError> {
    match (size, f.sign_bits, f.exp_bits, f.mant_bits) {
        (4, 0, 8, 23) => decode_slices_with::<4, 0, 8, 23, REF>(ctx, jobs, out),
        (4, 1, 8, 23) => decode_slices_with::<4, 1, 8, 23, REF>(ctx, jobs, out),
        (2, 0, 5, 10) => decode_slices_with::<2, 0, 5, 10, REF>(ctx, jobs, out),
        (2, 1, 5, 10) => decode_slices_with::<2, 1, 5, 10, REF>(ctx, jobs, out),
        (2, 0, 8, 7) => decode_slices_with::<2, 0, 8, 7, REF>(ctx, jobs, out),
        (2, 1, 8, 7) => decode_slices_with::<2, 1, 8, 7, REF>(ctx, jobs, out),
        (1, 0, 7, 0) => decode_slices_with::<1, 0, 7, 0, REF>(ctx, jobs, out),
        (1, 1, 7, 0) => decode_slices_with::<1, 1, 7, 0, REF>(ctx, jobs, out),
        (1, 0, 8, 0) => decode_slices_with::<1, 0, 8, 0, REF>(ctx, jobs, out),
        _ => unreachable!("ElementFields::of gives one of the above"),
    }
}

/// The decoding state of one slice: entropy decoders, position, and the row above.
struct SliceDecoder<'a> {
    rans: RansDecoder<'a>,
    raw: RawBits<'a>,
    /// The group's output, to which each row is appended.
    out: &'a mut Vec<u8>,
    rows: usize,
    /// The row to decode next, relative to the slice.
    next_row: usize,
    /// Its row within its map (y mod H), kept by counting instead of dividing.
    row_in_map: usize,
    /// H, the rows of a map.
    map_height: usize,
    /// The row being decoded.
    row: Vec<Cell>,
    /// The last coded row: the row above unless `above_zero`. Swapped with `row` after a
    /// coded row, so that no row is copied.
    above: Vec<Cell>,
    /// W zeros: the row above where there is none or where it is a zero row.
    zeros: Vec<Cell>,
    /// Whether the row above is zero or absent (HasAbove false).
    above_zero: bool,
    /// Whether the last row decoded was a zero row (its `row_kind`, for RowCtx).
    last_row_zero: bool,
    /// With a reference: its slice rows, and the info of the current row's co-located values.
    reference: Option<&'a [u8]>,
    reference_info: Vec<u32>,
}

/// An element of a row: its value and its info (see [`info`]).
#[derive(Clone, Copy, Default)]
#[repr(C)]
struct Cell {
    value: u32,
    info: u32,
}

impl<'a> SliceDecoder<'a> {
    fn new(
        job: SliceJob<'a>,
        out: &'a mut Vec<u8>,
        width: usize,
        height: usize,
    ) -> Result<Self, MethodError> {
        Ok(SliceDecoder {
            rans: RansDecoder::new(job.rans).map_err(rans_error)?,
            raw: RawBits::new(job.raw),
            out,
            rows: job.rows,
            next_row: 0,
            row_in_map: job.first_row % height,
            map_height: height,
            row: vec![Cell::default(); width],
            above: vec![Cell::default(); width],
            zeros: vec![Cell::default(); width],
            above_zero: true,
            last_row_zero: false,
            reference: job.reference,
            reference_info: vec![0; if job.reference.is_some() { width } else { 0 }],
        })
    }

    /// Decodes `row_kind` of the next row; true when the row's elements follow (clause 8.3.6.7).
    #[inline(always)]
    fn begin_row(&mut self, ctx: &SliceContext<'_>) -> bool {
        let r = self.next_row;
        let has_above = (r > 0 || crate::mutant!("first-row-of-slice-has-above"))
            && (self.row_in_map != 0 || crate::mutant!("native-above-across-maps"));
        if !has_above {
            self.above_zero = true;
        }
        let rc = model::row_context(has_above, self.last_row_zero);
        // `coded`, symbol 0, by one comparison where it is the common one.
        let table = &ctx.row_tables[rc];
        self.last_row_zero = !self.rans.take_first_symbol(table.first_frequency())
            && self.rans.decode_small(table) == u32::from(ROW_ZERO);
        if self.last_row_zero {
        } else if let Some(reference) = self.reference {
            // The co-located reference values of the row (clause 8.3.6.3), as info.
            let (width, size) = (self.reference_info.len(), ctx.element_size);
            let row = &reference[r * width * size..(r + 1) * width * size];
            for (x, info) in self.reference_info.iter_mut().enumerate() {
                let v = model::load(row, size, x);
                *info = ctx.loop_tables.info.info(v, ctx.fields.exponent(v));
            }
        }
        !self.last_row_zero
    }

    /// Checks the entropy decoders, writes a coded row out and makes it the row above.
    #[inline(always)]
    fn end_row<const SIZE: usize>(&mut self) -> Result<(), MethodError> {
        self.next_row += 1;
        self.row_in_map += 1;
        if self.row_in_map == self.map_height {
            self.row_in_map = 0;
        }
        slices::check_row(&self.rans, &self.raw)?;
        let width = self.zeros.len();
        let start = self.out.len();
        self.out.resize(start + width * SIZE, 0);
        if self.last_row_zero {
            // A zero row is the row above of the next one (clause 8.3.6.3).
            self.above_zero |= !crate::mutant!("native-zero-row-not-above");
        } else {
            let out = &mut self.out[start..];
            for (o, cell) in out.chunks_exact_mut(SIZE).zip(&self.row) {
                o.copy_from_slice(&cell.value.to_le_bytes()[..SIZE]);
            }
            std::mem::swap(&mut self.row, &mut self.above);
            self.above_zero = false;
        }
        Ok(())
    }

    /// Decodes the rows of the slice, then checks its end.
    #[inline(always)]
    fn decode_rows<const SIZE: usize, const S: u32, const E: u32, const M: u32, const REF: bool>(
        &mut self,
        ctx: &SliceContext<'_>,
        tables: &LoopTables,
    ) -> Result<(), MethodError> {
        while self.next_row < self.rows {
            if self.begin_row(ctx) {
                self.decode_row::<S, E, M, REF>(tables);
            }
            self.end_row::<SIZE>()?;
        }
        self.finish()
    }

    /// Checks the end of the slice (REQ-8.3.6-6).
    fn finish(&self) -> Result<(), MethodError> {
        slices::check_slice_end(&self.rans, &self.raw)
    }

    /// Decodes the elements of a coded row (clause 8.3.6.7). After a zero, the zeros that
    /// follow while the state decodes `zero` in a kind context that then depends only on the
    /// element above (and the reference) go by a short loop; the symbols are the same as element
    /// by element. The entropy decoders are held in locals so that they stay in registers.
    #[inline(always)]
    fn decode_row<const S: u32, const E: u32, const M: u32, const REF: bool>(
        &mut self,
        tables: &LoopTables,
    ) {
        let (mut rans, mut raw) = (self.rans, self.raw);
        let width = self.zeros.len();
        let above_row = if self.above_zero {
            &self.zeros[..width]
        } else {
            &self.above[..width]
        };
        let row = &mut self.row[..width];
        let reference_info = &self.reference_info[..if REF { width } else { 0 }];
        let mut left = (0u32, 0u32);
        let mut x = 0;
        while x < width {
            if left.1 == 0 {
                while x < width {
                    let reference = if REF { reference_info[x] } else { 0 };
                    let kc = kind_slot::<REF>(0, above_row[x].info, reference);
                    if !rans.take_first_symbol(tables.zero_frequency[kc]) {
                        break;
                    }
                    row[x] = Cell::default();
                    x += 1;
                }
                if x == width {
                    break;
                }
            }
            let reference = if REF { reference_info[x] } else { 0 };
            let above = (above_row[x].value, above_row[x].info);
            if left.1 != 0 {
                // After a non-zero value a zero is taken by the same short test as in the loop
                // above, in the general kind context.
                let kc = kind_slot::<REF>(left.1, above.1, reference);
                if rans.take_first_symbol(tables.zero_frequency[kc]) {
                    row[x] = Cell::default();
                    left = (0, 0);
                    x += 1;
                    continue;
                }
            }
            left =
                decode_element::<S, E, M, REF>(tables, &mut rans, &mut raw, left, above, reference);
            row[x] = Cell {
                value: left.0,
                info: left.1,
            };
            x += 1;
        }
        (self.rans, self.raw) = (rans, raw);
    }
}

/// Decodes one element from its left and above neighbours, each given as (value, info) (see
/// [`info`]), and with `REF` the info of the co-located reference value (clauses 8.3.6.3,
/// 8.3.6.7).
#[inline(always)]
fn decode_element<const S: u32, const E: u32, const M: u32, const REF: bool>(
    tables: &LoopTables,
    rans: &mut RansDecoder<'_>,
    raw: &mut RawBits<'_>,
    left: (u32, u32),
    above: (u32, u32),
    reference_info: u32,
) -> (u32, u32) {
    let (left_info, above_info) = (left.1, above.1);
    // `new`, the last symbol, is tested first: one comparison where it is the common one.
    let table = &tables.kind_tables[kind_slot::<REF>(left_info, above_info, reference_info)];
    let kind = if rans.take_last_symbol(table) {
        KIND_NEW
    } else {
        rans.decode_small(table) as u8
    };
    if kind == KIND_NEW {
        let ec =
            if REF && reference_info != 0 && !crate::mutant!("native-exponent-reference-ignored") {
                tables.info.exp_context(reference_info, 0)
            } else if REF && crate::mutant!("native-exponent-reference-zero") {
                1
            } else if left_info != 0
                && above_info != 0
                && crate::mutant!("native-exponent-prediction-left")
            {
                tables.info.exp_context(left_info, 0)
            } else {
                tables.info.exp_context(left_info, above_info)
            };
        let e = rans.decode_exponent(&tables.exp_tables, ec);
        let bits = raw.read(S + M);
        let (sign, mantissa) = if crate::mutant!("native-sign-after-mantissa") {
            (bits & ((1u32 << S) - 1), bits >> S)
        } else {
            (bits >> M, bits & ((1u32 << M) - 1))
        };
        let v = sign << (E + M) | e << M | mantissa;
        (v, tables.info.info(v, e))
    } else {
        // Zero, a copy of the left or of the above neighbour: selected without a branch,
        // whose outcome the processor could not guess.
        let take_left = select(kind == KIND_LEFT);
        let take_above = select(kind == KIND_ABOVE);
        (
            (left.0 & take_left) | (above.0 & take_above),
            (left.1 & take_left) | (above.1 & take_above),
        )
    }
}

/// KindCtx of an element (clause 8.3.6.3) from the info of its left and above neighbours and,
/// with `REF`, of its co-located reference value, as an index into the padded kind tables.
#[inline(always)]
fn kind_slot<const REF: bool>(left_info: u32, above_info: u32, reference_info: u32) -> usize {
    let mut kc = model::kind_context_of_classes(info::class(left_info), info::class(above_info));
    if REF {
        kc = model::kind_context_with_reference(info::class(reference_info), kc);
    }
    kc & (KIND_TABLE_SLOTS - 1)
}

/// All ones when `condition` holds, else 0.
#[inline(always)]
fn select(condition: bool) -> u32 {
    0u32.wrapping_sub(u32::from(condition))
}

fn decode_slices_with<
    const SIZE: usize,
    const S: u32,
    const E: u32,
    const M: u32,
    const REF: bool,
>(
    ctx: &SliceContext<'_>,
    jobs: Vec<SliceJob<'_>>,
    out: &mut Vec<u8>,
) -> Result<(), MethodError> {
    let (width, height) = (ctx.geometry.width, ctx.geometry.height.max(1));
    let tables = ctx.loop_tables.clone();
    // Slices in order: the error reported is the first error of the first failing slice.
    for job in jobs {
        SliceDecoder::new(job, out, width, height)?
            .decode_rows::<SIZE, S, E, M, REF>(ctx, &tables)?;
    }
    Ok(())
}
