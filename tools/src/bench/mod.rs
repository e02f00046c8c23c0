//! `dfc bench`: measures every DFC coding method and the published anchors (gzip, zlib, bzip2,
//! LZMA, plus zstd and pcodec) on a feature corpus, tensor by tensor, and reports ratios,
//! timings and throughput as Markdown, JSON, CSV and SVG plots.
//!
//! The pieces: [`corpus`] finds the tensors, [`methods`] is the table of methods (one line to
//! add one), [`bench`] measures, [`report`] makes the tables, [`output`] writes files and
//! [`plots`] draws.

pub mod corpus;
pub mod methods;
pub mod output;
pub mod plots;
pub mod report;

use anyhow::{bail, Context};
use corpus::{Corpus, Entry};
use dfc_decoder::{ElementType, LayerKind};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
pub use methods::{BenchMethod, Counterpart, Encoded, Family, TensorView};
use rayon::prelude::*;
pub use report::Report;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Options of `dfc bench`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// A corpus directory with manifest.json, a plain tree MODEL/IMAGE/LAYER.npy, a manifest
    /// file or a single .npy file.
    pub corpus: PathBuf,
    /// Comma-separated methods (default: all). DFC streams: dfc-raw, dfc-zlib, dfc-gzip,
    /// dfc-bzip2, dfc-lzma, dfc-native, dfc-auto; anchors on the bare bytes: gzip, zlib, bzip2,
    /// lzma, zstd-3, zstd-19, pcodec; groups: all, dfc, anchors.
    #[arg(long, default_value = "all")]
    pub methods: String,
    /// Only these layer kinds (comma-separated: conv, pool, fc, other).
    #[arg(long, value_delimiter = ',')]
    pub kinds: Vec<String>,
    /// Sets the kind of a layer by name, e.g. --kind pool5=pool (repeatable, or comma-separated).
    #[arg(long = "kind", value_name = "LAYER=KIND", value_delimiter = ',')]
    pub kind_overrides: Vec<String>,
    /// Tensors measured in parallel; each measurement stays on one thread.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: u32,
    /// Writes every figure per tensor and method as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Writes every figure per tensor and method as CSV.
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Also writes the Markdown report (always printed to stdout) to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Writes ratio_per_layer.svg and ratio_vs_nonzero.svg into this directory.
    #[arg(long, value_name = "DIR")]
    pub plots: Option<PathBuf>,
    /// Repeats each encode and each decode until this many seconds have passed (at least once)
    /// and reports the mean.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.05)]
    pub min_time: f64,
    /// No progress bar (set by the global -q/--quiet).
    #[arg(skip)]
    pub quiet: bool,
}

/// How [`bench`] runs.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub jobs: usize,
    pub min_time: Duration,
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 1,
            min_time: Duration::from_millis(50),
            progress: false,
        }
    }
}

/// A tensor as measured.
#[derive(Clone, Debug, Serialize)]
pub struct TensorInfo {
    pub model: String,
    pub image: String,
    pub layer: String,
    pub kind: String,
    pub dtype: String,
    pub shape: Vec<u32>,
    pub bytes: u64,
    pub nonzero_rate: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequence: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<u32>,
}

impl TensorInfo {
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.model, self.image, self.layer)
    }
}

/// One tensor × method measurement. Times are the mean of the repetitions, in seconds.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// Index into [`Report::tensors`].
    #[serde(skip)]
    pub tensor: usize,
    #[serde(flatten)]
    pub info: TensorInfo,
    pub method: String,
    /// `None` when the method cannot code the tensor (n/a).
    pub coded_bytes: Option<u64>,
    /// Original bytes / coded bytes.
    pub ratio: Option<f64>,
    pub encode_s: Option<f64>,
    pub decode_s: Option<f64>,
    pub encode_reps: u32,
    pub decode_reps: u32,
    /// Mean CPU time of the measuring thread per encode / decode, where the system reports it;
    /// well below the wall-clock time when other load competed for the cores.
    pub encode_cpu_s: Option<f64>,
    pub decode_cpu_s: Option<f64>,
    /// What `dfc-auto` chose, or why the method does not apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    if !(args.min_time.is_finite() && args.min_time >= 0.0) {
        bail!("--min-time must be a number of seconds >= 0");
    }
    let methods = methods::select(&args.methods)?;
    let mut overrides = BTreeMap::new();
    for o in &args.kind_overrides {
        let Some((layer, kind)) = o.split_once('=') else {
            bail!("--kind {o:?}: expected LAYER=KIND, e.g. pool5=pool");
        };
        overrides.insert(layer.to_string(), kind.to_string());
    }
    let mut corpus = corpus::load(&args.corpus, &overrides)?;
    if !args.kinds.is_empty() {
        for k in &args.kinds {
            if !corpus::KINDS.contains(&k.as_str()) {
                bail!("--kinds: unknown kind {k:?} (conv, pool, fc, other)");
            }
        }
        corpus.retain_kinds(&args.kinds);
        if corpus.entries.is_empty() {
            bail!(
                "no tensor of kind {} in {}",
                args.kinds.join(", "),
                corpus.source
            );
        }
    }
    let options = RunOptions {
        jobs: args.jobs as usize,
        min_time: Duration::from_secs_f64(args.min_time),
        progress: !args.quiet,
    };
    let report = bench(&corpus, &methods, &options)?;
    let markdown = report.to_markdown();
    if let Some(path) = &args.json {
        output::write_atomic(path, output::to_json(&report)?.as_bytes())?;
    }
    if let Some(path) = &args.csv {
        output::write_atomic(path, output::to_csv(&report).as_bytes())?;
    }
    if let Some(path) = &args.markdown {
        output::write_atomic(path, markdown.as_bytes())?;
    }
    if let Some(dir) = &args.plots {
        plots::write_plots(&report, dir)?;
    }
    print!("{markdown}");
    Ok(())
}

/// Measures every method on every tensor of the corpus. A decoded tensor that differs from the
/// original, or a decoder error, is an error naming the tensor and the method.
pub fn bench(
    corpus: &Corpus,
    methods: &[Box<dyn BenchMethod>],
    options: &RunOptions,
) -> anyhow::Result<Report> {
    if methods.is_empty() {
        bail!("no method to measure");
    }
    let total = (corpus.entries.len() * methods.len()) as u64;
    let target = if options.progress && std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} tensor x method [{elapsed}<{eta}] {msg}",
        )
        .expect("valid template"),
    );
    let load_before = load_average();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.max(1))
        .build()
        .context("cannot start the worker threads")?;
    let measured: Vec<(TensorInfo, Vec<Measured>)> = pool.install(|| {
        corpus
            .entries
            .par_iter()
            .map(|entry| bench_tensor(entry, methods, options.min_time, &bar))
            .collect::<anyhow::Result<_>>()
    })?;
    bar.finish_and_clear();
    let load = load_before.zip(load_average());

    let mut tensors = Vec::with_capacity(measured.len());
    let mut rows = Vec::with_capacity(measured.len() * methods.len());
    for (index, (info, results)) in measured.into_iter().enumerate() {
        for (m, r) in methods.iter().zip(results) {
            rows.push(Row {
                tensor: index,
                info: info.clone(),
                method: m.name().to_string(),
                coded_bytes: r.coded_bytes,
                ratio: r.coded_bytes.map(|c| info.bytes as f64 / c as f64),
                encode_s: r.encode_s,
                decode_s: r.decode_s,
                encode_reps: r.encode_reps,
                decode_reps: r.decode_reps,
                encode_cpu_s: r.encode_cpu_s,
                decode_cpu_s: r.decode_cpu_s,
                note: r.note,
            });
        }
        tensors.push(info);
    }
    let mut report = Report::new(corpus, methods, options, tensors, rows);
    report.load_average = load;
    Ok(report)
}

/// What one method made of one tensor.
#[derive(Clone, Debug, Default)]
struct Measured {
    coded_bytes: Option<u64>,
    encode_s: Option<f64>,
    decode_s: Option<f64>,
    encode_reps: u32,
    decode_reps: u32,
    encode_cpu_s: Option<f64>,
    decode_cpu_s: Option<f64>,
    note: Option<String>,
}

fn bench_tensor(
    entry: &Entry,
    methods: &[Box<dyn BenchMethod>],
    min_time: Duration,
    bar: &ProgressBar,
) -> anyhow::Result<(TensorInfo, Vec<Measured>)> {
    let tensor =
        crate::io::npy::read_npy(&entry.path).with_context(|| format!("tensor {}", entry.id()))?;
    if let Some(shape) = &entry.shape {
        if shape != &tensor.shape && !(shape.is_empty() && tensor.shape == [1]) {
            bail!(
                "tensor {}: the manifest gives shape {shape:?}, {} holds {:?}",
                entry.id(),
                entry.path.display(),
                tensor.shape
            );
        }
    }
    let info = TensorInfo {
        model: entry.model.clone(),
        image: entry.image.clone(),
        layer: entry.layer.clone(),
        kind: entry.kind.clone(),
        dtype: tensor.element_type.name().to_string(),
        shape: tensor.shape.clone(),
        bytes: tensor.data.len() as u64,
        nonzero_rate: entry
            .nonzero_rate
            .unwrap_or_else(|| nonzero_rate(tensor.element_type, &tensor.data)),
        sequence: entry.sequence.clone(),
        frame: entry.frame,
    };
    let view = TensorView {
        name: &entry.layer,
        kind: LayerKind::from_name(&entry.kind).unwrap_or(LayerKind::Other),
        element_type: tensor.element_type,
        shape: &tensor.shape,
        data: &tensor.data,
    };
    bar.set_message(entry.id());
    let mut results = Vec::with_capacity(methods.len());
    for m in methods {
        let r = measure(m.as_ref(), &view, min_time)
            .with_context(|| format!("tensor {}, method {}", entry.id(), m.name()))?;
        results.push(r);
        bar.inc(1);
    }
    Ok((info, results))
}

/// Times encode and decode of one tensor with one method and checks the decoded bytes.
fn measure(
    method: &dyn BenchMethod,
    tensor: &TensorView<'_>,
    min_time: Duration,
) -> anyhow::Result<Measured> {
    let mut clock = Clock::default();
    let mut coded: Option<Vec<u8>> = None;
    loop {
        let out = clock
            .time(|| method.encode(tensor))
            .context("encoding failed")?;
        match out {
            Encoded::NotApplicable(reason) => {
                return Ok(Measured {
                    note: Some(format!("n/a: {reason}")),
                    ..Measured::default()
                })
            }
            Encoded::Coded(c) => {
                if coded.is_none() {
                    coded = Some(c);
                }
            }
        }
        if clock.wall >= min_time {
            break;
        }
    }
    let coded = coded.expect("at least one repetition");
    let encode = clock;

    let mut clock = Clock::default();
    loop {
        let out = clock
            .time(|| method.decode(tensor, &coded))
            .context("decoding failed")?;
        check_identical(tensor.data, &out)?;
        if clock.wall >= min_time {
            break;
        }
    }
    Ok(Measured {
        coded_bytes: Some(coded.len() as u64),
        encode_s: Some(encode.mean_wall()),
        decode_s: Some(clock.mean_wall()),
        encode_reps: encode.reps,
        decode_reps: clock.reps,
        encode_cpu_s: encode.mean_cpu(),
        decode_cpu_s: clock.mean_cpu(),
        note: method.note(&coded),
    })
}

/// Wall-clock and thread CPU time summed over repetitions.
#[derive(Clone, Copy, Debug, Default)]
struct Clock {
    wall: Duration,
    cpu: Option<Duration>,
    reps: u32,
}

impl Clock {
    /// Runs `f` once, adding its time; the CPU clock is read outside the wall-clock interval.
    fn time<T>(&mut self, f: impl FnOnce() -> T) -> T {
        let cpu_start = thread_cpu_time();
        let start = Instant::now();
        let out = f();
        let took = start.elapsed();
        let cpu_end = thread_cpu_time();
        self.wall += took;
        self.cpu = match (self.reps, self.cpu, cpu_start, cpu_end) {
            (0, _, Some(a), Some(b)) => Some(b.saturating_sub(a)),
            (_, Some(sum), Some(a), Some(b)) => Some(sum + b.saturating_sub(a)),
            _ => None,
        };
        self.reps += 1;
        out
    }

    fn mean_wall(&self) -> f64 {
        self.wall.as_secs_f64() / f64::from(self.reps.max(1))
    }

    fn mean_cpu(&self) -> Option<f64> {
        self.cpu
            .map(|c| c.as_secs_f64() / f64::from(self.reps.max(1)))
    }
}

/// CPU time the calling thread has used, where the system reports it.
#[cfg(unix)]
pub fn thread_cpu_time() -> Option<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes one timespec through the valid pointer it is given.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0).then(|| Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32))
}

#[cfg(not(unix))]
pub fn thread_cpu_time() -> Option<Duration> {
    None
}

/// The 1-minute load average, where the system reports it (Linux).
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn check_identical(original: &[u8], decoded: &[u8]) -> anyhow::Result<()> {
    if decoded.len() != original.len() {
        bail!(
            "decoded {} bytes, the original tensor has {}",
            decoded.len(),
            original.len()
        );
    }
    if let Some(at) = original.iter().zip(decoded).position(|(a, b)| a != b) {
        bail!(
            "decoded bytes differ from the original at byte {at} of {} (0x{:02x} instead of 0x{:02x})",
            original.len(),
            decoded[at],
            original[at]
        );
    }
    Ok(())
}

/// Share of elements that are not zero (+0 and -0 both count as zero for floating point).
pub fn nonzero_rate(element_type: ElementType, data: &[u8]) -> f64 {
    let size = element_type.size();
    let count = data.len() / size;
    if count == 0 {
        return 0.0;
    }
    let nonzero = match element_type {
        ElementType::Float32 => data
            .chunks_exact(4)
            .filter(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) & 0x7FFF_FFFF != 0)
            .count(),
        ElementType::Float16 | ElementType::BFloat16 => data
            .chunks_exact(2)
            .filter(|b| u16::from_le_bytes([b[0], b[1]]) & 0x7FFF != 0)
            .count(),
        ElementType::Int8 | ElementType::Uint8 => data.iter().filter(|&&b| b != 0).count(),
    };
    nonzero as f64 / count as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_zero_is_zero() {
        let data: Vec<u8> = [0.0f32, -0.0, 1.0, -2.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        assert_eq!(nonzero_rate(ElementType::Float32, &data), 0.5);
        assert_eq!(nonzero_rate(ElementType::Float16, &[0, 0x80, 0, 0x3C]), 0.5);
        assert_eq!(nonzero_rate(ElementType::Int8, &[0, 0x80, 0, 1]), 0.5);
    }

    #[test]
    fn mismatch_names_the_first_differing_byte() {
        assert!(check_identical(&[1, 2, 3], &[1, 2, 3]).is_ok());
        let e = check_identical(&[1, 2, 3], &[1, 9, 3])
            .unwrap_err()
            .to_string();
        assert!(e.contains("byte 1 of 3"), "{e}");
        assert!(check_identical(&[1, 2, 3], &[1, 2]).is_err());
    }
}
