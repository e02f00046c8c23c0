//! `dfc inspect` output: a snapshot of the trace of a small fixed stream, and the tables.

use dfc_decoder::{CodingMethod, ElementType, LayerKind};
use dfc_encoder::{encode_stream, EncoderConfig, LayerInput, MethodChoice};
use std::process::Command;

/// Two tiny layers with fixed data: a raw float32 vector and a zlib-coded int8 map.
fn small_stream() -> Vec<u8> {
    let floats: Vec<u8> = [0.5f32, -1.25, 0.0, 3.0, f32::INFINITY, -0.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let ints: Vec<u8> = (0..24)
        .map(|i: i32| ((i % 5) * 3 - 4) as i8 as u8)
        .collect();
    let layers = [
        LayerInput {
            name: "fc".to_string(),
            kind: LayerKind::Fc,
            element_type: ElementType::Float32,
            shape: vec![6],
            data: &floats,
            method: MethodChoice::Fixed(CodingMethod::Raw),
        },
        LayerInput {
            name: "block1/conv".to_string(),
            kind: LayerKind::Conv,
            element_type: ElementType::Int8,
            shape: vec![2, 3, 4],
            data: &ints,
            method: MethodChoice::Fixed(CodingMethod::Zlib),
        },
    ];
    let config = EncoderConfig {
        metadata: vec![("source".to_string(), "snapshot test".to_string())],
        ..EncoderConfig::default()
    };
    encode_stream(&layers, &config).unwrap()
}

fn inspect(args: &[&str]) -> (String, String, bool) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("small.dfc");
    std::fs::write(&path, small_stream()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dfc"))
        .current_dir(tmp.path())
        .arg("inspect")
        .arg("small.dfc")
        .args(args)
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.status.success(),
    )
}

#[test]
fn trace_snapshot() {
    let (stdout, stderr, ok) = inspect(&["--trace"]);
    assert!(ok, "{stderr}");
    insta::assert_snapshot!("inspect_trace", stdout);
}

#[test]
fn tables() {
    let (stdout, stderr, ok) = inspect(&[]);
    assert!(ok, "{stderr}");
    assert!(stderr.is_empty());
    insta::assert_snapshot!("inspect_tables", stdout);
}

#[test]
fn json() {
    let (stdout, _, ok) = inspect(&["--json"]);
    assert!(ok);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(report["error"].is_null());
    assert_eq!(report["profile"], "main");
    assert_eq!(report["num_layers"], 2);
    let layers = report["layers"].as_array().unwrap();
    assert_eq!(layers[0]["name"], "fc");
    assert_eq!(layers[0]["kind"], "fc");
    assert_eq!(layers[0]["element_type"], "float32");
    assert_eq!(layers[0]["non_negative"], false);
    assert_eq!(layers[0]["methods"], serde_json::json!(["raw"]));
    assert_eq!(layers[0]["coded_bytes"], 24);
    assert_eq!(layers[0]["decoded_bytes"], 24);
    assert_eq!(layers[1]["name"], "block1/conv");
    assert_eq!(layers[1]["element_type"], "int8");
    assert_eq!(layers[1]["shape"], serde_json::json!([2, 3, 4]));
    assert_eq!(layers[1]["methods"], serde_json::json!(["zlib"]));
    assert_eq!(layers[1]["decoded_bytes"], 24);
    assert_eq!(report["totals"]["units"], 9);
    assert_eq!(report["totals"]["layers"], 2);
    let types: Vec<&str> = report["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["type_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "sequence_header",
            "metadata",
            "layer_parameters",
            "layer_parameters",
            "feature_data",
            "tensor_hash",
            "feature_data",
            "tensor_hash",
            "end_of_sequence"
        ]
    );
    assert!(report["units"]
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["crc_ok"] == true));
}
