//! Stream assembly: units in the order of spec clause 5.2, level chosen to fit (Annex A).

use crate::lossy::{encode_quantized_with_output, LossyError, LossyOptions};
use crate::methods::{encode_payload, is_non_negative, TensorRef};
use dfc_decoder::syntax::{
    FeatureData, Identification, LayerParameters, Metadata, MetadataEntry, SequenceHeader,
    SyntaxStructure, TensorHash, Unit, FEATURE_DATA_HEADER_BYTES,
};
use dfc_decoder::{
    tensor_sha256, CodingMethod, ElementType, HashType, LayerKind, LevelLimits, Profile, UnitType,
};
use std::fmt;

/// How a layer's coding method is chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MethodChoice {
    /// A lossless method.
    Fixed(CodingMethod),
    /// The smallest payload among the lossless methods the profile allows; ties go to the
    /// lower `coding_method` value.
    Auto,
    /// The quantized method (lossy) with these options.
    Quantized(LossyOptions),
}

impl MethodChoice {
    /// Parses `auto` or a method name; `quantized` takes the default lossy options.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "auto" => Some(MethodChoice::Auto),
            "quantized" => Some(MethodChoice::Quantized(LossyOptions::default())),
            _ => CodingMethod::from_name(name).map(MethodChoice::Fixed),
        }
    }
}

impl fmt::Display for MethodChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MethodChoice::Fixed(m) => write!(f, "{m}"),
            MethodChoice::Auto => f.write_str("auto"),
            MethodChoice::Quantized(_) => f.write_str("quantized"),
        }
    }
}

/// One tensor to encode.
#[derive(Clone, Debug)]
pub struct LayerInput<'a> {
    pub name: String,
    pub kind: LayerKind,
    pub element_type: ElementType,
    pub shape: Vec<u32>,
    /// Canonical bytes: little-endian elements in C order.
    pub data: &'a [u8],
    pub method: MethodChoice,
}

impl<'a> LayerInput<'a> {
    /// The tensor part of the layer.
    pub fn tensor(&self) -> TensorRef<'_> {
        TensorRef {
            element_type: self.element_type,
            shape: &self.shape,
            data: self.data,
        }
    }
}

/// Stream-wide options.
#[derive(Clone, Debug)]
pub struct EncoderConfig {
    pub profile: Profile,
    /// `level_idc`; `None` picks the smallest level that fits.
    pub level_idc: Option<u8>,
    /// Write a tensor_hash unit after every feature_data unit.
    pub tensor_hashes: bool,
    /// Informative key/value pairs for a metadata unit (none written when empty).
    pub metadata: Vec<(String, String)>,
    /// Threads for the slices of the native method; the output does not depend on it.
    pub threads: usize,
}

impl Default for EncoderConfig {
    fn default() -> Self {
        EncoderConfig {
            profile: Profile::Main,
            level_idc: None,
            tensor_hashes: true,
            metadata: Vec::new(),
            threads: 1,
        }
    }
}

/// Why a set of tensors cannot be written as a conforming stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EncodeError {
    NoLayers,
    TooManyLayers(usize),
    BadShape {
        layer: String,
        shape: Vec<u32>,
    },
    DataLength {
        layer: String,
        expected: u64,
        actual: usize,
    },
    NameTooLong {
        layer: String,
    },
    /// A name the decoder's tools could not write back
    /// ([`dfc_decoder::names::output_name_problem`]).
    BadName {
        layer: String,
        why: String,
    },
    /// A layer of a sequence changes its element type or shape from one frame to another.
    FrameMismatch {
        layer: String,
        frame_index: u32,
        first: String,
        this: String,
    },
    DuplicateName {
        layer: String,
    },
    NotInProfile {
        layer: String,
        what: String,
        profile: Profile,
    },
    /// The layer cannot be coded with the quantized method and these options.
    Lossy {
        layer: String,
        error: LossyError,
    },
    /// Frame indexes of a sequence must increase.
    FrameOrder {
        frame_index: u32,
    },
    NoLevelFits {
        needed: String,
    },
    LevelTooSmall {
        level_idc: u8,
        needed: String,
    },
    UnknownLevel(u8),
    MetadataTooLong {
        key: String,
    },
    /// More than 255 metadata entries.
    TooManyMetadataEntries(usize),
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::NoLayers => write!(f, "no tensors to encode"),
            EncodeError::Lossy { layer, error } => write!(f, "layer {layer}: {error}"),
            EncodeError::FrameOrder { frame_index } => {
                write!(
                    f,
                    "frame {frame_index} does not come after the frame before it"
                )
            }
            EncodeError::TooManyLayers(n) => write!(f, "{n} layers; a stream holds at most 65535"),
            EncodeError::BadShape { layer, shape } => {
                write!(
                    f,
                    "layer {layer}: shape {shape:?} must have rank 1 to 4 and no zero dimension"
                )
            }
            EncodeError::DataLength {
                layer,
                expected,
                actual,
            } => {
                write!(
                    f,
                    "layer {layer}: {actual} data bytes, the shape needs {expected}"
                )
            }
            EncodeError::NameTooLong { layer } => {
                write!(f, "layer name {layer:?} is longer than 255 bytes")
            }
            EncodeError::BadName { layer, why } => {
                write!(f, "layer name {layer:?} cannot be written back by a decoder: {why}")
            }
            EncodeError::FrameMismatch {
                layer,
                frame_index,
                first,
                this,
            } => write!(
                f,
                "layer {layer}: frame {frame_index} is {this}, but the layer's first frame is {first} (every frame of a layer has its type and shape)"
            ),
            EncodeError::TooManyMetadataEntries(n) => {
                write!(f, "{n} metadata entries, at most 255 fit in a metadata unit")
            }
            EncodeError::DuplicateName { layer } => write!(f, "layer name {layer:?} is used twice"),
            EncodeError::NotInProfile {
                layer,
                what,
                profile,
            } => {
                write!(
                    f,
                    "layer {layer}: {what} is not allowed in the {profile} profile"
                )
            }
            EncodeError::NoLevelFits { needed } => {
                write!(f, "no level allows this stream ({needed})")
            }
            EncodeError::LevelTooSmall { level_idc, needed } => write!(
                f,
                "level {} is too small for this stream ({needed})",
                dfc_decoder::levels::level_name(*level_idc)
            ),
            EncodeError::UnknownLevel(idc) => write!(f, "level_idc {idc} is not defined"),
            EncodeError::MetadataTooLong { key } => {
                write!(f, "metadata entry {key:?} is too long (key 255 bytes, value 65535 bytes, 255 entries)")
            }
        }
    }
}

impl std::error::Error for EncodeError {}

impl EncodeError {
    /// The layer the error is about, if it is about one.
    pub fn layer(&self) -> Option<&str> {
        match self {
            EncodeError::BadShape { layer, .. }
            | EncodeError::DataLength { layer, .. }
            | EncodeError::NameTooLong { layer }
            | EncodeError::BadName { layer, .. }
            | EncodeError::FrameMismatch { layer, .. }
            | EncodeError::DuplicateName { layer }
            | EncodeError::NotInProfile { layer, .. }
            | EncodeError::Lossy { layer, .. } => Some(layer),
            _ => None,
        }
    }
}

/// A coded tensor: its method, payload, and the canonical bytes a decoder outputs (for the
/// tensor hash; the input itself for lossless methods).
#[derive(Clone, Debug)]
pub struct CodedTensor {
    pub method: CodingMethod,
    pub payload: Vec<u8>,
    pub decoded: Option<Vec<u8>>,
}

/// Codes a tensor with the method `choice` names, or with each allowed lossless method for
/// `Auto`. `non_negative` is the layer's `non_negative_flag`: in a sequence it holds for every
/// frame of the layer, so a frame may be non-negative while its layer's flag is 0, and the
/// native and quantized payloads must follow the flag (clauses 8.3.6.2, 8.3.7).
pub fn choose_method(
    choice: MethodChoice,
    profile: Profile,
    tensor: &TensorRef<'_>,
    non_negative: bool,
    threads: usize,
) -> Result<CodedTensor, LossyError> {
    let lossless = |(method, payload)| CodedTensor {
        method,
        payload,
        decoded: None,
    };
    let payload = |m: CodingMethod| match m {
        CodingMethod::Native => crate::native::encode_native(
            tensor.element_type,
            tensor.shape,
            non_negative,
            tensor.data,
            threads,
        ),
        _ => encode_payload(m, tensor, threads),
    };
    Ok(match choice {
        MethodChoice::Fixed(m) if m.is_lossless() => lossless((m, payload(m))),
        MethodChoice::Fixed(_) => {
            return choose_method(
                MethodChoice::Quantized(LossyOptions::default()),
                profile,
                tensor,
                non_negative,
                threads,
            )
        }
        MethodChoice::Auto => lossless(smallest_lossless(profile, |m, limit| match m {
            CodingMethod::Native => Some(payload(m)).filter(|p| p.len() <= limit),
            _ => crate::methods::encode_payload_within(m, tensor, threads, limit),
        })),
        MethodChoice::Quantized(options) => {
            let (payload, decoded) =
                encode_quantized_with_output(tensor, non_negative, &options, threads)?;
            CodedTensor {
                method: CodingMethod::Quantized,
                payload,
                decoded: Some(canonical_bytes(&decoded, tensor.element_type)),
            }
        }
    })
}

/// The smallest payload of the lossless methods `profile` allows, the lower method code on a
/// tie (what `auto` means), trying only candidates that can still win: `code(m, limit)` gives
/// up once a payload is longer than `limit`. The fast methods go first, so that the slow ones
/// (lzma, bzip2) usually stop early; gzip is skipped where zlib is allowed, as its payload is
/// zlib's DEFLATE data with 12 more bytes of framing (Annex C).
pub fn smallest_lossless(
    profile: Profile,
    mut code: impl FnMut(CodingMethod, usize) -> Option<Vec<u8>>,
) -> (CodingMethod, Vec<u8>) {
    use CodingMethod::*;
    let allowed = |m: CodingMethod| profile.allows_method(m) && m.is_lossless();
    let mut best: Option<(CodingMethod, Vec<u8>)> = None;
    for m in [Native, Zlib, Raw, Lzma, Bzip2, Gzip] {
        if !allowed(m) || (m == Gzip && allowed(Zlib)) {
            continue;
        }
        let limit = match &best {
            None => usize::MAX,
            // An equal length wins only with a lower code.
            Some((b, p)) if m.code() < b.code() => p.len(),
            Some((_, p)) => p.len().saturating_sub(1),
        };
        if let Some(p) = code(m, limit) {
            best = Some((m, p));
        }
    }
    best.expect("every profile allows raw")
}

/// The canonical bytes of a float tensor's decoded values (exact in `element_type`).
pub(crate) fn canonical_bytes(decoded: &[f32], element_type: ElementType) -> Vec<u8> {
    let size = element_type.size();
    decoded
        .iter()
        .flat_map(|&v| {
            let bits = dfc_decoder::quant::model::to_element(v, element_type).to_le_bytes();
            bits.into_iter().take(size)
        })
        .collect()
}

/// Encodes the tensors as one stream (frame 0).
pub fn encode_stream(
    layers: &[LayerInput<'_>],
    config: &EncoderConfig,
) -> Result<Vec<u8>, EncodeError> {
    validate(layers, config)?;
    let non_negative: Vec<bool> = layers
        .iter()
        .map(|l| is_non_negative(l.element_type, l.data))
        .collect();
    let coded: Vec<CodedTensor> = layers
        .iter()
        .zip(&non_negative)
        .map(|(l, &non_negative)| {
            choose_method(
                l.method,
                config.profile,
                &l.tensor(),
                non_negative,
                config.threads,
            )
            .map_err(|error| EncodeError::Lossy {
                layer: l.name.clone(),
                error,
            })
        })
        .collect::<Result<_, _>>()?;
    for (layer, CodedTensor { method, .. }) in layers.iter().zip(&coded) {
        if !config.profile.allows_method(*method) {
            return Err(EncodeError::NotInProfile {
                layer: layer.name.clone(),
                what: format!("coding method {method}"),
                profile: config.profile,
            });
        }
    }
    let metadata = metadata_unit(&config.metadata)?;
    let level = choose_level(layers, &coded, metadata.as_ref(), config.level_idc)?;

    let mut w = UnitWriter::start(config, level, layers.len(), metadata);
    for (id, ((layer, CodedTensor { method, .. }), &non_negative)) in
        layers.iter().zip(&coded).zip(&non_negative).enumerate()
    {
        w.push(
            UnitType::LayerParameters,
            layer_parameters(id as u16, layer, *method, non_negative).to_bytes(),
        );
    }
    for (id, (layer, c)) in layers.iter().zip(coded).enumerate() {
        w.tensor(id as u16, 0, c, layer.data, config.tensor_hashes);
    }
    Ok(w.finish())
}

/// Writes the units of a stream in order (clause 5.2).
pub(crate) struct UnitWriter {
    out: Vec<u8>,
}

impl UnitWriter {
    /// The identification, the sequence header and the metadata unit, if any.
    pub(crate) fn start(
        config: &EncoderConfig,
        level_idc: u8,
        num_layers: usize,
        metadata: Option<Metadata>,
    ) -> Self {
        let mut w = UnitWriter {
            out: Identification::current().to_bytes(),
        };
        w.push(
            UnitType::SequenceHeader,
            SequenceHeader {
                version_major: dfc_decoder::VERSION_MAJOR,
                version_minor: dfc_decoder::VERSION_MINOR,
                profile_idc: config.profile.code(),
                level_idc,
                num_layers: num_layers as u16,
                reserved_zero_16bits: 0,
            }
            .to_bytes(),
        );
        if let Some(m) = metadata {
            w.push(UnitType::Metadata, m.to_bytes());
        }
        w
    }

    pub(crate) fn push(&mut self, unit_type: UnitType, payload: Vec<u8>) {
        self.out
            .extend_from_slice(&Unit::new(unit_type.code(), payload).to_bytes());
    }

    /// A feature_data unit and, with `hash`, its tensor_hash unit: the SHA-256 of what a
    /// decoder outputs (the reconstruction of a lossy tensor, else `input`).
    pub(crate) fn tensor(
        &mut self,
        layer_id: u16,
        frame_index: u32,
        coded: CodedTensor,
        input: &[u8],
        hash: bool,
    ) {
        let hash_value = hash.then(|| tensor_sha256(coded.decoded.as_deref().unwrap_or(input)));
        self.push(
            UnitType::FeatureData,
            FeatureData {
                layer_id,
                frame_index,
                coding_method: coded.method.code(),
                method_payload: coded.payload,
            }
            .to_bytes(),
        );
        if let Some(h) = hash_value {
            self.push(
                UnitType::TensorHash,
                TensorHash {
                    layer_id,
                    frame_index,
                    hash_type: HashType::Sha256.code(),
                    hash_value: h.to_vec(),
                }
                .to_bytes(),
            );
        }
    }

    /// Bytes of the units [`UnitWriter::tensor`] writes for a payload of `payload_len` bytes.
    pub(crate) fn tensor_units_len(payload_len: usize, hash: bool) -> usize {
        let unit = |payload: Vec<u8>| Unit::new(0, payload).coded_len() as usize;
        let data = FeatureData {
            layer_id: 0,
            frame_index: 0,
            coding_method: 0,
            method_payload: Vec::new(),
        };
        let hash_len = if hash {
            unit(
                TensorHash {
                    layer_id: 0,
                    frame_index: 0,
                    hash_type: HashType::Sha256.code(),
                    hash_value: vec![0; 32],
                }
                .to_bytes(),
            )
        } else {
            0
        };
        unit(data.to_bytes()) + payload_len + hash_len
    }

    /// Bytes of a frame_header unit.
    pub(crate) fn frame_header_len() -> usize {
        let header = dfc_decoder::syntax::FrameHeader {
            frame_index: 0,
            random_access: false,
            reserved_zero_7bits: 0,
        };
        Unit::new(0, header.to_bytes()).coded_len() as usize
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.out.len()
    }

    /// Bytes of the end_of_sequence unit.
    pub(crate) fn end_len() -> usize {
        Unit::new(0, Vec::new()).coded_len() as usize
    }

    /// The end_of_sequence unit; the stream.
    pub(crate) fn finish(mut self) -> Vec<u8> {
        self.push(UnitType::EndOfSequence, Vec::new());
        self.out
    }
}

/// The layer_parameters() of a layer (clause 7.4); `non_negative` is its non_negative_flag
/// (no element of any of its tensors has its sign set).
pub(crate) fn layer_parameters(
    id: u16,
    layer: &LayerInput<'_>,
    method: CodingMethod,
    non_negative: bool,
) -> LayerParameters {
    LayerParameters {
        layer_id: id,
        layer_kind: layer.kind.code(),
        element_type: layer.element_type.code(),
        non_negative_flag: non_negative,
        reserved_zero_7bits: 0,
        default_method: method.code(),
        dims: layer.shape.clone(),
        name: layer.name.as_bytes().to_vec(),
    }
}

pub(crate) fn validate(
    layers: &[LayerInput<'_>],
    config: &EncoderConfig,
) -> Result<(), EncodeError> {
    if layers.is_empty() {
        return Err(EncodeError::NoLayers);
    }
    if layers.len() > usize::from(u16::MAX) {
        return Err(EncodeError::TooManyLayers(layers.len()));
    }
    for (i, l) in layers.iter().enumerate() {
        if !(1..=4).contains(&l.shape.len()) || l.shape.contains(&0) {
            return Err(EncodeError::BadShape {
                layer: l.name.clone(),
                shape: l.shape.clone(),
            });
        }
        let expected =
            l.shape.iter().map(|&d| u64::from(d)).product::<u64>() * l.element_type.size() as u64;
        if expected != l.data.len() as u64 {
            return Err(EncodeError::DataLength {
                layer: l.name.clone(),
                expected,
                actual: l.data.len(),
            });
        }
        if l.name.len() > 255 {
            return Err(EncodeError::NameTooLong {
                layer: l.name.clone(),
            });
        }
        if let Some(why) = dfc_decoder::names::output_name_problem(&l.name) {
            return Err(EncodeError::BadName {
                layer: l.name.clone(),
                why,
            });
        }
        if layers[..i].iter().any(|o| o.name == l.name) {
            return Err(EncodeError::DuplicateName {
                layer: l.name.clone(),
            });
        }
        if !config.profile.allows_element_type(l.element_type) {
            return Err(EncodeError::NotInProfile {
                layer: l.name.clone(),
                what: format!("element type {}", l.element_type),
                profile: config.profile,
            });
        }
    }
    Ok(())
}

pub(crate) fn metadata_unit(entries: &[(String, String)]) -> Result<Option<Metadata>, EncodeError> {
    if entries.is_empty() {
        return Ok(None);
    }
    if entries.len() > 255 {
        return Err(EncodeError::TooManyMetadataEntries(entries.len()));
    }
    entries
        .iter()
        .map(|(k, v)| {
            if k.len() > 255 || v.len() > usize::from(u16::MAX) {
                Err(EncodeError::MetadataTooLong { key: k.clone() })
            } else {
                Ok(MetadataEntry {
                    key: k.as_bytes().to_vec(),
                    value: v.as_bytes().to_vec(),
                })
            }
        })
        .collect::<Result<Vec<_>, _>>()
        .map(|entries| Some(Metadata { entries }))
}

/// The level to signal: the requested one if the stream fits it, else the smallest that fits.
pub(crate) fn choose_level(
    layers: &[LayerInput<'_>],
    coded: &[CodedTensor],
    metadata: Option<&Metadata>,
    requested: Option<u8>,
) -> Result<u8, EncodeError> {
    let largest_tensor = layers
        .iter()
        .map(|l| l.shape.iter().map(|&d| u64::from(d)).product::<u64>())
        .max()
        .unwrap_or(0);
    let largest_unit = coded
        .iter()
        .map(|c| (c.payload.len() + FEATURE_DATA_HEADER_BYTES) as u64)
        .chain(metadata.map(|m| m.coded_bytes() as u64))
        .chain(
            layers
                .iter()
                // The unit's size does not depend on the flag.
                .map(|l| layer_parameters(0, l, CodingMethod::Raw, false).coded_bytes() as u64),
        )
        .max()
        .unwrap_or(0);
    let frame_bytes: u64 = layers.iter().map(|l| l.data.len() as u64).sum();
    let needed = format!(
        "{} layers, {largest_tensor} elements in the largest tensor, {largest_unit}-byte largest unit, {frame_bytes} decoded bytes",
        layers.len()
    );
    let fits = |l: &LevelLimits| {
        layers.len() as u64 <= u64::from(l.max_layers)
            && largest_tensor <= l.max_tensor_elements
            && largest_unit <= u64::from(l.max_unit_size)
            && frame_bytes <= l.max_frame_bytes
    };
    match requested {
        Some(idc) => {
            let level = LevelLimits::from_idc(idc).ok_or(EncodeError::UnknownLevel(idc))?;
            if fits(level) {
                Ok(idc)
            } else {
                Err(EncodeError::LevelTooSmall {
                    level_idc: idc,
                    needed,
                })
            }
        }
        None => dfc_decoder::LEVELS
            .iter()
            .find(|l| fits(l))
            .map(|l| l.level_idc)
            .ok_or(EncodeError::NoLevelFits { needed }),
    }
}
