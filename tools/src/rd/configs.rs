//! The configurations `dfc rd` sweeps, each with its operating points. A configuration codes a
//! float32 tensor at one operating point and returns the coded size and the reconstruction.

use super::uniform::{quantize, Quantized, BITS};
use anyhow::{bail, ensure, Context};
use std::collections::BTreeMap;
use std::io::{Read, Write};

/// A float32 tensor as the configurations see it.
#[derive(Clone, Copy, Debug)]
pub struct TensorData<'a> {
    pub shape: &'a [u32],
    pub values: &'a [f32],
    /// Canonical bytes: the values as little-endian float32, C order.
    pub bytes: &'a [u8],
    /// No element has its sign bit set.
    pub non_negative: bool,
}

/// What a configuration made of a tensor at one operating point.
#[derive(Clone, Debug, PartialEq)]
pub struct Coded {
    /// The rate: bytes a receiver needs to reconstruct the tensor.
    pub bytes: u64,
    pub reconstruction: Vec<f32>,
}

/// A configuration under test. Implementations must be deterministic.
pub trait Config: Send + Sync {
    /// Name on the command line and in every output.
    fn name(&self) -> &str;
    /// What is coded and how the rate is counted, for the report header.
    fn settings(&self) -> String;
    /// The operating-point parameter's name, e.g. `b` (bits) or `qp`.
    fn parameter(&self) -> &'static str;
    fn default_points(&self) -> Vec<i32>;
    /// An error unless `point` is a valid operating point.
    fn check_point(&self, point: i32) -> anyhow::Result<()>;
    /// Codes `tensor` at `point` and reconstructs it (decoding the coded bytes where there are
    /// any, so that the rate is that of a working coder).
    fn code(&self, tensor: &TensorData<'_>, point: i32) -> anyhow::Result<Coded>;
}

/// How the uniform baselines code their levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LevelCoder {
    /// zstd at its highest level.
    Zstd,
    /// LZMA preset 9 (.lzma format).
    Lzma,
    /// The ideal order-0 entropy of the levels, no coder.
    Order0,
}

/// zstd's highest ("ultra") level.
pub const ZSTD_LEVEL: i32 = 22;
/// LZMA's highest preset (without the extreme flag).
pub const LZMA_PRESET: u32 = 9;

/// Uniform quantization of [min, max] to b bits, then a level coder.
pub struct Uniform {
    name: &'static str,
    coder: LevelCoder,
}

impl Uniform {
    pub fn new(coder: LevelCoder) -> Self {
        let name = match coder {
            LevelCoder::Zstd => "uniform-zstd",
            LevelCoder::Lzma => "uniform-lzma",
            LevelCoder::Order0 => "uniform-order0",
        };
        Uniform { name, coder }
    }
}

impl Config for Uniform {
    fn name(&self) -> &str {
        self.name
    }

    fn settings(&self) -> String {
        let coder = match self.coder {
            LevelCoder::Zstd => format!(
                "zstd level {ZSTD_LEVEL} (libzstd {}, one frame)",
                zstd::zstd_safe::version_string()
            ),
            LevelCoder::Lzma => format!(
                "LZMA preset {LZMA_PRESET} (.lzma format, liblzma; dictionary the smallest power of two holding the levels)"
            ),
            LevelCoder::Order0 => {
                "ideal order-0 entropy of the levels (Σ −log2 p, p the level's frequency in the tensor; no table), rounded up to whole bytes".into()
            }
        };
        format!(
            "levels round((x − min) / (max − min) · (2^b − 1)) as u8 (b ≤ 8) or u16 LE; {coder}; rate + 8 bytes for min and max"
        )
    }

    fn parameter(&self) -> &'static str {
        "b"
    }

    fn default_points(&self) -> Vec<i32> {
        (2..=10).collect()
    }

    fn check_point(&self, point: i32) -> anyhow::Result<()> {
        let ok = u32::try_from(point).is_ok_and(|b| BITS.contains(&b));
        ensure!(
            ok,
            "{}: b={point} is not a number of bits in {}..={}",
            self.name,
            BITS.start(),
            BITS.end()
        );
        Ok(())
    }

    fn code(&self, tensor: &TensorData<'_>, point: i32) -> anyhow::Result<Coded> {
        self.check_point(point)?;
        let q = quantize(tensor.values, point as u32);
        let payload = match self.coder {
            LevelCoder::Order0 => (q.order0_bits() / 8.0).ceil() as u64,
            LevelCoder::Zstd | LevelCoder::Lzma => {
                let raw = q.level_bytes();
                let coded = self.compress(&raw)?;
                let back = self.decompress(&coded, raw.len())?;
                ensure!(
                    Quantized::levels_from_bytes(q.bits, &back) == q.levels,
                    "the decompressed levels differ from the coded ones"
                );
                coded.len() as u64
            }
        };
        Ok(Coded {
            bytes: payload + Quantized::SIDE_BYTES,
            reconstruction: q.reconstruct(),
        })
    }
}

impl Uniform {
    fn compress(&self, raw: &[u8]) -> anyhow::Result<Vec<u8>> {
        match self.coder {
            LevelCoder::Zstd => {
                zstd::bulk::compress(raw, ZSTD_LEVEL).context("zstd compression failed")
            }
            LevelCoder::Lzma => {
                let mut options =
                    xz2::stream::LzmaOptions::new_preset(LZMA_PRESET).context("LZMA preset 9")?;
                options
                    .dict_size(raw.len().max(1).next_power_of_two().clamp(1 << 12, 1 << 26) as u32);
                let stream = xz2::stream::Stream::new_lzma_encoder(&options)
                    .context("cannot start the LZMA encoder")?;
                let mut e = xz2::write::XzEncoder::new_stream(Vec::new(), stream);
                e.write_all(raw)?;
                e.finish().context("LZMA compression failed")
            }
            LevelCoder::Order0 => Ok(Vec::new()),
        }
    }

    fn decompress(&self, coded: &[u8], len: usize) -> anyhow::Result<Vec<u8>> {
        let out = match self.coder {
            LevelCoder::Zstd => zstd::bulk::decompress(coded, len)?,
            LevelCoder::Lzma => {
                let stream = xz2::stream::Stream::new_lzma_decoder(u64::MAX)
                    .context("cannot start the LZMA decoder")?;
                let mut out = Vec::with_capacity(len);
                xz2::read::XzDecoder::new_stream(coded, stream).read_to_end(&mut out)?;
                out
            }
            LevelCoder::Order0 => Vec::new(),
        };
        Ok(out)
    }
}

/// Every configuration, in table order: the baselines, then DFC's quantized method.
pub fn all() -> Vec<Box<dyn Config>> {
    let mut list: Vec<Box<dyn Config>> = vec![
        Box::new(Uniform::new(LevelCoder::Zstd)),
        Box::new(Uniform::new(LevelCoder::Lzma)),
        Box::new(Uniform::new(LevelCoder::Order0)),
    ];
    list.extend(super::dfc::all());
    list
}

/// Names `--configs` accepts besides the configurations: groups.
pub const GROUPS: &[(&str, &str)] = &[
    ("all", "every configuration"),
    ("baselines", "the uniform-* configurations"),
];

/// The anchor of the BD-rate tables when `--anchor` is not given.
pub const DEFAULT_ANCHOR: &str = "uniform-zstd";

/// A configuration with the operating points to sweep.
pub struct Selected {
    pub config: Box<dyn Config>,
    pub points: Vec<i32>,
}

/// The configurations named in `list` (comma-separated names and groups, in the order given),
/// then the `externals` (`--external`, always swept), with `overrides` (`NAME=P1,P2,...`, or
/// `NAME=FROM..=TO`) replacing their default points. An external codec has no default points.
pub fn select(
    list: &str,
    overrides: &[String],
    externals: Vec<super::external::External>,
) -> anyhow::Result<Vec<Selected>> {
    let mut pool: Vec<Option<Box<dyn Config>>> = all().into_iter().map(Some).collect();
    let known = || {
        all()
            .iter()
            .map(|c| c.name().to_string())
            .chain(GROUPS.iter().map(|g| g.0.to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut chosen: Vec<Box<dyn Config>> = Vec::new();
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let matches: Vec<usize> = match word {
            "all" => (0..pool.len()).collect(),
            "baselines" => (0..pool.len())
                .filter(|&i| {
                    pool[i]
                        .as_ref()
                        .is_some_and(|c| c.name().starts_with("uniform-"))
                })
                .collect(),
            name => {
                let i = all().iter().position(|c| c.name() == name);
                let Some(i) = i else {
                    bail!(
                        "--configs: unknown configuration {name:?} (known: {})",
                        known()
                    );
                };
                vec![i]
            }
        };
        for i in matches {
            if let Some(c) = pool[i].take() {
                chosen.push(c);
            }
        }
    }
    for e in externals {
        ensure!(
            !chosen.iter().any(|c| c.name() == e.name())
                && !all().iter().any(|c| c.name() == e.name()),
            "--external {}: the name is taken by another configuration",
            e.name()
        );
        chosen.push(Box::new(e));
    }
    ensure!(!chosen.is_empty(), "--configs: no configuration named");
    let mut points: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for o in overrides {
        let Some((name, list)) = o.split_once('=') else {
            bail!("--points {o:?}: expected NAME=P1,P2,... e.g. uniform-zstd=4,6,8");
        };
        let Some(config) = chosen.iter().find(|c| c.name() == name) else {
            bail!("--points {o:?}: {name:?} is not among the selected configurations");
        };
        let parsed = parse_points(list).with_context(|| format!("--points {o:?}"))?;
        for &p in &parsed {
            config
                .check_point(p)
                .with_context(|| format!("--points {o:?}"))?;
        }
        points.insert(name.to_string(), parsed);
    }
    chosen
        .into_iter()
        .map(|config| {
            let points = points
                .remove(config.name())
                .unwrap_or_else(|| config.default_points());
            ensure!(
                !points.is_empty(),
                "{} has no default operating points: give them with --points {}=LIST",
                config.name(),
                config.name()
            );
            Ok(Selected { config, points })
        })
        .collect()
}

/// `2,4,8`, `2..=10` or a mix: the operating points in the order given, without repeats.
pub fn parse_points(text: &str) -> anyhow::Result<Vec<i32>> {
    let mut out = Vec::new();
    for part in text.split([',', ' ']).filter(|p| !p.is_empty()) {
        let values: Vec<i32> = if let Some((a, b)) = part.split_once("..=") {
            let a: i32 = a
                .parse()
                .with_context(|| format!("{a:?} is not an integer"))?;
            let b: i32 = b
                .parse()
                .with_context(|| format!("{b:?} is not an integer"))?;
            ensure!(a <= b && b - a <= 1000, "{part:?} is not a range FROM..=TO");
            (a..=b).collect()
        } else {
            vec![part
                .parse()
                .with_context(|| format!("{part:?} is not an integer"))?]
        };
        for v in values {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    ensure!(!out.is_empty(), "no operating point given");
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tensor(values: &[f32]) -> (Vec<u8>, Vec<u32>) {
        (
            values.iter().flat_map(|v| v.to_le_bytes()).collect(),
            vec![values.len() as u32],
        )
    }

    #[test]
    fn points_parse() {
        assert_eq!(parse_points("2,4,8").unwrap(), [2, 4, 8]);
        assert_eq!(parse_points("2..=4,8,3").unwrap(), [2, 3, 4, 8]);
        assert!(parse_points("2,x").is_err());
        assert!(parse_points("").is_err());
        assert!(parse_points("5..=2").is_err());
    }

    #[test]
    fn selection_and_overrides() {
        let s = select(
            "uniform-order0,uniform-zstd",
            &["uniform-zstd=3,5".into()],
            vec![],
        )
        .unwrap();
        let names: Vec<&str> = s.iter().map(|c| c.config.name()).collect();
        assert_eq!(names, ["uniform-order0", "uniform-zstd"]);
        assert_eq!(s[0].points, (2..=10).collect::<Vec<_>>());
        assert_eq!(s[1].points, [3, 5]);
        assert!(select("nope", &[], vec![]).is_err());
        assert!(select("uniform-zstd", &["uniform-lzma=4".into()], vec![]).is_err());
        assert!(select("uniform-zstd", &["uniform-zstd=0".into()], vec![]).is_err());
        assert!(select("uniform-zstd", &["uniform-zstd".into()], vec![]).is_err());
        let baselines = select("baselines", &[], vec![]).unwrap();
        assert_eq!(baselines.len(), 3);
    }

    #[test]
    fn the_coders_agree_on_the_reconstruction() {
        let values: Vec<f32> = (0..5000)
            .map(|i| ((i as f32 * 0.01).sin() * 4.0).max(0.0))
            .collect();
        let (bytes, shape) = tensor(&values);
        let t = TensorData {
            shape: &shape,
            values: &values,
            bytes: &bytes,
            non_negative: true,
        };
        let coded: Vec<Coded> = [LevelCoder::Zstd, LevelCoder::Lzma, LevelCoder::Order0]
            .into_iter()
            .map(|c| Uniform::new(c).code(&t, 6).unwrap())
            .collect();
        assert_eq!(coded[0].reconstruction, coded[1].reconstruction);
        assert_eq!(coded[0].reconstruction, coded[2].reconstruction);
        for c in &coded {
            assert!(c.bytes > 8 && c.bytes < values.len() as u64, "{}", c.bytes);
        }
    }
}
