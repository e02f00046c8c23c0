//! `auto` tries only the methods that can still win, and gives exactly the payload the
//! exhaustive choice (every lossless method of the profile, the smallest, the lower code on a
//! tie) gives.

use dfc_decoder::{CodingMethod, ElementType, Profile};
use dfc_encoder::{
    choose_method, encode_payload, encode_payload_within, is_non_negative, MethodChoice, TensorRef,
};

/// Every lossless method of `profile`, the smallest payload, the lower code on a tie.
fn exhaustive(profile: Profile, t: &TensorRef<'_>) -> (CodingMethod, Vec<u8>) {
    profile
        .methods()
        .filter(|m| m.is_lossless())
        .map(|m| (m, encode_payload(m, t, 1)))
        .min_by_key(|(m, p)| (p.len(), m.code()))
        .unwrap()
}

/// Tensors on which different methods win: zeros, noise, smooth floats, a real feature map.
fn tensors() -> Vec<(ElementType, Vec<u32>, Vec<u8>)> {
    let mut state = 0x9E37_79B9u32;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        state as u8
    };
    let noisy: Vec<u8> = (0..4096).map(|_| noise()).collect();
    let smooth: Vec<u8> = (0..2048)
        .flat_map(|i| ((i as f32 * 0.01).sin().max(0.0)).to_le_bytes())
        .collect();
    let repeated: Vec<u8> = (0..8192).map(|i| (i % 7) as u8).collect();
    let real = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../samples/corpus/opennsfw_resnet50_1by2/astronaut/res5c.npy"),
    )
    .unwrap();
    // A little-endian float32 .npy (version 1): the data after its header.
    let header = 10 + usize::from(u16::from_le_bytes([real[8], real[9]]));
    let real = real[header..].to_vec();
    vec![
        (ElementType::Uint8, vec![64, 64], vec![0; 4096]),
        (ElementType::Uint8, vec![64, 64], noisy),
        (ElementType::Float32, vec![2048], smooth),
        (ElementType::Uint8, vec![8192], repeated),
        (ElementType::Float32, vec![(real.len() / 4) as u32], real),
        (ElementType::Uint8, vec![1], vec![42]),
    ]
}

#[test]
fn auto_gives_the_exhaustive_choice() {
    for (element_type, shape, data) in tensors() {
        let t = TensorRef {
            element_type,
            shape: &shape,
            data: &data,
        };
        for profile in [Profile::Main, Profile::Baseline] {
            let want = exhaustive(profile, &t);
            let got = choose_method(
                MethodChoice::Auto,
                profile,
                &t,
                is_non_negative(element_type, &data),
                1,
            )
            .unwrap();
            assert_eq!(
                (got.method, got.payload.len()),
                (want.0, want.1.len()),
                "{element_type} {shape:?} {profile}"
            );
            assert_eq!(got.payload, want.1);
        }
    }
}

#[test]
fn a_payload_past_its_limit_is_given_up_and_gzip_is_zlib_and_twelve_bytes() {
    for (element_type, shape, data) in tensors() {
        let t = TensorRef {
            element_type,
            shape: &shape,
            data: &data,
        };
        let zlib = encode_payload(CodingMethod::Zlib, &t, 1);
        let gzip = encode_payload(CodingMethod::Gzip, &t, 1);
        assert_eq!(gzip.len(), zlib.len() + 12);
        assert_eq!(zlib[2..zlib.len() - 4], gzip[10..gzip.len() - 8]);
        for m in [CodingMethod::Zlib, CodingMethod::Bzip2, CodingMethod::Lzma] {
            let full = encode_payload(m, &t, 1);
            assert_eq!(
                encode_payload_within(m, &t, 1, full.len()).as_deref(),
                Some(&full[..])
            );
            assert_eq!(encode_payload_within(m, &t, 1, full.len() - 1), None);
        }
    }
}
