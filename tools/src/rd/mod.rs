//! `dfc rd`: rate–distortion sweeps. Every configuration (DFC's quantized method and uniform
//! quantization baselines) codes every tensor of a corpus at each of its operating points; the
//! reports give rate and distortion per layer kind and layer, BD-rates against an anchor, and,
//! with an external command, the smallest rate at which a network's task output holds.
//!
//! The pieces: [`load`] reads the tensors, [`configs`] is the table of configurations
//! ([`uniform`] and [`dfc`] code), [`metrics`] measures distortion, [`bdrate`] computes
//! Bjøntegaard deltas, [`fidelity`] runs the task command, [`report`] aggregates and makes the
//! tables, [`output`] writes JSON and CSV, [`plots`] draws the curves.

pub mod bdrate;
pub mod configs;
pub mod dfc;
pub mod external;
pub mod fidelity;
pub mod load;
pub mod metrics;
pub mod output;
pub mod plots;
pub mod report;
pub mod seq_report;
pub mod sequences;
pub mod uniform;

use crate::bench::corpus;
use anyhow::{bail, ensure, Context};
use configs::{Selected, TensorData};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use load::{Loaded, TensorInfo};
use metrics::Distortion;
use rayon::prelude::*;
pub use report::Report;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Configurations (--configs; groups: all, baselines):
  uniform-zstd    uniform quantization of [min, max] to b bits, levels coded with zstd -22 (the
                  baseline to beat; default BD-rate anchor); points b = 2..=10
  uniform-lzma    the same levels, LZMA preset 9; points b = 2..=10
  uniform-order0  the same levels, rate = their ideal order-0 entropy; points b = 2..=10
  dfc             DFC's quantized method with its default options: uniform, one step per
                  tensor, step = RMS * 2^(-qp/8), nearest rounding, MED intra prediction per
                  map; points qp = -32, -28, ..., 64
  dfc-rdo         as dfc with RDO rounding; points qp as dfc
  dfc-peak        as dfc with step = peak * 2^(-qp/8); points qp = 4, 8, ..., 96
  dfc-z40         as dfc with level 0 for values within 0.4 steps of zero; points qp as dfc
  dfc-no-intra    as dfc without intra prediction; points qp as dfc
  dfc-channel     as dfc with one step per channel (its own RMS); points qp as dfc
  dfc-codebook    DFC's quantized method, codebook quantizer (Lloyd-Max); points b = 2..=8
  (dfc* rates are the method payload alone, without the stream container)

Rate = coded bytes (bits per element = 8 * bytes / elements; ratio = float32 bytes / coded
bytes). Distortion: MSE, PSNR = 10 log10(peak^2 / MSE) with peak = max |x| of the original,
cosine similarity.

Sequences (--sequences): only the corpus's sequence tensors (manifest entries with sequence and
frame, or MODEL/seq_NAME/frame_NN/LAYER.npy), grouped by (model, sequence, layer) in frame
order; each group is coded as ONE stream (one access unit per frame, a random-access point every
--rap-period frames) per configuration and point, decoded with the reference decoder (every
tensor hash verified). Without --sequences, sequence frames are swept as independent tensors.
  seq-none        quantized method (uniform, step = RMS * 2^(-qp/8) fixed at each random-access
                  frame, nearest rounding), no prediction; points qp = -16, -12, ..., 48
  seq-intra       as seq-none with MED intra prediction per map; points as seq-none
  seq-inter       as seq-none with inter prediction from the previous frame's levels or MED
                  intra, per map (Prediction::Auto); points as seq-none
  seq-lossless    native lossless method on every frame, no prediction; one point
  seq-lossless-inter
                  native lossless method, each frame after a random-access frame predicted from
                  the layer's previous frame where smaller (Prediction::Inter); one point
  Rate = sum of the layer's feature_data method payload bytes over all frames (container units
  excluded; the whole stream size is reported as stream_bytes). Distortion = mean over the
  frames of PSNR (peak = max |x| of each frame), MSE and cosine. BD-rates per sequence layer:
  seq-inter vs seq-none, seq-inter vs seq-intra, seq-intra vs seq-none; the report shows the
  target (seq-inter vs seq-none <= -30 % on the map layers, rank >= 2) and per-kind means
  (rank-1 layers such as pool5 apart), the lossless ratios without and with prediction per
  layer and per kind and the size change seq-lossless-inter vs seq-lossless in %. --plots
  writes rd_seq_MODEL_SEQ_LAYER.svg per layer. --fidelity-cmd gets every decoded frame at its
  corpus path; a sequence layer holds at a point when the task holds on every frame.

Examples:
  dfc rd samples/corpus --configs uniform-zstd,uniform-order0 --plots rd-plots/
  dfc rd corpus/ --points dfc=16..=64 --json rd.json --csv rd.csv
  dfc rd corpus/ --sequences --rap-period 8 --json rd-seq.json --plots rd-seq/
  dfc rd corpus/ --sequences --fidelity-cmd 'python fidelity.py batch {dir} --json {json}'
  dfc rd corpus/ --fidelity-cmd 'python fidelity.py batch {dir} --json {json}'";

/// Options of `dfc rd`.
#[derive(clap::Args, Debug)]
#[command(after_help = AFTER_HELP)]
pub struct Args {
    /// A corpus directory with manifest.json, a plain tree MODEL/IMAGE/LAYER.npy, a manifest
    /// file or a single .npy file (float32 tensors).
    pub corpus: PathBuf,
    /// Sweeps the corpus's sequences: each (model, sequence, layer) coded as one stream per
    /// configuration and point (configurations seq-none, seq-intra, seq-inter, seq-lossless,
    /// seq-lossless-inter; see below).
    #[arg(long)]
    pub sequences: bool,
    /// With --sequences: frames from one random-access point to the next (1: every frame).
    #[arg(long, value_name = "N", default_value_t = 8, requires = "sequences", value_parser = clap::value_parser!(u32).range(1..))]
    pub rap_period: u32,
    /// Comma-separated configurations or groups (see below).
    #[arg(long, default_value = "all")]
    pub configs: String,
    /// Replaces a configuration's operating points, e.g. --points uniform-zstd=2..=8 or
    /// --points dfc=16,24,32 (repeatable).
    #[arg(long = "points", value_name = "CONFIG=LIST")]
    pub points: Vec<String>,
    /// An external codec as a configuration, swept with the selected ones (repeatable):
    /// NAME='CMD {input} {output} {point}', points from --points NAME=LIST. The command reads
    /// {input} (a float32 .npy), writes its bitstream (any files) and the reconstruction
    /// decoded.npy into the empty directory {output}; rate = bytes of those files but
    /// decoded.npy. Anchors: tools/anchors/ (HEVC tiling, NNCodec).
    #[arg(long = "external", value_name = "NAME=CMD")]
    pub externals: Vec<String>,
    /// The BD-rate anchor [default: uniform-zstd].
    #[arg(long, value_name = "CONFIG")]
    pub anchor: Option<String>,
    /// Configurations compared with the anchor, comma-separated [default: every other
    /// selected configuration, dfc first].
    #[arg(long = "test", value_name = "CONFIG", value_delimiter = ',')]
    pub tests: Vec<String>,
    /// Only these layer kinds (comma-separated: conv, pool, fc, other).
    #[arg(long, value_delimiter = ',')]
    pub kinds: Vec<String>,
    /// Only these layers (comma-separated names, or MODEL/LAYER).
    #[arg(long, value_delimiter = ',')]
    pub layers: Vec<String>,
    /// Sets the kind of a layer by name, e.g. --kind pool5=pool (repeatable, or comma-separated).
    #[arg(long = "kind", value_name = "LAYER=KIND", value_delimiter = ',')]
    pub kind_overrides: Vec<String>,
    /// Tensors coded in parallel.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,
    /// Writes every tensor × configuration × operating point as JSON, with the per-layer
    /// curves, BD-rates and holding points.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Writes every tensor × configuration × operating point as CSV.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Also writes the Markdown report (always printed to stdout) to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Writes SVG rate–distortion curves (bits per element against PSNR, one curve per
    /// configuration) into this directory: one per layer kind and one per layer.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Task fidelity: a shell command with {dir} (decoded tensors as float32 .npy, laid out as
    /// the corpus) and {json} (where it writes its results), run once per configuration and
    /// operating point, e.g. 'PY fidelity.py batch {dir} --json {json}'.
    #[arg(long, value_name = "CMD")]
    pub fidelity_cmd: Option<String>,
    /// Task fidelity: smallest embedding cosine (emb_cos) that counts as unchanged.
    #[arg(long, value_name = "COS", default_value_t = 0.999)]
    pub min_emb_cos: f64,
    /// Task fidelity: smallest edge-map PSNR in dB (edge_psnr_db) that counts as unchanged.
    #[arg(long, value_name = "DB", default_value_t = 40.0)]
    pub min_edge_psnr: f64,
    /// No progress bar (set by the global -q/--quiet).
    #[arg(skip)]
    pub quiet: bool,
}

/// One tensor × configuration × operating point.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Index into [`Report::tensors`].
    #[serde(skip)]
    pub tensor: usize,
    #[serde(flatten)]
    pub info: TensorInfo,
    pub config: String,
    pub point: i32,
    /// The point as `parameter=value`, e.g. `b=8`.
    pub label: String,
    pub coded_bytes: u64,
    pub bits_per_element: f64,
    /// Original float32 bytes / coded bytes.
    pub ratio: f64,
    #[serde(flatten)]
    pub distortion: Distortion,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fidelity: Option<fidelity::TensorFidelity>,
}

/// How [`sweep`] runs.
#[derive(Clone, Debug, Default)]
pub struct SweepOptions {
    pub jobs: usize,
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
}

/// When a tensor's task output counts as unchanged (--min-emb-cos, --min-edge-psnr).
fn criteria(args: &Args) -> anyhow::Result<fidelity::Criteria> {
    let criteria = fidelity::Criteria {
        min_embedding_cosine: args.min_emb_cos,
        min_edge_psnr_db: args.min_edge_psnr,
    };
    ensure!(
        criteria.min_embedding_cosine.is_finite() && criteria.min_edge_psnr_db.is_finite(),
        "--min-emb-cos and --min-edge-psnr must be numbers"
    );
    Ok(criteria)
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if args.sequences {
        return sequences::run(&args);
    }
    let externals = args
        .externals
        .iter()
        .map(|e| external::External::parse(e))
        .collect::<anyhow::Result<_>>()?;
    let configs = configs::select(&args.configs, &args.points, externals)?;
    let (anchor, tests) = comparison(&configs, args.anchor.as_deref(), &args.tests)?;
    let criteria = criteria(&args)?;
    let mut runner = match &args.fidelity_cmd {
        Some(cmd) => Some(fidelity::Runner::new(cmd, criteria)?),
        None => None,
    };
    let corpus = select_tensors(&args)?;
    let options = SweepOptions {
        jobs: args.jobs as usize,
        progress: !args.quiet,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.max(1))
        .build()
        .context("cannot start the worker threads")?;
    let root = load::corpus_root(&args.corpus);
    let tensors = pool.install(|| load::load_all(&corpus, &root))?;
    let (rows, skipped) = pool.install(|| sweep(&tensors, &configs, &options, runner.as_mut()))?;
    let fidelity = runner.map(|r| report::FidelityRun {
        command: args.fidelity_cmd.clone().unwrap_or_default(),
        criteria,
        runs: r.runs,
        skipped,
    });
    let report = Report::new(
        &corpus,
        &configs,
        tensors.into_iter().map(|t| t.info).collect(),
        rows,
        anchor,
        tests,
        fidelity,
    );
    let markdown = report.to_markdown();
    if let Some(path) = &args.json {
        crate::bench::output::write_atomic(path, output::to_json(&report)?.as_bytes())?;
    }
    if let Some(path) = &args.csv {
        crate::bench::output::write_atomic(path, output::to_csv(&report).as_bytes())?;
    }
    if let Some(path) = &args.markdown {
        crate::bench::output::write_atomic(path, markdown.as_bytes())?;
    }
    if let Some(dir) = &args.plots {
        plots::write_plots(&report, dir)?;
    }
    print!("{markdown}");
    Ok(())
}

/// The anchor and test configurations of the BD-rate tables, checked against the selection.
fn comparison(
    configs: &[Selected],
    anchor: Option<&str>,
    tests: &[String],
) -> anyhow::Result<(String, Vec<String>)> {
    let selected: Vec<&str> = configs.iter().map(|c| c.config.name()).collect();
    let anchor = match anchor {
        Some(a) => {
            ensure!(
                selected.contains(&a),
                "--anchor {a}: not among the selected configurations ({})",
                selected.join(", ")
            );
            a.to_string()
        }
        None if selected.contains(&configs::DEFAULT_ANCHOR) => configs::DEFAULT_ANCHOR.into(),
        None => selected[0].to_string(),
    };
    let tests: Vec<String> = if tests.is_empty() {
        let mut others: Vec<String> = selected
            .iter()
            .filter(|&&n| n != anchor)
            .map(|n| n.to_string())
            .collect();
        others.sort_by_key(|n| n != "dfc");
        others
    } else {
        for t in tests {
            ensure!(
                selected.contains(&t.as_str()),
                "--test {t}: not among the selected configurations ({})",
                selected.join(", ")
            );
        }
        tests.to_vec()
    };
    Ok((anchor, tests))
}

/// The corpus entries the filters keep.
pub(crate) fn select_tensors(args: &Args) -> anyhow::Result<corpus::Corpus> {
    let mut overrides = BTreeMap::new();
    for o in &args.kind_overrides {
        let Some((layer, kind)) = o.split_once('=') else {
            bail!("--kind {o:?}: expected LAYER=KIND, e.g. pool5=pool");
        };
        overrides.insert(layer.to_string(), kind.to_string());
    }
    let mut corpus = corpus::load(&args.corpus, &overrides)?;
    for k in &args.kinds {
        ensure!(
            corpus::KINDS.contains(&k.as_str()),
            "--kinds: unknown kind {k:?} (conv, pool, fc, other)"
        );
    }
    let named = |e: &corpus::Entry, name: &str| {
        e.layer == name || format!("{}/{}", e.model, e.layer) == name
    };
    for l in &args.layers {
        ensure!(
            corpus.entries.iter().any(|e| named(e, l)),
            "--layers: no layer {l:?} in {}",
            corpus.source
        );
    }
    corpus.entries.retain(|e| {
        (args.kinds.is_empty() || args.kinds.contains(&e.kind))
            && (args.layers.is_empty() || args.layers.iter().any(|l| named(e, l)))
    });
    ensure!(
        !corpus.entries.is_empty(),
        "no tensor of {} passes --kinds and --layers",
        corpus.source
    );
    Ok(corpus)
}

/// Codes every tensor with every configuration at every operating point, one operating point
/// at a time (tensors in parallel on the current rayon pool). With a fidelity runner, each
/// point's decoded tensors are evaluated before the next. Returns the rows (configuration,
/// then point, then tensor) and what the fidelity command skipped.
pub fn sweep(
    tensors: &[Loaded],
    configs: &[Selected],
    options: &SweepOptions,
    mut fidelity: Option<&mut fidelity::Runner>,
) -> anyhow::Result<(Vec<Row>, Vec<String>)> {
    let points: usize = configs.iter().map(|c| c.points.len()).sum();
    let bar = progress_bar((tensors.len() * points) as u64, options.progress);
    let mut rows = Vec::with_capacity(tensors.len() * points);
    let mut skipped: Vec<String> = Vec::new();
    for selected in configs {
        let config = selected.config.as_ref();
        for &point in &selected.points {
            let label = format!("{}={point}", config.parameter());
            bar.set_message(format!("{} {label}", config.name()));
            let decoded_dir = fidelity.as_ref().map(|f| f.decoded_dir());
            let measured: Vec<(Row, [u8; 32])> = tensors
                .par_iter()
                .enumerate()
                .map(|(index, t)| {
                    let data = TensorData {
                        shape: &t.info.shape,
                        values: &t.values,
                        bytes: &t.bytes,
                        non_negative: t.non_negative,
                    };
                    let coded = config.code(&data, point).with_context(|| {
                        format!("tensor {}, {} {label}", t.info.id(), config.name())
                    })?;
                    ensure!(
                        coded.reconstruction.len() == t.values.len(),
                        "tensor {}, {} {label}: {} values reconstructed, the tensor has {}",
                        t.info.id(),
                        config.name(),
                        coded.reconstruction.len(),
                        t.values.len()
                    );
                    // With task fidelity: the decoded tensor on disk, and its hash.
                    let hash = match &decoded_dir {
                        Some(dir) => fidelity::write_decoded(
                            dir,
                            &t.info.path,
                            &t.info.shape,
                            &coded.reconstruction,
                        )?,
                        None => [0; 32],
                    };
                    let elements = t.info.elements as f64;
                    let row = Row {
                        tensor: index,
                        info: t.info.clone(),
                        config: config.name().to_string(),
                        point,
                        label: label.clone(),
                        coded_bytes: coded.bytes,
                        bits_per_element: coded.bytes as f64 * 8.0 / elements,
                        ratio: t.info.original_bytes() as f64 / coded.bytes.max(1) as f64,
                        distortion: metrics::distortion(&t.values, &coded.reconstruction),
                        fidelity: None,
                    };
                    bar.inc(1);
                    Ok((row, hash))
                })
                .collect::<anyhow::Result<_>>()?;
            let mut key = Sha256::new();
            for (_, hash) in &measured {
                key.update(hash);
            }
            let results = match fidelity.as_deref_mut() {
                Some(runner) => {
                    bar.set_message(format!("{} {label}: task fidelity", config.name()));
                    let r = runner
                        .evaluate(key.finalize().into())
                        .with_context(|| format!("task fidelity of {} {label}", config.name()))?;
                    for s in &r.skipped {
                        if !skipped.contains(s) {
                            skipped.push(s.clone());
                        }
                    }
                    Some(r)
                }
                None => None,
            };
            for (mut row, _) in measured {
                if let Some(r) = &results {
                    let key = (
                        row.info.model.clone(),
                        row.info.image.clone(),
                        row.info.layer.clone(),
                    );
                    row.fidelity = r.tensors.get(&key).cloned();
                }
                rows.push(row);
            }
        }
    }
    bar.finish_and_clear();
    Ok((rows, skipped))
}

pub(crate) fn progress_bar(total: u64, show: bool) -> ProgressBar {
    let target = if show && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} tensor x point [{elapsed}<{eta}] {msg}")
            .expect("valid template"),
    );
    bar
}
