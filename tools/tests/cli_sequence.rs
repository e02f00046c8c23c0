//! `dfc encode` / `dfc decode` on a directory of frames: access units, the frame_NN layout in
//! and out, frames given by a manifest, inter prediction, and `--start-frame` from a
//! random-access point.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

mod common;
use common::{dfc, inspect_json, ok};

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
        OsStr::new("--force"),
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

/// Frame `frame` of the shipped res4f sequence.
fn res4f(frame: u32) -> PathBuf {
    sequence().join(format!(
        "opennsfw_resnet50_1by2/seq_bikes/frame_{frame:02}/res4f.npy"
    ))
}

#[test]
fn manifest_frames_make_a_sequence_of_flat_files() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir(&input).unwrap();
    for f in 0..2 {
        std::fs::copy(res4f(f), input.join(format!("f{f}_res4f.npy"))).unwrap();
    }
    // Kind pool (the rank would give conv) shows the entries are found by their flat paths.
    let manifest = |model: &str| {
        let model = if model.is_empty() {
            String::new()
        } else {
            format!(r#""model": "{model}", "#)
        };
        let entry = |f: u32| {
            format!(
                r#"{{{model}"sequence": "bikes", "layer": "res4f", "kind": "pool", "frame": {f}, "path": "f{f}_res4f.npy"}}"#
            )
        };
        format!(r#"{{"tensors": [{}, {}]}}"#, entry(1), entry(0))
    };
    std::fs::write(
        input.join("manifest.json"),
        manifest("opennsfw_resnet50_1by2"),
    )
    .unwrap();
    let stream = tmp.path().join("m.dfc");
    ok(dfc([
        OsStr::new("encode"),
        input.as_os_str(),
        OsStr::new("-o"),
        stream.as_os_str(),
        OsStr::new("--quiet"),
    ]));
    let report = inspect_json(&stream);
    let name = "opennsfw_resnet50_1by2/bikes/res4f";
    let layers = report["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1, "{layers:?}");
    assert_eq!(layers[0]["name"], name);
    assert_eq!(layers[0]["kind"], "pool");
    assert_eq!(layers[0]["frames"], 2);
    assert_eq!(report["totals"]["frames"], 2);
    let access_units = report["units"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["type_name"] == "frame_header")
        .count();
    assert_eq!(access_units, 2);

    // Decoded into the frame_NN layout, each frame is its input.
    let decoded = tmp.path().join("out");
    ok(dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        decoded.as_os_str(),
        OsStr::new("--quiet"),
    ]));
    for f in 0..2 {
        assert_eq!(
            std::fs::read(decoded.join(format!(
                "opennsfw_resnet50_1by2/bikes/frame_{f:02}/res4f.npy"
            )))
            .unwrap(),
            std::fs::read(input.join(format!("f{f}_res4f.npy"))).unwrap(),
            "frame {f}"
        );
    }

    // Without `model` the layer is sequence/layer.
    std::fs::write(input.join("manifest.json"), manifest("")).unwrap();
    ok(dfc([
        OsStr::new("encode"),
        input.as_os_str(),
        OsStr::new("-o"),
        stream.as_os_str(),
        OsStr::new("--quiet"),
        OsStr::new("--force"),
    ]));
    let report = inspect_json(&stream);
    assert_eq!(report["layers"][0]["name"], "bikes/res4f");
    assert_eq!(report["totals"]["frames"], 2);
}

#[test]
fn manifest_frames_that_contradict_the_path_or_name_nothing_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(input.join("frame_01")).unwrap();
    std::fs::copy(res4f(1), input.join("frame_01/res4f.npy")).unwrap();
    let stream = tmp.path().join("bad.dfc");
    let encode = |manifest: &str| {
        std::fs::write(input.join("manifest.json"), manifest).unwrap();
        dfc([
            OsStr::new("encode"),
            input.as_os_str(),
            OsStr::new("-o"),
            stream.as_os_str(),
        ])
    };
    let failure = |manifest: &str| {
        let out = encode(manifest);
        assert!(!out.status.success(), "{manifest}");
        assert!(!stream.exists(), "{manifest}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };

    // The manifest says frame 2, the path frame_01.
    let err = failure(
        r#"{"tensors": [{"path": "frame_01/res4f.npy", "kind": "conv", "sequence": "bikes", "layer": "res4f", "frame": 2}]}"#,
    );
    assert!(
        err.contains("gives frame 2") && err.contains("says frame 1") && err.contains("frame_NN"),
        "{err}"
    );
    // Agreeing, it encodes.
    assert!(
        encode(r#"{"tensors": [{"path": "frame_01/res4f.npy", "kind": "conv", "frame": 1}]}"#)
            .status
            .success()
    );
    std::fs::remove_file(&stream).unwrap();

    // A flat file with a frame but no sequence and layer to name it.
    std::fs::copy(res4f(0), input.join("f0.npy")).unwrap();
    let err = failure(r#"{"tensors": [{"path": "f0.npy", "kind": "conv", "frame": 0}]}"#);
    assert!(
        err.contains("f0.npy") && err.contains("`sequence`"),
        "{err}"
    );
    // A frame that is not a non-negative integer.
    let err = failure(r#"{"tensors": [{"path": "f0.npy", "frame": -1}]}"#);
    assert!(err.contains("not a non-negative integer"), "{err}");
    // A file without a frame among frames is still an error.
    let err = failure(r#"{"tensors": [{"path": "f0.npy", "kind": "conv"}]}"#);
    assert!(
        err.contains("f0.npy") && err.contains("other inputs are frames"),
        "{err}"
    );
}
