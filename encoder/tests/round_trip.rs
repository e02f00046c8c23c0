//! Every coding method x element type x rank decodes bit for bit, special values included.

mod common;

use dfc_decoder::{decode_all, CodingMethod, ElementType, LayerKind, Profile};
use dfc_encoder::{encode_stream, EncoderConfig, LayerInput, MethodChoice};

fn round_trip(layers: &[LayerInput<'_>], config: &EncoderConfig) {
    let stream = encode_stream(layers, config).unwrap();
    let (info, tensors) = decode_all(&stream).unwrap();
    assert_eq!(info.layers.len(), layers.len());
    assert_eq!(tensors.len(), layers.len());
    for (input, (decoded, declared)) in layers.iter().zip(tensors.iter().zip(&info.layers)) {
        assert_eq!(declared.name, input.name);
        assert_eq!(declared.kind, input.kind);
        assert_eq!(decoded.element_type, input.element_type);
        assert_eq!(decoded.shape, input.shape);
        assert!(decoded.data == input.data, "{} differs", input.name);
        assert_eq!(decoded.hash_verified, config.tensor_hashes);
        if let MethodChoice::Fixed(m) = input.method {
            assert_eq!(decoded.coding_method, m);
        }
    }
}

#[test]
fn every_method_type_and_rank() {
    for &method in CodingMethod::LOSSLESS {
        for &t in ElementType::ALL {
            for (r, shape) in common::SHAPES.iter().enumerate() {
                for with_specials in [false, true] {
                    let data = common::tensor(t, shape, with_specials);
                    let layer = LayerInput {
                        name: format!("{method}/{t}/rank{}", r + 1),
                        kind: LayerKind::ALL[r % LayerKind::ALL.len()],
                        element_type: t,
                        shape: shape.to_vec(),
                        data: &data,
                        method: MethodChoice::Fixed(method),
                    };
                    round_trip(&[layer], &EncoderConfig::default());
                }
            }
        }
    }
}

#[test]
fn many_layers_in_one_stream_with_auto_and_without_hashes() {
    let datas: Vec<(ElementType, &[u32], Vec<u8>)> = ElementType::ALL
        .iter()
        .flat_map(|&t| {
            common::SHAPES
                .iter()
                .map(move |s| (t, *s, common::tensor(t, s, true)))
        })
        .collect();
    let layers: Vec<LayerInput<'_>> = datas
        .iter()
        .enumerate()
        .map(|(i, (t, shape, data))| LayerInput {
            name: format!("layer{i}"),
            kind: LayerKind::Conv,
            element_type: *t,
            shape: shape.to_vec(),
            data,
            method: MethodChoice::Auto,
        })
        .collect();
    for tensor_hashes in [true, false] {
        let config = EncoderConfig {
            tensor_hashes,
            metadata: vec![
                ("model".into(), "test".into()),
                ("empty".into(), String::new()),
            ],
            ..EncoderConfig::default()
        };
        round_trip(&layers, &config);
    }
}

#[test]
fn auto_picks_the_smallest_allowed_method() {
    let data = common::tensor(ElementType::Float32, &[64, 8, 8], false);
    let tensor = dfc_encoder::TensorRef {
        element_type: ElementType::Float32,
        shape: &[64, 8, 8],
        data: &data,
    };
    for profile in Profile::ALL {
        let non_negative = dfc_encoder::is_non_negative(ElementType::Float32, &data);
        let coded =
            dfc_encoder::choose_method(MethodChoice::Auto, *profile, &tensor, non_negative, 1)
                .unwrap();
        let (method, payload) = (coded.method, coded.payload);
        assert!(profile.allows_method(method));
        for m in profile.methods().filter(|m| m.is_lossless()) {
            assert!(
                payload.len() <= dfc_encoder::encode_payload(m, &tensor, 1).len(),
                "{m} is smaller than {method}"
            );
        }
    }
}

#[test]
fn baseline_profile_refuses_bzip2_and_bfloat16() {
    let data = common::tensor(ElementType::Float32, &[16], false);
    let mut layer = LayerInput {
        name: "x".into(),
        kind: LayerKind::Fc,
        element_type: ElementType::Float32,
        shape: vec![16],
        data: &data,
        method: MethodChoice::Fixed(CodingMethod::Bzip2),
    };
    let baseline = EncoderConfig {
        profile: Profile::Baseline,
        ..EncoderConfig::default()
    };
    assert!(encode_stream(&[layer.clone()], &baseline).is_err());
    layer.method = MethodChoice::Fixed(CodingMethod::Zlib);
    round_trip(&[layer.clone()], &baseline);
    let bf16 = common::tensor(ElementType::BFloat16, &[16], false);
    layer.element_type = ElementType::BFloat16;
    layer.data = &bf16;
    assert!(encode_stream(&[layer], &baseline).is_err());
}

#[test]
fn encoder_output_is_deterministic() {
    let data = common::tensor(ElementType::Float32, &[4, 9, 9], true);
    let layer = LayerInput {
        name: "x".into(),
        kind: LayerKind::Conv,
        element_type: ElementType::Float32,
        shape: vec![4, 9, 9],
        data: &data,
        method: MethodChoice::Auto,
    };
    let a = encode_stream(std::slice::from_ref(&layer), &EncoderConfig::default()).unwrap();
    let b = encode_stream(&[layer], &EncoderConfig::default()).unwrap();
    assert_eq!(a, b);
}
