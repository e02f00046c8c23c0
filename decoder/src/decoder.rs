//! The decoding process (clause 8): unit order (clause 5.2), semantics (clause 7), coding
//! methods (clause 8.3), output tensors (clause 8.4), hash verification (clause 8.5) and
//! layer selection (clause 8.6).

use crate::error::{DecodeError, ErrorClass, Location, Result};
use crate::levels::{LevelLimits, Profile};
use crate::methods::decode_payload;
use crate::references::ReferenceLists;
use crate::syntax::{
    FeatureData, FrameHeader, Identification, LayerParameters, Metadata, SequenceHeader,
    SyntaxStructure, TensorHash,
};
use crate::types::{CodingMethod, ElementType, HashType, LayerKind, UnitType};
use crate::units::{RawUnit, UnitReader};
use bitstream_io::{BigEndian, BitReader, FromBitStream, FromBitStreamWith};
use std::collections::{BTreeSet, HashSet};
use std::io::Read;

mod resilience;

/// A layer as declared by its layer parameters unit, after the checks of clause 7.4.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    pub id: u16,
    pub name: String,
    pub kind: LayerKind,
    pub element_type: ElementType,
    pub non_negative: bool,
    pub default_method: CodingMethod,
    pub shape: Vec<u32>,
}

impl LayerInfo {
    pub fn element_count(&self) -> u64 {
        self.shape.iter().map(|&d| u64::from(d)).product()
    }

    /// Size of the decoded tensor in the canonical layout (clause 8.4).
    pub fn byte_len(&self) -> u64 {
        self.element_count() * self.element_type.size() as u64
    }
}

/// What the header units of a stream declare.
#[derive(Clone, Debug)]
pub struct StreamInfo {
    pub identification: Identification,
    pub sequence_header: SequenceHeader,
    pub profile: Profile,
    pub level: &'static LevelLimits,
    pub layers: Vec<LayerInfo>,
    /// Metadata units read so far, in stream order.
    pub metadata: Vec<Vec<(String, String)>>,
}

impl StreamInfo {
    pub fn layer_by_name(&self, name: &str) -> Option<&LayerInfo> {
        self.layers.iter().find(|l| l.name == name)
    }
}

/// One output of the decoding process (clause 8.4).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedTensor {
    pub layer_id: u16,
    pub frame_index: u32,
    pub element_type: ElementType,
    pub shape: Vec<u32>,
    /// The canonical byte layout: little-endian elements in C order.
    pub data: Vec<u8>,
    pub coding_method: CodingMethod,
    /// Bytes of `method_payload`.
    pub coded_len: usize,
    /// Whether a tensor_hash unit confirmed `data` (clause 8.5).
    pub hash_verified: bool,
}

/// SHA-256 of the canonical bytes of a decoded tensor (clause 8.5).
pub fn tensor_sha256(data: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(data).into()
}

/// Options of the decoding process.
#[derive(Clone, Debug, Default)]
pub struct DecodeOptions {
    /// Do not verify tensor_hash units against the decoded tensors (clause 8.5); they are
    /// verified by default.
    pub skip_hash_check: bool,
    /// Threads the native method may use to decode the slices of one tensor (0 or 1: one).
    pub threads: usize,
    /// Start at the random-access frame_header with this frame_index (clause 8.6): the units
    /// between the header units and it are passed over (read, size- and CRC-checked, frame
    /// headers parsed, nothing decoded). Without such a frame_header the stream decodes to no
    /// tensor. See [`crate::random_access_points`] to choose one.
    pub start_frame: Option<u32>,
    /// Pass over damaged units instead of stopping (informative Annex E): a body unit whose CRC
    /// fails, a payload that does not decode or does not match its hash. Each is reported by
    /// [`Decoder::take_damage`]; tensors that depend on a lost one are not output.
    pub skip_damaged_units: bool,
}

/// A streaming decoder: reads one unit at a time from any reader and returns decoded tensors.
pub struct Decoder<R> {
    units: UnitReader<R>,
    options: DecodeOptions,
    info: Option<StreamInfo>,
    selection: Option<BTreeSet<u16>>,
    /// A unit read ahead while looking for a tensor_hash unit.
    pending: Option<RawUnit>,
    /// The decoded tensor waiting for a possible tensor_hash unit.
    held: Option<DecodedTensor>,
    /// (layer_id, frame_index) of the unit just before, if it was feature data.
    previous_feature: Option<(u16, u32)>,
    seen: HashSet<(u16, u32)>,
    last_frame: Option<u32>,
    finished: bool,
    /// The frame_index of the last frame_header unit, once one was read (clause 8.7).
    current_frame: Option<u32>,
    /// Whether a feature_data unit was read before any frame_header unit.
    feature_before_frames: bool,
    /// Per layer, the levels of its quantized reference tensors (clause 8.7).
    references: ReferenceLists<i32>,
    /// Per layer, the canonical bytes of its native reference tensors (clause 8.7).
    value_references: ReferenceLists<u8>,
    /// Still looking for the random-access point of `DecodeOptions::start_frame`.
    skipping: bool,
    /// What `DecodeOptions::skip_damaged_units` passed over, and what it affects.
    resilience: resilience::State,
}

impl<R: Read> Decoder<R> {
    pub fn new(reader: R) -> Self {
        Self::with_options(reader, DecodeOptions::default())
    }

    pub fn with_options(reader: R, options: DecodeOptions) -> Self {
        Decoder {
            units: UnitReader::new(reader),
            info: None,
            selection: None,
            pending: None,
            held: None,
            previous_feature: None,
            seen: HashSet::new(),
            last_frame: None,
            finished: false,
            current_frame: None,
            feature_before_frames: false,
            references: ReferenceLists::default(),
            value_references: ReferenceLists::default(),
            skipping: options.start_frame.is_some(),
            resilience: resilience::State::default(),
            options,
        }
    }

    /// Reads the identification, the sequence header and every layer parameters unit.
    pub fn info(&mut self) -> Result<&StreamInfo> {
        if self.info.is_none() {
            self.read_header()?;
        }
        Ok(self.info.as_ref().expect("read_header sets info"))
    }

    /// Decodes only these layers from now on; feature data of other layers is checked for CRC
    /// and order but not decompressed (clause 8.6).
    pub fn select_layers(&mut self, layer_ids: impl IntoIterator<Item = u16>) {
        self.selection = Some(layer_ids.into_iter().collect());
    }

    /// The frame_index of the last frame_header unit read, if any: `Some` in a sequence.
    pub fn current_frame(&self) -> Option<u32> {
        self.current_frame
    }

    /// The failures passed over so far under `DecodeOptions::skip_damaged_units`, in stream
    /// order, each naming its unit and, where known, its layer and frame.
    pub fn take_damage(&mut self) -> Vec<DecodeError> {
        std::mem::take(&mut self.resilience.damage)
    }

    /// The next decoded tensor, or `None` after the end of sequence.
    pub fn next_tensor(&mut self) -> Result<Option<DecodedTensor>> {
        self.info()?;
        loop {
            if self.finished {
                return Ok(self.held.take());
            }
            let raw = match self.next_unit() {
                Ok(raw) => raw,
                Err(e) => {
                    self.pass_over_damaged_unit(e)?;
                    // The tensor before it is delivered, unverified.
                    match self.held.take() {
                        Some(tensor) => return Ok(Some(tensor)),
                        None => continue,
                    }
                }
            };
            let is_hash = raw.unit.unit_type == UnitType::TensorHash.code();
            if !is_hash {
                if let Some(tensor) = self.held.take() {
                    self.pending = Some(raw);
                    return Ok(Some(tensor));
                }
            }
            if let Err(e) = self.process_body_unit(raw) {
                self.pass_over_failed_unit(e)?;
            }
            if is_hash {
                if let Some(tensor) = self.held.take() {
                    return Ok(Some(tensor));
                }
            }
        }
    }

    /// Decodes the rest of the stream.
    pub fn decode_to_end(&mut self) -> Result<Vec<DecodedTensor>> {
        let mut out = Vec::new();
        while let Some(t) = self.next_tensor()? {
            out.push(t);
        }
        Ok(out)
    }

    pub(crate) fn next_unit(&mut self) -> Result<RawUnit> {
        if let Some(raw) = self.pending.take() {
            return Ok(raw);
        }
        match self.units.next_unit()? {
            Some(raw) => Ok(raw),
            None => Err({
                crate::coverage::hit("req:REQ-7.2-5");
                DecodeError::new(
                    ErrorClass::Truncated,
                    "REQ-7.2-5",
                    Location::Unit {
                        index: u64::MAX,
                        offset: self.units.offset(),
                    },
                    "the stream ends without an end_of_sequence unit",
                )
            }),
        }
    }

    fn read_header(&mut self) -> Result<()> {
        let identification = self.units.read_identification()?;
        let raw = self.next_unit()?;
        let loc = raw.location();
        if raw.unit_type() != Some(UnitType::SequenceHeader) {
            return Err(invalid(
                "REQ-5.2-1",
                loc,
                format!(
                    "the first unit has type 0x{:02X}, not sequence_header",
                    raw.unit.unit_type
                ),
            ));
        }
        let header: SequenceHeader = parse(&raw, |r| SequenceHeader::from_reader(r))?;
        if (header.version_major, header.version_minor)
            != (identification.version_major, identification.version_minor)
        {
            return Err(invalid(
                "REQ-7.3-1",
                loc,
                format!(
                    "sequence header version {}.{} differs from the identification's {}.{}",
                    header.version_major,
                    header.version_minor,
                    identification.version_major,
                    identification.version_minor
                ),
            ));
        }
        let profile = Profile::from_code(header.profile_idc).ok_or_else(|| {
            unsupported(
                "REQ-7.3-2",
                loc,
                format!("profile_idc {} is reserved", header.profile_idc),
            )
        })?;
        crate::coverage::value("profile_idc", profile.name());
        let level = LevelLimits::from_idc(header.level_idc).ok_or_else(|| {
            unsupported(
                "REQ-7.3-3",
                loc,
                format!("level_idc {} is reserved", header.level_idc),
            )
        })?;
        crate::coverage::value("level_idc", &level.name());
        if header.num_layers == 0 {
            return Err(invalid("REQ-7.3-4", loc, "num_layers is 0"));
        }
        if u32::from(header.num_layers) > level.max_layers {
            return Err(limit(
                "REQ-A.2-1",
                loc,
                format!(
                    "num_layers {} exceeds MaxLayers {} of level {}",
                    header.num_layers,
                    level.max_layers,
                    level.name()
                ),
            ));
        }
        if header.reserved_zero_16bits != 0 {
            return Err(invalid("REQ-7.3-5", loc, "reserved_zero_16bits is not 0"));
        }
        self.units.set_max_unit_size(level.max_unit_size);
        let mut info = StreamInfo {
            identification,
            sequence_header: header,
            profile,
            level,
            layers: Vec::new(),
            metadata: Vec::new(),
        };
        let mut frame_bytes = 0u64;
        while info.layers.len() < usize::from(info.sequence_header.num_layers) {
            let raw = self.next_unit()?;
            let loc = raw.location();
            match raw.unit_type() {
                Some(UnitType::LayerParameters) => {
                    let params: LayerParameters = parse(&raw, |r| LayerParameters::from_reader(r))?;
                    let layer = check_layer(&params, &info, loc)?;
                    frame_bytes += layer.byte_len();
                    let counted = if crate::mutant!("frame-bytes-per-layer") {
                        layer.byte_len()
                    } else {
                        frame_bytes
                    };
                    if counted > level.max_frame_bytes {
                        return Err(limit(
                            "REQ-A.2-4",
                            loc,
                            format!(
                                "the layers decode to {frame_bytes} bytes per frame, above MaxFrameBytes {} of level {}",
                                level.max_frame_bytes,
                                level.name()
                            ),
                        ));
                    }
                    info.layers.push(layer);
                }
                Some(UnitType::Metadata) => info.metadata.push(parse_metadata(&raw)?),
                None => crate::coverage::hit("branch:skip_reserved_unit"),
                Some(other) => {
                    return Err(invalid(
                        if other == UnitType::SequenceHeader {
                            "REQ-5.2-1"
                        } else {
                            "REQ-5.2-2"
                        },
                        loc,
                        format!(
                            "{other} unit where layer_parameters unit {} of {} was expected",
                            info.layers.len(),
                            info.sequence_header.num_layers
                        ),
                    ))
                }
            }
        }
        self.info = Some(info);
        Ok(())
    }

    /// Processes a unit after the header units (clause 5.2), or passes over it before the
    /// start point of random access (clause 8.6).
    fn process_body_unit(&mut self, raw: RawUnit) -> Result<()> {
        if self.skipping && raw.unit_type() != Some(UnitType::EndOfSequence) {
            let start = self
                .options
                .start_frame
                .expect("skipping only with a start frame");
            if !crate::random_access::is_start_point(&raw, start)? {
                if crate::mutant!("passed-over-units-checked") {
                    self.process_unit(raw)?;
                    self.held = None;
                }
                return Ok(());
            }
            // Step 3 of clause 8.6: no unit passed over changed the state of clause 8.2, which
            // is still that after the header units; the start point is a body unit.
            crate::coverage::hit("branch:start_at_random_access_point");
            self.skipping = false;
        }
        if self.passes_over(&raw) {
            self.previous_feature = None;
            return Ok(());
        }
        self.process_unit(raw)
    }

    /// Processes a body unit by its type (clause 8.2).
    fn process_unit(&mut self, raw: RawUnit) -> Result<()> {
        let loc = raw.location();
        let previous_feature = self.previous_feature.take();
        match raw.unit_type() {
            Some(UnitType::FrameHeader) => self.frame_header(&raw),
            Some(UnitType::FeatureData) => self.feature_data(&raw),
            Some(UnitType::TensorHash) => self.tensor_hash(&raw, previous_feature),
            Some(UnitType::Metadata) => {
                if crate::mutant!("tensor-hash-skips-metadata") {
                    self.previous_feature = previous_feature;
                }
                let entries = parse_metadata(&raw)?;
                self.info
                    .as_mut()
                    .expect("header read")
                    .metadata
                    .push(entries);
                Ok(())
            }
            Some(UnitType::EndOfSequence) => self.end_of_sequence(&raw),
            Some(UnitType::SequenceHeader) => {
                Err(invalid("REQ-5.2-1", loc, "a second sequence_header unit"))
            }
            Some(UnitType::LayerParameters) => Err(invalid(
                "REQ-5.2-2",
                loc,
                "more layer_parameters units than num_layers",
            )),
            None => {
                if crate::mutant!("tensor-hash-skips-metadata") {
                    self.previous_feature = previous_feature;
                }
                crate::coverage::hit("branch:skip_reserved_unit");
                Ok(())
            }
        }
    }

    /// The end_of_sequence unit (clause 8.2): its payload is empty and nothing follows it.
    pub(crate) fn end_of_sequence(&mut self, raw: &RawUnit) -> Result<()> {
        parse(raw, |r| crate::syntax::EndOfSequence::from_reader(r))?;
        if !crate::mutant!("bytes-after-end-allowed") && self.units.has_trailing_bytes()? {
            return Err(invalid(
                "REQ-5.2-4",
                raw.location(),
                "bytes follow the end_of_sequence unit",
            ));
        }
        self.finished = true;
        Ok(())
    }

    /// A frame_header unit (clauses 7.11 and 8.7): checks it, and empties the reference lists
    /// at a random-access point.
    fn frame_header(&mut self, raw: &RawUnit) -> Result<()> {
        let loc = raw.location();
        let header: FrameHeader = parse(raw, |r| FrameHeader::from_reader(r))?;
        if header.reserved_zero_7bits != 0 {
            return Err(invalid("REQ-7.11-1", loc, "reserved_zero_7bits is not 0"));
        }
        if self.feature_before_frames && !crate::mutant!("feature-before-frame-header-allowed") {
            return Err(invalid(
                "REQ-5.2-6",
                loc,
                "a frame_header unit after feature_data units that had none",
            ));
        }
        match self.current_frame {
            None if !header.random_access => {
                return Err(invalid(
                    "REQ-7.11-2",
                    loc,
                    "the first frame_header unit is not a random-access point",
                ))
            }
            Some(previous) if header.frame_index <= previous => {
                return Err(invalid(
                    "REQ-7.11-3",
                    loc,
                    format!(
                        "frame_index {} after frame_index {previous}",
                        header.frame_index
                    ),
                ))
            }
            _ => {}
        }
        crate::coverage::value(
            "random_access",
            if header.random_access { "1" } else { "0" },
        );
        self.current_frame = Some(header.frame_index);
        if header.random_access && !crate::mutant!("random-access-keeps-references") {
            self.references.clear();
            self.value_references.clear();
            self.resilience.at_random_access_point();
        }
        Ok(())
    }

    fn feature_data(&mut self, raw: &RawUnit) -> Result<()> {
        let loc = raw.location();
        let size = raw.unit.payload_size;
        let unit: FeatureData = parse(raw, |r| FeatureData::from_reader(r, &size))?;
        let info = self.info.as_ref().expect("header read");
        let layer = info.layers.get(usize::from(unit.layer_id)).ok_or_else(|| {
            invalid(
                "REQ-7.5-1",
                loc,
                format!(
                    "layer_id {} but num_layers is {}",
                    unit.layer_id,
                    info.layers.len()
                ),
            )
        })?;
        let in_layer = |e: DecodeError| e.in_layer(&layer.name, unit.frame_index);
        let method = CodingMethod::from_code(unit.coding_method)
            .ok_or_else(|| {
                unsupported(
                    "REQ-7.5-2",
                    loc,
                    format!("coding_method {} is reserved", unit.coding_method),
                )
            })
            .map_err(in_layer)?;
        crate::coverage::value("coding_method", method.name());
        if !info.profile.allows_method(method) {
            return Err(in_layer(limit(
                "REQ-A.1-2",
                loc,
                format!(
                    "coding method {method} is not allowed in the {} profile",
                    info.profile
                ),
            )));
        }
        let minor = info.identification.version_minor;
        if method == CodingMethod::Native
            && (2..=4).contains(&minor)
            && !crate::mutant!("version-minor-native-allowed")
        {
            return Err(unsupported(
                "REQ-7.1-3",
                loc,
                format!("a native payload in a version 0.{minor} stream has the native_header() of that version, which this version does not define"),
            ));
        }
        if let Some(last) = self.last_frame {
            let equal_is_order_error = crate::mutant!("frame-index-increasing");
            if unit.frame_index < last || (equal_is_order_error && unit.frame_index == last) {
                return Err(in_layer(invalid(
                    "REQ-5.2-5",
                    loc,
                    format!("frame_index {} after frame_index {last}", unit.frame_index),
                )));
            }
        }
        if !self.seen.insert((unit.layer_id, unit.frame_index)) {
            return Err(in_layer(invalid(
                "REQ-5.2-5",
                loc,
                format!(
                    "a second feature_data unit for layer {} in frame {}",
                    unit.layer_id, unit.frame_index
                ),
            )));
        }
        match self.current_frame {
            None => self.feature_before_frames = true,
            Some(f) if f != unit.frame_index => {
                return Err(in_layer(invalid(
                    "REQ-5.2-6",
                    loc,
                    format!(
                        "feature_data of frame {} in the access unit of frame {f}",
                        unit.frame_index
                    ),
                )))
            }
            Some(_) => {}
        }
        self.last_frame = Some(unit.frame_index);
        self.previous_feature = Some((unit.layer_id, unit.frame_index));
        let selected = self
            .selection
            .as_ref()
            .is_none_or(|s| s.contains(&unit.layer_id));
        if !selected {
            crate::coverage::hit("branch:skip_unselected_layer");
            return Ok(());
        }
        if self
            .resilience
            .lost_references(unit.layer_id, loc, &layer.name, unit.frame_index)
        {
            return Ok(());
        }
        let desc = crate::native::TensorDesc {
            element_type: layer.element_type,
            shape: &layer.shape,
            non_negative: layer.non_negative,
        };
        let method_error = |e: crate::methods::MethodError| {
            crate::coverage::hit(&format!("req:{}", e.requirement));
            DecodeError::new(ErrorClass::Invalid, e.requirement, loc, e.message)
                .in_layer(&layer.name, unit.frame_index)
        };
        let max_refs = if crate::mutant!("references-unbounded") {
            usize::MAX
        } else {
            info.level.max_ref_frames as usize
        };
        // Clause 8.7: references exist only in a stream with access units.
        let in_access_unit =
            self.current_frame.is_some() || crate::mutant!("references-without-frame-headers");
        let layer_index = usize::from(unit.layer_id);
        let data = if method == CodingMethod::Quantized {
            crate::coverage::hit("branch:method:quantized");
            let (data, levels) = crate::quant::decode_quantized_with_refs(
                &unit.method_payload,
                &desc,
                self.options.threads,
                &self.references.of(layer_index),
            )
            .map_err(method_error)?;
            // Clause 8.7: the tensor becomes the most recent reference of its layer, in a
            // stream with access units; without them, the lists stay empty.
            if in_access_unit {
                self.references.push(layer_index, levels, max_refs);
            }
            data
        } else if method == CodingMethod::Native {
            crate::coverage::hit("branch:method:native");
            let data = crate::native::decode_native_with_refs(
                &unit.method_payload,
                &desc,
                self.options.threads,
                &self.value_references.of(layer_index),
            )
            .map_err(method_error)?;
            // Clause 8.7: the values become the most recent native reference of the layer.
            if in_access_unit {
                self.value_references
                    .push(layer_index, data.clone(), max_refs);
            }
            data
        } else {
            let data = decode_payload(method, &unit.method_payload, &desc, self.options.threads)
                .map_err(method_error)?;
            if in_access_unit && crate::mutant!("value-references-any-method") {
                self.value_references
                    .push(layer_index, data.clone(), max_refs);
            }
            data
        };
        // A native payload of a non-negative layer codes no sign bit (clause 8.3.6.2), so its
        // output needs no check.
        if layer.non_negative && method != CodingMethod::Native {
            crate::coverage::hit("branch:non_negative_check");
            if let Some(i) = first_negative(layer.element_type, &data) {
                return Err(in_layer(invalid(
                    "REQ-8.4-1",
                    loc,
                    format!(
                        "layer {} is declared non-negative but element {i} is negative",
                        layer.name
                    ),
                )));
            }
        }
        self.held = Some(DecodedTensor {
            layer_id: unit.layer_id,
            frame_index: unit.frame_index,
            element_type: layer.element_type,
            shape: layer.shape.clone(),
            data,
            coding_method: method,
            coded_len: unit.method_payload.len(),
            hash_verified: false,
        });
        Ok(())
    }

    fn tensor_hash(&mut self, raw: &RawUnit, previous_feature: Option<(u16, u32)>) -> Result<()> {
        let loc = raw.location();
        let size = raw.unit.payload_size;
        let unit: TensorHash = parse(raw, |r| TensorHash::from_reader(r, &size))?;
        let info = self.info.as_ref().expect("header read");
        let layer_name = info
            .layers
            .get(usize::from(unit.layer_id))
            .map(|l| l.name.clone());
        let named = |e: DecodeError| match &layer_name {
            Some(name) => e.in_layer(name, unit.frame_index),
            None => e,
        };
        if previous_feature != Some((unit.layer_id, unit.frame_index)) {
            return Err(named(invalid(
                "REQ-5.2-3",
                loc,
                format!(
                    "tensor_hash for layer {} frame {} does not follow that layer's feature_data unit",
                    unit.layer_id, unit.frame_index
                ),
            )));
        }
        let hash_type = HashType::from_code(unit.hash_type)
            .ok_or_else(|| {
                unsupported(
                    "REQ-7.6-1",
                    loc,
                    format!("hash_type {} is reserved", unit.hash_type),
                )
            })
            .map_err(named)?;
        crate::coverage::value("hash_type", hash_type.name());
        if unit.hash_value.len() != hash_type.digest_len() {
            return Err(named(invalid(
                "REQ-7.6-2",
                loc,
                format!(
                    "hash_value has {} bytes, {hash_type} needs {}",
                    unit.hash_value.len(),
                    hash_type.digest_len()
                ),
            )));
        }
        if self.options.skip_hash_check {
            return Ok(());
        }
        if let Some(tensor) = self.held.as_mut() {
            crate::coverage::hit("branch:hash_verified");
            let digest = if crate::mutant!("tensor-hash-covers-ids") {
                let ids = [
                    &unit.layer_id.to_be_bytes()[..],
                    &unit.frame_index.to_be_bytes(),
                ];
                tensor_sha256(&[&ids.concat()[..], &tensor.data].concat())
            } else {
                tensor_sha256(&tensor.data)
            };
            if digest[..] != unit.hash_value[..] {
                crate::coverage::hit("req:REQ-8.5-1");
                return Err(named(DecodeError::new(
                    ErrorClass::Corrupt,
                    "REQ-8.5-1",
                    loc,
                    format!(
                        "decoded tensor of layer {} frame {} does not match its SHA-256",
                        unit.layer_id, unit.frame_index
                    ),
                )));
            }
            tensor.hash_verified = true;
        }
        Ok(())
    }
}

/// Decodes a whole stream held in memory.
pub fn decode_all(stream: &[u8]) -> Result<(StreamInfo, Vec<DecodedTensor>)> {
    let mut decoder = Decoder::new(stream);
    let tensors = decoder.decode_to_end()?;
    let info = decoder.info.take().expect("decoded");
    Ok((info, tensors))
}

/// Parses a unit payload with `read` and checks that it fills the payload exactly (REQ-7.2-6).
pub(crate) fn parse<T: SyntaxStructure>(
    raw: &RawUnit,
    read: impl FnOnce(&mut BitReader<&[u8], BigEndian>) -> std::io::Result<T>,
) -> Result<T> {
    let payload: &[u8] = &raw.unit.payload;
    let mut r = BitReader::endian(payload, BigEndian);
    let name = raw.unit_type().map_or("unit", |t| t.name());
    let value = read(&mut r).map_err(|_| {
        invalid(
            "REQ-7.2-6",
            raw.location(),
            format!(
                "{name} payload of {} bytes is too short for its syntax",
                payload.len()
            ),
        )
    })?;
    let used = value.coded_bytes();
    if used != payload.len() {
        return Err(invalid(
            "REQ-7.2-6",
            raw.location(),
            format!(
                "{name} payload has {} bytes, its syntax uses {used}",
                payload.len()
            ),
        ));
    }
    crate::coverage::syntax(&value);
    Ok(value)
}

fn parse_metadata(raw: &RawUnit) -> Result<Vec<(String, String)>> {
    let unit: Metadata = parse(raw, |r| Metadata::from_reader(r))?;
    let text = |bytes: &[u8]| {
        if crate::mutant!("metadata-utf8-unchecked") {
            return Ok(String::from_utf8_lossy(bytes).into_owned());
        }
        String::from_utf8(bytes.to_vec()).map_err(|_| {
            invalid(
                "REQ-7.7-1",
                raw.location(),
                "metadata text is not valid UTF-8",
            )
        })
    };
    unit.entries
        .iter()
        .map(|e| Ok((text(&e.key)?, text(&e.value)?)))
        .collect()
}

/// Semantics of layer_parameters() (clause 7.4) and the limits of Annex A.
fn check_layer(p: &LayerParameters, info: &StreamInfo, loc: Location) -> Result<LayerInfo> {
    let expected_id = info.layers.len();
    if usize::from(p.layer_id) != expected_id && !crate::mutant!("layer-id-unchecked") {
        return Err(invalid(
            "REQ-7.4-1",
            loc,
            format!("layer_id {} where {expected_id} was expected", p.layer_id),
        ));
    }
    let kind = LayerKind::from_code(p.layer_kind).ok_or_else(|| {
        unsupported(
            "REQ-7.4-2",
            loc,
            format!("layer_kind {} is reserved", p.layer_kind),
        )
    })?;
    crate::coverage::value("layer_kind", kind.name());
    let element_type = ElementType::from_code(p.element_type).ok_or_else(|| {
        unsupported(
            "REQ-7.4-3",
            loc,
            format!("element_type {} is reserved", p.element_type),
        )
    })?;
    crate::coverage::value("element_type", element_type.name());
    if !info.profile.allows_element_type(element_type) {
        return Err(limit(
            "REQ-A.1-1",
            loc,
            format!(
                "element type {element_type} is not allowed in the {} profile",
                info.profile
            ),
        ));
    }
    crate::coverage::value(
        "non_negative_flag",
        if p.non_negative_flag { "1" } else { "0" },
    );
    if p.reserved_zero_7bits != 0 {
        return Err(invalid("REQ-7.4-4", loc, "reserved_zero_7bits is not 0"));
    }
    let default_method = CodingMethod::from_code(p.default_method).ok_or_else(|| {
        unsupported(
            "REQ-7.4-5",
            loc,
            format!("default_method {} is reserved", p.default_method),
        )
    })?;
    crate::coverage::value("default_method", default_method.name());
    if !info.profile.allows_method(default_method) {
        return Err(limit(
            "REQ-A.1-2",
            loc,
            format!(
                "default method {default_method} is not allowed in the {} profile",
                info.profile
            ),
        ));
    }
    if !(1..=4).contains(&p.dims.len()) {
        return Err(invalid(
            "REQ-7.4-6",
            loc,
            format!("rank {} is not 1 to 4", p.dims.len()),
        ));
    }
    crate::coverage::value("rank", &p.dims.len().to_string());
    if p.dims.contains(&0) {
        return Err(invalid(
            "REQ-7.4-7",
            loc,
            format!("a dimension is 0 in {:?}", p.dims),
        ));
    }
    if p.element_count() > info.level.max_tensor_elements {
        return Err(limit(
            "REQ-A.2-2",
            loc,
            format!(
                "{} elements exceed MaxTensorElements {} of level {}",
                p.element_count(),
                info.level.max_tensor_elements,
                info.level.name()
            ),
        ));
    }
    let name = String::from_utf8(p.name.clone())
        .map_err(|_| invalid("REQ-7.4-8", loc, "layer name is not valid UTF-8"))?;
    if info.layers.iter().any(|l| l.name == name) && !crate::mutant!("layer-names-may-repeat") {
        return Err(invalid(
            "REQ-7.4-9",
            loc,
            format!("layer name {name:?} is used twice"),
        ));
    }
    Ok(LayerInfo {
        id: p.layer_id,
        name,
        kind,
        element_type,
        non_negative: p.non_negative_flag,
        default_method,
        shape: p.dims.clone(),
    })
}

/// The first negative element of a decoded tensor (clause 8.4): one whose sign bit is set.
fn first_negative(element_type: ElementType, data: &[u8]) -> Option<usize> {
    let zero_ok = crate::mutant!("negative-zero-not-negative");
    let nan_ok = crate::mutant!("negative-nan-not-negative");
    if !zero_ok && !nan_ok {
        return element_type.first_negative(data);
    }
    // The misreadings compare values: -0.0, or a NaN, is not below zero.
    let size = element_type.size();
    data.chunks_exact(size).position(|e| {
        let bits = e.iter().rev().fold(0u32, |acc, &b| acc << 8 | u32::from(b));
        let (exp_mask, mant_mask) = match element_type {
            ElementType::Float32 => (0x7F80_0000, 0x007F_FFFF),
            ElementType::Float16 => (0x7C00, 0x03FF),
            ElementType::BFloat16 => (0x7F80, 0x007F),
            _ => (0, 0),
        };
        let magnitude_zero = bits & (exp_mask | mant_mask) == 0;
        let nan = exp_mask != 0 && bits & exp_mask == exp_mask && bits & mant_mask != 0;
        element_type.has_sign_set(e)
            && !(zero_ok && magnitude_zero && exp_mask != 0)
            && !(nan_ok && nan)
    })
}

fn invalid(req: &'static str, loc: Location, msg: impl Into<String>) -> DecodeError {
    crate::coverage::hit(&format!("req:{req}"));
    DecodeError::new(ErrorClass::Invalid, req, loc, msg)
}

fn unsupported(req: &'static str, loc: Location, msg: impl Into<String>) -> DecodeError {
    crate::coverage::hit(&format!("req:{req}"));
    DecodeError::new(ErrorClass::Unsupported, req, loc, msg)
}

fn limit(req: &'static str, loc: Location, msg: impl Into<String>) -> DecodeError {
    crate::coverage::hit(&format!("req:{req}"));
    DecodeError::new(ErrorClass::LimitExceeded, req, loc, msg)
}
