//! The native method: bit-exact on edge values, never a panic on damaged payloads, and the
//! output does not depend on the number of threads.

mod common;

use dfc_decoder::methods::decode_payload;
use dfc_decoder::native::TensorDesc;
use dfc_decoder::{CodingMethod, ElementType};
use dfc_encoder::{encode_payload, is_non_negative, TensorRef};

/// A small ReLU-like map with zero rows, repeats of left and above, and non-zero values.
fn feature_map(channels: u32, height: u32, width: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for c in 0..channels {
        for y in 0..height {
            for x in 0..width {
                let v = if y == 1 {
                    0.0
                } else if x % 3 == 2 {
                    ((c * 7 + y * 3 + x - 1) as f32 * 0.61).sin().max(0.0)
                } else {
                    ((c * 7 + y * 3 + x) as f32 * 0.61).sin().max(0.0)
                };
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
    }
    out
}

/// The native payload of a float32 feature map.
fn encode_map(shape: &[u32], data: &[u8], threads: usize) -> Vec<u8> {
    let tensor = TensorRef {
        element_type: ElementType::Float32,
        shape,
        data,
    };
    encode_payload(CodingMethod::Native, &tensor, threads)
}

fn decode(
    coded: &[u8],
    t: ElementType,
    shape: &[u32],
    data: &[u8],
    threads: usize,
) -> Result<Vec<u8>, dfc_decoder::methods::MethodError> {
    let desc = TensorDesc {
        element_type: t,
        shape,
        non_negative: is_non_negative(t, data),
    };
    decode_payload(CodingMethod::Native, coded, &desc, threads)
}

#[test]
fn every_type_rank_and_special_value_round_trips() {
    for &t in ElementType::ALL {
        for shape in common::SHAPES {
            for specials in [false, true] {
                let data = common::tensor(t, shape, specials);
                let coded = encode_payload(
                    CodingMethod::Native,
                    &TensorRef {
                        element_type: t,
                        shape,
                        data: &data,
                    },
                    1,
                );
                assert_eq!(
                    decode(&coded, t, shape, &data, 1).unwrap(),
                    data,
                    "{t} {shape:?}"
                );
            }
        }
    }
}

#[test]
fn many_slices_and_threads_give_the_same_bytes() {
    // 300 maps of 16x16 = 76800 elements: three slices at the encoder's target size.
    let shape = [300, 16, 16];
    let data = feature_map(300, 16, 16);
    let one = encode_map(&shape, &data, 1);
    assert_eq!(one, encode_map(&shape, &data, 3));
    for threads in [1, 2, 5] {
        assert_eq!(
            decode(&one, ElementType::Float32, &shape, &data, threads).unwrap(),
            data
        );
    }
    assert!(
        one.len() < data.len() / 2,
        "the map has structure to find: {} bytes",
        one.len()
    );
}

#[test]
fn damaged_payloads_are_rejected_or_decoded_never_a_panic() {
    let shape = [3, 4, 6];
    let data = feature_map(3, 4, 6);
    let coded = encode_map(&shape, &data, 1);
    let mut rejected = 0;
    for bit in 0..coded.len() * 8 {
        let mut damaged = coded.clone();
        damaged[bit / 8] ^= 1 << (bit % 8);
        match decode(&damaged, ElementType::Float32, &shape, &data, 1) {
            Ok(out) => assert_eq!(out.len(), data.len()),
            Err(e) => {
                assert!(e.requirement.starts_with("REQ-8.3.6-"), "{e:?}");
                rejected += 1;
            }
        }
    }
    // Most flips break a table, the slice index or the final rANS state.
    assert!(
        rejected * 2 > coded.len() * 8,
        "{rejected} of {} flips rejected",
        coded.len() * 8
    );
    for len in 0..coded.len() {
        assert!(
            decode(&coded[..len], ElementType::Float32, &shape, &data, 1).is_err(),
            "prefix {len}"
        );
    }
}

#[test]
fn the_reported_error_does_not_depend_on_threads() {
    let shape = [300, 16, 16];
    let data = feature_map(300, 16, 16);
    let coded = encode_map(&shape, &data, 1);
    // Flip bits spread over the tables, the index and every slice, alone and in pairs.
    for bit in (0..coded.len() * 8).step_by(coded.len() * 8 / 50) {
        let mut damaged = coded.clone();
        damaged[bit / 8] ^= 1 << (bit % 8);
        let far = (bit * 7 + 12345) % (coded.len() * 8);
        let mut twice = damaged.clone();
        twice[far / 8] ^= 1 << (far % 8);
        for input in [&damaged, &twice] {
            let one = decode(input, ElementType::Float32, &shape, &data, 1);
            for threads in [2, 3] {
                assert_eq!(
                    one,
                    decode(input, ElementType::Float32, &shape, &data, threads),
                    "bit {bit}, {threads} threads"
                );
            }
        }
    }
}

#[test]
fn extra_raw_padding_is_rejected() {
    use dfc_decoder::native::syntax::SliceIndex;
    use dfc_decoder::syntax::SyntaxStructure as _;
    let shape = [2, 3, 5];
    let data = feature_map(2, 3, 5);
    let coded = encode_map(&shape, &data, 1);
    let desc = TensorDesc {
        element_type: ElementType::Float32,
        shape: &shape,
        non_negative: true,
    };
    let parts = dfc_decoder::native::parse_parts(&coded, &desc).unwrap();
    assert_eq!(parts.index.slices.len(), 1);
    let (rans, raw) = parts.index.slices[0];
    let index_start = parts.data_offset - 8;
    for extra in 1..=4u32 {
        let mut payload = coded[..index_start].to_vec();
        payload.extend(
            SliceIndex {
                slices: vec![(rans, raw + extra)],
            }
            .to_bytes(),
        );
        payload.extend_from_slice(&coded[parts.data_offset..]);
        payload.extend(std::iter::repeat_n(0u8, extra as usize));
        let e = decode(&payload, ElementType::Float32, &shape, &data, 1).unwrap_err();
        assert_eq!(e.requirement, "REQ-8.3.6-6", "{extra} extra bytes");
    }
}

/// The spec's text.
fn spec() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/dfc-spec.md")).unwrap()
}

/// The bytes of a hex dump in the spec (`OFFSET: XX XX ...` lines).
fn hex_dump_bytes(dump: &str) -> Vec<u8> {
    dump.lines()
        .filter_map(|l| l.split_once(": "))
        .flat_map(|(_, bytes)| {
            bytes
                .split_whitespace()
                .map(|b| u8::from_str_radix(b, 16).unwrap())
        })
        .collect()
}

/// The float32 tensor of the examples of Annex B.2 and B.3 (shape [2, 3]).
fn annex_b_tensor() -> Vec<u8> {
    [0.5f32, 1.0, 0.0, 2.0, 3.25, 0.125]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect()
}

/// The example of spec Annex B.3 is what the reference encoder writes.
#[test]
fn the_spec_example_payload_is_the_encoders() {
    let spec = spec();
    let annex = &spec[spec.find("### B.3 Example of a native payload").unwrap()..];
    let expected = hex_dump_bytes(annex.split("```").nth(1).unwrap());
    let data = annex_b_tensor();
    let tensor = TensorRef {
        element_type: ElementType::Float32,
        shape: &[2, 3],
        data: &data,
    };
    assert_eq!(encode_payload(CodingMethod::Native, &tensor, 1), expected);
}

/// The stream of spec Annex B.2 (raw method, one metadata entry, tensor hash).
fn annex_b2_stream() -> Vec<u8> {
    let data = annex_b_tensor();
    let layer = dfc_encoder::LayerInput {
        name: "fc1".into(),
        kind: dfc_decoder::LayerKind::Fc,
        element_type: ElementType::Float32,
        shape: vec![2, 3],
        data: &data,
        method: dfc_encoder::MethodChoice::Fixed(CodingMethod::Raw),
    };
    let config = dfc_encoder::EncoderConfig {
        level_idc: Some(10),
        metadata: vec![("model".into(), "demo".into())],
        ..dfc_encoder::EncoderConfig::default()
    };
    dfc_encoder::encode_stream(&[layer], &config).unwrap()
}

/// The example of spec Annex B.2, its hex dump and its trace, are what the reference encoder
/// writes and the reference decoder's trace prints.
#[test]
fn the_spec_example_stream_and_trace_are_the_encoders() {
    let spec = spec();
    let annex = &spec[spec.find("### B.2 Example").unwrap()..spec.find("### B.3").unwrap()];
    let blocks: Vec<&str> = annex.split("```").skip(1).step_by(2).collect();
    let expected = hex_dump_bytes(blocks[0]);
    let stream = annex_b2_stream();
    assert_eq!(stream, expected, "hex dump of Annex B.2");
    let mut trace = String::new();
    dfc_decoder::trace::trace(&stream[..], &mut trace).unwrap();
    assert_eq!(trace.trim(), blocks[1].trim(), "trace of Annex B.2");
}

/// The slices of a tensor (Annex C): an even number of about 2^15 elements each, of equal size
/// where the rows allow, whole maps while a map is smaller.
#[test]
fn slices_come_in_an_even_number_of_equal_sizes() {
    use dfc_decoder::native::model::Geometry;
    use dfc_encoder::rows_per_slice;
    let slices = |shape: &[u32]| {
        let g = Geometry::of(shape);
        let rps = rows_per_slice(&g) as usize;
        let sizes: Vec<usize> = (0..g.rows)
            .step_by(rps)
            .map(|first| rps.min(g.rows - first))
            .collect();
        (rps, sizes)
    };
    // 512 maps of 14 x 14: 4 slices of 128 maps (not 3 full ones and a short one, which would
    // give one of two threads twice the work of the other).
    let (rps, sizes) = slices(&[512, 14, 14]);
    assert_eq!((rps, sizes.len()), (128 * 14, 4));
    assert!(sizes.iter().all(|&s| s == rps));
    // 64 maps of 224 x 224: rows of about 2^15 elements, an even number of slices.
    let (rps, sizes) = slices(&[64, 224, 224]);
    assert_eq!(sizes.len() % 2, 0);
    assert!(rps * 224 < (1 << 15) + 224 && sizes[0] == rps);
    // A tensor of at most 2^15 elements is one slice.
    assert_eq!(slices(&[2, 3]).1, vec![2]);
    assert_eq!(slices(&[8, 64, 64]).1.len(), 1);
    // A vector is one row.
    assert_eq!(slices(&[1000]).1, vec![1]);
}
