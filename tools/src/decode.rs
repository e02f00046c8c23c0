//! `dfc decode`: a DFC stream into .npy files, one .safetensors file, or standard output.
//! Tensors are written as they are decoded, so memory holds about one decoded tensor plus the
//! references the stream needs (see `--max-memory`).

use crate::inspect::MetadataEntry;
use crate::io::atomic::{is_stdio, Outputs, StagedDir};
use crate::io::names::{frame_dir, layer_path, sequence_tensor_path, tensor_path};
use crate::io::{error_text, input_name, npy, print, safetensors, shape_text, table, StreamError};
use anyhow::{bail, Context};
use dfc_decoder::{
    random_access_points, tensor_sha256, DecodeError, DecodeOptions, DecodedTensor, Decoder,
    LayerInfo, StreamInfo,
};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// Options of `dfc decode`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Output:
  -o DIR                one .npy file per tensor at DIR/<layer name>.npy, subdirectories as
                        the name's / separators say (layer a/b -> DIR/a/b.npy); tensors of
                        frames after the first go under DIR/frame_01/, DIR/frame_02/, ...
                        Sequences (streams with access units) mirror `dfc encode`'s input:
                        layer a/b of frame 3 -> DIR/a/frame_03/b.npy (--layout frames: as
                        other streams, DIR/frame_03/a/b.npy, the conformance protocol's layout)
  -o FILE.safetensors   every tensor in one file, named after its layer (frame_01/<name>
                        for later frames), with the stream's metadata as __metadata__
  -o -                  standard output: one .npy with --layer NAME (a single tensor), else
                        a .safetensors (--format chooses)

The input may be - (standard input); it is read unit by unit. Outputs follow the conventions of
xz and zstd: an existing file is replaced only with --force (keeping its permissions), never an
input, never a device, FIFO or socket; a symbolic link is written through. Every output appears
whole or not at all: a directory is written into a temporary sibling directory and renamed at
the end, so on any error nothing is left behind.

.npy files are exactly what NumPy's np.save writes for the same array: '<f4' float32, '<f2'
float16, '|i1' int8, '|u1' uint8. NumPy has no bfloat16: bfloat16 tensors are written as their
16-bit patterns, '<u2' (in Python: (a.astype('<u4') << 16).view('<f4') gives float32).
In .safetensors, bfloat16 is BF16.

Layer names come from the stream and are refused (error, nothing written) unless they are
plain relative paths: no '..', '.' or empty component, no leading '/', no backslash, no NUL,
no component frame_NN (reserved for frames), not __metadata__, and no layer a.npy/... beside a
layer a.

Memory: about the largest decoded tensor plus the largest unit (at most the input's size, or
the level's MaxUnitSize), plus in sequences up to MaxRefFrames reference tensors per selected
layer (4 bytes per element for quantized levels, plus the tensor for native values).
--max-memory refuses a stream whose layer parameters and level allow more: before decoding, or
for the references of a sequence, once its first tensor is decoded (before anything is
written).

Errors: every message names the unit, its byte offset, the layer and frame where known, the
error class and the requirement. With --keep-going, a unit whose CRC fails or whose payload
does not decode is passed over (spec Annex E), every other tensor is decoded and written, each
failure is reported, and the exit status is 3.

Examples:
  dfc decode features.dfc -o features/
  dfc decode features.dfc -o features.safetensors
  dfc decode features.dfc -o out/ --layer pool4 --layer fc_logits --json
  cat features.dfc | dfc decode - -o - --layer pool4 > pool4.npy
  dfc decode damaged.dfc -o out/ --keep-going
  dfc decode video.dfc -o out/ --start-frame 5      (from the random-access point at or before 5)")]
pub struct Args {
    /// The stream to decode, e.g. features.dfc, or - for standard input.
    #[arg(value_name = "IN.dfc")]
    pub input: PathBuf,

    /// Output directory for .npy files (created if missing), a file ending in .safetensors, or
    /// - for standard output. Example: -o out/ or -o out.safetensors
    #[arg(short, long, value_name = "OUTDIR|OUT.safetensors|-")]
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
    /// before it are not decoded); says which one. Example: --start-frame 5
    #[arg(long = "start-frame", value_name = "N")]
    pub start_frame: Option<u32>,

    /// Threads for decoding the native method's slices (0: one per CPU).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,

    /// Replace existing output files (keeping their permissions).
    #[arg(short, long)]
    pub force: bool,

    /// Pass over damaged units (CRC errors, payloads that do not decode), decode and write
    /// everything else, report each failure, and exit with status 3.
    #[arg(long)]
    pub keep_going: bool,

    /// Refuse, before decoding, a stream that could need more than BYTES of memory for its
    /// tensors, units and references (K, M, G suffixes: powers of 1024). Example: 512M
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes)]
    pub max_memory: Option<u64>,

    /// File layout of a directory output: auto (sequences as dfc encode reads them) or frames
    /// (frame_NN/<layer>.npy for every stream, the conformance protocol's layout).
    #[arg(long, value_name = "LAYOUT", default_value = "auto", value_parser = ["auto", "frames"])]
    pub layout: String,

    /// With -o -: npy (one tensor) or safetensors. Default: npy with one --layer, else
    /// safetensors.
    #[arg(long, value_name = "FORMAT", value_parser = ["npy", "safetensors"])]
    pub format: Option<String>,
}

/// `512`, `64K`, `512M`, `2G` (powers of 1024).
fn parse_bytes(s: &str) -> Result<u64, String> {
    let (digits, unit) = match s.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&s[..i], c.to_ascii_uppercase()),
        _ => (s, 'B'),
    };
    let shift = match unit {
        'B' => 0,
        'K' => 10,
        'M' => 20,
        'G' => 30,
        'T' => 40,
        _ => return Err(format!("{s:?}: the suffix is one of K, M, G, T")),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| format!("{s:?} is not a byte count like 4096, 512M or 2G"))
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
    /// With --keep-going: every failure passed over, as printed on standard error.
    pub failures: Vec<String>,
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

/// Where the decoded tensors go.
enum Sink {
    Dir(StagedDir),
    /// A .safetensors file (or standard output) being assembled.
    Safetensors(SafetensorsSpool),
    /// One .npy on standard output.
    Npy(Option<DecodedTensor>),
}

/// The tensor data of a .safetensors output, spooled to an anonymous temporary file as it is
/// decoded; the header (which lists every tensor) is written first at the end, then the data.
struct SafetensorsSpool {
    spool: std::io::BufWriter<std::fs::File>,
    len: usize,
    tensors: Vec<(String, ::safetensors::tensor::TensorInfo)>,
    names: HashSet<String>,
}

impl SafetensorsSpool {
    fn new(dir: &Path) -> anyhow::Result<Self> {
        let file = tempfile::tempfile_in(dir)
            .with_context(|| format!("cannot create a temporary file in {}", dir.display()))?;
        Ok(SafetensorsSpool {
            spool: std::io::BufWriter::with_capacity(1 << 20, file),
            len: 0,
            tensors: Vec::new(),
            names: HashSet::new(),
        })
    }

    fn add(&mut self, name: String, t: &DecodedTensor) -> anyhow::Result<()> {
        if !self.names.insert(name.clone()) {
            bail!("two tensors would be named {name:?} in the .safetensors output");
        }
        self.spool
            .write_all(&t.data)
            .context("writing a temporary file")?;
        let start = self.len;
        self.len += t.data.len();
        self.tensors.push((
            name,
            ::safetensors::tensor::TensorInfo {
                dtype: safetensors::dtype_of(t.element_type),
                shape: t.shape.iter().map(|&d| d as usize).collect(),
                data_offsets: (start, self.len),
            },
        ));
        Ok(())
    }

    /// Writes the file: 8-byte header size, JSON header padded to 8 bytes, data.
    fn finish(
        self,
        outputs: &Outputs,
        path: &Path,
        metadata: &[(String, String)],
    ) -> anyhow::Result<()> {
        // Later entries win, as later metadata units would.
        let metadata: HashMap<String, String> = metadata.iter().cloned().collect();
        let header = ::safetensors::tensor::Metadata::new(
            (!metadata.is_empty()).then_some(metadata),
            self.tensors,
        )
        .map_err(|e| anyhow::anyhow!("cannot build the .safetensors header: {e:?}"))?;
        let mut header = serde_json::to_string(&header)
            .context("cannot build the .safetensors header")?
            .into_bytes();
        header.resize(header.len().next_multiple_of(8), b' ');
        let mut spool = self
            .spool
            .into_inner()
            .map_err(|e| anyhow::Error::new(e.into_error()).context("writing a temporary file"))?;
        spool.rewind().context("reading a temporary file")?;
        outputs.write_file_with(path, |w| {
            w.write_all(&(header.len() as u64).to_le_bytes())?;
            w.write_all(&header)?;
            let copied = std::io::copy(&mut spool, w)?;
            debug_assert_eq!(copied, self.len as u64);
            Ok(())
        })
    }
}

/// The bound on memory stated in the help: the largest tensor of the selected layers, the
/// largest unit the level allows (at most the input's size, when known), and MaxRefFrames
/// reference tensors per selected layer (levels of 4 bytes per element, and values).
fn memory_bound(
    info: &StreamInfo,
    selected: &[&LayerInfo],
    input_len: Option<u64>,
    sequence: bool,
) -> u64 {
    let largest = selected.iter().map(|l| l.byte_len()).max().unwrap_or(0);
    let unit = u64::from(info.level.max_unit_size).min(input_len.unwrap_or(u64::MAX));
    // Reference lists are only filled in streams with access units (clause 8.7).
    let refs: u64 = if sequence {
        selected
            .iter()
            .map(|l| u64::from(info.level.max_ref_frames) * (l.byte_len() + 4 * l.element_count()))
            .sum()
    } else {
        0
    };
    largest.saturating_add(unit).saturating_add(refs)
}

/// Refuses a bound above `--max-memory`.
fn check_memory(input: &str, bound: u64, max: Option<u64>, what: &str) -> anyhow::Result<()> {
    match max {
        Some(max) if bound > max => bail!(
            "{input}: decoding could need {bound} bytes of memory ({what}), above --max-memory {max}"
        ),
        _ => Ok(()),
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

pub fn run(args: Args, verbosity: crate::Verbosity) -> anyhow::Result<bool> {
    let input = input_name(&args.input);
    let to_stdout = is_stdio(&args.output);
    if to_stdout && args.json {
        bail!("--json and -o - would both write to standard output");
    }
    if args.format.is_some() && !to_stdout {
        bail!("--format is for -o - (the file name's extension chooses otherwise)");
    }
    let outputs = Outputs::new(args.force, std::slice::from_ref(&args.input));
    let stream_error = |e| anyhow::Error::new(StreamError(e)).context(input.clone());
    // A random-access point is located in the stream held in memory; otherwise the stream is
    // read unit by unit.
    // (frame asked for, random-access frame decoding starts at)
    type Start = Option<(u32, u32)>;
    let (reader, input_len, start): (Box<dyn Read>, Option<u64>, Start) = match args.start_frame {
        Some(n) => {
            let bytes = crate::io::read_input(&args.input)?;
            let (_, p) = start_point(&bytes, Some(n)).with_context(|| input.clone())?;
            let p = p.expect("a start point for a start frame");
            let len = bytes.len() as u64;
            (
                Box::new(std::io::Cursor::new(bytes)),
                Some(len),
                Some((n, p)),
            )
        }
        None => {
            let len = (!is_stdio(&args.input))
                .then(|| std::fs::metadata(&args.input).ok().map(|m| m.len()))
                .flatten();
            (crate::io::open_input(&args.input)?, len, None)
        }
    };
    if let Some((n, p)) = start {
        if !verbosity.quiet && (p != n || verbosity.verbose > 0) {
            eprintln!(
                "dfc: {input}: starting at the random-access point of frame {p}{}",
                if p == n {
                    String::new()
                } else {
                    format!(
                        " (the last one at or before frame {n}); frames {p} to {} are decoded too",
                        n - 1
                    )
                }
            );
        }
    }
    let options = DecodeOptions {
        skip_damaged_units: args.keep_going,
        ..options(args.threads, start.map(|(_, p)| p))
    };
    let mut decoder = Decoder::with_options(reader, options);
    let info = decoder.info().map_err(stream_error)?.clone();

    let selected: Vec<&LayerInfo> = if args.layers.is_empty() {
        info.layers.iter().collect()
    } else {
        let ids = layer_ids(&info, &args.layers).with_context(|| input.clone())?;
        decoder.select_layers(ids.iter().copied());
        info.layers.iter().filter(|l| ids.contains(&l.id)).collect()
    };
    // Refuse hostile or colliding names, and a stream beyond --max-memory, before anything
    // is decoded or written.
    for layer in &selected {
        layer_path(&layer.name)
            .with_context(|| format!("{input}: layer {} {:?}", layer.id, layer.name))?;
    }
    let names: Vec<&str> = selected.iter().map(|l| l.name.as_str()).collect();
    if let Some((a, b)) = dfc_decoder::names::output_collision(&names, "npy") {
        bail!("{input}: layers {a:?} and {b:?} cannot both be written: the file {a}.npy would be where {b} needs a directory");
    }
    let bound = memory_bound(&info, &selected, input_len, false);
    check_memory(
        &input,
        bound,
        args.max_memory,
        "the largest tensor and the largest unit",
    )?;
    if verbosity.verbose > 0 {
        eprintln!(
            "dfc: {input}: {} layer(s) selected, memory bound {bound} bytes",
            selected.len()
        );
    }

    let format = if to_stdout {
        args.format.clone().unwrap_or_else(|| {
            if args.layers.len() == 1 {
                "npy"
            } else {
                "safetensors"
            }
            .into()
        })
    } else if args
        .output
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("safetensors"))
    {
        "safetensors".to_string()
    } else {
        "dir".to_string()
    };
    let mut sink = match format.as_str() {
        "npy" => Sink::Npy(None),
        "safetensors" => {
            let dir = if to_stdout {
                std::env::temp_dir()
            } else {
                let parent = args.output.parent().unwrap_or(Path::new(""));
                if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                }
            };
            // The output is checked now, so that a refused one costs no decoding.
            outputs.check(&args.output)?;
            Sink::Safetensors(SafetensorsSpool::new(&dir)?)
        }
        _ => Sink::Dir(outputs.directory(&args.output)?),
    };
    let mut summaries = Vec::new();
    let mut failures: Vec<DecodeError> = Vec::new();
    let mut sequence = None;
    loop {
        let t = match decoder.next_tensor() {
            Ok(Some(t)) => t,
            Ok(None) => break,
            Err(e) if args.keep_going => {
                failures.push(e);
                break;
            }
            Err(e) => return Err(stream_error(e)),
        };
        let layer = &info.layers[usize::from(t.layer_id)];
        // A stream with access units is a sequence (known once its first tensor is decoded,
        // before it is written); it also keeps reference tensors.
        let sequence = *sequence.get_or_insert_with(|| decoder.current_frame().is_some());
        if sequence && summaries.is_empty() {
            let bound = memory_bound(&info, &selected, input_len, true);
            check_memory(
                &input,
                bound,
                args.max_memory,
                "the largest tensor, the largest unit and MaxRefFrames reference tensors per layer",
            )?;
        }
        let sequence_layout = sequence && args.layout == "auto";
        let output = match &mut sink {
            Sink::Dir(staged) => {
                let relative = if sequence_layout {
                    sequence_tensor_path(&layer.name, t.frame_index, "npy")?
                } else {
                    tensor_path(&layer.name, t.frame_index, "npy")?
                };
                let path = staged.add(&relative, |w| {
                    npy::write_npy_to(w, t.element_type, &t.shape, &t.data)
                })?;
                path.display().to_string()
            }
            Sink::Safetensors(spool) => {
                let name = if t.frame_index == 0 && !sequence_layout {
                    layer.name.clone()
                } else if sequence_layout {
                    let frame = frame_dir(t.frame_index);
                    match layer.name.rsplit_once('/') {
                        Some((dir, base)) => format!("{dir}/{frame}/{base}"),
                        None => format!("{frame}/{}", layer.name),
                    }
                } else {
                    format!("{}/{}", frame_dir(t.frame_index), layer.name)
                };
                spool.add(name.clone(), &t).with_context(|| input.clone())?;
                name
            }
            Sink::Npy(one) => {
                if one.is_some() {
                    bail!("{input}: more than one tensor to write as one .npy on standard output (layer {} frame {}); use --format safetensors", layer.name, t.frame_index);
                }
                "standard output".to_string()
            }
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
            output,
        });
        if let Sink::Npy(one) = &mut sink {
            *one = Some(t);
        }
    }
    failures.splice(0..0, decoder.take_damage());
    if let Some((n, _)) = start {
        // The decoder has read every frame_header unit from the start point on.
        if let Some(last) = decoder.current_frame().filter(|&l| n > l) {
            if failures.is_empty() {
                bail!("{input}: frame {n} is beyond the stream (its last frame is {last})");
            }
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

    match sink {
        Sink::Dir(staged) => staged.commit()?,
        Sink::Safetensors(spool) => spool.finish(&outputs, &args.output, &metadata)?,
        Sink::Npy(Some(t)) => outputs.write_file_with(&args.output, |w| {
            npy::write_npy_to(w, t.element_type, &t.shape, &t.data)
        })?,
        Sink::Npy(None) if failures.is_empty() => {
            bail!("{input}: no tensor to write (the selected layer has no feature data)")
        }
        Sink::Npy(None) => {}
    }

    let failure_lines: Vec<String> = failures.iter().map(error_text).collect();
    for line in &failure_lines {
        eprintln!("dfc: {input}: {line}");
    }
    let summary = Summary {
        input: input.clone(),
        output: if to_stdout {
            "standard output".to_string()
        } else {
            args.output.display().to_string()
        },
        profile: info.profile.to_string(),
        level: info.level.name(),
        metadata: metadata
            .into_iter()
            .map(|(key, value)| MetadataEntry { key, value })
            .collect(),
        hash_verified: !summaries.is_empty() && summaries.iter().all(|s| s.hash_verified),
        tensors: summaries,
        failures: failure_lines,
    };
    if args.json {
        let mut text = serde_json::to_string_pretty(&summary).context("building JSON")?;
        text.push('\n');
        print(&text)?;
    } else if !verbosity.quiet {
        let text = summary_text(&summary);
        if to_stdout {
            if verbosity.verbose > 0 {
                eprint!("{text}");
            }
        } else {
            print(&text)?;
        }
    }
    if !failures.is_empty() {
        eprintln!(
            "dfc: {input}: damaged stream: {} failure(s) passed over, {} tensor(s) written",
            failures.len(),
            summary.tensors.len()
        );
    }
    Ok(failures.is_empty())
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
