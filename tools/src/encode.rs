//! `dfc encode`: .npy files, directories of them and .safetensors files into one DFC stream.

use crate::io::atomic::{is_stdio, Outputs};
use crate::io::manifest::{slash_path, Manifests};
use crate::io::{npy, print, ratio_text, safetensors, shape_text, table, Tensor};
use anyhow::{bail, Context};
use dfc_decoder::{CodingMethod, ElementType, LayerKind, LevelLimits, Profile, LEVELS};
use dfc_encoder::{
    encode_sequence, encode_stream, ChannelMode, EncoderConfig, FrameInput, LayerInput,
    LossyOptions, MethodChoice, Prediction, QuantTarget, Quantizer, SequenceOptions, StepScale,
    ENCODER_VERSION,
};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Options of `dfc encode`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Inputs:
  FILE.npy          one layer named after the file stem (float32, float16, int8, uint8; any
                    byte order, C or Fortran order)
  DIR               every .npy file below DIR, sorted by relative path; layer name = the
                    relative path without .npy, with / separators (a/b/c.npy -> a/b/c)
  FILE.safetensors  every tensor of the file (F32, F16, BF16, I8, U8), sorted by name

Sequences: if .npy files below a DIR have a path component frame_NN (as in
MODEL/seq_NAME/frame_03/LAYER.npy), the input is a sequence of frames: frame NN holds the
files with frame_NN in their path, and the layer name drops that component
(MODEL/seq_NAME/LAYER). A file below a DIR is also a frame, whatever its path, when its
manifest.json entry (found as for kinds, below) has a `frame` field (an integer >= 0). Its
layer name is then the path without its frame_NN component if it has one (the two frame
numbers must agree), else MODEL/SEQUENCE/LAYER from the entry's `model`, `sequence` and
`layer` fields (SEQUENCE/LAYER without `model`; `sequence` and `layer` are required). Example:
f3_res4f.npy listed with {\"model\": \"resnet\", \"sequence\": \"bikes\", \"layer\": \"res4f\",
\"frame\": 3} is frame 3 of layer resnet/bikes/res4f. If any input is a frame, every input
must be one. Each frame becomes an access unit; --rap-period sets how often a frame is a
random-access point and --prediction how quantized layers are predicted.

Layer kinds come from --kind, else from a manifest.json (a `tensors` list of entries with
`path` and `kind`) in the tensor's directory or an ancestor directory as far as the input path
goes, matched by the tensor's path relative to the manifest; else from the rank: rank 1 is fc,
higher ranks are conv.

Examples:
  dfc encode samples/corpus -o corpus.dfc
  dfc encode conv1.npy fc.npy -o two.dfc --method native --layer-method fc=raw
  dfc encode model.safetensors -o model.dfc --profile baseline --level 3 --kind head=other
  dfc encode feats/ -o feats.dfc --meta image=astronaut --meta model=resnet50
  dfc encode samples/corpus -o lossy.dfc --target-psnr 45          (float layers quantized)
  dfc encode conv1.npy -o c.dfc --method quantized --bits 6 --quantizer codebook

--method auto (the default) gives the smallest payload of the lossless methods the profile
allows, and tries only those that can still win: native and zlib are coded in full, raw costs
nothing, lzma and bzip2 stop as soon as their output passes the best so far, and gzip (zlib's
data with 12 more bytes of framing) is never tried where zlib is allowed; the payload is the
one trying every method gives. It still costs about one lzma pass: on samples/corpus 1.5 s
of CPU, where --method native takes 0.02 s for a stream 80 bytes (0.005 %) larger. Give
--method native to skip the search.

Lossy coding: --bits, --qp, --target-psnr and --target-bpe (one of them) choose the
quantization of the quantized method; giving one makes every float layer quantized unless
--method or --layer-method says otherwise. The summary then shows each lossy layer's PSNR
over its peak value.")]
pub struct Args {
    /// Input .npy files, directories of .npy files, or .safetensors files; - reads one .npy
    /// or .safetensors from standard input (a .npy from it is the layer "stdin").
    #[arg(value_name = "INPUT", required = true)]
    pub inputs: Vec<PathBuf>,

    /// The stream to write, e.g. -o features.dfc, or - for standard output. Written whole or
    /// not at all; an existing file only with --force.
    #[arg(short, long, value_name = "OUT.dfc")]
    pub output: PathBuf,

    /// Replace the output if it exists (keeping its permissions).
    #[arg(short, long)]
    pub force: bool,

    /// Coding method of every layer: raw, zlib, gzip, bzip2, lzma, native (lossless), quantized
    /// (lossy, float layers), or auto (the smallest payload among the lossless methods the
    /// profile allows; see below for what it tries). Example: --method lzma
    #[arg(long, value_name = "METHOD", default_value = "auto", value_parser = parse_method)]
    pub method: MethodChoice,

    /// Coding method of one layer, overriding --method; repeatable.
    /// Example: --layer-method fc_logits=raw
    #[arg(long = "layer-method", value_name = "NAME=METHOD", value_parser = parse_layer_method)]
    pub layer_methods: Vec<(String, MethodChoice)>,

    /// Layer kind of one layer (conv, pool, fc, other), overriding the manifest and the rank
    /// rule; repeatable. Example: --kind pool5=pool
    #[arg(long = "kind", value_name = "NAME=KIND", value_parser = parse_kind)]
    pub kinds: Vec<(String, LayerKind)>,

    /// Profile: main (every method and element type) or baseline (raw, zlib, gzip; no
    /// bfloat16). Example: --profile baseline
    #[arg(long, value_name = "PROFILE", default_value = "main", value_parser = parse_profile)]
    pub profile: Profile,

    /// Level to signal, e.g. --level 2 (level_idc 20); the default is the smallest level
    /// whose limits hold the stream. Fails if the stream does not fit the level.
    #[arg(long, value_name = "N", value_parser = parse_level)]
    pub level: Option<u8>,

    /// Do not write a tensor_hash (SHA-256) unit after each layer's feature data.
    #[arg(long)]
    pub no_hash: bool,

    /// Extra metadata entry, after `source` and `encoder`; repeatable.
    /// Example: --meta image=astronaut
    #[arg(long = "meta", value_name = "KEY=VALUE", value_parser = parse_meta)]
    pub meta: Vec<(String, String)>,

    /// Threads for the native method's slices (0: one per CPU); the output does not depend
    /// on it. Example: --threads 4
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    #[command(flatten)]
    pub lossy: LossyArgs,

    /// Sequences: frames from one random-access point to the next (1: every frame).
    #[arg(long = "rap-period", value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub rap_period: u32,
}

/// Values of `--quantizer`, `--channels` and `--prediction`.
pub const QUANTIZERS: [&str; 2] = ["uniform", "codebook"];
pub const CHANNEL_MODES: [&str; 3] = ["auto", "tensor", "channel"];
pub const PREDICTIONS: [&str; 4] = ["auto", "inter", "intra", "none"];

/// Options of the quantized method (lossy).
#[derive(clap::Args, Debug)]
pub struct LossyArgs {
    /// Levels of N bits (1 to 16) over the tensor's range, or 2^N codewords. Default 8.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..=16), conflicts_with_all = ["qp", "target_psnr", "target_bpe"])]
    pub bits: Option<u8>,
    /// Step = scale × 2^(−QP/8), the scale being the tensor's RMS (or its peak with
    /// --step-scale peak): 8 more QP halve the step, one QP is 2^(1/8); fractions allowed.
    /// Example: --qp 24 (or --qp 23.5)
    #[arg(long, value_name = "QP", allow_negative_numbers = true, conflicts_with_all = ["target_psnr", "target_bpe"])]
    pub qp: Option<f64>,
    /// The coarsest quantization whose PSNR over the tensor's peak reaches DB. Example: 45
    #[arg(
        long = "target-psnr",
        value_name = "DB",
        allow_negative_numbers = true,
        conflicts_with = "target_bpe"
    )]
    pub target_psnr: Option<f64>,
    /// The finest quantization that codes each tensor in at most BITS bits per element.
    #[arg(
        long = "target-bpe",
        value_name = "BITS",
        allow_negative_numbers = true,
        conflicts_with = "target_bitrate"
    )]
    pub target_bpe: Option<f64>,
    /// Sequences: the stream's bitrate at --fps frames per second, whole stream counted
    /// (container, hashes); one qp per group of frames from a random-access point to the
    /// next, each group given what the frames so far may spend. Example: --target-bitrate
    /// 2000 --fps 30
    #[arg(long = "target-bitrate", value_name = "KBIT/S", requires = "fps", conflicts_with_all = ["bits", "qp", "target_psnr"])]
    pub target_bitrate: Option<f64>,
    /// Frames per second, for --target-bitrate.
    #[arg(long, value_name = "N", requires = "target_bitrate")]
    pub fps: Option<f64>,
    /// Reconstruction: uniform (offset + level × step) or codebook (Lloyd–Max values). Needs
    /// a lossy target or the quantized method.
    #[arg(long, value_name = "KIND", default_value = "uniform", value_parser = QUANTIZERS)]
    pub quantizer: String,
    /// Uniform steps per tensor, per channel (index of the first dimension), or auto
    /// (per channel when it pays, for --target-psnr and --target-bpe). Needs a lossy target or
    /// the quantized method.
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = CHANNEL_MODES)]
    pub channels: String,
    /// Rate–distortion optimized rounding of levels instead of nearest: fewer bits at equal
    /// PSNR, but more at the rate where an analysis task holds (docs/lossy.md), and slower
    /// --target-psnr.
    #[arg(long)]
    pub rdo: bool,
    /// Nearest rounding (the default; kept for scripts of earlier versions).
    #[arg(long, hide = true, conflicts_with = "rdo")]
    pub no_rdo: bool,
    /// What --qp's step is relative to: rms (root mean square of the tensor or channel: one
    /// QP gives about the same relative error on every input) or peak (largest magnitude).
    #[arg(long = "step-scale", value_name = "SCALE", default_value = "rms", value_parser = ["rms", "peak"])]
    pub step_scale: String,
    /// Uniform levels: values within T steps of zero take level 0 (default 0.5, nearest
    /// rounding; 0.4 keeps more small values, which helps sparse maps). 0 to 1.
    #[arg(long = "zero-threshold", value_name = "T")]
    pub zero_threshold: Option<f64>,
    /// Prediction of quantized levels, map by map where it is cheaper: none; intra (residuals
    /// of the MED prediction from the left, above and above-left levels); inter (also residuals
    /// of the previous frame's levels, in sequences); auto (= inter).
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = PREDICTIONS)]
    pub prediction: String,
}

impl LossyArgs {
    /// Whether a target was given.
    pub fn any_target(&self) -> bool {
        self.bits.is_some()
            || self.qp.is_some()
            || self.target_psnr.is_some()
            || self.target_bpe.is_some()
            || self.target_bitrate.is_some()
    }

    /// Bits per frame of --target-bitrate and --fps.
    pub fn bits_per_frame(&self) -> anyhow::Result<Option<f64>> {
        match (self.target_bitrate, self.fps) {
            (Some(k), Some(fps)) if k.is_finite() && k > 0.0 && fps.is_finite() && fps > 0.0 => {
                Ok(Some(k * 1000.0 / fps))
            }
            (None, _) => Ok(None),
            _ => bail!("--target-bitrate and --fps take finite numbers above 0"),
        }
    }

    pub fn options(&self) -> anyhow::Result<LossyOptions> {
        for (option, value, allowed) in [
            ("quantizer", &self.quantizer, &QUANTIZERS[..]),
            ("channels", &self.channels, &CHANNEL_MODES[..]),
            ("prediction", &self.prediction, &PREDICTIONS[..]),
        ] {
            if !allowed.contains(&value.as_str()) {
                bail!("{option} {value:?} is not one of {}", allowed.join(", "));
            }
        }
        let target = match (self.bits, self.qp, self.target_psnr, self.target_bpe) {
            (_, Some(qp), _, _) if qp.is_finite() && (-96.0..=136.0).contains(&qp) => {
                QuantTarget::Qp(qp)
            }
            (_, Some(qp), _, _) => bail!("--qp {qp}: expected a number from -96 to 136"),
            (_, _, Some(db), _) if db.is_finite() => QuantTarget::Psnr(db),
            (_, _, _, Some(b)) if b.is_finite() && b > 0.0 => QuantTarget::BitsPerElement(b),
            // --target-bitrate: the sequence's rate control sets each group's qp.
            _ if self.target_bitrate.is_some() => QuantTarget::Qp(16.0),
            (_, _, Some(_), _) | (_, _, _, Some(_)) => {
                bail!("--target-psnr and --target-bpe take a finite number (bpe above 0)")
            }
            (bits, ..) => QuantTarget::Bits(bits.unwrap_or(8)),
        };
        Ok(LossyOptions {
            target,
            quantizer: if self.quantizer == "codebook" {
                Quantizer::Codebook
            } else {
                Quantizer::Uniform
            },
            channels: match self.channels.as_str() {
                "tensor" => ChannelMode::PerTensor,
                "channel" => ChannelMode::PerChannel,
                _ => ChannelMode::Auto,
            },
            rdo: self.rdo,
            intra: self.prediction != "none",
            scale: if self.step_scale == "peak" {
                StepScale::Peak
            } else {
                StepScale::Rms
            },
            zero_threshold: match self.zero_threshold {
                None => 0.5,
                Some(t) if (0.0..=1.0).contains(&t) => t,
                Some(t) => bail!("--zero-threshold {t}: expected a number from 0 to 1"),
            },
        })
    }
}

pub fn parse_method(s: &str) -> Result<MethodChoice, String> {
    MethodChoice::from_name(s).ok_or_else(|| {
        let names: Vec<&str> = CodingMethod::ALL.iter().map(|m| m.name()).collect();
        format!("unknown method {s:?} ({}, auto)", names.join(", "))
    })
}

/// Whether an option was given on the command line (else it has its default).
fn option_given(option: &str) -> bool {
    std::env::args_os().any(|a| {
        a.to_str().is_some_and(|a| {
            a == option || a.strip_prefix(option).is_some_and(|r| r.starts_with('='))
        })
    })
}

pub fn parse_profile(s: &str) -> Result<Profile, String> {
    Profile::from_name(s).ok_or_else(|| format!("unknown profile {s:?} (baseline, main)"))
}

fn level_names() -> String {
    LEVELS
        .iter()
        .map(LevelLimits::name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `2` → 20, `2.5` → 25.
pub fn parse_level(s: &str) -> Result<u8, String> {
    let bad = || format!("level {s:?} is not a number like 2 or 2.5");
    let (whole, tenth) = match s.split_once('.') {
        Some((w, t)) if t.len() == 1 => (w, t),
        Some(_) => return Err(bad()),
        None => (s, "0"),
    };
    let whole: u8 = whole.parse().map_err(|_| bad())?;
    let tenth: u8 = tenth.parse().map_err(|_| bad())?;
    let idc = whole
        .checked_mul(10)
        .and_then(|w| w.checked_add(tenth))
        .ok_or_else(bad)?;
    if LevelLimits::from_idc(idc).is_none() {
        return Err(format!(
            "level {s} is not defined (levels: {})",
            level_names()
        ));
    }
    Ok(idc)
}

/// `NAME=VALUE`, split at the last `=` (layer names may contain `=`, values do not).
fn split_pair(s: &str) -> Result<(&str, &str), String> {
    s.rsplit_once('=')
        .filter(|(k, _)| !k.is_empty())
        .ok_or_else(|| format!("{s:?} is not NAME=VALUE"))
}

fn parse_layer_method(s: &str) -> Result<(String, MethodChoice), String> {
    let (name, method) = split_pair(s)?;
    Ok((name.to_string(), parse_method(method)?))
}

fn parse_kind(s: &str) -> Result<(String, LayerKind), String> {
    let (name, kind) = split_pair(s)?;
    Ok((name.to_string(), parse_layer_kind(kind)?))
}

pub fn parse_layer_kind(kind: &str) -> Result<LayerKind, String> {
    LayerKind::from_name(kind)
        .ok_or_else(|| format!("unknown kind {kind:?} (conv, pool, fc, other)"))
}

/// `KEY=VALUE`, split at the first `=`.
fn parse_meta(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))
}

/// Where a layer's kind can be looked up.
enum KindSource {
    /// A .npy file, looked up by its path in the manifests of its directory and ancestors.
    NpyFile(PathBuf),
    /// A tensor of a .safetensors file, looked up by name in the manifest beside the file.
    Safetensors { file: PathBuf, name: String },
}

/// One tensor to encode.
struct Layer {
    name: String,
    /// The frame of a sequence input (a frame_NN path component or a manifest frame), else
    /// None.
    frame: Option<u32>,
    /// Where it came from, for messages.
    origin: String,
    tensor: Tensor,
    kind_source: KindSource,
}

/// The .npy files below `dir`, as (relative path with `/` separators, full path), sorted by
/// relative path. Symbolic links to files are followed, those to directories are not.
fn npy_files_below(dir: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        let entries = std::fs::read_dir(&d)
            .with_context(|| format!("cannot read directory {}", d.display()))?;
        for entry in entries {
            let entry = entry.with_context(|| format!("cannot read directory {}", d.display()))?;
            let path = entry.path();
            let file_type = entry
                .file_type()
                .with_context(|| format!("cannot read {}", path.display()))?;
            if file_type.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "npy")
                && (file_type.is_file() || path.is_file())
            {
                let relative = path.strip_prefix(dir).expect("found below dir");
                found.push((slash_path(relative)?, path));
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Reads every input into layers, in command-line order.
fn read_inputs(inputs: &[PathBuf], manifests: &mut Manifests) -> anyhow::Result<Vec<Layer>> {
    let mut layers = Vec::new();
    for input in inputs {
        if crate::io::atomic::is_stdio(input) {
            let bytes = crate::io::read_input(input)?;
            if bytes.starts_with(b"\x93NUMPY") {
                layers.push(Layer {
                    name: "stdin".to_string(),
                    frame: None,
                    origin: "standard input".to_string(),
                    tensor: npy::read_npy_from(&bytes[..]).context("standard input")?,
                    kind_source: KindSource::NpyFile(input.clone()),
                });
            } else {
                let tensors = safetensors::read_safetensors_from(&bytes)
                    .context("standard input (neither .npy nor .safetensors)")?;
                for (name, tensor) in tensors {
                    layers.push(Layer {
                        frame: None,
                        origin: format!("standard input tensor {name:?}"),
                        kind_source: KindSource::Safetensors {
                            file: input.clone(),
                            name: name.clone(),
                        },
                        name,
                        tensor,
                    });
                }
            }
            continue;
        }
        let meta =
            std::fs::metadata(input).with_context(|| format!("cannot open {}", input.display()))?;
        if meta.is_dir() {
            let files = npy_files_below(input)?;
            if files.is_empty() {
                bail!("{}: no .npy files in this directory", input.display());
            }
            for (relative, path) in files {
                let relative = relative
                    .strip_suffix(".npy")
                    .expect("selected by extension")
                    .to_string();
                let (name, frame) = split_frame(&relative);
                let (name, frame) = with_manifest_frame(&path, name, frame, manifests)?;
                layers.push(Layer {
                    name,
                    frame,
                    origin: path.display().to_string(),
                    tensor: npy::read_npy(&path)?,
                    kind_source: KindSource::NpyFile(path),
                });
            }
        } else {
            match input.extension().and_then(|e| e.to_str()) {
                Some("npy") => {
                    let name = input
                        .file_stem()
                        .and_then(|s| s.to_str())
                        .with_context(|| {
                            format!("{}: the file name is not UTF-8", input.display())
                        })?
                        .to_string();
                    layers.push(Layer {
                        name,
                        frame: None,
                        origin: input.display().to_string(),
                        tensor: npy::read_npy(input)?,
                        kind_source: KindSource::NpyFile(input.clone()),
                    });
                }
                Some("safetensors") => {
                    for (name, tensor) in safetensors::read_safetensors(input)? {
                        layers.push(Layer {
                            frame: None,
                            origin: format!("{} tensor {name:?}", input.display()),
                            kind_source: KindSource::Safetensors {
                                file: input.clone(),
                                name: name.clone(),
                            },
                            name,
                            tensor,
                        });
                    }
                }
                _ => bail!(
                    "{}: not a .npy file, a .safetensors file or a directory",
                    input.display()
                ),
            }
        }
    }
    let sequence = layers.iter().any(|l| l.frame.is_some());
    if let Some(l) = layers.iter().find(|l| sequence && l.frame.is_none()) {
        bail!(
            "{}: not in a frame_NN directory and no manifest frame, but other inputs are frames of a sequence",
            l.origin
        );
    }
    let mut seen: HashMap<(&str, Option<u32>), &str> = HashMap::new();
    for layer in &layers {
        if let Some(first) = seen.insert((&layer.name, layer.frame), &layer.origin) {
            bail!(
                "layer name {:?} is used twice: by {first} and by {}",
                layer.name,
                layer.origin
            );
        }
    }
    Ok(layers)
}

/// Splits a frame_NN component off a relative path: (the path without it, NN).
fn split_frame(relative: &str) -> (String, Option<u32>) {
    let parts: Vec<&str> = relative.split('/').collect();
    let frame_at = parts.iter().position(|p| {
        p.strip_prefix("frame_")
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    });
    match frame_at.and_then(|i| Some((i, parts[i]["frame_".len()..].parse::<u32>().ok()?))) {
        Some((i, frame)) if parts.len() > 1 => {
            let name: Vec<&str> = parts
                .iter()
                .enumerate()
                .filter(|&(j, _)| j != i)
                .map(|(_, p)| *p)
                .collect();
            (name.join("/"), Some(frame))
        }
        _ => (relative.to_string(), None),
    }
}

/// The layer name and frame of the .npy file at `path` below a DIR input, given those of its
/// path (`split_frame`), once its manifest entry is taken into account: an entry with a `frame`
/// makes the file that frame; its name is the path's if the path has a frame_NN component (the
/// frames must agree), else `model/sequence/layer` from the entry (`sequence/layer` without
/// `model`).
fn with_manifest_frame(
    path: &Path,
    name: String,
    path_frame: Option<u32>,
    manifests: &mut Manifests,
) -> anyhow::Result<(String, Option<u32>)> {
    let Some(entry) = manifests.frame_of_file(path)? else {
        return Ok((name, path_frame));
    };
    let frame = entry.frame;
    if let Some(f) = path_frame {
        if f != frame {
            bail!(
                "{}: {} gives frame {frame}, but the file's path says frame {f} (its frame_NN component)",
                path.display(),
                entry.manifest.display()
            );
        }
        return Ok((name, path_frame));
    }
    let (Some(sequence), Some(layer)) = (&entry.sequence, &entry.layer) else {
        bail!(
            "{}: {} gives frame {frame} but not both `sequence` and `layer`, which name the layer of a frame whose path has no frame_NN component",
            path.display(),
            entry.manifest.display()
        );
    };
    let name = match &entry.model {
        Some(model) => format!("{model}/{sequence}/{layer}"),
        None => format!("{sequence}/{layer}"),
    };
    crate::io::names::layer_path(&name).with_context(|| {
        format!(
            "{}: the layer name from {} (model/sequence/layer)",
            path.display(),
            entry.manifest.display()
        )
    })?;
    Ok((name, Some(frame)))
}

/// Kind of a layer without --kind: the manifest's, else by rank.
fn kind_of(layer: &Layer, manifests: &mut Manifests) -> anyhow::Result<LayerKind> {
    let from_manifest = match &layer.kind_source {
        KindSource::NpyFile(path) => manifests.kind_of_file(path)?.map(|(k, _)| k),
        KindSource::Safetensors { file, name } => {
            let dir = file.parent().unwrap_or(Path::new(""));
            match manifests.in_dir(dir)? {
                Some(m) => m.kind(name)?,
                None => None,
            }
        }
    };
    Ok(from_manifest.unwrap_or(default_kind(layer.tensor.shape.len())))
}

/// Checks that every NAME of a NAME=VALUE option is one of the layer `names`.
pub fn check_names<T>(option: &str, pairs: &[(String, T)], names: &[&str]) -> anyhow::Result<()> {
    for (name, _) in pairs {
        if !names.contains(&name.as_str()) {
            bail!(
                "{option} {name}=...: there is no layer {name:?} (layers: {})",
                names.join(", ")
            );
        }
    }
    Ok(())
}

/// A tensor to encode, as `dfc encode` and the Python package hand it to [`encode_tensors`].
#[derive(Clone, Debug)]
pub struct NamedTensor<'a> {
    pub name: String,
    /// The frame of a sequence input; `None` for a still-image stream (no input may have one).
    pub frame: Option<u32>,
    pub kind: LayerKind,
    pub element_type: ElementType,
    pub shape: Vec<u32>,
    /// Canonical bytes: little-endian elements in C order.
    pub data: &'a [u8],
}

/// The coding options of `dfc encode`, everything but its inputs and output.
#[derive(Debug)]
pub struct Options {
    pub method: MethodChoice,
    /// Whether `method` was given; if not (it is then auto), a lossy target makes the float
    /// layers quantized.
    pub method_given: bool,
    pub layer_methods: Vec<(String, MethodChoice)>,
    pub lossy: LossyArgs,
    pub profile: Profile,
    pub level: Option<u8>,
    pub tensor_hashes: bool,
    /// Metadata entries, see [`metadata`].
    pub metadata: Vec<(String, String)>,
    /// As `--threads`: 0 is one per CPU.
    pub threads: usize,
    pub rap_period: u32,
}

/// The metadata `dfc encode` writes: `source` (when given), `encoder`, then `extra`.
pub fn metadata(source: Option<String>, extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut entries: Vec<(String, String)> = source
        .map(|s| ("source".to_string(), s))
        .into_iter()
        .collect();
    entries.push((
        "encoder".to_string(),
        format!("dfc-encoder {ENCODER_VERSION}"),
    ));
    entries.extend(extra.iter().cloned());
    entries
}

/// The kind of a layer that neither an option nor a manifest names: rank 1 is fc, higher ranks
/// are conv.
pub fn default_kind(rank: usize) -> LayerKind {
    if rank == 1 {
        LayerKind::Fc
    } else {
        LayerKind::Conv
    }
}

/// The coding method of a layer: its --layer-method, else --method; a lossy target without
/// --method makes a float layer quantized.
fn method_of(options: &Options, lossy: LossyOptions, layer: &NamedTensor<'_>) -> MethodChoice {
    let given = options
        .layer_methods
        .iter()
        .rev()
        .find(|(n, _)| *n == layer.name)
        .map(|(_, m)| *m);
    let lossy_default = options.lossy.any_target() && !options.method_given;
    match given.unwrap_or(options.method) {
        MethodChoice::Quantized(_) => MethodChoice::Quantized(lossy),
        MethodChoice::Auto
            if lossy_default
                && given.is_none()
                && dfc_decoder::quant::model::is_float_type(layer.element_type) =>
        {
            MethodChoice::Quantized(lossy)
        }
        m => m,
    }
}

/// The stream `dfc encode` writes for these tensors: one still image, or one access unit per
/// frame when the tensors have frames.
pub fn encode_tensors(layers: &[NamedTensor<'_>], options: &Options) -> anyhow::Result<Vec<u8>> {
    let lossy = options.lossy.options()?;
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    check_names("--layer-method", &options.layer_methods, &names)?;
    if layers.iter().any(|l| l.frame.is_some()) && layers.iter().any(|l| l.frame.is_none()) {
        bail!("some tensors are frames of a sequence and some are not");
    }
    let inputs: Vec<LayerInput<'_>> = layers
        .iter()
        .map(|layer| {
            let method = method_of(options, lossy, layer);
            LayerInput {
                name: layer.name.clone(),
                kind: layer.kind,
                element_type: layer.element_type,
                shape: layer.shape.clone(),
                data: layer.data,
                method,
            }
        })
        .collect();
    // Fields the encoder may add later keep their defaults.
    #[allow(clippy::needless_update)]
    let config = EncoderConfig {
        profile: options.profile,
        level_idc: options.level,
        tensor_hashes: options.tensor_hashes,
        metadata: options.metadata.clone(),
        threads: crate::io::threads(options.threads),
        ..EncoderConfig::default()
    };
    let mut frames: BTreeMap<u32, Vec<LayerInput<'_>>> = BTreeMap::new();
    for (layer, input) in layers.iter().zip(&inputs) {
        if let Some(f) = layer.frame {
            frames.entry(f).or_default().push(input.clone());
        }
    }
    if frames.is_empty() {
        if options.lossy.target_bitrate.is_some() {
            bail!("--target-bitrate applies to sequences (a directory of frame_NN/ folders)");
        }
        return Ok(encode_stream(&inputs, &config)?);
    }
    let frames: Vec<FrameInput<'_>> = frames
        .into_iter()
        .map(|(frame_index, layers)| FrameInput {
            frame_index,
            layers,
        })
        .collect();
    let sequence = SequenceOptions {
        prediction: Prediction::from_name(&options.lossy.prediction).unwrap_or(Prediction::Auto),
        rap_period: options.rap_period,
        bits_per_frame: options.lossy.bits_per_frame()?,
    };
    Ok(encode_sequence(&frames, &config, &sequence)?)
}

pub fn run(args: Args, verbosity: crate::Verbosity) -> anyhow::Result<()> {
    if args.inputs.iter().filter(|p| is_stdio(p)).count() > 1 {
        bail!("standard input (-) can be read only once");
    }
    let mut manifests = Manifests::default();
    let layers = read_inputs(&args.inputs, &mut manifests)?;
    // The files read are the inputs; a refused output is said before the work.
    let read: Vec<PathBuf> = args
        .inputs
        .iter()
        .cloned()
        .chain(layers.iter().filter_map(|l| match &l.kind_source {
            KindSource::NpyFile(p) => Some(p.clone()),
            KindSource::Safetensors { .. } => None,
        }))
        .collect();
    let outputs = Outputs::new(args.force, &read);
    outputs.check(&args.output)?;
    let names: Vec<&str> = layers.iter().map(|l| l.name.as_str()).collect();
    check_names("--kind", &args.kinds, &names)?;
    let mut tensors = Vec::with_capacity(layers.len());
    for layer in &layers {
        let kind = match args.kinds.iter().rev().find(|(n, _)| *n == layer.name) {
            Some((_, k)) => *k,
            None => kind_of(layer, &mut manifests)?,
        };
        tensors.push(NamedTensor {
            name: layer.name.clone(),
            frame: layer.frame,
            kind,
            element_type: layer.tensor.element_type,
            shape: layer.tensor.shape.clone(),
            data: &layer.tensor.data,
        });
    }
    let source = args
        .inputs
        .iter()
        .map(|p| crate::io::input_name(p))
        .collect::<Vec<_>>()
        .join(", ");
    let options = Options {
        method: args.method,
        method_given: option_given("--method"),
        layer_methods: args.layer_methods,
        lossy: args.lossy,
        profile: args.profile,
        level: args.level,
        tensor_hashes: !args.no_hash,
        metadata: metadata(Some(source), &args.meta),
        threads: args.threads,
        rap_period: args.rap_period,
    };
    let lossy = options.lossy.options()?;
    if !tensors
        .iter()
        .any(|t| matches!(method_of(&options, lossy, t), MethodChoice::Quantized(_)))
    {
        for (given, option) in [
            (option_given("--quantizer"), "--quantizer"),
            (option_given("--channels"), "--channels"),
            (options.lossy.rdo, "--rdo"),
        ] {
            if given {
                bail!("{option} applies to the quantized method, which no layer uses: give a lossy target (--bits, --qp, --target-psnr, --target-bpe) or --method quantized");
            }
        }
    }
    let to_stdout = is_stdio(&args.output);
    let out = if to_stdout {
        "standard output".to_string()
    } else {
        args.output.display().to_string()
    };
    // An encoder error about a layer names the file it came from.
    let stream = encode_tensors(&tensors, &options).map_err(|e| {
        let origin = e
            .downcast_ref::<dfc_encoder::EncodeError>()
            .and_then(|e| e.layer())
            .and_then(|name| layers.iter().find(|l| l.name == name))
            .map_or_else(|| "encoding".to_string(), |l| l.origin.clone());
        e.context(origin)
    })?;
    outputs.write_file(&args.output, &stream)?;
    if !verbosity.quiet {
        let text = summary(&out, &stream, &tensors)?;
        // With the stream on standard output, the summary goes to standard error.
        if to_stdout {
            eprint!("{text}");
        } else {
            print(&text)?;
        }
    }
    Ok(())
}

/// One line per layer (name, shape, type, method, bytes in → bytes out, ratio, and PSNR for
/// lossy layers) and a total.
fn summary(out: &str, stream: &[u8], inputs: &[NamedTensor<'_>]) -> anyhow::Result<String> {
    let report = crate::inspect::scan(stream);
    let lossy = report.layers.iter().any(|l| {
        l.methods
            .iter()
            .any(|m| m == CodingMethod::Quantized.name())
    });
    let psnr = if lossy {
        lossy_psnr(stream, inputs)?
    } else {
        HashMap::new()
    };
    let rows: Vec<Vec<String>> = report
        .layers
        .iter()
        .map(|l| {
            vec![
                l.name.clone(),
                shape_text(&l.shape),
                l.element_type.clone(),
                l.methods.join("+"),
                l.decoded_bytes.to_string(),
                l.coded_bytes.to_string(),
                ratio_text(l.decoded_bytes, l.coded_bytes),
                psnr.get(&l.name)
                    .map_or("lossless".to_string(), |p| format!("{p:.2} dB")),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "layer",
            "shape",
            "type",
            "method",
            "bytes in",
            "bytes out",
            "ratio",
            "PSNR",
        ],
        &rows,
        &[false, false, false, false, true, true, true, true],
    );
    let t = &report.totals;
    text.push_str(&format!(
        "total: {} layers, {} -> {} bytes, ratio {}, written to {out} (profile {}, level {})\n",
        t.layers,
        t.decoded_bytes,
        report.file_bytes,
        ratio_text(t.decoded_bytes, report.file_bytes),
        report.profile.as_deref().unwrap_or("?"),
        report.level.as_deref().unwrap_or("?"),
    ));
    Ok(text)
}

/// PSNR over the peak of each lossy layer (the mean over its frames in a sequence), decoding
/// the stream just written.
fn lossy_psnr(stream: &[u8], inputs: &[NamedTensor<'_>]) -> anyhow::Result<HashMap<String, f64>> {
    let mut sums: HashMap<String, (f64, u32)> = HashMap::new();
    let (info, tensors) = dfc_decoder::decode_all(stream)
        .map_err(|e| anyhow::anyhow!("the stream just written does not decode: {e}"))?;
    for t in tensors {
        if t.coding_method != CodingMethod::Quantized {
            continue;
        }
        let layer = &info.layers[usize::from(t.layer_id)];
        let Some(input) = inputs
            .iter()
            .find(|i| i.name == layer.name && i.frame.unwrap_or(0) == t.frame_index)
        else {
            continue;
        };
        let original = dfc_encoder::float_values(&dfc_encoder::TensorRef {
            element_type: input.element_type,
            shape: &input.shape,
            data: input.data,
        })?;
        let decoded = dfc_encoder::float_values(&dfc_encoder::TensorRef {
            element_type: t.element_type,
            shape: &t.shape,
            data: &t.data,
        })?;
        let entry = sums.entry(layer.name.clone()).or_insert((0.0, 0));
        entry.0 += dfc_encoder::distortion(&original, &decoded).psnr;
        entry.1 += 1;
    }
    Ok(sums
        .into_iter()
        .map(|(name, (sum, n))| (name, sum / f64::from(n)))
        .collect())
}
