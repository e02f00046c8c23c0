//! `dfc encode` / `dfc decode` on a directory of frames: access units, the frame_NN layout in
//! and out, inter prediction, and `--start-frame` from a random-access point.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

mod common;
use common::{dfc, ok};

fn sequence() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/sequence")
}

fn encode(out: &Path, extra: &[&str]) -> u64 {
    let input = sequence();
    let mut args = vec![
        OsStr::new("encode"),
        input.as_os_str(),
        OsStr::new("-o"),
        out.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    ok(dfc(args));
    std::fs::metadata(out).unwrap().len()
}

#[test]
fn sequences_decode_into_the_input_layout_and_inter_prediction_pays() {
    let tmp = tempfile::tempdir().unwrap();
    let stream = tmp.path().join("seq.dfc");
    let lossless = encode(&stream, &["--rap-period", "4"]);
    let decoded = tmp.path().join("lossless");
    ok(dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        decoded.as_os_str(),
    ]));
    for model_layer in [
        "opennsfw_resnet50_1by2/seq_bikes/frame_00/res4f.npy",
        "hed_vgg16/seq_bikes/frame_07/conv5_3.npy",
    ] {
        let original = std::fs::read(sequence().join(model_layer)).unwrap();
        let back = std::fs::read(decoded.join(model_layer)).unwrap();
        assert_eq!(original, back, "{model_layer}");
    }
    let inter = encode(&stream, &["--qp", "48", "--prediction", "inter"]);
    let none = encode(
        &tmp.path().join("none.dfc"),
        &["--qp", "48", "--prediction", "none"],
    );
    assert!(
        inter < lossless && inter * 10 < none * 9,
        "inter {inter}, none {none}"
    );
}

#[test]
fn start_frame_decodes_from_the_random_access_point_before_it() {
    let tmp = tempfile::tempdir().unwrap();
    let stream = tmp.path().join("seq.dfc");
    encode(&stream, &["--qp", "40", "--rap-period", "3"]);
    let full = tmp.path().join("full");
    ok(dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        full.as_os_str(),
    ]));
    let part = tmp.path().join("part");
    ok(dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        part.as_os_str(),
        OsStr::new("--start-frame"),
        OsStr::new("5"),
    ]));
    let dir = "hed_vgg16/seq_bikes";
    // Random-access points at 0, 3, 6: frame 5 starts from 3.
    assert!(!part.join(dir).join("frame_02").exists());
    for f in 3..8 {
        let rel = format!("{dir}/frame_{f:02}/conv5_3.npy");
        assert_eq!(
            std::fs::read(full.join(&rel)).unwrap(),
            std::fs::read(part.join(&rel)).unwrap(),
            "{rel}"
        );
    }
    let out = dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        tmp.path().join("x").as_os_str(),
        OsStr::new("--start-frame"),
        OsStr::new("5"),
        OsStr::new("--layer"),
        OsStr::new("nope"),
    ]);
    assert!(!out.status.success());
}
