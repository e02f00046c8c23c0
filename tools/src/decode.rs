//! `dfc decode`: a DFC stream into .npy files or one .safetensors file.

use crate::inspect::MetadataEntry;
use crate::io::atomic::{write_file, Staged};
use crate::io::names::{layer_path, sequence_tensor_path, tensor_path};
use crate::io::{npy, print, safetensors, shape_text, table, StreamError, Tensor};
use anyhow::{bail, Context};
use dfc_decoder::{
    random_access_points, tensor_sha256, DecodeOptions, DecodedTensor, Decoder, LayerInfo,
    StreamInfo,
};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Options of `dfc decode`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Output:
  -o DIR                one .npy file per tensor at DIR/<layer name>.npy, subdirectories as
                        the name's / separators say (layer a/b -> DIR/a/b.npy); tensors of
                        frames after the first go under DIR/frame_01/, DIR/frame_02/, ...
                        Sequences (streams with access units) mirror `dfc encode`'s input:
                        layer a/b of frame 3 -> DIR/a/frame_03/b.npy
  -o FILE.safetensors   every tensor in one file, named after its layer (frame_01/<name>
                        for later frames), with the stream's metadata as __metadata__

.npy files are exactly what NumPy's np.save writes for the same array: '<f4' float32, '<f2'
float16, '|i1' int8, '|u1' uint8. NumPy has no bfloat16: bfloat16 tensors are written as their
16-bit patterns, '<u2' (in Python: (a.astype('<u4') << 16).view('<f4') gives float32).
In .safetensors, bfloat16 is BF16.

Layer names come from the stream and are refused (error, nothing written) unless they are
plain relative paths: no '..', '.' or empty component, no leading '/', no backslash, no NUL.
Every file is written whole or not at all: on any error nothing is left behind.

Examples:
  dfc decode features.dfc -o features/
  dfc decode features.dfc -o features.safetensors
  dfc decode features.dfc -o out/ --layer pool4 --layer fc_logits --json
  dfc decode video.dfc -o out/ --start-frame 5      (from the random-access point at or before 5)")]
pub struct Args {
    /// The stream to decode, e.g. features.dfc.
    #[arg(value_name = "IN.dfc")]
    pub input: PathBuf,

    /// Output directory for .npy files (created if missing), or a file ending in
    /// .safetensors. Example: -o out/ or -o out.safetensors
    #[arg(short, long, value_name = "OUTDIR|OUT.safetensors")]
    pub output: PathBuf,

    /// Decode only this layer (by name); repeatable. The other layers' payloads are not
    /// decompressed. Example: --layer hed_vgg16/astronaut/pool4
    #[arg(long = "layer", value_name = "NAME")]
    pub layers: Vec<String>,

    /// Print a JSON summary: layers, shapes, types, methods, the SHA-256 of each tensor's
    /// canonical bytes, and whether the stream's hash confirmed it.
    #[arg(long)]
    pub json: bool,

    /// Sequences: decode from the last random-access point at or before frame N (the frames
    /// before it are not decoded). Example: --start-frame 5
    #[arg(long = "start-frame", value_name = "N")]
    pub start_frame: Option<u32>,

    /// Threads for decoding the native method's slices (0: one per CPU).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Print nothing on success (except --json output).
    #[arg(short, long)]
    pub quiet: bool,
}

/// The JSON summary of `dfc decode --json`.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub input: String,
    pub output: String,
    pub profile: String,
    pub level: String,
    pub metadata: Vec<MetadataEntry>,
    pub tensors: Vec<TensorSummary>,
    /// Whether every decoded tensor was confirmed by a tensor_hash unit.
    pub hash_verified: bool,
}

#[derive(Debug, Serialize)]
pub struct TensorSummary {
    pub layer_id: u16,
    pub name: String,
    pub frame_index: u32,
    pub kind: String,
    pub element_type: String,
    pub shape: Vec<u32>,
    pub method: String,
    pub coded_bytes: usize,
    pub decoded_bytes: usize,
    /// SHA-256 of the canonical bytes (little-endian elements, C order).
    pub sha256: String,
    pub hash_verified: bool,
    /// The .npy file written, or the tensor's name in the .safetensors file.
    pub output: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Name of a tensor inside a .safetensors output.
fn safetensors_name(layer: &str, frame_index: u32) -> String {
    if frame_index == 0 {
        layer.to_string()
    } else {
        format!("{}/{layer}", crate::io::names::frame_dir(frame_index))
    }
}

/// Whether `stream` is a sequence (it has random-access points), and the frame decoding starts
/// at for `--start-frame N`: the last random-access point at or before N (clause 8.6).
pub fn start_point(stream: &[u8], start_frame: Option<u32>) -> anyhow::Result<(bool, Option<u32>)> {
    // A damaged stream is reported by the decoder, unless the start frame is needed here.
    let points = match start_frame {
        Some(_) => random_access_points(stream).map_err(StreamError)?,
        None => random_access_points(stream).unwrap_or_default(),
    };
    let start = match start_frame {
        None => None,
        Some(n) => match points.iter().copied().filter(|&p| p <= n).max() {
            Some(p) => Some(p),
            None if points.is_empty() => {
                bail!("--start-frame needs a sequence with random-access points")
            }
            None => bail!(
                "no random-access point at or before frame {n} (random-access frames: {points:?})"
            ),
        },
    };
    Ok((!points.is_empty(), start))
}

/// The decoder's options for `--threads` (0: one per CPU) and a random-access start frame.
pub fn options(threads: usize, start_frame: Option<u32>) -> DecodeOptions {
    DecodeOptions {
        threads: crate::io::threads(threads),
        start_frame,
        ..DecodeOptions::default()
    }
}

/// A whole stream held in memory decoded as `dfc decode` decodes it (from the random-access
/// point of `start_frame`, only the `layers` named), without writing anything: whether it is a
/// sequence, what it declares, and every tensor in stream order.
pub fn decode_tensors(
    stream: &[u8],
    layers: &[String],
    start_frame: Option<u32>,
    threads: usize,
) -> anyhow::Result<(bool, StreamInfo, Vec<DecodedTensor>)> {
    let (sequence, start_frame) = start_point(stream, start_frame)?;
    let mut decoder = Decoder::with_options(stream, options(threads, start_frame));
    let info = decoder.info().map_err(StreamError)?.clone();
    if !layers.is_empty() {
        decoder.select_layers(layer_ids(&info, layers)?);
    }
    let tensors = decoder.decode_to_end().map_err(StreamError)?;
    let info = decoder.info().map_err(StreamError)?.clone();
    Ok((sequence, info, tensors))
}

/// The ids of the layers `--layer` names.
pub fn layer_ids(info: &StreamInfo, names: &[String]) -> anyhow::Result<BTreeSet<u16>> {
    names
        .iter()
        .map(|name| match info.layer_by_name(name) {
            Some(l) => Ok(l.id),
            None => {
                let names: Vec<&str> = info.layers.iter().map(|l| l.name.as_str()).collect();
                bail!("there is no layer {name:?} (layers: {})", names.join(", "))
            }
        })
        .collect()
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let input = args.input.display().to_string();
    let bytes = std::fs::read(&args.input).with_context(|| format!("cannot open {input}"))?;
    let stream_error = |e| anyhow::Error::new(StreamError(e)).context(input.clone());
    let (sequence, start_frame) =
        start_point(&bytes, args.start_frame).with_context(|| input.clone())?;
    let mut decoder = Decoder::with_options(&bytes[..], options(args.threads, start_frame));
    let info = decoder.info().map_err(stream_error)?.clone();

    let selected: Vec<&LayerInfo> = if args.layers.is_empty() {
        info.layers.iter().collect()
    } else {
        let ids = layer_ids(&info, &args.layers).with_context(|| input.clone())?;
        decoder.select_layers(ids.iter().copied());
        info.layers.iter().filter(|l| ids.contains(&l.id)).collect()
    };
    // Refuse hostile names before anything is decoded or written.
    for layer in &selected {
        layer_path(&layer.name).with_context(|| format!("{input}: layer {}", layer.id))?;
    }

    let to_safetensors = args
        .output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"));
    let mut staged = if to_safetensors {
        None
    } else {
        Some(Staged::new(&args.output)?)
    };
    let mut in_memory: Vec<(String, Tensor)> = Vec::new();
    let mut summaries = Vec::new();
    while let Some(t) = decoder.next_tensor().map_err(stream_error)? {
        let layer = &info.layers[usize::from(t.layer_id)];
        let output = if let Some(staged) = staged.as_mut() {
            let relative = if sequence {
                sequence_tensor_path(&layer.name, t.frame_index, "npy")?
            } else {
                tensor_path(&layer.name, t.frame_index, "npy")?
            };
            let path = staged.add(&relative, |w| {
                npy::write_npy_to(w, t.element_type, &t.shape, &t.data)
            })?;
            path.display().to_string()
        } else if sequence {
            let frame = crate::io::names::frame_dir(t.frame_index);
            match layer.name.rsplit_once('/') {
                Some((dir, base)) => format!("{dir}/{frame}/{base}"),
                None => format!("{frame}/{}", layer.name),
            }
        } else {
            safetensors_name(&layer.name, t.frame_index)
        };
        summaries.push(TensorSummary {
            layer_id: t.layer_id,
            name: layer.name.clone(),
            frame_index: t.frame_index,
            kind: layer.kind.to_string(),
            element_type: t.element_type.to_string(),
            shape: t.shape.clone(),
            method: t.coding_method.to_string(),
            coded_bytes: t.coded_len,
            decoded_bytes: t.data.len(),
            sha256: if args.json {
                hex(&tensor_sha256(&t.data))
            } else {
                String::new()
            },
            hash_verified: t.hash_verified,
            output: output.clone(),
        });
        if staged.is_none() {
            in_memory.push((
                output,
                Tensor {
                    element_type: t.element_type,
                    shape: t.shape,
                    data: t.data,
                },
            ));
        }
    }
    let metadata: Vec<(String, String)> = decoder
        .info()
        .map_err(stream_error)?
        .metadata
        .iter()
        .flatten()
        .cloned()
        .collect();

    match staged {
        Some(staged) => {
            staged.commit()?;
        }
        None => write_safetensors(&args.output, &in_memory, &metadata)?,
    }

    let summary = Summary {
        input: input.clone(),
        output: args.output.display().to_string(),
        profile: info.profile.to_string(),
        level: info.level.name(),
        metadata: metadata
            .into_iter()
            .map(|(key, value)| MetadataEntry { key, value })
            .collect(),
        hash_verified: !summaries.is_empty() && summaries.iter().all(|s| s.hash_verified),
        tensors: summaries,
    };
    if args.json {
        let mut text = serde_json::to_string_pretty(&summary).context("building JSON")?;
        text.push('\n');
        print(&text)?;
    } else if !args.quiet {
        print(&summary_text(&summary))?;
    }
    Ok(())
}

fn write_safetensors(
    path: &Path,
    tensors: &[(String, Tensor)],
    metadata: &[(String, String)],
) -> anyhow::Result<()> {
    let refs: Vec<(String, &Tensor)> = tensors.iter().map(|(n, t)| (n.clone(), t)).collect();
    // Later entries win, as later metadata units would.
    let metadata: HashMap<String, String> = metadata.iter().cloned().collect();
    let bytes = safetensors::to_safetensors_bytes(&refs, metadata)
        .with_context(|| path.display().to_string())?;
    write_file(path, &bytes)
}

fn summary_text(s: &Summary) -> String {
    let rows: Vec<Vec<String>> = s
        .tensors
        .iter()
        .map(|t| {
            vec![
                t.output.clone(),
                shape_text(&t.shape),
                t.element_type.clone(),
                t.method.clone(),
                if t.hash_verified {
                    "verified"
                } else {
                    "no hash"
                }
                .to_string(),
            ]
        })
        .collect();
    let mut text = table(
        &["output", "shape", "type", "method", "sha-256"],
        &rows,
        &[false; 5],
    );
    text.push_str(&format!(
        "decoded {} tensor{} from {} into {}\n",
        s.tensors.len(),
        if s.tensors.len() == 1 { "" } else { "s" },
        s.input,
        s.output
    ));
    text
}
