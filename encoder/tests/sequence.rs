//! Sequences on real video features: access units decode bit-exactly (the tensor hashes are of
//! the encoder's reconstructions), inter prediction pays, and decoding from any random-access
//! point gives the same tensors as decoding from the start.

mod common;

use common::sequence_tensor;
use dfc_decoder::{
    decode_all, random_access_points, DecodeOptions, Decoder, ElementType, LayerKind,
};
use dfc_encoder::{
    distortion, encode_sequence, EncoderConfig, FrameInput, LayerInput, LossyOptions, MethodChoice,
    Prediction, QuantTarget, SequenceOptions,
};

const FRAMES: usize = 8;

/// One tensor of a frame: layer name, shape and canonical bytes.
type Tensor = (String, Vec<u32>, Vec<u8>);

/// The sample sequence: per frame, (layer name, shape, bytes) of both layers.
fn frames() -> Vec<Vec<Tensor>> {
    (0..FRAMES)
        .map(|f| {
            [
                ("res4f", "opennsfw_resnet50_1by2"),
                ("conv5_3", "hed_vgg16"),
            ]
            .iter()
            .map(|(layer, model)| {
                let (shape, data) =
                    sequence_tensor(&format!("{model}/seq_bikes/frame_{f:02}/{layer}.npy"));
                (layer.to_string(), shape, data)
            })
            .collect()
        })
        .collect()
}

fn encode(
    frames: &[Vec<Tensor>],
    method: MethodChoice,
    prediction: Prediction,
    rap_period: u32,
) -> Vec<u8> {
    encode_with(frames, method, prediction, rap_period, None)
}

fn encode_with(
    frames: &[Vec<Tensor>],
    method: MethodChoice,
    prediction: Prediction,
    rap_period: u32,
    bits_per_frame: Option<f64>,
) -> Vec<u8> {
    let inputs: Vec<FrameInput<'_>> = frames
        .iter()
        .enumerate()
        .map(|(f, layers)| FrameInput {
            frame_index: f as u32,
            layers: layers
                .iter()
                .map(|(name, shape, data)| LayerInput {
                    name: name.clone(),
                    kind: LayerKind::Conv,
                    element_type: ElementType::Float32,
                    shape: shape.clone(),
                    data,
                    method,
                })
                .collect(),
        })
        .collect();
    encode_sequence(
        &inputs,
        &EncoderConfig::default(),
        &SequenceOptions {
            prediction,
            rap_period,
            bits_per_frame,
        },
    )
    .unwrap()
}

fn lossy(qp: i32) -> MethodChoice {
    MethodChoice::Quantized(LossyOptions {
        target: QuantTarget::Qp(f64::from(qp)),
        ..LossyOptions::default()
    })
}

#[test]
fn inter_prediction_decodes_exactly_and_pays() {
    let frames = frames();
    let mut sizes = Vec::new();
    for prediction in [Prediction::None, Prediction::Intra, Prediction::Auto] {
        let stream = encode(&frames, lossy(48), prediction, 8);
        let (_, tensors) = decode_all(&stream).unwrap();
        assert_eq!(tensors.len(), 2 * FRAMES);
        assert!(tensors.iter().all(|t| t.hash_verified), "{prediction:?}");
        sizes.push(stream.len());
    }
    let (none, intra, inter) = (sizes[0], sizes[1], sizes[2]);
    assert!(inter < intra && intra <= none, "{sizes:?}");
}

#[test]
fn a_psnr_target_holds_on_every_frame_of_an_inter_coded_sequence() {
    // One quantizer serves the frames from a random-access point to the next (inter
    // prediction codes level differences), so it must be fine enough for the hardest frame.
    let frames = frames();
    for target in [40.0, 48.0] {
        let method = MethodChoice::Quantized(LossyOptions {
            target: QuantTarget::Psnr(target),
            ..LossyOptions::default()
        });
        for rap_period in [3, 8] {
            let stream = encode(&frames, method, Prediction::Auto, rap_period);
            let (_, tensors) = decode_all(&stream).unwrap();
            assert_eq!(tensors.len(), 2 * FRAMES);
            for (t, (f, layer)) in tensors
                .iter()
                .zip((0..FRAMES).flat_map(|f| (0..2).map(move |l| (f, l))))
            {
                let floats = |b: &[u8]| -> Vec<f32> {
                    b.chunks_exact(4)
                        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                        .collect()
                };
                let psnr = distortion(&floats(&frames[f][layer].2), &floats(&t.data)).psnr;
                assert!(
                    psnr >= target,
                    "frame {f} layer {layer}, rap period {rap_period}: {psnr} dB < {target}"
                );
            }
        }
    }
}

#[test]
fn a_bitrate_target_holds_over_the_sequence() {
    let frames = frames();
    for bits_per_frame in [3_000.0, 12_000.0, 40_000.0] {
        for rap_period in [4, 8] {
            let stream = encode_with(
                &frames,
                lossy(0),
                Prediction::Auto,
                rap_period,
                Some(bits_per_frame),
            );
            let (_, tensors) = decode_all(&stream).unwrap();
            assert!(tensors.iter().all(|t| t.hash_verified));
            let rate = 8.0 * stream.len() as f64 / FRAMES as f64;
            assert!(
                (rate / bits_per_frame - 1.0).abs() <= 0.05,
                "rap period {rap_period}: {rate} bits per frame for {bits_per_frame}"
            );
        }
    }
}

#[test]
fn lossless_sequences_round_trip() {
    let frames = frames();
    let stream = encode(&frames, MethodChoice::Auto, Prediction::Auto, 3);
    let (_, tensors) = decode_all(&stream).unwrap();
    for (t, (f, layer)) in tensors
        .iter()
        .zip((0..FRAMES).flat_map(|f| (0..2).map(move |l| (f, l))))
    {
        assert_eq!(t.frame_index, f as u32);
        assert_eq!(t.data, frames[f][layer].2);
    }
}

#[test]
fn decoding_from_a_random_access_point_matches_the_full_decode() {
    let frames = frames();
    let stream = encode(&frames, lossy(40), Prediction::Auto, 3);
    assert_eq!(random_access_points(&stream).unwrap(), vec![0, 3, 6]);
    let (_, full) = decode_all(&stream).unwrap();
    for start in [0u32, 3, 6] {
        let mut decoder = Decoder::with_options(
            &stream[..],
            DecodeOptions {
                start_frame: Some(start),
                ..DecodeOptions::default()
            },
        );
        let partial = decoder.decode_to_end().unwrap();
        let expected: Vec<_> = full
            .iter()
            .filter(|t| t.frame_index >= start)
            .cloned()
            .collect();
        assert_eq!(partial, expected, "start {start}");
    }
    // A frame that is not a random-access point decodes to nothing.
    let mut decoder = Decoder::with_options(
        &stream[..],
        DecodeOptions {
            start_frame: Some(4),
            ..DecodeOptions::default()
        },
    );
    assert!(decoder.decode_to_end().unwrap().is_empty());
}

#[test]
fn lossless_inter_prediction_decodes_exactly_and_pays() {
    let frames = frames();
    let native = MethodChoice::Fixed(dfc_decoder::CodingMethod::Native);
    let none = encode(&frames, native, Prediction::None, 8);
    let inter = encode(&frames, native, Prediction::Inter, 8);
    let (_, tensors) = decode_all(&inter).unwrap();
    for (t, (f, layer)) in tensors
        .iter()
        .zip((0..FRAMES).flat_map(|f| (0..2).map(move |l| (f, l))))
    {
        assert_eq!(t.data, frames[f][layer].2, "frame {f} layer {layer}");
        assert!(t.hash_verified);
    }
    assert!(
        inter.len() < none.len(),
        "{} >= {}",
        inter.len(),
        none.len()
    );
    // Random access: from frame 3 (a random-access point with period 3) the references are
    // rebuilt from that frame on.
    let inter3 = encode(&frames, native, Prediction::Inter, 3);
    let (_, full) = decode_all(&inter3).unwrap();
    let mut decoder = Decoder::with_options(
        &inter3[..],
        DecodeOptions {
            start_frame: Some(3),
            ..DecodeOptions::default()
        },
    );
    let partial = decoder.decode_to_end().unwrap();
    let expected: Vec<_> = full.into_iter().filter(|t| t.frame_index >= 3).collect();
    assert_eq!(partial, expected);
}

#[test]
fn a_layer_negative_in_one_frame_only_stays_lossless() {
    // The layer's non_negative_flag is 0 because of frame 1; frame 0 alone is non-negative,
    // and its native payload must still code sign bits.
    let mut frames: Vec<Vec<Tensor>> = frames().into_iter().take(2).collect();
    for layers in &mut frames {
        layers.truncate(1);
    }
    frames[1][0].2[3] |= 0x80;
    for prediction in [Prediction::None, Prediction::Inter] {
        let stream = encode(
            &frames,
            MethodChoice::Fixed(dfc_decoder::CodingMethod::Native),
            prediction,
            8,
        );
        let (_, tensors) = decode_all(&stream).unwrap();
        assert_eq!(tensors[0].data, frames[0][0].2);
        assert_eq!(tensors[1].data, frames[1][0].2);
    }
}
