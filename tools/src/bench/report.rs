//! The results of a bench run and the Markdown tables made from them.

use super::corpus::Corpus;
use super::methods::{BenchMethod, Counterpart, Family};
use super::{Row, RunOptions, TensorInfo};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Bytes in the MB of every table (10^6).
pub const MB: f64 = 1e6;

/// A method as the report describes it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MethodInfo {
    pub name: String,
    #[serde(serialize_with = "family_name")]
    pub family: Family,
    pub settings: String,
    #[serde(skip)]
    pub counterpart: Option<Counterpart>,
}

fn family_name<S: serde::Serializer>(f: &Family, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(match f {
        Family::Dfc => "dfc",
        Family::Anchor => "anchor",
    })
}

/// Everything a run measured, with what is needed to describe it.
#[derive(Clone, Debug)]
pub struct Report {
    pub source: String,
    /// Models in corpus order.
    pub models: Vec<String>,
    /// Per model, its layers in network order.
    pub layer_order: BTreeMap<String, Vec<String>>,
    pub methods: Vec<MethodInfo>,
    pub tensors: Vec<TensorInfo>,
    /// Tensor-major: for each tensor, one row per method in method order.
    pub rows: Vec<Row>,
    pub min_time_s: f64,
    pub jobs: usize,
    /// UTC date of the run, YYYY-MM-DD.
    pub date: String,
    pub machine: String,
    /// 1-minute load average before and after the measurements (Linux).
    pub load_average: Option<(f64, f64)>,
}

/// Sums over a set of tensors for one method.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// Tensors the method coded.
    pub rated: usize,
    /// Tensors the method could not code.
    pub not_applicable: usize,
    pub ratio_sum: f64,
    /// Original bytes of the rated tensors.
    pub bytes: u64,
    pub coded_bytes: u64,
    pub encode_s: f64,
    pub decode_s: f64,
    /// Thread CPU time, when every rated row has it.
    pub encode_cpu_s: Option<f64>,
    pub decode_cpu_s: Option<f64>,
}

impl Stats {
    fn add(&mut self, row: &Row) {
        match (row.coded_bytes, row.ratio) {
            (Some(coded), Some(ratio)) => {
                self.rated += 1;
                self.ratio_sum += ratio;
                self.bytes += row.info.bytes;
                self.coded_bytes += coded;
                self.encode_s += row.encode_s.unwrap_or(0.0);
                self.decode_s += row.decode_s.unwrap_or(0.0);
                let first = self.rated == 1;
                let sum = |acc: Option<f64>, x: Option<f64>| match (first, acc, x) {
                    (true, _, Some(x)) => Some(x),
                    (false, Some(a), Some(x)) => Some(a + x),
                    _ => None,
                };
                self.encode_cpu_s = sum(self.encode_cpu_s, row.encode_cpu_s);
                self.decode_cpu_s = sum(self.decode_cpu_s, row.decode_cpu_s);
            }
            _ => self.not_applicable += 1,
        }
    }

    /// Mean of the per-tensor ratios.
    pub fn mean_ratio(&self) -> Option<f64> {
        (self.rated > 0).then(|| self.ratio_sum / self.rated as f64)
    }

    /// Total original bytes / total coded bytes.
    pub fn aggregate_ratio(&self) -> Option<f64> {
        (self.coded_bytes > 0).then(|| self.bytes as f64 / self.coded_bytes as f64)
    }

    /// Original MB encoded per second of encoding.
    pub fn encode_mb_s(&self) -> Option<f64> {
        (self.encode_s > 0.0).then(|| self.bytes as f64 / MB / self.encode_s)
    }

    /// Original MB decoded per second of decoding.
    pub fn decode_mb_s(&self) -> Option<f64> {
        (self.decode_s > 0.0).then(|| self.bytes as f64 / MB / self.decode_s)
    }

    /// Original MB encoded per second of thread CPU time.
    pub fn encode_cpu_mb_s(&self) -> Option<f64> {
        self.encode_cpu_s
            .filter(|&t| t > 0.0)
            .map(|t| self.bytes as f64 / MB / t)
    }

    /// Original MB decoded per second of thread CPU time.
    pub fn decode_cpu_mb_s(&self) -> Option<f64> {
        self.decode_cpu_s
            .filter(|&t| t > 0.0)
            .map(|t| self.bytes as f64 / MB / t)
    }

    /// Milliseconds of encoding per original MB.
    pub fn encode_ms_per_mb(&self) -> Option<f64> {
        (self.bytes > 0).then(|| self.encode_s * 1e3 / (self.bytes as f64 / MB))
    }

    /// Milliseconds of decoding per original MB.
    pub fn decode_ms_per_mb(&self) -> Option<f64> {
        (self.bytes > 0).then(|| self.decode_s * 1e3 / (self.bytes as f64 / MB))
    }
}

impl Report {
    pub(crate) fn new(
        corpus: &Corpus,
        methods: &[Box<dyn BenchMethod>],
        options: &RunOptions,
        tensors: Vec<TensorInfo>,
        rows: Vec<Row>,
    ) -> Report {
        Report {
            source: corpus.source.clone(),
            models: corpus.models.clone(),
            layer_order: corpus.layer_order.clone(),
            methods: methods
                .iter()
                .map(|m| MethodInfo {
                    name: m.name().to_string(),
                    family: m.family(),
                    settings: m.settings(),
                    counterpart: m.counterpart(),
                })
                .collect(),
            tensors,
            rows,
            min_time_s: options.min_time.as_secs_f64(),
            jobs: options.jobs,
            date: today_utc(),
            machine: machine(),
            load_average: None,
        }
    }

    /// Sums of `method` over the tensors `keep` accepts.
    pub fn stats(&self, method: &str, keep: impl Fn(&TensorInfo) -> bool) -> Stats {
        let mut s = Stats::default();
        for row in self
            .rows
            .iter()
            .filter(|r| r.method == method && keep(&r.info))
        {
            s.add(row);
        }
        s
    }

    /// The row of one tensor (index into `tensors`) and method.
    pub fn row(&self, tensor: usize, method: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.tensor == tensor && r.method == method)
    }

    /// The layers of a model in network order, only those measured.
    pub fn layers(&self, model: &str) -> Vec<String> {
        let mut layers: Vec<String> = self
            .layer_order
            .get(model)
            .into_iter()
            .flatten()
            .filter(|l| {
                self.tensors
                    .iter()
                    .any(|t| t.model == model && &t.layer == *l)
            })
            .cloned()
            .collect();
        for t in self.tensors.iter().filter(|t| t.model == model) {
            if !layers.contains(&t.layer) {
                layers.push(t.layer.clone());
            }
        }
        layers
    }

    /// Kinds present for a model, in the order conv, pool, fc, other.
    fn kinds(&self, model: &str) -> Vec<&'static str> {
        super::corpus::KINDS
            .iter()
            .copied()
            .filter(|k| {
                self.tensors
                    .iter()
                    .any(|t| t.model == model && t.kind == *k)
            })
            .collect()
    }

    /// Distinct shapes of the tensors `keep` accepts, in network order.
    fn shapes(&self, keep: impl Fn(&TensorInfo) -> bool) -> String {
        let mut items: Vec<(usize, String)> = Vec::new();
        for t in self.tensors.iter().filter(|t| keep(t)) {
            let s = shape_text(&t.shape);
            if !items.iter().any(|(_, x)| *x == s) {
                let rank = self
                    .layer_order
                    .get(&t.model)
                    .and_then(|o| o.iter().position(|l| *l == t.layer))
                    .unwrap_or(usize::MAX);
                items.push((rank, s));
            }
        }
        items.sort_by_key(|(rank, _)| *rank);
        items
            .into_iter()
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Thread CPU time over wall-clock time, summed over every timed encode and decode.
    pub fn cpu_share(&self) -> Option<f64> {
        let (mut cpu, mut wall) = (0.0, 0.0);
        for r in &self.rows {
            for (c, w, reps) in [
                (r.encode_cpu_s, r.encode_s, r.encode_reps),
                (r.decode_cpu_s, r.decode_s, r.decode_reps),
            ] {
                if let (Some(c), Some(w)) = (c, w) {
                    cpu += c * f64::from(reps);
                    wall += w * f64::from(reps);
                }
            }
        }
        (wall > 0.0 && cpu > 0.0).then(|| cpu / wall)
    }

    /// Pearson correlation of a method's per-tensor ratio with 1 / non-zero rate.
    pub fn correlation_with_inverse_nonzero(
        &self,
        method: &str,
        keep: impl Fn(&TensorInfo) -> bool,
    ) -> Option<f64> {
        let pairs: Vec<(f64, f64)> = self
            .rows
            .iter()
            .filter(|r| r.method == method && keep(&r.info) && r.info.nonzero_rate > 0.0)
            .filter_map(|r| r.ratio.map(|q| (1.0 / r.info.nonzero_rate, q)))
            .collect();
        pearson(&pairs)
    }

    /// The Markdown report: header, summary, per feature type, per layer, container overhead.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        self.write_header(&mut md);
        self.write_summary(&mut md);
        self.write_per_kind(&mut md);
        self.write_per_layer(&mut md);
        self.write_overhead(&mut md);
        self.write_notes(&mut md);
        md
    }

    fn write_header(&self, md: &mut String) {
        let total: u64 = self.tensors.iter().map(|t| t.bytes).sum();
        let mut dtypes: Vec<&str> = self.tensors.iter().map(|t| t.dtype.as_str()).collect();
        dtypes.sort_unstable();
        dtypes.dedup();
        let _ = writeln!(md, "# dfc bench\n");
        let _ = writeln!(
            md,
            "- corpus: `{}`: {} tensors of {} model(s), {} MB of {}",
            self.source,
            self.tensors.len(),
            self.models.len(),
            sig(total as f64 / MB),
            dtypes.join(", ")
        );
        let _ = writeln!(
            md,
            "- run: {} (UTC), {}; {} job(s): tensors measured in parallel, every encode and decode on one thread",
            self.date, self.machine, self.jobs
        );
        let _ = writeln!(
            md,
            "- timing: wall clock; each encode and each decode repeated until {} s had passed (at least once), mean reported; MB = 10^6 bytes",
            self.min_time_s
        );
        if let Some(share) = self.cpu_share() {
            let load = self
                .load_average
                .map(|(a, b)| format!("; 1-minute load average {a:.2} before, {b:.2} after"))
                .unwrap_or_default();
            let _ = writeln!(
                md,
                "- contention: the measuring threads were on a CPU for {:.0} % of the timed wall-clock time (thread CPU time / wall time; about 100 % when nothing else competes){load}",
                share * 100.0
            );
        }
        let _ = writeln!(
            md,
            "- ratio = original bytes / coded bytes; *mean* = mean of per-tensor ratios, *aggregate* = total original / total coded; every decoded tensor matched the original bit for bit\n"
        );
        let _ = writeln!(md, "## Methods\n");
        let _ = writeln!(md, "| method | coded and settings |\n|---|---|");
        for m in &self.methods {
            let _ = writeln!(md, "| {} | {} |", m.name, m.settings);
        }
        md.push('\n');
    }

    fn write_summary(&self, md: &mut String) {
        let _ = writeln!(md, "## Summary per model\n");
        let _ = writeln!(
            md,
            "Throughput is original MB per second of one thread, by the wall clock and by the thread's CPU time (the latter is what the coder costs when other load competes for the cores); r is the Pearson correlation of the per-tensor ratio with 1 / non-zero rate.\n"
        );
        // (title, model); `None` is every model.
        let mut groups: Vec<(String, Option<&str>)> = self
            .models
            .iter()
            .map(|m| (m.clone(), Some(m.as_str())))
            .collect();
        if self.models.len() > 1 {
            groups.push(("all models".into(), None));
        }
        for (title, model) in &groups {
            let keep = |t: &TensorInfo| model.is_none_or(|m| t.model == m);
            let tensors: Vec<&TensorInfo> = self.tensors.iter().filter(|t| keep(t)).collect();
            let bytes: u64 = tensors.iter().map(|t| t.bytes).sum();
            let _ = writeln!(
                md,
                "### {title}: {} tensors, {} MB\n",
                tensors.len(),
                sig(bytes as f64 / MB)
            );
            let cpu = self.cpu_share().is_some();
            let _ = writeln!(
                md,
                "| method | mean ratio | aggregate ratio | encode MB/s | decode MB/s | encode ms/MB | decode ms/MB |{} r vs 1/nz |\n|---|---:|---:|---:|---:|---:|---:|{}---:|",
                if cpu { " encode MB/s, CPU time | decode MB/s, CPU time |" } else { "" },
                if cpu { "---:|---:|" } else { "" },
            );
            for m in &self.methods {
                let s = self.stats(&m.name, keep);
                let r = self.correlation_with_inverse_nonzero(&m.name, keep);
                let na = if s.not_applicable > 0 {
                    format!(" ({} n/a)", s.not_applicable)
                } else {
                    String::new()
                };
                let cpu_cells = if cpu {
                    format!(
                        " {} | {} |",
                        opt(s.encode_cpu_mb_s()),
                        opt(s.decode_cpu_mb_s())
                    )
                } else {
                    String::new()
                };
                let _ = writeln!(
                    md,
                    "| {}{na} | {} | {} | {} | {} | {} | {} |{cpu_cells} {} |",
                    m.name,
                    opt(s.mean_ratio()),
                    opt(s.aggregate_ratio()),
                    opt(s.encode_mb_s()),
                    opt(s.decode_mb_s()),
                    opt(s.encode_ms_per_mb()),
                    opt(s.decode_ms_per_mb()),
                    r.map_or("-".into(), |r| format!("{r:.2}")),
                );
            }
            md.push('\n');
        }
    }

    fn method_header(&self, first: &[&str]) -> String {
        let mut h = String::from("|");
        let mut sep = String::from("|");
        for c in first {
            let _ = write!(h, " {c} |");
            sep.push_str("---|");
        }
        for m in &self.methods {
            let _ = write!(h, " {} |", m.name);
            sep.push_str("---:|");
        }
        format!("{h}\n{sep}")
    }

    fn write_per_kind(&self, md: &mut String) {
        let _ = writeln!(md, "## Per model and feature type\n");
        let _ = writeln!(
            md,
            "Each method's cell: mean ratio, then (in brackets) encode time in ms per MB.\n"
        );
        for model in &self.models {
            let _ = writeln!(md, "### {model}\n");
            let _ = writeln!(
                md,
                "{}",
                self.method_header(&[
                    "feature type",
                    "shape(s)",
                    "tensors",
                    "volume (MB)",
                    "non-zero rate"
                ])
            );
            let mut kinds: Vec<Option<&str>> = self.kinds(model).into_iter().map(Some).collect();
            if kinds.len() > 1 {
                kinds.push(None);
            }
            for kind in kinds {
                let keep = |t: &TensorInfo| &t.model == model && kind.is_none_or(|k| t.kind == k);
                let tensors: Vec<&TensorInfo> = self.tensors.iter().filter(|t| keep(t)).collect();
                let bytes: u64 = tensors.iter().map(|t| t.bytes).sum();
                let nz = tensors.iter().map(|t| t.nonzero_rate).sum::<f64>() / tensors.len() as f64;
                let _ = write!(
                    md,
                    "| {} | {} | {} | {} | {:.3} |",
                    kind.unwrap_or("all"),
                    if kind.is_some() {
                        self.shapes(keep)
                    } else {
                        "-".into()
                    },
                    tensors.len(),
                    sig(bytes as f64 / MB),
                    nz
                );
                for m in &self.methods {
                    let s = self.stats(&m.name, keep);
                    match (s.mean_ratio(), s.encode_ms_per_mb()) {
                        (Some(r), Some(t)) => {
                            let _ = write!(md, " {} ({}) |", sig(r), sig(t));
                        }
                        _ => md.push_str(" n/a |"),
                    }
                }
                md.push('\n');
            }
            md.push('\n');
        }
    }

    fn write_per_layer(&self, md: &mut String) {
        let _ = writeln!(md, "## Per layer\n");
        let _ = writeln!(
            md,
            "Layers in network order; each method's cell is the mean ratio over the layer's tensors.\n"
        );
        for model in &self.models {
            let _ = writeln!(md, "### {model}\n");
            let _ = writeln!(
                md,
                "{}",
                self.method_header(&[
                    "layer",
                    "kind",
                    "shape",
                    "tensors",
                    "volume (MB)",
                    "non-zero rate",
                    "1 / non-zero rate"
                ])
            );
            for layer in self.layers(model) {
                let keep = |t: &TensorInfo| &t.model == model && t.layer == layer;
                let tensors: Vec<&TensorInfo> = self.tensors.iter().filter(|t| keep(t)).collect();
                let bytes: u64 = tensors.iter().map(|t| t.bytes).sum();
                let nz = tensors.iter().map(|t| t.nonzero_rate).sum::<f64>() / tensors.len() as f64;
                let _ = write!(
                    md,
                    "| {layer} | {} | {} | {} | {} | {nz:.3} | {} |",
                    tensors[0].kind,
                    self.shapes(keep),
                    tensors.len(),
                    sig(bytes as f64 / MB),
                    if nz > 0.0 { sig(1.0 / nz) } else { "-".into() }
                );
                for m in &self.methods {
                    let _ = write!(md, " {} |", opt(self.stats(&m.name, keep).mean_ratio()));
                }
                md.push('\n');
            }
            md.push('\n');
        }
    }

    /// DFC methods against the same coder on bare bytes, tensor by tensor.
    fn write_overhead(&self, md: &mut String) {
        let pairs: Vec<(&MethodInfo, Counterpart)> = self
            .methods
            .iter()
            .filter_map(|m| m.counterpart.map(|c| (m, c)))
            .filter(|(_, c)| match c {
                Counterpart::Bare => true,
                Counterpart::Method(n) => self.methods.iter().any(|m| m.name == *n),
            })
            .collect();
        if pairs.is_empty() {
            return;
        }
        let _ = writeln!(md, "## DFC container overhead\n");
        let _ = writeln!(
            md,
            "Each DFC method against the same coder on the bare bytes, in this run: extra bytes per tensor (DFC stream minus anchor), aggregate ratios, and the tensor where the container costs most relative to the anchor. The DFC stream carries identification, sequence header, layer parameters (with the layer name), feature data, a SHA-256 tensor hash and end of sequence; dfc-lzma's payload is a 13-byte .lzma header stream while the lzma anchor is an .xz file (stream header and footer, block header, index, CRC64), so that pair compares containers too.\n"
        );
        let _ = writeln!(
            md,
            "| DFC method | against | extra bytes per tensor (min / median / max) | aggregate ratio: anchor → DFC | worst tensor | its bytes | coded: anchor → DFC | ratio: anchor → DFC |\n|---|---|---|---|---|---:|---|---|"
        );
        for (m, c) in pairs {
            let anchor_name = match c {
                Counterpart::Bare => "bare bytes".to_string(),
                Counterpart::Method(n) => n.to_string(),
            };
            let mut extra: Vec<i64> = Vec::new();
            let mut worst: Option<(f64, usize, u64, u64)> = None;
            let (mut bytes, mut anchor_total, mut dfc_total) = (0u64, 0u64, 0u64);
            for (i, t) in self.tensors.iter().enumerate() {
                let Some(dfc) = self.row(i, &m.name).and_then(|r| r.coded_bytes) else {
                    continue;
                };
                let anchor = match c {
                    Counterpart::Bare => Some(t.bytes),
                    Counterpart::Method(n) => self.row(i, n).and_then(|r| r.coded_bytes),
                };
                let Some(anchor) = anchor else { continue };
                extra.push(dfc as i64 - anchor as i64);
                bytes += t.bytes;
                anchor_total += anchor;
                dfc_total += dfc;
                let rel = dfc as f64 / anchor.max(1) as f64;
                if worst.is_none_or(|(w, ..)| rel > w) {
                    worst = Some((rel, i, anchor, dfc));
                }
            }
            let Some((_, wi, wa, wd)) = worst else {
                continue;
            };
            extra.sort_unstable();
            let t = &self.tensors[wi];
            let _ = writeln!(
                md,
                "| {} | {anchor_name} | {} / {} / {} | {} → {} | {} | {} | {wa} → {wd} | {} → {} |",
                m.name,
                extra[0],
                extra[extra.len() / 2],
                extra[extra.len() - 1],
                sig(bytes as f64 / anchor_total as f64),
                sig(bytes as f64 / dfc_total as f64),
                t.id(),
                t.bytes,
                sig(t.bytes as f64 / wa as f64),
                sig(t.bytes as f64 / wd as f64),
            );
        }
        md.push('\n');
    }

    fn write_notes(&self, md: &mut String) {
        let mut choices: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        let mut not_applicable: BTreeMap<(&str, &str), usize> = BTreeMap::new();
        for r in &self.rows {
            match &r.note {
                Some(n) if r.coded_bytes.is_none() => {
                    *not_applicable
                        .entry((r.method.as_str(), n.as_str()))
                        .or_default() += 1
                }
                Some(n) => *choices.entry((r.method.as_str(), n.as_str())).or_default() += 1,
                None => {}
            }
        }
        if !choices.is_empty() {
            let _ = writeln!(md, "## Choices\n");
            let mut by_method: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for ((m, n), count) in choices {
                by_method.entry(m).or_default().push(format!("{n} {count}"));
            }
            for (m, list) in by_method {
                let _ = writeln!(md, "- {m} chose, per tensor: {}", list.join(", "));
            }
            md.push('\n');
        }
        if !not_applicable.is_empty() {
            let _ = writeln!(md, "## Not applicable\n");
            for ((m, n), count) in not_applicable {
                let _ = writeln!(md, "- {m}: {count} tensor(s), {n}");
            }
            md.push('\n');
        }
    }
}

/// `64x112x112`.
pub fn shape_text(shape: &[u32]) -> String {
    shape
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

/// Three significant digits, no exponent.
pub fn sig(x: f64) -> String {
    let a = x.abs();
    if !x.is_finite() {
        format!("{x}")
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else if a >= 0.1 {
        format!("{x:.3}")
    } else if a == 0.0 {
        "0".into()
    } else {
        let digits = (2.0 - a.log10().floor()) as usize;
        format!("{x:.digits$}")
    }
}

fn opt(x: Option<f64>) -> String {
    x.map_or_else(|| "n/a".into(), sig)
}

fn pearson(pairs: &[(f64, f64)]) -> Option<f64> {
    let n = pairs.len() as f64;
    if pairs.len() < 3 {
        return None;
    }
    let (mx, my) = (
        pairs.iter().map(|p| p.0).sum::<f64>() / n,
        pairs.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in pairs {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

/// Today's date in UTC as YYYY-MM-DD.
fn today_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Gregorian date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// CPU model and core count, as far as the system says.
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| std::env::consts::ARCH.to_string());
    format!("{cpu}, {cores} cores")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(11_017), (2000, 3, 1));
    }

    #[test]
    fn significant_digits() {
        assert_eq!(sig(123.456), "123");
        assert_eq!(sig(12.345), "12.3");
        assert_eq!(sig(1.2345), "1.23");
        assert_eq!(sig(0.12345), "0.123");
        assert_eq!(sig(0.012345), "0.0123");
        assert_eq!(sig(0.000008), "0.00000800");
        assert_eq!(sig(0.0), "0");
    }

    #[test]
    fn correlation() {
        let p: Vec<(f64, f64)> = (0..5).map(|i| (i as f64, 2.0 * i as f64 + 1.0)).collect();
        assert!((pearson(&p).unwrap() - 1.0).abs() < 1e-12);
    }
}
