//! The properties the fuzz targets check, shared with the regression test that replays every
//! saved input in CI (`encoder/tests/fuzz_regressions.rs`).
#![allow(dead_code)]

use dfc_decoder::native::TensorDesc;
use dfc_decoder::{CodingMethod, ElementType, LayerKind};
use dfc_encoder::{
    encode_quantized_with_output, encode_stream, is_non_negative, ChannelMode, EncoderConfig,
    LayerInput, LossyOptions, MethodChoice, QuantTarget, Quantizer, StepScale, TensorRef,
};

/// Whole-stream decoding: an error or tensors, never a panic; every tensor has the size its
/// layer declares.
pub fn decode(data: &[u8]) {
    if let Ok((info, tensors)) = dfc_decoder::decode_all(data) {
        for t in tensors {
            let layer = &info.layers[usize::from(t.layer_id)];
            assert_eq!(t.data.len() as u64, layer.byte_len());
        }
    }
}

/// Layer selection and random access: the first byte is a mask of the layers to decode. Only
/// selected layers come out; where the full decode succeeds, they equal the full decode's, and
/// decoding from each random-access point gives the full decode's tensors of those frames.
pub fn random_access(data: &[u8]) {
    let Some((&mask, stream)) = data.split_first() else {
        return;
    };
    let selected: Vec<u16> = (0..8).filter(|i| mask & (1 << i) != 0).collect();
    let mut decoder = dfc_decoder::Decoder::new(stream);
    if decoder.info().is_err() {
        return;
    }
    decoder.select_layers(selected.iter().copied());
    let Ok(partial) = decoder.decode_to_end() else {
        return;
    };
    assert!(partial.iter().all(|t| selected.contains(&t.layer_id)));
    if let Ok((_, full)) = dfc_decoder::decode_all(stream) {
        // Starting at any random-access point gives the full decode's tensors from there on.
        for start in dfc_decoder::random_access_points(stream).expect("a valid stream") {
            let mut decoder = dfc_decoder::Decoder::with_options(
                stream,
                dfc_decoder::DecodeOptions {
                    start_frame: Some(start),
                    ..dfc_decoder::DecodeOptions::default()
                },
            );
            let from_start = decoder.decode_to_end().expect("a valid stream decodes");
            let expected: Vec<_> = full
                .iter()
                .filter(|t| t.frame_index >= start)
                .cloned()
                .collect();
            assert_eq!(from_start, expected, "start at frame {start}");
        }
        let expected: Vec<_> = full
            .into_iter()
            .filter(|t| selected.contains(&t.layer_id))
            .collect();
        assert_eq!(partial, expected);
    }
}

/// The element types the quantized method codes.
const FLOATS: [ElementType; 3] = [
    ElementType::Float32,
    ElementType::Float16,
    ElementType::BFloat16,
];

/// The native payload decoder for a tensor description taken from the first 4 bytes: an error
/// or exactly the tensor's size; the thread count does not change the result.
pub fn native_payload(data: &[u8]) {
    payload(CodingMethod::Native, data, |b| {
        ElementType::ALL[usize::from(b) % ElementType::ALL.len()]
    });
    native_payload_with_reference(data);
}

/// The native payload decoder with a value reference list of one tensor (made from the input
/// bytes, repeated to the tensor's size), so that payloads with `ref_distance` 1 reach the
/// decoding with a reference: an error or exactly the tensor's size, the same for 1 and 2
/// threads.
fn native_payload_with_reference(data: &[u8]) {
    if data.len() < 5 {
        return;
    }
    let element_type = ElementType::ALL[usize::from(data[0]) % ElementType::ALL.len()];
    let shape = shape_of(data);
    let desc = TensorDesc {
        element_type,
        shape: &shape,
        non_negative: data[0] & 0x80 != 0,
    };
    let n: usize = shape.iter().map(|&d| d as usize).product::<usize>() * element_type.size();
    let reference: Vec<u8> = data.iter().copied().cycle().take(n).collect();
    let payload = &data[4..];
    let decode = |threads| {
        dfc_decoder::native::decode_native_with_refs(payload, &desc, threads, &[&reference])
    };
    let one = decode(1);
    if let Ok(out) = &one {
        assert_eq!(out.len(), n);
    }
    assert_eq!(one, decode(2));
}

/// The shape taken from bytes 1 to 3 of a payload fuzz input: rank 1 to 4, small dimensions.
fn shape_of(data: &[u8]) -> Vec<u32> {
    let rank = usize::from(data[1] % 4) + 1;
    (0..rank)
        .map(|i| u32::from(data[2] >> (2 * i) & 3) * u32::from(data[3] % 7 + 1) + 1)
        .collect()
}

/// The quantized payload decoder for a float tensor description taken from the first 4 bytes:
/// an error or exactly the tensor's size; the thread count does not change the result.
pub fn quantized_payload(data: &[u8]) {
    payload(CodingMethod::Quantized, data, |b| {
        FLOATS[usize::from(b & 0x7F) % FLOATS.len()]
    });
}

/// Decodes `data[4..]` as a `method` payload of a tensor described by the first 4 bytes (type
/// from byte 0 by `element_type`, non-negative flag bit 7 of byte 0, rank and shape from bytes
/// 1 to 3), with 1 and 2 threads.
fn payload(method: CodingMethod, data: &[u8], element_type: impl Fn(u8) -> ElementType) {
    if data.len() < 4 {
        return;
    }
    let element_type = element_type(data[0]);
    let non_negative = data[0] & 0x80 != 0;
    let shape = shape_of(data);
    let desc = TensorDesc {
        element_type,
        shape: &shape,
        non_negative,
    };
    let payload = &data[4..];
    let one = dfc_decoder::methods::decode_payload(method, payload, &desc, 1);
    if let Ok(out) = &one {
        let n: usize = shape.iter().map(|&d| d as usize).product();
        assert_eq!(out.len(), n * element_type.size());
    }
    let two = dfc_decoder::methods::decode_payload(method, payload, &desc, 2);
    assert_eq!(one, two);
}

/// Lossy encode then decode (differential): the bytes become a float tensor and options (from
/// the first 4 bytes); the decoder outputs exactly the reconstruction the encoder predicted.
pub fn quantized_roundtrip(data: &[u8]) {
    if data.len() < 4 {
        return;
    }
    let element_type = FLOATS[usize::from(data[0]) % FLOATS.len()];
    let body = &data[4..];
    let count = body.len() / element_type.size();
    if count == 0 {
        return;
    }
    let w = usize::from(data[3] % 16) + 1;
    let shape: Vec<u32> = if count % w == 0 && count / w > 1 {
        vec![
            1 + u32::from(data[3] >> 7),
            (count / w) as u32 >> (data[3] >> 7),
            w as u32,
        ]
    } else {
        vec![count as u32]
    };
    let n: usize = shape.iter().map(|&d| d as usize).product();
    let bytes = &body[..n * element_type.size()];
    let tensor = TensorRef {
        element_type,
        shape: &shape,
        data: bytes,
    };
    let target = match data[1] % 4 {
        0 => QuantTarget::Bits(data[2] % 16 + 1),
        1 => QuantTarget::Qp(f64::from(data[2]) / 2.0 - 64.0),
        2 => QuantTarget::Psnr(f64::from(data[2] % 80)),
        _ => QuantTarget::BitsPerElement(f64::from(data[2] % 32) / 4.0 + 0.25),
    };
    let options = LossyOptions {
        target,
        quantizer: if data[1] & 0x10 != 0 && !matches!(target, QuantTarget::Qp(_)) {
            Quantizer::Codebook
        } else {
            Quantizer::Uniform
        },
        channels: [
            ChannelMode::Auto,
            ChannelMode::PerTensor,
            ChannelMode::PerChannel,
        ][usize::from(data[1] >> 5) % 3],
        rdo: data[1] & 0x04 != 0,
        intra: data[1] & 0x08 != 0,
        scale: if data[1] & 0x02 != 0 {
            StepScale::Peak
        } else {
            StepScale::Rms
        },
        zero_threshold: [0.5, 0.4, 0.05, 1.0][usize::from(data[2] >> 6)],
    };
    let non_negative = is_non_negative(element_type, bytes);
    // Non-finite inputs are the encoder's to refuse or clamp; it must not panic either way.
    let Ok((payload, predicted)) = encode_quantized_with_output(&tensor, non_negative, &options, 1)
    else {
        return;
    };
    let desc = TensorDesc {
        element_type,
        shape: &shape,
        non_negative,
    };
    let decoded = dfc_decoder::methods::decode_payload(CodingMethod::Quantized, &payload, &desc, 1)
        .expect("the encoder's payload decodes");
    let decoded = dfc_encoder::float_values(&TensorRef {
        element_type,
        shape: &shape,
        data: &decoded,
    })
    .expect("a float tensor");
    let same = decoded
        .iter()
        .zip(&predicted)
        .all(|(d, p)| d.to_bits() == p.to_bits());
    assert!(same, "decoder output differs from the encoder's prediction");
}

/// Encode then decode: the bytes become a tensor (type, method and shape from the first 3
/// bytes); every method gives back the same bits.
pub fn roundtrip(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let element_type = ElementType::ALL[usize::from(data[0]) % ElementType::ALL.len()];
    let method = CodingMethod::LOSSLESS[usize::from(data[1]) % CodingMethod::LOSSLESS.len()];
    let body = &data[3..];
    let count = body.len() / element_type.size();
    if count == 0 {
        return;
    }
    let w = usize::from(data[2] % 16) + 1;
    let shape = shape_again(count, w);
    let bytes = &body[..count * element_type.size()];
    let layer = LayerInput {
        name: "x".into(),
        kind: LayerKind::Other,
        element_type,
        shape: shape.clone(),
        data: bytes,
        method: MethodChoice::Fixed(method),
    };
    let stream =
        encode_stream(&[layer], &EncoderConfig::default()).expect("small tensors always encode");
    let (_, tensors) = dfc_decoder::decode_all(&stream).expect("the encoder's output decodes");
    assert_eq!(tensors[0].data, bytes);
    native_roundtrip_with_reference(element_type, &shape, bytes);
}

/// The shape of a `roundtrip` tensor of `count` elements: rows of `w` if they divide it.
fn shape_again(count: usize, w: usize) -> Vec<u32> {
    if count % w == 0 && count / w > 1 {
        vec![(count / w) as u32, w as u32]
    } else {
        vec![count as u32]
    }
}

/// The native method with a reference (the tensor reversed, so that it differs from the
/// tensor): the decoder, given the same reference, returns the tensor.
fn native_roundtrip_with_reference(element_type: ElementType, shape: &[u32], bytes: &[u8]) {
    let reference: Vec<u8> = bytes.iter().rev().copied().collect();
    let non_negative = dfc_encoder::is_non_negative(element_type, bytes);
    let payload = dfc_encoder::encode_native_with_reference(
        element_type,
        shape,
        non_negative,
        bytes,
        Some(dfc_encoder::NativeReference {
            ref_distance: 1,
            data: &reference,
        }),
        1,
    );
    let desc = TensorDesc {
        element_type,
        shape,
        non_negative,
    };
    let decoded = dfc_decoder::native::decode_native_with_refs(&payload, &desc, 1, &[&reference])
        .expect("the encoder's payload decodes");
    assert_eq!(decoded, bytes);
}
