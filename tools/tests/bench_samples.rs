//! `dfc bench` on the shipped sample corpus (samples/corpus): figures against an independent
//! computation, every output format, plain trees, single files, and a corrupting method.

use clap::Parser;
use dfc_tools::bench::{
    self, corpus, methods, BenchMethod, Encoded, Family, RunOptions, TensorView,
};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/corpus")
}

fn fast() -> RunOptions {
    RunOptions {
        jobs: 2,
        min_time: Duration::ZERO,
        progress: false,
    }
}

/// The canonical bytes of a little-endian C-order .npy file: its last `n` bytes.
fn npy_data(path: &Path, shape: &[u32], element_size: usize) -> Vec<u8> {
    let file = std::fs::read(path).unwrap();
    let n = shape.iter().map(|&d| d as usize).product::<usize>() * element_size;
    file[file.len() - n..].to_vec()
}

fn zlib6(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(6));
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn zlib_ratio_is_bytes_over_flate2_level_6() {
    let corpus = corpus::load(&samples(), &BTreeMap::new()).unwrap();
    let methods = methods::select("zlib,dfc-zlib").unwrap();
    let report = bench::bench(&corpus, &methods, &fast()).unwrap();
    assert_eq!(report.tensors.len(), 9);
    assert_eq!(report.rows.len(), 18);
    for (i, t) in report.tensors.iter().enumerate() {
        let entry = corpus
            .entries
            .iter()
            .find(|e| e.model == t.model && e.layer == t.layer)
            .unwrap();
        let data = npy_data(&entry.path, &t.shape, 4);
        assert_eq!(t.bytes, data.len() as u64);
        let expected = zlib6(&data);
        let zlib = report.row(i, "zlib").unwrap();
        assert_eq!(zlib.coded_bytes, Some(expected.len() as u64), "{}", t.id());
        let ratio = data.len() as f64 / expected.len() as f64;
        assert_eq!(zlib.ratio, Some(ratio), "{}", t.id());
        assert!(zlib.encode_s.unwrap() > 0.0 && zlib.decode_s.unwrap() > 0.0);
        assert!(zlib.encode_reps >= 1 && zlib.decode_reps >= 1);
        // Same zlib payload inside a DFC stream: the difference is the container alone.
        let dfc = report.row(i, "dfc-zlib").unwrap().coded_bytes.unwrap();
        let overhead = dfc - expected.len() as u64;
        assert!(
            (50..200).contains(&overhead),
            "{}: {overhead} bytes of container",
            t.id()
        );
    }
    // The manifest's non-zero rates are used, and they are real: sparse VGG, dense ResNet.
    let nz = |layer: &str| {
        report
            .tensors
            .iter()
            .find(|t| t.layer == layer)
            .unwrap()
            .nonzero_rate
    };
    assert!(nz("conv5_3") < 0.5 && nz("res3d") > 0.5);
}

#[test]
fn every_output_is_written_and_parses() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let plots = dir.path().join("plots");
    let cli = dfc_tools::Cli::try_parse_from([
        "dfc",
        "bench",
        samples().to_str().unwrap(),
        "--methods",
        "dfc-raw,dfc-zlib,zlib,pcodec",
        "--min-time",
        "0",
        "--jobs",
        "2",
        "--quiet",
        "--json",
        &p("out.json"),
        "--csv",
        &p("out.csv"),
        "--markdown",
        &p("out.md"),
        "--plots",
        plots.to_str().unwrap(),
    ])
    .unwrap();
    dfc_tools::run(cli).unwrap();

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(p("out.json")).unwrap()).unwrap();
    let rows = json["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 9 * 4);
    assert_eq!(json["methods"].as_array().unwrap().len(), 4);
    for r in rows {
        for key in [
            "model",
            "image",
            "layer",
            "kind",
            "shape",
            "bytes",
            "nonzero_rate",
            "method",
            "coded_bytes",
            "ratio",
            "encode_s",
            "decode_s",
            "encode_reps",
            "decode_reps",
        ] {
            assert!(!r[key].is_null(), "{key} missing in {r}");
        }
        let ratio = r["ratio"].as_f64().unwrap();
        let expected = r["bytes"].as_f64().unwrap() / r["coded_bytes"].as_f64().unwrap();
        assert!(
            (ratio / expected - 1.0).abs() < 1e-12,
            "{ratio} vs {expected}"
        );
    }
    let fc = rows
        .iter()
        .find(|r| r["layer"] == "fc_logits" && r["method"] == "dfc-raw")
        .unwrap();
    assert_eq!(fc["kind"], "fc");
    assert_eq!(fc["bytes"], 8);
    assert!(
        fc["ratio"].as_f64().unwrap() < 0.2,
        "8 bytes in a whole DFC stream"
    );

    let csv = std::fs::read_to_string(p("out.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 9 * 4);
    let header: Vec<&str> = lines[0].split(',').collect();
    assert_eq!(header[..3], ["model", "image", "layer"]);
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    for line in &lines[1..] {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f.len(), header.len(), "{line}");
        let bytes: f64 = f[col("bytes")].parse().unwrap();
        let coded: f64 = f[col("coded_bytes")].parse().unwrap();
        let ratio: f64 = f[col("ratio")].parse().unwrap();
        assert!((ratio / (bytes / coded) - 1.0).abs() < 1e-12, "{line}");
        let _: f64 = f[col("encode_s")].parse().unwrap();
        let _: f64 = f[col("decode_s")].parse().unwrap();
    }

    let md = std::fs::read_to_string(p("out.md")).unwrap();
    for needle in [
        "## Methods",
        "## Summary per model",
        "## Per model and feature type",
        "## Per layer",
        "## DFC container overhead",
        "| conv |",
        "| pool |",
        "| fc |",
        "aggregate ratio",
        "encode MB/s",
        "level 6",
        "conv5_3",
        "fc_logits",
    ] {
        assert!(md.contains(needle), "Markdown lacks {needle:?}");
    }
    // Layers in network order: pool3 before pool4 before conv5_3 (manifest order).
    let at = |s: &str| md.find(&format!("| {s} |")).unwrap();
    assert!(at("pool3") < at("pool4") && at("pool4") < at("conv5_3"));
    // Every table row has as many cells as its header.
    for table in md.split("\n\n").filter(|b| b.starts_with('|')) {
        let cells: Vec<usize> = table.lines().map(|l| l.matches('|').count()).collect();
        assert!(
            cells.iter().all(|&c| c == cells[0]),
            "ragged table:\n{table}"
        );
    }

    for name in ["ratio_per_layer.svg", "ratio_vs_nonzero.svg"] {
        let svg = std::fs::read_to_string(plots.join(name)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{name}"
        );
        assert!(
            svg.contains("pcodec") && svg.contains("dfc-zlib"),
            "{name} has a legend"
        );
    }
    let svg = std::fs::read_to_string(plots.join("ratio_per_layer.svg")).unwrap();
    assert!(
        svg.contains("res4f") && svg.contains("pool3"),
        "layer names on the x axis"
    );
    // Nothing but the outputs is left behind (atomic writes clean up their temporary files).
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["out.csv", "out.json", "out.md", "plots"]);
}

#[test]
fn plain_tree_infers_kinds_and_honours_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let src = samples().join("opennsfw_resnet50_1by2/astronaut");
    for (image, layer) in [
        ("astronaut", "pool5"),
        ("astronaut", "res5c"),
        ("astronaut", "fc_logits"),
        ("copy", "pool5"),
    ] {
        let to = dir.path().join("resnet").join(image);
        std::fs::create_dir_all(&to).unwrap();
        std::fs::copy(
            src.join(format!("{layer}.npy")),
            to.join(format!("{layer}.npy")),
        )
        .unwrap();
    }
    let corpus = corpus::load(dir.path(), &BTreeMap::new()).unwrap();
    assert_eq!(corpus.models, ["resnet"]);
    assert_eq!(
        corpus.layer_order["resnet"],
        ["pool5", "res5c", "fc_logits"]
    );
    let kind = |c: &corpus::Corpus, layer: &str| {
        c.entries
            .iter()
            .find(|e| e.layer == layer)
            .unwrap()
            .kind
            .clone()
    };
    assert_eq!(kind(&corpus, "pool5"), "fc");
    assert_eq!(kind(&corpus, "res5c"), "conv");
    assert_eq!(kind(&corpus, "fc_logits"), "fc");

    let overrides = BTreeMap::from([("pool5".to_string(), "pool".to_string())]);
    let mut corpus = corpus::load(dir.path(), &overrides).unwrap();
    assert_eq!(kind(&corpus, "pool5"), "pool");
    corpus.retain_kinds(&["pool".into(), "fc".into()]);
    assert_eq!(corpus.entries.len(), 3);

    let report = bench::bench(
        &corpus,
        &methods::select("dfc-auto,zstd-3").unwrap(),
        &fast(),
    )
    .unwrap();
    assert_eq!(report.rows.len(), 6);
    // Without a manifest the non-zero rate comes from the data: pool5 is a dense average.
    let pool5 = report.tensors.iter().find(|t| t.layer == "pool5").unwrap();
    assert!(pool5.nonzero_rate > 0.5 && pool5.nonzero_rate <= 1.0);
    assert_eq!(pool5.image, "astronaut");
    // dfc-auto says what it chose.
    assert!(report
        .rows
        .iter()
        .filter(|r| r.method == "dfc-auto")
        .all(|r| r.note.is_some()));
    assert!(report.to_markdown().contains("dfc-auto chose"));

    // A single .npy file is a corpus of one tensor.
    let one = corpus::load(&src.join("res5c.npy"), &BTreeMap::new()).unwrap();
    assert_eq!(one.entries.len(), 1);
    assert_eq!(
        (one.entries[0].model.as_str(), one.entries[0].image.as_str()),
        ("opennsfw_resnet50_1by2", "astronaut")
    );
    let report = bench::bench(&one, &methods::select("zlib").unwrap(), &fast()).unwrap();
    assert!(report.rows[0].ratio.unwrap() > 1.0);
}

/// Stores the bytes, and flips one bit of the last tensor byte on the way back.
struct FlipBit;

impl BenchMethod for FlipBit {
    fn name(&self) -> &str {
        "flip-bit"
    }
    fn family(&self) -> Family {
        Family::Anchor
    }
    fn settings(&self) -> String {
        "a broken decoder".into()
    }
    fn encode(&self, t: &TensorView<'_>) -> anyhow::Result<Encoded> {
        Ok(Encoded::Coded(t.data.to_vec()))
    }
    fn decode(&self, _t: &TensorView<'_>, coded: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut out = coded.to_vec();
        *out.last_mut().unwrap() ^= 1;
        Ok(out)
    }
}

/// Refuses every tensor.
struct Refuses;

impl BenchMethod for Refuses {
    fn name(&self) -> &str {
        "refuses"
    }
    fn family(&self) -> Family {
        Family::Anchor
    }
    fn settings(&self) -> String {
        "codes nothing".into()
    }
    fn encode(&self, _t: &TensorView<'_>) -> anyhow::Result<Encoded> {
        Ok(Encoded::NotApplicable("no such type".into()))
    }
    fn decode(&self, _t: &TensorView<'_>, _coded: &[u8]) -> anyhow::Result<Vec<u8>> {
        unreachable!("nothing was coded")
    }
}

#[test]
fn a_corrupted_decode_is_an_error_naming_tensor_and_method() {
    let mut corpus = corpus::load(&samples(), &BTreeMap::new()).unwrap();
    corpus.entries.retain(|e| e.layer == "fc_logits");
    let methods: Vec<Box<dyn BenchMethod>> = vec![Box::new(methods::Zlib), Box::new(FlipBit)];
    let err = bench::bench(&corpus, &methods, &fast()).unwrap_err();
    let text = format!("{err:#}");
    assert!(text.contains("flip-bit"), "{text}");
    assert!(
        text.contains("opennsfw_resnet50_1by2/astronaut/fc_logits"),
        "{text}"
    );
    assert!(text.contains("byte 7 of 8"), "{text}");
}

#[test]
fn a_method_that_does_not_apply_gives_na_rows() {
    let mut corpus = corpus::load(&samples(), &BTreeMap::new()).unwrap();
    corpus
        .entries
        .retain(|e| e.layer == "pool5" || e.layer == "fc_logits");
    let methods: Vec<Box<dyn BenchMethod>> = vec![Box::new(methods::Zlib), Box::new(Refuses)];
    let report = bench::bench(&corpus, &methods, &fast()).unwrap();
    let refused: Vec<_> = report
        .rows
        .iter()
        .filter(|r| r.method == "refuses")
        .collect();
    assert_eq!(refused.len(), 2);
    assert!(refused
        .iter()
        .all(|r| r.coded_bytes.is_none() && r.ratio.is_none()));
    let md = report.to_markdown();
    assert!(md.contains("n/a") && md.contains("no such type"), "{md}");
    let csv = bench::output::to_csv(&report);
    assert!(csv.lines().any(|l| l.contains(",refuses,,,")), "{csv}");
}

#[test]
fn unknown_names_are_rejected() {
    assert!(methods::select("zlib,nope").is_err());
    let dfc = methods::all()
        .iter()
        .filter(|m| m.family() == Family::Dfc)
        .count();
    assert!(dfc >= 6);
    assert_eq!(methods::select("dfc").unwrap().len(), dfc);
    assert_eq!(methods::select("anchors,zlib").unwrap().len(), 7);
    assert_eq!(methods::select("all").unwrap().len(), methods::all().len());
    let bad = BTreeMap::from([("pool5".to_string(), "dense".to_string())]);
    assert!(corpus::load(&samples(), &bad).is_err());
}
