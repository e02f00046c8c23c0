//! Damaged and hostile streams: every truncation and every single-bit flip is rejected with a
//! typed error, never a panic; declared sizes are checked before allocation.

mod common;

use dfc_decoder::syntax::{
    FeatureData, Identification, LayerParameters, SequenceHeader, SyntaxStructure, Unit,
};
use dfc_decoder::{
    decode_all, CodingMethod, DecodeOptions, DecodedTensor, Decoder, ElementType, ErrorClass,
    LayerKind, UnitType,
};
use dfc_encoder::{
    encode_sequence, encode_stream, EncoderConfig, FrameInput, LayerInput, LossyOptions,
    MethodChoice, SequenceOptions,
};

fn small_stream() -> (Vec<u8>, Vec<Vec<u8>>) {
    let a = common::tensor(ElementType::Float32, &[2, 3, 4], true);
    let b = common::tensor(ElementType::Uint8, &[10], false);
    let layers = [
        LayerInput {
            name: "a".into(),
            kind: LayerKind::Conv,
            element_type: ElementType::Float32,
            shape: vec![2, 3, 4],
            data: &a,
            method: MethodChoice::Fixed(CodingMethod::Zlib),
        },
        LayerInput {
            name: "b".into(),
            kind: LayerKind::Fc,
            element_type: ElementType::Uint8,
            shape: vec![10],
            data: &b,
            method: MethodChoice::Fixed(CodingMethod::Raw),
        },
    ];
    let config = EncoderConfig {
        metadata: vec![("k".into(), "v".into())],
        ..EncoderConfig::default()
    };
    (encode_stream(&layers, &config).unwrap(), vec![a, b])
}

/// The streams the damage tests run on: zlib and raw layers; a native and a quantized layer;
/// a sequence of three frames with inter prediction (native and quantized).
fn streams() -> Vec<(&'static str, Vec<u8>)> {
    let f = common::tensor(ElementType::Float32, &[2, 3, 4], false);
    let u = common::tensor(ElementType::Uint8, &[4, 5], false);
    let input = |name: &str, t: ElementType, shape: &[u32], data, method| LayerInput {
        name: name.into(),
        kind: LayerKind::Conv,
        element_type: t,
        shape: shape.to_vec(),
        data,
        method,
    };
    let quantized = MethodChoice::Quantized(LossyOptions::default());
    let native = MethodChoice::Fixed(CodingMethod::Native);
    let coded = encode_stream(
        &[
            input("n", ElementType::Uint8, &[4, 5], &u, native),
            input("q", ElementType::Float32, &[2, 3, 4], &f, quantized),
        ],
        &EncoderConfig::default(),
    )
    .unwrap();
    let frames: Vec<Vec<u8>> = (0..3u8)
        .map(|k| u.iter().map(|&x| x.wrapping_add(k)).collect())
        .collect();
    let float_frames: Vec<Vec<u8>> = (0..3)
        .map(|k| {
            f.chunks(4)
                .flat_map(|c| {
                    (f32::from_le_bytes(c.try_into().unwrap()) + k as f32 * 0.01).to_le_bytes()
                })
                .collect()
        })
        .collect();
    let sequence = encode_sequence(
        &(0..3)
            .map(|k| FrameInput {
                frame_index: k as u32,
                layers: vec![
                    input("n", ElementType::Uint8, &[4, 5], &frames[k], native),
                    input(
                        "q",
                        ElementType::Float32,
                        &[2, 3, 4],
                        &float_frames[k],
                        quantized,
                    ),
                ],
            })
            .collect::<Vec<_>>(),
        &EncoderConfig::default(),
        &SequenceOptions {
            rap_period: 2,
            ..SequenceOptions::default()
        },
    )
    .unwrap();
    vec![
        ("zlib+raw", small_stream().0),
        ("native+quantized", coded),
        ("sequence", sequence),
    ]
}

/// Decodes with damaged units passed over (Annex E): the tensors output and the failures.
fn decode_resilient(stream: &[u8]) -> (Vec<DecodedTensor>, usize, Option<ErrorClass>) {
    let options = DecodeOptions {
        skip_damaged_units: true,
        ..DecodeOptions::default()
    };
    let mut decoder = Decoder::with_options(stream, options);
    let mut tensors = Vec::new();
    let fatal = loop {
        match decoder.next_tensor() {
            Ok(Some(t)) => tensors.push(t),
            Ok(None) => break None,
            Err(e) => break Some(e.class),
        }
    };
    (tensors, decoder.take_damage().len(), fatal)
}

#[test]
fn every_truncation_is_reported_as_truncated() {
    for (what, stream) in streams() {
        every_truncation_of(what, &stream);
    }
}

fn every_truncation_of(what: &str, stream: &[u8]) {
    for len in 0..stream.len() {
        let err = decode_all(&stream[..len]).expect_err("a strict prefix must not decode");
        assert_eq!(
            err.class,
            ErrorClass::Truncated,
            "{what}: prefix of {len} bytes: {err}"
        );
        assert_eq!(err.requirement, "REQ-7.2-5");
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    for (what, stream) in streams() {
        every_bit_flip_of(what, &stream);
    }
}

fn every_bit_flip_of(what: &str, stream: &[u8]) {
    assert!(decode_all(stream).is_ok(), "{what}");
    for bit in 0..stream.len() * 8 {
        let mut damaged = stream.to_vec();
        damaged[bit / 8] ^= 1 << (bit % 8);
        let err = decode_all(&damaged).expect_err("a flipped bit must be caught");
        let expected: &[ErrorClass] = if bit < 32 {
            &[ErrorClass::Invalid] // magic
        } else if bit < 40 {
            &[ErrorClass::Unsupported] // version_major
        } else if bit < 48 {
            &[ErrorClass::Invalid] // version_minor, then REQ-7.3-1
        } else {
            // Inside units: the CRC, or a changed payload_size that runs past the end or the limit.
            &[
                ErrorClass::Corrupt,
                ErrorClass::Truncated,
                ErrorClass::LimitExceeded,
            ]
        };
        assert!(expected.contains(&err.class), "{what}: bit {bit}: {err}");
        assert!(err.requirement.starts_with("REQ-"));
    }
}

#[test]
fn passing_over_damaged_units_outputs_only_exact_tensors() {
    // Annex E: whatever bit is flipped, every tensor output with skip_damaged_units is the
    // intact stream's tensor of that layer and frame, and each loss is reported.
    for (what, stream) in streams() {
        let (_, intact) = decode_all(&stream).unwrap();
        let mut partial = 0;
        for bit in 48..stream.len() * 8 {
            let mut damaged = stream.clone();
            damaged[bit / 8] ^= 1 << (bit % 8);
            let (tensors, failures, fatal) = decode_resilient(&damaged);
            assert!(failures > 0 || fatal.is_some(), "{what}: bit {bit}");
            for t in &tensors {
                let want = intact
                    .iter()
                    .find(|i| (i.layer_id, i.frame_index) == (t.layer_id, t.frame_index))
                    .unwrap_or_else(|| panic!("{what}: bit {bit}: an extra tensor"));
                assert_eq!(t.data, want.data, "{what}: bit {bit}: layer {}", t.layer_id);
            }
            if fatal.is_none() && !tensors.is_empty() && tensors.len() < intact.len() {
                partial += 1;
            }
        }
        assert!(partial > 0, "{what}: no flip left a partial decode");
    }
}

#[test]
fn bytes_after_end_of_sequence_are_rejected() {
    let (mut stream, _) = small_stream();
    stream.push(0);
    let err = decode_all(&stream).unwrap_err();
    assert_eq!(
        (err.class, err.requirement),
        (ErrorClass::Invalid, "REQ-5.2-4")
    );
}

fn stream_of(units: &[(UnitType, Vec<u8>)]) -> Vec<u8> {
    let mut out = Identification::current().to_bytes();
    for (t, payload) in units {
        out.extend(Unit::new(t.code(), payload.clone()).to_bytes());
    }
    out
}

fn header(level_idc: u8, num_layers: u16) -> Vec<u8> {
    SequenceHeader {
        version_major: dfc_decoder::VERSION_MAJOR,
        version_minor: dfc_decoder::VERSION_MINOR,
        profile_idc: 1,
        level_idc,
        num_layers,
        reserved_zero_16bits: 0,
    }
    .to_bytes()
}

fn layer(dims: Vec<u32>) -> Vec<u8> {
    LayerParameters {
        layer_id: 0,
        layer_kind: 0,
        element_type: 0,
        non_negative_flag: false,
        reserved_zero_7bits: 0,
        default_method: 1,
        dims,
        name: b"x".to_vec(),
    }
    .to_bytes()
}

#[test]
fn huge_declared_unit_is_refused_before_allocation() {
    let mut stream = Identification::current().to_bytes();
    stream.extend([UnitType::SequenceHeader.code(), 0xFF, 0xFF, 0xFF, 0xFF]);
    let err = decode_all(&stream).unwrap_err();
    assert_eq!(
        (err.class, err.requirement),
        (ErrorClass::LimitExceeded, "REQ-A.2-3")
    );
}

#[test]
fn huge_declared_tensor_is_refused_before_allocation() {
    let stream = stream_of(&[
        (UnitType::SequenceHeader, header(40, 1)),
        (UnitType::LayerParameters, layer(vec![u32::MAX; 4])),
    ]);
    let err = decode_all(&stream).unwrap_err();
    assert_eq!(
        (err.class, err.requirement),
        (ErrorClass::LimitExceeded, "REQ-A.2-2")
    );
}

#[test]
fn decompression_bomb_stops_at_the_declared_size() {
    // 64 MiB of zeros deflate to about 64 kB; the layer declares 16 float32 values.
    let zeros = vec![0u8; 64 << 20];
    let shape = [zeros.len() as u32];
    let bomb = dfc_encoder::encode_payload(
        CodingMethod::Zlib,
        &dfc_encoder::TensorRef::bytes(&zeros, &shape),
        1,
    );
    let stream = stream_of(&[
        (UnitType::SequenceHeader, header(20, 1)),
        (UnitType::LayerParameters, layer(vec![16])),
        (
            UnitType::FeatureData,
            FeatureData {
                layer_id: 0,
                frame_index: 0,
                coding_method: 1,
                method_payload: bomb,
            }
            .to_bytes(),
        ),
        (UnitType::EndOfSequence, vec![]),
    ]);
    let err = decode_all(&stream).unwrap_err();
    assert_eq!(
        (err.class, err.requirement),
        (ErrorClass::Invalid, "REQ-8.3-1")
    );
}

#[test]
fn hash_mismatch_is_corrupt() {
    let data = common::tensor(ElementType::Float32, &[8], false);
    let l = LayerInput {
        name: "x".into(),
        kind: LayerKind::Fc,
        element_type: ElementType::Float32,
        shape: vec![8],
        data: &data,
        method: MethodChoice::Fixed(CodingMethod::Raw),
    };
    let stream = encode_stream(&[l], &EncoderConfig::default()).unwrap();
    // Rebuild the stream with one data byte changed and the CRCs recomputed.
    let mut units = Vec::new();
    let mut pos = 6;
    while pos < stream.len() {
        let size = u32::from_be_bytes(stream[pos + 1..pos + 5].try_into().unwrap()) as usize;
        let mut payload = stream[pos + 5..pos + 5 + size].to_vec();
        if stream[pos] == UnitType::FeatureData.code() {
            payload[7] ^= 0x01;
        }
        units.push((UnitType::from_code(stream[pos]).unwrap(), payload));
        pos += 9 + size;
    }
    let err = decode_all(&stream_of(&units)).unwrap_err();
    assert_eq!(
        (err.class, err.requirement),
        (ErrorClass::Corrupt, "REQ-8.5-1")
    );
}

#[test]
fn layer_selection_skips_other_layers() {
    let (stream, data) = small_stream();
    let mut decoder = dfc_decoder::Decoder::new(&stream[..]);
    decoder.info().unwrap();
    decoder.select_layers([1]);
    let tensors = decoder.decode_to_end().unwrap();
    assert_eq!(tensors.len(), 1);
    assert_eq!(tensors[0].layer_id, 1);
    assert_eq!(tensors[0].data, data[1]);
}

#[test]
fn selection_does_not_decompress_a_broken_payload() {
    // Layer 0's zlib payload is garbage, but only layer 1 is selected: decoding succeeds.
    let good = common::tensor(ElementType::Float32, &[4], false);
    let mut lp1 = LayerParameters::from_bytes_for_test(layer(vec![4]));
    lp1.layer_id = 1;
    lp1.name = b"y".to_vec();
    lp1.default_method = 0;
    let stream = stream_of(&[
        (UnitType::SequenceHeader, header(10, 2)),
        (UnitType::LayerParameters, layer(vec![4])),
        (UnitType::LayerParameters, lp1.to_bytes()),
        (
            UnitType::FeatureData,
            FeatureData {
                layer_id: 0,
                frame_index: 0,
                coding_method: 1,
                method_payload: vec![1, 2, 3],
            }
            .to_bytes(),
        ),
        (
            UnitType::FeatureData,
            FeatureData {
                layer_id: 1,
                frame_index: 0,
                coding_method: 0,
                method_payload: good.clone(),
            }
            .to_bytes(),
        ),
        (UnitType::EndOfSequence, vec![]),
    ]);
    assert!(decode_all(&stream).is_err());
    let mut decoder = dfc_decoder::Decoder::new(&stream[..]);
    decoder.info().unwrap();
    decoder.select_layers([1]);
    let tensors = decoder.decode_to_end().unwrap();
    assert_eq!(tensors.len(), 1);
    assert_eq!(tensors[0].data, good);
}

trait FromBytesForTest {
    fn from_bytes_for_test(bytes: Vec<u8>) -> Self;
}

impl FromBytesForTest for LayerParameters {
    fn from_bytes_for_test(bytes: Vec<u8>) -> Self {
        use bitstream_io::FromBitStream;
        let mut r = bitstream_io::BitReader::endian(&bytes[..], bitstream_io::BigEndian);
        LayerParameters::from_reader(&mut r).unwrap()
    }
}
