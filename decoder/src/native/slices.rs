//! What the slices of the native and quantized methods share (clause 8.3.6.7, used by clause
//! 8.3.7.6): the checks after each row and at the end of a slice, and decoding groups of
//! slices on several threads so that the lowest failing slice's violation is the one reported.

use super::rans::{RansDecoder, RansError, RawBits};
use super::syntax::SliceIndex;
use crate::methods::MethodError;
use bitstream_io::{BigEndian, BitRead, BitReader, FromBitStreamWith};

/// Reads what follows the frequency tables of a native or quantized payload (clauses 6.9,
/// 6.10): `alignment_zero_bits` (REQ-8.3.6-3) and slice_index( ) of `num_slices` slices, whose
/// byte counts must add up to the rest of the payload (REQ-8.3.6-4). `truncated` is the
/// method's error for a payload that ends too early (REQ-8.3.6-7, REQ-8.3.7-4). Returns the
/// index and the offset in `payload` of the first slice's data.
pub fn read_slice_index(
    mut r: BitReader<&[u8], BigEndian>,
    payload: &[u8],
    num_slices: usize,
    truncated: impl Fn() -> MethodError,
) -> Result<(SliceIndex, usize), MethodError> {
    while !r.byte_aligned() {
        if r.read_bit().map_err(|_| truncated())? {
            return Err(MethodError::new(
                "REQ-8.3.6-3",
                "alignment_zero_bits is not 0",
            ));
        }
    }
    let mut reader = r.into_reader();
    let table_end = payload.len() - reader.len();
    if (reader.len() as u64) < 8 * num_slices as u64 {
        return Err(truncated());
    }
    let mut ir = BitReader::endian(&mut reader, BigEndian);
    let index = SliceIndex::from_reader(&mut ir, &num_slices).map_err(|_| truncated())?;
    crate::coverage::syntax(&index);
    let data_offset = table_end + 8 * num_slices;
    let total: u64 = index
        .slices
        .iter()
        .map(|&(a, b)| u64::from(a) + u64::from(b))
        .sum();
    if total != (payload.len() - data_offset) as u64 {
        return Err(MethodError::new(
            "REQ-8.3.6-4",
            format!(
                "the slice index lists {total} bytes of slice data, the payload holds {}",
                payload.len() - data_offset
            ),
        ));
    }
    Ok((index, data_offset))
}

/// The violation behind a rANS decoding error (REQ-8.3.6-5, REQ-8.3.6-6).
pub fn rans_error(e: RansError) -> MethodError {
    match e {
        RansError::EmptyContext => MethodError::new(
            "REQ-8.3.6-5",
            "a symbol is coded in a context whose frequency table is empty",
        ),
        RansError::Exhausted => MethodError::new("REQ-8.3.6-6", "the slice's rANS data ends early"),
    }
}

/// Check 2 of clause 8.3.6.7, after a row: an empty context first, then missing data.
#[inline(always)]
pub fn check_row(rans: &RansDecoder<'_>, raw: &RawBits<'_>) -> Result<(), MethodError> {
    if rans.error().is_none() && !raw.overrun() {
        return Ok(());
    }
    row_error(rans, raw)
}

/// The violation [`check_row`] found, out of the decoding loop.
#[cold]
#[inline(never)]
fn row_error(rans: &RansDecoder<'_>, raw: &RawBits<'_>) -> Result<(), MethodError> {
    if let Some(e) = rans.error() {
        return Err(rans_error(e));
    }
    if raw.overrun() {
        return Err(MethodError::new(
            "REQ-8.3.6-6",
            "the slice's raw data ends early",
        ));
    }
    Ok(())
}

/// Check 3 of clause 8.3.6.7, after the last row: the final rANS state, then the raw bits.
pub fn check_slice_end(rans: &RansDecoder<'_>, raw: &RawBits<'_>) -> Result<(), MethodError> {
    if !rans.finished_cleanly() {
        return Err(MethodError::new(
            "REQ-8.3.6-6",
            "the slice's rANS data does not end in the final state 2^16 with every byte read",
        ));
    }
    if !raw.finished_cleanly() {
        return Err(MethodError::new(
            "REQ-8.3.6-6",
            "the slice's raw data has unread bytes or non-zero padding bits",
        ));
    }
    Ok(())
}

/// Runs `decode` on contiguous groups of the slice jobs, one group per thread (at most
/// `threads`), and joins the groups in order, returning their results in order: if `decode`
/// stops a group at its first failing slice, the error returned is that of the lowest-index
/// failing slice.
pub fn decode_in_groups<J: Send, R: Send>(
    jobs: Vec<J>,
    threads: usize,
    decode: impl Fn(Vec<J>) -> Result<R, MethodError> + Sync,
) -> Result<Vec<R>, MethodError> {
    let threads = threads.clamp(1, jobs.len().max(1));
    if threads == 1 {
        return Ok(vec![decode(jobs)?]);
    }
    let chunk = jobs.len().div_ceil(threads);
    let mut groups: Vec<Vec<J>> = Vec::new();
    let mut jobs = jobs.into_iter().peekable();
    while jobs.peek().is_some() {
        groups.push(jobs.by_ref().take(chunk).collect());
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = groups
            .into_iter()
            .map(|group| {
                let decode = &decode;
                s.spawn(move || decode(group))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("slice decoding does not panic"))
            .collect()
    })
}
