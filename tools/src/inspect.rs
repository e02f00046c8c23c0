//! `dfc inspect`: the units and layers of a stream, read without decompressing any payload.

use crate::io::{error_text, print, ratio_text, shape_text, table, StreamError};
use anyhow::Context;
use bitstream_io::{BigEndian, BitReader, FromBitStream, FromBitStreamWith};
use dfc_decoder::syntax::{FeatureData, LayerParameters, Metadata, SequenceHeader, TensorHash};
use dfc_decoder::units::UnitReader;
use dfc_decoder::{
    CodingMethod, DecodeError, Decoder, ElementType, HashType, LayerKind, LevelLimits, Location,
    Profile, UnitType,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Options of `dfc inspect`.
#[derive(clap::Args, Debug)]
#[command(after_help = "\
Examples:
  dfc inspect features.dfc            tables of units and layers
  dfc inspect features.dfc --json     the same as JSON
  dfc inspect features.dfc --trace    every syntax element with its bit position

Nothing is decompressed: the stream's structure, unit CRCs, unit order and level limits are
checked as by the reference decoder (with no layer selected, clause 8.6), but not the decoded
tensors or their hashes (use `dfc decode` for that). --trace makes the same checks and reports
the same error class and requirement. On a broken stream, what could be read is shown, then the
error, and the exit status is 1. The input may be - (standard input).")]
pub struct Args {
    /// The stream to inspect, e.g. features.dfc, or - for standard input.
    #[arg(value_name = "IN.dfc")]
    pub input: PathBuf,

    /// Print the tables as one JSON object (units, layers, totals, metadata, error).
    #[arg(long, conflicts_with = "trace")]
    pub json: bool,

    /// Print every syntax element with its bit position and value (spec Annex B trace).
    #[arg(long)]
    pub trace: bool,
}

pub fn run(args: Args, _verbosity: crate::Verbosity) -> anyhow::Result<()> {
    let name = crate::io::input_name(&args.input);
    let bytes = crate::io::read_input(&args.input)?;
    if args.trace {
        let mut out = String::new();
        let traced = dfc_decoder::trace::trace(&bytes[..], &mut out);
        print(&out)?;
        // The trace only frames units; the verdict is the decoder's, as for plain inspect.
        return match verdict(&bytes).or(traced.err()) {
            Some(e) => Err(anyhow::Error::new(StreamError(e)).context(name)),
            None => Ok(()),
        };
    }
    let report = scan(&bytes);
    if args.json {
        print(&report.to_json()?)?;
    } else {
        print(&report.to_text(&name))?;
    }
    match report.decode_error {
        Some(e) => Err(anyhow::Error::new(StreamError(e)).context(name)),
        None => Ok(()),
    }
}

/// What `dfc inspect` shows about a stream.
#[derive(Debug, Serialize)]
pub struct Report {
    pub file_bytes: u64,
    /// `major.minor` of the identification.
    pub version: Option<String>,
    pub profile: Option<String>,
    pub level: Option<String>,
    pub num_layers: Option<u16>,
    pub metadata: Vec<MetadataEntry>,
    pub units: Vec<UnitRow>,
    pub layers: Vec<LayerRow>,
    pub totals: Totals,
    /// Bytes after the end_of_sequence unit.
    pub trailing_bytes: u64,
    /// The first error of the stream, as the reference decoder reports it.
    pub error: Option<ErrorInfo>,
    #[serde(skip)]
    pub decode_error: Option<DecodeError>,
}

#[derive(Debug, Serialize)]
pub struct MetadataEntry {
    pub key: String,
    pub value: String,
}

/// One unit.
#[derive(Debug, Serialize)]
pub struct UnitRow {
    pub index: u64,
    /// Byte offset of `unit_type` from the start of the stream.
    pub offset: u64,
    pub unit_type: u8,
    /// The type's name, `reserved` for a reserved value.
    pub type_name: String,
    pub payload_size: u32,
    pub crc_ok: bool,
    /// A short description of the content.
    pub summary: String,
}

/// One layer, with its feature data summed over frames.
#[derive(Debug, Serialize)]
pub struct LayerRow {
    pub id: u16,
    pub name: String,
    pub kind: String,
    pub element_type: String,
    pub shape: Vec<u32>,
    pub non_negative: bool,
    pub default_method: String,
    /// Coding methods of its feature_data units, in first-use order.
    pub methods: Vec<String>,
    /// Number of feature_data units (frames) of the layer.
    pub frames: u64,
    /// Bytes of `method_payload`, over all frames.
    pub coded_bytes: u64,
    /// Bytes of the decoded tensors, over all frames.
    pub decoded_bytes: u64,
    /// decoded_bytes / coded_bytes.
    pub ratio: Option<f64>,
    /// Number of tensor_hash units of the layer.
    pub hashes: u64,
}

#[derive(Debug, Serialize)]
pub struct Totals {
    pub units: u64,
    pub layers: u64,
    pub frames: u64,
    pub coded_bytes: u64,
    pub decoded_bytes: u64,
    /// decoded_bytes / coded_bytes.
    pub ratio: Option<f64>,
    /// decoded_bytes / file_bytes.
    pub stream_ratio: Option<f64>,
}

#[derive(Debug, Serialize)]
pub struct ErrorInfo {
    pub class: String,
    pub requirement: String,
    /// Unit index; absent for the identification or after the last unit.
    pub unit: Option<u64>,
    pub offset: Option<u64>,
    pub message: String,
    /// The whole error line, as printed on standard error.
    pub text: String,
}

fn name_or_reserved<T: std::fmt::Display>(value: Option<T>, code: u8) -> String {
    value.map_or_else(|| format!("reserved({code})"), |v| v.to_string())
}

#[derive(Default)]
struct FeatureStats {
    methods: Vec<String>,
    frames: u64,
    coded: u64,
    hashes: u64,
}

/// Reads the units of `bytes` and what they declare, without decompressing, then checks the
/// stream with the reference decoder (no layer selected, so nothing is decompressed).
pub fn scan(bytes: &[u8]) -> Report {
    let mut report = Report {
        file_bytes: bytes.len() as u64,
        version: None,
        profile: None,
        level: None,
        num_layers: None,
        metadata: Vec::new(),
        units: Vec::new(),
        layers: Vec::new(),
        totals: Totals {
            units: 0,
            layers: 0,
            frames: 0,
            coded_bytes: 0,
            decoded_bytes: 0,
            ratio: None,
            stream_ratio: None,
        },
        trailing_bytes: 0,
        error: None,
        decode_error: None,
    };
    let mut stats: BTreeMap<u16, FeatureStats> = BTreeMap::new();
    let mut frames = std::collections::BTreeSet::new();
    let mut units = UnitReader::new(bytes);
    let framing_error = match units.read_identification() {
        Err(e) => Some(e),
        Ok(id) => {
            report.version = Some(format!("{}.{}", id.version_major, id.version_minor));
            // Payloads are read in chunks, so the size is bounded by the file, not allocated.
            units.set_max_unit_size(u32::MAX);
            loop {
                let before = units.offset();
                match units.next_unit() {
                    Ok(None) => break None,
                    Ok(Some(raw)) => {
                        let ty = raw.unit_type();
                        let summary = describe_unit(
                            ty,
                            &raw.unit.payload,
                            &mut report,
                            &mut stats,
                            &mut frames,
                        );
                        report.units.push(UnitRow {
                            index: raw.index,
                            offset: raw.offset,
                            unit_type: raw.unit.unit_type,
                            type_name: name_or_reserved(ty, raw.unit.unit_type),
                            payload_size: raw.unit.payload_size,
                            crc_ok: true,
                            summary,
                        });
                        if ty == Some(UnitType::EndOfSequence) {
                            report.trailing_bytes = bytes.len() as u64 - units.offset();
                            break None;
                        }
                    }
                    // A bad CRC or a forbidden unit type: the unit was read whole, so the
                    // next one can still be found.
                    Err(e) if units.offset() > before => {
                        let at = before as usize;
                        let code = bytes[at];
                        let size = u32::from_be_bytes([
                            bytes[at + 1],
                            bytes[at + 2],
                            bytes[at + 3],
                            bytes[at + 4],
                        ]);
                        report.units.push(UnitRow {
                            index: e.unit_index().unwrap_or(0),
                            offset: before,
                            unit_type: code,
                            type_name: name_or_reserved(UnitType::from_code(code), code),
                            payload_size: size,
                            crc_ok: e.class != dfc_decoder::ErrorClass::Corrupt,
                            summary: format!("{} [{}]", e.message, e.requirement),
                        });
                    }
                    Err(e) => break Some(e),
                }
            }
        }
    };
    for layer in &mut report.layers {
        if let Some(s) = stats.remove(&layer.id) {
            layer.methods = s.methods;
            layer.frames = s.frames;
            layer.coded_bytes = s.coded;
            layer.decoded_bytes = layer.decoded_bytes.saturating_mul(s.frames);
            layer.hashes = s.hashes;
        } else {
            layer.decoded_bytes = 0;
        }
        layer.ratio = ratio(layer.decoded_bytes, layer.coded_bytes);
    }
    let t = &mut report.totals;
    t.units = report.units.len() as u64;
    t.layers = report.layers.len() as u64;
    t.frames = frames.len() as u64;
    t.coded_bytes = report.layers.iter().map(|l| l.coded_bytes).sum::<u64>()
        + stats.values().map(|s| s.coded).sum::<u64>();
    t.decoded_bytes = report.layers.iter().map(|l| l.decoded_bytes).sum();
    t.ratio = ratio(t.decoded_bytes, t.coded_bytes);
    t.stream_ratio = ratio(t.decoded_bytes, report.file_bytes);

    let verdict = verdict(bytes).or(framing_error);
    if let Some(e) = &verdict {
        let (unit, offset) = match e.location {
            Location::Identification => (None, None),
            Location::Unit { index, offset } => {
                ((index != u64::MAX).then_some(index), Some(offset))
            }
        };
        report.error = Some(ErrorInfo {
            class: e.class.to_string(),
            requirement: e.requirement.to_string(),
            unit,
            offset,
            message: e.message.clone(),
            text: error_text(e),
        });
    }
    report.decode_error = verdict;
    report
}

/// The reference decoder's verdict on a stream; with no layer selected it decompresses nothing.
fn verdict(bytes: &[u8]) -> Option<DecodeError> {
    let mut decoder = Decoder::new(bytes);
    decoder.select_layers(std::iter::empty());
    decoder.decode_to_end().err()
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

/// Records what a unit declares and returns a one-line description of it.
fn describe_unit(
    ty: Option<UnitType>,
    payload: &[u8],
    report: &mut Report,
    stats: &mut BTreeMap<u16, FeatureStats>,
    frames: &mut std::collections::BTreeSet<u32>,
) -> String {
    let mut r = BitReader::endian(payload, BigEndian);
    let size = payload.len() as u32;
    let unreadable = || "payload does not parse".to_string();
    match ty {
        None => "reserved unit type, skipped".to_string(),
        Some(UnitType::FrameHeader) => {
            match dfc_decoder::syntax::FrameHeader::from_reader(&mut r) {
                Err(_) => unreadable(),
                Ok(h) => format!(
                    "frame {}{}",
                    h.frame_index,
                    if h.random_access {
                        ", random-access point"
                    } else {
                        ""
                    }
                ),
            }
        }
        Some(UnitType::SequenceHeader) => match SequenceHeader::from_reader(&mut r) {
            Err(_) => unreadable(),
            Ok(h) => {
                let profile = name_or_reserved(Profile::from_code(h.profile_idc), h.profile_idc);
                let level = LevelLimits::from_idc(h.level_idc)
                    .map_or_else(|| format!("reserved({})", h.level_idc), |l| l.name());
                if report.profile.is_none() {
                    report.profile = Some(profile.clone());
                    report.level = Some(level.clone());
                    report.num_layers = Some(h.num_layers);
                }
                format!(
                    "version {}.{}, profile {profile}, level {level}, {} layers",
                    h.version_major, h.version_minor, h.num_layers
                )
            }
        },
        Some(UnitType::LayerParameters) => match LayerParameters::from_reader(&mut r) {
            Err(_) => unreadable(),
            Ok(p) => {
                let element_type = ElementType::from_code(p.element_type);
                let name = p.name_lossy();
                let summary = format!("layer {} {name:?}", p.layer_id);
                report.layers.push(LayerRow {
                    id: p.layer_id,
                    name,
                    kind: name_or_reserved(LayerKind::from_code(p.layer_kind), p.layer_kind),
                    element_type: name_or_reserved(element_type, p.element_type),
                    shape: p.dims.clone(),
                    non_negative: p.non_negative_flag,
                    default_method: name_or_reserved(
                        CodingMethod::from_code(p.default_method),
                        p.default_method,
                    ),
                    methods: Vec::new(),
                    frames: 0,
                    coded_bytes: 0,
                    // Bytes of one frame for now; multiplied by the frame count at the end.
                    decoded_bytes: element_type
                        .map_or(0, |t| p.element_count().saturating_mul(t.size() as u64)),
                    ratio: None,
                    hashes: 0,
                });
                summary
            }
        },
        Some(UnitType::FeatureData) => match FeatureData::from_reader(&mut r, &size) {
            Err(_) => unreadable(),
            Ok(f) => {
                let method =
                    name_or_reserved(CodingMethod::from_code(f.coding_method), f.coding_method);
                let s = stats.entry(f.layer_id).or_default();
                if !s.methods.contains(&method) {
                    s.methods.push(method.clone());
                }
                s.frames += 1;
                s.coded += f.method_payload.len() as u64;
                frames.insert(f.frame_index);
                format!(
                    "layer {} frame {}, {method}, {} coded bytes",
                    f.layer_id,
                    f.frame_index,
                    f.method_payload.len()
                )
            }
        },
        Some(UnitType::TensorHash) => match TensorHash::from_reader(&mut r, &size) {
            Err(_) => unreadable(),
            Ok(h) => {
                stats.entry(h.layer_id).or_default().hashes += 1;
                let hash_type = name_or_reserved(HashType::from_code(h.hash_type), h.hash_type);
                let head: String = h
                    .hash_value
                    .iter()
                    .take(4)
                    .map(|b| format!("{b:02x}"))
                    .collect();
                format!(
                    "layer {} frame {}, {hash_type} {head}..",
                    h.layer_id, h.frame_index
                )
            }
        },
        Some(UnitType::Metadata) => match Metadata::from_reader(&mut r) {
            Err(_) => unreadable(),
            Ok(m) => {
                for e in &m.entries {
                    report.metadata.push(MetadataEntry {
                        key: String::from_utf8_lossy(&e.key).into_owned(),
                        value: String::from_utf8_lossy(&e.value).into_owned(),
                    });
                }
                let n = m.entries.len();
                format!("{n} entr{}", if n == 1 { "y" } else { "ies" })
            }
        },
        Some(UnitType::EndOfSequence) => String::new(),
    }
}

impl Report {
    /// What `dfc inspect --json` prints.
    pub fn to_json(&self) -> anyhow::Result<String> {
        let mut text = serde_json::to_string_pretty(self).context("building JSON")?;
        text.push('\n');
        Ok(text)
    }

    /// The human-readable form: stream line, metadata, unit table, layer table, totals.
    pub fn to_text(&self, name: &str) -> String {
        let mut out = String::new();
        let unknown = || "?".to_string();
        let _ = writeln!(
            out,
            "{name}: {} bytes, DFC {}, profile {}, level {}, {} layers",
            self.file_bytes,
            self.version.clone().unwrap_or_else(unknown),
            self.profile.clone().unwrap_or_else(unknown),
            self.level.clone().unwrap_or_else(unknown),
            self.num_layers.map_or_else(unknown, |n| n.to_string()),
        );
        for m in &self.metadata {
            let _ = writeln!(out, "  {} = {}", m.key, m.value);
        }
        out.push_str("\nunits\n");
        let rows: Vec<Vec<String>> = self
            .units
            .iter()
            .map(|u| {
                vec![
                    u.index.to_string(),
                    u.offset.to_string(),
                    u.type_name.clone(),
                    u.payload_size.to_string(),
                    if u.crc_ok { "ok" } else { "BAD" }.to_string(),
                    u.summary.clone(),
                ]
            })
            .collect();
        out.push_str(&table(
            &["unit", "offset", "type", "payload", "crc", "content"],
            &rows,
            &[true, true, false, true, false, false],
        ));
        out.push_str("\nlayers\n");
        let rows: Vec<Vec<String>> = self
            .layers
            .iter()
            .map(|l| {
                vec![
                    l.id.to_string(),
                    l.name.clone(),
                    l.kind.clone(),
                    l.element_type.clone(),
                    shape_text(&l.shape),
                    if l.non_negative { "yes" } else { "no" }.to_string(),
                    if l.methods.is_empty() {
                        "-".to_string()
                    } else {
                        l.methods.join("+")
                    },
                    l.coded_bytes.to_string(),
                    l.decoded_bytes.to_string(),
                    ratio_text(l.decoded_bytes, l.coded_bytes),
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "id", "name", "kind", "type", "shape", "non-neg", "method", "coded", "decoded",
                "ratio",
            ],
            &rows,
            &[
                true, false, false, false, false, false, false, true, true, true,
            ],
        ));
        let t = &self.totals;
        let _ = writeln!(
            out,
            "\ntotal: {} units, {} layers, {} frame{}; {} coded bytes, {} decoded bytes, ratio {} ({} with framing)",
            t.units,
            t.layers,
            t.frames,
            if t.frames == 1 { "" } else { "s" },
            t.coded_bytes,
            t.decoded_bytes,
            ratio_text(t.decoded_bytes, t.coded_bytes),
            ratio_text(t.decoded_bytes, self.file_bytes),
        );
        if self.trailing_bytes > 0 {
            let _ = writeln!(out, "{} bytes after end_of_sequence", self.trailing_bytes);
        }
        out
    }
}
