//! The results of a sweep: aggregates per layer and kind, BD-rates, holding points, and the
//! Markdown report.

use super::bdrate::{bd_rate, RdPoint};
use super::configs::Selected;
use super::fidelity::{holding_point, Criteria, Holding, LayerPoint};
use super::load::TensorInfo;
use super::Row;
use crate::bench::corpus::{Corpus, KINDS};
use crate::bench::report::sig;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// A configuration as the report describes it.
#[derive(Clone, Debug, Serialize)]
pub struct ConfigInfo {
    pub name: String,
    pub settings: String,
    /// The operating-point parameter, e.g. `b` or `qp`.
    pub parameter: String,
    pub points: Vec<i32>,
}

/// How the task fidelity command ran.
#[derive(Clone, Debug, Serialize)]
pub struct FidelityRun {
    pub command: String,
    pub criteria: Criteria,
    /// Runs of the command (identical decoded sets run once).
    pub runs: usize,
    /// What the command skipped, e.g. unsupported layers.
    pub skipped: Vec<String>,
}

/// Everything a sweep measured.
#[derive(Clone, Debug)]
pub struct Report {
    pub source: String,
    pub configs: Vec<ConfigInfo>,
    pub tensors: Vec<TensorInfo>,
    /// Configuration-major, then operating point, then tensor.
    pub rows: Vec<Row>,
    /// Models in corpus order.
    pub models: Vec<String>,
    layer_order: BTreeMap<String, Vec<String>>,
    /// BD-rate anchor and the configurations compared with it.
    pub anchor: String,
    pub tests: Vec<String>,
    pub fidelity: Option<FidelityRun>,
}

/// A set of tensors at one operating point of one configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Aggregate {
    pub point: i32,
    pub label: String,
    pub tensors: usize,
    pub elements: u64,
    pub coded_bytes: u64,
    /// 8 · Σ coded bytes / Σ elements.
    pub bits_per_element: f64,
    /// Σ original bytes / Σ coded bytes.
    pub ratio: f64,
    /// Mean of the tensors' finite PSNRs (see [`mean_psnr`]).
    #[serde(serialize_with = "super::metrics::finite_or_text")]
    pub psnr_db: f64,
    pub mse: f64,
    pub cosine: f64,
}

impl Aggregate {
    fn of(rows: &[&Row]) -> Option<Aggregate> {
        let first = rows.first()?;
        let n = rows.len() as f64;
        let elements: u64 = rows.iter().map(|r| r.info.elements).sum();
        let coded: u64 = rows.iter().map(|r| r.coded_bytes).sum();
        Some(Aggregate {
            point: first.point,
            label: first.label.clone(),
            tensors: rows.len(),
            elements,
            coded_bytes: coded,
            bits_per_element: coded as f64 * 8.0 / elements as f64,
            ratio: (elements * 4) as f64 / coded.max(1) as f64,
            psnr_db: mean_psnr(rows.iter().map(|r| r.distortion.psnr_db)),
            mse: rows.iter().map(|r| r.distortion.mse).sum::<f64>() / n,
            cosine: rows.iter().map(|r| r.distortion.cosine).sum::<f64>() / n,
        })
    }
}

/// Mean of the finite PSNRs (as fidelity.py averages); with none finite, the first value
/// (inf: every tensor exact).
pub fn mean_psnr(values: impl Iterator<Item = f64>) -> f64 {
    let (mut sum, mut n, mut first) = (0.0, 0usize, None);
    for v in values {
        first.get_or_insert(v);
        if v.is_finite() {
            sum += v;
            n += 1;
        }
    }
    if n > 0 {
        sum / n as f64
    } else {
        first.unwrap_or(f64::NAN)
    }
}

/// A configuration's mean ratio at the holding point against a reference configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HoldingMean {
    pub config: String,
    /// Conv and pool layers where both hold.
    pub layers: usize,
    /// Conv and pool layers where the configuration never holds.
    pub never: usize,
    pub mean_ratio: Option<f64>,
    pub reference_mean_ratio: Option<f64>,
}

/// A layer of a model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layer {
    pub model: String,
    pub layer: String,
    pub kind: String,
}

impl Layer {
    pub fn keeps(&self, t: &TensorInfo) -> bool {
        t.model == self.model && t.layer == self.layer
    }
}

impl Report {
    pub fn new(
        corpus: &Corpus,
        configs: &[Selected],
        tensors: Vec<TensorInfo>,
        rows: Vec<Row>,
        anchor: String,
        tests: Vec<String>,
        fidelity: Option<FidelityRun>,
    ) -> Report {
        let mut models: Vec<String> = Vec::new();
        for t in &tensors {
            if !models.contains(&t.model) {
                models.push(t.model.clone());
            }
        }
        Report {
            source: corpus.source.clone(),
            configs: configs
                .iter()
                .map(|s| ConfigInfo {
                    name: s.config.name().to_string(),
                    settings: s.config.settings(),
                    parameter: s.config.parameter().to_string(),
                    points: s.points.clone(),
                })
                .collect(),
            tensors,
            rows,
            models,
            layer_order: corpus.layer_order.clone(),
            anchor,
            tests,
            fidelity,
        }
    }

    /// Every layer, model by model in network order.
    pub fn layers(&self) -> Vec<Layer> {
        let mut out = Vec::new();
        for model in &self.models {
            let mut layers: Vec<&TensorInfo> = Vec::new();
            for t in self.tensors.iter().filter(|t| &t.model == model) {
                if !layers.iter().any(|l| l.layer == t.layer) {
                    layers.push(t);
                }
            }
            let rank = |layer: &str| {
                self.layer_order
                    .get(model)
                    .and_then(|o| o.iter().position(|l| l == layer))
                    .unwrap_or(usize::MAX)
            };
            layers.sort_by_key(|t| rank(&t.layer));
            out.extend(layers.into_iter().map(|t| Layer {
                model: model.clone(),
                layer: t.layer.clone(),
                kind: t.kind.clone(),
            }));
        }
        out
    }

    /// Kinds present, in the order conv, pool, fc, other.
    pub fn kinds(&self) -> Vec<&'static str> {
        KINDS
            .iter()
            .copied()
            .filter(|k| self.tensors.iter().any(|t| t.kind == *k))
            .collect()
    }

    /// The curve of `config` over the tensors `keep` accepts: one aggregate per operating point,
    /// in the configuration's order.
    pub fn curve(&self, config: &str, keep: impl Fn(&TensorInfo) -> bool) -> Vec<Aggregate> {
        let Some(info) = self.configs.iter().find(|c| c.name == config) else {
            return Vec::new();
        };
        info.points
            .iter()
            .filter_map(|&p| {
                let rows: Vec<&Row> = self
                    .rows
                    .iter()
                    .filter(|r| r.config == config && r.point == p && keep(&r.info))
                    .collect();
                Aggregate::of(&rows)
            })
            .collect()
    }

    /// BD-rate in percent of `test` against the anchor on the tensors of one layer.
    pub fn layer_bd_rate(&self, test: &str, layer: &Layer) -> Option<f64> {
        let points = |config: &str| -> Vec<RdPoint> {
            self.curve(config, |t| layer.keeps(t))
                .iter()
                .map(|a| RdPoint {
                    rate: a.bits_per_element,
                    psnr: a.psnr_db,
                })
                .collect()
        };
        bd_rate(&points(&self.anchor), &points(test))
    }

    /// Mean of the per-layer BD-rates of the layers of `kind` (`None`: every layer), with the
    /// number of layers that have one and the number of layers.
    pub fn kind_bd_rate(&self, test: &str, kind: Option<&str>) -> (Option<f64>, usize, usize) {
        let layers: Vec<Layer> = self
            .layers()
            .into_iter()
            .filter(|l| kind.is_none_or(|k| l.kind == k))
            .collect();
        let rates: Vec<f64> = layers
            .iter()
            .filter_map(|l| self.layer_bd_rate(test, l))
            .collect();
        let mean = (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64);
        (mean, rates.len(), layers.len())
    }

    /// Where the task output of a layer holds for a configuration (with a fidelity run).
    pub fn holding(&self, config: &str, layer: &Layer) -> Option<Holding> {
        self.fidelity.as_ref()?;
        let info = self.configs.iter().find(|c| c.name == config)?;
        let points: Vec<LayerPoint> = info
            .points
            .iter()
            .filter_map(|&p| {
                let rows: Vec<&Row> = self
                    .rows
                    .iter()
                    .filter(|r| r.config == config && r.point == p && layer.keeps(&r.info))
                    .collect();
                let a = Aggregate::of(&rows)?;
                let evaluated = rows.iter().filter(|r| r.fidelity.is_some()).count();
                let holds = rows
                    .iter()
                    .map(|r| r.fidelity.as_ref().and_then(|f| f.holds))
                    .collect::<Option<Vec<bool>>>()
                    .map(|all| all.iter().all(|&h| h));
                Some(LayerPoint {
                    point: p,
                    label: a.label,
                    coded_bytes: a.coded_bytes,
                    bits_per_element: a.bits_per_element,
                    ratio: a.ratio,
                    holds,
                    evaluated,
                })
            })
            .collect();
        Some(holding_point(&points))
    }

    /// Per configuration, over the conv and pool layers where it and the reference
    /// configuration both hold: the mean ratio at the holding point of each.
    pub fn holding_means(&self, reference: &str) -> Vec<HoldingMean> {
        let ratio = |config: &str, l: &Layer| match self.holding(config, l) {
            Some(Holding::At { ratio, .. }) => Some(ratio),
            _ => None,
        };
        let layers: Vec<Layer> = self
            .layers()
            .into_iter()
            .filter(|l| l.kind == "conv" || l.kind == "pool")
            .collect();
        self.configs
            .iter()
            .map(|c| {
                let pairs: Vec<(f64, f64)> = layers
                    .iter()
                    .filter_map(|l| Some((ratio(&c.name, l)?, ratio(reference, l)?)))
                    .collect();
                let n = pairs.len();
                let mean = |f: fn(&(f64, f64)) -> f64| {
                    (n > 0).then(|| pairs.iter().map(f).sum::<f64>() / n as f64)
                };
                HoldingMean {
                    config: c.name.clone(),
                    layers: n,
                    never: layers
                        .iter()
                        .filter(|l| self.holding(&c.name, l) == Some(Holding::Never))
                        .count(),
                    mean_ratio: mean(|p| p.0),
                    reference_mean_ratio: mean(|p| p.1),
                }
            })
            .collect()
    }

    /// The Markdown report.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        self.write_header(&mut md);
        self.write_per_kind(&mut md);
        self.write_per_layer(&mut md);
        self.write_bd_rates(&mut md);
        if self.fidelity.is_some() {
            self.write_fidelity(&mut md);
        }
        md
    }

    fn write_header(&self, md: &mut String) {
        let total: u64 = self.tensors.iter().map(TensorInfo::original_bytes).sum();
        let _ = writeln!(md, "# dfc rd\n");
        let _ = writeln!(
            md,
            "- corpus: `{}`: {} float32 tensors of {} model(s), {} layers, {} MB",
            self.source,
            self.tensors.len(),
            self.models.len(),
            self.layers().len(),
            sig(total as f64 / 1e6),
        );
        let _ = writeln!(
            md,
            "- rate: coded bytes; b/e = bits per element = 8 · bytes / elements; ratio = float32 bytes / coded bytes; over several tensors, sums of bytes and elements"
        );
        let _ = writeln!(
            md,
            "- distortion: PSNR = 10 log10(peak² / MSE), peak = max |x| of the original tensor (inf when the reconstruction is exact); over several tensors, the mean of the tensors' finite PSNRs (inf when every tensor is exact)"
        );
        let _ = writeln!(
            md,
            "- BD-rate: Bjøntegaard delta rate at equal PSNR, log10(b/e) interpolated as a PCHIP function of PSNR over the common PSNR range (VCEG-AL22 / JVET CTC); per layer on the layer's curve, per kind the mean of the layers' BD-rates; negative = fewer bits than the anchor\n"
        );
        let _ = writeln!(md, "## Configurations\n");
        let _ = writeln!(
            md,
            "| configuration | operating points | coded and rate |\n|---|---|---|"
        );
        for c in &self.configs {
            let _ = writeln!(
                md,
                "| {} | {} | {} |",
                c.name,
                points_text(&c.parameter, &c.points),
                c.settings
            );
        }
        md.push('\n');
    }

    fn write_per_kind(&self, md: &mut String) {
        let _ = writeln!(md, "## Rate and distortion per layer kind\n");
        let _ = writeln!(
            md,
            "Each cell: bits per element, PSNR in dB (all models together).\n"
        );
        let mut groups: Vec<Option<&str>> = self.kinds().into_iter().map(Some).collect();
        if groups.len() > 1 {
            groups.push(None);
        }
        for c in &self.configs {
            let _ = writeln!(md, "### {}\n", c.name);
            let mut head = String::from("| point |");
            let mut sep = String::from("|---|");
            for g in &groups {
                let n = self
                    .tensors
                    .iter()
                    .filter(|t| g.is_none_or(|k| t.kind == k))
                    .count();
                let _ = write!(head, " {} ({n}) |", g.unwrap_or("all"));
                sep.push_str("---:|");
            }
            let _ = writeln!(md, "{head}\n{sep}");
            let curves: Vec<Vec<Aggregate>> = groups
                .iter()
                .map(|g| self.curve(&c.name, |t| g.is_none_or(|k| t.kind == k)))
                .collect();
            for (i, p) in c.points.iter().enumerate() {
                let _ = write!(md, "| {}={p} |", c.parameter);
                for curve in &curves {
                    let _ = write!(md, " {} |", cell(curve.get(i)));
                }
                md.push('\n');
            }
            md.push('\n');
        }
    }

    fn write_per_layer(&self, md: &mut String) {
        let _ = writeln!(md, "## Rate and distortion per layer\n");
        let _ = writeln!(
            md,
            "Layers in network order; each cell: bits per element, PSNR in dB over the layer's tensors.\n"
        );
        let layers = self.layers();
        for c in &self.configs {
            let _ = writeln!(md, "### {}\n", c.name);
            let mut head = String::from("| model | layer | kind | tensors |");
            let mut sep = String::from("|---|---|---|---:|");
            for p in &c.points {
                let _ = write!(head, " {}={p} |", c.parameter);
                sep.push_str("---:|");
            }
            let _ = writeln!(md, "{head}\n{sep}");
            for l in &layers {
                let curve = self.curve(&c.name, |t| l.keeps(t));
                let n = self.tensors.iter().filter(|t| l.keeps(t)).count();
                let _ = write!(md, "| {} | {} | {} | {n} |", l.model, l.layer, l.kind);
                for a in &curve {
                    let _ = write!(md, " {} |", cell(Some(a)));
                }
                md.push('\n');
            }
            md.push('\n');
        }
    }

    fn write_bd_rates(&self, md: &mut String) {
        let _ = writeln!(md, "## BD-rate against {}\n", self.anchor);
        if self.tests.is_empty() {
            let _ = writeln!(md, "No configuration to compare with the anchor.\n");
            return;
        }
        let _ = writeln!(
            md,
            "Per kind: mean of the per-layer BD-rates (in brackets: layers with a BD-rate / layers; a layer has none when the curves share no PSNR range).\n"
        );
        let mut head = String::from("| kind |");
        let mut sep = String::from("|---|");
        for t in &self.tests {
            let _ = write!(head, " {t} |");
            sep.push_str("---:|");
        }
        let _ = writeln!(md, "{head}\n{sep}");
        let mut groups: Vec<Option<&str>> = self.kinds().into_iter().map(Some).collect();
        groups.push(None);
        for g in groups {
            let _ = write!(md, "| {} |", g.unwrap_or("all layers"));
            for t in &self.tests {
                let (mean, with, total) = self.kind_bd_rate(t, g);
                let _ = write!(md, " {} ({with}/{total}) |", percent(mean));
            }
            md.push('\n');
        }
        md.push('\n');
        let _ = writeln!(md, "### Per layer\n");
        let mut head = String::from("| model | layer | kind |");
        let mut sep = String::from("|---|---|---|");
        for t in &self.tests {
            let _ = write!(head, " {t} |");
            sep.push_str("---:|");
        }
        let _ = writeln!(md, "{head}\n{sep}");
        for l in self.layers() {
            let _ = write!(md, "| {} | {} | {} |", l.model, l.layer, l.kind);
            for t in &self.tests {
                let _ = write!(md, " {} |", percent(self.layer_bd_rate(t, &l)));
            }
            md.push('\n');
        }
        md.push('\n');
    }

    fn write_fidelity(&self, md: &mut String) {
        let Some(run) = &self.fidelity else {
            return;
        };
        super::fidelity::write_section_header(
            md,
            run,
            "a tensor",
            "on a layer when it holds on every tensor of the layer",
        );
        let configs: Vec<&str> = self.configs.iter().map(|c| c.name.as_str()).collect();
        super::fidelity::write_holding_table(
            md,
            &["model", "layer", "kind"],
            &configs,
            self.layers().into_iter().map(|l| {
                let holdings = configs.iter().map(|c| self.holding(c, &l)).collect();
                (
                    vec![l.model.clone(), l.layer.clone(), l.kind.clone()],
                    holdings,
                )
            }),
        );
        let reference = "uniform-order0";
        if !self.configs.iter().any(|c| c.name == reference) {
            return;
        }
        let _ = writeln!(
            md,
            "### Mean ratio at the holding point, conv and pool layers\n\nPer configuration, over the conv and pool layers where it and {reference} both hold: its mean ratio, {reference}'s mean ratio on the same layers, and their quotient (the issue's target for dfc: ≥ 2×).\n"
        );
        let _ = writeln!(
            md,
            "| configuration | layers | never holds | mean ratio | {reference} | quotient |\n|---|---:|---:|---:|---:|---:|"
        );
        for m in self.holding_means(reference) {
            let quotient = match (m.mean_ratio, m.reference_mean_ratio) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}×", a / b),
                _ => "-".into(),
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {quotient} |",
                m.config,
                m.layers,
                m.never,
                m.mean_ratio.map_or("-".into(), sig),
                m.reference_mean_ratio.map_or("-".into(), sig)
            );
        }
        md.push('\n');
    }
}

/// `b=2..=10` for a contiguous list, else the values.
fn points_text(parameter: &str, points: &[i32]) -> String {
    let contiguous = points.windows(2).all(|w| w[1] == w[0] + 1);
    match (points.first(), points.last()) {
        (Some(a), Some(b)) if contiguous && points.len() > 2 => format!("{parameter}={a}..={b}"),
        _ => format!(
            "{parameter}={}",
            points
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join(",")
        ),
    }
}

fn cell(a: Option<&Aggregate>) -> String {
    match a {
        Some(a) => format!("{}, {}", sig(a.bits_per_element), db(a.psnr_db)),
        None => "-".into(),
    }
}

/// A PSNR with one decimal, or inf.
pub fn db(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else if x > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

fn percent(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{v:+.1} %"))
}
