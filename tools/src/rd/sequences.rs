//! `dfc rd --sequences`: rate–distortion of feature video. The corpus's sequence tensors are
//! grouped by (model, sequence, layer) in frame order; each group is coded as ONE stream per
//! configuration and operating point with [`dfc_encoder::encode_sequence`], decoded with the
//! reference decoder ([`dfc_decoder::decode_all`], every tensor hash verified), and measured:
//! rate = Σ method payload bytes of the group's feature_data units over all frames,
//! distortion = mean over the frames of PSNR, MSE and cosine. With a task fidelity command,
//! the decoded frames of every configuration and point go through it, as in `dfc rd`.

use super::fidelity::{self, TensorFidelity};
use super::load::{self, Loaded};
use super::metrics::{self, Distortion};
use super::seq_report::SeqReport;
use crate::bench::corpus::Entry;
use anyhow::{anyhow, bail, ensure, Context};
use dfc_decoder::{decode_all, CodingMethod, ElementType, LayerKind};
use dfc_encoder::{
    encode_sequence, EncoderConfig, FrameInput, LayerInput, LossyOptions, MethodChoice, Prediction,
    QuantTarget, SequenceOptions,
};
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// qp range of the quantized configurations (as `dfc rd`'s dfc configurations).
const QP: std::ops::RangeInclusive<i32> = -96..=136;

/// How a sequence configuration codes its layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SeqMethod {
    /// The quantized method (uniform, RDO rounding, encoder's channel choice) with these
    /// predictions.
    Quantized(Prediction),
    /// The native lossless method on every frame, with this prediction across frames: `None`,
    /// or `Inter` (each frame after a random-access point predicted from the layer's previous
    /// frame where that is smaller).
    Lossless(Prediction),
}

impl SeqMethod {
    pub fn is_lossless(self) -> bool {
        matches!(self, SeqMethod::Lossless(_))
    }

    pub fn prediction(self) -> Prediction {
        match self {
            SeqMethod::Quantized(p) | SeqMethod::Lossless(p) => p,
        }
    }
}

/// `none`, `intra`, `inter` or `auto`.
pub fn prediction_name(p: Prediction) -> &'static str {
    match p {
        Prediction::None => "none",
        Prediction::Intra => "intra",
        Prediction::Inter => "inter",
        Prediction::Auto => "auto",
    }
}

/// A configuration of the sequence sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeqConfig {
    pub name: &'static str,
    pub method: SeqMethod,
}

/// Every sequence configuration, in table order.
pub const CONFIGS: &[SeqConfig] = &[
    SeqConfig {
        name: "seq-none",
        method: SeqMethod::Quantized(Prediction::None),
    },
    SeqConfig {
        name: "seq-intra",
        method: SeqMethod::Quantized(Prediction::Intra),
    },
    SeqConfig {
        name: "seq-inter",
        method: SeqMethod::Quantized(Prediction::Auto),
    },
    SeqConfig {
        name: "seq-lossless",
        method: SeqMethod::Lossless(Prediction::None),
    },
    SeqConfig {
        name: "seq-lossless-inter",
        method: SeqMethod::Lossless(Prediction::Inter),
    },
];

/// The BD-rate comparisons of the report: (test, anchor).
pub const COMPARISONS: &[(&str, &str)] = &[
    ("seq-inter", "seq-none"),
    ("seq-inter", "seq-intra"),
    ("seq-intra", "seq-none"),
];

/// The lossless comparison of the report: (with prediction, without), compared by size.
pub const LOSSLESS_COMPARISON: (&str, &str) = ("seq-lossless-inter", "seq-lossless");

/// The target: BD-rate of seq-inter against seq-none on the map layers, in percent.
pub const TARGET_BD_RATE: f64 = -30.0;

/// Default qp points of the quantized configurations.
pub fn default_qp_points() -> Vec<i32> {
    (-4..=12).map(|i| i * 4).collect()
}

impl SeqConfig {
    pub fn by_name(name: &str) -> Option<SeqConfig> {
        CONFIGS.iter().copied().find(|c| c.name == name)
    }

    /// The operating-point parameter: `qp`, or `lossless` (one point, 0).
    pub fn parameter(&self) -> &'static str {
        match self.method {
            SeqMethod::Quantized(_) => "qp",
            SeqMethod::Lossless(_) => "lossless",
        }
    }

    pub fn default_points(&self) -> Vec<i32> {
        match self.method {
            SeqMethod::Quantized(_) => default_qp_points(),
            SeqMethod::Lossless(_) => vec![0],
        }
    }

    pub fn check_point(&self, point: i32) -> anyhow::Result<()> {
        match self.method {
            SeqMethod::Quantized(_) => ensure!(
                QP.contains(&point),
                "{}: qp={point} is outside {}..={}",
                self.name,
                QP.start(),
                QP.end()
            ),
            SeqMethod::Lossless(_) => ensure!(
                point == 0,
                "{}: has one operating point, 0 (lossless)",
                self.name
            ),
        }
        Ok(())
    }

    /// `qp=48`, or `lossless`.
    pub fn label(&self, point: i32) -> String {
        match self.method {
            SeqMethod::Quantized(_) => format!("qp={point}"),
            SeqMethod::Lossless(_) => "lossless".into(),
        }
    }

    pub fn settings(&self, rap_period: u32) -> String {
        let what = match self.method {
            SeqMethod::Quantized(p) => {
                let prediction = match p {
                    Prediction::None => "no prediction (levels coded as they are)",
                    Prediction::Intra => "MED intra prediction per map where it pays",
                    Prediction::Inter => "inter prediction from the previous frame's levels",
                    Prediction::Auto => {
                        "inter prediction from the previous frame's levels or MED intra, per map, where it pays (Prediction::Auto)"
                    }
                };
                format!("quantized method, uniform, step = RMS · 2^(−qp/8) chosen at each random-access frame and kept until the next, nearest rounding, encoder's channel choice; {prediction}")
            }
            SeqMethod::Lossless(Prediction::None) => {
                "native lossless method on every frame, no prediction across frames".into()
            }
            SeqMethod::Lossless(p) => format!(
                "native lossless method on every frame; each frame other than a random-access frame predicted from the layer's previous frame (native_header ref_distance 1: element-kind and exponent contexts conditioned on the co-located value of the reference, mantissa bits raw) where that is smaller (Prediction::{p:?})"
            ),
        };
        format!(
            "{what}; one stream per sequence layer, random-access point every {rap_period} frames"
        )
    }
}

/// The configurations `--configs` names (`all`, or seq-* names), with `--points` overrides.
pub fn select(list: &str, overrides: &[String]) -> anyhow::Result<Vec<(SeqConfig, Vec<i32>)>> {
    let known = || {
        CONFIGS
            .iter()
            .map(|c| c.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut chosen: Vec<SeqConfig> = Vec::new();
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let add: Vec<SeqConfig> = if word == "all" {
            CONFIGS.to_vec()
        } else {
            match SeqConfig::by_name(word) {
                Some(c) => vec![c],
                None => bail!(
                    "--configs: unknown sequence configuration {word:?} (with --sequences: all, {})",
                    known()
                ),
            }
        };
        for c in add {
            if !chosen.contains(&c) {
                chosen.push(c);
            }
        }
    }
    ensure!(!chosen.is_empty(), "--configs: no configuration named");
    let mut points: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for o in overrides {
        let Some((name, list)) = o.split_once('=') else {
            bail!("--points {o:?}: expected NAME=P1,P2,... e.g. seq-inter=16..=64");
        };
        let Some(c) = chosen.iter().find(|c| c.name == name) else {
            bail!("--points {o:?}: {name:?} is not among the selected configurations");
        };
        let parsed =
            super::configs::parse_points(list).with_context(|| format!("--points {o:?}"))?;
        for &p in &parsed {
            c.check_point(p)
                .with_context(|| format!("--points {o:?}"))?;
        }
        points.insert(c.name, parsed);
    }
    Ok(chosen
        .into_iter()
        .map(|c| {
            let p = points.remove(c.name).unwrap_or_else(|| c.default_points());
            (c, p)
        })
        .collect())
}

/// A layer of one sequence: the corpus entries of its frames, in frame order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    pub model: String,
    pub sequence: String,
    pub layer: String,
    pub kind: String,
    /// Frame numbers, increasing.
    pub frames: Vec<u32>,
    /// Indexes of the frames' entries in the slice [`group`] was given.
    #[serde(skip)]
    pub entries: Vec<usize>,
}

impl Group {
    /// `model/sequence/layer`.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.model, self.sequence, self.layer)
    }
}

/// Groups the entries that are frames of a sequence by (model, sequence, layer), frames in
/// increasing order; entries without a sequence are ignored. Groups come model by model (in
/// order of first appearance), then by sequence name, then in `layer_rank` order. Two entries
/// of one group with the same frame, or with different kinds, are an error.
pub fn group(
    entries: &[Entry],
    layer_rank: impl Fn(&str, &str) -> usize,
) -> anyhow::Result<Vec<Group>> {
    let mut models: Vec<&str> = Vec::new();
    let mut groups: Vec<Group> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let (Some(sequence), Some(frame)) = (&e.sequence, e.frame) else {
            continue;
        };
        if !models.contains(&e.model.as_str()) {
            models.push(&e.model);
        }
        let g = match groups
            .iter_mut()
            .find(|g| g.model == e.model && &g.sequence == sequence && g.layer == e.layer)
        {
            Some(g) => g,
            None => {
                groups.push(Group {
                    model: e.model.clone(),
                    sequence: sequence.clone(),
                    layer: e.layer.clone(),
                    kind: e.kind.clone(),
                    frames: Vec::new(),
                    entries: Vec::new(),
                });
                groups.last_mut().expect("pushed")
            }
        };
        ensure!(
            g.kind == e.kind,
            "{}: frame {frame} is of kind {}, earlier frames of kind {}",
            g.id(),
            e.kind,
            g.kind
        );
        ensure!(
            !g.frames.contains(&frame),
            "{}: two tensors for frame {frame}",
            g.id()
        );
        g.frames.push(frame);
        g.entries.push(i);
    }
    for g in &mut groups {
        let mut order: Vec<(u32, usize)> =
            g.frames.iter().copied().zip(g.entries.clone()).collect();
        order.sort_unstable();
        g.frames = order.iter().map(|o| o.0).collect();
        g.entries = order.iter().map(|o| o.1).collect();
    }
    groups.sort_by_key(|g| {
        (
            models.iter().position(|m| *m == g.model),
            g.sequence.clone(),
            layer_rank(&g.model, &g.layer),
            g.layer.clone(),
        )
    });
    Ok(groups)
}

/// One frame of a coded sequence layer.
#[derive(Clone, Debug, Serialize)]
pub struct FrameMeasure {
    pub frame: u32,
    /// Method payload bytes of its feature_data unit.
    pub payload_bytes: u64,
    #[serde(flatten)]
    pub distortion: Distortion,
    /// The task metrics of the decoded frame (with a fidelity command that evaluated it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fidelity: Option<TensorFidelity>,
}

/// The task fidelity of a sequence layer's frames at one configuration and point.
#[derive(Clone, Debug, Serialize)]
pub struct SeqTask {
    /// Frames the command evaluated.
    pub frames_evaluated: usize,
    /// Frames on which the task output held.
    pub frames_holding: usize,
    /// Whether it held on every frame (`None` when some frame has no verdict).
    pub holds: Option<bool>,
    /// Smallest embedding cosine over the frames, where reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_emb_cos: Option<f64>,
    /// Smallest edge-map PSNR over the frames, where reported.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "fidelity::optional_finite_or_text"
    )]
    pub min_edge_psnr_db: Option<f64>,
}

impl SeqTask {
    /// The layer's verdict from its frames' (all of them, in order).
    fn of(frames: &[FrameMeasure]) -> Option<SeqTask> {
        let evaluated: Vec<&TensorFidelity> =
            frames.iter().filter_map(|f| f.fidelity.as_ref()).collect();
        if evaluated.is_empty() {
            return None;
        }
        let min = |pick: fn(&TensorFidelity) -> Option<f64>| {
            evaluated.iter().filter_map(|f| pick(f)).reduce(f64::min)
        };
        Some(SeqTask {
            frames_evaluated: evaluated.len(),
            frames_holding: evaluated.iter().filter(|f| f.holds == Some(true)).count(),
            holds: frames
                .iter()
                .map(|f| f.fidelity.as_ref().and_then(|t| t.holds))
                .collect::<Option<Vec<bool>>>()
                .map(|all| all.iter().all(|&h| h)),
            min_emb_cos: min(|f| f.emb_cos),
            min_edge_psnr_db: min(|f| f.edge_psnr_db),
        })
    }
}

/// One sequence layer × configuration × operating point.
#[derive(Clone, Debug, Serialize)]
pub struct SeqRow {
    /// Index into [`SeqReport::groups`].
    #[serde(skip)]
    pub group: usize,
    pub model: String,
    pub sequence: String,
    pub layer: String,
    pub kind: String,
    /// Shape of one frame's tensor.
    pub shape: Vec<u32>,
    pub frames: usize,
    /// Elements over all frames.
    pub elements: u64,
    pub config: String,
    pub point: i32,
    pub label: String,
    /// The rate: Σ method payload bytes of the layer's feature_data units over all frames.
    pub payload_bytes: u64,
    /// The whole stream (identification, sequence header, layer parameters, frame headers,
    /// feature_data and tensor_hash units, end of sequence), for reference.
    pub stream_bytes: u64,
    /// 8 · payload bytes / elements.
    pub bits_per_element: f64,
    /// float32 bytes of all frames / payload bytes.
    pub ratio: f64,
    /// Mean over the frames of the finite PSNRs (inf when every frame is exact).
    #[serde(serialize_with = "super::metrics::finite_or_text")]
    pub psnr_db: f64,
    #[serde(serialize_with = "super::metrics::finite_or_text")]
    pub min_psnr_db: f64,
    /// Mean over the frames.
    pub mse: f64,
    /// Mean over the frames.
    pub cosine: f64,
    pub max_abs_error: f64,
    /// With a fidelity command: the task verdict over the frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task: Option<SeqTask>,
    pub per_frame: Vec<FrameMeasure>,
}

/// The frames of a group as the encoder takes them.
fn frame_inputs<'a>(
    g: &Group,
    tensors: &'a [Loaded],
    method: MethodChoice,
) -> anyhow::Result<Vec<FrameInput<'a>>> {
    let kind = LayerKind::from_name(&g.kind).unwrap_or(LayerKind::Other);
    g.frames
        .iter()
        .zip(&g.entries)
        .map(|(&frame, &i)| {
            let t = &tensors[i];
            Ok(FrameInput {
                frame_index: frame,
                layers: vec![LayerInput {
                    name: g.layer.clone(),
                    kind,
                    element_type: ElementType::Float32,
                    shape: t.info.shape.clone(),
                    data: &t.bytes,
                    method,
                }],
            })
        })
        .collect()
}

/// Codes one group as one stream with `config` at `point`, decodes it and measures it. With
/// `decoded_dir`, the decoded frames are written there as float32 .npy at their corpus paths;
/// returns the row and the SHA-256 of each frame's decoded data (zeros without).
pub fn code_group(
    index: usize,
    g: &Group,
    tensors: &[Loaded],
    config: SeqConfig,
    point: i32,
    rap_period: u32,
    decoded_dir: Option<&Path>,
) -> anyhow::Result<(SeqRow, Vec<[u8; 32]>)> {
    config.check_point(point)?;
    let (method, prediction) = match config.method {
        SeqMethod::Quantized(p) => (
            MethodChoice::Quantized(LossyOptions {
                target: QuantTarget::Qp(f64::from(point)),
                ..LossyOptions::default()
            }),
            p,
        ),
        SeqMethod::Lossless(p) => (MethodChoice::Fixed(CodingMethod::Native), p),
    };
    let frames = frame_inputs(g, tensors, method)?;
    let stream = encode_sequence(
        &frames,
        &EncoderConfig::default(),
        &SequenceOptions {
            prediction,
            rap_period,
            bits_per_frame: None,
        },
    )
    .map_err(|e| anyhow!("the encoder cannot code the sequence: {e:?}"))?;
    let (_, decoded) = decode_all(&stream).map_err(|e| {
        anyhow!(
            "the reference decoder rejects the stream: {} [{}]",
            e.message,
            e.requirement
        )
    })?;
    ensure!(
        decoded.len() == g.frames.len(),
        "{} tensors decoded for {} frames",
        decoded.len(),
        g.frames.len()
    );
    let mut per_frame = Vec::with_capacity(decoded.len());
    let mut hashes = Vec::with_capacity(decoded.len());
    for ((d, &frame), &i) in decoded.iter().zip(&g.frames).zip(&g.entries) {
        let original = &tensors[i];
        ensure!(
            d.frame_index == frame,
            "decoded frame {} where frame {frame} was coded",
            d.frame_index
        );
        ensure!(
            d.hash_verified,
            "frame {frame}: no tensor_hash verified the decoded tensor"
        );
        ensure!(
            d.data.len() == original.bytes.len() && d.shape == original.info.shape,
            "frame {frame}: decoded shape {:?}, coded {:?}",
            d.shape,
            original.info.shape
        );
        if config.method.is_lossless() {
            ensure!(
                d.data == original.bytes,
                "frame {frame}: the lossless decode differs from the original"
            );
        }
        let reconstruction: Vec<f32> = d
            .data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        hashes.push(match decoded_dir {
            Some(dir) => fidelity::write_decoded(
                dir,
                &original.info.path,
                &original.info.shape,
                &reconstruction,
            )?,
            None => [0; 32],
        });
        per_frame.push(FrameMeasure {
            frame,
            payload_bytes: d.coded_len as u64,
            distortion: metrics::distortion(&original.values, &reconstruction),
            fidelity: None,
        });
    }
    let first = &tensors[g.entries[0]];
    let elements: u64 = g.entries.iter().map(|&i| tensors[i].info.elements).sum();
    let payload: u64 = per_frame.iter().map(|f| f.payload_bytes).sum();
    let n = per_frame.len() as f64;
    let row = SeqRow {
        group: index,
        model: g.model.clone(),
        sequence: g.sequence.clone(),
        layer: g.layer.clone(),
        kind: g.kind.clone(),
        shape: first.info.shape.clone(),
        frames: g.frames.len(),
        elements,
        config: config.name.to_string(),
        point,
        label: config.label(point),
        payload_bytes: payload,
        stream_bytes: stream.len() as u64,
        bits_per_element: payload as f64 * 8.0 / elements as f64,
        ratio: (elements * 4) as f64 / payload.max(1) as f64,
        psnr_db: super::report::mean_psnr(per_frame.iter().map(|f| f.distortion.psnr_db)),
        min_psnr_db: per_frame
            .iter()
            .map(|f| f.distortion.psnr_db)
            .fold(f64::INFINITY, f64::min),
        mse: per_frame.iter().map(|f| f.distortion.mse).sum::<f64>() / n,
        cosine: per_frame.iter().map(|f| f.distortion.cosine).sum::<f64>() / n,
        max_abs_error: per_frame
            .iter()
            .map(|f| f.distortion.max_abs_error)
            .fold(0.0, f64::max),
        task: None,
        per_frame,
    };
    Ok((row, hashes))
}

/// Codes every group with every configuration at every point (on the current rayon pool). With
/// a fidelity runner the points go one at a time, groups in parallel, and each point's decoded
/// frames are evaluated before the next; without, every (configuration, point, group) is one
/// task of a single parallel pass. Rows come configuration by configuration, then point, then
/// group; also returns what the fidelity command skipped.
pub fn sweep(
    groups: &[Group],
    tensors: &[Loaded],
    configs: &[(SeqConfig, Vec<i32>)],
    rap_period: u32,
    progress: bool,
    mut fidelity: Option<&mut fidelity::Runner>,
) -> anyhow::Result<(Vec<SeqRow>, Vec<String>)> {
    let points: Vec<(SeqConfig, i32)> = configs
        .iter()
        .flat_map(|(c, points)| points.iter().map(move |&p| (*c, p)))
        .collect();
    // The points coded together: one batch per point when each is evaluated, else one.
    let batches: Vec<&[(SeqConfig, i32)]> = if fidelity.is_some() {
        points.chunks(1).collect()
    } else {
        vec![&points[..]]
    };
    let bar = super::progress_bar((points.len() * groups.len()) as u64, progress);
    let mut rows = Vec::with_capacity(points.len() * groups.len());
    let mut skipped: Vec<String> = Vec::new();
    for batch in batches {
        if let [(c, p)] = batch {
            bar.set_message(format!("{} {}", c.name, c.label(*p)));
        }
        let decoded_dir = fidelity.as_ref().map(|f| f.decoded_dir());
        let tasks: Vec<(SeqConfig, i32, usize)> = batch
            .iter()
            .flat_map(|&(c, p)| (0..groups.len()).map(move |g| (c, p, g)))
            .collect();
        let measured = tasks
            .par_iter()
            .map(|&(c, p, gi)| {
                let g = &groups[gi];
                let coded = code_group(gi, g, tensors, c, p, rap_period, decoded_dir.as_deref())
                    .with_context(|| format!("{}, {} {}", g.id(), c.name, c.label(p)))?;
                bar.inc(1);
                Ok(coded)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let (Some(runner), [(c, p)]) = (fidelity.as_deref_mut(), batch) else {
            rows.extend(measured.into_iter().map(|(row, _)| row));
            continue;
        };
        bar.set_message(format!("{} {}: task fidelity", c.name, c.label(*p)));
        let mut key = Sha256::new();
        for hash in measured.iter().flat_map(|(_, hashes)| hashes) {
            key.update(hash);
        }
        let results = runner
            .evaluate(key.finalize().into())
            .with_context(|| format!("task fidelity of {} {}", c.name, c.label(*p)))?;
        for s in &results.skipped {
            if !skipped.contains(s) {
                skipped.push(s.clone());
            }
        }
        for (mut row, _) in measured {
            let g = &groups[row.group];
            for (frame, &i) in row.per_frame.iter_mut().zip(&g.entries) {
                let info = &tensors[i].info;
                let key = (info.model.clone(), info.image.clone(), info.layer.clone());
                frame.fidelity = results.tensors.get(&key).cloned();
            }
            row.task = SeqTask::of(&row.per_frame);
            rows.push(row);
        }
    }
    bar.finish_and_clear();
    Ok((rows, skipped))
}

/// `dfc rd --sequences`.
pub fn run(args: &super::Args) -> anyhow::Result<()> {
    ensure!(
        args.anchor.is_none() && args.tests.is_empty(),
        "--anchor and --test do not apply with --sequences: the BD-rates are seq-inter against seq-none and seq-intra, and seq-intra against seq-none"
    );
    ensure!(
        args.externals.is_empty(),
        "--external with --sequences: external codecs are swept on still tensors only in this version"
    );
    let configs = select(&args.configs, &args.points)?;
    let mut corpus = super::select_tensors(args)?;
    corpus
        .entries
        .retain(|e| e.sequence.is_some() && e.frame.is_some());
    ensure!(
        !corpus.entries.is_empty(),
        "--sequences: no tensor of {} is a frame of a sequence (manifest entries with sequence and frame, or MODEL/seq_NAME/frame_NN/LAYER.npy paths)",
        corpus.source
    );
    let groups = group(&corpus.entries, |m, l| corpus.layer_rank(m, l))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.max(1) as usize)
        .build()
        .context("cannot start the worker threads")?;
    let root = load::corpus_root(&args.corpus);
    let tensors = pool.install(|| load::load_all(&corpus, &root))?;
    for g in &groups {
        let shape = &tensors[g.entries[0]].info.shape;
        for &i in &g.entries {
            ensure!(
                &tensors[i].info.shape == shape,
                "{}: {} has shape {:?}, the first frame {:?}",
                g.id(),
                tensors[i].info.path,
                tensors[i].info.shape,
                shape
            );
        }
    }
    let criteria = super::criteria(args)?;
    let mut runner = match &args.fidelity_cmd {
        Some(cmd) => Some(fidelity::Runner::new(cmd, criteria)?),
        None => None,
    };
    let (rows, skipped) = pool.install(|| {
        sweep(
            &groups,
            &tensors,
            &configs,
            args.rap_period,
            !args.quiet,
            runner.as_mut(),
        )
    })?;
    let fidelity = runner.map(|r| super::report::FidelityRun {
        command: args.fidelity_cmd.clone().unwrap_or_default(),
        criteria,
        runs: r.runs,
        skipped,
    });
    let shapes = groups
        .iter()
        .map(|g| tensors[g.entries[0]].info.shape.clone())
        .collect();
    let report = SeqReport::new(
        &corpus.source,
        &configs,
        args.rap_period,
        groups,
        shapes,
        rows,
        fidelity,
    );
    let markdown = report.to_markdown();
    if let Some(path) = &args.json {
        crate::bench::output::write_atomic(path, report.to_json()?.as_bytes())?;
    }
    if let Some(path) = &args.csv {
        crate::bench::output::write_atomic(path, report.to_csv().as_bytes())?;
    }
    if let Some(path) = &args.markdown {
        crate::bench::output::write_atomic(path, markdown.as_bytes())?;
    }
    if let Some(dir) = &args.plots {
        report.write_plots(dir)?;
    }
    print!("{markdown}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn entry(model: &str, layer: &str, seq: Option<(&str, u32)>) -> Entry {
        Entry {
            model: model.into(),
            image: seq.map_or("photo".into(), |(s, f)| format!("seq_{s}/frame_{f:02}")),
            layer: layer.into(),
            kind: if layer == "pool5" { "pool" } else { "conv" }.into(),
            path: PathBuf::from(format!("{model}/{layer}.npy")),
            shape: None,
            nonzero_rate: None,
            sequence: seq.map(|(s, _)| s.to_string()),
            frame: seq.map(|(_, f)| f),
        }
    }

    #[test]
    fn grouping_by_model_sequence_and_layer_in_frame_order() {
        let entries = vec![
            entry("b", "conv5_3", Some(("bikes", 1))),
            entry("a", "pool5", Some(("bikes", 2))),
            entry("a", "res3d", Some(("bikes", 1))),
            entry("a", "res3d", None),
            entry("a", "res3d", Some(("bikes", 0))),
            entry("a", "pool5", Some(("bikes", 0))),
            entry("b", "conv5_3", Some(("bikes", 0))),
            entry("a", "res3d", Some(("cars", 0))),
            entry("a", "pool5", Some(("bikes", 1))),
        ];
        let rank = |_: &str, l: &str| ["res3d", "pool5"].iter().position(|x| *x == l).unwrap_or(9);
        let groups = group(&entries, rank).unwrap();
        let ids: Vec<String> = groups.iter().map(Group::id).collect();
        // Models in order of first appearance; then sequence; then network order.
        assert_eq!(
            ids,
            [
                "b/bikes/conv5_3",
                "a/bikes/res3d",
                "a/bikes/pool5",
                "a/cars/res3d"
            ]
        );
        assert_eq!(groups[0].frames, [0, 1]);
        assert_eq!(groups[0].entries, [6, 0]);
        assert_eq!(groups[1].frames, [0, 1]);
        assert_eq!(groups[1].entries, [4, 2]);
        assert_eq!(groups[2].frames, [0, 1, 2]);
        assert_eq!(groups[2].entries, [5, 8, 1]);
        assert_eq!(groups[2].kind, "pool");
        assert_eq!(groups[3].frames, [0]);

        let twice = vec![
            entry("a", "res3d", Some(("bikes", 0))),
            entry("a", "res3d", Some(("bikes", 0))),
        ];
        assert!(group(&twice, rank).is_err());
        assert!(group(&[entry("a", "res3d", None)], rank)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn selection() {
        let s = select("all", &["seq-inter=16,24".into()]).unwrap();
        let names: Vec<&str> = s.iter().map(|c| c.0.name).collect();
        assert_eq!(
            names,
            [
                "seq-none",
                "seq-intra",
                "seq-inter",
                "seq-lossless",
                "seq-lossless-inter"
            ]
        );
        assert_eq!(s[2].1, [16, 24]);
        assert_eq!(s[0].1, default_qp_points());
        assert_eq!(s[3].1, [0]);
        assert_eq!(s[4].1, [0]);
        assert_eq!(s[4].0.method, SeqMethod::Lossless(Prediction::Inter));
        assert!(select("dfc", &[]).is_err());
        assert!(select("seq-none", &["seq-none=200".into()]).is_err());
        assert!(select("seq-lossless", &["seq-lossless=3".into()]).is_err());
        assert!(select("seq-lossless-inter", &["seq-lossless-inter=1".into()]).is_err());
        assert!(select("seq-none", &["seq-inter=16".into()]).is_err());
    }
}
