//! Task fidelity: the decoded tensors of each operating point go through an external command
//! (e.g. the dev corpus's fidelity.py) that runs the rest of the network; its JSON says whether
//! the task output held.

use anyhow::{bail, ensure, Context};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// When a tensor's task output counts as unchanged. Top-1 must always stay the same.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Criteria {
    /// Smallest cosine of the embedding (`emb_cos`), where the command reports one.
    pub min_embedding_cosine: f64,
    /// Smallest PSNR of the edge map (`edge_psnr_db`), where the command reports one.
    pub min_edge_psnr_db: f64,
}

/// The task metrics of one decoded tensor, as the command reported them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TensorFidelity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top1_unchanged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emb_cos: Option<f64>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "optional_finite_or_text"
    )]
    pub edge_psnr_db: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rel_l2: Option<f64>,
    /// Whether every criterion that applies held; `None` when no criterion applies.
    pub holds: Option<bool>,
}

/// Serializes an optional float as a JSON number, or as "inf" / "-inf" / "nan".
pub(crate) fn optional_finite_or_text<S: serde::Serializer>(
    x: &Option<f64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match x {
        Some(v) => super::metrics::finite_or_text(v, s),
        None => s.serialize_none(),
    }
}

impl TensorFidelity {
    fn judge(mut self, criteria: &Criteria) -> Self {
        let mut checks = Vec::new();
        if let Some(same) = self.top1_unchanged {
            checks.push(same);
        }
        if let Some(c) = self.emb_cos {
            checks.push(c >= criteria.min_embedding_cosine);
        }
        if let Some(p) = self.edge_psnr_db {
            checks.push(p >= criteria.min_edge_psnr_db);
        }
        self.holds = (!checks.is_empty()).then(|| checks.iter().all(|&c| c));
        self
    }
}

/// `(model, image, layer)` of a tensor.
pub type TensorKey = (String, String, String);

/// What one run of the command reported.
#[derive(Clone, Debug, Default)]
pub struct Results {
    pub tensors: HashMap<TensorKey, TensorFidelity>,
    /// The command's notes on tensors it skipped.
    pub skipped: Vec<String>,
}

/// Parses the command's JSON: `{"rows": [{"model", "image", "layer", "top1_unchanged",
/// "emb_cos", "edge_psnr_db", "rel_l2", ...}], "skipped": [...]}`; infinities may be "inf".
pub fn parse_results(text: &str, criteria: &Criteria) -> anyhow::Result<Results> {
    let doc: Value = serde_json::from_str(text).context("the fidelity JSON does not parse")?;
    let Some(rows) = doc.get("rows").and_then(Value::as_array) else {
        bail!("the fidelity JSON has no \"rows\" array");
    };
    let mut results = Results::default();
    for (i, row) in rows.iter().enumerate() {
        let text = |key: &str| row.get(key).and_then(Value::as_str).map(str::to_string);
        let (Some(model), Some(image), Some(layer)) = (text("model"), text("image"), text("layer"))
        else {
            bail!("fidelity JSON row {i} lacks model, image or layer");
        };
        let f = TensorFidelity {
            top1_unchanged: row.get("top1_unchanged").and_then(Value::as_bool),
            emb_cos: row.get("emb_cos").and_then(number),
            edge_psnr_db: row.get("edge_psnr_db").and_then(number),
            rel_l2: row.get("rel_l2").and_then(number),
            holds: None,
        }
        .judge(criteria);
        results.tensors.insert((model, image, layer), f);
    }
    if let Some(skipped) = doc.get("skipped").and_then(Value::as_array) {
        results.skipped = skipped
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect();
    }
    Ok(results)
}

/// A JSON number, or "inf" / "-inf" / "nan" as text.
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "inf" | "Infinity" => Some(f64::INFINITY),
            "-inf" | "-Infinity" => Some(f64::NEG_INFINITY),
            "nan" | "NaN" => Some(f64::NAN),
            _ => None,
        },
        _ => None,
    }
}

/// Runs the command on directories of decoded tensors; identical sets of decoded tensors (e.g.
/// the uniform baselines at the same b) are evaluated once.
pub struct Runner {
    command: String,
    criteria: Criteria,
    work: tempfile::TempDir,
    cache: HashMap<[u8; 32], Results>,
    /// Runs of the command so far.
    pub runs: usize,
}

impl Runner {
    /// `command` must contain `{dir}` and `{json}`.
    pub fn new(command: &str, criteria: Criteria) -> anyhow::Result<Runner> {
        ensure!(
            command.contains("{dir}") && command.contains("{json}"),
            "--fidelity-cmd needs {{dir}} and {{json}} in its template, e.g. 'python fidelity.py batch {{dir}} --json {{json}}'"
        );
        let work = tempfile::Builder::new()
            .prefix("dfc-rd-")
            .tempdir()
            .context("cannot create a temporary directory for the decoded tensors")?;
        Ok(Runner {
            command: command.to_string(),
            criteria,
            work,
            cache: HashMap::new(),
            runs: 0,
        })
    }

    /// Where the decoded tensors of the next evaluation go (mirroring the corpus layout).
    pub fn decoded_dir(&self) -> PathBuf {
        self.work.path().join("decoded")
    }

    /// The results for the tensors in [`Runner::decoded_dir`], whose content hashes to `key`;
    /// the directory is emptied afterwards.
    pub fn evaluate(&mut self, key: [u8; 32]) -> anyhow::Result<Results> {
        let dir = self.decoded_dir();
        let results = match self.cache.get(&key) {
            Some(r) => r.clone(),
            None => {
                let r = self.run(&dir)?;
                self.cache.insert(key, r.clone());
                r
            }
        };
        if dir.exists() {
            std::fs::remove_dir_all(&dir)
                .with_context(|| format!("cannot remove {}", dir.display()))?;
        }
        Ok(results)
    }

    fn run(&mut self, dir: &Path) -> anyhow::Result<Results> {
        let json = self.work.path().join("fidelity.json");
        let _ = std::fs::remove_file(&json);
        let quote = |p: &Path| dfc_conformance::generate::shell_quote(&p.to_string_lossy());
        let command = self
            .command
            .replace("{dir}", &quote(dir))
            .replace("{json}", &quote(&json));
        let out = Command::new("sh")
            .arg("-c")
            .arg(&command)
            .output()
            .with_context(|| format!("cannot run `sh -c {command}`"))?;
        self.runs += 1;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
            bail!(
                "the fidelity command failed ({}): `{command}`\n{}",
                out.status,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        let text = std::fs::read_to_string(&json).with_context(|| {
            format!(
                "the fidelity command wrote no {} (`{command}`)",
                json.display()
            )
        })?;
        parse_results(&text, &self.criteria).with_context(|| format!("`{command}`"))
    }
}

/// Writes one decoded tensor as a float32 .npy at `dir/relative_path`; returns the SHA-256
/// of its data.
pub fn write_decoded(
    dir: &Path,
    relative_path: &str,
    shape: &[u32],
    values: &[f32],
) -> anyhow::Result<[u8; 32]> {
    let path = dir.join(relative_path);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    let file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    crate::io::npy::write_npy_to(
        std::io::BufWriter::new(file),
        dfc_decoder::ElementType::Float32,
        shape,
        &data,
    )
    .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Sha256::digest(&data).into())
}

/// The opening of a report's "Task fidelity" section: the command, the criteria (`unit`: what
/// a verdict covers, e.g. "a tensor", and `layer_rule`: when a layer holds), the meaning of a
/// cell and what the command skipped.
pub fn write_section_header(
    md: &mut String,
    run: &super::report::FidelityRun,
    unit: &str,
    layer_rule: &str,
) {
    use std::fmt::Write as _;
    let _ = writeln!(md, "## Task fidelity\n");
    let _ = writeln!(md, "- command: `{}` ({} runs)", run.command, run.runs);
    let _ = writeln!(
        md,
        "- the task output holds on {unit} when top-1 is unchanged, the embedding cosine is ≥ {} (where reported) and the edge-map PSNR is ≥ {} dB (where reported); {layer_rule}",
        run.criteria.min_embedding_cosine, run.criteria.min_edge_psnr_db
    );
    let _ = writeln!(
        md,
        "- each cell: the lowest-rate operating point at which it holds, and at every higher-rate point: bits per element (ratio); never = fails even at the highest rate; n/a = not evaluated"
    );
    for s in &run.skipped {
        let _ = writeln!(md, "- skipped by the command: {s}");
    }
    md.push('\n');
}

/// The holding-point table of a "Task fidelity" section: a row per layer, its `leading` cells
/// (under `leading_heads`) then its holding point per configuration (under `configs`).
pub fn write_holding_table(
    md: &mut String,
    leading_heads: &[&str],
    configs: &[&str],
    rows: impl IntoIterator<Item = (Vec<String>, Vec<Option<Holding>>)>,
) {
    use std::fmt::Write as _;
    let _ = writeln!(
        md,
        "| {} | {} |\n|{}{}",
        leading_heads.join(" | "),
        configs.join(" | "),
        "---|".repeat(leading_heads.len()),
        "---:|".repeat(configs.len())
    );
    for (leading, holdings) in rows {
        let _ = write!(md, "| {} |", leading.join(" | "));
        for h in holdings {
            let _ = write!(md, " {} |", holding_cell(h));
        }
        md.push('\n');
    }
    md.push('\n');
}

/// A table cell for a holding point: `qp=40: 1.85 (17.3×)`, never or n/a.
fn holding_cell(holding: Option<Holding>) -> String {
    match holding {
        Some(Holding::At {
            label,
            bits_per_element,
            ratio,
            ..
        }) => format!(
            "{label}: {} ({}×)",
            crate::bench::report::sig(bits_per_element),
            crate::bench::report::sig(ratio)
        ),
        Some(Holding::Never) => "never".into(),
        Some(Holding::NotApplicable) | None => "n/a".into(),
    }
}

/// Where a layer's task output first holds for one configuration.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Holding {
    /// The command evaluated none of the layer's tensors.
    NotApplicable,
    /// The criteria fail at the highest-rate operating point.
    Never,
    /// The lowest-rate operating point from which the criteria hold at every higher rate.
    At {
        point: i32,
        label: String,
        bits_per_element: f64,
        ratio: f64,
    },
}

/// One operating point of a layer: its aggregate rate and whether the task held on every
/// tensor (`None`: some tensor has no result).
#[derive(Clone, Debug)]
pub struct LayerPoint {
    pub point: i32,
    pub label: String,
    pub coded_bytes: u64,
    pub bits_per_element: f64,
    pub ratio: f64,
    pub holds: Option<bool>,
    /// Tensors with a result.
    pub evaluated: usize,
}

/// The holding point of a layer from its operating points (any order).
pub fn holding_point(points: &[LayerPoint]) -> Holding {
    if points.iter().all(|p| p.evaluated == 0) {
        return Holding::NotApplicable;
    }
    let mut by_rate: Vec<&LayerPoint> = points.iter().collect();
    by_rate.sort_by_key(|p| p.coded_bytes);
    let mut first = None;
    for (i, p) in by_rate.iter().enumerate().rev() {
        if p.holds == Some(true) {
            first = Some(i);
        } else {
            break;
        }
    }
    match first {
        None => Holding::Never,
        Some(i) => {
            let p = by_rate[i];
            Holding::At {
                point: p.point,
                label: p.label.clone(),
                bits_per_element: p.bits_per_element,
                ratio: p.ratio,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CRITERIA: Criteria = Criteria {
        min_embedding_cosine: 0.999,
        min_edge_psnr_db: 40.0,
    };

    #[test]
    fn parses_fidelity_py_output() {
        let text = r#"{"decoded_dir": "/tmp/x", "rows": [
            {"model": "m", "image": "a", "layer": "pool5", "rel_l2": 0.01, "top1_unchanged": true, "dp": 0.0, "kl": 0.0, "emb_cos": 0.9995},
            {"model": "m", "image": "a", "layer": "fc", "rel_l2": 0.0, "top1_unchanged": true, "emb_cos": null},
            {"model": "m", "image": "b", "layer": "pool5", "rel_l2": 0.1, "top1_unchanged": false, "emb_cos": 0.99999},
            {"model": "h", "image": "a", "layer": "conv5_3", "rel_l2": 0.0, "edge_psnr_db": "inf"},
            {"model": "h", "image": "b", "layer": "conv5_3", "rel_l2": 0.2, "edge_psnr_db": 39.9}
        ], "skipped": ["5 tensor(s): not supported"], "warnings": []}"#;
        let r = parse_results(text, &CRITERIA).unwrap();
        let get = |m: &str, i: &str, l: &str| &r.tensors[&(m.into(), i.into(), l.into())];
        assert_eq!(get("m", "a", "pool5").holds, Some(true));
        assert_eq!(get("m", "a", "fc").holds, Some(true));
        assert_eq!(get("m", "a", "fc").emb_cos, None);
        assert_eq!(get("m", "b", "pool5").holds, Some(false));
        assert_eq!(get("h", "a", "conv5_3").edge_psnr_db, Some(f64::INFINITY));
        assert_eq!(get("h", "a", "conv5_3").holds, Some(true));
        assert_eq!(get("h", "b", "conv5_3").holds, Some(false));
        assert_eq!(r.skipped, ["5 tensor(s): not supported"]);
        assert!(parse_results("{}", &CRITERIA).is_err());
        assert!(parse_results("not json", &CRITERIA).is_err());
    }

    #[test]
    fn embedding_threshold_applies() {
        let f = TensorFidelity {
            top1_unchanged: Some(true),
            emb_cos: Some(0.998),
            edge_psnr_db: None,
            rel_l2: None,
            holds: None,
        };
        assert_eq!(f.clone().judge(&CRITERIA).holds, Some(false));
        let looser = Criteria {
            min_embedding_cosine: 0.99,
            ..CRITERIA
        };
        assert_eq!(f.judge(&looser).holds, Some(true));
    }

    fn point(bytes: u64, holds: Option<bool>) -> LayerPoint {
        LayerPoint {
            point: bytes as i32,
            label: format!("b={bytes}"),
            coded_bytes: bytes,
            bits_per_element: bytes as f64,
            ratio: 32.0 / bytes as f64,
            holds,
            evaluated: usize::from(holds.is_some()),
        }
    }

    #[test]
    fn holding_point_needs_every_higher_rate_to_hold() {
        let p = [
            point(4, Some(false)),
            point(2, Some(true)),
            point(6, Some(true)),
            point(8, Some(true)),
        ];
        match holding_point(&p) {
            Holding::At { point, .. } => assert_eq!(point, 6),
            h => panic!("{h:?}"),
        }
        assert_eq!(
            holding_point(&[point(2, Some(true)), point(4, Some(false))]),
            Holding::Never
        );
        assert_eq!(
            holding_point(&[point(2, None), point(4, None)]),
            Holding::NotApplicable
        );
    }

    #[test]
    fn the_command_needs_both_placeholders() {
        assert!(Runner::new("true {dir}", CRITERIA).is_err());
        assert!(Runner::new("true {json}", CRITERIA).is_err());
    }

    #[test]
    fn identical_decoded_sets_run_the_command_once() {
        // A stand-in command that writes one row whatever the directory holds.
        let cmd = r#"printf '{"rows":[{"model":"m","image":"i","layer":"l","top1_unchanged":true}]}' > {json}; ls {dir} >/dev/null"#;
        let mut runner = Runner::new(cmd, CRITERIA).unwrap();
        write_decoded(&runner.decoded_dir(), "m/i/l.npy", &[2], &[1.0, 2.0]).unwrap();
        let r = runner.evaluate([1; 32]).unwrap();
        assert_eq!(r.tensors.len(), 1);
        assert!(!runner.decoded_dir().exists());
        std::fs::create_dir_all(runner.decoded_dir()).unwrap();
        runner.evaluate([1; 32]).unwrap();
        assert_eq!(runner.runs, 1);
        write_decoded(&runner.decoded_dir(), "m/i/l.npy", &[2], &[1.0, 3.0]).unwrap();
        runner.evaluate([2; 32]).unwrap();
        assert_eq!(runner.runs, 2);
        let failing = Runner::new("exit 3 # {dir} {json}", CRITERIA)
            .unwrap()
            .run(Path::new("."));
        assert!(failing.is_err());
    }
}
