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
            if payload.len() >= 2 && payload[1] & 0x20 != 0 {
                return Err(MethodError::new(
                    "REQ-8.3.2-2",
                    "zlib stream asks for a preset dictionary (FDICT = 1)",
                ));
            }
            let decoder = flate2::bufread::ZlibDecoder::new(payload);
            read_whole(decoder, expected_len, "REQ-8.3.2-1", "zlib", |d| {
                d.into_inner().len()
            })
        }
        CodingMethod::Gzip => {
            crate::coverage::hit("branch:method:gzip");
            let decoder = flate2::bufread::GzDecoder::new(payload);
            read_whole(decoder, expected_len, "REQ-8.3.3-1", "gzip", |d| {
                d.into_inner().len()
            })
        }
        CodingMethod::Bzip2 => {
            crate::coverage::hit("branch:method:bzip2");
            let decoder = bzip2::bufread::BzDecoder::new(payload);
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
    let mut size = [0u8; 8];
    size.copy_from_slice(&payload[5..13]);
    let declared = u64::from_le_bytes(size);
    if declared != LZMA_SIZE_UNKNOWN {
        return Err(MethodError::new(
            "REQ-8.3.5-3",
            format!("lzma header declares {declared} uncompressed bytes; it must say \"unknown\" (all ones)"),
        ));
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

/// Reads `decoder` to its end, at most `expected_len + 1` bytes, then checks the length and
/// that no input is left over (`remaining` gives the unread input bytes).
fn read_whole<D: Read>(
    mut decoder: D,
    expected_len: usize,
    stream_requirement: &'static str,
    name: &str,
    remaining: impl FnOnce(D) -> usize,
) -> Result<Vec<u8>, MethodError> {
    let mut out = Vec::with_capacity(expected_len);
    (&mut decoder)
        .take(expected_len as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| {
            MethodError::new(
                stream_requirement,
                format!("{name} stream does not decode: {e}"),
            )
        })?;
    let left = remaining(decoder);
    check_extent(out, expected_len, left, name)
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
