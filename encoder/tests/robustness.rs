//! Damaged and hostile streams: every truncation and every single-bit flip is rejected with a
//! typed error, never a panic; declared sizes are checked before allocation.

mod common;

use dfc_decoder::syntax::{
    FeatureData, Identification, LayerParameters, SequenceHeader, SyntaxStructure, Unit,
};
use dfc_decoder::{decode_all, CodingMethod, ElementType, ErrorClass, LayerKind, UnitType};
use dfc_encoder::{encode_stream, EncoderConfig, LayerInput, MethodChoice};

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

#[test]
fn every_truncation_is_reported_as_truncated() {
    let (stream, _) = small_stream();
    for len in 0..stream.len() {
        let err = decode_all(&stream[..len]).expect_err("a strict prefix must not decode");
        assert_eq!(
            err.class,
            ErrorClass::Truncated,
            "prefix of {len} bytes: {err}"
        );
        assert_eq!(err.requirement, "REQ-7.2-5");
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    let (stream, _) = small_stream();
    assert!(decode_all(&stream).is_ok());
    for bit in 0..stream.len() * 8 {
        let mut damaged = stream.clone();
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
        assert!(expected.contains(&err.class), "bit {bit}: {err}");
        assert!(err.requirement.starts_with("REQ-"));
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
