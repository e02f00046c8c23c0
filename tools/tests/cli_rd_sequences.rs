//! `dfc rd --sequences` on the shipped real sequence sample (samples/sequence: two layers, 8
//! frames): every sequence layer × configuration × point in the JSON, inter prediction cheaper
//! than none at equal qp, BD-rates that match the curves (0 against itself), the lossless
//! ratios without and with inter prediction (smaller with, per layer and per kind), CSV and
//! plots, random-access period 1 leaving nothing to predict, and the errors.

mod common;

use common::{corpus, dfc, ok};
use dfc_tools::rd::bdrate::{bd_rate, RdPoint};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

const QPS: [i64; 3] = [24, 32, 48];
const LOSSY: [&str; 3] = ["seq-none", "seq-intra", "seq-inter"];
const LOSSLESS: [&str; 2] = ["seq-lossless", "seq-lossless-inter"];

fn sequence() -> PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/sequence")
}

fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "inf" => f64::INFINITY,
        v => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

fn points_args(configs: &[&str], qps: &[i64]) -> Vec<String> {
    let list = qps.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    configs
        .iter()
        .flat_map(|c| ["--points".to_string(), format!("{c}={list}")])
        .collect()
}

/// The (bits per element, PSNR) curve of a configuration in a JSON layer.
fn curve(layer: &Value, config: &str) -> Vec<RdPoint> {
    let c = layer["curves"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["config"] == config)
        .unwrap_or_else(|| panic!("no curve {config}"));
    c["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| RdPoint {
            rate: p["bits_per_element"].as_f64().unwrap(),
            psnr: number(&p["psnr_db"]),
        })
        .collect()
}

#[test]
fn sequence_sweep_on_the_sample() {
    let dir = tempfile::tempdir().unwrap();
    let (json, csv, plots) = (
        dir.path().join("rd.json"),
        dir.path().join("rd.csv"),
        dir.path().join("plots"),
    );
    let mut args: Vec<String> = vec![
        "rd".into(),
        sequence().display().to_string(),
        "--sequences".into(),
    ];
    args.extend(points_args(&LOSSY, &QPS));
    args.extend(
        [
            "--jobs",
            "2",
            "--quiet",
            "--json",
            json.to_str().unwrap(),
            "--csv",
            csv.to_str().unwrap(),
            "--plots",
            plots.to_str().unwrap(),
        ]
        .map(String::from),
    );
    let out = ok(dfc(&args));
    let markdown = String::from_utf8(out.stdout).unwrap();
    assert!(markdown.contains("# dfc rd --sequences"), "{markdown}");
    assert!(markdown.contains("## Target: inter+intra against no prediction"));
    assert!(markdown.contains("seq-inter vs seq-none"));
    assert!(markdown.contains(
        "| seq-lossless ratio | seq-lossless b/e | seq-lossless-inter ratio | seq-lossless-inter b/e | seq-lossless-inter vs seq-lossless (size) |"
    ));
    assert!(markdown.contains(
        "| lossless ratio | lossless ratio, inter | seq-lossless-inter vs seq-lossless (size) |"
    ));

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["mode"], "sequences");
    assert_eq!(doc["rap_period"], 8);
    let rows = doc["rows"].as_array().unwrap();
    let layers = ["res4f", "conv5_3"];
    // Every sequence layer × configuration × point exactly once.
    let mut seen = BTreeSet::new();
    for r in rows {
        let key = (
            r["layer"].as_str().unwrap().to_string(),
            r["config"].as_str().unwrap().to_string(),
            r["point"].as_i64().unwrap(),
        );
        assert!(seen.insert(key), "{r}");
        assert_eq!(r["frames"], 8);
        assert_eq!(r["sequence"], "bikes");
        let frames = r["per_frame"].as_array().unwrap();
        let frame_numbers: Vec<u64> = frames
            .iter()
            .map(|f| f["frame"].as_u64().unwrap())
            .collect();
        assert_eq!(frame_numbers, (0..8).collect::<Vec<u64>>());
        let sum: u64 = frames
            .iter()
            .map(|f| f["payload_bytes"].as_u64().unwrap())
            .sum();
        assert_eq!(sum, r["payload_bytes"].as_u64().unwrap());
        assert!(r["stream_bytes"].as_u64().unwrap() > sum);
        assert_eq!(r["elements"], 8 * 64 * 14 * 14);
    }
    for layer in layers {
        for c in LOSSY {
            for q in QPS {
                assert!(
                    seen.contains(&(layer.into(), c.into(), q)),
                    "{layer} {c} {q}"
                );
            }
        }
        for c in LOSSLESS {
            assert!(seen.contains(&(layer.into(), c.into(), 0)), "{layer} {c}");
        }
    }
    assert_eq!(
        rows.len(),
        layers.len() * (LOSSY.len() * QPS.len() + LOSSLESS.len())
    );

    let row = |layer: &str, config: &str, point: i64| -> &Value {
        rows.iter()
            .find(|r| r["layer"] == layer && r["config"] == config && r["point"] == point)
            .unwrap()
    };
    for layer in layers {
        // Lossless, without and with prediction: exact, a ratio above 1; smaller with.
        for c in LOSSLESS {
            let l = row(layer, c, 0);
            assert_eq!(l["psnr_db"], "inf");
            assert_eq!(l["max_abs_error"], 0.0);
            assert!(l["ratio"].as_f64().unwrap() > 1.0, "{l}");
        }
        let lossless = |c: &str| row(layer, c, 0)["payload_bytes"].as_u64().unwrap();
        assert!(
            lossless("seq-lossless-inter") < lossless("seq-lossless"),
            "{layer}"
        );
        for q in QPS {
            let none = row(layer, "seq-none", q)["payload_bytes"].as_u64().unwrap();
            let intra = row(layer, "seq-intra", q)["payload_bytes"]
                .as_u64()
                .unwrap();
            let inter = row(layer, "seq-inter", q)["payload_bytes"]
                .as_u64()
                .unwrap();
            assert!(inter < none, "{layer} qp={q}: inter {inter}, none {none}");
            assert!(inter <= intra && intra <= none, "{layer} qp={q}");
            // The random-access frame (frame 0) has nothing to predict from.
            let first = |c: &str| row(layer, c, q)["per_frame"][0]["payload_bytes"].clone();
            assert_eq!(first("seq-inter"), first("seq-intra"), "{layer} qp={q}");
        }
        // A finer step costs more and errs less.
        for c in LOSSY {
            let r: Vec<&Value> = QPS.iter().map(|&q| row(layer, c, q)).collect();
            for w in r.windows(2) {
                assert!(w[1]["payload_bytes"].as_u64() > w[0]["payload_bytes"].as_u64());
                assert!(number(&w[1]["psnr_db"]) > number(&w[0]["psnr_db"]));
            }
        }
    }

    // BD-rates: as recomputed from the JSON curves; 0 for a configuration against itself.
    for l in doc["layers"].as_array().unwrap() {
        for c in LOSSY {
            assert_eq!(bd_rate(&curve(l, c), &curve(l, c)), Some(0.0), "{c}");
        }
        for (test, anchor) in [
            ("seq-inter", "seq-none"),
            ("seq-inter", "seq-intra"),
            ("seq-intra", "seq-none"),
        ] {
            let expected = bd_rate(&curve(l, anchor), &curve(l, test)).unwrap();
            let reported = l["bd_rate_percent"][format!("{test} vs {anchor}")]
                .as_f64()
                .unwrap();
            assert!((expected - reported).abs() < 1e-9, "{test} vs {anchor}");
        }
        assert!(
            l["bd_rate_percent"]["seq-inter vs seq-none"]
                .as_f64()
                .unwrap()
                < 0.0,
            "{}",
            l["layer"]
        );
        assert_eq!(l["class"], "conv");
    }
    let target = &doc["target"];
    assert_eq!(target["layers"].as_object().unwrap().len(), 2);
    assert!(target["mean_percent"].as_f64().unwrap() < 0.0);

    // CSV: a header and one line per row; plots: one per sequence layer.
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv.lines().count(), rows.len() + 1);
    assert!(csv.starts_with("model,sequence,layer,kind,shape,frames,"));
    assert!(csv
        .lines()
        .next()
        .unwrap()
        .ends_with(",lossless_size_change_percent,task_holds,task_frames_holding,task_min_emb_cos,task_min_edge_psnr_db"));
    let mut svgs: Vec<String> = std::fs::read_dir(&plots)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    svgs.sort();
    assert_eq!(
        svgs,
        [
            "rd_seq_hed_vgg16_bikes_conv5_3.svg",
            "rd_seq_opennsfw_resnet50_1by2_bikes_res4f.svg"
        ]
    );
}

/// The fields of a CSV line (the sample's names and numbers have no quotes).
fn csv_lines(csv: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            let fields: Vec<&str> = l.split(',').collect();
            assert_eq!(fields.len(), header.len(), "{l}");
            header
                .iter()
                .zip(fields)
                .map(|(h, f)| (h.to_string(), f.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn lossless_with_and_without_prediction() {
    let dir = tempfile::tempdir().unwrap();
    let (json, csv) = (dir.path().join("rd.json"), dir.path().join("rd.csv"));
    let out = ok(dfc([
        "rd",
        sequence().to_str().unwrap(),
        "--sequences",
        "--configs",
        "seq-lossless,seq-lossless-inter",
        "--jobs",
        "2",
        "--quiet",
        "--json",
        json.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
    ]));
    let markdown = String::from_utf8(out.stdout).unwrap();
    // The settings say which one predicts.
    assert!(markdown.contains(
        "| seq-lossless | lossless | native lossless method on every frame, no prediction across frames;"
    ));
    assert!(markdown.contains("predicted from the layer's previous frame"));
    assert!(!markdown.contains("in this version"));
    assert!(!markdown.contains("## Target"));

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let configs = doc["configs"].as_array().unwrap();
    assert_eq!(configs.len(), 2);
    assert_eq!(configs[0]["prediction"], "none");
    assert_eq!(configs[1]["prediction"], "inter");
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let row = |layer: &str, config: &str| -> &Value {
        rows.iter()
            .find(|r| r["layer"] == layer && r["config"] == config)
            .unwrap()
    };
    let payload = |r: &Value| r["payload_bytes"].as_u64().unwrap();
    let (mut with, mut without) = (0, 0);
    for l in doc["layers"].as_array().unwrap() {
        let layer = l["layer"].as_str().unwrap();
        let (none, inter) = (row(layer, "seq-lossless"), row(layer, "seq-lossless-inter"));
        // Both exact (the tool also compares every decoded tensor with its original bit for
        // bit); the ratios of the rows, reported per layer.
        for r in [none, inter] {
            assert_eq!(r["psnr_db"], "inf");
            assert_eq!(r["max_abs_error"], 0.0);
        }
        assert_eq!(l["lossless_ratio"], none["ratio"]);
        assert_eq!(l["lossless_ratio_inter"], inter["ratio"]);
        let ratio = |r: &Value| r["ratio"].as_f64().unwrap();
        assert!(ratio(inter) > ratio(none), "{layer}");
        let change = l["lossless_inter_size_change_percent"].as_f64().unwrap();
        let expected = 100.0 * (payload(inter) as f64 / payload(none) as f64 - 1.0);
        assert!(
            (change - expected).abs() < 1e-9,
            "{layer}: {change} {expected}"
        );
        assert!(change < -1.0, "{layer}: {change}");
        // The random-access frame has nothing to predict from; every other frame is smaller.
        let frames = |r: &Value| -> Vec<u64> {
            r["per_frame"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["payload_bytes"].as_u64().unwrap())
                .collect()
        };
        let (a, b) = (frames(none), frames(inter));
        assert_eq!(a[0], b[0], "{layer}");
        for i in 1..a.len() {
            assert!(b[i] < a[i], "{layer} frame {i}: {} {}", b[i], a[i]);
        }
        with += payload(inter);
        without += payload(none);
    }
    // Per kind (both layers are conv): Σ float32 bytes / Σ payload bytes; about 3 % smaller
    // with prediction on the sample.
    let kinds = doc["kinds"].as_array().unwrap();
    assert_eq!(kinds.len(), 1);
    let k = &kinds[0];
    assert_eq!(k["class"], "conv");
    let elements: u64 = rows
        .iter()
        .map(|r| r["elements"].as_u64().unwrap())
        .sum::<u64>()
        / 2;
    let ratio_of = |bytes: u64| (elements * 4) as f64 / bytes as f64;
    assert!((k["lossless_ratio"].as_f64().unwrap() - ratio_of(without)).abs() < 1e-9);
    assert!((k["lossless_ratio_inter"].as_f64().unwrap() - ratio_of(with)).abs() < 1e-9);
    let change = k["lossless_inter_size_change_percent"].as_f64().unwrap();
    assert!((change - 100.0 * (with as f64 / without as f64 - 1.0)).abs() < 1e-9);
    assert!((-6.0..-1.5).contains(&change), "{change}");
    let line = format!(
        "| conv | 2 | {}× | {}× | {:+.1} % |",
        dfc_tools::bench::report::sig(ratio_of(without)),
        dfc_tools::bench::report::sig(ratio_of(with)),
        change
    );
    assert!(markdown.contains(&line), "{line}\n{markdown}");

    // CSV: the prediction of every row, the size change on the seq-lossless-inter rows.
    let lines = csv_lines(&std::fs::read_to_string(&csv).unwrap());
    assert_eq!(lines.len(), 4);
    for l in &lines {
        let r = row(&l["layer"], &l["config"]);
        // (serde_json may parse the JSON number 1 ulp away from Rust's parse of the CSV text)
        let ratio: f64 = l["ratio"].parse().unwrap();
        assert!(
            (ratio - r["ratio"].as_f64().unwrap()).abs() < 1e-12,
            "{l:?}"
        );
        if l["config"] == "seq-lossless" {
            assert_eq!(l["prediction"], "none");
            assert_eq!(l["lossless_size_change_percent"], "");
        } else {
            assert_eq!(l["prediction"], "inter");
            let reported: f64 = l["lossless_size_change_percent"].parse().unwrap();
            let none = row(&l["layer"], "seq-lossless");
            let expected = 100.0 * (payload(r) as f64 / payload(none) as f64 - 1.0);
            assert!((reported - expected).abs() < 1e-9);
        }
    }
}

#[test]
fn every_frame_a_random_access_point_leaves_nothing_to_predict() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("rd.json");
    let mut args: Vec<String> = vec![
        "rd".into(),
        sequence().display().to_string(),
        "--sequences".into(),
        "--rap-period".into(),
        "1".into(),
        "--configs".into(),
        "seq-intra,seq-inter,seq-lossless,seq-lossless-inter".into(),
        "--layers".into(),
        "conv5_3".into(),
        "--quiet".into(),
        "--json".into(),
        json.to_str().unwrap().into(),
    ];
    args.extend(points_args(&["seq-intra", "seq-inter"], &[32]));
    ok(dfc(&args));
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["payload_bytes"], rows[1]["payload_bytes"]);
    assert_eq!(rows[0]["psnr_db"], rows[1]["psnr_db"]);
    // Lossless too: no frame is predicted.
    assert_eq!(rows[2]["config"], "seq-lossless");
    assert_eq!(rows[3]["config"], "seq-lossless-inter");
    assert_eq!(rows[2]["payload_bytes"], rows[3]["payload_bytes"]);
    assert_eq!(doc["layers"][0]["lossless_inter_size_change_percent"], 0.0);
}

#[test]
fn sequence_errors() {
    // No sequence in the still-image sample.
    let out = dfc(["rd", corpus().to_str().unwrap(), "--sequences", "--quiet"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no tensor") && err.contains("sequence"),
        "{err}"
    );
    // A still-image configuration is not a sequence configuration.
    let seq = sequence();
    let out = dfc([
        "rd",
        seq.to_str().unwrap(),
        "--sequences",
        "--configs",
        "dfc",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("seq-inter"));
    // --rap-period needs --sequences.
    let out = dfc(["rd", seq.to_str().unwrap(), "--rap-period", "4"]);
    assert!(!out.status.success());
}

/// Task fidelity through a stand-in command: every decoded frame reaches it at its corpus
/// path (a lossless frame bit for bit, a lossy one not); the task holds on every hed_vgg16
/// frame and fails on the opennsfw ones (embedding cosine 0.5); a sequence layer holds where
/// every frame does; identical decoded sets (the two lossless configurations) run once.
#[test]
fn task_fidelity_of_sequences_through_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let copies = dir.path().join("copies");
    std::fs::create_dir(&copies).unwrap();
    let command = format!(
        r#"cp {{dir}}/hed_vgg16/seq_bikes/frame_03/conv5_3.npy "$(mktemp {copies}/XXXXXX)" && cd {{dir}} && {{ printf '{{"rows":['; sep=''; for f in $(find . -name '*.npy' | sort); do f=${{f#./}}; model=${{f%%/*}}; rest=${{f#*/}}; image=${{rest%/*}}; layer=$(basename "$f" .npy); if [ "$model" = hed_vgg16 ]; then m='"top1_unchanged":true'; else m='"emb_cos":0.5'; fi; printf '%s{{"model":"%s","image":"%s","layer":"%s",%s}}' "$sep" "$model" "$image" "$layer" "$m"; sep=','; done; printf ']}}'; }} > {{json}}"#,
        copies = copies.display()
    );
    let (json, csv) = (dir.path().join("rd.json"), dir.path().join("rd.csv"));
    let seq = sequence();
    let out = ok(dfc([
        "rd",
        seq.to_str().unwrap(),
        "--sequences",
        "--configs",
        "seq-none,seq-lossless,seq-lossless-inter",
        "--points",
        "seq-none=24,48",
        "--fidelity-cmd",
        &command,
        "--json",
        json.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--quiet",
    ]));
    let markdown = String::from_utf8(out.stdout).unwrap();
    assert!(markdown.contains("## Task fidelity"), "{markdown}");
    assert!(
        markdown.contains("| hed_vgg16 | bikes | conv5_3 | conv | qp=24: "),
        "{markdown}"
    );

    // The decoded frame 3 of conv5_3 as the command saw it, once per run.
    let original =
        dfc_tools::io::npy::read_npy(&seq.join("hed_vgg16/seq_bikes/frame_03/conv5_3.npy"))
            .unwrap();
    let copied: Vec<Vec<u8>> = std::fs::read_dir(&copies)
        .unwrap()
        .map(|e| {
            dfc_tools::io::npy::read_npy(&e.unwrap().path())
                .unwrap()
                .data
        })
        .collect();
    assert_eq!(copied.len(), 3);
    assert_eq!(copied.iter().filter(|d| **d == original.data).count(), 1);

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["fidelity"]["runs"], 3);
    for r in doc["rows"].as_array().unwrap() {
        let hed = r["model"] == "hed_vgg16";
        assert_eq!(r["task"]["frames_evaluated"], 8, "{r}");
        assert_eq!(r["task"]["holds"].as_bool(), Some(hed), "{r}");
        assert_eq!(r["task"]["frames_holding"], if hed { 8 } else { 0 }, "{r}");
        for f in r["per_frame"].as_array().unwrap() {
            assert_eq!(f["fidelity"]["holds"].as_bool(), Some(hed), "{f}");
        }
    }
    for layer in doc["layers"].as_array().unwrap() {
        let holding = &layer["holding"];
        if layer["model"] == "hed_vgg16" {
            assert_eq!(holding["seq-none"]["status"], "at", "{layer}");
            assert_eq!(holding["seq-none"]["point"], 24);
            assert_eq!(holding["seq-lossless"]["status"], "at");
        } else {
            assert_eq!(holding["seq-none"]["status"], "never", "{layer}");
        }
    }
    let lines = csv_lines(&std::fs::read_to_string(&csv).unwrap());
    assert_eq!(lines.len(), 2 * 4);
    for l in &lines {
        let hed = l["model"] == "hed_vgg16";
        assert_eq!(l["task_holds"], hed.to_string(), "{l:?}");
        if !hed {
            assert_eq!(l["task_min_emb_cos"], "0.5");
        }
    }
}
