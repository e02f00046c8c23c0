//! Test tensors with the values that break careless codecs.
#![allow(dead_code)]

use dfc_decoder::ElementType;

/// Shapes of rank 1 to 4.
pub const SHAPES: [&[u32]; 4] = [&[37], &[3, 11], &[2, 3, 7], &[2, 2, 3, 5]];

/// Special values of each element type, as little-endian bytes: NaN with payloads (quiet and
/// signalling, both signs), -0.0, +-inf, subnormals, extremes.
pub fn specials(t: ElementType) -> Vec<Vec<u8>> {
    match t {
        ElementType::Float32 => [
            0x7FC0_0001u32,
            0xFFC1_2345,
            0x7F80_0001,
            0x8000_0000,
            0x7F80_0000,
            0xFF80_0000,
            0x0000_0001,
            0x807F_FFFF,
            0x7F7F_FFFF,
            0x3F80_0000,
        ]
        .iter()
        .map(|b| b.to_le_bytes().to_vec())
        .collect(),
        ElementType::Float16 | ElementType::BFloat16 => [
            0x7E01u16, 0xFE23, 0x7C01, 0x8000, 0x7C00, 0xFC00, 0x0001, 0x83FF, 0x7BFF, 0x3C00,
            0x7F81,
        ]
        .iter()
        .map(|b| b.to_le_bytes().to_vec())
        .collect(),
        ElementType::Int8 | ElementType::Uint8 => [0u8, 1, 0x7F, 0x80, 0xFF]
            .iter()
            .map(|b| vec![*b])
            .collect(),
    }
}

/// Tensor bytes of the given shape: specials first, then a ReLU-like pattern (runs of zeros and
/// smooth positive values) so that compressors have something to find.
pub fn tensor(t: ElementType, shape: &[u32], with_specials: bool) -> Vec<u8> {
    let n: usize = shape.iter().map(|&d| d as usize).product();
    let mut out = Vec::with_capacity(n * t.size());
    let specials = if with_specials { specials(t) } else { vec![] };
    for i in 0..n {
        if let Some(s) = specials.get(i) {
            out.extend_from_slice(s);
            continue;
        }
        let v = ((i as f32) * 0.37).sin() * 3.0 - 1.0;
        let v = v.max(0.0);
        match t {
            ElementType::Float32 => out.extend_from_slice(&v.to_le_bytes()),
            ElementType::Float16 => {
                out.extend_from_slice(&((v * 1000.0) as u16 & 0x7FFF).to_le_bytes())
            }
            ElementType::BFloat16 => {
                out.extend_from_slice(&((v.to_bits() >> 16) as u16).to_le_bytes())
            }
            ElementType::Int8 | ElementType::Uint8 => out.push((v * 40.0) as u8 & 0x7F),
        }
    }
    out
}

/// A float32 tensor of the repo's real sample corpus (`samples/corpus/REL`): shape and
/// canonical bytes. Only the little-endian float32 C-order .npy files the sample holds.
#[allow(dead_code)]
pub fn sample_tensor(rel: &str) -> (Vec<u32>, Vec<u8>) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../samples/corpus")
        .join(rel);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let header_len = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
    let header = std::str::from_utf8(&bytes[10..10 + header_len]).expect("ASCII header");
    assert!(header.contains("'descr': '<f4'") && header.contains("'fortran_order': False"));
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .expect("a shape");
    let shape: Vec<u32> = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().expect("a dimension"))
        .collect();
    (shape, bytes[10 + header_len..].to_vec())
}
