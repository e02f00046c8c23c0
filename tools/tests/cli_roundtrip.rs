//! `dfc encode` / `dfc decode` / `dfc inspect` on the sample corpus: byte-identical .npy round
//! trips for every coding method, manifest kinds, layer selection.

use serde_json::Value;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

mod common;
use common::{corpus, dfc, inspect_json, ok};

/// The corpus's tensors as (path relative to the corpus, layer name).
fn corpus_tensors() -> Vec<(String, String)> {
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(corpus().join("manifest.json")).unwrap()).unwrap();
    let tensors: Vec<(String, String)> = manifest["tensors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let path = t["path"].as_str().unwrap().to_string();
            let name = path.strip_suffix(".npy").unwrap().to_string();
            (path, name)
        })
        .collect();
    assert!(tensors.len() >= 5);
    tensors
}

fn layer<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("no layer {name}"))
}

/// Encodes the corpus directory with `method`, decodes it, and compares every file.
fn corpus_round_trip(method: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let stream = tmp.path().join("corpus.dfc");
    let out_dir = tmp.path().join("out");
    ok(dfc([
        OsStr::new("encode"),
        corpus().as_os_str(),
        OsStr::new("-o"),
        stream.as_os_str(),
        OsStr::new("--method"),
        OsStr::new(method),
        OsStr::new("--quiet"),
    ]));
    let out = ok(dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        out_dir.as_os_str(),
        OsStr::new("--json"),
    ]));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["hash_verified"], true);

    let tensors = corpus_tensors();
    assert_eq!(summary["tensors"].as_array().unwrap().len(), tensors.len());
    for (path, name) in &tensors {
        let original = std::fs::read(corpus().join(path)).unwrap();
        let decoded = std::fs::read(out_dir.join(path)).unwrap();
        assert!(
            original == decoded,
            "{method}: {path} differs after the round trip"
        );
        // The summary's hash is that of the canonical bytes: the .npy data after its header.
        let entry = summary["tensors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name.as_str())
            .unwrap();
        let header_len = 10 + usize::from(u16::from_le_bytes([original[8], original[9]]));
        use sha2::Digest;
        let digest: String = sha2::Sha256::digest(&original[header_len..])
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(entry["sha256"], digest.as_str(), "{path}");
        if method != "auto" {
            assert_eq!(entry["method"], method);
        }
    }

    let report = inspect_json(&stream);
    assert!(report["error"].is_null(), "{report}");
    assert_eq!(layer(&report, "hed_vgg16/astronaut/pool4")["kind"], "pool");
    assert_eq!(
        layer(&report, "hed_vgg16/astronaut/conv5_3")["kind"],
        "conv"
    );
    assert_eq!(
        layer(&report, "opennsfw_resnet50_1by2/astronaut/fc_logits")["kind"],
        "fc"
    );
    assert_eq!(
        layer(&report, "opennsfw_resnet50_1by2/astronaut/pool5")["kind"],
        "pool"
    );
    let fc = layer(&report, "opennsfw_resnet50_1by2/astronaut/fc_logits");
    assert_eq!(fc["shape"], serde_json::json!([2]));
    assert_eq!(fc["non_negative"], false);
    assert_eq!(report["metadata"][0]["key"], "source");
    assert_eq!(report["metadata"][1]["key"], "encoder");
    let names: Vec<&str> = report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "layers are in sorted path order");
    if method == "raw" {
        for l in report["layers"].as_array().unwrap() {
            assert_eq!(l["coded_bytes"], l["decoded_bytes"]);
        }
    }
}

#[test]
fn corpus_round_trip_raw() {
    corpus_round_trip("raw");
}

#[test]
fn corpus_round_trip_zlib() {
    corpus_round_trip("zlib");
}

#[test]
fn corpus_round_trip_gzip() {
    corpus_round_trip("gzip");
}

#[test]
fn corpus_round_trip_bzip2() {
    corpus_round_trip("bzip2");
}

#[test]
fn corpus_round_trip_lzma() {
    corpus_round_trip("lzma");
}

#[test]
fn corpus_round_trip_native() {
    corpus_round_trip("native");
}

#[test]
fn corpus_round_trip_auto() {
    corpus_round_trip("auto");
}

/// A stream of the hed_vgg16 tensors, zlib-coded, for the tests below.
fn small_stream(dir: &Path) -> PathBuf {
    let stream = dir.join("hed.dfc");
    let hed = corpus().join("hed_vgg16/astronaut");
    ok(dfc([
        OsStr::new("encode"),
        hed.join("conv5_3.npy").as_os_str(),
        hed.join("pool4.npy").as_os_str(),
        OsStr::new("-o"),
        stream.as_os_str(),
        OsStr::new("--method"),
        OsStr::new("zlib"),
        OsStr::new("--quiet"),
    ]));
    stream
}

#[test]
fn file_inputs_are_named_by_stem_and_find_the_manifest_above() {
    let tmp = tempfile::tempdir().unwrap();
    let stream = small_stream(tmp.path());
    let report = inspect_json(&stream);
    assert_eq!(layer(&report, "conv5_3")["kind"], "conv");
    assert_eq!(layer(&report, "pool4")["kind"], "pool");
}

#[test]
fn layer_option_decodes_only_the_chosen_layer() {
    let tmp = tempfile::tempdir().unwrap();
    let stream = small_stream(tmp.path());
    let out_dir = tmp.path().join("out");
    let out = ok(dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        out_dir.as_os_str(),
        OsStr::new("--layer"),
        OsStr::new("pool4"),
        OsStr::new("--json"),
    ]));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["tensors"].as_array().unwrap().len(), 1);
    assert_eq!(summary["tensors"][0]["name"], "pool4");
    let written: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(written, vec![std::ffi::OsString::from("pool4.npy")]);
    assert_eq!(
        std::fs::read(out_dir.join("pool4.npy")).unwrap(),
        std::fs::read(corpus().join("hed_vgg16/astronaut/pool4.npy")).unwrap()
    );

    // Random access: the other layer's payload is not decompressed. Damage it (keeping its
    // unit CRC valid) and the chosen layer still decodes while a full decode fails.
    let mut bytes = std::fs::read(&stream).unwrap();
    let report = inspect_json(&stream);
    let unit = report["units"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| {
            u["type_name"] == "feature_data"
                && u["summary"].as_str().unwrap().starts_with("layer 0 ")
        })
        .unwrap();
    let offset = unit["offset"].as_u64().unwrap() as usize;
    let size = unit["payload_size"].as_u64().unwrap() as usize;
    let mut payload = bytes[offset + 5..offset + 5 + size].to_vec();
    for b in &mut payload[7 + 2..7 + 40] {
        *b ^= 0x5A;
    }
    let unit_bytes = dfc_decoder::syntax::Unit::new(0x03, payload);
    use dfc_decoder::syntax::SyntaxStructure;
    bytes.splice(offset..offset + 9 + size, unit_bytes.to_bytes());
    let damaged = tmp.path().join("damaged.dfc");
    std::fs::write(&damaged, &bytes).unwrap();

    let out_dir2 = tmp.path().join("out2");
    ok(dfc([
        OsStr::new("decode"),
        damaged.as_os_str(),
        OsStr::new("-o"),
        out_dir2.as_os_str(),
        OsStr::new("--layer"),
        OsStr::new("pool4"),
        OsStr::new("--quiet"),
    ]));
    assert!(out_dir2.join("pool4.npy").is_file());
    let full = dfc([
        OsStr::new("decode"),
        damaged.as_os_str(),
        OsStr::new("-o"),
        tmp.path().join("out3").as_os_str(),
    ]);
    assert!(!full.status.success());
    assert!(!tmp.path().join("out3").exists());
    // inspect decompresses nothing, so it finds nothing wrong.
    assert!(inspect_json(&damaged)["error"].is_null());
}

#[test]
fn unknown_layer_is_an_error_listing_the_layers() {
    let tmp = tempfile::tempdir().unwrap();
    let stream = small_stream(tmp.path());
    let out = dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        tmp.path().join("out").as_os_str(),
        OsStr::new("--layer"),
        OsStr::new("nope"),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"nope\"") && err.contains("conv5_3, pool4"),
        "{err}"
    );
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn kinds_from_rank_overrides_and_nested_manifests() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    std::fs::create_dir_all(input.join("sub/deeper")).unwrap();
    let tensor = |shape: Vec<u32>| dfc_tools::io::Tensor {
        element_type: dfc_decoder::ElementType::Uint8,
        data: vec![7; shape.iter().product::<u32>() as usize],
        shape,
    };
    let save = |rel: &str, t: &dfc_tools::io::Tensor| {
        std::fs::write(input.join(rel), dfc_tools::io::npy::to_npy_bytes(t)).unwrap()
    };
    save("vec.npy", &tensor(vec![5]));
    save("map.npy", &tensor(vec![2, 3, 4]));
    save("sub/deeper/x.npy", &tensor(vec![2, 2]));
    save("sub/deeper/y.npy", &tensor(vec![3]));
    save("sub/z.npy", &tensor(vec![3]));
    // A manifest in a subdirectory, with paths relative to it.
    std::fs::write(
        input.join("sub/manifest.json"),
        r#"{"tensors": [{"path": "deeper/x.npy", "kind": "pool"}, {"path": "z.npy", "kind": "other"}]}"#,
    )
    .unwrap();
    let stream = tmp.path().join("k.dfc");
    ok(dfc([
        OsStr::new("encode"),
        input.as_os_str(),
        OsStr::new("-o"),
        stream.as_os_str(),
        OsStr::new("--kind"),
        OsStr::new("sub/deeper/y=pool"),
        OsStr::new("--quiet"),
    ]));
    let report = inspect_json(&stream);
    assert_eq!(layer(&report, "vec")["kind"], "fc");
    assert_eq!(layer(&report, "map")["kind"], "conv");
    assert_eq!(layer(&report, "sub/deeper/x")["kind"], "pool");
    assert_eq!(layer(&report, "sub/deeper/y")["kind"], "pool");
    assert_eq!(layer(&report, "sub/z")["kind"], "other");
    let names: Vec<&str> = report["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["map", "sub/deeper/x", "sub/deeper/y", "sub/z", "vec"]
    );

    // --kind for a layer that does not exist is an error.
    let out = dfc([
        OsStr::new("encode"),
        input.as_os_str(),
        OsStr::new("-o"),
        stream.as_os_str(),
        OsStr::new("--kind"),
        OsStr::new("nothing=pool"),
    ]);
    assert!(!out.status.success());
}

#[test]
fn options_reach_the_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let hed = corpus().join("hed_vgg16/astronaut");
    let fc = corpus().join("opennsfw_resnet50_1by2/astronaut/fc_logits.npy");
    let stream = tmp.path().join("o.dfc");
    let out = ok(dfc([
        OsStr::new("encode"),
        hed.join("pool4.npy").as_os_str(),
        fc.as_os_str(),
        OsStr::new("-o"),
        stream.as_os_str(),
        OsStr::new("--profile"),
        OsStr::new("baseline"),
        OsStr::new("--level"),
        OsStr::new("3"),
        OsStr::new("--method"),
        OsStr::new("gzip"),
        OsStr::new("--layer-method"),
        OsStr::new("fc_logits=raw"),
        OsStr::new("--no-hash"),
        OsStr::new("--meta"),
        OsStr::new("image=astronaut"),
    ]));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("pool4") && text.contains("gzip") && text.contains("total"),
        "{text}"
    );
    let report = inspect_json(&stream);
    assert_eq!(report["profile"], "baseline");
    assert_eq!(report["level"], "3");
    assert_eq!(
        layer(&report, "pool4")["methods"],
        serde_json::json!(["gzip"])
    );
    assert_eq!(
        layer(&report, "fc_logits")["methods"],
        serde_json::json!(["raw"])
    );
    assert_eq!(layer(&report, "pool4")["hashes"], 0);
    let source = format!("{}, {}", hed.join("pool4.npy").display(), fc.display());
    assert_eq!(report["metadata"][0]["value"], source.as_str());
    assert_eq!(
        report["metadata"][1]["value"],
        format!("dfc-encoder {}", dfc_encoder::ENCODER_VERSION).as_str()
    );
    assert_eq!(report["metadata"][2]["key"], "image");
    assert_eq!(report["metadata"][2]["value"], "astronaut");

    // Without hashes the decode still works but reports no verification.
    let out = ok(dfc([
        OsStr::new("decode"),
        stream.as_os_str(),
        OsStr::new("-o"),
        tmp.path().join("out").as_os_str(),
        OsStr::new("--json"),
    ]));
    let summary: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["hash_verified"], false);

    // bzip2 is not in the baseline profile.
    let out = dfc([
        OsStr::new("encode"),
        fc.as_os_str(),
        OsStr::new("-o"),
        tmp.path().join("b.dfc").as_os_str(),
        OsStr::new("--profile"),
        OsStr::new("baseline"),
        OsStr::new("--method"),
        OsStr::new("bzip2"),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("baseline"));
    assert!(!tmp.path().join("b.dfc").exists());
}

#[test]
fn later_frames_go_to_frame_directories() {
    use dfc_decoder::syntax::{
        FeatureData, Identification, LayerParameters, SequenceHeader, SyntaxStructure, Unit,
    };
    // One layer "a/x" (uint8, shape [3]) in frames 0, 1 and 12, written unit by unit.
    let mut stream = Identification::current().to_bytes();
    let mut push = |unit_type: u8, payload: Vec<u8>| {
        stream.extend_from_slice(&Unit::new(unit_type, payload).to_bytes());
    };
    push(
        0x01,
        SequenceHeader {
            version_major: dfc_decoder::VERSION_MAJOR,
            version_minor: dfc_decoder::VERSION_MINOR,
            profile_idc: 1,
            level_idc: 10,
            num_layers: 1,
            reserved_zero_16bits: 0,
        }
        .to_bytes(),
    );
    push(
        0x02,
        LayerParameters {
            layer_id: 0,
            layer_kind: 0,
            element_type: 4,
            non_negative_flag: true,
            reserved_zero_7bits: 0,
            default_method: 0,
            dims: vec![3],
            name: b"a/x".to_vec(),
        }
        .to_bytes(),
    );
    for frame in [0u32, 1, 12] {
        push(
            0x03,
            FeatureData {
                layer_id: 0,
                frame_index: frame,
                coding_method: 0,
                method_payload: vec![frame as u8, 1, 2],
            }
            .to_bytes(),
        );
    }
    push(0x06, Vec::new());
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("frames.dfc");
    std::fs::write(&path, &stream).unwrap();

    let out_dir = tmp.path().join("out");
    ok(dfc([
        OsStr::new("decode"),
        path.as_os_str(),
        OsStr::new("-o"),
        out_dir.as_os_str(),
        OsStr::new("--quiet"),
    ]));
    for (frame, file) in [
        (0u8, "a/x.npy"),
        (1, "frame_01/a/x.npy"),
        (12, "frame_12/a/x.npy"),
    ] {
        let bytes = std::fs::read(out_dir.join(file)).unwrap();
        assert_eq!(&bytes[bytes.len() - 3..], &[frame, 1, 2], "{file}");
    }

    let st = tmp.path().join("frames.safetensors");
    ok(dfc([
        OsStr::new("decode"),
        path.as_os_str(),
        OsStr::new("-o"),
        st.as_os_str(),
        OsStr::new("--quiet"),
    ]));
    let bytes = std::fs::read(&st).unwrap();
    let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names = file.names();
    names.sort();
    assert_eq!(names, ["a/x", "frame_01/a/x", "frame_12/a/x"]);
    assert_eq!(file.tensor("frame_12/a/x").unwrap().data(), &[12, 1, 2]);

    let report = inspect_json(&path);
    assert_eq!(report["totals"]["frames"], 3);
    assert_eq!(layer(&report, "a/x")["frames"], 3);
    assert_eq!(layer(&report, "a/x")["decoded_bytes"], 9);
}
