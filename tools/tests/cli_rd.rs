//! `dfc rd` on the shipped sample corpus (samples/corpus): rates and PSNRs against an
//! independent computation, monotone curves, every output format, BD-rate of a configuration
//! against itself, and task fidelity through a stand-in command.

mod common;

use common::{corpus, dfc, ok};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const POINTS: [u32; 4] = [2, 4, 6, 8];

/// (point, coded bytes, PSNR).
type CurvePoint = (u64, u64, f64);

/// float32 values of a .npy file of the sample corpus.
fn values(path: &Path) -> (Vec<u32>, Vec<f32>) {
    let t = dfc_tools::io::npy::read_npy(path).unwrap();
    let v = t
        .data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    (t.shape, v)
}

/// Levels of a b-bit uniform quantization of [min, max], computed here independently.
fn levels(x: &[f32], bits: u32) -> (Vec<u16>, f32, f32) {
    let min = x.iter().copied().fold(f32::INFINITY, f32::min);
    let max = x.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let top = f64::from((1u32 << bits) - 1);
    let range = f64::from(max) - f64::from(min);
    let l = x
        .iter()
        .map(|&v| ((f64::from(v) - f64::from(min)) / range * top).round() as u16)
        .collect();
    (l, min, max)
}

fn number(v: &Value) -> f64 {
    match v {
        Value::String(s) if s == "inf" => f64::INFINITY,
        v => v.as_f64().unwrap_or_else(|| panic!("not a number: {v}")),
    }
}

fn points_args(configs: &[&str], points: &[u32]) -> Vec<String> {
    let list = points
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let mut args = vec!["--configs".to_string(), configs.join(",")];
    for c in configs {
        args.push("--points".into());
        args.push(format!("{c}={list}"));
    }
    args
}

#[test]
fn sweep_on_the_sample_corpus() {
    let dir = tempfile::tempdir().unwrap();
    let (json, csv, plots) = (
        dir.path().join("rd.json"),
        dir.path().join("rd.csv"),
        dir.path().join("plots"),
    );
    let mut args: Vec<String> = vec!["rd".into(), corpus().display().to_string()];
    args.extend(points_args(&["uniform-zstd", "uniform-order0"], &POINTS));
    args.extend(
        [
            "--anchor",
            "uniform-zstd",
            "--test",
            "uniform-zstd,uniform-order0",
            "--jobs",
            "2",
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

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let rows = doc["rows"].as_array().unwrap();
    // Every tensor × configuration × point exactly once.
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(corpus().join("manifest.json")).unwrap())
            .unwrap();
    let tensors = manifest["tensors"].as_array().unwrap();
    assert_eq!(tensors.len(), 9);
    let mut seen = BTreeSet::new();
    for r in rows {
        let key = (
            r["path"].as_str().unwrap().to_string(),
            r["config"].as_str().unwrap().to_string(),
            r["point"].as_u64().unwrap(),
        );
        assert!(seen.insert(key), "{r}");
    }
    for t in tensors {
        for c in ["uniform-zstd", "uniform-order0"] {
            for b in POINTS {
                let key = (
                    t["path"].as_str().unwrap().to_string(),
                    c.into(),
                    u64::from(b),
                );
                assert!(seen.contains(&key), "missing {key:?}");
            }
        }
    }
    assert_eq!(rows.len(), 9 * 2 * POINTS.len());

    // More bits: more bytes and a higher PSNR, tensor by tensor.
    // (tensor path, configuration) → (point, coded bytes, PSNR) per point.
    let mut curves: BTreeMap<(String, String), Vec<CurvePoint>> = BTreeMap::new();
    for r in rows {
        curves
            .entry((
                r["path"].as_str().unwrap().into(),
                r["config"].as_str().unwrap().into(),
            ))
            .or_default()
            .push((
                r["point"].as_u64().unwrap(),
                r["coded_bytes"].as_u64().unwrap(),
                number(&r["psnr_db"]),
            ));
    }
    for ((path, config), mut c) in curves {
        c.sort_by_key(|p| p.0);
        for w in c.windows(2) {
            let ((_, bytes0, psnr0), (_, bytes1, psnr1)) = (w[0], w[1]);
            assert!(bytes1 >= bytes0, "{path} {config}: {c:?}");
            assert!(
                psnr1 > psnr0 || psnr0.is_infinite(),
                "{path} {config}: {c:?}"
            );
            if !path.contains("fc_logits") {
                assert!(bytes1 > bytes0, "{path} {config}: {c:?}");
            }
        }
    }

    // Figures of one tensor against an independent computation.
    let path = "hed_vgg16/astronaut/pool3.npy";
    let (_, x) = values(&corpus().join(path));
    let peak = x.iter().fold(0f64, |m, &v| m.max(f64::from(v).abs()));
    for b in POINTS {
        let (l, min, max) = levels(&x, b);
        let step = (f64::from(max) - f64::from(min)) / f64::from((1u32 << b) - 1);
        let mse = x
            .iter()
            .zip(&l)
            .map(|(&v, &q)| {
                let r = (f64::from(min) + f64::from(q) * step) as f32;
                (f64::from(r) - f64::from(v)).powi(2)
            })
            .sum::<f64>()
            / x.len() as f64;
        let mut counts = BTreeMap::new();
        for &q in &l {
            *counts.entry(q).or_insert(0u64) += 1;
        }
        let n = x.len() as f64;
        let entropy_bits: f64 = counts
            .values()
            .map(|&c| c as f64 * (n / c as f64).log2())
            .sum();
        let bytes: Vec<u8> = l.iter().map(|&q| q as u8).collect();
        let zstd_len = zstd::bulk::compress(&bytes, 22).unwrap().len() as u64;
        let row = |config: &str| {
            rows.iter()
                .find(|r| r["path"] == path && r["config"] == config && r["point"] == b)
                .unwrap()
        };
        assert_eq!(
            row("uniform-order0")["coded_bytes"].as_u64().unwrap(),
            (entropy_bits / 8.0).ceil() as u64 + 8
        );
        assert_eq!(
            row("uniform-zstd")["coded_bytes"].as_u64().unwrap(),
            zstd_len + 8
        );
        for config in ["uniform-zstd", "uniform-order0"] {
            let r = row(config);
            assert!((number(&r["mse"]) - mse).abs() <= mse * 1e-9);
            let psnr = 10.0 * (peak * peak / mse).log10();
            assert!((number(&r["psnr_db"]) - psnr).abs() < 1e-9);
            let elements = x.len() as f64;
            let coded = r["coded_bytes"].as_f64().unwrap();
            assert!((number(&r["bits_per_element"]) - coded * 8.0 / elements).abs() < 1e-12);
            assert!((number(&r["ratio"]) - elements * 4.0 / coded).abs() < 1e-9);
        }
    }

    // BD-rate of a configuration against itself is 0 wherever the curve has two finite points.
    let mut compared = 0;
    for layer in doc["layers"].as_array().unwrap() {
        let bd = &layer["bd_rate_percent"];
        if layer["layer"] == "fc_logits" {
            assert!(bd["uniform-zstd"].is_null(), "exact everywhere: no curve");
        } else {
            assert_eq!(bd["uniform-zstd"].as_f64(), Some(0.0), "{layer}");
            assert!(bd["uniform-order0"].as_f64().is_some());
            compared += 1;
        }
    }
    assert_eq!(compared, 8);
    assert!(
        markdown.contains("## BD-rate against uniform-zstd"),
        "{markdown}"
    );
    assert!(markdown.contains("| conv | +0.0 % (4/4) |"), "{markdown}");

    // CSV: a header and one line per row.
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(csv.lines().count(), 1 + rows.len());
    assert!(csv.starts_with("model,image,layer,kind,"));

    // Plots: one per kind and one per layer.
    for kind in ["conv", "pool"] {
        let svg = std::fs::read_to_string(plots.join(format!("rd_kind_{kind}.svg"))).unwrap();
        assert!(svg.contains("<svg") && svg.contains("uniform-order0"));
    }
    let fc = std::fs::read_to_string(plots.join("rd_kind_fc.svg")).unwrap();
    assert!(fc.contains("every reconstruction is exact"));
    let svgs = std::fs::read_dir(&plots).unwrap().count();
    assert_eq!(svgs, 3 + 9);
}

#[test]
fn task_fidelity_through_a_command() {
    let dir = tempfile::tempdir().unwrap();
    let copies = dir.path().join("copies");
    std::fs::create_dir(&copies).unwrap();
    // A stand-in for fidelity.py: keeps a copy of one decoded tensor and says that the task
    // held on every hed_vgg16 tensor it finds (opennsfw tensors: not evaluated).
    let command = format!(
        r#"cp {{dir}}/hed_vgg16/astronaut/pool3.npy "$(mktemp {copies}/XXXXXX)" && cd {{dir}} && {{ printf '{{"rows":['; sep=''; for f in $(find hed_vgg16 -name '*.npy' | sort); do layer=$(basename "$f" .npy); printf '%s{{"model":"hed_vgg16","image":"astronaut","layer":"%s","top1_unchanged":true}}' "$sep" "$layer"; sep=','; done; printf '],"skipped":["1 tensor(s): stand-in"]}}'; }} > {{json}}"#,
        copies = copies.display()
    );
    let json = dir.path().join("rd.json");
    let mut args: Vec<String> = vec!["rd".into(), corpus().display().to_string()];
    args.extend(points_args(&["uniform-zstd", "uniform-order0"], &[3, 5]));
    args.extend(
        [
            "--kinds",
            "pool",
            "--fidelity-cmd",
            &command,
            "--json",
            json.to_str().unwrap(),
        ]
        .map(String::from),
    );
    let out = ok(dfc(&args));
    let markdown = String::from_utf8(out.stdout).unwrap();

    // Identical decoded tensors (both configurations at the same b) are evaluated once.
    let mut copied: Vec<_> = std::fs::read_dir(&copies)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    copied.sort();
    assert_eq!(copied.len(), 2);
    let (shape, original) = values(&corpus().join("hed_vgg16/astronaut/pool3.npy"));
    let mut errors = Vec::new();
    for c in &copied {
        let (s, decoded) = values(c);
        assert_eq!(s, shape);
        let max = original
            .iter()
            .zip(&decoded)
            .map(|(a, b)| f64::from((a - b).abs()))
            .fold(0.0, f64::max);
        errors.push(max);
    }
    // One copy per b: half a step of 3 and of 5 bits.
    let (_, min, max) = levels(&original, 3);
    let range = f64::from(max) - f64::from(min);
    errors.sort_by(f64::total_cmp);
    assert!(errors[0] <= range / 31.0 / 2.0 * 1.0001, "{errors:?}");
    assert!(
        errors[1] <= range / 7.0 / 2.0 * 1.0001 && errors[1] > range / 31.0,
        "{errors:?}"
    );

    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["fidelity"]["runs"], 2);
    for r in doc["rows"].as_array().unwrap() {
        let hed = r["model"] == "hed_vgg16";
        assert_eq!(r["fidelity"]["holds"].as_bool() == Some(true), hed, "{r}");
    }
    for layer in doc["layers"].as_array().unwrap() {
        let holding = &layer["holding"]["uniform-zstd"];
        if layer["model"] == "hed_vgg16" {
            assert_eq!(holding["status"], "at", "{layer}");
            assert_eq!(holding["point"], 3);
        } else {
            assert_eq!(holding["status"], "not_applicable", "{layer}");
        }
    }
    assert!(markdown.contains("## Task fidelity"), "{markdown}");
    assert!(markdown.contains("skipped by the command: 1 tensor(s): stand-in"));
    assert!(
        markdown.contains("| hed_vgg16 | pool3 | pool | b=3: "),
        "{markdown}"
    );
}

#[test]
fn bad_options_are_errors() {
    let c = corpus().display().to_string();
    let cases: [(&[&str], &str); 6] = [
        (&["--configs", "nope"], "unknown configuration"),
        (
            &["--configs", "uniform-zstd", "--points", "uniform-zstd=0"],
            "b=0",
        ),
        (
            &["--configs", "uniform-zstd", "--points", "uniform-zstd=a"],
            "not an integer",
        ),
        (
            &["--configs", "uniform-zstd", "--anchor", "dfc"],
            "--anchor dfc",
        ),
        (&["--fidelity-cmd", "true {dir}"], "{json}"),
        (&["--layers", "nope"], "no layer"),
    ];
    for (extra, message) in cases {
        let mut args = vec!["rd", c.as_str()];
        args.extend_from_slice(extra);
        let out = dfc(&args);
        assert!(!out.status.success(), "{extra:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{extra:?}: {stderr}");
    }
    let out = dfc(["rd", "/nonexistent/corpus"]);
    assert!(!out.status.success());
}
