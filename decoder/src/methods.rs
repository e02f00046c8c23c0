//! Coding methods (spec clause 8.3): from `method_payload` to the canonical tensor bytes.
//!
//! Every method must produce exactly the tensor's byte count (REQ-8.3-1) and consume the whole
//! payload (REQ-8.3-2). Decompression is bounded by the expected size, so a payload that
//! expands beyond it is stopped one byte past the size, never allocated.

use crate::native::TensorDesc;
use crate::types::CodingMethod;
use std::io::Read;

/// Largest LZMA dictionary a stream may declare, 64 MiB (REQ-8.3.5-2).
pub const LZMA_MAX_DICT_SIZE: u32 = 1 << 26;
/// Bytes of the .lzma header: properties, dictionary size, uncompressed size (clause 8.3.5).
pub const LZMA_HEADER_BYTES: usize = 13;
/// The uncompressed size field's required value, "unknown": the LZMA data ends with the end
/// marker, which every LZMA decoder handles the same way (REQ-8.3.5-3).
pub const LZMA_SIZE_UNKNOWN: u64 = u64::MAX;

/// A method payload that does not decode; carries the violated requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodError {
    pub requirement: &'static str,
    pub message: String,
}

impl MethodError {
    pub(crate) fn new(requirement: &'static str, message: impl Into<String>) -> Self {
        MethodError {
            requirement,
            message: message.into(),
        }
    }
}

/// Decodes `payload` coded with `method` into the canonical bytes of the tensor `desc`
/// describes (clause 8.3). `threads` bounds the threads the native method may use for slices;
/// the output does not depend on it.
pub fn decode_payload(
    method: CodingMethod,
    payload: &[u8],
    desc: &TensorDesc<'_>,
    threads: usize,
) -> Result<Vec<u8>, MethodError> {
    let count: usize = desc.shape.iter().map(|&d| d as usize).product();
    let expected_len = count * desc.element_type.size();
    match method {
        CodingMethod::Native => {
            crate::coverage::hit("branch:method:native");
            crate::native::decode_native(payload, desc, threads)
        }
        CodingMethod::Quantized => {
            crate::coverage::hit("branch:method:quantized");
            crate::quant::decode_quantized(payload, desc, threads)
        }
        CodingMethod::Raw => {
            crate::coverage::hit("branch:method:raw");
            if payload.len() > expected_len && crate::mutant!("raw-longer-accepted") {
                return Ok(payload[..expected_len].to_vec());
            }
            if payload.len() != expected_len {
                return Err(MethodError::new(
                    "REQ-8.3-1",
                    format!(
                        "raw payload has {} bytes, the tensor has {expected_len}",
                        payload.len()
                    ),
                ));
            }
            Ok(payload.to_vec())
        }
        CodingMethod::Zlib => {
            crate::coverage::hit("branch:method:zlib");
            // RFC 1950: FDICT is bit 5 of the FLG byte.
            if payload.len() >= 2 && payload[1] & 0x20 != 0 && !crate::mutant!("zlib-fdict-late") {
                return Err(MethodError::new(
                    "REQ-8.3.2-2",
                    "zlib stream asks for a preset dictionary (FDICT = 1)",
                ));
            }
            decode_zlib(payload, expected_len)
        }
        CodingMethod::Gzip => {
            crate::coverage::hit("branch:method:gzip");
            let decoder = || flate2::bufread::GzDecoder::new(payload);
            read_whole(decoder, expected_len, "REQ-8.3.3-1", "gzip", |d| {
                d.into_inner().len()
            })
        }
        CodingMethod::Bzip2 => {
            crate::coverage::hit("branch:method:bzip2");
            let decoder = || bzip2::bufread::BzDecoder::new(payload);
            read_whole(decoder, expected_len, "REQ-8.3.4-1", "bzip2", |d| {
                d.into_inner().len()
            })
        }
        CodingMethod::Lzma => {
            crate::coverage::hit("branch:method:lzma");
            check_lzma_header(payload)?;
            decode_lzma(payload, expected_len)
        }
    }
}

/// Checks the 13-byte .lzma header (clause 8.3.5) before any decoding.
pub fn check_lzma_header(payload: &[u8]) -> Result<(), MethodError> {
    if payload.len() < LZMA_HEADER_BYTES {
        return Err(MethodError::new(
            "REQ-8.3.5-4",
            format!(
                "lzma payload of {} bytes has no complete header",
                payload.len()
            ),
        ));
    }
    let mut size = [0u8; 8];
    size.copy_from_slice(&payload[5..13]);
    let declared = u64::from_le_bytes(size);
    let size_known = || {
        MethodError::new(
            "REQ-8.3.5-3",
            format!("lzma header declares {declared} uncompressed bytes; it must say \"unknown\" (all ones)"),
        )
    };
    if declared != LZMA_SIZE_UNKNOWN && crate::mutant!("lzma-size-field-first") {
        return Err(size_known());
    }
    let props = payload[0];
    let (lc, lp, pb) = (props % 9, (props / 9) % 5, props / 45);
    if props >= 225 || lc + lp > 4 {
        return Err(MethodError::new(
            "REQ-8.3.5-1",
            format!("lzma properties byte {props} (lc={lc}, lp={lp}, pb={pb}) is not allowed"),
        ));
    }
    let dict_size = u32::from_le_bytes([payload[1], payload[2], payload[3], payload[4]]);
    if dict_size > LZMA_MAX_DICT_SIZE {
        return Err(MethodError::new(
            "REQ-8.3.5-2",
            format!("lzma dictionary of {dict_size} bytes exceeds {LZMA_MAX_DICT_SIZE}"),
        ));
    }
    if declared != LZMA_SIZE_UNKNOWN {
        return Err(size_known());
    }
    Ok(())
}

/// LZMA data after a checked header (clause 8.3.5), through liblzma's .lzma decoder, driven
/// directly so that the input consumed at the end marker is known exactly.
fn decode_lzma(payload: &[u8], expected_len: usize) -> Result<Vec<u8>, MethodError> {
    use xz2::stream::{Action, Status, Stream};
    let invalid = |e: &dyn std::fmt::Display| {
        MethodError::new("REQ-8.3.5-4", format!("lzma data does not decode: {e}"))
    };
    // The header is checked already; the memory limit is a second guard only.
    let mut stream =
        Stream::new_lzma_decoder(2 * u64::from(LZMA_MAX_DICT_SIZE)).map_err(|e| invalid(&e))?;
    let limit = expected_len + 1;
    let mut out = Vec::with_capacity(limit);
    loop {
        let consumed = stream.total_in() as usize;
        let before_out = out.len();
        // Finish once all input is given, so that a missing end marker is reported.
        let action = if consumed == payload.len() {
            Action::Finish
        } else {
            Action::Run
        };
        let status = stream
            .process_vec(&payload[consumed..], &mut out, action)
            .map_err(|e| invalid(&e))?;
        if status == Status::StreamEnd || out.len() == limit {
            break;
        }
        if out.len() == before_out && stream.total_in() as usize == consumed {
            return Err(invalid(&"the data ends before the end marker"));
        }
    }
    let left = payload.len() - stream.total_in() as usize;
    check_extent(out, expected_len, left, "lzma")
}

/// A zlib stream (clause 8.3.2) decompressed into at most N + 1 bytes by the DEFLATE decoder
/// itself, which counts every byte it writes before it meets an error (clause 8.3).
fn decode_zlib(payload: &[u8], expected_len: usize) -> Result<Vec<u8>, MethodError> {
    use flate2::{Decompress, FlushDecompress, Status};
    let unbounded = crate::mutant!("decompression-unbounded");
    let limit = expected_len + 1;
    let mut stream = Decompress::new(true);
    let mut out = Vec::with_capacity(limit);
    loop {
        if unbounded && out.len() == out.capacity() {
            out.reserve(out.len().max(4096));
        }
        let (consumed, produced) = (stream.total_in(), out.len());
        let input = &payload[consumed as usize..];
        match stream.decompress_vec(input, &mut out, FlushDecompress::None) {
            Err(e) if out.len() < limit || unbounded => {
                return Err(MethodError::new(
                    "REQ-8.3.2-1",
                    format!("zlib stream does not decode: {e}"),
                ))
            }
            // The (N + 1)-th byte came before the error.
            Err(_) => break,
            Ok(Status::StreamEnd) => break,
            Ok(_) if out.len() >= limit && !unbounded => break,
            Ok(_) if stream.total_in() == consumed && out.len() == produced => {
                return Err(MethodError::new(
                    "REQ-8.3.2-1",
                    "zlib stream does not decode: the payload ends before the stream",
                ))
            }
            Ok(_) => {}
        }
    }
    let left = payload.len() - stream.total_in() as usize;
    check_extent(out, expected_len, left, "zlib")
}

/// Reads a new decoder of `new_decoder` to its end, at most `expected_len + 1` bytes, then
/// checks the length and that no input is left over (`remaining` gives the unread input
/// bytes), in the order of clause 8.3.
fn read_whole<D: Read>(
    new_decoder: impl Fn() -> D,
    expected_len: usize,
    stream_requirement: &'static str,
    name: &str,
    remaining: impl FnOnce(D) -> usize,
) -> Result<Vec<u8>, MethodError> {
    let unbounded = crate::mutant!("decompression-unbounded");
    let bound = if unbounded {
        u64::MAX
    } else {
        expected_len as u64 + 1
    };
    let mut decoder = new_decoder();
    let mut out = Vec::with_capacity(expected_len);
    if let Err(e) = (&mut decoder).take(bound).read_to_end(&mut out) {
        // A read that fails drops the bytes it produced before the error: count them again,
        // one byte at a time, to know whether the (N + 1)-th byte came first (clause 8.3).
        if !unbounded && produces_more_than(new_decoder(), expected_len) {
            return check_extent(vec![0; expected_len + 1], expected_len, 0, name);
        }
        return Err(MethodError::new(
            stream_requirement,
            format!("{name} stream does not decode: {e}"),
        ));
    }
    let left = remaining(decoder);
    check_extent(out, expected_len, left, name)
}

/// Whether `decoder` produces more than `len` bytes before it ends or fails.
fn produces_more_than(mut decoder: impl Read, len: usize) -> bool {
    let mut byte = [0u8; 1];
    let mut produced = 0;
    while produced <= len {
        match decoder.read(&mut byte) {
            Ok(1) => produced += 1,
            _ => return false,
        }
    }
    true
}

/// The checks every compressed method shares: the decoded data has exactly the tensor's size
/// (REQ-8.3-1) and no input byte is left after the compressed stream (REQ-8.3-2). `out` holds
/// at most `expected_len + 1` bytes.
fn check_extent(
    out: Vec<u8>,
    expected_len: usize,
    left: usize,
    name: &str,
) -> Result<Vec<u8>, MethodError> {
    if left != 0 && crate::mutant!("trailing-bytes-before-length") {
        return Err(MethodError::new(
            "REQ-8.3-2",
            format!("{left} bytes follow the end of the {name} stream"),
        ));
    }
    if out.len() != expected_len {
        let what = if out.len() > expected_len {
            "more than"
        } else {
            "only"
        };
        return Err(MethodError::new(
            "REQ-8.3-1",
            format!(
                "{name} stream decodes to {what} {} bytes, the tensor has {expected_len}",
                out.len().min(expected_len)
            ),
        ));
    }
    if left != 0 {
        return Err(MethodError::new(
            "REQ-8.3-2",
            format!("{left} bytes follow the end of the {name} stream"),
        ));
    }
    Ok(out)
}
