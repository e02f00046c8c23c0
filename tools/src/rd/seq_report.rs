//! The report of `dfc rd --sequences`: per sequence layer the curves of each configuration,
//! BD-rates of the predictions against each other, the lossless ratios without and with inter
//! prediction, per-kind means, the target and, with a fidelity command, where the task
//! output holds; Markdown, JSON, CSV and SVG.

use super::bdrate::{bd_rate, RdPoint};
use super::fidelity::{holding_point, Holding, LayerPoint};
use super::report::{db, FidelityRun};
use super::sequences::{
    prediction_name, Group, SeqConfig, SeqRow, COMPARISONS, LOSSLESS_COMPARISON, TARGET_BD_RATE,
};
use crate::bench::report::{shape_text, sig};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// A configuration as the report describes it.
#[derive(Clone, Debug, Serialize)]
pub struct SeqConfigInfo {
    pub name: String,
    pub settings: String,
    pub parameter: String,
    pub points: Vec<i32>,
    /// Prediction across frames: none, intra, inter or auto.
    pub prediction: &'static str,
    #[serde(skip)]
    pub lossless: bool,
}

/// Everything a sequence sweep measured.
#[derive(Clone, Debug)]
pub struct SeqReport {
    pub source: String,
    pub rap_period: u32,
    pub configs: Vec<SeqConfigInfo>,
    pub groups: Vec<Group>,
    /// Shape of one frame, per group.
    pub shapes: Vec<Vec<u32>>,
    pub rows: Vec<SeqRow>,
    pub fidelity: Option<FidelityRun>,
}

/// What the rate counts, for every output.
pub const RATE_DEFINITION: &str = "rate = Σ method payload bytes (feature_data method_payload) of the layer over all frames of its one stream; container units (identification, sequence header, layer parameters, frame headers, unit headers, tensor hashes, end of sequence) excluded, their total is stream_bytes";

impl SeqReport {
    pub fn new(
        source: &str,
        configs: &[(SeqConfig, Vec<i32>)],
        rap_period: u32,
        groups: Vec<Group>,
        shapes: Vec<Vec<u32>>,
        rows: Vec<SeqRow>,
        fidelity: Option<FidelityRun>,
    ) -> SeqReport {
        SeqReport {
            source: source.to_string(),
            rap_period,
            configs: configs
                .iter()
                .map(|(c, points)| SeqConfigInfo {
                    name: c.name.to_string(),
                    settings: c.settings(rap_period),
                    parameter: c.parameter().to_string(),
                    points: points.clone(),
                    prediction: prediction_name(c.method.prediction()),
                    lossless: c.method.is_lossless(),
                })
                .collect(),
            groups,
            shapes,
            rows,
            fidelity,
        }
    }

    /// Where the task output of sequence layer `group` holds for a configuration: the
    /// lowest-rate point from which it holds on every frame at every higher rate (with a
    /// fidelity run).
    pub fn holding(&self, config: &str, group: usize) -> Option<Holding> {
        self.fidelity.as_ref()?;
        let points: Vec<LayerPoint> = self
            .rows
            .iter()
            .filter(|r| r.config == config && r.group == group)
            .map(|r| LayerPoint {
                point: r.point,
                label: r.label.clone(),
                coded_bytes: r.payload_bytes,
                bits_per_element: r.bits_per_element,
                ratio: r.ratio,
                holds: r.task.as_ref().and_then(|t| t.holds),
                evaluated: r.task.as_ref().map_or(0, |t| t.frames_evaluated),
            })
            .collect();
        Some(holding_point(&points))
    }

    fn has(&self, config: &str) -> bool {
        self.configs.iter().any(|c| c.name == config)
    }

    /// The rows of `config` on group `g`, in the configuration's point order.
    pub fn curve(&self, config: &str, g: usize) -> Vec<&SeqRow> {
        let Some(info) = self.configs.iter().find(|c| c.name == config) else {
            return Vec::new();
        };
        info.points
            .iter()
            .filter_map(|&p| {
                self.rows
                    .iter()
                    .find(|r| r.group == g && r.config == config && r.point == p)
            })
            .collect()
    }

    /// BD-rate in percent of `test` against `anchor` on group `g` (rate in bits per element,
    /// distortion the mean PSNR over the frames).
    pub fn bd_rate(&self, test: &str, anchor: &str, g: usize) -> Option<f64> {
        let points = |config: &str| -> Vec<RdPoint> {
            self.curve(config, g)
                .iter()
                .map(|r| RdPoint {
                    rate: r.bits_per_element,
                    psnr: r.psnr_db,
                })
                .collect()
        };
        bd_rate(&points(anchor), &points(test))
    }

    /// The comparisons whose two configurations were both swept.
    pub fn comparisons(&self) -> Vec<(&'static str, &'static str)> {
        COMPARISONS
            .iter()
            .copied()
            .filter(|(t, a)| self.has(t) && self.has(a))
            .collect()
    }

    /// The lossless configurations swept (seq-lossless, seq-lossless-inter), in sweep order.
    fn lossless_configs(&self) -> Vec<&SeqConfigInfo> {
        self.configs.iter().filter(|c| c.lossless).collect()
    }

    /// The row of lossless configuration `config` on group `g`.
    pub fn lossless_row(&self, config: &str, g: usize) -> Option<&SeqRow> {
        self.curve(config, g).into_iter().next()
    }

    /// The lossless row of group `g` without prediction (seq-lossless).
    pub fn lossless(&self, g: usize) -> Option<&SeqRow> {
        self.lossless_row(LOSSLESS_COMPARISON.1, g)
    }

    /// The lossless row of group `g` with inter prediction (seq-lossless-inter).
    pub fn lossless_inter(&self, g: usize) -> Option<&SeqRow> {
        self.lossless_row(LOSSLESS_COMPARISON.0, g)
    }

    /// Whether both lossless configurations, without and with prediction, were swept.
    fn has_lossless_comparison(&self) -> bool {
        self.has(LOSSLESS_COMPARISON.0) && self.has(LOSSLESS_COMPARISON.1)
    }

    /// Size change in percent of the lossless payload with inter prediction against without,
    /// over `groups` together: 100 · (Σ payload with / Σ payload without − 1); negative =
    /// smaller with prediction. None unless both were swept on every one of `groups`.
    pub fn lossless_inter_change(&self, groups: &[usize]) -> Option<f64> {
        if groups.is_empty() {
            return None;
        }
        let (mut with, mut without) = (0u64, 0u64);
        for &g in groups {
            with += self.lossless_inter(g)?.payload_bytes;
            without += self.lossless(g)?.payload_bytes;
        }
        Some(100.0 * (with as f64 / without.max(1) as f64 - 1.0))
    }

    /// A group's class for the per-kind means: its kind, with `, rank 1` for vectors.
    pub fn class(&self, g: usize) -> String {
        if self.shapes[g].len() == 1 {
            format!("{}, rank 1", self.groups[g].kind)
        } else {
            self.groups[g].kind.clone()
        }
    }

    /// Classes present: conv, pool, fc, other, each before its rank-1 form.
    pub fn classes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for k in crate::bench::corpus::KINDS {
            for c in [k.to_string(), format!("{k}, rank 1")] {
                if (0..self.groups.len()).any(|g| self.class(g) == c) {
                    out.push(c);
                }
            }
        }
        out
    }

    /// The map layers (rank ≥ 2: res3d, res4f, conv5_3 in the dev corpus) the target is about.
    pub fn map_layers(&self) -> Vec<usize> {
        (0..self.groups.len())
            .filter(|&g| self.shapes[g].len() >= 2)
            .collect()
    }

    /// Mean of the BD-rates over `groups` (with how many have one).
    pub fn mean_bd_rate(&self, test: &str, anchor: &str, groups: &[usize]) -> (Option<f64>, usize) {
        let rates: Vec<f64> = groups
            .iter()
            .filter_map(|&g| self.bd_rate(test, anchor, g))
            .collect();
        let mean = (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64);
        (mean, rates.len())
    }

    /// Lossless ratio of configuration `config` over `groups` together: Σ float32 bytes / Σ
    /// payload bytes.
    pub fn lossless_ratio_of(&self, config: &str, groups: &[usize]) -> Option<f64> {
        let rows: Vec<&SeqRow> = groups
            .iter()
            .filter_map(|&g| self.lossless_row(config, g))
            .collect();
        if rows.is_empty() {
            return None;
        }
        let elements: u64 = rows.iter().map(|r| r.elements).sum();
        let bytes: u64 = rows.iter().map(|r| r.payload_bytes).sum();
        Some((elements * 4) as f64 / bytes.max(1) as f64)
    }

    /// Lossless ratio without prediction (seq-lossless) over `groups` together.
    pub fn lossless_ratio(&self, groups: &[usize]) -> Option<f64> {
        self.lossless_ratio_of(LOSSLESS_COMPARISON.1, groups)
    }

    /// Lossless ratio with inter prediction (seq-lossless-inter) over `groups` together.
    pub fn lossless_ratio_inter(&self, groups: &[usize]) -> Option<f64> {
        self.lossless_ratio_of(LOSSLESS_COMPARISON.0, groups)
    }

    fn groups_of_class(&self, class: &str) -> Vec<usize> {
        (0..self.groups.len())
            .filter(|&g| self.class(g) == class)
            .collect()
    }

    // ---- Markdown ----

    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        self.write_header(&mut md);
        self.write_target(&mut md);
        self.write_bd_rates(&mut md);
        self.write_kinds(&mut md);
        self.write_fidelity(&mut md);
        self.write_curves(&mut md);
        md
    }

    fn write_fidelity(&self, md: &mut String) {
        let Some(run) = &self.fidelity else {
            return;
        };
        super::fidelity::write_section_header(
            md,
            run,
            "a frame",
            "on a sequence layer at a point when it holds on every frame",
        );
        let configs: Vec<&str> = self.configs.iter().map(|c| c.name.as_str()).collect();
        super::fidelity::write_holding_table(
            md,
            &["model", "sequence", "layer", "kind"],
            &configs,
            self.groups.iter().enumerate().map(|(g, group)| {
                let holdings = configs.iter().map(|c| self.holding(c, g)).collect();
                let leading = [&group.model, &group.sequence, &group.layer, &group.kind];
                (leading.map(String::clone).to_vec(), holdings)
            }),
        );
    }

    fn write_header(&self, md: &mut String) {
        let frames: usize = self.groups.iter().map(|g| g.frames.len()).sum();
        let _ = writeln!(md, "# dfc rd --sequences\n");
        let _ = writeln!(
            md,
            "- corpus: `{}`: {} sequence layers, {frames} frame tensors; each sequence layer coded as one stream (encode_sequence) per configuration and point, decoded with the reference decoder (decode_all), every tensor hash verified",
            self.source,
            self.groups.len()
        );
        let _ = writeln!(
            md,
            "- random-access point every {} frames (--rap-period)",
            self.rap_period
        );
        let _ = writeln!(
            md,
            "- {RATE_DEFINITION}; b/e = 8 · rate / elements of all frames; ratio = float32 bytes of all frames / rate"
        );
        let _ = writeln!(
            md,
            "- distortion: per frame PSNR = 10 log10(peak² / MSE), peak = max |x| of that frame's original tensor; per sequence layer the mean over its frames (MSE and cosine likewise)"
        );
        let _ = writeln!(
            md,
            "- BD-rate: Bjøntegaard delta rate (PCHIP, log10 b/e as a function of mean PSNR over the common PSNR range) of one configuration against another on a sequence layer's curve; negative = fewer bits\n"
        );
        let _ = writeln!(md, "## Configurations\n");
        let _ = writeln!(md, "| configuration | points | coding |\n|---|---|---|");
        for c in &self.configs {
            let points = if c.lossless {
                "lossless".to_string()
            } else {
                points_text(&c.parameter, &c.points)
            };
            let _ = writeln!(md, "| {} | {points} | {} |", c.name, c.settings);
        }
        md.push('\n');
        let _ = writeln!(md, "## Sequence layers\n");
        let _ = writeln!(
            md,
            "| model | sequence | layer | kind | shape | frames | float32 MB |\n|---|---|---|---|---|---:|---:|"
        );
        for (g, group) in self.groups.iter().enumerate() {
            let elements: u64 = self.shapes[g]
                .iter()
                .map(|&d| u64::from(d))
                .product::<u64>()
                * group.frames.len() as u64;
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} |",
                group.model,
                group.sequence,
                group.layer,
                group.kind,
                shape_text(&self.shapes[g]),
                group.frames.len(),
                sig(elements as f64 * 4.0 / 1e6)
            );
        }
        md.push('\n');
    }

    fn write_target(&self, md: &mut String) {
        let (test, anchor) = ("seq-inter", "seq-none");
        if !(self.has(test) && self.has(anchor)) {
            return;
        }
        let maps = self.map_layers();
        let _ = writeln!(
            md,
            "## Target: inter+intra against no prediction on the map layers\n\nBD-rate of {test} (inter + intra, Prediction::Auto) against {anchor} (no prediction) on each sequence layer of rank ≥ 2; the issue's target is {TARGET_BD_RATE:.0} % or better.\n"
        );
        let _ = writeln!(
            md,
            "| model | layer | frames | BD-rate {test} vs {anchor} | target ≤ {TARGET_BD_RATE:.0} % |\n|---|---|---:|---:|---|"
        );
        for &g in &maps {
            let bd = self.bd_rate(test, anchor, g);
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                self.groups[g].model,
                self.groups[g].layer,
                self.groups[g].frames.len(),
                percent(bd),
                verdict(bd)
            );
        }
        let (mean, n) = self.mean_bd_rate(test, anchor, &maps);
        let _ = writeln!(
            md,
            "| **mean** | ({n}/{} layers) | | **{}** | **{}** |\n",
            maps.len(),
            percent(mean),
            verdict(mean)
        );
    }

    fn write_bd_rates(&self, md: &mut String) {
        let comparisons = self.comparisons();
        let _ = writeln!(md, "## BD-rates and lossless ratio per sequence layer\n");
        if self.has_lossless_comparison() {
            let (t, a) = LOSSLESS_COMPARISON;
            let _ = writeln!(
                md,
                "Lossless ratio and b/e without prediction ({a}) and with inter prediction ({t}); size: payload bytes of {t} against {a}, negative = smaller with prediction.\n"
            );
        }
        let mut head = String::from("| model | layer | kind |");
        let mut sep = String::from("|---|---|---|");
        for (t, a) in &comparisons {
            let _ = write!(head, " {t} vs {a} |");
            sep.push_str("---:|");
        }
        let lossless = self.lossless_configs();
        for c in &lossless {
            let _ = write!(head, " {} ratio | {} b/e |", c.name, c.name);
            sep.push_str("---:|---:|");
        }
        let change = self.has_lossless_comparison();
        if change {
            let (t, a) = LOSSLESS_COMPARISON;
            let _ = write!(head, " {t} vs {a} (size) |");
            sep.push_str("---:|");
        }
        let _ = writeln!(md, "{head}\n{sep}");
        for (g, group) in self.groups.iter().enumerate() {
            let _ = write!(
                md,
                "| {} | {} | {} |",
                group.model,
                group.layer,
                self.class(g)
            );
            for (t, a) in &comparisons {
                let _ = write!(md, " {} |", percent(self.bd_rate(t, a, g)));
            }
            for c in &lossless {
                match self.lossless_row(&c.name, g) {
                    Some(r) => {
                        let _ = write!(md, " {}× | {} |", sig(r.ratio), sig(r.bits_per_element));
                    }
                    None => md.push_str(" - | - |"),
                }
            }
            if change {
                let _ = write!(md, " {} |", percent(self.lossless_inter_change(&[g])));
            }
            md.push('\n');
        }
        md.push('\n');
    }

    fn write_kinds(&self, md: &mut String) {
        let comparisons = self.comparisons();
        let _ = writeln!(
            md,
            "## Per kind\n\nMean of the per-layer BD-rates (in brackets: layers with a BD-rate / layers); lossless ratio over the kind's layers together (Σ float32 bytes / Σ payload bytes){}. Rank-1 layers (vectors such as pool5) apart.\n",
            if self.has_lossless_comparison() {
                ", without prediction (seq-lossless) and with inter prediction (seq-lossless-inter), and the size change with against without (Σ payload bytes; negative = smaller with prediction)"
            } else {
                ""
            }
        );
        let mut head = String::from("| kind | layers |");
        let mut sep = String::from("|---|---:|");
        for (t, a) in &comparisons {
            let _ = write!(head, " {t} vs {a} |");
            sep.push_str("---:|");
        }
        let lossless = self.lossless_configs();
        for c in &lossless {
            match c.prediction {
                "none" => head.push_str(" lossless ratio |"),
                p => {
                    let _ = write!(head, " lossless ratio, {p} |");
                }
            }
            sep.push_str("---:|");
        }
        let change = self.has_lossless_comparison();
        if change {
            let (t, a) = LOSSLESS_COMPARISON;
            let _ = write!(head, " {t} vs {a} (size) |");
            sep.push_str("---:|");
        }
        let _ = writeln!(md, "{head}\n{sep}");
        let mut classes: Vec<(String, Vec<usize>)> = self
            .classes()
            .into_iter()
            .map(|c| {
                let g = self.groups_of_class(&c);
                (c, g)
            })
            .collect();
        if classes.len() > 1 {
            classes.push(("all".into(), (0..self.groups.len()).collect()));
        }
        for (class, groups) in classes {
            let _ = write!(md, "| {class} | {} |", groups.len());
            for (t, a) in &comparisons {
                let (mean, n) = self.mean_bd_rate(t, a, &groups);
                let _ = write!(md, " {} ({n}/{}) |", percent(mean), groups.len());
            }
            for c in &lossless {
                let _ = write!(
                    md,
                    " {} |",
                    self.lossless_ratio_of(&c.name, &groups)
                        .map_or("-".into(), |r| format!("{}×", sig(r)))
                );
            }
            if change {
                let _ = write!(md, " {} |", percent(self.lossless_inter_change(&groups)));
            }
            md.push('\n');
        }
        md.push('\n');
    }

    fn write_curves(&self, md: &mut String) {
        let _ = writeln!(
            md,
            "## Rate and distortion per sequence layer\n\nEach cell: bits per element, mean PSNR in dB over the frames.\n"
        );
        for c in self.configs.iter().filter(|c| !c.lossless) {
            let _ = writeln!(md, "### {}\n", c.name);
            let mut head = String::from("| model | layer |");
            let mut sep = String::from("|---|---|");
            for p in &c.points {
                let _ = write!(head, " {}={p} |", c.parameter);
                sep.push_str("---:|");
            }
            let _ = writeln!(md, "{head}\n{sep}");
            for (g, group) in self.groups.iter().enumerate() {
                let _ = write!(md, "| {} | {} |", group.model, group.layer);
                for r in self.curve(&c.name, g) {
                    let _ = write!(md, " {}, {} |", sig(r.bits_per_element), db(r.psnr_db));
                }
                md.push('\n');
            }
            md.push('\n');
        }
    }

    // ---- JSON, CSV, plots ----

    pub fn to_json(&self) -> anyhow::Result<String> {
        #[derive(Serialize)]
        struct Curve<'a> {
            config: &'a str,
            points: Vec<&'a SeqRow>,
        }
        #[derive(Serialize)]
        struct Layer<'a> {
            model: &'a str,
            sequence: &'a str,
            layer: &'a str,
            kind: &'a str,
            class: String,
            shape: &'a [u32],
            frames: &'a [u32],
            /// "TEST vs ANCHOR" → BD-rate in percent (null: none).
            bd_rate_percent: BTreeMap<String, Option<f64>>,
            /// Without prediction (seq-lossless).
            lossless_ratio: Option<f64>,
            /// With inter prediction (seq-lossless-inter).
            lossless_ratio_inter: Option<f64>,
            /// Payload with inter prediction against without, in percent.
            lossless_inter_size_change_percent: Option<f64>,
            /// With a fidelity run: configuration → where the task output holds.
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            holding: BTreeMap<&'a str, Holding>,
            curves: Vec<Curve<'a>>,
        }
        #[derive(Serialize)]
        struct Kind {
            class: String,
            layers: usize,
            bd_rate_percent: BTreeMap<String, Option<f64>>,
            lossless_ratio: Option<f64>,
            lossless_ratio_inter: Option<f64>,
            lossless_inter_size_change_percent: Option<f64>,
        }
        #[derive(Serialize)]
        struct Target {
            test: &'static str,
            anchor: &'static str,
            target_percent: f64,
            /// Per map layer (`model/sequence/layer`), BD-rate in percent.
            layers: BTreeMap<String, Option<f64>>,
            mean_percent: Option<f64>,
            met: Option<bool>,
        }
        #[derive(Serialize)]
        struct Doc<'a> {
            tool: &'static str,
            mode: &'static str,
            version: &'static str,
            corpus: &'a str,
            rap_period: u32,
            rate: &'static str,
            configs: &'a [SeqConfigInfo],
            #[serde(skip_serializing_if = "Option::is_none")]
            fidelity: Option<&'a FidelityRun>,
            target: Option<Target>,
            layers: Vec<Layer<'a>>,
            kinds: Vec<Kind>,
            rows: &'a [SeqRow],
        }
        let comparisons = self.comparisons();
        let bds = |groups: &[usize]| -> BTreeMap<String, Option<f64>> {
            comparisons
                .iter()
                .map(|(t, a)| (format!("{t} vs {a}"), self.mean_bd_rate(t, a, groups).0))
                .collect()
        };
        let layers = self
            .groups
            .iter()
            .enumerate()
            .map(|(g, group)| Layer {
                model: &group.model,
                sequence: &group.sequence,
                layer: &group.layer,
                kind: &group.kind,
                class: self.class(g),
                shape: &self.shapes[g],
                frames: &group.frames,
                bd_rate_percent: bds(&[g]),
                lossless_ratio: self.lossless(g).map(|r| r.ratio),
                lossless_ratio_inter: self.lossless_inter(g).map(|r| r.ratio),
                lossless_inter_size_change_percent: self.lossless_inter_change(&[g]),
                holding: self
                    .configs
                    .iter()
                    .filter_map(|c| Some((c.name.as_str(), self.holding(&c.name, g)?)))
                    .collect(),
                curves: self
                    .configs
                    .iter()
                    .map(|c| Curve {
                        config: &c.name,
                        points: self.curve(&c.name, g),
                    })
                    .collect(),
            })
            .collect();
        let kinds = self
            .classes()
            .into_iter()
            .map(|class| {
                let groups = self.groups_of_class(&class);
                Kind {
                    layers: groups.len(),
                    bd_rate_percent: bds(&groups),
                    lossless_ratio: self.lossless_ratio(&groups),
                    lossless_ratio_inter: self.lossless_ratio_inter(&groups),
                    lossless_inter_size_change_percent: self.lossless_inter_change(&groups),
                    class,
                }
            })
            .collect();
        let target = (self.has("seq-inter") && self.has("seq-none")).then(|| {
            let maps = self.map_layers();
            let mean = self.mean_bd_rate("seq-inter", "seq-none", &maps).0;
            Target {
                test: "seq-inter",
                anchor: "seq-none",
                target_percent: TARGET_BD_RATE,
                layers: maps
                    .iter()
                    .map(|&g| {
                        (
                            self.groups[g].id(),
                            self.bd_rate("seq-inter", "seq-none", g),
                        )
                    })
                    .collect(),
                mean_percent: mean,
                met: mean.map(|m| m <= TARGET_BD_RATE),
            }
        });
        let doc = Doc {
            tool: "dfc rd",
            mode: "sequences",
            version: env!("CARGO_PKG_VERSION"),
            corpus: &self.source,
            rap_period: self.rap_period,
            rate: RATE_DEFINITION,
            configs: &self.configs,
            fidelity: self.fidelity.as_ref(),
            target,
            layers,
            kinds,
            rows: &self.rows,
        };
        let mut s = serde_json::to_string_pretty(&doc)?;
        s.push('\n');
        Ok(s)
    }

    /// The prediction of a swept configuration (none, intra, inter or auto).
    fn config_prediction(&self, config: &str) -> &'static str {
        self.configs
            .iter()
            .find(|c| c.name == config)
            .map_or("", |c| c.prediction)
    }

    /// On a seq-lossless-inter row, its payload against the seq-lossless row of the same
    /// layer in percent; empty on the other rows.
    fn csv_lossless_change(&self, r: &SeqRow) -> String {
        if r.config == LOSSLESS_COMPARISON.0 {
            self.lossless_inter_change(&[r.group])
                .map_or(String::new(), |v| v.to_string())
        } else {
            String::new()
        }
    }

    /// One line per sequence layer × configuration × point; seq-lossless-inter rows also give
    /// their size change against seq-lossless (lossless_size_change_percent).
    pub fn to_csv(&self) -> String {
        let mut out = CSV_COLUMNS.join(",");
        out.push('\n');
        for r in &self.rows {
            let fields = [
                r.model.clone(),
                r.sequence.clone(),
                r.layer.clone(),
                r.kind.clone(),
                shape_text(&r.shape),
                r.frames.to_string(),
                r.elements.to_string(),
                r.config.clone(),
                r.point.to_string(),
                r.label.clone(),
                r.payload_bytes.to_string(),
                r.stream_bytes.to_string(),
                r.bits_per_element.to_string(),
                r.ratio.to_string(),
                r.mse.to_string(),
                r.psnr_db.to_string(),
                r.min_psnr_db.to_string(),
                r.cosine.to_string(),
                r.max_abs_error.to_string(),
                self.config_prediction(&r.config).to_string(),
                self.csv_lossless_change(r),
                task_text(r, |t| t.holds.map(|h| h.to_string())),
                task_text(r, |t| Some(t.frames_holding.to_string())),
                task_text(r, |t| t.min_emb_cos.map(|v| v.to_string())),
                task_text(r, |t| t.min_edge_psnr_db.map(|v| v.to_string())),
            ];
            let fields: Vec<String> = fields.into_iter().map(|f| csv_field(&f)).collect();
            out.push_str(&fields.join(","));
            out.push('\n');
        }
        out
    }

    /// `rd_seq_MODEL_SEQUENCE_LAYER.svg` per sequence layer: bits per element against mean
    /// PSNR, one curve per quantized configuration.
    pub fn write_plots(&self, dir: &Path) -> anyhow::Result<Vec<String>> {
        use anyhow::Context;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let mut written = Vec::new();
        for (g, group) in self.groups.iter().enumerate() {
            let curves: Vec<(String, Vec<(f64, f64)>)> = self
                .configs
                .iter()
                .filter(|c| !c.lossless)
                .map(|c| {
                    let points = self
                        .curve(&c.name, g)
                        .iter()
                        .filter(|r| r.psnr_db.is_finite() && r.bits_per_element > 0.0)
                        .map(|r| (r.bits_per_element, r.psnr_db))
                        .collect();
                    (c.name.clone(), points)
                })
                .collect();
            let lossless = match (self.lossless(g), self.lossless_inter(g)) {
                (Some(r), Some(i)) => {
                    format!(", lossless {}×, {}× with inter", sig(r.ratio), sig(i.ratio))
                }
                (Some(r), None) => format!(", lossless {}×", sig(r.ratio)),
                (None, Some(i)) => format!(", lossless {}× with inter", sig(i.ratio)),
                (None, None) => String::new(),
            };
            let title = format!(
                "{} {} {} ({} frames, RAP every {}{lossless})",
                group.model,
                group.sequence,
                group.layer,
                group.frames.len(),
                self.rap_period
            );
            let svg = super::plots::draw_rd(&title, curves)?;
            let name = format!(
                "rd_seq_{}_{}_{}.svg",
                super::plots::file_part(&group.model),
                super::plots::file_part(&group.sequence),
                super::plots::file_part(&group.layer)
            );
            crate::bench::output::write_atomic(&dir.join(&name), svg.as_bytes())?;
            written.push(name);
        }
        Ok(written)
    }
}

/// Columns of the CSV output of `dfc rd --sequences`.
pub const CSV_COLUMNS: &[&str] = &[
    "model",
    "sequence",
    "layer",
    "kind",
    "shape",
    "frames",
    "elements",
    "config",
    "point",
    "label",
    "payload_bytes",
    "stream_bytes",
    "bits_per_element",
    "ratio",
    "mse",
    "psnr_db",
    "min_psnr_db",
    "cosine",
    "max_abs_error",
    "prediction",
    "lossless_size_change_percent",
    "task_holds",
    "task_frames_holding",
    "task_min_emb_cos",
    "task_min_edge_psnr_db",
];

/// A field of a row's task verdict, empty without one.
fn task_text(r: &SeqRow, field: impl Fn(&super::sequences::SeqTask) -> Option<String>) -> String {
    r.task.as_ref().and_then(field).unwrap_or_default()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// `qp=16..=80 step 4`, or the values.
fn points_text(parameter: &str, points: &[i32]) -> String {
    if points.len() > 2 {
        let step = points[1] - points[0];
        if step > 0 && points.windows(2).all(|w| w[1] - w[0] == step) {
            let (a, b) = (points[0], points[points.len() - 1]);
            return if step == 1 {
                format!("{parameter}={a}..={b}")
            } else {
                format!("{parameter}={a}..={b} step {step}")
            };
        }
    }
    format!(
        "{parameter}={}",
        points
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    )
}

fn percent(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |v| format!("{v:+.1} %"))
}

fn verdict(x: Option<f64>) -> &'static str {
    match x {
        Some(v) if v <= TARGET_BD_RATE => "met",
        Some(_) => "missed",
        None => "n/a",
    }
}
