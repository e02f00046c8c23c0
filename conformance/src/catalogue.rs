//! The case catalogue: every case of the suite, in code.
//!
//! A case is made either by the reference encoder from a [`Recipe`], or from an earlier case
//! (its base) by [`mutate`](crate::mutate) operations. Operations may depend on the base stream
//! (unit indices, a recompressed payload), so they are computed from it; `expect.json` records
//! the resulting operations literally.

use crate::hex;
use crate::mutate::Units;
use crate::quantized::{self, Params, QuantPayload};
use crate::recipe::{
    Convert, DataSpec, FrameLayer, FrameRecipe, LayerRecipe, LossySpec, LossyTarget, Recipe,
    SpecialSet,
};
use bitstream_io::{BigEndian, BitReader, FromBitStream};
use dfc_decoder::quant::syntax::QuantHeader;
use dfc_decoder::syntax::{
    LayerParameters, Metadata, MetadataEntry, SequenceHeader, SyntaxStructure, Unit,
};
use dfc_decoder::{CodingMethod, ElementType, LayerKind, UnitType};
use dfc_encoder::TensorRef;

/// The three groups of the suite.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// Conforming streams that must decode to exactly the expected tensors.
    Valid,
    /// Conforming streams a decoder may find unusual (largest level sizes, empty metadata,
    /// reserved-skippable units, alternative payload encodings).
    Uncommon,
    /// Streams that break exactly one requirement (the first in check order) and must be rejected.
    Invalid,
}

impl Group {
    pub const ALL: [Group; 3] = [Group::Valid, Group::Uncommon, Group::Invalid];

    pub fn name(self) -> &'static str {
        match self {
            Group::Valid => "valid",
            Group::Uncommon => "uncommon",
            Group::Invalid => "invalid",
        }
    }

    pub fn from_name(name: &str) -> Option<Group> {
        Group::ALL.into_iter().find(|g| g.name() == name)
    }
}

/// Operations computed from the base stream.
pub type OpsFn = Box<dyn Fn(&Base) -> Vec<String>>;

/// Tensors a mutated stream decodes to that are not among its base's: hand-computed, never
/// by the reference decoder.
pub type OutputsFn = Box<dyn Fn(&Base) -> Vec<HandTensor>>;

/// A check of a generated stream (see [`Case::check`]).
pub type CheckFn = Box<dyn Fn(&[u8]) -> Result<(), String>>;

/// A hand-computed decoded tensor of a mutated case: (layer, frame) and its canonical bytes.
pub struct HandTensor {
    pub layer_id: u16,
    pub frame_index: u32,
    pub data: Vec<u8>,
}

/// How a case's stream is made.
pub enum Source {
    Recipe(Recipe),
    Mutation { base: String, ops: OpsFn },
}

/// One case of the suite.
pub struct Case {
    pub group: Group,
    pub id: String,
    pub purpose: String,
    /// Requirement IDs the case targets; for an invalid case, the first is the one it breaks.
    pub requirements: Vec<String>,
    /// Layer selection (clause 8.6) by name.
    pub select_layer: Option<String>,
    /// Random access (clause 8.6): decode from the random-access frame_header with this
    /// frame_index; only the tensors of the frames from it on are expected.
    pub start_frame: Option<u32>,
    pub source: Source,
    /// For a mutated case that decodes: the tensors it outputs that its base does not, computed
    /// by hand (the generator checks that the reference decoder outputs exactly these).
    pub outputs: Option<OutputsFn>,
    /// What the stream must show besides its decoding (for example which syntax values an
    /// encoder-made stream uses); the generator fails with the message otherwise.
    pub check: Option<CheckFn>,
}

impl Case {
    /// `group/ID`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.group.name(), self.id)
    }
}

/// A base stream, with helpers to find its units.
pub struct Base {
    pub stream: Vec<u8>,
    pub units: Units,
}

impl Base {
    pub fn new(stream: Vec<u8>) -> Base {
        let units = Units::parse(&stream);
        Base { stream, units }
    }

    /// Index of the `nth` unit of type `t`.
    pub fn index(&self, t: UnitType, nth: usize) -> usize {
        self.units.indices_of(t)[nth]
    }

    /// Index of the end_of_sequence unit.
    pub fn eos(&self) -> usize {
        self.index(UnitType::EndOfSequence, 0)
    }

    fn find(&self, t: UnitType, layer: u16, frame: u32) -> usize {
        self.units
            .indices_of(t)
            .into_iter()
            .find(|&i| {
                let p = &self.units.units[i].payload;
                u16::from_be_bytes([p[0], p[1]]) == layer
                    && u32::from_be_bytes([p[2], p[3], p[4], p[5]]) == frame
            })
            .unwrap_or_else(|| panic!("no {t} unit for layer {layer} frame {frame}"))
    }

    /// Index of the feature_data unit of (layer, frame).
    pub fn fd(&self, layer: u16, frame: u32) -> usize {
        self.find(UnitType::FeatureData, layer, frame)
    }

    /// Index of the tensor_hash unit of (layer, frame).
    pub fn th(&self, layer: u16, frame: u32) -> usize {
        self.find(UnitType::TensorHash, layer, frame)
    }

    /// Index of the layer_parameters unit of a layer.
    pub fn lp(&self, layer: usize) -> usize {
        self.index(UnitType::LayerParameters, layer)
    }

    pub fn payload(&self, unit: usize) -> &[u8] {
        &self.units.units[unit].payload
    }

    /// `method_payload` of a feature_data unit.
    pub fn method_payload(&self, fd: usize) -> &[u8] {
        &self.payload(fd)[7..]
    }

    /// The layer_parameters of a layer.
    pub fn layer(&self, layer: usize) -> LayerParameters {
        let p = self.payload(self.lp(layer));
        LayerParameters::from_reader(&mut BitReader::endian(p, BigEndian)).expect("a valid base")
    }

    /// The decoded tensor of (layer, frame), by the reference decoder.
    pub fn data(&self, layer: u16, frame: u32) -> Vec<u8> {
        let (_, tensors) = dfc_decoder::decode_all(&self.stream).expect("a valid base");
        tensors
            .into_iter()
            .find(|t| t.layer_id == layer && t.frame_index == frame)
            .expect("the tensor is in the base")
            .data
    }

    /// Byte offset of a unit.
    pub fn offset(&self, unit: usize) -> usize {
        self.units.offset(unit)
    }

    /// `set:<fd>.method_payload=hex:...`.
    pub fn set_payload(&self, fd: usize, payload: &[u8]) -> String {
        format!("set:{fd}.method_payload=hex:{}", hex::encode(payload))
    }

    /// `pwrite` of method_payload byte `offset` XOR `mask`.
    pub fn flip_method_byte(&self, fd: usize, offset: usize, mask: u8) -> String {
        let b = self.method_payload(fd)[offset] ^ mask;
        format!("pwrite:{fd}@{}={b:02x}", 7 + offset)
    }
}

// ---------------------------------------------------------------------------------------------
// Building blocks.

/// Every lossless coding method of the spec version.
const METHODS: &[CodingMethod] = CodingMethod::LOSSLESS;
const TYPES: [ElementType; 5] = [
    ElementType::Float32,
    ElementType::Float16,
    ElementType::BFloat16,
    ElementType::Int8,
    ElementType::Uint8,
];
const FLOATS: [ElementType; 3] = [
    ElementType::Float32,
    ElementType::Float16,
    ElementType::BFloat16,
];
/// Shapes of rank 1 to 4 for the method x type x rank matrix.
const SHAPES: [&[u32]; 4] = [&[37], &[3, 11], &[2, 3, 7], &[2, 2, 3, 5]];
const RANK_KINDS: [LayerKind; 4] = [
    LayerKind::Fc,
    LayerKind::Other,
    LayerKind::Conv,
    LayerKind::Pool,
];
const RESNET: &str = "samples/corpus/opennsfw_resnet50_1by2/astronaut";
const HED: &str = "samples/corpus/hed_vgg16/astronaut";

fn layer(
    name: &str,
    kind: LayerKind,
    t: ElementType,
    shape: &[u32],
    method: &str,
    data: DataSpec,
) -> LayerRecipe {
    LayerRecipe {
        name: name.to_string(),
        repeat: 1,
        kind: kind.name().to_string(),
        element_type: t.name().to_string(),
        shape: shape.to_vec(),
        method: method.to_string(),
        lossy: None,
        data: Some(data),
        non_negative: false,
    }
}

/// A layer without data (a stream that only declares its layers).
fn declared(
    name: &str,
    repeat: u32,
    t: ElementType,
    shape: &[u32],
    method: CodingMethod,
) -> LayerRecipe {
    LayerRecipe {
        name: name.to_string(),
        repeat,
        kind: LayerKind::Other.name().to_string(),
        element_type: t.name().to_string(),
        shape: shape.to_vec(),
        method: method.name().to_string(),
        lossy: None,
        data: None,
        non_negative: t == ElementType::Uint8,
    }
}

fn pattern(specials: bool, phase: u32) -> DataSpec {
    DataSpec::Pattern { specials, phase }
}

fn crop(file: &str, start: &[u32], convert: Option<Convert>) -> DataSpec {
    DataSpec::Crop {
        file: file.to_string(),
        file_sha256: None,
        start: start.to_vec(),
        convert,
    }
}

fn recipe(profile: &str, layers: Vec<LayerRecipe>) -> Recipe {
    Recipe {
        profile: profile.to_string(),
        level_idc: None,
        tensor_hashes: true,
        metadata: Vec::new(),
        layers,
        extra_frames: Vec::new(),
        sequence: None,
    }
}

fn reqs(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

fn from_recipe(group: Group, id: &str, purpose: &str, requirements: &[&str], r: Recipe) -> Case {
    Case {
        group,
        id: id.to_string(),
        purpose: purpose.to_string(),
        requirements: reqs(requirements),
        select_layer: None,
        start_frame: None,
        source: Source::Recipe(r),
        outputs: None,
        check: None,
    }
}

fn mutation(
    group: Group,
    id: &str,
    purpose: &str,
    requirements: &[&str],
    base: &str,
    ops: impl Fn(&Base) -> Vec<String> + 'static,
) -> Case {
    Case {
        group,
        id: id.to_string(),
        purpose: purpose.to_string(),
        requirements: reqs(requirements),
        select_layer: None,
        start_frame: None,
        source: Source::Mutation {
            base: base.to_string(),
            ops: Box::new(ops),
        },
        outputs: None,
        check: None,
    }
}

/// An invalid case: `base` with `ops` breaks `requirement`.
fn invalid(
    id: &str,
    requirement: &str,
    purpose: &str,
    base: &str,
    ops: impl Fn(&Base) -> Vec<String> + 'static,
) -> Case {
    mutation(Group::Invalid, id, purpose, &[requirement], base, ops)
}

fn fixed(ops: &[&str]) -> impl Fn(&Base) -> Vec<String> + 'static {
    let ops: Vec<String> = ops.iter().map(|s| s.to_string()).collect();
    move |_| ops.clone()
}

fn unit_hex(t: u8, payload: &[u8]) -> String {
    format!("0x{t:02X}:{}", hex::encode(payload))
}

fn metadata_payload(entries: &[(&str, &str)]) -> Vec<u8> {
    Metadata {
        entries: entries
            .iter()
            .map(|(k, v)| MetadataEntry {
                key: k.as_bytes().to_vec(),
                value: v.as_bytes().to_vec(),
            })
            .collect(),
    }
    .to_bytes()
}

fn layer_payload(
    id: u16,
    t: ElementType,
    dims: &[u32],
    method: CodingMethod,
    name: &str,
) -> Vec<u8> {
    LayerParameters {
        layer_id: id,
        layer_kind: LayerKind::Other.code(),
        element_type: t.code(),
        non_negative_flag: t == ElementType::Uint8,
        reserved_zero_7bits: 0,
        default_method: method.code(),
        dims: dims.to_vec(),
        name: name.as_bytes().to_vec(),
    }
    .to_bytes()
}

// ---------------------------------------------------------------------------------------------
// Base streams other cases refer to.

/// `valid/two-layers-metadata`: units 0 sequence_header, 1 metadata, 2-3 layer_parameters,
/// 4 feature_data (conv1), 5 tensor_hash, 6 feature_data (fc), 7 tensor_hash, 8 end_of_sequence.
const B1: &str = "valid/two-layers-metadata";
/// `uncommon/no-feature-data`: units 0 sequence_header, 1-2 layer_parameters, 3 end_of_sequence.
const B2: &str = "uncommon/no-feature-data";
/// `valid/frames-3`: layers a, b, c; frames 0, 1, 2.
const FRAMES: &str = "valid/frames-3";

fn b1_recipe(tensor_hashes: bool) -> Recipe {
    let mut r = recipe(
        "main",
        vec![
            layer(
                "conv1",
                LayerKind::Conv,
                ElementType::Float32,
                &[2, 3, 4],
                "zlib",
                pattern(false, 0),
            ),
            layer(
                "fc",
                LayerKind::Fc,
                ElementType::Int8,
                &[10],
                "raw",
                pattern(true, 0),
            ),
        ],
    );
    r.metadata = vec![
        ("model".into(), "dfc-conformance".into()),
        ("input".into(), "synthetic".into()),
    ];
    r.tensor_hashes = tensor_hashes;
    r
}

fn frames_recipe() -> Recipe {
    let mut r = recipe("main", lossless_layers());
    let frame = |index: u32, c_method: &str| FrameRecipe {
        frame_index: index,
        layers: vec![
            FrameLayer {
                layer: "a".into(),
                method: "zlib".into(),
                lossy: None,
                data: pattern(false, 11 * index),
            },
            FrameLayer {
                layer: "b".into(),
                method: "raw".into(),
                lossy: None,
                data: pattern(false, 11 * index),
            },
            FrameLayer {
                layer: "c".into(),
                method: c_method.into(),
                lossy: None,
                data: pattern(false, 11 * index),
            },
        ],
    };
    r.extra_frames = vec![frame(1, "gzip"), frame(2, "bzip2")];
    r
}

// ---------------------------------------------------------------------------------------------
// valid/

fn valid_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    let v = Group::Valid;
    cases.push(from_recipe(
        v,
        "two-layers-metadata",
        "Every unit type of the spec in one small stream: sequence header, metadata, two layers (float32 zlib, int8 raw with extreme values), feature data and tensor hashes, end of sequence. Base of many invalid cases.",
        &["REQ-5.2-1", "REQ-5.2-2", "REQ-5.2-3", "REQ-7.2-3", "REQ-7.2-6", "REQ-8.5-1"],
        b1_recipe(true),
    ));
    cases.push(from_recipe(
        v,
        "no-tensor-hash",
        "The stream of two-layers-metadata without tensor_hash units: the tensors are output as not verified, which is not an error (clause 8.5).",
        &["REQ-5.2-3"],
        b1_recipe(false),
    ));

    // Every coding method x element type x rank, with the special values of each type.
    for method in METHODS {
        for t in TYPES {
            for (r, shape) in SHAPES.iter().enumerate() {
                let id = format!("m-{method}-{t}-r{}", r + 1);
                let name = format!("{method}_{t}_r{}", r + 1);
                cases.push(from_recipe(
                    v,
                    &id,
                    &format!(
                        "Coding method {method}, element type {t}, rank {} (shape {shape:?}): special values of the type (NaN payloads, -0.0, infinities, subnormals, extremes) then ReLU-like values, decoded bit for bit.",
                        r + 1
                    ),
                    &["REQ-8.3-1", "REQ-8.3-2", "REQ-8.5-1"],
                    recipe("main", vec![layer(&name, RANK_KINDS[r], t, shape, method.name(), pattern(true, 0))]),
                ));
            }
        }
    }

    // non_negative_flag = 1 with the values that are not negative although unusual.
    for t in TYPES {
        cases.push(from_recipe(
            v,
            &format!("nonneg-{t}"),
            &format!("Layers of type {t} with non_negative_flag = 1: ReLU-like values, and +0.0, +inf, positive NaNs and subnormals (sign bit clear) for floating-point types."),
            &["REQ-8.4-1"],
            recipe(
                "main",
                vec![
                    layer("relu", LayerKind::Conv, t, &[4, 9], "auto", pattern(false, 3)),
                    layer("positive", LayerKind::Other, t, &[16], "raw", DataSpec::Fill { hex: positive_fill(t) }),
                    layer("zero", LayerKind::Pool, t, &[8], "zlib", DataSpec::Zeros),
                ],
            ),
        ));
    }

    // Edge values: each set of special values, coded with every method.
    let edge_layers = |t: ElementType, data: DataSpec| -> Vec<LayerRecipe> {
        METHODS
            .iter()
            .map(|m| {
                layer(
                    m.name(),
                    LayerKind::Other,
                    t,
                    &[4, 16],
                    m.name(),
                    data.clone(),
                )
            })
            .collect()
    };
    for t in FLOATS {
        for set in SpecialSet::ALL {
            cases.push(from_recipe(
                v,
                &format!("edge-{t}-{}", set.name()),
                &format!("{t} tensors made only of {} values, one layer per coding method: every bit pattern is output unchanged (clause 8.4).", set.name()),
                &["REQ-8.3-1", "REQ-8.4-1", "REQ-8.5-1"],
                recipe("main", edge_layers(t, DataSpec::Specials { set })),
            ));
        }
    }
    for t in [ElementType::Int8, ElementType::Uint8] {
        cases.push(from_recipe(
            v,
            &format!("edge-{t}-extremes"),
            &format!("{t} tensors of 0x00, 0x01, 0x7F, 0x80, 0xFF, one layer per coding method."),
            &["REQ-8.3-1", "REQ-8.4-1"],
            recipe(
                "main",
                edge_layers(
                    t,
                    DataSpec::Specials {
                        set: SpecialSet::Extremes,
                    },
                ),
            ),
        ));
    }
    for t in TYPES {
        cases.push(from_recipe(
            v,
            &format!("edge-{t}-all-zero"),
            &format!("All-zero {t} feature maps (shape [4, 8, 8]), one layer per coding method."),
            &["REQ-8.3-1"],
            recipe(
                "main",
                METHODS
                    .iter()
                    .map(|m| {
                        layer(
                            m.name(),
                            LayerKind::Conv,
                            t,
                            &[4, 8, 8],
                            m.name(),
                            DataSpec::Zeros,
                        )
                    })
                    .collect(),
            ),
        ));
    }

    // Real features: crops of the shipped corpus.
    let pool1 = |convert| crop(&format!("{RESNET}/pool1.npy"), &[10, 20, 20], convert);
    for method in METHODS {
        cases.push(from_recipe(
            v,
            &format!("real-resnet50-pool1-{method}"),
            &format!("Real ResNet-50 pool1 activations (crop [4, 8, 8] of samples/corpus, float32), coded with {method}."),
            &["REQ-8.3-1", "REQ-8.5-1"],
            recipe("main", vec![layer("pool1", LayerKind::Pool, ElementType::Float32, &[4, 8, 8], method.name(), pool1(None))]),
        ));
    }
    cases.push(from_recipe(
        v,
        "real-resnet50-layers",
        "Crops of six real ResNet-50 layers (pool1, res3d, res4f, res5c, the pool5 vector, the two fc logits, one negative) in one stream, method auto.",
        &["REQ-8.3-1", "REQ-8.4-1", "REQ-8.5-1"],
        recipe(
            "main",
            vec![
                layer("pool1", LayerKind::Pool, ElementType::Float32, &[4, 8, 8], "auto", pool1(None)),
                layer("res3d", LayerKind::Conv, ElementType::Float32, &[4, 8, 8], "auto", crop(&format!("{RESNET}/res3d.npy"), &[0, 10, 10], None)),
                layer("res4f", LayerKind::Conv, ElementType::Float32, &[8, 7, 7], "auto", crop(&format!("{RESNET}/res4f.npy"), &[0, 3, 3], None)),
                layer("res5c", LayerKind::Conv, ElementType::Float32, &[4, 7, 7], "auto", crop(&format!("{RESNET}/res5c.npy"), &[0, 0, 0], None)),
                layer("pool5", LayerKind::Pool, ElementType::Float32, &[64], "auto", crop(&format!("{RESNET}/pool5.npy"), &[0], None)),
                layer("fc_logits", LayerKind::Fc, ElementType::Float32, &[2], "auto", crop(&format!("{RESNET}/fc_logits.npy"), &[0], None)),
            ],
        ),
    ));
    cases.push(from_recipe(
        v,
        "real-hed-layers",
        "Crops of three real, sparse VGG-16 (HED) layers: pool3, pool4, conv5_3, method auto.",
        &["REQ-8.3-1", "REQ-8.4-1", "REQ-8.5-1"],
        recipe(
            "main",
            vec![
                layer(
                    "pool3",
                    LayerKind::Pool,
                    ElementType::Float32,
                    &[4, 8, 8],
                    "auto",
                    crop(&format!("{HED}/pool3.npy"), &[0, 10, 10], None),
                ),
                layer(
                    "pool4",
                    LayerKind::Pool,
                    ElementType::Float32,
                    &[8, 7, 7],
                    "auto",
                    crop(&format!("{HED}/pool4.npy"), &[0, 3, 3], None),
                ),
                layer(
                    "conv5_3",
                    LayerKind::Conv,
                    ElementType::Float32,
                    &[8, 7, 7],
                    "auto",
                    crop(&format!("{HED}/conv5_3.npy"), &[0, 3, 3], None),
                ),
            ],
        ),
    ));
    cases.push(from_recipe(
        v,
        "real-resnet50-pool1-float16",
        "Real ResNet-50 pool1 crop converted to float16 (round to nearest even), every coding method.",
        &["REQ-8.3-1"],
        recipe(
            "main",
            METHODS
                .iter()
                .map(|m| layer(&format!("pool1_{m}"), LayerKind::Pool, ElementType::Float16, &[4, 8, 8], m.name(), pool1(Some(Convert::Float16))))
                .collect(),
        ),
    ));
    cases.push(from_recipe(
        v,
        "real-resnet50-pool1-bfloat16",
        "Real ResNet-50 pool1 crop converted to bfloat16 (round to nearest even), every coding method.",
        &["REQ-8.3-1"],
        recipe(
            "main",
            METHODS
                .iter()
                .map(|m| layer(&format!("pool1_{m}"), LayerKind::Pool, ElementType::BFloat16, &[4, 8, 8], m.name(), pool1(Some(Convert::Bfloat16))))
                .collect(),
        ),
    ));
    cases.push(from_recipe(
        v,
        "real-quantized",
        "Real features quantized to 8 bits: HED pool4 as uint8 (x8, clamped), ResNet-50 pool5 and fc logits as int8 (x50, clamped, negative values), method auto.",
        &["REQ-8.3-1", "REQ-8.4-1"],
        recipe(
            "main",
            vec![
                layer("pool4_u8", LayerKind::Pool, ElementType::Uint8, &[8, 7, 7], "auto", crop(&format!("{HED}/pool4.npy"), &[0, 3, 3], Some(Convert::Uint8 { scale: 8.0 }))),
                layer("pool5_i8", LayerKind::Pool, ElementType::Int8, &[64], "auto", crop(&format!("{RESNET}/pool5.npy"), &[0], Some(Convert::Int8 { scale: 50.0 }))),
                layer("fc_logits_i8", LayerKind::Fc, ElementType::Int8, &[2], "auto", crop(&format!("{RESNET}/fc_logits.npy"), &[0], Some(Convert::Int8 { scale: 50.0 }))),
            ],
        ),
    ));

    // Profiles.
    let baseline_layers = |method: &str| {
        [
            ElementType::Float32,
            ElementType::Float16,
            ElementType::Int8,
            ElementType::Uint8,
        ]
        .iter()
        .enumerate()
        .map(|(r, &t)| {
            layer(
                &format!("{t}_r{}", r + 1),
                RANK_KINDS[r],
                t,
                SHAPES[r],
                method,
                pattern(true, 0),
            )
        })
        .collect::<Vec<_>>()
    };
    for method in ["raw", "zlib", "gzip", "auto"] {
        cases.push(from_recipe(
            v,
            &format!("profile-baseline-{method}"),
            &format!("Baseline profile (profile_idc 0) at its limits: every element type it allows (float32, float16, int8, uint8), method {method}."),
            &["REQ-A.1-1", "REQ-A.1-2", "REQ-7.3-2"],
            recipe("baseline", baseline_layers(method)),
        ));
    }
    cases.push(from_recipe(
        v,
        "profile-main-all",
        "Main profile (profile_idc 1) at its limits: bfloat16 and every coding method in one stream.",
        &["REQ-A.1-1", "REQ-A.1-2", "REQ-7.3-2"],
        recipe(
            "main",
            METHODS.iter().map(|m| layer(m.name(), LayerKind::Conv, ElementType::BFloat16, &[3, 4, 5], m.name(), pattern(true, 1))).collect(),
        ),
    ));

    // Frames and layer random access.
    cases.push(from_recipe(
        v,
        "frames-3",
        "Three frames (frame_index 0, 1, 2) of three layers (float32 zlib, uint8 raw, float16 gzip, then bzip2 in frame 2), each feature_data unit followed by its tensor_hash.",
        &["REQ-5.2-3", "REQ-5.2-5", "REQ-8.5-1"],
        frames_recipe(),
    ));
    for (name, what) in [
        ("a", "the first layer"),
        (
            "c",
            "the last layer, whose method changes to bzip2 in frame 2",
        ),
    ] {
        let mut case = from_recipe(
            v,
            &format!("random-access-{name}"),
            &format!("Layer random access (clause 8.6) on frames-3: only layer {name:?} ({what}) is selected; the other layers' feature data is skipped without decoding, their tensor hashes are not verified, and only layer {name:?} is output."),
            &["REQ-5.2-3", "REQ-5.2-5"],
            frames_recipe(),
        );
        case.select_layer = Some(name.to_string());
        cases.push(case);
    }
    cases.extend(quantized_valid_cases());
    cases
}

/// One element of a non-negative fill value per type (canonical bytes).
fn positive_fill(t: ElementType) -> String {
    match t {
        ElementType::Float32 => "0100c07f".into(), // +NaN with a payload
        ElementType::Float16 => "017e".into(),
        ElementType::BFloat16 => "c17f".into(),
        ElementType::Int8 => "7f".into(),
        ElementType::Uint8 => "ff".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// uncommon/

fn uncommon_cases() -> Vec<Case> {
    let u = Group::Uncommon;
    let mut cases = Vec::new();
    let mut b2 = recipe(
        "main",
        vec![
            declared("map", 1, ElementType::Float32, &[4, 4], CodingMethod::Zlib),
            declared("vector", 1, ElementType::Uint8, &[8], CodingMethod::Raw),
        ],
    );
    b2.level_idc = Some(10);
    cases.push(from_recipe(
        u,
        "no-feature-data",
        "A stream that declares two layers and carries no feature data at all (clause 5.2 allows it): nothing is output. Base of the layer_parameters invalid cases.",
        &["REQ-5.2-2"],
        b2,
    ));
    cases.push(mutation(
        u,
        "reserved-skippable-units",
        "Reserved-skippable units (0x80, 0x81, 0xC5, 0xFF; empty and non-empty payloads) among the header units, between frames' units and before the end of sequence: checked (size, CRC) and ignored.",
        &["REQ-7.2-2", "REQ-7.2-3"],
        B1,
        |b| {
            // From the end backwards, so that the base's indices stay valid.
            vec![
                format!("insert:{}={}", b.eos(), unit_hex(0xFF, b"")),
                format!("insert:{}={}", b.fd(1, 0), unit_hex(0xC5, &[0; 40])),
                format!("insert:{}={}", b.lp(1), unit_hex(0x81, b"future")),
                format!("insert:1={}", unit_hex(0x80, b"hello")),
            ]
        },
    ));
    cases.push(mutation(
        u,
        "reserved-skippable-after-feature-data",
        "A reserved-skippable unit right after a feature_data unit that has no tensor_hash unit.",
        &["REQ-5.2-3"],
        "valid/no-tensor-hash",
        |b| {
            vec![format!(
                "insert:{}={}",
                b.fd(0, 0) + 1,
                unit_hex(0x9A, b"skip me")
            )]
        },
    ));
    cases.push(mutation(
        u,
        "metadata-empty",
        "A metadata unit with num_entries = 0.",
        &["REQ-7.2-6", "REQ-7.7-1"],
        B1,
        fixed(&["pset:1=00"]),
    ));
    let mut empty_strings = b1_recipe(true);
    empty_strings.metadata = vec![
        ("".into(), "".into()),
        ("key".into(), "".into()),
        ("".into(), "value".into()),
        ("key".into(), "again".into()),
    ];
    cases.push(from_recipe(
        u,
        "metadata-empty-strings",
        "Metadata entries with an empty key, an empty value, both empty, and a repeated key (all allowed, clause 7.7).",
        &["REQ-7.7-1"],
        empty_strings,
    ));
    cases.push(mutation(
        u,
        "metadata-everywhere",
        "Metadata units everywhere clause 5.2 allows them: before, between and after the layer_parameters units, between frames' units, before the end of sequence; a 255-byte key, a 1000-byte value, non-ASCII text.",
        &["REQ-7.7-1", "REQ-5.2-3"],
        B1,
        |b| {
            let long_key = "k".repeat(255);
            let long_value = "é".repeat(500);
            vec![
                format!("insert:{}={}", b.eos(), unit_hex(5, &metadata_payload(&[("end", "before end_of_sequence")]))),
                format!("insert:{}={}", b.fd(1, 0), unit_hex(5, &metadata_payload(&[(long_key.as_str(), long_value.as_str())]))),
                format!("insert:{}={}", b.fd(0, 0), unit_hex(5, &metadata_payload(&[("after", "the last layer_parameters")]))),
                format!("insert:{}={}", b.lp(1), unit_hex(5, &metadata_payload(&[("between", "layers"), ("日本語", "テキスト")]))),
            ]
        },
    ));
    cases.push(mutation(
        u,
        "version-minor-future",
        "version_minor = 9 in the identification and the sequence header: a later minor version must not be rejected (clause 7.1).",
        &["REQ-7.1-2", "REQ-7.3-1"],
        B1,
        fixed(&["set:id.version_minor=9", "set:0.version_minor=9"]),
    ));
    cases.push(mutation(
        u,
        "hash-on-some-layers",
        "A tensor_hash unit for one layer and none for the other: one tensor verified, one not.",
        &["REQ-5.2-3", "REQ-8.5-1"],
        B1,
        |b| vec![format!("delete:{}", b.th(0, 0))],
    ));
    cases.push(mutation(
        u,
        "frame-0-layers-reversed",
        "Frame 0 carries its layers in the reverse order (layer 1, then layer 0): the layers of a frame may appear in any order (clause 5.2).",
        &["REQ-5.2-5"],
        B1,
        |b| vec![format!("move:{},{}", b.fd(1, 0), b.fd(0, 0)), format!("move:{},{}", b.th(1, 0), b.fd(0, 0) + 1)],
    ));
    let mut sparse = frames_recipe();
    sparse.extra_frames = vec![
        FrameRecipe {
            frame_index: 5,
            layers: vec![
                FrameLayer {
                    layer: "c".into(),
                    method: "lzma".into(),
                    lossy: None,
                    data: pattern(false, 50),
                },
                FrameLayer {
                    layer: "a".into(),
                    method: "auto".into(),
                    lossy: None,
                    data: pattern(false, 51),
                },
            ],
        },
        FrameRecipe {
            frame_index: 9,
            layers: vec![FrameLayer {
                layer: "b".into(),
                method: "gzip".into(),
                lossy: None,
                data: pattern(false, 90),
            }],
        },
        FrameRecipe {
            frame_index: u32::MAX,
            layers: vec![FrameLayer {
                layer: "a".into(),
                method: "raw".into(),
                lossy: None,
                data: pattern(false, 99),
            }],
        },
    ];
    cases.push(from_recipe(
        u,
        "frames-sparse",
        "Frames 0, 5, 9 and 4294967295 (the largest frame_index): frames need not be consecutive or contain every layer, and their layers may come in any order.",
        &["REQ-5.2-5"],
        sparse,
    ));
    // A 255-byte name of nested path components with multi-byte characters.
    let mut long_name = String::new();
    while long_name.len() + 11 <= 240 {
        long_name.push_str("dossier-é/");
    }
    long_name.push_str("tensör-");
    while long_name.len() < 255 {
        long_name.push('x');
    }
    cases.push(from_recipe(
        u,
        "layer-name-255-bytes",
        "A layer name of 255 bytes (the most name_length allows): nested '/' components and multi-byte UTF-8 characters.",
        &["REQ-7.4-8"],
        recipe("main", vec![layer(&long_name, LayerKind::Conv, ElementType::Float32, &[2, 2], "raw", pattern(false, 0))]),
    ));
    cases.push(from_recipe(
        u,
        "layer-names-not-normalized",
        "Two layers named \"café\" in NFC (U+00E9) and in NFD (e + U+0301): names are compared as byte strings, without normalization (clause 7.4), so they differ.",
        &["REQ-7.4-8", "REQ-7.4-9"],
        recipe(
            "main",
            vec![
                layer("caf\u{e9}", LayerKind::Conv, ElementType::Float32, &[3], "raw", pattern(false, 0)),
                layer("cafe\u{301}", LayerKind::Conv, ElementType::Float32, &[3], "raw", pattern(false, 7)),
            ],
        ),
    ));

    // Levels at their limits.
    let sizes = [(10u8, 16u32), (20, 64), (30, 256), (40, 1024)];
    for (level, max_layers) in sizes {
        let n = level / 10;
        let mut r = if level <= 20 {
            let mut l = layer(
                "l",
                LayerKind::Other,
                ElementType::Uint8,
                &[1],
                "raw",
                pattern(false, 1),
            );
            l.repeat = max_layers;
            recipe("main", vec![l])
        } else {
            recipe(
                "main",
                vec![declared(
                    "l",
                    max_layers,
                    ElementType::Uint8,
                    &[1],
                    CodingMethod::Raw,
                )],
            )
        };
        r.level_idc = Some(level);
        r.tensor_hashes = level == 10;
        cases.push(from_recipe(
            u,
            &format!("level-{n}-max-layers"),
            &format!(
                "Level {n} at MaxLayers: num_layers = {max_layers}{}.",
                if level <= 20 {
                    ", one one-element uint8 tensor each"
                } else {
                    ", layers declared without feature data"
                }
            ),
            &["REQ-A.2-1"],
            r,
        ));
    }
    let tensor_limits: [(u8, ElementType, &[u32], Option<CodingMethod>); 4] = [
        (10, ElementType::Uint8, &[1 << 20], Some(CodingMethod::Zlib)),
        (
            20,
            ElementType::Uint8,
            &[8, 1024, 1024],
            Some(CodingMethod::Lzma),
        ),
        (30, ElementType::Float32, &[4096, 16384], None),
        (40, ElementType::Uint8, &[16, 16384, 1024], None),
    ];
    for (level, t, shape, method) in tensor_limits {
        let n = level / 10;
        let mut r = match method {
            Some(m) => recipe(
                "main",
                vec![layer(
                    "big",
                    LayerKind::Conv,
                    t,
                    shape,
                    m.name(),
                    DataSpec::Zeros,
                )],
            ),
            None => recipe(
                "main",
                vec![declared("big", 1, t, shape, CodingMethod::Zlib)],
            ),
        };
        r.level_idc = Some(level);
        r.tensor_hashes = method.is_some();
        let count: u64 = shape.iter().map(|&d| u64::from(d)).product();
        cases.push(from_recipe(
            u,
            &format!("level-{n}-max-tensor-elements"),
            &format!(
                "Level {n} at MaxTensorElements: a {t} layer of shape {shape:?} = {count} elements{}.",
                match method {
                    Some(m) => format!(", all zero, coded with {m} (decodes to {} bytes)", count * t.size() as u64),
                    None => ", declared without feature data".to_string(),
                }
            ),
            &["REQ-A.2-2"],
            r,
        ));
    }
    let mut frame_l1 = recipe(
        "main",
        [
            CodingMethod::Zlib,
            CodingMethod::Gzip,
            CodingMethod::Bzip2,
            CodingMethod::Lzma,
        ]
        .iter()
        .map(|m| {
            layer(
                &format!("map_{m}"),
                LayerKind::Conv,
                ElementType::Float32,
                &[1024, 1024],
                m.name(),
                DataSpec::Zeros,
            )
        })
        .collect(),
    );
    frame_l1.level_idc = Some(10);
    cases.push(from_recipe(
        u,
        "level-1-max-frame-bytes",
        "Level 1 at MaxFrameBytes: four all-zero float32 layers of 2^20 elements (4 MiB each, 16 MiB in all), coded with zlib, gzip, bzip2 and lzma.",
        &["REQ-A.2-4", "REQ-A.2-2"],
        frame_l1,
    ));
    for (level, count, shape) in [
        (20u8, 8u32, 1u32 << 23),
        (30, 8, 1 << 26),
        (40, 16, 1 << 28),
    ] {
        let mut r = recipe(
            "main",
            vec![declared(
                "map",
                count,
                ElementType::Float32,
                &[shape],
                CodingMethod::Zlib,
            )],
        );
        r.level_idc = Some(level);
        r.tensor_hashes = false;
        cases.push(from_recipe(
            u,
            &format!("level-{}-max-frame-bytes", level / 10),
            &format!(
                "Level {} at MaxFrameBytes: {count} float32 layers of {shape} elements ({} MiB in all), declared without feature data.",
                level / 10,
                (u64::from(count) * u64::from(shape) * 4) >> 20
            ),
            &["REQ-A.2-4"],
            r,
        ));
    }

    // Alternative but valid method payloads.
    let alt =
        |id: &str, purpose: &str, req: &[&str], base: &'static str, make: fn(&[u8]) -> Vec<u8>| {
            mutation(u, id, purpose, req, base, move |b| {
                let fd = b.fd(0, 0);
                vec![b.set_payload(fd, &make(&b.data(0, 0)))]
            })
        };
    let mut unselected = mutation(
        u,
        "q-broken-payload-unselected",
        "Layer selection (clause 8.6) on q-mixed-methods: only layer pool1_native is selected, and the quantized payload of the unselected layer pool1_q has the reserved quantizer_type 2. The payload of an unselected layer is not decoded, so the stream decodes (REQ-8.3.7-1 is not checked for it).",
        &["REQ-8.3.7-1"],
        "valid/q-mixed-methods",
        |b| vec![format!("pwrite:{}@7=02", b.fd(0, 0))],
    );
    unselected.select_layer = Some("pool1_native".into());
    cases.push(unselected);

    cases.push(alt(
        "zlib-stored-blocks",
        "A zlib payload made of stored (uncompressed) DEFLATE blocks, compression level 0.",
        &["REQ-8.3.2-1"],
        "valid/m-zlib-float32-r3",
        |d| zlib_level(d, 0),
    ));
    cases.push(alt(
        "zlib-level-1",
        "A zlib payload at compression level 1 (FLEVEL 0) instead of the reference encoder's 6.",
        &["REQ-8.3.2-1"],
        "valid/m-zlib-float32-r3",
        |d| zlib_level(d, 1),
    ));
    cases.push(alt(
        "gzip-header-fields",
        "A gzip member with every optional header field: FTEXT, FHCRC (correct header CRC16), FEXTRA, FNAME, FCOMMENT, a non-zero MTIME, XFL and OS.",
        &["REQ-8.3.3-1"],
        "valid/m-gzip-float32-r3",
        |d| gzip_with_fields(d, true),
    ));
    cases.push(alt(
        "bzip2-block-size-1",
        "A bzip2 payload with block size 100k ('BZh1') instead of the reference encoder's 900k.",
        &["REQ-8.3.4-1"],
        "valid/m-bzip2-float32-r3",
        |d| bzip2_level(d, 1),
    ));
    cases.push(alt(
        "lzma-lc0-lp4-pb4",
        "An lzma payload with properties lc = 0, lp = 4, pb = 4 (properties byte 216, lc + lp = 4, the largest allowed).",
        &["REQ-8.3.5-1"],
        "valid/m-lzma-float32-r3",
        |d| lzma_with(d, 0, 4, 4, 1 << 12),
    ));
    cases.push(mutation(
        u,
        "lzma-dict-size-zero",
        "An lzma payload whose header declares a dictionary size of 0: a decoder uses at least 4096 bytes (clause 8.3.5).",
        &["REQ-8.3.5-2"],
        "valid/m-lzma-float32-r3",
        |b| vec![format!("pwrite:{}@8=00000000", b.fd(0, 0))],
    ));
    cases.push(mutation(
        u,
        "lzma-dict-size-odd",
        "An lzma payload whose header declares a dictionary size of 5000 bytes, neither 2^n nor 2^n + 2^(n-1) (allowed, clause 8.3.5).",
        &["REQ-8.3.5-2"],
        "valid/m-lzma-float32-r3",
        |b| vec![format!("pwrite:{}@8={}", b.fd(0, 0), hex::encode(&5000u32.to_le_bytes()))],
    ));
    cases.push(alt(
        "lzma-dict-size-max",
        "An lzma payload whose header declares the largest dictionary allowed, 2^26 bytes (64 MiB).",
        &["REQ-8.3.5-2"],
        "valid/m-lzma-float32-r3",
        |d| {
            let mut p = code(CodingMethod::Lzma, d);
            p[1..5].copy_from_slice(&(1u32 << 26).to_le_bytes());
            p
        },
    ));
    cases
}

// ---------------------------------------------------------------------------------------------
// Payload encoders other than the reference encoder's settings.

/// Bytes coded with a byte-oriented method (not native) by the reference encoder.
fn code(method: CodingMethod, data: &[u8]) -> Vec<u8> {
    let shape = [data.len() as u32];
    dfc_encoder::encode_payload(method, &TensorRef::bytes(data, &shape), 1)
}

/// The smallest coded value above every defined coding method (reserved).
fn reserved_method() -> u8 {
    CodingMethod::ALL
        .iter()
        .map(|m| m.code())
        .max()
        .expect("methods")
        + 1
}

/// zlib at a DEFLATE level.
fn zlib_level(data: &[u8], level: u32) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::new(level));
    e.write_all(data).expect("in memory");
    e.finish().expect("in memory")
}

/// A gzip member with every optional header field; `good_hcrc` false writes a wrong CRC16.
fn gzip_with_fields(data: &[u8], good_hcrc: bool) -> Vec<u8> {
    use std::io::Write;
    let mut header = vec![0x1F, 0x8B, 8, 0x1F];
    header.extend_from_slice(&1_700_000_000u32.to_le_bytes());
    header.extend_from_slice(&[2, 3]);
    let extra = [b'D', b'F', 4, 0, 1, 2, 3, 4];
    header.extend_from_slice(&(extra.len() as u16).to_le_bytes());
    header.extend_from_slice(&extra);
    header.extend_from_slice(b"features.bin\0");
    header.extend_from_slice(b"DFC conformance\0");
    let crc16 = (crc32fast::hash(&header) & 0xFFFF) as u16 ^ u16::from(!good_hcrc);
    header.extend_from_slice(&crc16.to_le_bytes());
    let mut e = flate2::write::DeflateEncoder::new(header, flate2::Compression::new(6));
    e.write_all(data).expect("in memory");
    let mut out = e.finish().expect("in memory");
    out.extend_from_slice(&crc32fast::hash(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn bzip2_level(data: &[u8], level: u32) -> Vec<u8> {
    use std::io::Write;
    let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::new(level));
    e.write_all(data).expect("in memory");
    e.finish().expect("in memory")
}

/// `.lzma` with the given properties and dictionary size (size field "unknown", end marker).
fn lzma_with(data: &[u8], lc: u32, lp: u32, pb: u32, dict: u32) -> Vec<u8> {
    let mut options = xz2::stream::LzmaOptions::new_preset(6).expect("preset 6");
    options
        .literal_context_bits(lc)
        .literal_position_bits(lp)
        .position_bits(pb)
        .dict_size(dict);
    let mut stream = xz2::stream::Stream::new_lzma_encoder(&options).expect("valid options");
    let mut out = Vec::with_capacity(data.len() + 1024);
    let mut input = data;
    loop {
        if out.capacity() - out.len() < 4096 {
            out.reserve(4096);
        }
        let before = stream.total_in();
        let status = stream
            .process_vec(input, &mut out, xz2::stream::Action::Finish)
            .expect("LZMA encoding");
        input = &input[(stream.total_in() - before) as usize..];
        if status == xz2::stream::Status::StreamEnd {
            break;
        }
    }
    out
}

/// A zlib header with FCHECK fixed for the given CMF and FLG bits (FCHECK bits of `flg` ignored).
fn zlib_header(cmf: u8, flg: u8) -> [u8; 2] {
    let flg = flg & !0x1F;
    let rem = (u16::from(cmf) * 256 + u16::from(flg)) % 31;
    [cmf, flg + ((31 - rem) % 31) as u8]
}

// ---------------------------------------------------------------------------------------------
// invalid/

fn invalid_cases() -> Vec<Case> {
    let mut c = Vec::new();

    // Clause 5.2: unit order.
    c.push(invalid(
        "req-5.2-1-first-unit-metadata",
        "REQ-5.2-1",
        "The first unit is a metadata unit; the sequence_header unit comes second.",
        B1,
        fixed(&["swap:0,1"]),
    ));
    c.push(invalid("req-5.2-1-first-unit-reserved-skippable", "REQ-5.2-1", "The first unit is a reserved-skippable unit (0x80), which may only appear after the sequence_header unit (clause 7.2).", B1, |_| vec![format!("insert:0={}", unit_hex(0x80, b"x"))]));
    c.push(invalid(
        "req-5.2-1-second-sequence-header",
        "REQ-5.2-1",
        "A second, identical sequence_header unit just before the end_of_sequence unit.",
        B1,
        |b| vec![format!("insert:{}={}", b.eos(), unit_hex(1, b.payload(0)))],
    ));
    c.push(invalid(
        "req-5.2-1-sequence-header-among-layers",
        "REQ-5.2-1",
        "A second sequence_header unit between the two layer_parameters units.",
        B1,
        |b| vec![format!("insert:{}={}", b.lp(1), unit_hex(1, b.payload(0)))],
    ));
    c.push(invalid(
        "req-5.2-2-feature-data-before-layers",
        "REQ-5.2-2",
        "The first feature_data unit comes before the last layer_parameters unit.",
        B1,
        |b| vec![format!("move:{},{}", b.fd(0, 0), b.lp(1))],
    ));
    c.push(invalid("req-5.2-2-missing-layer-parameters", "REQ-5.2-2", "num_layers is 2 but the stream has one layer_parameters unit: the end_of_sequence unit comes where the second is expected.", B2, |b| vec![format!("delete:{}", b.lp(1))]));
    c.push(invalid(
        "req-5.2-2-extra-layer-parameters",
        "REQ-5.2-2",
        "num_layers is 1 but the stream has two layer_parameters units.",
        B2,
        fixed(&["set:0.num_layers=1"]),
    ));
    c.push(invalid(
        "req-5.2-2-tensor-hash-among-layers",
        "REQ-5.2-2",
        "A tensor_hash unit where a layer_parameters unit is expected.",
        B1,
        |b| vec![format!("move:{},{}", b.th(0, 0), b.lp(1))],
    ));
    c.push(invalid(
        "req-5.2-3-metadata-between",
        "REQ-5.2-3",
        "A metadata unit between a feature_data unit and its tensor_hash unit.",
        B1,
        |b| vec![format!("insert:{}={}", b.th(0, 0), unit_hex(5, &[0]))],
    ));
    c.push(invalid(
        "req-5.2-3-skippable-between",
        "REQ-5.2-3",
        "A reserved-skippable unit between a feature_data unit and its tensor_hash unit.",
        B1,
        |b| vec![format!("insert:{}={}", b.th(0, 0), unit_hex(0x80, b""))],
    ));
    c.push(invalid(
        "req-5.2-3-wrong-layer-id",
        "REQ-5.2-3",
        "The tensor_hash unit after layer 0's feature data names layer 1.",
        B1,
        |b| vec![format!("set:{}.layer_id=1", b.th(0, 0))],
    ));
    c.push(invalid(
        "req-5.2-3-wrong-frame-index",
        "REQ-5.2-3",
        "The tensor_hash unit after frame 0's feature data names frame 1.",
        B1,
        |b| vec![format!("set:{}.frame_index=1", b.th(0, 0))],
    ));
    c.push(invalid(
        "req-5.2-3-second-tensor-hash",
        "REQ-5.2-3",
        "Two tensor_hash units after one feature_data unit.",
        B1,
        |b| vec![format!("dup:{}", b.th(0, 0))],
    ));
    c.push(invalid("req-5.2-3-hash-without-feature-data", "REQ-5.2-3", "A tensor_hash unit right after the last layer_parameters unit (its feature_data unit removed).", B1, |b| vec![format!("delete:{}", b.fd(0, 0))]));
    c.push(invalid(
        "req-5.2-4-byte-after-end",
        "REQ-5.2-4",
        "One zero byte after the end_of_sequence unit.",
        B1,
        fixed(&["append:00"]),
    ));
    c.push(invalid(
        "req-5.2-4-unit-after-end",
        "REQ-5.2-4",
        "A complete metadata unit after the end_of_sequence unit.",
        B1,
        |_| {
            vec![format!(
                "append:{}",
                hex::encode(&Unit::new(5, vec![0]).to_bytes())
            )]
        },
    ));
    c.push(invalid(
        "req-5.2-5-frame-decreases",
        "REQ-5.2-5",
        "Layer c of frame 1 comes after frame 2 (frame_index decreases from 2 to 1).",
        FRAMES,
        |b| {
            let (fd, eos) = (b.fd(2, 1), b.eos());
            vec![
                format!("move:{fd},{}", eos - 1),
                format!("move:{fd},{}", eos - 1),
            ]
        },
    ));
    c.push(invalid(
        "req-5.2-5-duplicate",
        "REQ-5.2-5",
        "Layer a of frame 0 appears twice in frame 0 (with its tensor hash).",
        FRAMES,
        |b| {
            let at = b.fd(1, 0);
            vec![
                format!("insert:{at}={}", unit_hex(4, b.payload(b.th(0, 0)))),
                format!("insert:{at}={}", unit_hex(3, b.payload(b.fd(0, 0)))),
            ]
        },
    ));
    let mut dup_unselected = invalid("req-5.2-5-unselected-layer", "REQ-5.2-5", "Layer random access does not lift the order checks: layer c of frame 1 appears twice while only layer a is selected (clause 8.6).", FRAMES, |b| {
        let at = b.th(2, 1) + 1;
        vec![format!("insert:{at}={}", unit_hex(3, b.payload(b.fd(2, 1))))]
    });
    dup_unselected.select_layer = Some("a".into());
    c.push(dup_unselected);

    // Clause 7.1: identification.
    c.push(invalid(
        "req-7.1-1-magic",
        "REQ-7.1-1",
        "magic is 0x89 'D' 'F' 'D'.",
        B1,
        fixed(&["set:id.magic=hex:89444644"]),
    ));
    c.push(invalid("req-7.1-1-magic-7-bit", "REQ-7.1-1", "magic with its first byte's most significant bit cleared (0x09 'D' 'F' 'C'), as a 7-bit channel leaves it.", B1, fixed(&["set:id.magic=hex:09444643"])));
    c.push(invalid(
        "req-7.1-2-major-version",
        "REQ-7.1-2",
        "version_major = 1 in the identification and the sequence header.",
        B1,
        fixed(&["set:id.version_major=1", "set:0.version_major=1"]),
    ));

    // Clause 7.2: units.
    c.push(invalid(
        "req-7.2-1-unit-type-zero",
        "REQ-7.2-1",
        "A unit of type 0 (forbidden) with a correct CRC before the end_of_sequence unit.",
        B1,
        |b| vec![format!("insert:{}={}", b.eos(), unit_hex(0, b""))],
    ));
    c.push(invalid(
        "req-7.2-1-unit-type-zero-header",
        "REQ-7.2-1",
        "The metadata unit's type changed to 0 (CRC recomputed).",
        B1,
        fixed(&["set:1.unit_type=0"]),
    ));
    c.push(invalid(
        "req-7.2-2-unit-type-0x08",
        "REQ-7.2-2",
        "A reserved-critical unit of type 0x08, the first reserved-critical value since version 0.4 made 0x07 the frame_header unit type, before the end_of_sequence unit.",
        B1,
        |b| vec![format!("insert:{}={}", b.eos(), unit_hex(8, &[0]))],
    ));
    c.push(invalid(
        "req-7.2-2-unit-type-0x7f",
        "REQ-7.2-2",
        "The metadata unit's type changed to 0x7F, the last reserved-critical value.",
        B1,
        fixed(&["set:1.unit_type=0x7F"]),
    ));
    c.push(invalid(
        "req-7.2-3-crc-flip",
        "REQ-7.2-3",
        "The lowest bit of a feature_data unit's unit_crc flipped.",
        B1,
        |b| vec![format!("crcflip:{}", b.fd(0, 0))],
    ));
    c.push(invalid(
        "req-7.2-3-sequence-header-crc",
        "REQ-7.2-3",
        "The sequence_header unit's unit_crc is wrong.",
        B1,
        fixed(&["crcflip:0"]),
    ));
    c.push(invalid(
        "req-7.2-3-payload-bit-flip",
        "REQ-7.2-3",
        "One bit flipped inside a feature_data payload, unit_crc unchanged.",
        B1,
        |b| vec![format!("xor:{}=0x10", b.offset(b.fd(1, 0)) + 5 + 9)],
    ));
    c.push(invalid(
        "req-7.2-3-end-of-sequence-crc",
        "REQ-7.2-3",
        "The end_of_sequence unit's unit_crc is 0x00000000.",
        B1,
        |b| vec![format!("crc:{}=0x00000000", b.eos())],
    ));
    let mut crc_unselected = invalid("req-7.2-3-unselected-layer", "REQ-7.2-3", "Every unit is CRC-checked under layer selection too: a wrong unit_crc in layer b's feature data while only layer a is selected (clause 8.6).", FRAMES, |b| vec![format!("crcflip:{}", b.fd(1, 1))]);
    crc_unselected.select_layer = Some("a".into());
    c.push(crc_unselected);
    c.push(invalid(
        "req-7.2-5-empty",
        "REQ-7.2-5",
        "An empty stream (0 bytes).",
        B1,
        fixed(&["truncate:0"]),
    ));
    c.push(invalid(
        "req-7.2-5-inside-identification",
        "REQ-7.2-5",
        "The stream ends inside the identification (3 bytes).",
        B1,
        fixed(&["truncate:3"]),
    ));
    c.push(invalid(
        "req-7.2-5-identification-only",
        "REQ-7.2-5",
        "The stream is the identification alone.",
        B1,
        fixed(&["truncate:6"]),
    ));
    c.push(invalid(
        "req-7.2-5-inside-unit-header",
        "REQ-7.2-5",
        "The stream ends inside a unit's payload_size.",
        B1,
        |b| vec![format!("truncate:{}", b.offset(b.fd(0, 0)) + 3)],
    ));
    c.push(invalid(
        "req-7.2-5-inside-payload",
        "REQ-7.2-5",
        "The stream ends inside a feature_data payload.",
        B1,
        |b| vec![format!("truncate:{}", b.offset(b.fd(0, 0)) + 5 + 20)],
    ));
    c.push(invalid(
        "req-7.2-5-inside-crc",
        "REQ-7.2-5",
        "The stream ends inside the end_of_sequence unit's unit_crc.",
        B1,
        |b| vec![format!("truncate:{}", b.stream.len() - 2)],
    ));
    c.push(invalid(
        "req-7.2-5-no-end-of-sequence",
        "REQ-7.2-5",
        "The stream ends after the last tensor_hash unit, without an end_of_sequence unit.",
        B1,
        |b| vec![format!("delete:{}", b.eos())],
    ));
    c.push(invalid(
        "req-7.2-6-sequence-header-long",
        "REQ-7.2-6",
        "A sequence_header payload of 9 bytes (one extra zero byte).",
        B1,
        fixed(&["pappend:0=00"]),
    ));
    c.push(invalid(
        "req-7.2-6-sequence-header-short",
        "REQ-7.2-6",
        "A sequence_header payload of 7 bytes.",
        B1,
        fixed(&["ptrunc:0=7"]),
    ));
    c.push(invalid(
        "req-7.2-6-layer-parameters-short",
        "REQ-7.2-6",
        "A layer_parameters payload one byte shorter than its name_length says.",
        B2,
        |b| {
            vec![format!(
                "ptrunc:{}={}",
                b.lp(0),
                b.payload(b.lp(0)).len() - 1
            )]
        },
    ));
    c.push(invalid(
        "req-7.2-6-layer-parameters-long",
        "REQ-7.2-6",
        "A layer_parameters payload with one byte after the name.",
        B2,
        |b| vec![format!("pappend:{}=00", b.lp(0))],
    ));
    c.push(invalid(
        "req-7.2-6-metadata-long",
        "REQ-7.2-6",
        "A metadata payload with one byte after its last entry.",
        B1,
        fixed(&["pappend:1=00"]),
    ));
    c.push(invalid(
        "req-7.2-6-metadata-short",
        "REQ-7.2-6",
        "A metadata payload one byte shorter than its last value_length says.",
        B1,
        |b| vec![format!("ptrunc:1={}", b.payload(1).len() - 1)],
    ));
    c.push(invalid(
        "req-7.2-6-feature-data-short",
        "REQ-7.2-6",
        "A feature_data payload of 6 bytes (less than the 7 bytes before method_payload).",
        B1,
        |b| {
            vec![
                format!("ptrunc:{}=6", b.fd(0, 0)),
                format!("delete:{}", b.th(0, 0)),
            ]
        },
    ));
    c.push(invalid(
        "req-7.2-6-tensor-hash-short",
        "REQ-7.2-6",
        "A tensor_hash payload of 6 bytes.",
        B1,
        |b| vec![format!("ptrunc:{}=6", b.th(0, 0))],
    ));
    c.push(invalid(
        "req-7.2-6-end-of-sequence-payload",
        "REQ-7.2-6",
        "An end_of_sequence unit with a one-byte payload.",
        B1,
        |b| vec![format!("pappend:{}=00", b.eos())],
    ));

    // Clause 7.3: sequence header.
    let (major, minor) = (dfc_decoder::VERSION_MAJOR, dfc_decoder::VERSION_MINOR);
    c.push(invalid(
        "req-7.3-1-minor-version-mismatch",
        "REQ-7.3-1",
        &format!(
            "The sequence header says version {major}.{}, the identification {major}.{minor}.",
            minor + 1
        ),
        B1,
        move |_| vec![format!("set:0.version_minor={}", minor + 1)],
    ));
    c.push(invalid(
        "req-7.3-1-major-version-mismatch",
        "REQ-7.3-1",
        &format!(
            "The sequence header says version {}.{minor}, the identification {major}.{minor}.",
            major + 1
        ),
        B1,
        move |_| vec![format!("set:0.version_major={}", major + 1)],
    ));
    for v in [2u8, 255] {
        c.push(invalid(
            &format!("req-7.3-2-profile-{v}"),
            "REQ-7.3-2",
            &format!("profile_idc = {v} (reserved)."),
            B1,
            move |_| vec![format!("set:0.profile_idc={v}")],
        ));
    }
    for v in [0u8, 15, 50, 255] {
        c.push(invalid(
            &format!("req-7.3-3-level-{v}"),
            "REQ-7.3-3",
            &format!("level_idc = {v} (reserved)."),
            B1,
            move |_| vec![format!("set:0.level_idc={v}")],
        ));
    }
    c.push(invalid(
        "req-7.3-4-no-layers",
        "REQ-7.3-4",
        "num_layers = 0 in a stream of a sequence header and an end of sequence.",
        B2,
        |b| {
            vec![
                "set:0.num_layers=0".into(),
                format!("delete:{}", b.lp(0)),
                format!("delete:{}", b.lp(0)),
            ]
        },
    ));
    c.push(invalid(
        "req-7.3-5-reserved-bits",
        "REQ-7.3-5",
        "reserved_zero_16bits = 1.",
        B1,
        fixed(&["set:0.reserved_zero_16bits=1"]),
    ));
    c.push(invalid(
        "req-7.3-5-reserved-bits-high",
        "REQ-7.3-5",
        "reserved_zero_16bits = 0x8000.",
        B1,
        fixed(&["set:0.reserved_zero_16bits=0x8000"]),
    ));

    // Clause 7.4: layer parameters.
    c.push(invalid(
        "req-7.4-1-first-layer-id-1",
        "REQ-7.4-1",
        "The first layer_parameters unit has layer_id 1.",
        B2,
        |b| vec![format!("set:{}.layer_id=1", b.lp(0))],
    ));
    c.push(invalid(
        "req-7.4-1-layers-swapped",
        "REQ-7.4-1",
        "The layer_parameters units come in the order layer_id 1, 0.",
        B2,
        |b| vec![format!("swap:{},{}", b.lp(0), b.lp(1))],
    ));
    c.push(invalid(
        "req-7.4-1-layer-id-repeated",
        "REQ-7.4-1",
        "Both layer_parameters units have layer_id 0.",
        B2,
        |b| vec![format!("set:{}.layer_id=0", b.lp(1))],
    ));
    let first_kind = LayerKind::ALL
        .iter()
        .map(|k| k.code())
        .max()
        .expect("kinds")
        + 1;
    for v in [first_kind, 255] {
        c.push(invalid(
            &format!("req-7.4-2-layer-kind-{v}"),
            "REQ-7.4-2",
            &format!("layer_kind = {v} (reserved)."),
            B2,
            move |b| vec![format!("set:{}.layer_kind={v}", b.lp(0))],
        ));
    }
    let first_type = ElementType::ALL
        .iter()
        .map(|t| t.code())
        .max()
        .expect("types")
        + 1;
    for v in [first_type, 255] {
        c.push(invalid(
            &format!("req-7.4-3-element-type-{v}"),
            "REQ-7.4-3",
            &format!("element_type = {v} (reserved)."),
            B2,
            move |b| vec![format!("set:{}.element_type={v}", b.lp(0))],
        ));
    }
    for v in [1u8, 0x40] {
        c.push(invalid(
            &format!("req-7.4-4-reserved-bits-{v}"),
            "REQ-7.4-4",
            &format!("reserved_zero_7bits = {v}."),
            B2,
            move |b| vec![format!("set:{}.reserved_zero_7bits={v}", b.lp(0))],
        ));
    }
    for v in [reserved_method(), 255] {
        c.push(invalid(
            &format!("req-7.4-5-default-method-{v}"),
            "REQ-7.4-5",
            &format!("default_method = {v} (reserved)."),
            B2,
            move |b| vec![format!("set:{}.default_method={v}", b.lp(0))],
        ));
    }
    c.push(invalid(
        "req-7.4-6-rank-0",
        "REQ-7.4-6",
        "A layer of rank 0 (no dim).",
        B2,
        |b| vec![format!("set:{}.dims=-", b.lp(0))],
    ));
    c.push(invalid(
        "req-7.4-6-rank-5",
        "REQ-7.4-6",
        "A layer of rank 5 (1x1x1x4x4, the same 16 elements).",
        B2,
        |b| vec![format!("set:{}.dims=1x1x1x4x4", b.lp(0))],
    ));
    c.push(invalid(
        "req-7.4-7-zero-dim",
        "REQ-7.4-7",
        "A layer of shape 4x0.",
        B2,
        |b| vec![format!("set:{}.dims=4x0", b.lp(0))],
    ));
    c.push(invalid(
        "req-7.4-7-zero-dim-rank-1",
        "REQ-7.4-7",
        "A layer of shape [0].",
        B2,
        |b| vec![format!("set:{}.dims=0", b.lp(1))],
    ));
    for (name, h, what) in [
        ("ff", "ff", "the byte 0xFF"),
        ("overlong", "c0af", "an overlong encoding of '/'"),
        ("surrogate", "eda080", "an encoded UTF-16 surrogate"),
        ("truncated", "6162e282", "a truncated 3-byte sequence"),
    ] {
        c.push(invalid(
            &format!("req-7.4-8-name-{name}"),
            "REQ-7.4-8",
            &format!("A layer name that is not UTF-8: {what}."),
            B2,
            move |b| vec![format!("set:{}.name=hex:{h}", b.lp(1))],
        ));
    }
    c.push(invalid(
        "req-7.4-9-duplicate-name",
        "REQ-7.4-9",
        "Two layers with the same name.",
        B2,
        |b| {
            let name = b.layer(0).name;
            vec![format!("set:{}.name=hex:{}", b.lp(1), hex::encode(&name))]
        },
    ));
    c.push(invalid(
        "req-7.4-9-duplicate-empty-name",
        "REQ-7.4-9",
        "Two layers with the empty name (an empty name is allowed once).",
        B2,
        |b| {
            vec![
                format!("set:{}.name=str:", b.lp(0)),
                format!("set:{}.name=str:", b.lp(1)),
            ]
        },
    ));

    // Clause 7.5 to 7.7.
    c.push(invalid(
        "req-7.5-1-layer-id-too-large",
        "REQ-7.5-1",
        "A feature_data unit (and its tensor hash) with layer_id 2 in a stream of 2 layers.",
        B1,
        |b| {
            vec![
                format!("set:{}.layer_id=2", b.fd(1, 0)),
                format!("set:{}.layer_id=2", b.th(1, 0)),
            ]
        },
    ));
    c.push(invalid(
        "req-7.5-1-layer-id-65535",
        "REQ-7.5-1",
        "A feature_data unit (and its tensor hash) with layer_id 65535.",
        B1,
        |b| {
            vec![
                format!("set:{}.layer_id=65535", b.fd(0, 0)),
                format!("set:{}.layer_id=65535", b.th(0, 0)),
            ]
        },
    ));
    for v in [reserved_method(), 255] {
        c.push(invalid(
            &format!("req-7.5-2-coding-method-{v}"),
            "REQ-7.5-2",
            &format!("coding_method = {v} (reserved)."),
            B1,
            move |b| vec![format!("set:{}.coding_method={v}", b.fd(0, 0))],
        ));
    }
    c.push(invalid(
        "req-7.6-1-hash-type-1",
        "REQ-7.6-1",
        "hash_type = 1 (reserved).",
        B1,
        |b| vec![format!("set:{}.hash_type=1", b.th(0, 0))],
    ));
    c.push(invalid(
        "req-7.6-2-hash-31-bytes",
        "REQ-7.6-2",
        "A SHA-256 hash_value of 31 bytes.",
        B1,
        |b| vec![format!("ptrunc:{}=38", b.th(0, 0))],
    ));
    c.push(invalid(
        "req-7.6-2-hash-33-bytes",
        "REQ-7.6-2",
        "A SHA-256 hash_value of 33 bytes.",
        B1,
        |b| vec![format!("pappend:{}=00", b.th(0, 0))],
    ));
    c.push(invalid(
        "req-7.7-1-key-not-utf8",
        "REQ-7.7-1",
        "A metadata key that is not UTF-8 (0xFF).",
        B1,
        fixed(&["set:1.key[0]=hex:ff"]),
    ));
    c.push(invalid(
        "req-7.7-1-value-not-utf8",
        "REQ-7.7-1",
        "A metadata value ending in a truncated multi-byte sequence.",
        B1,
        fixed(&["set:1.value[1]=hex:73796ec3"]),
    ));
    c.push(invalid("req-7.7-1-body-metadata", "REQ-7.7-1", "A metadata unit after the feature data, before the end of sequence, whose value is not UTF-8.", B1, |b| {
        let mut m = metadata_payload(&[("note", "x")]);
        let last = m.len() - 1;
        m[last] = 0x80;
        vec![format!("insert:{}={}", b.eos(), unit_hex(5, &m))]
    }));

    // Clause 8.3: method payloads. Each removes the tensor hash so that only the payload is wrong.
    let method_case = |id: &str,
                       req: &str,
                       purpose: &str,
                       method: &str,
                       make: fn(&Base, usize) -> Vec<String>| {
        invalid(
            id,
            req,
            purpose,
            &format!("valid/m-{method}-float32-r3"),
            move |b| {
                let fd = b.fd(0, 0);
                let mut ops = make(b, fd);
                ops.push(format!("delete:{}", b.th(0, 0)));
                ops
            },
        )
    };
    c.push(method_case(
        "req-8.3-1-raw-short",
        "REQ-8.3-1",
        "A raw payload one byte shorter than N.",
        "raw",
        |b, fd| vec![format!("ptrunc:{fd}={}", b.payload(fd).len() - 1)],
    ));
    c.push(method_case(
        "req-8.3-1-raw-long",
        "REQ-8.3-1",
        "A raw payload one byte longer than N.",
        "raw",
        |_, fd| vec![format!("pappend:{fd}=00")],
    ));
    c.push(method_case(
        "req-8.3-1-zlib-short",
        "REQ-8.3-1",
        "A valid zlib stream that decompresses to N - 1 bytes.",
        "zlib",
        |b, fd| {
            let d = b.data(0, 0);
            vec![b.set_payload(fd, &code(CodingMethod::Zlib, &d[..d.len() - 1]))]
        },
    ));
    c.push(method_case(
        "req-8.3-1-zlib-long",
        "REQ-8.3-1",
        "A valid zlib stream that decompresses to N + 1 bytes (the decoder stops at N + 1).",
        "zlib",
        |b, fd| {
            let mut d = b.data(0, 0);
            d.push(0);
            vec![b.set_payload(fd, &code(CodingMethod::Zlib, &d))]
        },
    ));
    c.push(method_case("req-8.3-1-zlib-expands", "REQ-8.3-1", "A small zlib stream that expands to 1 MiB for a tensor of 168 bytes (the decoder must stop at N + 1, never store the rest).", "zlib", |b, fd| {
        vec![b.set_payload(fd, &code(CodingMethod::Zlib, &vec![0u8; 1 << 20]))]
    }));
    c.push(method_case(
        "req-8.3-1-gzip-short",
        "REQ-8.3-1",
        "A valid gzip member that decompresses to N - 4 bytes.",
        "gzip",
        |b, fd| {
            let d = b.data(0, 0);
            vec![b.set_payload(fd, &code(CodingMethod::Gzip, &d[..d.len() - 4]))]
        },
    ));
    c.push(method_case(
        "req-8.3-1-bzip2-long",
        "REQ-8.3-1",
        "A valid bzip2 stream that decompresses to 2N bytes.",
        "bzip2",
        |b, fd| {
            let d = b.data(0, 0);
            vec![b.set_payload(fd, &code(CodingMethod::Bzip2, &[d.clone(), d].concat()))]
        },
    ));
    c.push(method_case(
        "req-8.3-1-bzip2-short",
        "REQ-8.3-1",
        "A valid bzip2 stream that decompresses to N / 2 bytes.",
        "bzip2",
        |b, fd| {
            let d = b.data(0, 0);
            vec![b.set_payload(fd, &code(CodingMethod::Bzip2, &d[..d.len() / 2]))]
        },
    ));
    c.push(method_case(
        "req-8.3-2-zlib-trailing-byte",
        "REQ-8.3-2",
        "A zlib stream followed by one zero byte.",
        "zlib",
        |_, fd| vec![format!("pappend:{fd}=00")],
    ));
    c.push(method_case("req-8.3-2-gzip-second-member", "REQ-8.3-2", "A gzip member followed by a second, empty gzip member (concatenated members are not allowed).", "gzip", |_, fd| {
        vec![format!("pappend:{fd}={}", hex::encode(&code(CodingMethod::Gzip, &[])))]
    }));
    c.push(method_case(
        "req-8.3-2-bzip2-second-stream",
        "REQ-8.3-2",
        "A bzip2 stream followed by a second, empty bzip2 stream.",
        "bzip2",
        |_, fd| {
            vec![format!(
                "pappend:{fd}={}",
                hex::encode(&code(CodingMethod::Bzip2, &[]))
            )]
        },
    ));
    c.push(method_case(
        "req-8.3.2-1-zlib-adler32",
        "REQ-8.3.2-1",
        "A zlib stream whose Adler-32 is wrong.",
        "zlib",
        |b, fd| vec![b.flip_method_byte(fd, b.method_payload(fd).len() - 1, 0x01)],
    ));
    c.push(method_case(
        "req-8.3.2-1-zlib-truncated",
        "REQ-8.3.2-1",
        "A zlib stream cut in the middle of its DEFLATE data.",
        "zlib",
        |b, fd| {
            vec![format!(
                "ptrunc:{fd}={}",
                7 + b.method_payload(fd).len() / 2
            )]
        },
    ));
    c.push(method_case(
        "req-8.3.2-1-zlib-cm",
        "REQ-8.3.2-1",
        "A zlib header with CM = 9 (FCHECK correct).",
        "zlib",
        |b, fd| {
            let p = b.method_payload(fd);
            vec![format!(
                "pwrite:{fd}@7={}",
                hex::encode(&zlib_header((p[0] & 0xF0) | 9, p[1]))
            )]
        },
    ));
    c.push(method_case(
        "req-8.3.2-1-zlib-fcheck",
        "REQ-8.3.2-1",
        "A zlib header whose FCHECK is wrong.",
        "zlib",
        |b, fd| vec![b.flip_method_byte(fd, 1, 0x01)],
    ));
    c.push(method_case(
        "req-8.3.2-1-zlib-window",
        "REQ-8.3.2-1",
        "A zlib header with CINFO = 8 (a 64 KiB window; at most 7 is allowed), FCHECK correct.",
        "zlib",
        |b, fd| {
            let p = b.method_payload(fd);
            vec![format!(
                "pwrite:{fd}@7={}",
                hex::encode(&zlib_header(0x88, p[1]))
            )]
        },
    ));
    c.push(method_case(
        "req-8.3.2-1-zlib-block-type",
        "REQ-8.3.2-1",
        "A DEFLATE block of the reserved type BTYPE = 11.",
        "zlib",
        |b, fd| {
            vec![format!(
                "pwrite:{fd}@9={:02x}",
                b.method_payload(fd)[2] | 0x06
            )]
        },
    ));
    c.push(method_case(
        "req-8.3.2-2-zlib-fdict",
        "REQ-8.3.2-2",
        "A zlib header with FDICT = 1 (a preset dictionary), FCHECK correct.",
        "zlib",
        |b, fd| {
            let p = b.method_payload(fd);
            vec![format!(
                "pwrite:{fd}@7={}",
                hex::encode(&zlib_header(p[0], p[1] | 0x20))
            )]
        },
    ));
    c.push(method_case(
        "req-8.3.3-1-gzip-magic",
        "REQ-8.3.3-1",
        "A gzip member whose ID2 is 0x8C.",
        "gzip",
        |b, fd| vec![b.flip_method_byte(fd, 1, 0x07)],
    ));
    c.push(method_case(
        "req-8.3.3-1-gzip-cm",
        "REQ-8.3.3-1",
        "A gzip member with CM = 7.",
        "gzip",
        |_, fd| vec![format!("pwrite:{fd}@9=07")],
    ));
    c.push(method_case(
        "req-8.3.3-1-gzip-reserved-flag",
        "REQ-8.3.3-1",
        "A gzip member with reserved FLG bit 5 set.",
        "gzip",
        |b, fd| vec![b.flip_method_byte(fd, 3, 0x20)],
    ));
    c.push(method_case(
        "req-8.3.3-1-gzip-crc32",
        "REQ-8.3.3-1",
        "A gzip member whose CRC32 trailer is wrong.",
        "gzip",
        |b, fd| vec![b.flip_method_byte(fd, b.method_payload(fd).len() - 8, 0x01)],
    ));
    c.push(method_case(
        "req-8.3.3-1-gzip-isize",
        "REQ-8.3.3-1",
        "A gzip member whose ISIZE trailer is wrong.",
        "gzip",
        |b, fd| vec![b.flip_method_byte(fd, b.method_payload(fd).len() - 4, 0x01)],
    ));
    c.push(method_case(
        "req-8.3.3-1-gzip-truncated",
        "REQ-8.3.3-1",
        "A gzip member without its 8-byte trailer.",
        "gzip",
        |b, fd| vec![format!("ptrunc:{fd}={}", b.payload(fd).len() - 8)],
    ));
    c.push(method_case(
        "req-8.3.3-1-gzip-header-crc",
        "REQ-8.3.3-1",
        "A gzip member with FHCRC set and a wrong header CRC16.",
        "gzip",
        |b, fd| vec![b.set_payload(fd, &gzip_with_fields(&b.data(0, 0), false))],
    ));
    c.push(method_case(
        "req-8.3.4-1-bzip2-signature",
        "REQ-8.3.4-1",
        "A bzip2 stream whose signature is 'BZx'.",
        "bzip2",
        |_, fd| vec![format!("pwrite:{fd}@9=78")],
    ));
    c.push(method_case(
        "req-8.3.4-1-bzip2-block-size",
        "REQ-8.3.4-1",
        "A bzip2 stream with block size digit '0'.",
        "bzip2",
        |_, fd| vec![format!("pwrite:{fd}@10=30")],
    ));
    c.push(method_case(
        "req-8.3.4-1-bzip2-block-crc",
        "REQ-8.3.4-1",
        "A bzip2 stream whose block CRC is wrong.",
        "bzip2",
        |b, fd| vec![b.flip_method_byte(fd, 10, 0x01)],
    ));
    c.push(method_case(
        "req-8.3.4-1-bzip2-stream-crc",
        "REQ-8.3.4-1",
        "A bzip2 stream whose combined stream CRC is wrong.",
        "bzip2",
        |b, fd| vec![b.flip_method_byte(fd, b.method_payload(fd).len() - 2, 0x10)],
    ));
    c.push(method_case(
        "req-8.3.4-1-bzip2-truncated",
        "REQ-8.3.4-1",
        "A bzip2 stream cut in the middle.",
        "bzip2",
        |b, fd| {
            vec![format!(
                "ptrunc:{fd}={}",
                7 + b.method_payload(fd).len() / 2
            )]
        },
    ));
    c.push(method_case(
        "req-8.3.5-1-lzma-props-225",
        "REQ-8.3.5-1",
        "An lzma properties byte of 225.",
        "lzma",
        |_, fd| vec![format!("pwrite:{fd}@7=e1")],
    ));
    c.push(method_case(
        "req-8.3.5-1-lzma-lc-lp",
        "REQ-8.3.5-1",
        "An lzma properties byte of 13: lc = 4, lp = 1, lc + lp = 5 > 4.",
        "lzma",
        |_, fd| vec![format!("pwrite:{fd}@7=0d")],
    ));
    c.push(method_case(
        "req-8.3.5-2-lzma-dict",
        "REQ-8.3.5-2",
        "An lzma dictionary size of 2^26 + 1 bytes.",
        "lzma",
        |_, fd| {
            vec![format!(
                "pwrite:{fd}@8={}",
                hex::encode(&((1u32 << 26) + 1).to_le_bytes())
            )]
        },
    ));
    c.push(method_case(
        "req-8.3.5-2-lzma-dict-max",
        "REQ-8.3.5-2",
        "An lzma dictionary size of 0xFFFFFFFF bytes.",
        "lzma",
        |_, fd| vec![format!("pwrite:{fd}@8=ffffffff")],
    ));
    c.push(method_case(
        "req-8.3.5-3-lzma-size-known",
        "REQ-8.3.5-3",
        "An lzma uncompressed size field equal to N instead of 'unknown' (all ones).",
        "lzma",
        |b, fd| {
            vec![format!(
                "pwrite:{fd}@12={}",
                hex::encode(&(b.data(0, 0).len() as u64).to_le_bytes())
            )]
        },
    ));
    c.push(method_case(
        "req-8.3.5-3-lzma-size-zero",
        "REQ-8.3.5-3",
        "An lzma uncompressed size field of 0.",
        "lzma",
        |_, fd| vec![format!("pwrite:{fd}@12=0000000000000000")],
    ));
    c.push(method_case(
        "req-8.3.5-4-lzma-short-header",
        "REQ-8.3.5-4",
        "An lzma payload of 12 bytes (an incomplete header).",
        "lzma",
        |_, fd| vec![format!("ptrunc:{fd}=19")],
    ));
    c.push(method_case(
        "req-8.3.5-4-lzma-first-byte",
        "REQ-8.3.5-4",
        "LZMA data whose first range-coder byte is not 0.",
        "lzma",
        |b, fd| vec![b.flip_method_byte(fd, 13, 0x80)],
    ));
    c.push(method_case(
        "req-8.3.5-4-lzma-truncated",
        "REQ-8.3.5-4",
        "LZMA data cut in the middle (no end marker).",
        "lzma",
        |b, fd| {
            vec![format!(
                "ptrunc:{fd}={}",
                7 + 13 + (b.method_payload(fd).len() - 13) / 2
            )]
        },
    ));
    c.push(method_case(
        "req-8.3-2-lzma-trailing-byte",
        "REQ-8.3-2",
        "An lzma payload with one byte after the end marker.",
        "lzma",
        |_, fd| vec![format!("pappend:{fd}=00")],
    ));
    c.push(method_case(
        "req-8.3-1-lzma-long",
        "REQ-8.3-1",
        "Valid LZMA data of N + 1 bytes (the decoder stops at N + 1).",
        "lzma",
        |b, fd| {
            let mut d = b.data(0, 0);
            d.push(0x42);
            vec![b.set_payload(fd, &code(CodingMethod::Lzma, &d))]
        },
    ));
    c.push(method_case(
        "req-8.3-1-lzma-short",
        "REQ-8.3-1",
        "Valid LZMA data of N - 1 bytes.",
        "lzma",
        |b, fd| {
            let d = b.data(0, 0);
            vec![b.set_payload(fd, &code(CodingMethod::Lzma, &d[..d.len() - 1]))]
        },
    ));

    // Clause 8.3.6: the native method.
    for (id, req, purpose, make) in native_cases() {
        c.push(method_case(id, req, purpose, "native", make));
    }

    // Clause 8.3.7: the quantized method (and its cases of clauses 8.4, 8.5 and Annex A.1).
    c.extend(quantized_invalid_cases());

    // Clause 8.4: non-negative layers.
    for (t, set, method, what) in [
        (ElementType::Float32, "neg-zero", 0u16, "-0.0"),
        (
            ElementType::Float32,
            "nan",
            4,
            "a NaN with the sign bit set",
        ),
        (
            ElementType::Float16,
            "nan",
            1,
            "a NaN with the sign bit set",
        ),
        (
            ElementType::BFloat16,
            "subnormal",
            2,
            "a negative subnormal",
        ),
        (ElementType::Int8, "extremes", 3, "-128 and -1"),
    ] {
        let m = METHODS[usize::from(method)];
        c.push(invalid(
            &format!("req-8.4-1-{t}-{set}-{m}"),
            "REQ-8.4-1",
            &format!("non_negative_flag = 1 on a {t} layer ({m}) holding {what}."),
            &format!("valid/edge-{t}-{set}"),
            move |b| {
                vec![format!(
                    "set:{}.non_negative_flag=1",
                    b.lp(usize::from(method))
                )]
            },
        ));
    }

    // Clause 8.5: tensor hash.
    c.push(invalid(
        "req-8.5-1-hash-flip",
        "REQ-8.5-1",
        "A tensor_hash whose first byte differs from the SHA-256 of the tensor (unit CRC correct).",
        B1,
        |b| {
            let th = b.th(0, 0);
            vec![format!("pwrite:{th}@7={:02x}", b.payload(th)[7] ^ 0x01)]
        },
    ));
    c.push(invalid(
        "req-8.5-1-hash-of-other-layer",
        "REQ-8.5-1",
        "Layer 1's tensor_hash carries layer 0's SHA-256.",
        B1,
        |b| {
            let value = hex::encode(&b.payload(b.th(0, 0))[7..]);
            vec![format!("set:{}.hash_value=hex:{value}", b.th(1, 0))]
        },
    ));
    c.push(invalid(
        "req-8.5-1-hash-of-other-frame",
        "REQ-8.5-1",
        "Layer a's frame-2 tensor_hash carries its frame-1 SHA-256.",
        FRAMES,
        |b| {
            let value = hex::encode(&b.payload(b.th(0, 1))[7..]);
            vec![format!("set:{}.hash_value=hex:{value}", b.th(0, 2))]
        },
    ));

    // Annex A.1: profiles one step over.
    c.push(invalid(
        "req-a.1-1-baseline-bfloat16",
        "REQ-A.1-1",
        "A bfloat16 layer in a baseline-profile stream (everything else baseline).",
        "valid/m-raw-bfloat16-r2",
        fixed(&["set:0.profile_idc=0"]),
    ));
    c.push(invalid(
        "req-a.1-2-baseline-default-bzip2",
        "REQ-A.1-2",
        "default_method bzip2 in a baseline-profile stream.",
        "valid/m-bzip2-float32-r2",
        fixed(&["set:0.profile_idc=0"]),
    ));
    c.push(invalid(
        "req-a.1-2-baseline-default-lzma",
        "REQ-A.1-2",
        "default_method lzma in a baseline-profile stream.",
        "valid/m-lzma-uint8-r1",
        fixed(&["set:0.profile_idc=0"]),
    ));
    c.push(invalid(
        "req-a.1-2-baseline-coding-lzma",
        "REQ-A.1-2",
        "coding_method lzma in a baseline-profile stream whose layer's default_method is raw.",
        "valid/m-lzma-float16-r4",
        |b| {
            vec![
                "set:0.profile_idc=0".into(),
                format!("set:{}.default_method=0", b.lp(0)),
            ]
        },
    ));
    c.push(invalid(
        "req-a.1-2-baseline-coding-bzip2",
        "REQ-A.1-2",
        "coding_method bzip2 (frame 2 of layer c) in a baseline-profile stream.",
        FRAMES,
        fixed(&["set:0.profile_idc=0"]),
    ));
    let mut profile_unselected = invalid("req-a.1-2-unselected-layer", "REQ-A.1-2", "The profile restricts unselected layers too: layer c uses bzip2 in frame 2 of a baseline stream while only layer a is selected (Annex A.1, clause 8.6).", FRAMES, fixed(&["set:0.profile_idc=0"]));
    profile_unselected.select_layer = Some("a".into());
    c.push(profile_unselected);

    // Annex A.2: levels one step over.
    for (level, max_layers) in [(10u8, 16u16), (20, 64), (30, 256), (40, 1024)] {
        let n = level / 10;
        c.push(invalid(
            &format!("req-a.2-1-level-{n}-layers"),
            "REQ-A.2-1",
            &format!("Level {n} one step over MaxLayers: num_layers = {} (level-{n}-max-layers with one more layer declared).", max_layers + 1),
            &format!("uncommon/level-{n}-max-layers"),
            move |b| {
                let at = b.lp(usize::from(max_layers) - 1) + 1;
                vec![
                    format!("set:0.num_layers={}", max_layers + 1),
                    format!("insert:{at}={}", unit_hex(2, &layer_payload(max_layers, ElementType::Uint8, &[1], CodingMethod::Raw, &format!("l{max_layers:04}")))),
                ]
            },
        ));
    }
    for (level, dims) in [
        (10u8, "1048577"),
        (20, "8388609"),
        (30, "67108865"),
        (40, "268435457"),
    ] {
        let n = level / 10;
        c.push(invalid(
            &format!("req-a.2-2-level-{n}-tensor-elements"),
            "REQ-A.2-2",
            &format!("Level {n} one step over MaxTensorElements: a layer of {dims} elements, declared without feature data."),
            &format!("uncommon/level-{n}-max-tensor-elements"),
            move |b| {
                let mut ops = vec![format!("set:{}.dims={dims}", b.lp(0))];
                let units = b.units.units.len();
                // Remove the feature data (and hash) of levels 1 and 2.
                for _ in 0..units - 3 {
                    ops.push("delete:2".into());
                }
                ops
            },
        ));
    }
    c.push(invalid(
        "req-a.2-2-product-overflows",
        "REQ-A.2-2",
        "A layer of shape 4294967295^4: the product of the dimensions exceeds 2^64 and must be computed without overflow.",
        B2,
        |b| vec![format!("set:{}.dims=4294967295x4294967295x4294967295x4294967295", b.lp(0))],
    ));
    for (level, count) in [(10u8, 4usize), (20, 8), (30, 8), (40, 16)] {
        let n = level / 10;
        c.push(invalid(
            &format!("req-a.2-4-level-{n}-frame-bytes"),
            "REQ-A.2-4",
            &format!("Level {n} one step over MaxFrameBytes: level-{n}-max-frame-bytes with one more uint8 layer of one element."),
            &format!("uncommon/level-{n}-max-frame-bytes"),
            move |b| {
                let at = b.lp(count - 1) + 1;
                vec![
                    format!("set:0.num_layers={}", count + 1),
                    format!("insert:{at}={}", unit_hex(2, &layer_payload(count as u16, ElementType::Uint8, &[1], CodingMethod::Raw, "extra"))),
                ]
            },
        ));
    }
    c.push(invalid(
        "req-a.2-3-first-unit-1025",
        "REQ-A.2-3",
        "A first unit whose payload_size is 1025, above the 1024 bytes allowed before the level is known (a sequence_header padded with zeros; the size is checked before anything else).",
        B1,
        |_| vec![format!("pappend:0={}", "00".repeat(1017))],
    ));
    for level in [10u8, 20, 30, 40] {
        let n = level / 10;
        let max = dfc_decoder::LevelLimits::from_idc(level)
            .expect("defined")
            .max_unit_size;
        c.push(invalid(
            &format!("req-a.2-3-level-{n}-unit-size"),
            "REQ-A.2-3",
            &format!(
                "Level {n} one step over MaxUnitSize: a reserved-skippable unit declares a payload of {} bytes. The payload is not in the stream (it would make the file {} MiB): the decoder must reject the unit on its size alone, before reading or allocating it (clause 8.2, step 3).",
                u64::from(max) + 1,
                (u64::from(max) + 1) >> 20
            ),
            B1,
            move |b| {
                let eos = b.eos();
                let mut ops = Vec::new();
                if level != 10 {
                    ops.push(format!("set:0.level_idc={level}"));
                }
                ops.push(format!("insert:{eos}={}", unit_hex(0x80, b"")));
                ops.push(format!("set:{eos}.payload_size={}", u64::from(max) + 1));
                ops
            },
        ));
    }
    c
}

/// The parts of the native payload of a base's feature_data unit, as the decoder parses them.
fn native_parts(b: &Base, fd: usize) -> (dfc_decoder::native::NativeParts, usize) {
    let p = b.layer(0);
    let element_type = ElementType::from_code(p.element_type).expect("a valid base");
    let desc = dfc_decoder::native::TensorDesc {
        element_type,
        shape: &p.dims,
        non_negative: p.non_negative_flag,
    };
    let parts = dfc_decoder::native::parse_parts(b.method_payload(fd), &desc)
        .expect("a valid native payload");
    let table_end = parts.data_offset - 8 * parts.index.slices.len();
    (parts, table_end)
}

/// A native payload rebuilt from (possibly changed) parts and the original slice data.
fn native_payload(parts: &dfc_decoder::native::NativeParts, method_payload: &[u8]) -> Vec<u8> {
    use dfc_decoder::native::syntax::write_tables;
    let mut out = parts.header.to_bytes();
    let tables: Vec<_> = parts
        .row_tables
        .iter()
        .chain(&parts.kind_tables)
        .chain(&parts.exp_tables)
        .cloned()
        .collect();
    let mut w = bitstream_io::BitWriter::endian(&mut out, BigEndian);
    write_tables(&mut w, &tables).expect("in memory");
    out.extend(parts.index.to_bytes());
    out.extend_from_slice(&method_payload[parts.data_offset..]);
    out
}

/// The native payload with `count` zero bytes added at the end of part `part` (0 rANS, 1 raw)
/// of the first slice, and the slice index updated.
fn native_with_extra(b: &Base, fd: usize, part: usize, count: u32) -> Vec<u8> {
    let (mut parts, _) = native_parts(b, fd);
    let payload = b.method_payload(fd);
    let (rans, raw) = parts.index.slices[0];
    let at = parts.data_offset + rans as usize + if part == 1 { raw as usize } else { 0 };
    if part == 0 {
        parts.index.slices[0].0 += count;
    } else {
        parts.index.slices[0].1 += count;
    }
    let mut out = native_payload(&parts, payload);
    let shift = out.len() - payload.len();
    out.splice(
        at + shift..at + shift,
        std::iter::repeat_n(0u8, count as usize),
    );
    out
}

type NativeCase = (
    &'static str,
    &'static str,
    &'static str,
    fn(&Base, usize) -> Vec<String>,
);

/// Invalid native payloads, made with the decoder's own parser so that they follow its layout.
fn native_cases() -> Vec<NativeCase> {
    vec![
        ("req-8.3.6-1-rows-per-slice-0", "REQ-8.3.6-1", "A native payload with rows_per_slice = 0.", |_, fd| vec![format!("pwrite:{fd}@7=00000000")]),
        ("req-8.3.6-2-table-sum", "REQ-8.3.6-2", "A native frequency table whose frequencies do not sum to 4096 (one frequency raised by 1).", |b, fd| {
            let (mut parts, _) = native_parts(b, fd);
            raise_a_frequency(parts.row_tables.iter_mut().chain(parts.kind_tables.iter_mut()).chain(parts.exp_tables.iter_mut()));
            vec![b.set_payload(fd, &native_payload(&parts, b.method_payload(fd)))]
        }),
        ("req-8.3.6-3-alignment-bits", "REQ-8.3.6-3", "A native payload whose alignment_zero_bits after the frequency tables are not 0.", |b, fd| {
            let (mut parts, _) = native_parts(b, fd);
            let bits = |p: &dfc_decoder::native::NativeParts| {
                8 * dfc_decoder::native::syntax::NATIVE_HEADER_BYTES as u64 + p.row_tables.iter().chain(&p.kind_tables).chain(&p.exp_tables).map(|t| t.coded_bits()).sum::<u64>()
            };
            if bits(&parts) % 8 == 0 {
                // No padding: move one unit of frequency to a new symbol right after the last
                // one of an exponent table (13 more bits; the table stays valid).
                let t = parts
                    .exp_tables
                    .iter_mut()
                    .find(|t| t.entries.iter().any(|e| e.1 >= 2) && t.entries.last().is_some_and(|e| e.0 < 200))
                    .expect("an exponent table to extend");
                let last = t.entries.last().expect("checked").0;
                t.entries.iter_mut().find(|e| e.1 >= 2).expect("checked").1 -= 1;
                t.entries.push((last + 1, 1));
            }
            let total = bits(&parts);
            assert!(total % 8 != 0);
            let mut payload = native_payload(&parts, b.method_payload(fd));
            payload[(total / 8) as usize] |= 1 << (7 - total % 8);
            vec![b.set_payload(fd, &payload)]
        }),
        ("req-8.3.6-4-slice-bytes", "REQ-8.3.6-4", "A native payload with one byte more than its slice index lists.", |_, fd| vec![format!("pappend:{fd}=00")]),
        ("req-8.3.6-4-slice-index", "REQ-8.3.6-4", "A native slice index whose first rans_bytes is one more than the data holds.", |b, fd| {
            let (mut parts, _) = native_parts(b, fd);
            parts.index.slices[0].0 += 1;
            vec![b.set_payload(fd, &native_payload(&parts, b.method_payload(fd)))]
        }),
        ("req-8.3.6-5-empty-context", "REQ-8.3.6-5", "A native payload whose kind frequency tables are all empty, so the first element kind is coded in an empty context.", |b, fd| {
            let (mut parts, _) = native_parts(b, fd);
            for t in &mut parts.kind_tables {
                t.entries.clear();
            }
            vec![b.set_payload(fd, &native_payload(&parts, b.method_payload(fd)))]
        }),
        ("req-8.3.6-6-rans-extra-bytes", "REQ-8.3.6-6", "A native slice with two unread bytes after its rANS data (listed in the slice index).", |b, fd| {
            vec![b.set_payload(fd, &native_with_extra(b, fd, 0, 2))]
        }),
        ("req-8.3.6-6-raw-extra-byte", "REQ-8.3.6-6", "A native slice with one unread byte after its raw data (listed in the slice index).", |b, fd| {
            vec![b.set_payload(fd, &native_with_extra(b, fd, 1, 1))]
        }),
        ("req-8.3.6-7-short-header", "REQ-8.3.6-7", "A native payload of 3 bytes (inside native_header()).", |_, fd| vec![format!("ptrunc:{fd}=10")]),
        ("req-8.3.6-7-short-index", "REQ-8.3.6-7", "A native payload that ends inside its slice index.", |b, fd| {
            let (_, table_end) = native_parts(b, fd);
            vec![format!("ptrunc:{fd}={}", 7 + table_end + 4)]
        }),
    ]
}

// ---------------------------------------------------------------------------------------------
// The quantized method (clause 8.3.7).

/// `valid/q-uniform-per-tensor`: one float32 layer [4, 8, 8] (ResNet-50 pool1, non-negative),
/// uniform quantizer per tensor, unsigned levels. Base of the hand-built quantized cases (which
/// change its layer and payload) and of many invalid ones.
const Q_BASE: &str = "valid/q-uniform-per-tensor";
/// `valid/q-uniform-per-channel`: as Q_BASE with one step per channel (4 parameter sets).
const Q_CHANNEL: &str = "valid/q-uniform-per-channel";
/// `valid/q-codebook-16`: a float32 layer [4, 8, 8] with a codebook of 16 codewords, level_bits 4.
const Q_CODEBOOK: &str = "valid/q-codebook-16";
/// `valid/q-bits-08`: float32 layers `unsigned` and `signed` [3, 11] (linear ramps), 8-bit levels.
const Q_BITS8: &str = "valid/q-bits-08";

fn lossy(target: LossyTarget, quantizer: &str, channels: &str, rdo: bool) -> LossySpec {
    LossySpec {
        target,
        quantizer: quantizer.to_string(),
        channels: channels.to_string(),
        rdo,
        intra: false,
        step_scale: "peak".into(),
    }
}

/// A layer coded with the quantized method.
fn qlayer(
    name: &str,
    kind: LayerKind,
    t: ElementType,
    shape: &[u32],
    data: DataSpec,
    options: LossySpec,
) -> LayerRecipe {
    let mut l = layer(name, kind, t, shape, "quantized", data);
    l.lossy = Some(options);
    l
}

fn ramp(from: f64, to: f64) -> DataSpec {
    DataSpec::Ramp { from, to }
}

fn sine(amplitude: f64, frequency: f64) -> DataSpec {
    DataSpec::Sine {
        amplitude,
        frequency,
    }
}

fn bits(v: f32) -> u32 {
    v.to_bits()
}

/// 2^e as a binary32 bit pattern (normal or subnormal).
fn pow2(e: i32) -> u32 {
    if e >= -126 {
        ((e + 127) as u32) << 23
    } else {
        1 << (e + 149)
    }
}

fn qpayload(header: QuantHeader, params: Params, shape: &[u32], levels: Vec<i32>) -> QuantPayload {
    QuantPayload {
        header,
        params,
        shape: shape.to_vec(),
        levels,
        code_zero_rows: false,
        map_predictors: Vec::new(),
        inter: None,
    }
}

/// A payload with map prediction: `header` with map_prediction 1 and `residual_ctx_base`, and
/// one `map_predictor` per map.
fn mpayload(
    header: QuantHeader,
    residual_ctx_base: u8,
    params: Params,
    shape: &[u32],
    levels: Vec<i32>,
    map_predictors: &[u8],
) -> QuantPayload {
    let mut p = qpayload(
        QuantHeader {
            map_prediction: true,
            residual_ctx_base,
            ..header
        },
        params,
        shape,
        levels,
    );
    p.map_predictors = map_predictors.to_vec();
    p
}

fn dims_text(shape: &[u32]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// Q_BASE with its layer turned into a `t` layer of the payload's shape carrying the hand-built
/// payload `p`, and the tensor_hash of the hand-computed reconstruction. The expected tensor is
/// that reconstruction (quantized::QuantPayload::reconstruct), not the decoder's output.
fn hand_case(
    group: Group,
    id: &str,
    purpose: &str,
    reqs: &[&str],
    t: ElementType,
    p: QuantPayload,
) -> Case {
    let data = p.reconstruct(t);
    let non_negative = !data.chunks_exact(t.size()).any(|e| t.has_sign_set(e));
    let payload = p.to_bytes();
    let hash = hex::encode(&dfc_decoder::tensor_sha256(&data));
    let dims = dims_text(&p.shape);
    let mut case = mutation(group, id, purpose, reqs, Q_BASE, move |b| {
        let (lp, fd, th) = (b.lp(0), b.fd(0, 0), b.th(0, 0));
        vec![
            format!("set:{lp}.element_type={}", t.code()),
            format!("set:{lp}.dims={dims}"),
            format!("set:{lp}.non_negative_flag={}", u8::from(non_negative)),
            b.set_payload(fd, &payload),
            format!("set:{th}.hash_value=hex:{hash}"),
        ]
    });
    case.outputs = Some(Box::new(move |_| {
        vec![HandTensor {
            layer_id: 0,
            frame_index: 0,
            data: data.clone(),
        }]
    }));
    case
}

/// An invalid hand-built payload in Q_BASE's layer turned into a `t` layer of `shape` (its
/// tensor_hash removed: the stream is rejected at the feature_data unit).
fn hand_invalid(
    id: &str,
    requirement: &str,
    purpose: &str,
    t: ElementType,
    non_negative: bool,
    shape: &[u32],
    payload: Vec<u8>,
) -> Case {
    let dims = dims_text(shape);
    invalid(id, requirement, purpose, Q_BASE, move |b| {
        let (lp, fd, th) = (b.lp(0), b.fd(0, 0), b.th(0, 0));
        vec![
            format!("set:{lp}.element_type={}", t.code()),
            format!("set:{lp}.dims={dims}"),
            format!("set:{lp}.non_negative_flag={}", u8::from(non_negative)),
            b.set_payload(fd, &payload),
            format!("delete:{th}"),
        ]
    })
}

/// The smallest and the largest magnitude of every token 0..39 (clause 8.3.7.4).
fn token_magnitudes() -> Vec<i32> {
    let mut out: Vec<i32> = (0..16).collect();
    for t in 16..40u32 {
        let n = (t - 16) / 2 + 4;
        let min = (2 + ((t - 16) & 1)) << (n - 1);
        out.push(min as i32);
        out.push((min | ((1 << (n - 1)) - 1)) as i32);
    }
    out
}

/// Checks an encoder-made stream with map prediction: the quantized payload of layer 0 has
/// map_prediction 1, its maps use every predictor of `want`, and its header is `what`.
fn intra_check(
    want: &'static [u8],
    what: &'static str,
    header_ok: fn(&QuantHeader) -> bool,
) -> CheckFn {
    Box::new(move |stream| {
        let b = Base::new(stream.to_vec());
        let parts = quant_parts(&b, b.fd(0, 0));
        if !parts.header.map_prediction {
            return Err("the encoder did not use map prediction (map_prediction 0)".into());
        }
        if let Some(p) = want.iter().find(|p| !parts.map_predictors.contains(p)) {
            return Err(format!(
                "no map has map_predictor {p} (the encoder chose {:?})",
                parts.map_predictors
            ));
        }
        if !header_ok(&parts.header) {
            return Err(format!("quant_header() is not {what}: {:?}", parts.header));
        }
        Ok(())
    })
}

/// Levels of `valid/q-hand-med`: float32 [3, 4, 6], maps 0 and 2 coded with MED.
fn med_branch_levels() -> Vec<i32> {
    let map0 = [
        [-32768, 32767, 32767, -32768, 0, 7],
        [-32768, -32768, 20, 300, 301, -9],
        [-100, 40, 21, 5000, -4000, 12],
        [-90, 60, 25, 4990, -3980, 1],
    ];
    let map1 = [
        [0, 1, 2, 3, 200, -200],
        [5, 4, 3, 2, 1, 0],
        [0, 0, 0, 0, 0, 0],
        [17, -17, 33, -1000, 1000, 65],
    ];
    let map2 = [
        [10, 12, 14, 16, 18, 20],
        [12, 14, 16, 18, 20, 22],
        [9, 30, -30, 0, 16000, -16000],
        [-1, 2, 3, 4, 5, 6],
    ];
    [map0, map1, map2]
        .iter()
        .flatten()
        .flatten()
        .copied()
        .collect()
}

/// Asserts that a hand-built MED payload exercises what `valid/q-hand-med` promises.
fn check_med(p: &QuantPayload) {
    let e = p.med_elements();
    for case in 0..3 {
        assert!(
            e.iter().any(|x| x.case == case),
            "MED case {case} is not used"
        );
    }
    assert!(
        e.iter().any(|x| x.row_end),
        "no row end with a non-zero level above"
    );
    let tokens: std::collections::BTreeSet<usize> = e
        .iter()
        .map(|x| quantized::token(x.residual.unsigned_abs()).0)
        .collect();
    let contexts: std::collections::BTreeSet<usize> = e.iter().map(|x| x.ctx).collect();
    assert!(
        tokens.iter().any(|&t| t >= 16) && tokens.contains(&39),
        "tokens {tokens:?}"
    );
    assert!(
        contexts.contains(&0) && contexts.contains(&15),
        "contexts {contexts:?}"
    );
    assert!(e.iter().any(|x| x.residual < 0) && e.iter().any(|x| x.residual > 0));
}

fn quantized_valid_cases() -> Vec<Case> {
    let v = Group::Valid;
    let mut cases = Vec::new();
    let pool1 = |convert| crop(&format!("{RESNET}/pool1.npy"), &[10, 20, 20], convert);
    let uniform = |target, channels: &str, rdo| lossy(target, "uniform", channels, rdo);
    cases.push(from_recipe(
        v,
        "q-uniform-per-tensor",
        "Quantized method (coding_method 6), uniform quantizer with one step for the tensor: real ResNet-50 pool1 activations (float32 [4, 8, 8], non-negative, so unsigned levels), 8 bits, rate-distortion optimized rounding. The expected tensor is the encoder's reconstruction, not its input. Base of the hand-built quantized cases.",
        &["REQ-8.3.7-1", "REQ-8.3.7-3", "REQ-8.3.7-5", "REQ-8.4-1", "REQ-8.5-1"],
        recipe("main", vec![qlayer("pool1", LayerKind::Pool, ElementType::Float32, &[4, 8, 8], pool1(None), uniform(LossyTarget::Bits(8), "per_tensor", true))]),
    ));
    cases.push(from_recipe(
        v,
        "q-uniform-per-channel",
        "Quantized method, uniform quantizer with one step per channel (per_channel = 1, 4 parameter sets, ParamSet = channel index): ResNet-50 pool1 (float32 [4, 8, 8]), 6 bits, nearest rounding.",
        &["REQ-8.3.7-1", "REQ-8.3.7-3", "REQ-8.3.7-5"],
        recipe("main", vec![qlayer("pool1", LayerKind::Pool, ElementType::Float32, &[4, 8, 8], pool1(None), uniform(LossyTarget::Bits(6), "per_channel", false))]),
    ));
    cases.push(from_recipe(
        v,
        "q-uniform-signed",
        "Quantized method with signed levels (signed_levels = 1, a sign bit per non-zero level): values of both signs (float32 [3, 5, 9], a sine), uniform per tensor, qp 24.",
        &["REQ-8.3.7-1", "REQ-8.3.7-5"],
        recipe("main", vec![qlayer("signed", LayerKind::Conv, ElementType::Float32, &[3, 5, 9], sine(2.5, 0.41), uniform(LossyTarget::Qp(24), "per_tensor", true))]),
    ));
    cases.push(from_recipe(
        v,
        "q-uniform-signed-per-channel",
        "Quantized method, signed levels with one step per channel: float32 [4, 2, 9] (a sine), 7 bits, nearest rounding.",
        &["REQ-8.3.7-1", "REQ-8.3.7-5"],
        recipe("main", vec![qlayer("signed", LayerKind::Conv, ElementType::Float32, &[4, 2, 9], sine(3.0, 0.29), uniform(LossyTarget::Bits(7), "per_channel", false))]),
    ));
    cases.push(from_recipe(
        v,
        "q-per-channel-r1",
        "Quantized method per channel on a rank-1 tensor (float32 [24]): dim[0] is the number of elements, so every element has its own parameter set.",
        &["REQ-8.3.7-1"],
        recipe("main", vec![qlayer("vector", LayerKind::Fc, ElementType::Float32, &[24], sine(1.5, 0.7), uniform(LossyTarget::Bits(3), "per_channel", false))]),
    ));
    cases.push(from_recipe(
        v,
        "q-per-channel-r4",
        "Quantized method per channel on a rank-4 tensor (float32 [3, 2, 3, 5]): each of the 3 parameter sets covers 30 elements (two maps).",
        &["REQ-8.3.7-1"],
        recipe("main", vec![qlayer("r4", LayerKind::Conv, ElementType::Float32, &[3, 2, 3, 5], sine(4.0, 0.53), uniform(LossyTarget::Bits(5), "per_channel", true))]),
    ));
    // Every level bit depth.
    for b in 1..=16u8 {
        let t = [
            ElementType::Float32,
            ElementType::Float16,
            ElementType::BFloat16,
        ][usize::from(b % 3)];
        let t = if b == 8 { ElementType::Float32 } else { t };
        cases.push(from_recipe(
            v,
            &format!("q-bits-{b:02}"),
            &format!("Quantized method with level_bits = {b}: two {t} layers [3, 11], linear ramps quantized to {b} bits with nearest rounding: 'unsigned' (0 to 1, levels 0 to {}) and 'signed' ({} to 1, signed levels{}).", (1u32 << b) - 1, if b == 1 { "-1 to 0" } else { "-1" }, if b == 1 { " -1 and 0" } else { "" }),
            &["REQ-8.3.7-1", "REQ-8.3.7-5"],
            recipe(
                "main",
                vec![
                    qlayer("unsigned", LayerKind::Other, t, &[3, 11], ramp(0.0, 1.0), uniform(LossyTarget::Bits(b), "per_tensor", false)),
                    qlayer("signed", LayerKind::Other, t, &[3, 11], ramp(-1.0, if b == 1 { 0.0 } else { 1.0 }), uniform(LossyTarget::Bits(b), "per_tensor", false)),
                ],
            ),
        ));
    }
    // Codebooks.
    let codebook = |b| lossy(LossyTarget::Bits(b), "codebook", "per_tensor", false);
    cases.push(from_recipe(
        v,
        "q-codebook-2",
        "Quantized method, codebook quantizer (quantizer_type 1) with 2 codewords (+0 and one fitted value), level_bits 1: ResNet-50 pool1 (float32 [4, 8, 8]).",
        &["REQ-8.3.7-1", "REQ-8.3.7-3", "REQ-8.3.7-5"],
        recipe("main", vec![qlayer("pool1", LayerKind::Pool, ElementType::Float32, &[4, 8, 8], pool1(None), codebook(1))]),
    ));
    cases.push(from_recipe(
        v,
        "q-codebook-16",
        "Quantized method, codebook of 16 = 2^level_bits codewords (level_bits 4), fitted with Lloyd-Max: ResNet-50 res3d (float32 [4, 8, 8]).",
        &["REQ-8.3.7-1", "REQ-8.3.7-3", "REQ-8.3.7-5"],
        recipe("main", vec![qlayer("res3d", LayerKind::Conv, ElementType::Float32, &[4, 8, 8], crop(&format!("{RESNET}/res3d.npy"), &[0, 10, 10], None), codebook(4))]),
    ));
    cases.push(from_recipe(
        v,
        "q-codebook-256",
        "Quantized method, codebook of 256 codewords (level_bits 8) with negative codewords ordered by magnitude: a sine of 512 distinct values (float32 [4, 8, 16]).",
        &["REQ-8.3.7-1", "REQ-8.3.7-3", "REQ-8.3.7-5"],
        recipe("main", vec![qlayer("wave", LayerKind::Conv, ElementType::Float32, &[4, 8, 16], sine(6.0, 0.173), codebook(8))]),
    ));
    cases.push(from_recipe(
        v,
        "q-codebook-all-zero",
        "Quantized method, codebook of a single codeword (+0) for an all-zero tensor (float32 [2, 4, 6]): level_bits 1, every row a zero row.",
        &["REQ-8.3.7-1", "REQ-8.3.7-3"],
        recipe("main", vec![qlayer("zero", LayerKind::Conv, ElementType::Float32, &[2, 4, 6], DataSpec::Zeros, codebook(2))]),
    ));
    cases.push(from_recipe(
        v,
        "q-codebook-bfloat16",
        "Quantized method, codebook of 8 codewords on a bfloat16 layer (ResNet-50 pool1 converted to bfloat16): the binary32 codewords are rounded to bfloat16, to nearest even.",
        &["REQ-8.3.7-2", "REQ-8.3.7-3"],
        recipe("main", vec![qlayer("pool1", LayerKind::Pool, ElementType::BFloat16, &[4, 8, 8], pool1(Some(Convert::Bfloat16)), codebook(3))]),
    ));
    // Element types.
    cases.push(from_recipe(
        v,
        "q-float16",
        "Quantized method on a float16 layer (ResNet-50 res4f converted to float16, [8, 7, 7]), 5 bits per channel: each binary32 reconstruction is rounded to float16, to nearest even.",
        &["REQ-8.3.7-2"],
        recipe("main", vec![qlayer("res4f", LayerKind::Conv, ElementType::Float16, &[8, 7, 7], crop(&format!("{RESNET}/res4f.npy"), &[0, 3, 3], Some(Convert::Float16)), uniform(LossyTarget::Bits(5), "per_channel", true))]),
    ));
    cases.push(from_recipe(
        v,
        "q-bfloat16",
        "Quantized method on a bfloat16 layer (ResNet-50 res5c converted to bfloat16, [4, 7, 7]), qp 16 per tensor: reconstructions rounded to bfloat16, to nearest even.",
        &["REQ-8.3.7-2"],
        recipe("main", vec![qlayer("res5c", LayerKind::Conv, ElementType::BFloat16, &[4, 7, 7], crop(&format!("{RESNET}/res5c.npy"), &[0, 0, 0], Some(Convert::Bfloat16)), uniform(LossyTarget::Qp(16), "per_tensor", true))]),
    ));
    cases.push(from_recipe(
        v,
        "q-real-hed-psnr",
        "Quantized method with a PSNR target (40 dB, per tensor or per channel, whichever is smaller): a sparse real VGG-16 (HED) conv5_3 crop, float32 [8, 7, 7], with many zero rows.",
        &["REQ-8.3.7-1"],
        recipe("main", vec![qlayer("conv5_3", LayerKind::Conv, ElementType::Float32, &[8, 7, 7], crop(&format!("{HED}/conv5_3.npy"), &[0, 3, 3], None), uniform(LossyTarget::Psnr(40.0), "auto", true))]),
    ));
    // Quantized and lossless layers in one stream, and in later frames.
    let mut mixed = recipe(
        "main",
        vec![
            qlayer(
                "pool1_q",
                LayerKind::Pool,
                ElementType::Float32,
                &[4, 8, 8],
                pool1(None),
                uniform(LossyTarget::Bits(4), "per_tensor", true),
            ),
            layer(
                "pool1_native",
                LayerKind::Pool,
                ElementType::Float32,
                &[4, 8, 8],
                "native",
                pool1(None),
            ),
            layer(
                "logits",
                LayerKind::Fc,
                ElementType::Int8,
                &[10],
                "raw",
                pattern(true, 0),
            ),
            qlayer(
                "wave_q",
                LayerKind::Other,
                ElementType::Float16,
                &[3, 16],
                sine(2.0, 0.3),
                codebook(4),
            ),
            layer(
                "wave_zlib",
                LayerKind::Other,
                ElementType::Float16,
                &[3, 16],
                "zlib",
                sine(2.0, 0.3),
            ),
        ],
    );
    mixed.extra_frames = vec![FrameRecipe {
        frame_index: 1,
        layers: vec![
            FrameLayer {
                layer: "pool1_q".into(),
                method: "zlib".into(),
                lossy: None,
                data: pattern(false, 5),
            },
            FrameLayer {
                layer: "wave_zlib".into(),
                method: "quantized".into(),
                lossy: Some(uniform(LossyTarget::Bits(6), "per_channel", true)),
                data: sine(1.0, 0.9),
            },
        ],
    }];
    cases.push(from_recipe(
        v,
        "q-mixed-methods",
        "Quantized and lossless layers in one stream: float32 quantized and native, int8 raw, float16 codebook and zlib; in frame 1 the quantized layer is coded with zlib and a zlib layer with the quantized method (per channel). Every tensor_hash of a quantized tensor is the hash of its reconstruction.",
        &["REQ-8.3.7-1", "REQ-8.5-1", "REQ-5.2-5"],
        mixed,
    ));

    // Hand-built payloads: header values, parameters and levels the encoder does not choose.
    let f32t = ElementType::Float32;
    let mags = token_magnitudes();
    let mut levels = mags.clone();
    levels.resize(64, 0);
    cases.push(hand_case(
        v,
        "q-hand-tokens",
        "Every level_token 0 to 39 with its smallest and largest magnitude (up to 65535, token 39 with 14 extra bits), unsigned 16-bit levels, step 1.0: each element decodes to its level. level_ctx_base 0, so the sums of large neighbours reach level context 15.",
        &["REQ-8.3.7-5"],
        f32t,
        qpayload(quantized::header(0, 16, false, false, 0, 8), Params::Uniform(vec![(bits(1.0), 0)]), &[8, 8], levels),
    ));
    let mut signed: Vec<i32> = mags
        .iter()
        .enumerate()
        .filter(|(_, &m)| m <= 32767)
        .map(|(i, &m)| if i % 2 == 1 { -m } else { m })
        .collect();
    signed.extend([32767, -32768, -32767, 1, -1]);
    signed.resize(72, 0);
    cases.push(hand_case(
        v,
        "q-hand-tokens-signed-float16",
        "Signed 16-bit levels of every token up to 38, including both ends of the range, -32768 and 32767, step 2^-8 and offset -0.0, on a float16 layer: reconstructions of up to 15 significant bits are rounded to float16 (ties to even), and -0.0 + (+0) = +0.",
        &["REQ-8.3.7-5"],
        ElementType::Float16,
        qpayload(quantized::header(0, 16, true, false, 3, 2), Params::Uniform(vec![(pow2(-8), bits(-0.0))]), &[8, 9], signed),
    ));
    cases.push(hand_case(
        v,
        "q-hand-range-signed-b3",
        "Signed 3-bit levels at both ends of their range (-4 and 3) and everything between, step 0.5 and offset 0.25.",
        &["REQ-8.3.7-5"],
        f32t,
        qpayload(quantized::header(0, 3, true, false, 0, 16), Params::Uniform(vec![(bits(0.5), bits(0.25))]), &[2, 8], (0..16).map(|i| [-4, -3, -2, -1, 0, 1, 2, 3][(i * 3) % 8]).collect()),
    ));
    cases.push(hand_case(
        v,
        "q-hand-codebook-1",
        "A codebook of a single non-zero codeword (2.5), level_bits 1 (levels 0 only): every row is a zero row, and every element decodes to codeword[0] = 2.5, not to 0.",
        &["REQ-8.3.7-3", "REQ-8.3.7-5"],
        f32t,
        qpayload(quantized::header(1, 1, false, false, 0, 3), Params::Codebook(vec![bits(2.5)]), &[3, 4, 5], vec![0; 60]),
    ));
    let mut cb5: Vec<i32> = (0..20).map(|i| (i % 5 + i / 5) % 5).collect();
    cb5[10..15].fill(0);
    cases.push(hand_case(
        v,
        "q-hand-codebook-5",
        "A codebook of 5 codewords (fewer than 2^level_bits = 8) holding +0, -0.0, the smallest subnormal, -FLT_MAX and 3.5: levels 0 to 4, the level range is 0 to NumCodewords - 1; one zero row.",
        &["REQ-8.3.7-3", "REQ-8.3.7-5"],
        f32t,
        qpayload(quantized::header(1, 3, false, false, 0, 2), Params::Codebook(vec![0, bits(-0.0), 1, 0xFF7F_FFFF, bits(3.5)]), &[4, 5], cb5),
    ));
    let mut offs = vec![0i32; 72];
    for (i, l) in offs.iter_mut().enumerate() {
        let (row, x) = (i / 6, i % 6);
        if row % 4 != 1 {
            *l = ((x * 5 + row * 3) % 16) as i32;
        }
    }
    offs[0..6].fill(0);
    cases.push(hand_case(
        v,
        "q-hand-offsets",
        "Per-channel parameter sets with non-zero offsets (step 0.25 offset 0.75; step -0.5 offset -1.0; step 1.0 offset -0.0) and zero rows: a level 0 decodes to its offset (0.75, -1.0, and +0 since -0.0 + (+0) = +0), not to 0.",
        &["REQ-8.3.7-3"],
        f32t,
        qpayload(quantized::header(0, 4, false, true, 1, 12), Params::Uniform(vec![(bits(0.25), bits(0.75)), (bits(-0.5), bits(-1.0)), (bits(1.0), bits(-0.0))]), &[3, 4, 6], offs),
    ));
    let steps_levels: Vec<i32> = (0..6)
        .flat_map(|c| {
            let base = [-128, -1, 0, 1, 2, 3, 127, -77];
            (0..8).map(move |i| base[(i + c) % 8])
        })
        .collect();
    cases.push(hand_case(
        v,
        "q-hand-steps",
        "Negative, zero and subnormal steps (allowed, clause 8.3.7): per channel, step -0.375; step +0 with offset -0.0 (levels of both signs give -0.0 or +0); step -0.0; step 2^-149 (exact subnormal values); step 2^-149 with offset 1.0 (the sum rounds to 1.0); step 2^-127 with offset -0.0. Signed 8-bit levels including -128 and 127.",
        &["REQ-8.3.7-3"],
        f32t,
        qpayload(
            quantized::header(0, 8, true, true, 2, 3),
            Params::Uniform(vec![(bits(-0.375), 0), (0, bits(-0.0)), (bits(-0.0), 0), (1, 0), (1, bits(1.0)), (pow2(-127), bits(-0.0))]),
            &[6, 2, 4],
            steps_levels,
        ),
    ));
    cases.push(hand_case(
        v,
        "q-hand-overflow",
        "Reconstructions that overflow to infinity (allowed): step 2^127 (levels of magnitude 2 or more give +-inf); step 2^103 with offset FLT_MAX (FLT_MAX + 2^103 is a tie that rounds to +inf, FLT_MAX - 2^103 one that rounds to 0x7F7FFFFE); step FLT_MAX with offset -FLT_MAX (the product or the sum overflows). Signed 4-bit levels, per channel.",
        &["REQ-8.3.7-3"],
        f32t,
        qpayload(
            quantized::header(0, 4, true, true, 0, 4),
            Params::Uniform(vec![(pow2(127), 0), (pow2(103), 0x7F7F_FFFF), (0x7F7F_FFFF, 0xFF7F_FFFF)]),
            &[3, 2, 4],
            [[-8, -2, -1, 0, 1, 2, 7, 3], [1, -1, 2, -3, 0, 7, -8, 1], [1, 2, -1, 0, -2, 7, -8, 0]].concat(),
        ),
    ));
    let tie_levels: Vec<i32> = (0..4)
        .flat_map(|_| [1, 3, 5, -1, -3, 0, 2, -2, 31, -31, 7, -32])
        .collect();
    cases.push(hand_case(
        v,
        "q-hand-float16-ties",
        "Reconstructions that are ties for float16 (rounded to even): per channel, 1 + q * 2^-11 and -1 + q * 2^-11 (odd q above 1 in magnitude), q * 2^-25 (half the smallest subnormal), and 65504 + 16 q (65520 rounds to +inf, 65488 to 65472).",
        &["REQ-8.3.7-2"],
        ElementType::Float16,
        qpayload(
            quantized::header(0, 6, true, true, 0, 5),
            Params::Uniform(vec![(pow2(-11), bits(1.0)), (pow2(-11), bits(-1.0)), (pow2(-25), 0), (bits(16.0), bits(65504.0))]),
            &[4, 2, 6],
            tie_levels.clone(),
        ),
    ));
    cases.push(hand_case(
        v,
        "q-hand-bfloat16-ties",
        "Reconstructions that are ties for bfloat16 (rounded to even): per channel, 1 + q * 2^-8 and -1 + q * 2^-8, q * 2^-134 (half the smallest bfloat16 subnormal), and the largest bfloat16 + q * 2^119 (a tie that rounds to +inf for q = 1).",
        &["REQ-8.3.7-2"],
        ElementType::BFloat16,
        qpayload(
            quantized::header(0, 6, true, true, 0, 5),
            Params::Uniform(vec![(pow2(-8), bits(1.0)), (pow2(-8), bits(-1.0)), (pow2(-134), 0), (pow2(119), 0x7F7F_0000)]),
            &[4, 2, 6],
            tie_levels,
        ),
    ));
    let slice_levels = |n: usize, zero_rows: &[usize], w: usize| -> Vec<i32> {
        (0..n)
            .map(|i| {
                if zero_rows.contains(&(i / w)) {
                    0
                } else {
                    ((i * 7) % 23) as i32
                }
            })
            .collect()
    };
    cases.push(hand_case(
        v,
        "q-hand-slices-4",
        "A multi-slice payload: 15 rows (3 maps of 5) with rows_per_slice 4, so slices of 4, 4, 4 and 3 rows that begin inside maps (HasAbove false at each slice start); zero rows at the start of a slice and after a coded row.",
        &["REQ-8.3.6-4", "REQ-8.3.6-6"],
        f32t,
        qpayload(quantized::header(0, 5, false, false, 0, 4), Params::Uniform(vec![(bits(0.125), 0)]), &[3, 5, 4], slice_levels(60, &[3, 4, 8, 12], 4)),
    ));
    cases.push(hand_case(
        v,
        "q-hand-slices-1",
        "rows_per_slice 1: every row is a slice (6 slices), signed levels, per channel.",
        &["REQ-8.3.6-4", "REQ-8.3.6-6"],
        f32t,
        qpayload(
            quantized::header(0, 6, true, true, 0, 1),
            Params::Uniform(vec![(bits(0.5), 0), (bits(-0.25), bits(1.0))]),
            &[2, 3, 4],
            (0..24).map(|i| ((i * 11) % 29) - 14).collect(),
        ),
    ));
    cases.push(hand_case(
        v,
        "q-hand-slices-max",
        "rows_per_slice 4294967295: one slice for the whole tensor.",
        &["REQ-8.3.6-4"],
        f32t,
        qpayload(
            quantized::header(0, 5, false, false, 0, u32::MAX),
            Params::Uniform(vec![(bits(0.125), 0)]),
            &[2, 3, 4],
            slice_levels(24, &[1], 4),
        ),
    ));
    let mut coded_zero = qpayload(
        quantized::header(0, 4, true, false, 255, 6),
        Params::Uniform(vec![(bits(0.5), 0)]),
        &[2, 4, 5],
        slice_levels(40, &[1, 2, 5], 5)
            .into_iter()
            .map(|l| (l % 15) - 7)
            .collect(),
    );
    for y in [1, 2, 5] {
        coded_zero.levels[y * 5..y * 5 + 5].fill(0);
    }
    coded_zero.code_zero_rows = true;
    cases.push(hand_case(
        v,
        "q-hand-zero-rows-coded",
        "Rows whose levels are all 0 coded as coded rows of zero tokens (an encoder may do so) rather than zero rows; level_ctx_base 255, so every non-zero neighbour sum has level context 1.",
        &["REQ-8.3.6-5"],
        f32t,
        coded_zero,
    ));

    // Map prediction (clause 8.3.7.3): encoder-made streams with intra prediction on, where the
    // encoder picks MED or none per map; the generator checks the predictors it chose.
    // Real ResNet-50 pool1 crops where MED pays on some maps and not on others (the encoder
    // also codes the levels without prediction and keeps the smaller payload).
    let pool1_at = |start: [u32; 3], convert| crop(&format!("{RESNET}/pool1.npy"), &start, convert);
    let intra = |target, quantizer: &str, channels: &str| LossySpec {
        intra: true,
        ..lossy(target, quantizer, channels, true)
    };
    let mut case = from_recipe(
        v,
        "q-intra-mixed",
        "Quantized method with map prediction (map_prediction 1): a real ResNet-50 pool1 crop, float32 [8, 16, 16], 8 bits per tensor, encoded with intra prediction on. The encoder codes some maps as residuals of the MED prediction (map_predictor 1, residual_token tables 19 to 34) and the others as levels (map_predictor 0).",
        &["REQ-8.3.7-5", "REQ-8.3.7-6"],
        recipe("main", vec![qlayer("pool1", LayerKind::Pool, ElementType::Float32, &[8, 16, 16], pool1_at([8, 10, 10], None), intra(LossyTarget::Bits(8), "uniform", "per_tensor"))]),
    );
    case.check = Some(intra_check(
        &[quantized::NONE, quantized::MED],
        "uniform, unsigned",
        |h| h.quantizer_type == 0 && !h.signed_levels,
    ));
    cases.push(case);
    let mut case = from_recipe(
        v,
        "q-intra-signed",
        "Map prediction with signed levels: a sine of both signs (float32 [3, 8, 12]), qp 24 per tensor, intra prediction on. MED predicts from negative and positive neighbours, and every non-zero residual carries a sign bit.",
        &["REQ-8.3.7-5", "REQ-8.3.7-6"],
        recipe("main", vec![qlayer("wave", LayerKind::Conv, ElementType::Float32, &[3, 8, 12], sine(2.5, 0.41), intra(LossyTarget::Qp(24), "uniform", "per_tensor"))]),
    );
    case.check = Some(intra_check(&[quantized::MED], "signed", |h| {
        h.signed_levels
    }));
    cases.push(case);
    let mut case = from_recipe(
        v,
        "q-intra-codebook",
        "Map prediction with a codebook quantizer (16 codewords, level_bits 4): a ResNet-50 pool1 crop (float32 [8, 16, 16]), intra prediction on. The MED prediction works on codebook indices; some maps use it, the others not.",
        &["REQ-8.3.7-3", "REQ-8.3.7-5", "REQ-8.3.7-6"],
        recipe("main", vec![qlayer("pool1", LayerKind::Pool, ElementType::Float32, &[8, 16, 16], pool1_at([8, 20, 20], None), intra(LossyTarget::Bits(4), "codebook", "per_tensor"))]),
    );
    case.check = Some(intra_check(
        &[quantized::NONE, quantized::MED],
        "a codebook",
        |h| h.quantizer_type == 1,
    ));
    cases.push(case);
    let mut case = from_recipe(
        v,
        "q-intra-float16-per-channel",
        "Map prediction with one step per channel on a float16 layer: the ResNet-50 pool1 crop of q-intra-codebook converted to float16, 6 bits per channel, intra prediction on (MED for some maps, none for the others).",
        &["REQ-8.3.7-2", "REQ-8.3.7-6"],
        recipe("main", vec![qlayer("pool1", LayerKind::Pool, ElementType::Float16, &[8, 16, 16], pool1_at([8, 20, 20], Some(Convert::Float16)), intra(LossyTarget::Bits(6), "uniform", "per_channel"))]),
    );
    case.check = Some(intra_check(
        &[quantized::NONE, quantized::MED],
        "per channel",
        |h| h.per_channel,
    ));
    cases.push(case);

    // Map prediction, hand-built.
    let branches = med_branch_levels();
    let p = mpayload(
        quantized::header(0, 16, true, false, 1, 64),
        0,
        Params::Uniform(vec![(bits(0.5), bits(-0.0))]),
        &[3, 4, 6],
        branches,
        &[1, 0, 1],
    );
    check_med(&p);
    cases.push(hand_case(
        v,
        "q-hand-med",
        "Hand-built MED residuals (maps 0 and 2; map 1 without prediction), signed 16-bit levels, residual_ctx_base 0: predictions from each of the three cases of the median edge detector (AL >= Max(L, A) gives Min(L, A), AL <= Min(L, A) gives Max(L, A), otherwise L + A - AL), residuals of both signs with residual tokens below 16 and from 16 to 39 (with extra bits, up to the residual 65535 = 32767 - (-32768)), the activity with AR = 0 past the end of each row, and ResidualCtx from 0 to 15. Step 0.5, offset -0.0.",
        &["REQ-8.3.7-5", "REQ-8.3.7-6"],
        f32t,
        p,
    ));
    let mut slice_levels_med: Vec<i32> = (0..60)
        .map(|i| {
            let (y, x) = (i / 4, i % 4);
            (3 * y + 5 * x + (x * y) % 7) % 40 + 1
        })
        .collect();
    for y in [3, 7] {
        slice_levels_med[y * 4..y * 4 + 4].fill(0);
    }
    cases.push(hand_case(
        v,
        "q-hand-med-slices",
        "MED prediction over several slices: 15 rows (3 maps of 5, map_predictor 1, 1, 0) with rows_per_slice 3, so slices start at rows 3, 6, 9 and 12, inside maps: there HasAbove is false and A, AL and AR are 0 although the map goes on (the previous row is in another slice). Zero rows 3 (at a slice start) and 7 in MED maps: their levels are 0 for the prediction of the next row. Unsigned 6-bit levels, residual_ctx_base 2.",
        &["REQ-8.3.6-4", "REQ-8.3.7-6"],
        f32t,
        mpayload(quantized::header(0, 6, false, false, 0, 3), 2, Params::Uniform(vec![(bits(0.25), 0)]), &[3, 5, 4], slice_levels_med, &[1, 1, 0]),
    ));
    let maps5: Vec<i32> = (0..60).map(|i| (i * 13 + (i / 4) * 5) % 29).collect();
    cases.push(hand_case(
        v,
        "q-hand-med-maps-5",
        "map_predictors() for 5 maps (float32 [5, 3, 4], predictors 1, 0, 0, 1, 1): 10 bits followed by 6 alignment_zero_bits, so the frequency tables start on the next byte. Unsigned 5-bit levels, per channel.",
        &["REQ-8.3.6-3", "REQ-8.3.7-6"],
        f32t,
        mpayload(
            quantized::header(0, 5, false, true, 0, 100),
            1,
            Params::Uniform((0..5).map(|c| (bits(0.125 * (c + 1) as f32), bits(c as f32))).collect()),
            &[5, 3, 4],
            maps5,
            &[1, 0, 0, 1, 1],
        ),
    ));
    cases.push(hand_case(
        v,
        "q-hand-med-r1",
        "MED prediction on a rank-1 tensor (bfloat16 [13]): one map of one row (map_predictors() is 2 bits and 6 alignment bits), no row above, so A = AL = AR = 0 and P = L; signed 7-bit levels with residuals of both signs.",
        &["REQ-8.3.7-6"],
        ElementType::BFloat16,
        mpayload(
            quantized::header(0, 7, true, false, 0, 1),
            0,
            Params::Uniform(vec![(bits(0.75), bits(0.5))]),
            &[13],
            vec![3, -7, -64, 63, 0, 0, 5, 5, 6, -1, 40, -2, 1],
            &[1],
        ),
    ));
    cases.push(hand_case(
        v,
        "q-hand-med-all-none",
        "map_prediction 1 with every map_predictor 0 (float32 [2, 4, 5]): the 16 residual_token tables are present but empty (num_present 0), since no residual is coded; every map is coded as levels.",
        &["REQ-8.3.6-5", "REQ-8.3.7-6"],
        f32t,
        mpayload(quantized::header(0, 4, false, false, 0, 8), 0, Params::Uniform(vec![(bits(1.0), 0)]), &[2, 4, 5], (0..40).map(|i| (i * 7) % 16).collect(), &[0, 0]),
    ));
    cases
}

/// The parts of the quantized payload of layer 0 of a base, as the decoder parses them.
fn quant_parts(b: &Base, fd: usize) -> dfc_decoder::quant::QuantParts {
    let p = b.layer(0);
    let desc = dfc_decoder::native::TensorDesc {
        element_type: ElementType::from_code(p.element_type).expect("a valid base"),
        shape: &p.dims,
        non_negative: p.non_negative_flag,
    };
    dfc_decoder::quant::parse_parts(b.method_payload(fd), &desc, 0)
        .expect("a valid quantized payload")
}

/// Bytes of the payload up to the end of the frequency tables.
fn quant_table_end(parts: &dfc_decoder::quant::QuantParts) -> usize {
    parts.data_offset - 8 * parts.index.slices.len()
}

/// A quantized payload rebuilt from (possibly changed) parts and the original slice data.
fn quant_payload(parts: &dfc_decoder::quant::QuantParts, method_payload: &[u8]) -> Vec<u8> {
    use dfc_decoder::native::syntax::write_tables;
    let mut out = parts.header.to_bytes();
    if let Some(u) = &parts.uniform {
        out.extend(u.to_bytes());
    }
    if let Some(c) = &parts.codebook {
        out.extend(c.to_bytes());
    }
    if parts.header.map_prediction {
        out.extend(
            dfc_decoder::quant::syntax::MapPredictors {
                predictors: parts.map_predictors.clone(),
                alignment: 0,
            }
            .to_bytes(),
        );
    }
    let tables: Vec<_> = parts
        .row_tables
        .iter()
        .chain(&parts.token_tables)
        .chain(&parts.residual_tables)
        .cloned()
        .collect();
    let mut w = bitstream_io::BitWriter::endian(&mut out, BigEndian);
    write_tables(&mut w, &tables).expect("in memory");
    out.extend(parts.index.to_bytes());
    out.extend_from_slice(&method_payload[parts.data_offset..]);
    out
}

/// The quantized payload with `count` zero bytes added at the end of part `part` (0 rANS, 1
/// raw) of the first slice, or removed from it if `count` is negative; the slice index updated.
fn quant_resized(b: &Base, fd: usize, part: usize, count: i32) -> Vec<u8> {
    let mut parts = quant_parts(b, fd);
    let payload = b.method_payload(fd);
    let (rans, raw) = parts.index.slices[0];
    let end = parts.data_offset + rans as usize + if part == 1 { raw as usize } else { 0 };
    let field = if part == 0 {
        &mut parts.index.slices[0].0
    } else {
        &mut parts.index.slices[0].1
    };
    *field = field
        .checked_add_signed(count)
        .expect("the part is long enough");
    let mut data = payload.to_vec();
    if count >= 0 {
        data.splice(end..end, std::iter::repeat_n(0u8, count as usize));
    } else {
        data.drain(end - count.unsigned_abs() as usize..end);
    }
    quant_payload(&parts, &data)
}

type QuantCase = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    fn(&Base, usize) -> Vec<String>,
);

/// Invalid quantized payloads made from encoder-made bases: (ID, requirement, purpose, base,
/// operations on the base's feature_data unit of layer 0).
fn quant_mutations() -> Vec<QuantCase> {
    // Byte offsets in the feature_data unit payload: method_payload starts at byte 7.
    const QT: usize = 7;
    const FLAGS: usize = 9;
    // quant_header() has 9 bytes: the parameters (or the codebook) start at byte 16.
    const PARAMS: usize = 16;
    vec![
        ("req-8.3.7-1-quantizer-type-2", "REQ-8.3.7-1", "A quantized payload with quantizer_type 2 (reserved).", Q_BASE, |_, fd| vec![format!("pwrite:{fd}@{QT}=02")]),
        ("req-8.3.7-1-quantizer-type-255", "REQ-8.3.7-1", "A quantized payload with quantizer_type 255 (reserved).", Q_BASE, |_, fd| vec![format!("pwrite:{fd}@{QT}=ff")]),
        ("req-8.3.7-1-level-bits-0", "REQ-8.3.7-1", "A quantized payload with level_bits 0.", Q_BASE, |_, fd| vec![format!("pwrite:{fd}@8=00")]),
        ("req-8.3.7-1-level-bits-17", "REQ-8.3.7-1", "A quantized payload with level_bits 17.", Q_BASE, |_, fd| vec![format!("pwrite:{fd}@8=11")]),
        ("req-8.3.7-1-reserved-bit-0", "REQ-8.3.7-1", "A quantized payload whose reserved_zero_5bits has its last bit set (value 1).", Q_BASE, |b, fd| vec![format!("pwrite:{fd}@{FLAGS}={:02x}", b.payload(fd)[FLAGS] | 0x01)]),
        ("req-8.3.7-1-reserved-bit-4", "REQ-8.3.7-1", "A quantized payload whose reserved_zero_5bits has its first bit set (value 16, the bit after map_prediction).", Q_BASE, |b, fd| vec![format!("pwrite:{fd}@{FLAGS}={:02x}", b.payload(fd)[FLAGS] | 0x10)]),
        ("req-8.3.7-1-rows-per-slice-0", "REQ-8.3.7-1", "A quantized payload with rows_per_slice 0.", Q_BASE, |_, fd| vec![format!("pwrite:{fd}@12=00000000")]),
        ("req-8.3.7-1-codebook-signed", "REQ-8.3.7-1", "A codebook quantizer (quantizer_type 1) with signed_levels 1.", Q_CODEBOOK, |b, fd| vec![format!("pwrite:{fd}@{FLAGS}={:02x}", b.payload(fd)[FLAGS] | 0x80)]),
        ("req-8.3.7-1-codebook-per-channel", "REQ-8.3.7-1", "A codebook quantizer with per_channel 1.", Q_CODEBOOK, |b, fd| vec![format!("pwrite:{fd}@{FLAGS}={:02x}", b.payload(fd)[FLAGS] | 0x40)]),
        ("req-8.3.7-3-step-nan", "REQ-8.3.7-3", "A uniform quantizer whose step is a NaN (0x7FC00000).", Q_BASE, |_, fd| vec![format!("pwrite:{fd}@{PARAMS}=7fc00000")]),
        ("req-8.3.7-3-step-inf", "REQ-8.3.7-3", "A uniform quantizer whose step is +infinity.", Q_BASE, |_, fd| vec![format!("pwrite:{fd}@{PARAMS}=7f800000")]),
        ("req-8.3.7-3-offset-inf", "REQ-8.3.7-3", "A uniform quantizer whose offset is +infinity (step finite).", Q_BASE, |_, fd| vec![format!("pwrite:{fd}@{}=7f800000", PARAMS + 4)]),
        ("req-8.3.7-3-last-offset-neg-inf", "REQ-8.3.7-3", "Per channel: the offset of the last of 4 parameter sets is -infinity (the other sets are finite).", Q_CHANNEL, |_, fd| vec![format!("pwrite:{fd}@{}=ff800000", PARAMS + 8 * 3 + 4)]),
        ("req-8.3.7-3-codeword-inf", "REQ-8.3.7-3", "A codebook whose second codeword is +infinity.", Q_CODEBOOK, |_, fd| vec![format!("pwrite:{fd}@{}=7f800000", PARAMS + 2 + 4)]),
        ("req-8.3.7-3-codeword-nan", "REQ-8.3.7-3", "A codebook whose last codeword is a NaN with the sign bit set (0xFFC00001).", Q_CODEBOOK, |_, fd| vec![format!("pwrite:{fd}@{}=ffc00001", PARAMS + 2 + 4 * 15)]),
        ("req-8.3.7-3-too-many-codewords", "REQ-8.3.7-3", "A codebook of 16 codewords with level_bits 3: more than 2^level_bits codewords.", Q_CODEBOOK, |_, fd| vec![format!("pwrite:{fd}@8=03")]),
        ("req-8.3.7-4-empty-payload", "REQ-8.3.7-4", "A quantized payload of 0 bytes.", Q_BASE, |_, fd| vec![format!("ptrunc:{fd}=7")]),
        ("req-8.3.7-4-short-header", "REQ-8.3.7-4", "A quantized payload of 5 bytes (inside quant_header()).", Q_BASE, |_, fd| vec![format!("ptrunc:{fd}=12")]),
        ("req-8.3.7-4-header-8-bytes", "REQ-8.3.7-4", "A quantized payload of 8 bytes: quant_header() has 9 (its last byte, the end of rows_per_slice, is missing).", Q_BASE, |_, fd| vec![format!("ptrunc:{fd}={}", PARAMS - 1)]),
        ("req-8.3.7-4-short-parameters", "REQ-8.3.7-4", "A per-channel quantized payload that ends inside uniform_parameters() (3 bytes short of its 4 parameter sets).", Q_CHANNEL, |_, fd| vec![format!("ptrunc:{fd}={}", PARAMS + 8 * 4 - 3)]),
        ("req-8.3.7-4-codebook-short-count", "REQ-8.3.7-4", "A codebook payload that ends inside num_codewords_minus1.", Q_CODEBOOK, |_, fd| vec![format!("ptrunc:{fd}={}", PARAMS + 1)]),
        ("req-8.3.7-4-codebook-short-codewords", "REQ-8.3.7-4", "A codebook payload that ends inside its last codeword.", Q_CODEBOOK, |_, fd| vec![format!("ptrunc:{fd}={}", PARAMS + 2 + 4 * 16 - 1)]),
        ("req-8.3.7-4-codebook-count-exceeds", "REQ-8.3.7-4", "A codebook whose num_codewords_minus1 is 65535 (256 KiB of codewords) in a payload of a few hundred bytes: the size is checked before the codewords are read or allocated, and before their number is checked against level_bits.", Q_CODEBOOK, |_, fd| vec![format!("pwrite:{fd}@{PARAMS}=ffff")]),
        ("req-8.3.7-4-short-tables", "REQ-8.3.7-4", "A quantized payload that ends inside its frequency tables.", Q_BASE, |b, fd| {
            let parts = quant_parts(b, fd);
            vec![format!("ptrunc:{fd}={}", 7 + (9 + 8 + quant_table_end(&parts)) / 2)]
        }),
        ("req-8.3.7-4-ue-17-zeros", "REQ-8.3.7-4", "A quantized payload whose first frequency table has a symbol_gap ue(v) with 17 leading zero bits (at most 16 are allowed).", Q_BASE, |b, fd| {
            // quant_header() and one parameter set, then num_present = 1 and 17 zero bits.
            let mut payload = b.method_payload(fd)[..17].to_vec();
            payload.extend([0x00, 0x80, 0x00, 0x20]);
            payload.extend([0; 16]);
            vec![b.set_payload(fd, &payload)]
        }),
        ("req-8.3.7-4-short-index", "REQ-8.3.7-4", "A quantized payload that ends inside its slice index.", Q_BASE, |b, fd| {
            let parts = quant_parts(b, fd);
            vec![format!("ptrunc:{fd}={}", 7 + quant_table_end(&parts) + 4)]
        }),
        ("req-8.3.7-5-level-above-range", "REQ-8.3.7-5", "level_bits one less than the levels need (unsigned levels): a level above 2^level_bits - 1.", Q_BASE, |b, fd| vec![format!("pwrite:{fd}@8={:02x}", b.payload(fd)[8] - 1)]),
        ("req-8.3.6-2-quantized-table-sum", "REQ-8.3.6-2", "A quantized payload whose level_token frequency table does not sum to 4096 (one frequency raised by 1).", Q_BASE, |b, fd| {
            let mut parts = quant_parts(b, fd);
            raise_a_frequency(parts.token_tables.iter_mut());
            vec![b.set_payload(fd, &quant_payload(&parts, b.method_payload(fd)))]
        }),
        ("req-8.3.6-2-quantized-token-40", "REQ-8.3.6-2", "A level_token frequency table that lists symbol 40, outside the alphabet of 40 tokens (frequencies still sum to 4096).", Q_BASE, |b, fd| {
            let mut parts = quant_parts(b, fd);
            let t = parts
                .token_tables
                .iter_mut()
                .find(|t| t.entries.iter().any(|e| e.1 >= 2))
                .expect("a table to extend");
            t.entries.iter_mut().find(|e| e.1 >= 2).expect("checked").1 -= 1;
            t.entries.push((40, 1));
            vec![b.set_payload(fd, &quant_payload(&parts, b.method_payload(fd)))]
        }),
        ("req-8.3.6-2-quantized-gap-16-zeros", "REQ-8.3.6-2", "The last level_token table lists one symbol, 65535, whose symbol_gap is an ue(v) of 16 leading zero bits (the longest allowed, so the payload parses): the symbol is outside the alphabet.", Q_BASE, |b, fd| {
            let mut parts = quant_parts(b, fd);
            let last = parts.token_tables.last_mut().expect("16 tables");
            last.entries = vec![(65535, 4096)];
            vec![b.set_payload(fd, &quant_payload(&parts, b.method_payload(fd)))]
        }),
        ("req-8.3.6-3-quantized-alignment-bits", "REQ-8.3.6-3", "A quantized payload whose alignment_zero_bits after the frequency tables are not 0.", Q_BASE, |b, fd| {
            let mut parts = quant_parts(b, fd);
            let head = 8 * (parts.header.to_bytes().len() + parts.uniform.as_ref().map_or(0, |u| u.to_bytes().len())) as u64;
            let bits = |p: &dfc_decoder::quant::QuantParts| head + p.row_tables.iter().chain(&p.token_tables).map(|t| t.coded_bits()).sum::<u64>();
            if bits(&parts) % 8 == 0 {
                // No padding: move one unit of frequency to a new symbol (13 more bits).
                let t = parts
                    .token_tables
                    .iter_mut()
                    .find(|t| t.entries.iter().any(|e| e.1 >= 2) && t.entries.last().is_some_and(|e| e.0 < 39))
                    .expect("a token table to extend");
                let last = t.entries.last().expect("checked").0;
                t.entries.iter_mut().find(|e| e.1 >= 2).expect("checked").1 -= 1;
                t.entries.push((last + 1, 1));
            }
            let total = bits(&parts);
            assert!(total % 8 != 0);
            let mut payload = quant_payload(&parts, b.method_payload(fd));
            payload[(total / 8) as usize] |= 1 << (7 - total % 8);
            vec![b.set_payload(fd, &payload)]
        }),
        ("req-8.3.6-4-quantized-slice-bytes", "REQ-8.3.6-4", "A quantized payload with one byte more than its slice index lists.", Q_BASE, |_, fd| vec![format!("pappend:{fd}=00")]),
        ("req-8.3.6-4-quantized-slice-index", "REQ-8.3.6-4", "A quantized slice index whose first raw_bytes is one more than the data holds.", Q_BASE, |b, fd| {
            let mut parts = quant_parts(b, fd);
            parts.index.slices[0].1 += 1;
            vec![b.set_payload(fd, &quant_payload(&parts, b.method_payload(fd)))]
        }),
        ("req-8.3.6-5-quantized-empty-context", "REQ-8.3.6-5", "A quantized payload whose level_token tables are all empty, so the first token is decoded in an empty context.", Q_BASE, |b, fd| {
            let mut parts = quant_parts(b, fd);
            for t in &mut parts.token_tables {
                t.entries.clear();
            }
            vec![b.set_payload(fd, &quant_payload(&parts, b.method_payload(fd)))]
        }),
        ("req-8.3.6-6-quantized-rans-extra-bytes", "REQ-8.3.6-6", "A quantized slice with two unread bytes after its rANS data (listed in the slice index).", Q_BASE, |b, fd| vec![b.set_payload(fd, &quant_resized(b, fd, 0, 2))]),
        ("req-8.3.6-6-quantized-raw-extra-byte", "REQ-8.3.6-6", "A quantized slice with one unread byte after its raw data (the extra bits and sign bits; listed in the slice index).", Q_BASE, |b, fd| vec![b.set_payload(fd, &quant_resized(b, fd, 1, 1))]),
        ("req-8.3.6-6-quantized-raw-missing", "REQ-8.3.6-6", "A quantized slice whose raw data lacks its last byte: extra bits are read beyond the end of raw_data.", Q_BASE, |b, fd| vec![b.set_payload(fd, &quant_resized(b, fd, 1, -1))]),
        ("req-8.3.6-6-quantized-rans-short", "REQ-8.3.6-6", "A quantized slice whose rans_bytes is 3 (fewer than the 4 bytes of the initial state; the raw data follows).", Q_BASE, |b, fd| {
            let parts = quant_parts(b, fd);
            let rans = parts.index.slices[0].0 as i32;
            vec![b.set_payload(fd, &quant_resized(b, fd, 0, 3 - rans))]
        }),
    ]
}

fn quantized_invalid_cases() -> Vec<Case> {
    let mut c = Vec::new();
    for (id, req, purpose, base, make) in quant_mutations() {
        c.push(invalid(id, req, purpose, base, move |b| {
            let fd = b.fd(0, 0);
            let mut ops = make(b, fd);
            ops.push(format!("delete:{}", b.th(0, 0)));
            ops
        }));
    }
    // REQ-8.3.7-2: the quantized method codes float layers only.
    for t in [ElementType::Int8, ElementType::Uint8] {
        c.push(invalid(
            &format!("req-8.3.7-2-{t}"),
            "REQ-8.3.7-2",
            &format!("A quantized payload (otherwise valid) in a {t} layer."),
            Q_BASE,
            move |b| {
                vec![
                    format!("set:{}.element_type={}", b.lp(0), t.code()),
                    format!("delete:{}", b.th(0, 0)),
                ]
            },
        ));
    }
    // REQ-8.3.7-4: parameters for more sets than the payload holds.
    c.push(invalid(
        "req-8.3.7-4-parameters-exceed-payload",
        "REQ-8.3.7-4",
        "A per-channel quantized payload for a rank-1 layer of 2^26 elements: NumParams = dim[0] = 2^26 parameter sets (512 MiB) in a payload of a few hundred bytes. A decoder must find the payload too short before it reads or allocates the parameters.",
        Q_BASE,
        |b| {
            let fd = b.fd(0, 0);
            vec![
                "set:0.level_idc=30".into(),
                format!("set:{}.dims=67108864", b.lp(0)),
                format!("pwrite:{fd}@9={:02x}", b.payload(fd)[9] | 0x40),
                format!("delete:{}", b.th(0, 0)),
            ]
        },
    ));
    // Hand-built invalid payloads.
    let f32t = ElementType::Float32;
    let signed3 = |levels: Vec<i32>| {
        qpayload(
            quantized::header(0, 3, true, false, 0, 8),
            Params::Uniform(vec![(bits(0.5), 0)]),
            &[2, 4],
            levels,
        )
    };
    c.push(hand_invalid(
        "req-8.3.7-5-signed-above-range",
        "REQ-8.3.7-5",
        "Signed 3-bit levels (range -4 to 3) with a level 4, in the second row.",
        f32t,
        false,
        &[2, 4],
        signed3(vec![-4, 3, 0, 1, 2, 4, -1, 0]).to_bytes(),
    ));
    c.push(hand_invalid(
        "req-8.3.7-5-negative-below-range",
        "REQ-8.3.7-5",
        "Signed 3-bit levels (range -4 to 3) with a level -5; -4 and 3 are also present.",
        f32t,
        false,
        &[2, 4],
        signed3(vec![-4, 3, 0, 1, 2, -5, -1, 0]).to_bytes(),
    ));
    c.push(hand_invalid(
        "req-8.3.7-5-codebook-index",
        "REQ-8.3.7-5",
        "A codebook of 5 codewords with level_bits 3: a level 5, below 2^level_bits but not below NumCodewords.",
        f32t,
        false,
        &[2, 4],
        qpayload(quantized::header(1, 3, false, false, 0, 8), Params::Codebook(vec![0, bits(1.0), bits(2.0), bits(3.0), bits(4.0)]), &[2, 4], vec![0, 1, 2, 3, 4, 5, 0, 1]).to_bytes(),
    ));
    let three_slices = || {
        qpayload(
            quantized::header(0, 2, false, false, 0, 1),
            Params::Uniform(vec![(bits(1.0), 0)]),
            &[3, 4],
            vec![1, 2, 3, 0, 0, 1, 4, 2, 3, 3, 1, 0],
        )
    };
    let mut p = three_slices().parts();
    p.slices[2].1.push(0);
    c.push(hand_invalid("req-8.3.7-5-lowest-slice", "REQ-8.3.7-5", "Three slices of one row: slice 1 has a level above the range (REQ-8.3.7-5), slice 2 an unread raw byte (REQ-8.3.6-6). The violation of the lowest slice is reported, whatever order or threads a decoder uses.", f32t, true, &[3, 4], p.to_bytes()));
    let mut q = three_slices();
    q.levels[6] = 1;
    q.levels[9] = 5;
    let mut p = q.parts();
    p.slices[1].1.push(0);
    c.push(hand_invalid("req-8.3.6-6-quantized-lowest-slice", "REQ-8.3.6-6", "Three slices of one row: slice 1 has an unread raw byte (REQ-8.3.6-6), slice 2 a level above the range (REQ-8.3.7-5). The violation of the lowest slice is reported.", f32t, true, &[3, 4], p.to_bytes()));
    let mut p = qpayload(
        quantized::header(0, 2, false, false, 0, 1),
        Params::Uniform(vec![(bits(1.0), 0)]),
        &[4],
        vec![5, 20, 1, 0],
    )
    .parts();
    p.slices[0].1.clear();
    c.push(hand_invalid("req-8.3.6-6-quantized-before-range", "REQ-8.3.6-6", "One row with a level above the range (5 for level_bits 2) and a level 20 whose extra bits are missing (raw_bytes 0): in a row, missing data (REQ-8.3.6-6) is reported before a level outside the range.", f32t, true, &[4], p.to_bytes()));
    // Map prediction (clauses 6.10 and 8.3.7.3).
    let five_maps = |predictors: &[u8]| {
        mpayload(
            quantized::header(0, 5, false, false, 0, 100),
            0,
            Params::Uniform(vec![(bits(1.0), 0)]),
            &[5, 2, 4],
            (0..40).map(|i| (i * 11) % 31).collect(),
            predictors,
        )
    };
    c.push(hand_invalid(
        "req-8.3.7-6-map-predictor-3-middle",
        "REQ-8.3.7-6",
        "map_predictors() of 5 maps whose third map_predictor is 3 (reserved; 2, inter, is allowed since version 0.4); the others are 0 or 1.",
        f32t,
        true,
        &[5, 2, 4],
        five_maps(&[1, 0, 3, 1, 0]).to_bytes(),
    ));
    let mut p = five_maps(&[0, 1, 1, 1, 3]).parts();
    p.map_predictors.as_mut().expect("map prediction").alignment = 0x3F;
    c.push(hand_invalid(
        "req-8.3.7-6-map-predictor-3",
        "REQ-8.3.7-6",
        "map_predictors() of 5 maps whose last map_predictor is 3 (reserved), followed by alignment_zero_bits that are not 0: REQ-8.3.7-6 is checked for the maps before REQ-8.3.6-3 for the alignment bits.",
        f32t,
        true,
        &[5, 2, 4],
        p.to_bytes(),
    ));
    for (alignment, which) in [(0x01, "last"), (0x20, "first")] {
        let mut p = five_maps(&[1, 0, 0, 1, 1]).parts();
        p.map_predictors.as_mut().expect("map prediction").alignment = alignment;
        c.push(hand_invalid(
            &format!("req-8.3.6-3-map-predictors-alignment-{which}"),
            "REQ-8.3.6-3",
            &format!("map_predictors() of 5 maps (10 bits) whose {which} of its 6 alignment_zero_bits is 1."),
            f32t,
            true,
            &[5, 2, 4],
            p.to_bytes(),
        ));
    }
    let p = five_maps(&[1, 0, 0, 1, 1]).parts();
    c.push(hand_invalid(
        "req-8.3.7-4-short-map-predictors",
        "REQ-8.3.7-4",
        "A quantized payload with map_prediction 1 for 5 maps that ends after the first of the 2 bytes of map_predictors().",
        f32t,
        true,
        &[5, 2, 4],
        p.head_bytes()[..9 + 8 + 1].to_vec(),
    ));
    c.push(invalid(
        "req-8.3.7-4-map-predictors-exceed-payload",
        "REQ-8.3.7-4",
        "map_prediction set in the payload of a float32 layer [2^26, 1, 1]: 2^26 maps of one element, so map_predictors() would have 16 MiB, in a payload of a few hundred bytes. A decoder must find the payload too short before it reads or allocates the predictors.",
        Q_BASE,
        |b| {
            let fd = b.fd(0, 0);
            vec![
                "set:0.level_idc=30".into(),
                format!("set:{}.dims=67108864x1x1", b.lp(0)),
                format!("pwrite:{fd}@9={:02x}", b.payload(fd)[9] | 0x20),
                format!("delete:{}", b.th(0, 0)),
            ]
        },
    ));
    // The residual_token tables (19 to 34).
    let two_maps = || {
        mpayload(
            quantized::header(0, 5, false, false, 0, 8),
            0,
            Params::Uniform(vec![(bits(1.0), 0)]),
            &[2, 3, 4],
            (0..24).map(|i| (i * 5) % 17 + 1).collect(),
            &[0, 1],
        )
    };
    let p = two_maps().parts();
    let head = 8 * p.head_bytes().len() as u64;
    let level_end = head + p.tables[..19].iter().map(|t| t.coded_bits()).sum::<u64>();
    let end = head + p.tables.iter().map(|t| t.coded_bits()).sum::<u64>();
    let cut = (level_end + end) / 16;
    assert!(
        level_end / 8 < cut && cut < end / 8,
        "the cut is inside the residual tables"
    );
    c.push(hand_invalid(
        "req-8.3.7-4-short-residual-tables",
        "REQ-8.3.7-4",
        "A quantized payload with map_prediction 1 that ends inside its residual_token frequency tables (after the 19 tables a payload without map prediction has).",
        f32t,
        true,
        &[2, 3, 4],
        p.to_bytes()[..cut as usize].to_vec(),
    ));
    // A MED residual that takes the level out of its range.
    let med_range = |level_bits, levels: Vec<i32>| {
        mpayload(
            quantized::header(0, level_bits, false, false, 0, 8),
            0,
            Params::Uniform(vec![(bits(1.0), 0)]),
            &[2, 2, 4],
            levels,
            &[1, 1],
        )
    };
    c.push(hand_invalid(
        "req-8.3.7-5-med-above-range",
        "REQ-8.3.7-5",
        "Unsigned 4-bit levels (0 to 15) in a MED map: prediction 15 plus residual 3 gives the level 18 (second map, second row).",
        f32t,
        true,
        &[2, 2, 4],
        med_range(4, vec![1, 2, 3, 4, 5, 6, 7, 8, 15, 15, 15, 15, 15, 18, 9, 2]).to_bytes(),
    ));
    c.push(hand_invalid(
        "req-8.3.7-5-med-below-range",
        "REQ-8.3.7-5",
        "Unsigned 4-bit levels in a MED map: prediction 2 minus residual 3 gives the level -1. Only a residual can make a level of an unsigned quantizer negative.",
        f32t,
        true,
        &[2, 2, 4],
        med_range(4, vec![1, 2, 3, 4, 2, 3, 4, 5, 0, 0, 0, 0, 2, -1, 3, 4]).to_bytes(),
    ));
    c.push(hand_invalid(
        "req-8.3.7-5-med-signed-below-range",
        "REQ-8.3.7-5",
        "Signed 3-bit levels (-4 to 3) in a MED map: prediction -4 minus residual 2 gives -6.",
        f32t,
        false,
        &[2, 2, 4],
        mpayload(
            quantized::header(0, 3, true, false, 0, 8),
            0,
            Params::Uniform(vec![(bits(1.0), 0)]),
            &[2, 2, 4],
            vec![-4, -4, -3, 0, -4, -6, 1, 2, 0, 1, 2, 3, 3, 2, 1, 0],
            &[1, 0],
        )
        .to_bytes(),
    ));
    c.push(hand_invalid(
        "req-8.3.7-5-med-codebook",
        "REQ-8.3.7-5",
        "A codebook of 5 codewords (level_bits 3) in a MED map: prediction 4 plus residual 1 gives the level 5, below 2^level_bits but not below NumCodewords.",
        f32t,
        true,
        &[2, 2, 4],
        mpayload(quantized::header(1, 3, false, false, 0, 8), 0, Params::Codebook(vec![0, bits(1.0), bits(2.0), bits(3.0), bits(4.0)]), &[2, 2, 4], vec![0, 1, 2, 3, 4, 4, 4, 5, 1, 1, 1, 1, 0, 0, 0, 0], &[1, 0]).to_bytes(),
    ));
    let mut p = two_maps().parts();
    for t in &mut p.tables[19..] {
        t.entries.clear();
    }
    c.push(hand_invalid(
        "req-8.3.6-5-residual-empty-context",
        "REQ-8.3.6-5",
        "map_predictor 0 then 1: the level_token tables are filled, the residual_token tables all empty. The first map decodes; the first residual of the second map is decoded with an empty table (a decoder must not take the level_token table of the same context).",
        f32t,
        true,
        &[2, 3, 4],
        p.to_bytes(),
    ));
    let mut p = two_maps().parts();
    let t = p.tables[19..]
        .iter_mut()
        .rev()
        .find(|t| t.entries.iter().any(|e| e.1 >= 2))
        .expect("a residual table");
    t.entries.iter_mut().find(|e| e.1 >= 2).expect("checked").1 += 1;
    c.push(hand_invalid(
        "req-8.3.6-2-residual-table-sum",
        "REQ-8.3.6-2",
        "A residual_token frequency table (of the tables 19 to 34) whose frequencies add up to 4097.",
        f32t,
        true,
        &[2, 3, 4],
        p.to_bytes(),
    ));
    let mut p = two_maps().parts();
    let t = p.tables[34..].first_mut().expect("table 34");
    assert!(t.entries.is_empty(), "table 34 is not used");
    t.entries = vec![(39, 4095), (40, 1)];
    c.push(hand_invalid(
        "req-8.3.6-2-residual-token-40",
        "REQ-8.3.6-2",
        "The last residual_token table (34, unused by the slices) lists symbol 40, outside the alphabet of 40 residual tokens (frequencies add up to 4096): the tables are checked whether used or not.",
        f32t,
        true,
        &[2, 3, 4],
        p.to_bytes(),
    ));
    // REQ-8.4-1: a non-negative layer whose reconstruction is negative.
    c.push(hand_invalid(
        "req-8.4-1-quantized-negative-step",
        "REQ-8.4-1",
        "non_negative_flag = 1 on a float32 layer whose quantized payload has unsigned levels and a negative step (-0.5): every non-zero level reconstructs to a negative value.",
        f32t,
        true,
        &[2, 4],
        qpayload(quantized::header(0, 3, false, false, 0, 8), Params::Uniform(vec![(bits(-0.5), 0)]), &[2, 4], vec![0, 1, 2, 3, 4, 5, 6, 7]).to_bytes(),
    ));
    c.push(hand_invalid(
        "req-8.4-1-quantized-negative-zero",
        "REQ-8.4-1",
        "non_negative_flag = 1 on a float16 layer whose quantized payload has step -0.0 and offset -0.0: every element reconstructs to -0.0 (q x -0.0 = -0.0 for q >= 0, and -0.0 + -0.0 = -0.0), which is negative.",
        ElementType::Float16,
        true,
        &[2, 4],
        qpayload(quantized::header(0, 3, false, false, 0, 8), Params::Uniform(vec![(bits(-0.0), bits(-0.0))]), &[2, 4], vec![0, 1, 2, 3, 0, 0, 6, 7]).to_bytes(),
    ));
    c.push(hand_invalid(
        "req-8.4-1-quantized-codebook",
        "REQ-8.4-1",
        "non_negative_flag = 1 on a bfloat16 layer whose codebook has a negative codeword (-1.5), used by one element.",
        ElementType::BFloat16,
        true,
        &[2, 4],
        qpayload(quantized::header(1, 2, false, false, 0, 8), Params::Codebook(vec![0, bits(0.5), bits(-1.5)]), &[2, 4], vec![0, 1, 1, 0, 0, 1, 2, 1]).to_bytes(),
    ));
    // REQ-8.5-1: the hash of a quantized tensor is the hash of its reconstruction.
    c.push(invalid(
        "req-8.5-1-quantized-hash-of-input",
        "REQ-8.5-1",
        "The tensor_hash of a quantized layer carries the SHA-256 of the encoder's input (the float32 ramp) instead of the reconstruction a decoder outputs.",
        Q_BITS8,
        |b| {
            let (data, _) = crate::recipe::materialize(&ramp(0.0, 1.0), ElementType::Float32, &[3, 11], std::path::Path::new("."))
                .expect("a synthetic tensor");
            vec![format!("set:{}.hash_value=hex:{}", b.th(0, 0), hex::encode(&dfc_decoder::tensor_sha256(&data)))]
        },
    ));
    // Annex A.1: the quantized method is not in the baseline profile.
    c.push(invalid(
        "req-a.1-2-baseline-quantized",
        "REQ-A.1-2",
        "A baseline-profile stream whose float32 layers have default_method quantized (everything else baseline).",
        Q_BITS8,
        fixed(&["set:0.profile_idc=0"]),
    ));
    c.push(invalid(
        "req-a.1-2-baseline-coding-quantized",
        "REQ-A.1-2",
        "coding_method quantized in a baseline-profile stream whose layers' default_method is raw.",
        Q_BITS8,
        |b| {
            vec![
                "set:0.profile_idc=0".into(),
                format!("set:{}.default_method=0", b.lp(0)),
                format!("set:{}.default_method=0", b.lp(1)),
            ]
        },
    ));
    c
}

// ---------------------------------------------------------------------------------------------
// Feature video (spec 0.4): frame_header units, random access, inter prediction.

/// `valid/fh-lossless`: layers a, b, c (lossless), frames 0, 1, 2 in access units; only frame 0
/// is a random-access point. Units: 0 sequence_header, 1-3 layer_parameters, then per frame a
/// frame_header and (feature_data, tensor_hash) for a, b, c; the end_of_sequence.
const FH: &str = "valid/fh-lossless";
/// `valid/fh-frame-index-gaps`: as FH with the frames 0, 5 and 9.
const FH_GAPS: &str = "valid/fh-frame-index-gaps";
/// `valid/seq-quantized-none`: one quantized float32 layer `q` [2, 4, 6], frames 0 to 3 in
/// access units (frame 0 the only random-access point), no prediction. Base of the hand-built
/// inter cases. Units: 0 sequence_header, 1 layer_parameters, frame k: 2 + 3k frame_header,
/// 3 + 3k feature_data, 4 + 3k tensor_hash; 14 end_of_sequence.
const SEQ_Q: &str = "valid/seq-quantized-none";
const SEQ: &str = "samples/sequence";

/// A sequence recipe: frame 0 from the layers, later frames, `prediction` and `rap_period`.
fn seq_recipe(
    layers: Vec<LayerRecipe>,
    frames: Vec<FrameRecipe>,
    prediction: &str,
    rap_period: u32,
) -> Recipe {
    let mut r = recipe("main", layers);
    r.extra_frames = frames;
    r.sequence = Some(crate::recipe::SequenceSpec {
        prediction: prediction.to_string(),
        rap_period,
    });
    r
}

fn frame_layer(layer: &str, method: &str, lossy: Option<LossySpec>, data: DataSpec) -> FrameLayer {
    FrameLayer {
        layer: layer.into(),
        method: method.into(),
        lossy,
        data,
    }
}

/// The lossless layers a (float32 zlib), b (uint8 raw), c (float16 gzip) of frames-3 and of
/// the frame_header cases.
fn lossless_layers() -> Vec<LayerRecipe> {
    vec![
        layer(
            "a",
            LayerKind::Conv,
            ElementType::Float32,
            &[2, 3, 4],
            "zlib",
            pattern(false, 0),
        ),
        layer(
            "b",
            LayerKind::Pool,
            ElementType::Uint8,
            &[16],
            "raw",
            pattern(false, 0),
        ),
        layer(
            "c",
            LayerKind::Fc,
            ElementType::Float16,
            &[3, 5],
            "gzip",
            pattern(false, 0),
        ),
    ]
}

/// A later frame of the lossless layers (`which`: the layers, in stream order).
fn lossless_frame(index: u32, which: &[&str]) -> FrameRecipe {
    FrameRecipe {
        frame_index: index,
        layers: which
            .iter()
            .map(|&l| {
                let method = match l {
                    "a" => "zlib",
                    "b" => "raw",
                    _ => "gzip",
                };
                frame_layer(l, method, None, pattern(false, 11 * index))
            })
            .collect(),
    }
}

/// A crop of a samples/sequence tensor of frame `frame`.
fn seq_crop(model: &str, layer: &str, frame: u32, start: &[u32]) -> DataSpec {
    crop(
        &format!("{SEQ}/{model}/seq_bikes/frame_{frame:02}/{layer}.npy"),
        start,
        None,
    )
}

/// The `map_predictor` values of a quantized method payload (empty without map prediction),
/// read from the bytes by clause 6.10 (not by the decoder).
fn map_predictors_of(payload: &[u8], dims: &[u32]) -> Vec<u8> {
    let flags = payload[2];
    if flags & 0x20 == 0 {
        return Vec::new();
    }
    let per_channel = flags & 0x40 != 0;
    let params = if payload[0] == 0 {
        8 * if per_channel { dims[0] as usize } else { 1 }
    } else {
        2 + 4 * (usize::from(u16::from_be_bytes([payload[9], payload[10]])) + 1)
    };
    let n: usize = dims.iter().map(|&d| d as usize).product();
    let w = *dims.last().expect("rank") as usize;
    let h = if dims.len() > 1 {
        dims[dims.len() - 2] as usize
    } else {
        1
    };
    let maps = n / w / h;
    let at = 9 + params;
    (0..maps)
        .map(|k| (payload[at + k / 4] >> (6 - 2 * (k % 4))) & 3)
        .collect()
}

/// Per feature_data unit of a quantized layer: (layer_id, frame_index, map_predictors).
fn stream_predictors(stream: &[u8]) -> Vec<(u16, u32, Vec<u8>)> {
    let b = Base::new(stream.to_vec());
    b.units
        .indices_of(UnitType::FeatureData)
        .into_iter()
        .filter(|&i| b.payload(i)[6] == CodingMethod::Quantized.code())
        .map(|i| {
            let p = b.payload(i);
            let layer = u16::from_be_bytes([p[0], p[1]]);
            let frame = u32::from_be_bytes([p[2], p[3], p[4], p[5]]);
            let dims = b.layer(usize::from(layer)).dims;
            (layer, frame, map_predictors_of(&p[7..], &dims))
        })
        .collect()
}

/// Checks an encoder-made sequence: every map_predictor of `want` occurs, every frame of
/// `inter_frames` has an inter map and no frame of `no_inter_frames` has one.
fn seq_check(
    want: &'static [u8],
    inter_frames: &'static [u32],
    no_inter_frames: &'static [u32],
) -> CheckFn {
    Box::new(move |stream| {
        let all = stream_predictors(stream);
        for p in want {
            if !all.iter().any(|(_, _, m)| m.contains(p)) {
                return Err(format!(
                    "no map has map_predictor {p} (the encoder chose {all:?})"
                ));
            }
        }
        let inter = |f: u32| {
            all.iter()
                .any(|(_, fr, m)| *fr == f && m.contains(&quantized::INTER))
        };
        if let Some(f) = inter_frames.iter().find(|&&f| !inter(f)) {
            return Err(format!(
                "frame {f} has no inter map (the encoder chose {all:?})"
            ));
        }
        if let Some(f) = no_inter_frames.iter().find(|&&f| inter(f)) {
            return Err(format!(
                "frame {f} has an inter map after a random-access point"
            ));
        }
        Ok(())
    })
}

/// One frame of a hand-built sequence: its payload, and whether its frame_header is a
/// random-access point.
struct HandFrame {
    payload: QuantPayload,
    random_access: bool,
}

fn hand_frame(payload: QuantPayload, random_access: bool) -> HandFrame {
    HandFrame {
        payload,
        random_access,
    }
}

/// SEQ_Q with its layer turned into a `t` layer of the payloads' shape carrying the hand-built
/// payloads of frames 0, 1, … (the base's later frames removed), the tensor_hash of each
/// hand-computed reconstruction, the frame_headers' random_access as given, and optionally
/// `level_idc`. For an invalid case the last frame is the one that breaks the requirement (its
/// tensor_hash removed, no reconstruction). Without `frame_headers` every frame_header unit is
/// removed (a stream as before version 0.4).
#[allow(clippy::too_many_arguments)]
fn hand_seq(
    group: Group,
    id: &str,
    purpose: &str,
    reqs: &[&str],
    level_idc: Option<u8>,
    t: ElementType,
    frames: Vec<HandFrame>,
    frame_headers: bool,
) -> Case {
    assert!((1..=4).contains(&frames.len()), "SEQ_Q has 4 frames");
    let valid = group != Group::Invalid;
    let decoded = if valid {
        frames.len()
    } else {
        frames.len() - 1
    };
    let datas: Vec<Vec<u8>> = frames[..decoded]
        .iter()
        .map(|f| f.payload.reconstruct(t))
        .collect();
    let non_negative = !datas
        .iter()
        .any(|d| d.chunks_exact(t.size()).any(|e| t.has_sign_set(e)));
    let payloads: Vec<Vec<u8>> = frames.iter().map(|f| f.payload.to_bytes()).collect();
    let hashes: Vec<String> = datas
        .iter()
        .map(|d| hex::encode(&dfc_decoder::tensor_sha256(d)))
        .collect();
    let flags: Vec<bool> = frames.iter().map(|f| f.random_access).collect();
    let dims = dims_text(&frames[0].payload.shape);
    let mut case = mutation(group, id, purpose, reqs, SEQ_Q, move |b| {
        let mut ops = Vec::new();
        if let Some(level) = level_idc {
            ops.push(format!("set:0.level_idc={level}"));
        }
        let lp = b.lp(0);
        ops.push(format!("set:{lp}.element_type={}", t.code()));
        ops.push(format!("set:{lp}.dims={dims}"));
        ops.push(format!(
            "set:{lp}.non_negative_flag={}",
            u8::from(non_negative)
        ));
        let mut deletions = Vec::new();
        for k in 0..4u32 {
            let (fh, fd, th) = (
                b.index(UnitType::FrameHeader, k as usize),
                b.fd(0, k),
                b.th(0, k),
            );
            let k = k as usize;
            if k >= payloads.len() {
                deletions.extend([fh, fd, th]);
                continue;
            }
            ops.push(format!("set:{fh}.random_access={}", u8::from(flags[k])));
            ops.push(b.set_payload(fd, &payloads[k]));
            match hashes.get(k) {
                Some(h) => ops.push(format!("set:{th}.hash_value=hex:{h}")),
                None => deletions.push(th),
            }
            if !frame_headers {
                deletions.push(fh);
            }
        }
        deletions.sort_unstable();
        ops.extend(deletions.into_iter().rev().map(|u| format!("delete:{u}")));
        ops
    });
    if valid {
        case.outputs = Some(Box::new(move |_| {
            datas
                .iter()
                .enumerate()
                .map(|(k, d)| HandTensor {
                    layer_id: 0,
                    frame_index: k as u32,
                    data: d.clone(),
                })
                .collect()
        }));
    }
    case
}

/// A payload whose maps use `predictors` (map_prediction 1), inter maps against `reference`
/// with `ref_distance` and `inter_ctx_base`.
#[allow(clippy::too_many_arguments)]
fn ipayload(
    header: QuantHeader,
    params: Params,
    shape: &[u32],
    levels: Vec<i32>,
    predictors: &[u8],
    ref_distance: u8,
    inter_ctx_base: u8,
    reference: &[i32],
) -> QuantPayload {
    let mut p = mpayload(header, 0, params, shape, levels, predictors);
    p.inter = Some(quantized::Inter {
        ref_distance,
        inter_ctx_base,
        reference: reference.to_vec(),
    });
    p
}

/// Levels of a [2, 4, 6] tensor: `f(map, y, x)`.
fn levels_246(f: impl Fn(usize, usize, usize) -> i32) -> Vec<i32> {
    (0..48).map(|i| f(i / 24, (i / 6) % 4, i % 6)).collect()
}

/// Simple levels coded without prediction (unsigned 8-bit, step 0.25).
fn plain_frame(levels: Vec<i32>) -> QuantPayload {
    qpayload(
        quantized::header(0, 8, false, false, 0, 8),
        Params::Uniform(vec![(bits(0.25), 0)]),
        &[2, 4, 6],
        levels,
    )
}

/// Asserts what `valid/q-hand-inter` promises of an inter payload.
fn check_inter(p: &QuantPayload) {
    let e = p.inter_elements();
    let tokens: std::collections::BTreeSet<usize> = e
        .iter()
        .map(|x| quantized::token(x.residual.unsigned_abs()).0)
        .collect();
    let contexts: std::collections::BTreeSet<usize> = e.iter().map(|x| x.ctx).collect();
    assert!(
        tokens.iter().any(|&t| t >= 16) && tokens.contains(&0),
        "tokens {tokens:?}"
    );
    assert!(
        contexts.contains(&0) && contexts.iter().any(|&c| c >= 8),
        "contexts {contexts:?}"
    );
    assert!(e.iter().any(|x| x.residual < 0) && e.iter().any(|x| x.residual > 0));
}

#[allow(clippy::vec_init_then_push)]
fn sequence_valid_cases() -> Vec<Case> {
    let v = Group::Valid;
    let mut cases = Vec::new();
    cases.push(from_recipe(
        v,
        "fh-lossless",
        "Access units (version 0.4): three lossless layers (float32 zlib, uint8 raw, float16 gzip) in frames 0, 1 and 2, each frame started by a frame_header unit; only the first is a random-access point (random_access 1, then 0, 0). Nothing is predicted. Base of the frame_header invalid cases.",
        &["REQ-5.2-6", "REQ-7.11-1", "REQ-7.11-2", "REQ-7.11-3"],
        seq_recipe(lossless_layers(), vec![lossless_frame(1, &["a", "b", "c"]), lossless_frame(2, &["a", "b", "c"])], "none", 1000),
    ));
    cases.push(from_recipe(
        v,
        "fh-every-frame-random-access",
        "Access units in which every frame_header is a random-access point (random_access 1 in frames 0, 1 and 2): the three lossless layers of fh-lossless.",
        &["REQ-7.11-2", "REQ-7.11-3"],
        seq_recipe(lossless_layers(), vec![lossless_frame(1, &["a", "b", "c"]), lossless_frame(2, &["a", "b", "c"])], "none", 1),
    ));
    cases.push(from_recipe(
        v,
        "fh-partial-frames",
        "Access units that carry only some of the layers: frame 0 has a, b and c; frame 1 only a; frame 2 c then a (the layers of a frame in any order, b absent).",
        &["REQ-5.2-5", "REQ-5.2-6"],
        seq_recipe(lossless_layers(), vec![lossless_frame(1, &["a"]), lossless_frame(2, &["c", "a"])], "none", 1000),
    ));
    cases.push(from_recipe(
        v,
        "fh-frame-index-gaps",
        "Access units of frames 0, 5 and 9 (frame_index increases with gaps; the output files are frame_05/ and frame_09/).",
        &["REQ-7.11-3"],
        seq_recipe(lossless_layers(), vec![lossless_frame(5, &["a", "b", "c"]), lossless_frame(9, &["a", "b", "c"])], "none", 1000),
    ));
    // Encoder-made inter prediction from real sequences.
    let q8 = LossySpec {
        intra: true,
        ..lossy(LossyTarget::Bits(8), "uniform", "per_tensor", true)
    };
    let res4f = |f: u32| seq_crop("opennsfw_resnet50_1by2", "res4f", f, &[16, 0, 0]);
    let amplitude = |f: u32| [2.0, 2.6, 1.5, 3.1][f as usize];
    let mut case = from_recipe(
        v,
        "seq-inter",
        "Inter prediction (map_predictor 2, inter_parameters(), inter_token tables 35 to 50) made by the encoder: 4 frames of a real sequence (ResNet-50 res4f of 4 consecutive video frames, float32 crop [8, 14, 14]) and a smooth synthetic layer (float32 [4, 8, 12], a sine whose amplitude changes from frame to frame), 8 bits per tensor, prediction auto. Frame 0 is the random-access point; in frames 1 to 3 maps of res4f are predicted from the previous frame's levels (ref_distance 1), others coded without prediction, and the smooth layer's maps use MED.",
        &["REQ-8.3.7-5", "REQ-8.3.7-6", "REQ-8.3.7-7"],
        seq_recipe(
            vec![
                qlayer("res4f", LayerKind::Conv, ElementType::Float32, &[8, 14, 14], res4f(0), q8.clone()),
                qlayer("wave", LayerKind::Conv, ElementType::Float32, &[4, 8, 12], sine(amplitude(0), 0.05), q8.clone()),
            ],
            (1..4)
                .map(|f| FrameRecipe {
                    frame_index: f,
                    layers: vec![
                        frame_layer("res4f", "quantized", Some(q8.clone()), res4f(f)),
                        frame_layer("wave", "quantized", Some(q8.clone()), sine(amplitude(f), 0.05)),
                    ],
                })
                .collect(),
            "auto",
            8,
        ),
    );
    case.check = Some(seq_check(
        &[quantized::NONE, quantized::MED, quantized::INTER],
        &[1, 2, 3],
        &[0],
    ));
    cases.push(case);
    let conv5_3 = |f: u32| seq_crop("hed_vgg16", "conv5_3", f, &[0, 0, 0]);
    let restart = || {
        seq_recipe(
            vec![qlayer(
                "conv5_3",
                LayerKind::Conv,
                ElementType::Float32,
                &[8, 14, 14],
                conv5_3(0),
                q8.clone(),
            )],
            (1..8)
                .map(|f| FrameRecipe {
                    frame_index: f,
                    layers: vec![frame_layer(
                        "conv5_3",
                        "quantized",
                        Some(q8.clone()),
                        conv5_3(f),
                    )],
                })
                .collect(),
            "inter",
            4,
        )
    };
    let mut case = from_recipe(
        v,
        "seq-inter-random-access",
        "A random-access point in the middle of a sequence: 8 frames of a real sequence (HED VGG-16 conv5_3, float32 crop [8, 14, 14]) with random-access points at frames 0 and 4 (the reference list is emptied there). Frames 1 to 3 and 5 to 7 have inter maps; frame 4 has none, and inter prediction restarts at frame 5 from frame 4 alone.",
        &["REQ-7.11-2", "REQ-8.3.7-7"],
        restart(),
    );
    case.check = Some(seq_check(&[quantized::INTER], &[1, 2, 3, 5, 6, 7], &[0, 4]));
    cases.push(case);
    let mut case = from_recipe(
        v,
        "seq-start-frame-4",
        "Random access (clause 8.6): the stream of seq-inter-random-access decoded from its random-access frame_header of frame 4 (expect.json start_frame 4). The units before it are passed over (read and CRC-checked, not decoded); only frames 4 to 7 are output, identical to a decoding from the start.",
        &["REQ-7.11-2", "REQ-8.3.7-7"],
        restart(),
    );
    case.start_frame = Some(4);
    cases.push(case);
    // Hand-built inter prediction (SEQ_Q's layer, frames replaced).
    let wave6 = |amp: f64| sine(amp, 0.31);
    cases.push(from_recipe(
        v,
        "seq-quantized-none",
        "A quantized layer in access units without prediction: float32 [2, 4, 6] in frames 0 to 3, 6 bits per tensor, prediction none; only frame 0 is a random-access point. Base of the hand-built inter cases.",
        &["REQ-8.3.7-1"],
        seq_recipe(
            vec![qlayer("q", LayerKind::Conv, ElementType::Float32, &[2, 4, 6], wave6(1.0), lossy(LossyTarget::Bits(6), "uniform", "per_tensor", false))],
            (1..4)
                .map(|f| FrameRecipe {
                    frame_index: f,
                    layers: vec![frame_layer("q", "quantized", Some(lossy(LossyTarget::Bits(6), "uniform", "per_tensor", false)), wave6(1.0 + f as f64 / 4.0))],
                })
                .collect(),
            "none",
            1000,
        ),
    ));
    // Frame 0: unsigned 8-bit levels up to 255, step 0.25.
    let f0 = levels_246(|m, y, x| ((37 * m + 11 * y + 53 * x * x + 7 * x * y) % 256) as i32);
    // Frame 1 (signed 7-bit, -64..63, per channel): maps 0 (inter), 1 (inter); the prediction
    // R is often outside the frame's range and the residual brings it back.
    let mut f1 = levels_246(|m, y, x| ((m as i32 * 29 + y as i32 * 13 + x as i32 * 17) % 127) - 63);
    // Residuals 0 and 1 where the reference is inside the range.
    let small: Vec<usize> = (0..48).filter(|&i| f0[i] <= 62).collect();
    for (n, &i) in small.iter().enumerate() {
        f1[i] = f0[i] + (n % 2) as i32;
    }
    f1.iter_mut().skip(12).take(6).for_each(|q| *q = 0); // a zero row in an inter map
    let p1 = ipayload(
        quantized::header(0, 7, true, true, 0, 3),
        Params::Uniform(vec![(bits(-0.5), bits(1.0)), (bits(0.125), bits(-2.0))]),
        &[2, 4, 6],
        f1.clone(),
        &[2, 2],
        1,
        0,
        &f0,
    );
    check_inter(&p1);
    // Frame 2: a codebook of 12 codewords; map 0 inter from frame 1 (negative references),
    // map 1 without prediction.
    let f2 = levels_246(|m, y, x| {
        if m == 0 {
            ((y * 5 + x * 3) % 12) as i32
        } else {
            ((x + y) % 12) as i32
        }
    });
    let p2 = ipayload(
        quantized::header(1, 4, false, false, 0, 4),
        Params::Codebook((0..12).map(|i| bits(i as f32 * 0.75 - 2.0)).collect()),
        &[2, 4, 6],
        f2,
        &[2, 0],
        1,
        3,
        &f1,
    );
    cases.push(hand_seq(
        v,
        "q-hand-inter",
        "Hand-built inter prediction over 3 frames of a float32 [2, 4, 6] layer (prediction in the level domain, each frame with its own quantizer): frame 0 unsigned 8-bit levels (step 0.25) without prediction; frame 1 signed 7-bit levels per channel (steps -0.5 and 0.125), both maps inter (ref_distance 1, inter_ctx_base 0) with residuals of both signs and tokens from 0 to 16 and more (the reference level is often outside the frame's range), InterCtx from 0 up from the neighbours' residuals against the reference, a zero row, and slices of 3 rows starting inside maps; frame 2 a codebook of 12 codewords, map 0 inter from frame 1's (signed) levels with inter_ctx_base 3, map 1 without prediction.",
        &["REQ-8.3.7-5", "REQ-8.3.7-6", "REQ-8.3.7-7"],
        None,
        ElementType::Float32,
        vec![hand_frame(plain_frame(f0.clone()), true), hand_frame(p1, false), hand_frame(p2, false)],
        true,
    ));
    // ref_distance 2 (level 2: MaxRefFrames 2).
    let g0 = levels_246(|m, y, x| ((m * 40 + y * 9 + x * 21) % 200) as i32);
    let g1 = levels_246(|m, y, x| ((m * 3 + y * 7 + x * 5) % 30) as i32);
    let g2: Vec<i32> = g0
        .iter()
        .enumerate()
        .map(|(i, &q)| (q + (i as i32 % 5) - 2).clamp(0, 255))
        .collect();
    cases.push(hand_seq(
        v,
        "q-hand-inter-ref-distance-2",
        "ref_distance 2 at level 2 (MaxRefFrames 2): frames 0 and 1 coded without prediction, frame 2's maps inter predicted from frame 0 (the second most recent reference), which differs much from frame 1, so a decoder that takes the wrong reference outputs other values.",
        &["REQ-8.3.7-7"],
        Some(20),
        ElementType::Float32,
        vec![
            hand_frame(plain_frame(g0.clone()), true),
            hand_frame(plain_frame(g1), false),
            hand_frame(ipayload(quantized::header(0, 8, false, false, 0, 8), Params::Uniform(vec![(bits(0.25), 0)]), &[2, 4, 6], g2, &[2, 2], 2, 0, &g0), false),
        ],
        true,
    ));
    // Level 1 (MaxRefFrames 1): the list holds only the last tensor.
    let h: Vec<Vec<i32>> = (0..4)
        .map(|k| levels_246(|m, y, x| ((m * 17 + y * 5 + x * 3 + k * 50) % 256) as i32))
        .collect();
    cases.push(hand_seq(
        v,
        "q-hand-inter-level-1",
        "Inter prediction at level 1 (MaxRefFrames 1): frames 0 to 2 without prediction, frame 3 inter predicted with ref_distance 1 from frame 2, the only reference the list keeps after several frames.",
        &["REQ-8.3.7-7"],
        Some(10),
        ElementType::Float32,
        vec![
            hand_frame(plain_frame(h[0].clone()), true),
            hand_frame(plain_frame(h[1].clone()), false),
            hand_frame(plain_frame(h[2].clone()), false),
            hand_frame(ipayload(quantized::header(0, 8, false, false, 0, 8), Params::Uniform(vec![(bits(0.25), 0)]), &[2, 4, 6], h[3].clone(), &[2, 2], 1, 0, &h[2]), false),
        ],
        true,
    ));
    cases
}

fn sequence_invalid_cases() -> Vec<Case> {
    let mut c = Vec::new();
    let fh = |b: &Base, k: usize| b.index(UnitType::FrameHeader, k);
    c.push(invalid(
        "req-5.2-6-feature-data-before-frame-header",
        "REQ-5.2-6",
        "In a stream with frame headers, the feature_data (and tensor_hash) of layer a of frame 0 come before the first frame_header unit: the frame_header is reported, since feature data preceded it.",
        FH,
        move |b| vec![format!("move:{},{}", fh(b, 0), b.th(0, 0))],
    ));
    c.push(invalid(
        "req-5.2-6-frame-index-mismatch",
        "REQ-5.2-6",
        "In the access unit of frame 1, the feature_data of layer b has frame_index 2 (non-decreasing, so REQ-5.2-5 holds): it differs from the frame_index of its access unit.",
        FH,
        |b| vec![format!("set:{}.frame_index=2", b.fd(1, 1))],
    ));
    c.push(invalid(
        "req-7.11-1-reserved-bits",
        "REQ-7.11-1",
        "The frame_header of frame 1 has reserved_zero_7bits 1 (its last bit).",
        FH,
        move |b| vec![format!("set:{}.reserved_zero_7bits=1", fh(b, 1))],
    ));
    c.push(invalid(
        "req-7.11-1-reserved-bits-high",
        "REQ-7.11-1",
        "The first frame_header has reserved_zero_7bits 64 (the bit after random_access).",
        FH,
        move |b| vec![format!("set:{}.reserved_zero_7bits=64", fh(b, 0))],
    ));
    c.push(invalid(
        "req-7.11-2-first-not-random-access",
        "REQ-7.11-2",
        "The first frame_header unit has random_access 0.",
        FH,
        move |b| vec![format!("set:{}.random_access=0", fh(b, 0))],
    ));
    c.push(invalid(
        "req-7.11-3-frame-index-equal",
        "REQ-7.11-3",
        "The second frame_header unit has frame_index 0, equal to the first's (its feature data is unchanged).",
        FH,
        move |b| vec![format!("set:{}.frame_index=0", fh(b, 1))],
    ));
    c.push(invalid(
        "req-7.11-3-frame-index-smaller",
        "REQ-7.11-3",
        "Frames 0, 5 and 9: the third frame_header unit has frame_index 3, smaller than the 5 before it (its feature data is unchanged).",
        FH_GAPS,
        move |b| vec![format!("set:{}.frame_index=3", fh(b, 2))],
    ));
    // REQ-8.3.7-7 and the inter payload (hand-built, SEQ_Q).
    let f32t = ElementType::Float32;
    let r0 = levels_246(|m, y, x| ((m * 131 + y * 37 + x * 47) % 256) as i32);
    let r1 = levels_246(|m, y, x| ((m * 11 + y * 3 + x * 23 + 5) % 250) as i32);
    let near = |r: &[i32]| -> Vec<i32> {
        r.iter()
            .enumerate()
            .map(|(i, &q)| (q + (i as i32 % 3) - 1).clamp(0, 255))
            .collect()
    };
    let inter8 = move |levels: Vec<i32>, predictors: &[u8], ref_distance: u8, reference: &[i32]| {
        ipayload(
            quantized::header(0, 8, false, false, 0, 8),
            Params::Uniform(vec![(bits(0.25), 0)]),
            &[2, 4, 6],
            levels,
            predictors,
            ref_distance,
            0,
            reference,
        )
    };
    let seq_invalid = |id: &str,
                       req: &str,
                       purpose: &str,
                       level: Option<u8>,
                       frames: Vec<HandFrame>,
                       frame_headers: bool| {
        hand_seq(
            Group::Invalid,
            id,
            purpose,
            &[req],
            level,
            f32t,
            frames,
            frame_headers,
        )
    };
    c.push(seq_invalid(
        "req-8.3.7-7-ref-distance-0",
        "REQ-8.3.7-7",
        "Frame 1 has inter maps with ref_distance 0 (the layer has one reference tensor, frame 0).",
        None,
        vec![
            hand_frame(plain_frame(r0.clone()), true),
            hand_frame(inter8(near(&r0), &[2, 0], 0, &r0), false),
        ],
        true,
    ));
    c.push(seq_invalid(
        "req-8.3.7-7-ref-distance-beyond",
        "REQ-8.3.7-7",
        "At level 2 (MaxRefFrames 2), frame 1 has an inter map with ref_distance 2 while the layer has only one reference tensor (frame 0).",
        Some(20),
        vec![hand_frame(plain_frame(r0.clone()), true), hand_frame(inter8(near(&r0), &[0, 2], 2, &r0), false)],
        true,
    ));
    c.push(seq_invalid(
        "req-8.3.7-7-level-1-ref-distance-2",
        "REQ-8.3.7-7",
        "At level 1 (MaxRefFrames 1), frame 2 has inter maps with ref_distance 2: two earlier frames of the layer were decoded, but the reference list keeps only the most recent one (paired with the valid q-hand-inter-level-1).",
        Some(10),
        vec![
            hand_frame(plain_frame(r0.clone()), true),
            hand_frame(plain_frame(r1.clone()), false),
            hand_frame(inter8(near(&r0), &[2, 2], 2, &r0), false),
        ],
        true,
    ));
    c.push(seq_invalid(
        "req-8.3.7-7-broken-reference",
        "REQ-8.3.7-7",
        "Frame 1 is a random-access point (random_access 1), which empties the reference lists, and its payload has inter maps with ref_distance 1: a broken reference.",
        None,
        vec![hand_frame(plain_frame(r0.clone()), true), hand_frame(inter8(near(&r0), &[2, 2], 1, &r0), true)],
        true,
    ));
    c.push(seq_invalid(
        "req-8.3.7-7-no-frame-headers",
        "REQ-8.3.7-7",
        "A stream without frame_header units (no reference tensor) whose first feature_data has an inter map with ref_distance 1.",
        None,
        vec![hand_frame(inter8(near(&r0), &[0, 2], 1, &r0), true)],
        false,
    ));
    c.push(seq_invalid(
        "req-8.3.7-7-no-frame-headers-second-frame",
        "REQ-8.3.7-7",
        "A stream without frame_header units: frame 0 is coded without prediction and frame 1 has inter maps with ref_distance 1; without access units frame 0 is no reference (clause 8.7).",
        None,
        vec![
            hand_frame(plain_frame(r0.clone()), true),
            hand_frame(inter8(near(&r0), &[2, 2], 1, &r0), false),
        ],
        false,
    ));
    let p = inter8(near(&r0), &[2, 2], 1, &r0).parts();
    let head = p.head_bytes();
    c.push(seq_invalid_bytes(
        "req-8.3.7-4-short-inter-parameters",
        "REQ-8.3.7-4",
        "Frame 1's quantized payload (map_predictors 2, 2) ends after the first byte of inter_parameters() (ref_distance present, inter_ctx_base missing).",
        vec![hand_frame(plain_frame(r0.clone()), true)],
        head[..head.len() - 1].to_vec(),
    ));
    let mut over = near(&r0);
    let at = r0
        .iter()
        .position(|&q| q >= 240)
        .expect("a level of 240 or more");
    over[at] = r0[at] + 20;
    c.push(seq_invalid(
        "req-8.3.7-5-inter-above-range",
        "REQ-8.3.7-5",
        "Unsigned 8-bit levels (0 to 255) in an inter map: the reference level (240 or more) plus the residual 20 is above 255.",
        None,
        vec![hand_frame(plain_frame(r0.clone()), true), hand_frame(inter8(over, &[2, 2], 1, &r0), false)],
        true,
    ));
    let mut under = near(&r0);
    let at = 24
        + r0[24..]
            .iter()
            .position(|&q| (1..10).contains(&q))
            .expect("a small level in map 1");
    under[at] = r0[at] - 12;
    c.push(seq_invalid(
        "req-8.3.7-5-inter-below-range",
        "REQ-8.3.7-5",
        "Unsigned 8-bit levels in an inter map: the reference level minus the residual 12 is negative.",
        None,
        vec![hand_frame(plain_frame(r0.clone()), true), hand_frame(inter8(under, &[0, 2], 1, &r0), false)],
        true,
    ));
    let mut p = inter8(near(&r0), &[0, 2], 1, &r0).parts();
    for t in &mut p.tables[quantized::FIRST_INTER_TABLE..] {
        t.entries.clear();
    }
    c.push(seq_invalid_bytes(
        "req-8.3.6-5-inter-empty-context",
        "REQ-8.3.6-5",
        "map_predictor 0 then 2: the level_token tables are filled, the 16 inter_token tables (35 to 50) all empty. The first map decodes; the first inter residual of the second map is decoded with an empty table.",
        vec![hand_frame(plain_frame(r0.clone()), true)],
        p.to_bytes(),
    ));
    c
}

/// An invalid hand-built sequence whose last frame's payload is `bad` (bytes).
fn seq_invalid_bytes(
    id: &str,
    req: &str,
    purpose: &str,
    frames: Vec<HandFrame>,
    bad: Vec<u8>,
) -> Case {
    let mut frames = frames;
    // A placeholder frame whose bytes are replaced below.
    frames.push(hand_frame(plain_frame(vec![0; 48]), false));
    let mut case = hand_seq(
        Group::Invalid,
        id,
        purpose,
        &[req],
        None,
        ElementType::Float32,
        frames,
        true,
    );
    let Source::Mutation { ops, .. } = &mut case.source else {
        unreachable!("a mutation")
    };
    let make = std::mem::replace(ops, Box::new(|_| Vec::new()));
    *ops = Box::new(move |b| {
        let fd = b.fd(0, 1);
        let mut out = make(b);
        out.push(b.set_payload(fd, &bad));
        out
    });
    case
}

// ---------------------------------------------------------------------------------------------
// Native inter prediction (spec 0.5): value reference lists of native tensors (clause 8.7).

/// `valid/seq-native-none`: one float32 layer conv5_3 [4, 14, 14] (a crop of a real sequence)
/// in frames 0 to 5, coded native except frame 4 (zlib), frame 0 the only random-access point,
/// prediction none (every native_header has ref_distance 0). Base of the hand-edited native
/// inter cases, whose payloads are coded again with a reference by
/// `dfc_encoder::encode_native_with_reference`. Units: 0 sequence_header, 1 layer_parameters,
/// frame k: 2 + 3k frame_header, 3 + 3k feature_data, 4 + 3k tensor_hash; 20 end_of_sequence.
const SEQ_NATIVE: &str = "valid/seq-native-none";

/// A crop of a samples/sequence tensor of frame `frame`, converted.
fn seq_crop_as(model: &str, layer: &str, frame: u32, start: &[u32], to: Convert) -> DataSpec {
    crop(
        &format!("{SEQ}/{model}/seq_bikes/frame_{frame:02}/{layer}.npy"),
        start,
        Some(to),
    )
}

/// Per feature_data unit coded with the native method: (layer_id, frame_index, ref_distance),
/// read from the bytes (ref_distance is byte 6 of native_header(), clause 6.9), not by the
/// decoder.
fn native_ref_distances(stream: &[u8]) -> Vec<(u16, u32, u8)> {
    let b = Base::new(stream.to_vec());
    b.units
        .indices_of(UnitType::FeatureData)
        .into_iter()
        .filter(|&i| b.payload(i)[6] == CodingMethod::Native.code())
        .map(|i| {
            let p = b.payload(i);
            (
                u16::from_be_bytes([p[0], p[1]]),
                u32::from_be_bytes([p[2], p[3], p[4], p[5]]),
                p[7 + 6],
            )
        })
        .collect()
}

/// Checks that the native payloads of a stream are exactly `want` (layer, frame,
/// ref_distance), in stream order: which units are native and which reference each uses.
fn native_check(want: Vec<(u16, u32, u8)>) -> CheckFn {
    Box::new(move |stream| {
        let got = native_ref_distances(stream);
        if got == want {
            Ok(())
        } else {
            Err(format!(
                "native payloads (layer, frame, ref_distance): the case needs {want:?}, the stream has {got:?}"
            ))
        }
    })
}

/// (layer, frame, ref_distance) of `layers` layers in `frames` frames: ref_distance 1, except 0
/// in the frames of `intra`.
fn native_refs_except(layers: u16, frames: u32, intra: &[u32]) -> Vec<(u16, u32, u8)> {
    (0..frames)
        .flat_map(|f| (0..layers).map(move |l| (l, f, u8::from(!intra.contains(&f)))))
        .collect()
}

/// The tensor of layer 0 in `frame` of a base, coded again with the native method predicted
/// from the base's tensor of `reference_frame`, signalling `ref_distance`.
fn native_recoded(b: &Base, frame: u32, reference_frame: u32, ref_distance: u8) -> Vec<u8> {
    let p = b.layer(0);
    let t = ElementType::from_code(p.element_type).expect("a valid base");
    let data = b.data(0, frame);
    let reference = b.data(0, reference_frame);
    dfc_encoder::encode_native_with_reference(
        t,
        &p.dims,
        p.non_negative_flag,
        &data,
        Some(dfc_encoder::NativeReference {
            ref_distance,
            data: &reference,
        }),
        1,
    )
}

/// Asserts that a native payload of layer 0 in `frame`, coded with a reference, does not decode
/// to the frame's tensor with the tensor of frame `wrong` as the reference (so a decoder that
/// takes the wrong entry of the list does not output the expected tensor).
fn assert_reference_matters(b: &Base, frame: u32, payload: &[u8], wrong: u32) {
    let p = b.layer(0);
    let desc = dfc_decoder::native::TensorDesc {
        element_type: ElementType::from_code(p.element_type).expect("a valid base"),
        shape: &p.dims,
        non_negative: p.non_negative_flag,
    };
    let wrong_data = b.data(0, wrong);
    let refs: Vec<&[u8]> = vec![wrong_data.as_slice(); usize::from(payload[6])];
    let decoded = dfc_decoder::native::decode_native_with_refs(payload, &desc, 1, &refs);
    assert!(
        decoded.ok().as_deref() != Some(&b.data(0, frame)[..]),
        "frame {frame} decodes the same with frame {wrong} as the reference"
    );
}

/// A crop of a samples/sequence tensor for each frame.
type FrameData = Box<dyn Fn(u32) -> DataSpec>;

/// A sequence recipe whose layers (name, element type, shape, data) are coded with the native
/// method in frames 0 to `frames` - 1.
fn native_seq(
    layers: &[(&str, ElementType, &[u32], FrameData)],
    frames: u32,
    prediction: &str,
    rap_period: u32,
) -> Recipe {
    seq_recipe(
        layers
            .iter()
            .map(|(name, t, shape, data)| {
                layer(name, LayerKind::Conv, *t, shape, "native", data(0))
            })
            .collect(),
        (1..frames)
            .map(|f| FrameRecipe {
                frame_index: f,
                layers: layers
                    .iter()
                    .map(|(name, _, _, data)| frame_layer(name, "native", None, data(f)))
                    .collect(),
            })
            .collect(),
        prediction,
        rap_period,
    )
}

fn conv5_3_f32(f: u32) -> DataSpec {
    seq_crop("hed_vgg16", "conv5_3", f, &[0, 0, 0])
}

fn conv5_3_f16(f: u32) -> DataSpec {
    seq_crop_as("hed_vgg16", "conv5_3", f, &[0, 0, 0], Convert::Float16)
}

/// A sequence recipe of one layer conv5_3 of `t` and `shape` whose frames 0, 1, … are coded
/// with `methods` (the quantized ones with 8-bit levels).
fn conv5_3_methods(
    t: ElementType,
    shape: &[u32],
    data: fn(u32) -> DataSpec,
    methods: &[&str],
    prediction: &str,
) -> Recipe {
    let q8 = lossy(LossyTarget::Bits(8), "uniform", "per_tensor", false);
    let frame_of = |f: u32| {
        let m = methods[f as usize];
        frame_layer(
            "conv5_3",
            m,
            (m == "quantized").then(|| q8.clone()),
            data(f),
        )
    };
    seq_recipe(
        vec![layer(
            "conv5_3",
            LayerKind::Conv,
            t,
            shape,
            methods[0],
            data(0),
        )],
        (1..methods.len() as u32)
            .map(|f| FrameRecipe {
                frame_index: f,
                layers: vec![frame_of(f)],
            })
            .collect(),
        prediction,
        1000,
    )
}

fn native_valid_cases() -> Vec<Case> {
    let v = Group::Valid;
    let mut cases = Vec::new();
    // Encoder-made. The encoder predicts where that is smaller, which needs enough elements for
    // the 100 more element_kind tables to pay.
    let mut case = from_recipe(
        v,
        "seq-native-inter",
        "Native inter prediction (version 0.5) made by the encoder: a lossless layer of a real sequence (HED VGG-16 conv5_3 of 5 consecutive video frames, float32 crop [28, 14, 14]) coded with the native method in 5 access units, random-access points at frames 0 and 3, prediction inter. The native payloads of frames 1, 2 and 4 have ref_distance 1 (the previous frame's tensor): 125 element_kind tables (KindCtx = 25 × Class(R) + 5 × Class(L) + Class(A), R the co-located value of the reference) and, for a new element whose R is not 0, ExpCtx from Exponent(R). Frames 0 and 3 have ref_distance 0: the value reference list is emptied at the random-access point, and prediction restarts at frame 4 from frame 3 alone.",
        &["REQ-8.3.6-8", "REQ-7.11-2"],
        native_seq(
            &[("conv5_3", ElementType::Float32, &[28, 14, 14], Box::new(conv5_3_f32))],
            5,
            "inter",
            3,
        ),
    );
    case.check = Some(native_check(native_refs_except(1, 5, &[0, 3])));
    cases.push(case);
    let mut case = from_recipe(
        v,
        "seq-native-inter-16bit",
        "Native inter prediction on 16-bit floats, made by the encoder: HED VGG-16 conv5_3 converted to float16 and ResNet-50 res4f converted to bfloat16 (crops [32, 14, 14] of 3 consecutive video frames) in 3 access units, frame 0 the only random-access point, prediction inter. Frames 1 and 2 of both layers have ref_distance 1, so Class(R) and Exponent(R) are taken from float16 (5-bit exponent field) and bfloat16 (8-bit) reference values; each layer has its own value reference list.",
        &["REQ-8.3.6-8"],
        native_seq(
            &[
                ("conv5_3", ElementType::Float16, &[32, 14, 14], Box::new(conv5_3_f16)),
                (
                    "res4f",
                    ElementType::BFloat16,
                    &[32, 14, 14],
                    Box::new(|f| seq_crop_as("opennsfw_resnet50_1by2", "res4f", f, &[0, 0, 0], Convert::Bfloat16)),
                ),
            ],
            3,
            "inter",
            1000,
        ),
    );
    case.check = Some(native_check(native_refs_except(2, 3, &[0])));
    cases.push(case);
    let mut case = from_recipe(
        v,
        "seq-native-mixed-methods",
        "The value reference list holds native tensors only (clause 8.7), made by the encoder: HED VGG-16 conv5_3 (float16 crop [32, 14, 14] of a real sequence) in 5 access units coded native, zlib, native, quantized (8 bits), native, prediction inter, frame 0 the only random-access point. The native payloads of frames 2 and 4 have ref_distance 1: frame 2 is predicted from frame 0 (not from frame 1, coded with zlib), frame 4 from frame 2 (not from the reconstruction of frame 3, which only enters the quantized method's level reference list).",
        &["REQ-8.3.6-8", "REQ-8.3.7-7"],
        conv5_3_methods(
            ElementType::Float16,
            &[32, 14, 14],
            conv5_3_f16,
            &["native", "zlib", "native", "quantized", "native"],
            "inter",
        ),
    );
    case.check = Some(native_check(vec![(0, 0, 0), (0, 2, 1), (0, 4, 1)]));
    cases.push(case);
    // Hand-edited: the base's payloads coded again with references.
    let mut case = from_recipe(
        v,
        "seq-native-none",
        "A native layer in access units without prediction: HED VGG-16 conv5_3 (float32 crop [4, 14, 14] of a real sequence) in frames 0 to 5, coded native except frame 4 (zlib), frame 0 the only random-access point, prediction none (ref_distance 0 everywhere). Base of the hand-edited native inter cases.",
        &["REQ-7.11-2"],
        conv5_3_methods(
            ElementType::Float32,
            &[4, 14, 14],
            conv5_3_f32,
            &["native", "native", "native", "native", "zlib", "native"],
            "none",
        ),
    );
    case.check = Some(native_check(vec![
        (0, 0, 0),
        (0, 1, 0),
        (0, 2, 0),
        (0, 3, 0),
        (0, 5, 0),
    ]));
    cases.push(case);
    let mut case = mutation(
        v,
        "seq-native-ref-distance-2",
        "Native ref_distance 2: seq-native-none at level 2 (MaxRefFrames 2: a value reference list keeps two tensors) with payloads coded again with references: frame 1 from frame 0 (ref_distance 1); frame 2 from frame 0 (ref_distance 2, the second most recent native tensor; the most recent is frame 1); frame 5 from frame 2 (ref_distance 2: the list is (frame 3, frame 2), since frame 4 is coded with zlib and does not enter it). The output is the tensors of seq-native-none (the method is lossless); the generator checks that frame 2's payload does not decode to its tensor with frame 1 as the reference, nor frame 5's with frame 3 or frame 4.",
        &["REQ-8.3.6-8"],
        SEQ_NATIVE,
        |b| {
            let mut ops = vec!["set:0.level_idc=20".to_string()];
            for (frame, reference, distance, wrong) in
                [(1, 0, 1, &[][..]), (2, 0, 2, &[1][..]), (5, 2, 2, &[3, 4][..])]
            {
                let payload = native_recoded(b, frame, reference, distance);
                for &w in wrong {
                    assert_reference_matters(b, frame, &payload, w);
                }
                ops.push(b.set_payload(b.fd(0, frame), &payload));
            }
            ops
        },
    );
    case.check = Some(native_check(vec![
        (0, 0, 0),
        (0, 1, 1),
        (0, 2, 2),
        (0, 3, 0),
        (0, 5, 2),
    ]));
    cases.push(case);
    cases
}

/// An invalid native inter case: SEQ_NATIVE with `ops` first (level, random access), then
/// the payload of `frame` coded again from `reference_frame` with `ref_distance`, its
/// tensor_hash removed.
fn native_invalid(
    id: &str,
    purpose: &str,
    ops: impl Fn(&Base) -> Vec<String> + 'static,
    frame: u32,
    reference_frame: u32,
    ref_distance: u8,
) -> Case {
    invalid(id, "REQ-8.3.6-8", purpose, SEQ_NATIVE, move |b| {
        let mut out = ops(b);
        let payload = native_recoded(b, frame, reference_frame, ref_distance);
        out.push(b.set_payload(b.fd(0, frame), &payload));
        out.push(format!("delete:{}", b.th(0, frame)));
        out
    })
}

fn native_invalid_cases() -> Vec<Case> {
    let fh = |b: &Base, k: usize| b.index(UnitType::FrameHeader, k);
    vec![
        native_invalid(
            "req-8.3.6-8-first-frame",
            "The first native payload of the stream (frame 0, a random-access point) has ref_distance 1 (a payload coded with frame 1's tensor as the reference): the layer's value reference list is empty.",
            |_| Vec::new(),
            0,
            1,
            1,
        ),
        native_invalid(
            "req-8.3.6-8-after-random-access",
            "Frame 3's frame_header is made a random-access point (random_access 1), which empties the value reference lists, and frame 3's native payload has ref_distance 1 (coded with frame 2's tensor, decoded just before, as the reference): a broken reference.",
            move |b| vec![format!("set:{}.random_access=1", fh(b, 3))],
            3,
            2,
            1,
        ),
        native_invalid(
            "req-8.3.6-8-beyond-list",
            "At level 2 (MaxRefFrames 2), frame 1's native payload has ref_distance 2 while the layer's value reference list holds one tensor (frame 0).",
            |_| vec!["set:0.level_idc=20".to_string()],
            1,
            0,
            2,
        ),
        native_invalid(
            "req-8.3.6-8-level-1-ref-distance-2",
            "At level 1 (MaxRefFrames 1), frame 2's native payload has ref_distance 2, above MaxRefFrames: two native tensors of the layer were decoded (frames 0 and 1), but the value reference list keeps only the most recent one (paired with the valid seq-native-ref-distance-2, the same payload at level 2).",
            |_| vec!["set:0.level_idc=10".to_string()],
            2,
            0,
            2,
        ),
        native_invalid(
            "req-8.3.6-8-non-native-not-counted",
            "Frame 4's frame_header is made a random-access point (random_access 1); frame 4 is coded with zlib, and frame 5's native payload has ref_distance 1 (coded with frame 4's tensor as the reference). One tensor of the layer was decoded since the random-access point, but only native tensors enter the value reference list, which is empty.",
            move |b| vec![format!("set:{}.random_access=1", fh(b, 4))],
            5,
            4,
            1,
        ),
        invalid(
            "req-8.3.6-8-no-frame-headers",
            "REQ-8.3.6-8",
            "A stream without frame_header units, whose value reference lists stay empty (seq-native-none with its frame_header units removed): frame 1's native payload has ref_distance 1 (coded with frame 0's tensor as the reference).",
            SEQ_NATIVE,
            |b| {
                let mut ops = vec![b.set_payload(b.fd(0, 1), &native_recoded(b, 1, 0, 1))];
                let mut deletions = b.units.indices_of(UnitType::FrameHeader);
                deletions.push(b.th(0, 1));
                deletions.sort_unstable();
                ops.extend(deletions.into_iter().rev().map(|u| format!("delete:{u}")));
                ops
            },
        ),
    ]
}

/// Every case of the suite, bases before the cases made from them.
pub fn all() -> Vec<Case> {
    let mut cases = valid_cases();
    cases.extend(sequence_valid_cases());
    cases.extend(native_valid_cases());
    cases.extend(uncommon_cases());
    cases.extend(invalid_cases());
    cases.extend(sequence_invalid_cases());
    cases.extend(native_invalid_cases());
    cases.extend(spec_0_6_cases());
    cases
}

/// The sequence header of a stream, if its first unit parses as one.
pub fn sequence_header(stream: &[u8]) -> Option<SequenceHeader> {
    let units = Units::parse(stream);
    let first = units.units.first()?;
    (first.unit_type == UnitType::SequenceHeader.code())
        .then(|| {
            SequenceHeader::from_reader(&mut BitReader::endian(&first.payload[..], BigEndian)).ok()
        })
        .flatten()
}

/// Raises by 1 the first frequency below 4096 of `tables`, so that its table no longer sums to
/// 4096 (REQ-8.3.6-2); the table keeps its size in bits.
fn raise_a_frequency<'a>(
    tables: impl Iterator<Item = &'a mut dfc_decoder::native::syntax::FrequencyTable>,
) {
    let entry = tables
        .flat_map(|t| t.entries.iter_mut())
        .find(|e| e.1 < 4096)
        .expect("a frequency below 4096");
    entry.1 += 1;
}

/// A zlib stream of one non-final stored block holding `data`, followed by `tail` (RFC 1950,
/// RFC 1951): byte-exact control of where the decompressed data ends.
fn zlib_stored_then(data: &[u8], tail: &[u8]) -> Vec<u8> {
    assert!(data.len() <= 0xFFFF);
    let mut out = zlib_header(0x78, 0x01).to_vec();
    let len = data.len() as u16;
    out.push(0x00); // BFINAL 0, BTYPE 00 (stored), padded
    out.extend(len.to_le_bytes());
    out.extend((!len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(tail);
    out
}

/// A frequency_table( ) that lists one symbol whose symbol_gap ue(v) has 17 leading zero bits,
/// then `empty` empty tables, written after `head`, aligned, with an all-zero slice index of
/// `num_slices` slices: valid syntax except for the 17 zero bits.
fn ue_17_payload(head: &[u8], empty: usize, num_slices: usize) -> Vec<u8> {
    use bitstream_io::{BitWrite, BitWriter};
    let mut out = head.to_vec();
    let mut w = BitWriter::endian(&mut out, BigEndian);
    w.write::<9, u16>(1).expect("in memory");
    w.write_var::<u32>(17, 0).expect("in memory");
    w.write_bit(true).expect("in memory");
    w.write_var::<u32>(17, 0).expect("in memory");
    w.write::<12, u16>(4095).expect("in memory");
    for _ in 0..empty {
        w.write::<9, u16>(0).expect("in memory");
    }
    w.byte_align().expect("in memory");
    out.extend(std::iter::repeat_n(0u8, 8 * num_slices));
    out
}

/// The cases of spec 0.6: its errata (REQ-7.1-3, frame_header in REQ-7.2-6, random access as a
/// process, the check order of compressed payloads), and the cases added so that every
/// misreading of `dfc_decoder::mutants` fails at least two cases.
fn spec_0_6_cases() -> Vec<Case> {
    let (v, u) = (Group::Valid, Group::Uncommon);
    let mut c = Vec::new();
    let fh = |b: &Base, k: usize| b.index(UnitType::FrameHeader, k);
    // Erratum 8: native payloads of versions 0.2 to 0.4 (REQ-7.1-3).
    c.push(invalid("req-7.1-3-native-in-version-0.4", "REQ-7.1-3", "version_minor 4 (identification and sequence header) and a native payload: version 0.5 changed native_header(), so this version cannot decode it (clause 7.1).", "valid/m-native-float32-r3", fixed(&["set:id.version_minor=4", "set:0.version_minor=4"])));
    let mut case = invalid("req-7.1-3-native-in-version-0.2-unselected", "REQ-7.1-3", "version_minor 2 and a native payload in a layer that is not selected (layer zlib selected): REQ-7.1-3 is checked for every feature_data unit, selected or not (clause 8.6).", "valid/profile-main-all", fixed(&["set:id.version_minor=2", "set:0.version_minor=2"]));
    case.select_layer = Some("zlib".into());
    c.push(case);
    c.push(mutation(u, "version-minor-4-without-native", "version_minor 4 in a stream without native payloads (raw, zlib, gzip, bzip2, lzma layers): it decodes as a stream of this version (clause 7.1).", &["REQ-7.1-3", "REQ-7.3-1"], B1, fixed(&["set:id.version_minor=4", "set:0.version_minor=4"])));
    // Erratum 6: frame_header payloads (REQ-7.2-6, Table 7-2).
    c.push(invalid("req-7.2-6-frame-header-long", "REQ-7.2-6", "The frame_header of frame 1 has a 6-byte payload (5 bytes of frame_header() and one more).", FH, move |b| vec![format!("pappend:{}=00", fh(b, 1))]));
    c.push(invalid("req-7.2-6-frame-header-short", "REQ-7.2-6", "The first frame_header has a 4-byte payload (random_access and reserved_zero_7bits missing).", FH, move |b| vec![format!("ptrunc:{}=4", fh(b, 0))]));
    // Erratum 7: random access (clause 8.6), from frame 4 of seq-inter-random-access.
    const RA: &str = "valid/seq-inter-random-access";
    let mut case = mutation(u, "start-frame-passes-over-broken-units", "Random access from frame 4 (start_frame 4): the units passed over break requirements that are not checked for them (clause 8.6, step 2): frame 1's quantized payload is damaged (CRC correct), frame 2's frame_header has reserved_zero_7bits 1 and frame_index 0, frame 3's tensor_hash does not match. Frames 4 to 7 decode.", &["REQ-7.11-1", "REQ-7.11-3", "REQ-8.5-1"], RA, move |b| {
        vec![format!("set:{}.reserved_zero_7bits=1", fh(b, 2)), format!("set:{}.frame_index=0", fh(b, 2)), b.flip_method_byte(b.fd(0, 1), 20, 0xff), b.flip_method_byte(b.fd(0, 1), 30, 0x55), format!("pwrite:{}@7=00", b.th(0, 3))]
    });
    case.start_frame = Some(4);
    c.push(case);
    let mut case = mutation(u, "start-frame-passes-over-misplaced-units", "Random access from frame 4: the units passed over are out of order (a layer_parameters unit, a tensor_hash without its feature data, a reserved-skippable unit between frame 2's feature data and its hash, a sequence_header): no requirement of clause 5.2 applies to them (clause 8.6, step 2). Frames 4 to 7 decode.", &["REQ-5.2-1", "REQ-5.2-2", "REQ-5.2-3"], RA, move |b| {
        vec![
            format!("insert:{}={}", fh(b, 3), unit_hex(1, b.payload(0))),
            format!("insert:{}={}", b.th(0, 2), unit_hex(0x80, b"between")),
            format!("delete:{}", b.fd(0, 1)),
            format!("insert:{}={}", fh(b, 1), unit_hex(2, b.payload(b.lp(0)))),
        ]
    });
    case.start_frame = Some(4);
    c.push(case);
    let mut case = invalid("req-7.2-6-passed-over-frame-header", "REQ-7.2-6", "Random access from frame 4: the frame_header of frame 2, passed over, has a 6-byte payload; frame_header units passed over are parsed (clause 8.6, step 2), so REQ-7.2-6 applies to them.", RA, move |b| vec![format!("pappend:{}=00", fh(b, 2))]);
    case.start_frame = Some(4);
    c.push(case);
    let mut case = invalid("req-7.2-6-passed-over-frame-header-short", "REQ-7.2-6", "Random access from frame 4: the frame_header of frame 3, passed over, has a 4-byte payload (REQ-7.2-6 applies to frame_header units passed over).", RA, move |b| vec![format!("ptrunc:{}=4", fh(b, 3))]);
    case.start_frame = Some(4);
    c.push(case);
    let mut case = invalid("req-7.2-3-passed-over-unit", "REQ-7.2-3", "Random access from frame 4: the unit_crc of frame 2's feature_data, passed over, is wrong; every unit passed over is CRC-checked (clause 8.6, step 2).", RA, |b| vec![format!("crcflip:{}", b.fd(0, 2))]);
    case.start_frame = Some(4);
    c.push(case);
    c.push(invalid("req-5.2-6-first-frame-without-frame-header", "REQ-5.2-6", "The frame_header of frame 0 is removed: frame 0's feature data come before any frame_header, which the frame_header of frame 1 reports (FeatureFirst).", FH, move |b| vec![format!("delete:{}", fh(b, 0))]));
    // The order of the checks of the unit (clause 8.2): the CRC before the unit type.
    c.push(invalid("req-7.2-3-reserved-critical-unit", "REQ-7.2-3", "A reserved-critical unit (type 0x08) with a wrong unit_crc: the CRC is checked before the unit type (clause 8.2).", B1, |b| vec![format!("insert:{}={}", b.eos(), unit_hex(8, &[0])), format!("crcflip:{}", b.eos())]));
    c.push(invalid("req-7.2-3-unit-type-zero", "REQ-7.2-3", "A unit of type 0 (forbidden) with a wrong unit_crc: the CRC is checked before the unit type (clause 8.2).", B1, |b| vec![format!("insert:{}={}", b.eos(), unit_hex(0, &[0, 1])), format!("crcflip:{}", b.eos())]));
    // Erratum 10: the check order of compressed payloads (clause 8.3).
    let method_case =
        |id: &str, req: &str, purpose: &str, base: &str, make: fn(&Base, usize) -> Vec<String>| {
            invalid(id, req, purpose, base, move |b| {
                let fd = b.fd(0, 0);
                let mut ops = make(b, fd);
                ops.push(format!("delete:{}", b.th(0, 0)));
                ops
            })
        };
    c.push(method_case("req-8.3-1-zlib-long-then-invalid-block", "REQ-8.3-1", "A zlib stream whose first, stored block holds N + 1 bytes and whose next block has the reserved BTYPE 11: the (N + 1)-th byte is produced before the invalid block is met, so REQ-8.3-1 is reported, however far a decoder decompresses (clause 8.3).", "valid/m-zlib-float32-r3", |b, fd| {
        let mut d = b.data(0, 0);
        d.push(0x5A);
        vec![b.set_payload(fd, &zlib_stored_then(&d, &[0x07]))]
    }));
    c.push(method_case("req-8.3.2-1-zlib-n-bytes-then-invalid-block", "REQ-8.3.2-1", "A zlib stream whose first, stored block holds exactly N bytes and whose next block has the reserved BTYPE 11: the invalid block is met before an (N + 1)-th byte (clause 8.3).", "valid/m-zlib-float32-r3", |b, fd| {
        vec![b.set_payload(fd, &zlib_stored_then(&b.data(0, 0), &[0x07]))]
    }));
    c.push(method_case("req-8.3-1-gzip-long-bad-crc", "REQ-8.3-1", "A gzip member that decompresses to N + 4 bytes, whose CRC32 is wrong: the trailer is read after the (N + 1)-th byte, so REQ-8.3-1 is reported (clause 8.3).", "valid/m-gzip-float32-r3", |b, fd| {
        let mut d = b.data(0, 0);
        d.extend([1, 2, 3, 4]);
        let mut g = code(CodingMethod::Gzip, &d);
        let at = g.len() - 8;
        g[at] ^= 0x01;
        vec![b.set_payload(fd, &g)]
    }));
    c.push(method_case("req-8.3-1-bzip2-long-bad-stream-crc", "REQ-8.3-1", "A bzip2 stream that decompresses to 2N bytes, whose combined stream CRC is wrong: the block's bytes are produced before the stream CRC is checked, so REQ-8.3-1 is reported (clause 8.3).", "valid/m-bzip2-float32-r3", |b, fd| {
        let d = b.data(0, 0);
        let mut z = code(CodingMethod::Bzip2, &[d.clone(), d].concat());
        let at = z.len() - 2;
        z[at] ^= 0x10;
        vec![b.set_payload(fd, &z)]
    }));
    c.push(method_case("req-8.3-1-zlib-short-trailing-byte", "REQ-8.3-1", "A zlib stream that decompresses to N - 1 bytes, followed by one more byte: the length (REQ-8.3-1) is checked before the bytes after the stream (REQ-8.3-2).", "valid/m-zlib-float32-r3", |b, fd| {
        let d = b.data(0, 0);
        let mut z = code(CodingMethod::Zlib, &d[..d.len() - 1]);
        z.push(0);
        vec![b.set_payload(fd, &z)]
    }));
    c.push(method_case("req-8.3-1-lzma-short-trailing-byte", "REQ-8.3-1", "LZMA data that decompresses to N - 4 bytes, followed by one more byte: the length (REQ-8.3-1) is checked before the bytes after the data (REQ-8.3-2).", "valid/m-lzma-float32-r3", |b, fd| {
        let d = b.data(0, 0);
        let mut z = code(CodingMethod::Lzma, &d[..d.len() - 4]);
        z.push(0);
        vec![b.set_payload(fd, &z)]
    }));
    c.push(method_case("req-8.3.5-1-lzma-props-and-size", "REQ-8.3.5-1", "An .lzma header with the properties byte 225 and a known uncompressed size: the properties are checked first (clause 8.3.5).", "valid/m-lzma-float32-r3", |_, fd| vec![format!("pwrite:{fd}@7=e1"), format!("pwrite:{fd}@12=a800000000000000")]));
    c.push(method_case("req-8.3.5-2-lzma-dict-and-size", "REQ-8.3.5-2", "An .lzma header with a dictionary of 2^26 + 1 bytes and a known uncompressed size: the dictionary size is checked before the size field (clause 8.3.5).", "valid/m-lzma-float32-r3", |_, fd| vec![format!("pwrite:{fd}@8=01000004"), format!("pwrite:{fd}@12=a800000000000000")]));
    c.push(method_case(
        "req-8.3-1-raw-one-element-more",
        "REQ-8.3-1",
        "A raw payload of N + 4 bytes (one float32 element more).",
        "valid/m-raw-float32-r1",
        |_, fd| vec![format!("pappend:{fd}=0000803f")],
    ));
    c.push(method_case("req-8.3.2-2-zlib-fdict-uint8", "REQ-8.3.2-2", "A zlib header with FDICT = 1 and a DICTID after it (FCHECK correct), in a uint8 layer: checked before decompression (clause 8.3.2).", "valid/m-zlib-uint8-r2", |b, fd| {
        let p = b.method_payload(fd);
        let mut z = zlib_header(p[0], p[1] | 0x20).to_vec();
        z.extend([0, 0, 0, 1]);
        z.extend_from_slice(&p[2..]);
        vec![b.set_payload(fd, &z)]
    }));
    // ue(v) with 17 leading zero bits, the rest of the payload valid (clause 4.1).
    c.push(method_case("req-8.3.6-7-ue-17-zeros", "REQ-8.3.6-7", "A native payload whose first frequency table lists one symbol with a symbol_gap of 17 leading zero bits, followed by 43 empty tables and a slice index: only the 17 zero bits are wrong (a decoder that allows them reports REQ-8.3.6-2 instead).", "valid/m-native-float32-r3", |b, fd| {
        let (parts, _) = native_parts(b, fd);
        vec![b.set_payload(fd, &ue_17_payload(&b.method_payload(fd)[..7], 43, parts.index.slices.len()))]
    }));
    c.push(method_case("req-8.3.7-4-ue-17-zeros-then-valid", "REQ-8.3.7-4", "A quantized payload whose first frequency table lists one symbol with a symbol_gap of 17 leading zero bits, followed by 18 empty tables and a slice index: only the 17 zero bits are wrong.", Q_BASE, |b, fd| {
        let parts = quant_parts(b, fd);
        vec![b.set_payload(fd, &ue_17_payload(&b.method_payload(fd)[..17], 18, parts.index.slices.len()))]
    }));
    // The final rANS state (clause 8.3.6.5): slices whose symbols all come from one-symbol
    // tables keep their state, so a changed initial state only changes the final one.
    c.push(method_case("req-8.3.6-6-final-state", "REQ-8.3.6-6", "A native all-zero tensor whose slice starts in the state 2^16 + 1 instead of 2^16: every symbol comes from a one-symbol table, the state never changes, and the final state is not 2^16.", "valid/m-native-float32-r3", |b, fd| {
        let p = b.layer(0);
        let zeros = vec![0u8; 4 * p.dims.iter().product::<u32>() as usize];
        let payload = dfc_encoder::encode_native(ElementType::Float32, &p.dims, p.non_negative_flag, &zeros, 1);
        let mut mb = b.method_payload(fd).to_vec();
        mb.clear();
        mb.extend(payload);
        let desc = dfc_decoder::native::TensorDesc { element_type: ElementType::Float32, shape: &p.dims, non_negative: p.non_negative_flag };
        let at = dfc_decoder::native::parse_parts(&mb, &desc).expect("valid").data_offset;
        mb[at] ^= 0x01;
        vec![b.set_payload(fd, &mb)]
    }));
    c.push(method_case("req-8.3.6-6-quantized-final-state", "REQ-8.3.6-6", "A quantized all-zero codebook tensor whose first slice starts in the state 2^16 + 1: its symbols come from one-symbol tables, so the final state is 2^16 + 1.", "valid/q-codebook-all-zero", |b, fd| {
        let at = quant_parts(b, fd).data_offset;
        vec![b.flip_method_byte(fd, at, 0x01)]
    }));
    c.push(from_recipe(v, "native-exponent-context-cap", "A bfloat16 layer coded with native whose few special values (NaN, infinities, exponent field 255) are under 0.1 % of the elements: the encoder's exp_ctx_base follows the other values, so the elements next to the specials have a predicted exponent far above it and ExpCtx 15, 1 + Min(14, ...) (clause 8.3.6.3).", &["REQ-8.3.6-2"], recipe("main", vec![layer("outliers", LayerKind::Conv, ElementType::BFloat16, &[8, 30, 120], "native", pattern(true, 0))])));
    c.push(from_recipe(v, "native-exponent-context-cap-rank-4", "As native-exponent-context-cap with rank 4 (shape [2, 4, 30, 120]) and another phase of the pattern.", &["REQ-8.3.6-2"], recipe("main", vec![layer("outliers", LayerKind::Conv, ElementType::BFloat16, &[2, 4, 30, 120], "native", pattern(true, 7))])));
    // The frequency tables are parsed before, checked after, the slice index (clauses 8.3.6,
    // 8.3.7): a bad table and a bad slice index report the slice index.
    const NATIVE: &str = "valid/m-native-float32-r3";
    c.push(method_case("req-8.3.6-4-after-bad-table", "REQ-8.3.6-4", "A native payload with a frequency table that does not sum to 4096 and a slice index that lists one byte more than the payload holds: the slice index (REQ-8.3.6-4) is checked before the tables (REQ-8.3.6-2).", NATIVE, |b, fd| {
        let (mut parts, _) = native_parts(b, fd);
        raise_a_frequency(parts.kind_tables.iter_mut());
        parts.index.slices[0].0 += 1;
        vec![b.set_payload(fd, &native_payload(&parts, b.method_payload(fd)))]
    }));
    c.push(method_case("req-8.3.6-7-short-index-after-bad-table", "REQ-8.3.6-7", "A native payload with a frequency table that does not sum to 4096, cut inside its slice index: REQ-8.3.6-7 is met before the tables are checked.", NATIVE, |b, fd| {
        let (mut parts, table_end) = native_parts(b, fd);
        raise_a_frequency(parts.exp_tables.iter_mut());
        let payload = native_payload(&parts, b.method_payload(fd));
        vec![b.set_payload(fd, &payload[..table_end + 4])]
    }));
    c.push(method_case("req-8.3.6-4-quantized-after-bad-table", "REQ-8.3.6-4", "A quantized payload with a level_token table that does not sum to 4096 and a slice index that lists one byte more than the payload holds: the slice index is checked first (clause 8.3.7, steps 7 and 8).", Q_BASE, |b, fd| {
        let mut parts = quant_parts(b, fd);
        raise_a_frequency(parts.token_tables.iter_mut());
        parts.index.slices[0].1 += 1;
        vec![b.set_payload(fd, &quant_payload(&parts, b.method_payload(fd)))]
    }));
    c.push(method_case("req-8.3.7-4-short-index-after-bad-table", "REQ-8.3.7-4", "A quantized payload with a row_kind table that does not sum to 4096, cut inside its slice index: REQ-8.3.7-4 is met before the tables are checked.", Q_BASE, |b, fd| {
        let mut parts = quant_parts(b, fd);
        raise_a_frequency(parts.row_tables.iter_mut());
        let table_end = quant_table_end(&parts);
        let payload = quant_payload(&parts, b.method_payload(fd));
        vec![b.set_payload(fd, &payload[..table_end + 4])]
    }));
    // REQ-8.3.7-2 is the first check of a quantized payload (clause 8.3.7, step 1).
    c.push(hand_invalid("req-8.3.7-2-int8-short-payload", "REQ-8.3.7-2", "An int8 layer whose quantized payload has 5 bytes: the element type is checked before quant_header( ) is read.", ElementType::Int8, false, &[2, 4, 6], vec![0, 8, 0, 0, 0]));
    c.push(hand_invalid("req-8.3.7-2-uint8-reserved-quantizer", "REQ-8.3.7-2", "A uint8 layer whose quantized payload has quantizer_type 9 (reserved): REQ-8.3.7-2 comes before REQ-8.3.7-1.", ElementType::Uint8, true, &[2, 4, 6], [vec![9, 8, 0, 0, 0, 0, 0, 0, 4], vec![0; 8]].concat()));
    // Reconstruction (clause 8.3.7.5): two roundings, the product first.
    let near_1000: Vec<i32> = (0..48).map(|i| 1000 + (i * 7) % 48 - 20).collect();
    c.push(hand_case(v, "q-hand-two-roundings", "offset + level × step rounded twice (clause 8.3.7.5): step 1 + 2^-23 and offset -1000, levels 980 to 1027; the rounded product loses the low bits that a fused multiply-add (one rounding) or a binary64 computation keeps, so almost every element tells them apart.", &["REQ-8.3.7-3"], ElementType::Float32, qpayload(quantized::header(0, 11, false, false, 0, 4), Params::Uniform(vec![(0x3F80_0001, bits(-1000.0))]), &[2, 4, 6], near_1000)));
    // bfloat16 keeps 8 significant bits: the difference shows where level × step nearly
    // cancels the offset, so half the levels of channel c are 1000 + c, its offset -(1000 + c).
    let cancelling: Vec<i32> = (0..48)
        .map(|i| 1000 + i / 8 + if i % 2 == 0 { 0 } else { (i % 5) - 2 })
        .collect();
    c.push(hand_case(v, "q-hand-two-roundings-bfloat16", "As q-hand-two-roundings in a bfloat16 layer of shape [6, 2, 4], per channel: channel c has offset -(1000 + c), and half its levels are 1000 + c, where the product 1000 + c + (1000 + c) × 2^-23 nearly cancels the offset; one rounding (fused multiply-add, binary64) gives (1000 + c) × 2^-23, two give a multiple of 2^-14, and bfloat16 keeps the difference.", &["REQ-8.3.7-3"], ElementType::BFloat16, qpayload(quantized::header(0, 11, false, true, 0, 4), Params::Uniform((0..6).map(|c| (0x3F80_0001, bits(-(1000.0 + c as f32)))).collect()), &[6, 2, 4], cancelling)));
    let tie_levels: Vec<i32> = (0..48)
        .map(|i| [1, 3, 5, -1, -3, 0, 7, -7][i % 8])
        .collect();
    c.push(hand_case(v, "q-hand-bfloat16-codebook-ties", "A codebook in a bfloat16 layer whose codewords are ties for bfloat16 (1 + 2^-8, 1 + 3 × 2^-8, -(1 + 2^-8), ...): each rounds to even (clause 8.3.7.5).", &["REQ-8.3.7-3"], ElementType::BFloat16, qpayload(quantized::header(1, 3, false, false, 0, 4), Params::Codebook(vec![bits(1.0 + 1.0 / 256.0), bits(1.0 + 3.0 / 256.0), bits(-(1.0 + 1.0 / 256.0)), bits(-(1.0 + 5.0 / 256.0)), bits(2.0 + 2.0 / 256.0), bits(3.0), pow2(-134), bits(0.5 + 3.0 / 512.0)]), &[2, 4, 6], tie_levels.iter().map(|q| q.rem_euclid(8)).collect())));
    c.push(hand_case(v, "q-hand-float16-overflow", "Reconstructions beyond the largest finite float16 (65504): step 8192 and signed levels, so 8 × 8192 = 65536 and more become infinity, and 7 × 8192 = 57344 stays finite (clause 8.3.7.5).", &["REQ-8.3.7-3"], ElementType::Float16, qpayload(quantized::header(0, 5, true, false, 0, 4), Params::Uniform(vec![(bits(8192.0), 0)]), &[2, 4, 6], (0..48).map(|i| (i % 32) - 16).collect())));
    c
}
