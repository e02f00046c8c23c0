//! The quantized method on real features: the decoder outputs exactly what the encoder
//! predicts, targets are met, and every quantizer and element type decodes.

mod common;

use common::sample_tensor;
use dfc_decoder::methods::decode_payload;
use dfc_decoder::native::TensorDesc;
use dfc_decoder::{CodingMethod, ElementType};
use dfc_encoder::{
    distortion, encode_quantized_with_output, float_values, is_non_negative, ChannelMode,
    LossyOptions, QuantTarget, Quantizer, StepScale, TensorRef,
};

const SAMPLES: [&str; 3] = [
    "opennsfw_resnet50_1by2/astronaut/res5c.npy",
    "hed_vgg16/astronaut/pool4.npy",
    "opennsfw_resnet50_1by2/astronaut/pool5.npy",
];

/// Encodes, decodes with the reference decoder, checks that the decoder's output is the
/// encoder's prediction bit for bit, and returns (bits per element, PSNR).
fn round_trip(
    element_type: ElementType,
    shape: &[u32],
    data: &[u8],
    options: &LossyOptions,
    threads: usize,
) -> (f64, f64) {
    let tensor = TensorRef {
        element_type,
        shape,
        data,
    };
    let non_negative = is_non_negative(element_type, data);
    let (payload, predicted) =
        encode_quantized_with_output(&tensor, non_negative, options, threads).unwrap();
    let desc = TensorDesc {
        element_type,
        shape,
        non_negative,
    };
    let decoded = decode_payload(CodingMethod::Quantized, &payload, &desc, threads).unwrap();
    let decoded_tensor = TensorRef {
        element_type,
        shape,
        data: &decoded,
    };
    let decoded = float_values(&decoded_tensor).unwrap();
    assert_eq!(decoded.len(), predicted.len());
    for (i, (d, p)) in decoded.iter().zip(&predicted).enumerate() {
        assert_eq!(d.to_bits(), p.to_bits(), "element {i}: {options:?}");
    }
    if non_negative {
        assert!(decoded.iter().all(|v| v.is_sign_positive()));
    }
    let original = float_values(&tensor).unwrap();
    let bpe = 8.0 * payload.len() as f64 / original.len() as f64;
    (bpe, distortion(&original, &decoded).psnr)
}

#[test]
fn decoder_output_is_the_encoders_prediction_for_every_option() {
    for rel in SAMPLES {
        let (shape, data) = sample_tensor(rel);
        let targets = [
            QuantTarget::Bits(1),
            QuantTarget::Bits(4),
            QuantTarget::Bits(8),
            QuantTarget::Bits(16),
            QuantTarget::Qp(40.0),
        ];
        for target in targets {
            for channels in [ChannelMode::PerTensor, ChannelMode::PerChannel] {
                for (rdo, intra) in [(false, false), (true, false), (false, true), (true, true)] {
                    let options = LossyOptions {
                        target,
                        quantizer: Quantizer::Uniform,
                        channels,
                        rdo,
                        intra,
                        scale: StepScale::Rms,
                        zero_threshold: if intra { 0.4 } else { 0.5 },
                    };
                    round_trip(ElementType::Float32, &shape, &data, &options, 1);
                }
            }
        }
        for bits in [1, 3, 6] {
            let options = LossyOptions {
                target: QuantTarget::Bits(bits),
                quantizer: Quantizer::Codebook,
                ..LossyOptions::default()
            };
            round_trip(ElementType::Float32, &shape, &data, &options, 1);
        }
    }
}

#[test]
fn more_bits_cost_more_and_distort_less() {
    let (shape, data) = sample_tensor(SAMPLES[1]);
    let mut last = (0.0, 0.0);
    for bits in [2, 4, 6, 8, 10] {
        let options = LossyOptions {
            target: QuantTarget::Bits(bits),
            ..LossyOptions::default()
        };
        let (bpe, psnr) = round_trip(ElementType::Float32, &shape, &data, &options, 1);
        assert!(
            bpe > last.0 && psnr > last.1,
            "{bits} bits: {bpe} bpe, {psnr} dB"
        );
        last = (bpe, psnr);
    }
}

#[test]
fn psnr_and_rate_targets_are_met() {
    for rel in SAMPLES {
        let (shape, data) = sample_tensor(rel);
        for target in [30.0, 45.0] {
            let options = LossyOptions {
                target: QuantTarget::Psnr(target),
                ..LossyOptions::default()
            };
            let (_, psnr) = round_trip(ElementType::Float32, &shape, &data, &options, 1);
            assert!(psnr >= target, "{rel}: {psnr} dB < {target}");
            // The coarsest quantizer that meets it (qp on a grid of 1/16, about 0.05 dB).
            assert!(psnr < target + 0.25, "{rel}: {psnr} dB for {target}");
            let rdo = LossyOptions {
                rdo: true,
                ..options
            };
            let (_, psnr) = round_trip(ElementType::Float32, &shape, &data, &rdo, 1);
            assert!(psnr >= target, "{rel} with RDO: {psnr} dB < {target}");
        }
        for target in [0.5, 2.0] {
            let options = LossyOptions {
                target: QuantTarget::BitsPerElement(target),
                ..LossyOptions::default()
            };
            let (bpe, _) = round_trip(ElementType::Float32, &shape, &data, &options, 1);
            // Tensors too small for the rate still get the coarsest quantizer.
            if shape.iter().product::<u32>() > 10_000 {
                assert!(bpe <= target, "{rel}: {bpe} bpe > {target}");
                assert!(bpe >= 0.95 * target, "{rel}: {bpe} bpe for {target}");
            }
        }
    }
}

#[test]
fn rms_relative_steps_keep_the_relative_error_when_one_value_is_an_outlier() {
    // A real map and the same map with one element 10 times the peak: with RMS-relative
    // steps one qp gives about the same error on both; with peak-relative ones the outlier
    // coarsens the step of every element.
    let (shape, data) = sample_tensor(SAMPLES[0]);
    let values = float_values(&TensorRef {
        element_type: ElementType::Float32,
        shape: &shape,
        data: &data,
    })
    .unwrap();
    let peak = values.iter().fold(0f32, |m, v| m.max(v.abs()));
    let mut spiked = values.clone();
    spiked[0] = 10.0 * peak;
    let spiked: Vec<u8> = spiked.iter().flat_map(|v| v.to_le_bytes()).collect();
    let error = |data: &[u8], scale: StepScale| {
        // About the same step on the original map for both scales.
        let qp = if scale == StepScale::Rms { 16.0 } else { 56.0 };
        let options = LossyOptions {
            target: QuantTarget::Qp(qp),
            scale,
            ..LossyOptions::default()
        };
        let tensor = TensorRef {
            element_type: ElementType::Float32,
            shape: &shape,
            data,
        };
        let (_, decoded) = encode_quantized_with_output(
            &tensor,
            is_non_negative(ElementType::Float32, data),
            &options,
            1,
        )
        .unwrap();
        // Error over the elements both tensors share.
        distortion(&values[1..], &decoded[1..]).mse
    };
    let rms = (error(&spiked, StepScale::Rms) / error(&data, StepScale::Rms)).max(1e-9);
    let peak_ratio = error(&spiked, StepScale::Peak) / error(&data, StepScale::Peak);
    assert!(rms < 40.0, "RMS-relative: error × {rms}");
    assert!(
        peak_ratio > 40.0 * rms,
        "peak-relative: error × {peak_ratio}, RMS × {rms}"
    );
}

#[test]
fn the_zero_threshold_decides_which_small_values_vanish() {
    let (shape, data) = sample_tensor(SAMPLES[1]);
    let nonzero = |zero_threshold: f64| {
        let options = LossyOptions {
            target: QuantTarget::Qp(8.0),
            zero_threshold,
            ..LossyOptions::default()
        };
        let tensor = TensorRef {
            element_type: ElementType::Float32,
            shape: &shape,
            data: &data,
        };
        let (_, decoded) = encode_quantized_with_output(&tensor, true, &options, 1).unwrap();
        decoded.iter().filter(|v| **v != 0.0).count()
    };
    let (keep, nearest, drop) = (nonzero(0.4), nonzero(0.5), nonzero(0.9));
    assert!(keep > nearest && nearest > drop, "{keep} {nearest} {drop}");
    // A PSNR target still holds: the search quantizes as the encoder does.
    let options = LossyOptions {
        target: QuantTarget::Psnr(40.0),
        zero_threshold: 0.4,
        ..LossyOptions::default()
    };
    let (_, psnr) = round_trip(ElementType::Float32, &shape, &data, &options, 1);
    assert!((40.0..40.25).contains(&psnr), "{psnr} dB");
}

#[test]
fn intra_prediction_pays_on_a_smooth_early_layer() {
    // ResNet pool1: dense and spatially smooth, where MED residuals beat plain levels.
    let (shape, data) = sample_tensor("opennsfw_resnet50_1by2/astronaut/pool1.npy");
    let at = |intra| {
        let options = LossyOptions {
            target: QuantTarget::Bits(8),
            channels: ChannelMode::PerTensor,
            intra,
            ..LossyOptions::default()
        };
        round_trip(ElementType::Float32, &shape, &data, &options, 1)
    };
    let (plain, intra) = (at(false), at(true));
    assert_eq!(
        plain.1, intra.1,
        "prediction is lossless in the level domain"
    );
    assert!(
        intra.0 < 0.95 * plain.0,
        "intra {intra:?} vs plain {plain:?}"
    );
}

#[test]
fn rdo_rounding_saves_rate_at_equal_step() {
    let (shape, data) = sample_tensor(SAMPLES[0]);
    let at = |rdo| {
        let options = LossyOptions {
            target: QuantTarget::Qp(48.0),
            channels: ChannelMode::PerTensor,
            rdo,
            ..LossyOptions::default()
        };
        round_trip(ElementType::Float32, &shape, &data, &options, 1)
    };
    let (nearest, rdo) = (at(false), at(true));
    assert!(rdo.0 < nearest.0, "rdo {rdo:?} vs nearest {nearest:?}");
}

#[test]
fn half_precision_layers_and_signed_values_decode_exactly() {
    let (shape, data) = sample_tensor(SAMPLES[1]);
    let values: Vec<f32> = data
        .chunks_exact(4)
        .enumerate()
        .map(|(i, c)| {
            let v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
            if i % 3 == 0 {
                -v
            } else {
                v
            }
        })
        .collect();
    let signed: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let f16: Vec<u8> = values
        .iter()
        .flat_map(|&v| half::f16::from_f32(v).to_le_bytes())
        .collect();
    let bf16: Vec<u8> = values
        .iter()
        .flat_map(|&v| half::bf16::from_f32(v).to_le_bytes())
        .collect();
    for (t, d) in [
        (ElementType::Float32, &signed),
        (ElementType::Float16, &f16),
        (ElementType::BFloat16, &bf16),
    ] {
        for quantizer in [Quantizer::Uniform, Quantizer::Codebook] {
            let options = LossyOptions {
                target: QuantTarget::Bits(5),
                quantizer,
                ..LossyOptions::default()
            };
            let (_, psnr) = round_trip(t, &shape, d, &options, 2);
            assert!(psnr > 20.0, "{t} {quantizer:?}: {psnr} dB");
        }
    }
}

#[test]
fn integer_layers_are_refused() {
    let data = [1u8, 2, 3, 4];
    let tensor = TensorRef {
        element_type: ElementType::Uint8,
        shape: &[4],
        data: &data,
    };
    let e = encode_quantized_with_output(&tensor, true, &LossyOptions::default(), 1);
    assert!(e.is_err());
}

#[test]
fn bytes_do_not_depend_on_threads() {
    let (shape, data) = sample_tensor(SAMPLES[1]);
    let tensor = TensorRef {
        element_type: ElementType::Float32,
        shape: &shape,
        data: &data,
    };
    let options = LossyOptions {
        target: QuantTarget::Qp(56.0),
        ..LossyOptions::default()
    };
    let one = encode_quantized_with_output(&tensor, true, &options, 1).unwrap();
    let two = encode_quantized_with_output(&tensor, true, &options, 2).unwrap();
    assert_eq!(one.0, two.0);
}
