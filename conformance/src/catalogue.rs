//! The case catalogue: every case of the suite, in code.
//!
//! A case is made either by the reference encoder from a [`Recipe`], or from an earlier case
//! (its base) by [`mutate`](crate::mutate) operations. Operations may depend on the base stream
//! (unit indices, a recompressed payload), so they are computed from it; `expect.json` records
//! the resulting operations literally.

use crate::hex;
use crate::mutate::Units;
use crate::recipe::{Convert, DataSpec, FrameLayer, FrameRecipe, LayerRecipe, Recipe, SpecialSet};
use bitstream_io::{BigEndian, BitReader, FromBitStream};
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
    pub source: Source,
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
        source: Source::Recipe(r),
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
        source: Source::Mutation {
            base: base.to_string(),
            ops: Box::new(ops),
        },
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
    let mut r = recipe(
        "main",
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
        ],
    );
    let frame = |index: u32, c_method: &str| FrameRecipe {
        frame_index: index,
        layers: vec![
            FrameLayer {
                layer: "a".into(),
                method: "zlib".into(),
                data: pattern(false, 11 * index),
            },
            FrameLayer {
                layer: "b".into(),
                method: "raw".into(),
                data: pattern(false, 11 * index),
            },
            FrameLayer {
                layer: "c".into(),
                method: c_method.into(),
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
                    data: pattern(false, 50),
                },
                FrameLayer {
                    layer: "a".into(),
                    method: "auto".into(),
                    data: pattern(false, 51),
                },
            ],
        },
        FrameRecipe {
            frame_index: 9,
            layers: vec![FrameLayer {
                layer: "b".into(),
                method: "gzip".into(),
                data: pattern(false, 90),
            }],
        },
        FrameRecipe {
            frame_index: u32::MAX,
            layers: vec![FrameLayer {
                layer: "a".into(),
                method: "raw".into(),
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
        "req-7.2-2-unit-type-0x07",
        "REQ-7.2-2",
        "A reserved-critical unit of type 0x07 before the end_of_sequence unit.",
        B1,
        |b| vec![format!("insert:{}={}", b.eos(), unit_hex(7, &[0]))],
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
            let table = parts
                .row_tables
                .iter_mut()
                .chain(parts.kind_tables.iter_mut())
                .chain(parts.exp_tables.iter_mut())
                .find(|t| t.entries.iter().any(|e| e.1 < 4096))
                .expect("a table with a frequency below 4096");
            let entry = table.entries.iter_mut().find(|e| e.1 < 4096).expect("checked");
            entry.1 += 1;
            vec![b.set_payload(fd, &native_payload(&parts, b.method_payload(fd)))]
        }),
        ("req-8.3.6-3-alignment-bits", "REQ-8.3.6-3", "A native payload whose alignment_zero_bits after the frequency tables are not 0.", |b, fd| {
            let (mut parts, _) = native_parts(b, fd);
            let bits = |p: &dfc_decoder::native::NativeParts| {
                48 + p.row_tables.iter().chain(&p.kind_tables).chain(&p.exp_tables).map(|t| t.coded_bits()).sum::<u64>()
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

/// Every case of the suite, bases before the cases made from them.
pub fn all() -> Vec<Case> {
    let mut cases = valid_cases();
    cases.extend(uncommon_cases());
    cases.extend(invalid_cases());
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
