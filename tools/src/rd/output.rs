//! Raw figures as JSON and CSV.

use super::fidelity::Holding;
use super::report::{Aggregate, ConfigInfo, FidelityRun, HoldingMean, Report};
use super::Row;
use crate::bench::report::shape_text;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Serialize)]
struct JsonReport<'a> {
    tool: &'static str,
    version: &'static str,
    corpus: &'a str,
    anchor: &'a str,
    tests: &'a [String],
    configs: &'a [ConfigInfo],
    #[serde(skip_serializing_if = "Option::is_none")]
    fidelity: Option<&'a FidelityRun>,
    /// With task fidelity: per configuration, mean ratios at the holding point against
    /// uniform-order0 over the conv and pool layers where both hold.
    #[serde(skip_serializing_if = "Option::is_none")]
    holding_means: Option<Vec<HoldingMean>>,
    layers: Vec<JsonLayer>,
    kinds: Vec<JsonKind>,
    rows: &'a [Row],
}

/// A layer's curves, BD-rates and holding points.
#[derive(Serialize)]
struct JsonLayer {
    model: String,
    layer: String,
    kind: String,
    /// Per configuration, one aggregate per operating point.
    curves: Vec<JsonCurve>,
    /// Per test configuration, BD-rate in percent against the anchor (null: none).
    bd_rate_percent: BTreeMap<String, Option<f64>>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    holding: BTreeMap<String, Holding>,
}

#[derive(Serialize)]
struct JsonKind {
    kind: String,
    curves: Vec<JsonCurve>,
    /// Per test configuration, mean of the per-layer BD-rates in percent.
    bd_rate_percent: BTreeMap<String, Option<f64>>,
}

#[derive(Serialize)]
struct JsonCurve {
    config: String,
    points: Vec<Aggregate>,
}

/// Every tensor × configuration × operating point, the per-layer and per-kind curves, the
/// BD-rates and (with task fidelity) the holding points.
pub fn to_json(report: &Report) -> anyhow::Result<String> {
    let curves = |keep: &dyn Fn(&super::load::TensorInfo) -> bool| -> Vec<JsonCurve> {
        report
            .configs
            .iter()
            .map(|c| JsonCurve {
                config: c.name.clone(),
                points: report.curve(&c.name, keep),
            })
            .collect()
    };
    let layers = report
        .layers()
        .into_iter()
        .map(|l| JsonLayer {
            curves: curves(&|t| l.keeps(t)),
            bd_rate_percent: report
                .tests
                .iter()
                .map(|t| (t.clone(), report.layer_bd_rate(t, &l)))
                .collect(),
            holding: report
                .configs
                .iter()
                .filter_map(|c| report.holding(&c.name, &l).map(|h| (c.name.clone(), h)))
                .collect(),
            model: l.model,
            layer: l.layer,
            kind: l.kind,
        })
        .collect();
    let kinds = report
        .kinds()
        .into_iter()
        .map(|k| JsonKind {
            kind: k.to_string(),
            curves: curves(&|t| t.kind == k),
            bd_rate_percent: report
                .tests
                .iter()
                .map(|t| (t.clone(), report.kind_bd_rate(t, Some(k)).0))
                .collect(),
        })
        .collect();
    let doc = JsonReport {
        tool: "dfc rd",
        version: env!("CARGO_PKG_VERSION"),
        corpus: &report.source,
        anchor: &report.anchor,
        tests: &report.tests,
        configs: &report.configs,
        fidelity: report.fidelity.as_ref(),
        holding_means: report
            .fidelity
            .as_ref()
            .map(|_| report.holding_means("uniform-order0")),
        layers,
        kinds,
        rows: &report.rows,
    };
    let mut s = serde_json::to_string_pretty(&doc)?;
    s.push('\n');
    Ok(s)
}

/// Columns of the CSV output.
pub const CSV_COLUMNS: &[&str] = &[
    "model",
    "image",
    "layer",
    "kind",
    "shape",
    "elements",
    "peak",
    "config",
    "point",
    "label",
    "coded_bytes",
    "bits_per_element",
    "ratio",
    "mse",
    "psnr_db",
    "cosine",
    "max_abs_error",
    "top1_unchanged",
    "emb_cos",
    "edge_psnr_db",
    "task_holds",
];

/// One line per tensor × configuration × operating point; missing figures are empty fields.
pub fn to_csv(report: &Report) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push('\n');
    let opt = |x: Option<String>| x.unwrap_or_default();
    for r in &report.rows {
        let f = r.fidelity.as_ref();
        let fields = [
            field(&r.info.model),
            field(&r.info.image),
            field(&r.info.layer),
            field(&r.info.kind),
            shape_text(&r.info.shape),
            r.info.elements.to_string(),
            r.info.peak.to_string(),
            field(&r.config),
            r.point.to_string(),
            field(&r.label),
            r.coded_bytes.to_string(),
            r.bits_per_element.to_string(),
            r.ratio.to_string(),
            r.distortion.mse.to_string(),
            r.distortion.psnr_db.to_string(),
            r.distortion.cosine.to_string(),
            r.distortion.max_abs_error.to_string(),
            opt(f.and_then(|f| f.top1_unchanged).map(|b| b.to_string())),
            opt(f.and_then(|f| f.emb_cos).map(|x| x.to_string())),
            opt(f.and_then(|f| f.edge_psnr_db).map(|x| x.to_string())),
            opt(f.and_then(|f| f.holds).map(|b| b.to_string())),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
