//! The encoder side of the coding methods (spec clause 8.3; settings in Annex C).

use dfc_decoder::methods::LZMA_HEADER_BYTES;
use dfc_decoder::{CodingMethod, ElementType};
use std::io::Write;

/// DEFLATE level for zlib and gzip: zlib's default.
pub const DEFLATE_LEVEL: u32 = 6;
/// bzip2 block size in units of 100 kB: the `bzip2` tool's default.
pub const BZIP2_LEVEL: u32 = 9;
/// liblzma preset: the `xz` tool's default.
pub const LZMA_PRESET: u32 = 6;

/// A tensor to code: canonical bytes (little-endian, C order) with their type and shape.
#[derive(Clone, Copy, Debug)]
pub struct TensorRef<'a> {
    pub element_type: ElementType,
    pub shape: &'a [u32],
    pub data: &'a [u8],
}

impl<'a> TensorRef<'a> {
    /// A rank-1 uint8 view of plain bytes (for the byte-oriented methods).
    pub fn bytes(data: &'a [u8], shape: &'a [u32]) -> Self {
        TensorRef {
            element_type: ElementType::Uint8,
            shape,
            data,
        }
    }
}

/// Whether no element has its sign set: the value of `non_negative_flag` (clause 7.4).
pub fn is_non_negative(element_type: ElementType, data: &[u8]) -> bool {
    element_type.first_negative(data).is_none()
}

/// Codes a tensor with the lossless `method`. Deterministic; `threads` (native method only)
/// spreads slices over threads without changing the bytes.
///
/// # Panics
/// If `method` is [`CodingMethod::Quantized`]: lossy coding takes options, use
/// [`crate::encode_quantized`].
pub fn encode_payload(method: CodingMethod, tensor: &TensorRef<'_>, threads: usize) -> Vec<u8> {
    encode_payload_within(method, tensor, threads, usize::MAX).expect("no limit")
}

/// Like [`encode_payload`], but gives up (`None`) as soon as the payload is known to be longer
/// than `limit` bytes: the byte compressors are fed in chunks and their output only grows.
pub fn encode_payload_within(
    method: CodingMethod,
    tensor: &TensorRef<'_>,
    threads: usize,
    limit: usize,
) -> Option<Vec<u8>> {
    let data = tensor.data;
    let within = |p: Vec<u8>| (p.len() <= limit).then_some(p);
    match method {
        CodingMethod::Native => within(crate::native::encode_native(
            tensor.element_type,
            tensor.shape,
            is_non_negative(tensor.element_type, data),
            data,
            threads,
        )),
        CodingMethod::Raw => (data.len() <= limit).then(|| data.to_vec()),
        CodingMethod::Zlib => {
            let e = flate2::write::ZlibEncoder::new(
                Vec::with_capacity(data.len() / 2),
                flate2::Compression::new(DEFLATE_LEVEL),
            );
            within(feed(e, data, limit, |e| e.get_ref().len())?.finish().ok()?)
        }
        CodingMethod::Gzip => {
            let e = flate2::GzBuilder::new().mtime(0).write(
                Vec::with_capacity(data.len() / 2),
                flate2::Compression::new(DEFLATE_LEVEL),
            );
            within(feed(e, data, limit, |e| e.get_ref().len())?.finish().ok()?)
        }
        CodingMethod::Bzip2 => {
            let e = bzip2::write::BzEncoder::new(
                Vec::with_capacity(data.len() / 2),
                bzip2::Compression::new(BZIP2_LEVEL),
            );
            within(feed(e, data, limit, |e| e.get_ref().len())?.finish().ok()?)
        }
        CodingMethod::Lzma => encode_lzma(data, limit),
        CodingMethod::Quantized => {
            panic!("encode_payload codes lossless methods; use encode_quantized")
        }
    }
}

/// Writes `data` to a compressor in chunks; `None` once its output passes `limit` bytes.
fn feed<W: Write>(
    mut encoder: W,
    data: &[u8],
    limit: usize,
    output_len: impl Fn(&W) -> usize,
) -> Option<W> {
    for chunk in data.chunks(1 << 16) {
        encoder.write_all(chunk).expect("writing to a Vec");
        if output_len(&encoder) > limit {
            return None;
        }
    }
    Some(encoder)
}

/// LZMA dictionary for a tensor of `len` bytes: the smallest power of two that holds it,
/// between 4 KiB and 8 MiB (preset 6's dictionary), so decoders allocate no more than needed.
pub fn lzma_dict_size(len: usize) -> u32 {
    (len.max(1).next_power_of_two()).clamp(1 << 12, 1 << 23) as u32
}

fn encode_lzma(data: &[u8], limit: usize) -> Option<Vec<u8>> {
    let mut options = xz2::stream::LzmaOptions::new_preset(LZMA_PRESET).expect("preset 6 exists");
    options.dict_size(lzma_dict_size(data.len()));
    let mut stream = xz2::stream::Stream::new_lzma_encoder(&options).expect("valid LZMA options");
    // Output space grows by doubling from what could still win, so that a payload past
    // `limit` is given up early.
    let mut out = Vec::with_capacity(limit.saturating_add(64).min(data.len() / 2 + 64));
    let mut input = data;
    loop {
        if out.capacity() - out.len() < 4096 {
            out.reserve(out.capacity().max(4096));
        }
        let before_in = stream.total_in();
        let status = stream
            .process_vec(input, &mut out, xz2::stream::Action::Finish)
            .expect("LZMA encoding of a buffer does not fail");
        input = &input[(stream.total_in() - before_in) as usize..];
        if out.len() > limit {
            return None;
        }
        if status == xz2::stream::Status::StreamEnd {
            break;
        }
    }
    // liblzma writes "size unknown" and the end marker, as clause 8.3.5 requires.
    debug_assert_eq!(out[5..LZMA_HEADER_BYTES], [0xFF; 8]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dfc_decoder::methods::decode_payload;
    use dfc_decoder::native::TensorDesc;

    const BYTE_COMPRESSORS: &[CodingMethod] = &[
        CodingMethod::Zlib,
        CodingMethod::Gzip,
        CodingMethod::Bzip2,
        CodingMethod::Lzma,
    ];

    fn enc(m: CodingMethod, data: &[u8]) -> Vec<u8> {
        let shape = [data.len() as u32];
        encode_payload(m, &TensorRef::bytes(data, &shape), 1)
    }

    fn dec(
        m: CodingMethod,
        coded: &[u8],
        len: usize,
    ) -> Result<Vec<u8>, dfc_decoder::methods::MethodError> {
        let shape = [len as u32];
        let desc = TensorDesc {
            element_type: ElementType::Uint8,
            shape: &shape,
            non_negative: true,
        };
        decode_payload(m, coded, &desc, 1)
    }

    fn sample() -> Vec<u8> {
        // A ReLU-like float32 signal: zeros and positive values with smooth structure.
        (0..5000u32)
            .flat_map(|i| {
                let v = ((i as f32) * 0.013).sin() * 2.0 - 0.5;
                v.max(0.0).to_le_bytes()
            })
            .collect()
    }

    #[test]
    fn every_method_round_trips() {
        for data in [vec![], vec![7u8], sample()] {
            for &m in CodingMethod::LOSSLESS {
                let coded = enc(m, &data);
                assert_eq!(dec(m, &coded, data.len()).unwrap(), data, "{m}");
            }
        }
    }

    #[test]
    fn encoding_is_deterministic() {
        let data = sample();
        for &m in CodingMethod::LOSSLESS {
            assert_eq!(enc(m, &data), enc(m, &data), "{m}");
        }
    }

    #[test]
    fn compressing_methods_shrink_structured_data() {
        let data = sample();
        for &m in BYTE_COMPRESSORS {
            assert!(enc(m, &data).len() < data.len() / 2, "{m}");
        }
    }

    #[test]
    fn trailing_bytes_and_wrong_sizes_are_rejected() {
        let data = sample();
        for &m in BYTE_COMPRESSORS {
            let mut coded = enc(m, &data);
            assert_eq!(
                dec(m, &coded, data.len() - 1).unwrap_err().requirement,
                "REQ-8.3-1",
                "{m} shorter"
            );
            assert_eq!(
                dec(m, &coded, data.len() + 1).unwrap_err().requirement,
                "REQ-8.3-1",
                "{m} longer"
            );
            coded.push(0);
            assert_eq!(
                dec(m, &coded, data.len()).unwrap_err().requirement,
                "REQ-8.3-2",
                "{m} trailing"
            );
        }
    }

    #[test]
    fn lzma_header_checks() {
        let data = sample();
        let coded = enc(CodingMethod::Lzma, &data);
        let mut bad = coded.clone();
        bad[0] = 225;
        assert_eq!(
            dec(CodingMethod::Lzma, &bad, data.len())
                .unwrap_err()
                .requirement,
            "REQ-8.3.5-1"
        );
        let mut bad = coded.clone();
        bad[1..5].copy_from_slice(&((1u32 << 26) + 1).to_le_bytes());
        assert_eq!(
            dec(CodingMethod::Lzma, &bad, data.len())
                .unwrap_err()
                .requirement,
            "REQ-8.3.5-2"
        );
        let mut bad = coded.clone();
        bad[5..13].copy_from_slice(&(data.len() as u64).to_le_bytes());
        assert_eq!(
            dec(CodingMethod::Lzma, &bad, data.len())
                .unwrap_err()
                .requirement,
            "REQ-8.3.5-3"
        );
        assert_eq!(
            dec(CodingMethod::Lzma, &coded[..10], data.len())
                .unwrap_err()
                .requirement,
            "REQ-8.3.5-4"
        );
        let cut = &coded[..coded.len() - 1];
        assert_eq!(
            dec(CodingMethod::Lzma, cut, data.len())
                .unwrap_err()
                .requirement,
            "REQ-8.3.5-4"
        );
    }

    #[test]
    fn zlib_preset_dictionary_is_rejected() {
        let mut coded = enc(CodingMethod::Zlib, &sample());
        // Set FDICT and fix FCHECK so the header stays a multiple of 31.
        coded[1] |= 0x20;
        coded[1] &= !0x1F;
        let rem = (u16::from(coded[0]) * 256 + u16::from(coded[1])) % 31;
        coded[1] += ((31 - rem) % 31) as u8;
        assert_eq!(
            dec(CodingMethod::Zlib, &coded, 20000)
                .unwrap_err()
                .requirement,
            "REQ-8.3.2-2"
        );
    }
}
