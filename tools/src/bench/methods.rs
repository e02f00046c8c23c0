//! The methods `dfc bench` measures: DFC coding methods inside complete one-layer streams, and
//! general-purpose anchors on the bare tensor bytes. A new method is one line in [`all`].

use anyhow::{anyhow, bail, Context};
use dfc_decoder::{decode_all, CodingMethod, ElementType, LayerKind};
use dfc_encoder::{
    encode_stream, EncoderConfig, LayerInput, MethodChoice, BZIP2_LEVEL, DEFLATE_LEVEL, LZMA_PRESET,
};
use std::io::{Read, Write};

/// The tensor a method codes.
#[derive(Clone, Copy, Debug)]
pub struct TensorView<'a> {
    /// Layer name (written into the DFC stream).
    pub name: &'a str,
    pub kind: LayerKind,
    pub element_type: ElementType,
    pub shape: &'a [u32],
    /// Canonical bytes: little-endian elements, C order.
    pub data: &'a [u8],
}

/// What a method made of a tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Encoded {
    Coded(Vec<u8>),
    /// The method cannot code this tensor (reported as n/a with the reason).
    NotApplicable(String),
}

/// Which family a method belongs to, for the tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// A DFC coding method: the coded size is a whole DFC stream.
    Dfc,
    /// A general-purpose coder on the bare tensor bytes.
    Anchor,
}

/// What the same coder on bare bytes is, for the container overhead table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counterpart {
    /// The uncoded tensor bytes.
    Bare,
    /// The anchor of this name.
    Method(&'static str),
}

/// A method under test. Implementations must be deterministic and single-threaded.
pub trait BenchMethod: Send + Sync {
    /// Name on the command line and in every output.
    fn name(&self) -> &str;
    fn family(&self) -> Family;
    /// What is coded and with which settings, for the report header.
    fn settings(&self) -> String;
    fn encode(&self, tensor: &TensorView<'_>) -> anyhow::Result<Encoded>;
    /// Decodes `coded` back to the canonical bytes of `tensor` (which the decoder must not
    /// read beyond its shape and type).
    fn decode(&self, tensor: &TensorView<'_>, coded: &[u8]) -> anyhow::Result<Vec<u8>>;
    /// A remark on a coded tensor (e.g. what `dfc-auto` chose); not timed.
    fn note(&self, _coded: &[u8]) -> Option<String> {
        None
    }
    /// The same coder without the DFC container, if the bench measures it.
    fn counterpart(&self) -> Option<Counterpart> {
        None
    }
}

/// Every method, in table order: DFC methods first, then the anchors.
pub fn all() -> Vec<Box<dyn BenchMethod>> {
    vec![
        Box::new(Dfc::new(
            "dfc-raw",
            MethodChoice::Fixed(CodingMethod::Raw),
            Some(Counterpart::Bare),
        )),
        Box::new(Dfc::new(
            "dfc-zlib",
            MethodChoice::Fixed(CodingMethod::Zlib),
            Some(Counterpart::Method("zlib")),
        )),
        Box::new(Dfc::new(
            "dfc-gzip",
            MethodChoice::Fixed(CodingMethod::Gzip),
            Some(Counterpart::Method("gzip")),
        )),
        Box::new(Dfc::new(
            "dfc-bzip2",
            MethodChoice::Fixed(CodingMethod::Bzip2),
            Some(Counterpart::Method("bzip2")),
        )),
        Box::new(Dfc::new(
            "dfc-lzma",
            MethodChoice::Fixed(CodingMethod::Lzma),
            Some(Counterpart::Method("lzma")),
        )),
        Box::new(Dfc::new(
            "dfc-native",
            MethodChoice::Fixed(CodingMethod::Native),
            None,
        )),
        Box::new(Dfc::new("dfc-auto", MethodChoice::Auto, None)),
        Box::new(Gzip),
        Box::new(Zlib),
        Box::new(Bzip2),
        Box::new(Xz),
        Box::new(Zstd::new(3)),
        Box::new(Zstd::new(19)),
        Box::new(Pcodec),
    ]
}

/// Picks methods by a comma-separated list of names; `all`, `dfc` and `anchors` name groups.
pub fn select(list: &str) -> anyhow::Result<Vec<Box<dyn BenchMethod>>> {
    let mut chosen: Vec<Box<dyn BenchMethod>> = Vec::new();
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let matches: Vec<Box<dyn BenchMethod>> = all()
            .into_iter()
            .filter(|m| match word {
                "all" => true,
                "dfc" => m.family() == Family::Dfc,
                "anchors" => m.family() == Family::Anchor,
                name => m.name() == name,
            })
            .collect();
        if matches.is_empty() {
            let names: Vec<String> = all().iter().map(|m| m.name().to_string()).collect();
            bail!(
                "unknown method {word:?}; methods: {} (groups: all, dfc, anchors)",
                names.join(", ")
            );
        }
        for m in matches {
            if !chosen.iter().any(|c| c.name() == m.name()) {
                chosen.push(m);
            }
        }
    }
    if chosen.is_empty() {
        bail!("no method selected");
    }
    Ok(chosen)
}

/// A DFC coding method: the tensor as a complete one-layer stream (identification, sequence
/// header, layer parameters, feature data, SHA-256 tensor hash, end of sequence), decoded by
/// the reference decoder with hash verification.
pub struct Dfc {
    name: &'static str,
    choice: MethodChoice,
    counterpart: Option<Counterpart>,
}

impl Dfc {
    pub fn new(name: &'static str, choice: MethodChoice, counterpart: Option<Counterpart>) -> Self {
        Dfc {
            name,
            choice,
            counterpart,
        }
    }
}

fn method_settings(method: CodingMethod) -> String {
    match method {
        CodingMethod::Raw => "no compression".into(),
        CodingMethod::Zlib => format!("zlib (flate2), level {DEFLATE_LEVEL}"),
        CodingMethod::Gzip => format!("gzip (flate2), level {DEFLATE_LEVEL}, mtime 0"),
        CodingMethod::Bzip2 => format!("bzip2, level {BZIP2_LEVEL} (900 kB blocks)"),
        CodingMethod::Lzma => format!(
            "LZMA (.lzma header, liblzma), preset {LZMA_PRESET}, dictionary fitted to the tensor"
        ),
        CodingMethod::Native => {
            "native feature-aware method (rANS over zero/exponent/mantissa contexts), one thread"
                .into()
        }
        CodingMethod::Quantized => "quantized method (lossy), default options: 8-bit levels".into(),
    }
}

impl BenchMethod for Dfc {
    fn name(&self) -> &str {
        self.name
    }

    fn family(&self) -> Family {
        Family::Dfc
    }

    fn settings(&self) -> String {
        let coder = match self.choice {
            MethodChoice::Fixed(m) => method_settings(m),
            MethodChoice::Auto => {
                "smallest payload of every lossless main-profile method (each at the settings above)"
                    .into()
            }
            MethodChoice::Quantized(o) => format!("quantized method (lossy), {o:?}"),
        };
        format!("one-layer DFC stream, main profile, SHA-256 tensor hash; {coder}")
    }

    fn encode(&self, t: &TensorView<'_>) -> anyhow::Result<Encoded> {
        let layer = LayerInput {
            name: t.name.to_string(),
            kind: t.kind,
            element_type: t.element_type,
            shape: t.shape.to_vec(),
            data: t.data,
            method: self.choice,
        };
        let config = EncoderConfig {
            tensor_hashes: true,
            threads: 1,
            ..EncoderConfig::default()
        };
        match encode_stream(std::slice::from_ref(&layer), &config) {
            Ok(stream) => Ok(Encoded::Coded(stream)),
            Err(e) => Ok(Encoded::NotApplicable(e.to_string())),
        }
    }

    fn decode(&self, t: &TensorView<'_>, coded: &[u8]) -> anyhow::Result<Vec<u8>> {
        let (_, mut tensors) = decode_all(coded).map_err(|e| anyhow!("{e}"))?;
        if tensors.len() != 1 {
            bail!("the stream decodes to {} tensors, not 1", tensors.len());
        }
        let d = tensors.pop().expect("one tensor");
        if d.shape != t.shape || d.element_type != t.element_type {
            bail!(
                "the stream decodes to a {} tensor of shape {:?}, not {} {:?}",
                d.element_type,
                d.shape,
                t.element_type,
                t.shape
            );
        }
        if !d.hash_verified {
            bail!("the tensor hash was not verified");
        }
        Ok(d.data)
    }

    fn note(&self, coded: &[u8]) -> Option<String> {
        match self.choice {
            MethodChoice::Auto => decode_all(coded)
                .ok()
                .and_then(|(_, t)| t.first().map(|t| t.coding_method.name().to_string())),
            MethodChoice::Fixed(_) | MethodChoice::Quantized(_) => None,
        }
    }

    fn counterpart(&self) -> Option<Counterpart> {
        self.counterpart
    }
}

fn read_all(mut r: impl Read, capacity: usize) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(capacity);
    r.read_to_end(&mut out)?;
    Ok(out)
}

/// gzip with flate2's defaults at level 6 (`GzEncoder::new`).
pub struct Gzip;

impl BenchMethod for Gzip {
    fn name(&self) -> &str {
        "gzip"
    }
    fn family(&self) -> Family {
        Family::Anchor
    }
    fn settings(&self) -> String {
        format!("bare bytes; flate2 GzEncoder, level {DEFLATE_LEVEL} (gzip's default)")
    }
    fn encode(&self, t: &TensorView<'_>) -> anyhow::Result<Encoded> {
        let mut e = flate2::write::GzEncoder::new(
            Vec::with_capacity(t.data.len() / 2),
            flate2::Compression::new(DEFLATE_LEVEL),
        );
        e.write_all(t.data)?;
        Ok(Encoded::Coded(e.finish()?))
    }
    fn decode(&self, t: &TensorView<'_>, coded: &[u8]) -> anyhow::Result<Vec<u8>> {
        read_all(flate2::bufread::GzDecoder::new(coded), t.data.len())
    }
}

/// zlib with flate2 at level 6.
pub struct Zlib;

impl BenchMethod for Zlib {
    fn name(&self) -> &str {
        "zlib"
    }
    fn family(&self) -> Family {
        Family::Anchor
    }
    fn settings(&self) -> String {
        format!("bare bytes; flate2 ZlibEncoder, level {DEFLATE_LEVEL} (zlib's default)")
    }
    fn encode(&self, t: &TensorView<'_>) -> anyhow::Result<Encoded> {
        let mut e = flate2::write::ZlibEncoder::new(
            Vec::with_capacity(t.data.len() / 2),
            flate2::Compression::new(DEFLATE_LEVEL),
        );
        e.write_all(t.data)?;
        Ok(Encoded::Coded(e.finish()?))
    }
    fn decode(&self, t: &TensorView<'_>, coded: &[u8]) -> anyhow::Result<Vec<u8>> {
        read_all(flate2::bufread::ZlibDecoder::new(coded), t.data.len())
    }
}

/// bzip2 at level 9 (the `bzip2` tool's default).
pub struct Bzip2;

impl BenchMethod for Bzip2 {
    fn name(&self) -> &str {
        "bzip2"
    }
    fn family(&self) -> Family {
        Family::Anchor
    }
    fn settings(&self) -> String {
        format!("bare bytes; bzip2 crate (libbzip2), level {BZIP2_LEVEL} (bzip2's default)")
    }
    fn encode(&self, t: &TensorView<'_>) -> anyhow::Result<Encoded> {
        let mut e = bzip2::write::BzEncoder::new(
            Vec::with_capacity(t.data.len() / 2),
            bzip2::Compression::new(BZIP2_LEVEL),
        );
        e.write_all(t.data)?;
        Ok(Encoded::Coded(e.finish()?))
    }
    fn decode(&self, t: &TensorView<'_>, coded: &[u8]) -> anyhow::Result<Vec<u8>> {
        read_all(bzip2::bufread::BzDecoder::new(coded), t.data.len())
    }
}

/// The .xz container at preset 6 with a CRC64 check: what Python's `lzma.compress` writes by
/// default.
pub struct Xz;

impl BenchMethod for Xz {
    fn name(&self) -> &str {
        "lzma"
    }
    fn family(&self) -> Family {
        Family::Anchor
    }
    fn settings(&self) -> String {
        format!("bare bytes; .xz container (xz2 XzEncoder), preset {LZMA_PRESET}, CRC64 check (Python lzma.compress default)")
    }
    fn encode(&self, t: &TensorView<'_>) -> anyhow::Result<Encoded> {
        let mut e = xz2::write::XzEncoder::new(Vec::with_capacity(t.data.len() / 2), LZMA_PRESET);
        e.write_all(t.data)?;
        Ok(Encoded::Coded(e.finish()?))
    }
    fn decode(&self, t: &TensorView<'_>, coded: &[u8]) -> anyhow::Result<Vec<u8>> {
        read_all(xz2::bufread::XzDecoder::new(coded), t.data.len())
    }
}

/// Zstandard at a level, library defaults otherwise (no checksum, content size in the frame).
pub struct Zstd {
    level: i32,
    name: String,
}

impl Zstd {
    pub fn new(level: i32) -> Self {
        Zstd {
            level,
            name: format!("zstd-{level}"),
        }
    }
}

impl BenchMethod for Zstd {
    fn name(&self) -> &str {
        &self.name
    }
    fn family(&self) -> Family {
        Family::Anchor
    }
    fn settings(&self) -> String {
        format!(
            "bare bytes; zstd crate (libzstd {}), level {}, one thread, no checksum",
            zstd::zstd_safe::version_string(),
            self.level
        )
    }
    fn encode(&self, t: &TensorView<'_>) -> anyhow::Result<Encoded> {
        Ok(Encoded::Coded(zstd::bulk::compress(t.data, self.level)?))
    }
    fn decode(&self, t: &TensorView<'_>, coded: &[u8]) -> anyhow::Result<Vec<u8>> {
        Ok(zstd::bulk::decompress(coded, t.data.len())?)
    }
}

/// pcodec on the numbers themselves: float32 as f32, float16 as f16, int8/uint8 as integers;
/// bfloat16 is not a pcodec type (n/a).
pub struct Pcodec;

impl Pcodec {
    fn config(eight_bit: bool) -> pco::ChunkConfig {
        pco::ChunkConfig::default().with_enable_8_bit(eight_bit)
    }
}

fn pco_err(e: pco::errors::PcoError) -> anyhow::Error {
    anyhow!("pcodec: {e}")
}

impl BenchMethod for Pcodec {
    fn name(&self) -> &str {
        "pcodec"
    }
    fn family(&self) -> Family {
        Family::Anchor
    }
    fn settings(&self) -> String {
        format!(
            "numbers, not bytes; pco crate, standalone format, default level {} (float32 as f32, float16 as f16, int8/uint8 as integers; bfloat16 n/a); timings include the conversion from bytes",
            pco::DEFAULT_COMPRESSION_LEVEL
        )
    }
    fn encode(&self, t: &TensorView<'_>) -> anyhow::Result<Encoded> {
        use pco::standalone::simple_compress;
        let coded = match t.element_type {
            ElementType::Float32 => {
                let v: Vec<f32> = t
                    .data
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                    .collect();
                simple_compress(&v, &Self::config(false))
            }
            ElementType::Float16 => {
                let v: Vec<half::f16> = t
                    .data
                    .chunks_exact(2)
                    .map(|b| half::f16::from_bits(u16::from_le_bytes([b[0], b[1]])))
                    .collect();
                simple_compress(&v, &Self::config(false))
            }
            ElementType::Int8 => {
                let v: Vec<i8> = t.data.iter().map(|&b| b as i8).collect();
                simple_compress(&v, &Self::config(true))
            }
            ElementType::Uint8 => simple_compress(t.data, &Self::config(true)),
            ElementType::BFloat16 => {
                return Ok(Encoded::NotApplicable("pcodec has no bfloat16 type".into()))
            }
        };
        Ok(Encoded::Coded(coded.map_err(pco_err)?))
    }
    fn decode(&self, t: &TensorView<'_>, coded: &[u8]) -> anyhow::Result<Vec<u8>> {
        use pco::standalone::simple_decompress;
        Ok(match t.element_type {
            ElementType::Float32 => simple_decompress::<f32>(coded)
                .map_err(pco_err)?
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect(),
            ElementType::Float16 => simple_decompress::<half::f16>(coded)
                .map_err(pco_err)?
                .iter()
                .flat_map(|x| x.to_bits().to_le_bytes())
                .collect(),
            ElementType::Int8 => simple_decompress::<i8>(coded)
                .map_err(pco_err)?
                .iter()
                .map(|&x| x as u8)
                .collect(),
            ElementType::Uint8 => simple_decompress::<u8>(coded).map_err(pco_err)?,
            ElementType::BFloat16 => {
                return Err(anyhow!("pcodec has no bfloat16 type")).context("decode")
            }
        })
    }
}
