//! Recipes: the generator arguments of a golden stream, recorded in its `expect.json`.
//!
//! A recipe names the stream-wide encoder options, the layers (name, kind, element type, shape,
//! coding method) and the data of each tensor: a synthetic pattern, special values, or a crop of
//! a real feature tensor from `samples/corpus`. [`build`] turns it into the stream with the
//! reference encoder ([`dfc_encoder::encode_stream`] for frame 0, [`dfc_encoder::choose_method`]
//! for later frames) and returns the expected decoded tensors.

use crate::hex;
use dfc_decoder::quant::model::to_element;
use dfc_decoder::syntax::{
    FeatureData, Identification, LayerParameters, Metadata, MetadataEntry, SequenceHeader,
    SyntaxStructure, TensorHash, Unit,
};
use dfc_decoder::{
    tensor_sha256, ElementType, HashType, LayerKind, LevelLimits, Profile, UnitType,
};
use dfc_encoder::{
    choose_method, encode_quantized_frame, encode_sequence, encode_stream, is_non_negative,
    ChannelMode, EncoderConfig, FrameInput, LayerInput, LossyOptions, MethodChoice, Prediction,
    QuantTarget, Quantizer, SequenceOptions, SequenceState, StepScale, TensorRef,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Everything needed to regenerate a stream, byte for byte.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// `baseline` or `main` (EncoderConfig::profile).
    pub profile: String,
    /// Requested `level_idc` (EncoderConfig::level_idc); absent: the smallest level that fits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_idc: Option<u8>,
    /// EncoderConfig::tensor_hashes.
    pub tensor_hashes: bool,
    /// EncoderConfig::metadata.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<(String, String)>,
    /// The layers, in `layer_id` order, with their frame-0 data.
    pub layers: Vec<LayerRecipe>,
    /// Feature data of later frames, appended before the end of sequence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_frames: Vec<FrameRecipe>,
    /// A sequence with frame_header units (spec 0.4, clause 5.2): frame 0 (the layers' data)
    /// and the extra frames are encoded by [`dfc_encoder::encode_sequence`], one access unit
    /// per frame. Absent: a stream without frame headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<SequenceSpec>,
}

/// The options of [`dfc_encoder::encode_sequence`] (`SequenceOptions`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequenceSpec {
    /// `none`, `intra`, `inter` or `auto` (`Prediction`).
    pub prediction: String,
    /// Frames from one random-access point to the next, counted in stream order (1: every
    /// frame; the first frame always is one).
    pub rap_period: u32,
}

/// One layer (or `repeat` layers named `<name><index, 4 digits>`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerRecipe {
    pub name: String,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub repeat: u32,
    pub kind: String,
    pub element_type: String,
    pub shape: Vec<u32>,
    /// `auto` or a coding method name.
    pub method: String,
    /// The options of the quantized method (`method` = `quantized`); absent: the encoder's
    /// defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lossy: Option<LossySpec>,
    /// The frame-0 tensor. Absent for every layer: the stream declares its layers and has no
    /// feature data (then `method` must name a method and `non_negative` gives the flag).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataSpec>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub non_negative: bool,
}

/// The feature_data units of one later frame, in stream order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameRecipe {
    pub frame_index: u32,
    pub layers: Vec<FrameLayer>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameLayer {
    /// Name of a layer of the recipe.
    pub layer: String,
    /// `auto` or a coding method name.
    pub method: String,
    /// The options of the quantized method, as for [`LayerRecipe::lossy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lossy: Option<LossySpec>,
    pub data: DataSpec,
}

/// The options of the quantized method (the encoder's `LossyOptions`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossySpec {
    pub target: LossyTarget,
    /// `uniform` or `codebook`.
    pub quantizer: String,
    /// `auto`, `per_tensor` or `per_channel`.
    pub channels: String,
    /// Rate-distortion optimized rounding (else nearest).
    pub rdo: bool,
    /// Per-map MED intra prediction where it pays (else none).
    #[serde(default, skip_serializing_if = "is_false")]
    pub intra: bool,
    /// What qp steps are relative to: `peak` (the default of these recipes, with which the
    /// goldens were made) or `rms`.
    #[serde(default = "peak", skip_serializing_if = "is_peak")]
    pub step_scale: String,
}

fn peak() -> String {
    "peak".into()
}

fn is_peak(s: &str) -> bool {
    s == "peak"
}

/// What the quantized method's encoder aims at (`QuantTarget`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LossyTarget {
    Bits(u8),
    Qp(i32),
    Psnr(f64),
    BitsPerElement(f64),
}

impl LossySpec {
    /// The encoder options.
    pub fn options(&self) -> Result<LossyOptions, String> {
        Ok(LossyOptions {
            target: match self.target {
                LossyTarget::Bits(b) => QuantTarget::Bits(b),
                LossyTarget::Qp(q) => QuantTarget::Qp(f64::from(q)),
                LossyTarget::Psnr(p) => QuantTarget::Psnr(p),
                LossyTarget::BitsPerElement(r) => QuantTarget::BitsPerElement(r),
            },
            quantizer: match self.quantizer.as_str() {
                "uniform" => Quantizer::Uniform,
                "codebook" => Quantizer::Codebook,
                q => return Err(format!("unknown quantizer {q:?}")),
            },
            channels: match self.channels.as_str() {
                "auto" => ChannelMode::Auto,
                "per_tensor" => ChannelMode::PerTensor,
                "per_channel" => ChannelMode::PerChannel,
                c => return Err(format!("unknown channel mode {c:?}")),
            },
            rdo: self.rdo,
            intra: self.intra,
            scale: match self.step_scale.as_str() {
                "peak" => StepScale::Peak,
                "rms" => StepScale::Rms,
                s => return Err(format!("unknown step scale {s:?}")),
            },
            zero_threshold: 0.5,
        })
    }
}

/// How the canonical bytes of a tensor are made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataSpec {
    /// ReLU-like values `max(0, 3 sin(0.37 (i + phase)) - 1)` in the element type (runs of zeros
    /// and smooth positive values), preceded by the special values of the type if `specials`.
    Pattern { specials: bool, phase: u32 },
    /// The named set of special values of the element type, repeated to fill the tensor.
    Specials { set: SpecialSet },
    /// All elements zero (+0.0).
    Zeros,
    /// One element's canonical bytes (hex), repeated.
    Fill { hex: String },
    /// A linear ramp from `from` (first element) to `to` (last element), in C order, rounded
    /// to the element type (to nearest even; integers: clamped).
    Ramp { from: f64, to: f64 },
    /// `amplitude × sin(frequency × i)` for element i, rounded to the element type as for
    /// `ramp`: values of both signs.
    Sine { amplitude: f64, frequency: f64 },
    /// A crop of a little-endian float32 C-order .npy tensor of the corpus (path relative to the
    /// repository root): the layer's shape, starting at index `start`, optionally converted.
    Crop {
        file: String,
        /// SHA-256 of the source file; filled in by the generator, checked when regenerating.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        file_sha256: Option<String>,
        start: Vec<u32>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        convert: Option<Convert>,
    },
}

/// Special-value sets (canonical little-endian bit patterns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpecialSet {
    /// Quiet and signalling NaNs of both signs with various payloads.
    Nan,
    /// -0.0 and +0.0 alternating.
    NegZero,
    /// +inf, -inf, the largest finite values of both signs, 1.0.
    Inf,
    /// Subnormals of both signs, smallest and largest.
    Subnormal,
    /// Integer extremes (and for floats, the smallest normals and largest finites).
    Extremes,
}

impl SpecialSet {
    pub const ALL: [SpecialSet; 5] = [
        SpecialSet::Nan,
        SpecialSet::NegZero,
        SpecialSet::Inf,
        SpecialSet::Subnormal,
        SpecialSet::Extremes,
    ];

    pub fn name(self) -> &'static str {
        match self {
            SpecialSet::Nan => "nan",
            SpecialSet::NegZero => "neg-zero",
            SpecialSet::Inf => "inf",
            SpecialSet::Subnormal => "subnormal",
            SpecialSet::Extremes => "extremes",
        }
    }

    /// The values of the set for an element type (little-endian bytes per element).
    pub fn values(self, t: ElementType) -> Vec<Vec<u8>> {
        let w32 = |v: &[u32]| v.iter().map(|x| x.to_le_bytes().to_vec()).collect();
        let w16 = |v: &[u16]| v.iter().map(|x| x.to_le_bytes().to_vec()).collect();
        let w8 = |v: &[u8]| v.iter().map(|x| vec![*x]).collect();
        use ElementType as E;
        use SpecialSet as S;
        match (self, t) {
            (S::Nan, E::Float32) => w32(&[
                0x7FC0_0000,
                0xFFC0_0000,
                0x7FC0_0001,
                0x7F80_0001,
                0xFF80_0001,
                0x7FFF_FFFF,
                0xFFFF_FFFF,
                0x7FA5_A5A5,
                0xFFD2_D2D2,
                0x7F80_0100,
            ]),
            (S::Nan, E::Float16) => w16(&[
                0x7E00, 0xFE00, 0x7E01, 0x7C01, 0xFC01, 0x7FFF, 0xFFFF, 0x7D55, 0xFEAA,
            ]),
            (S::Nan, E::BFloat16) => w16(&[
                0x7FC0, 0xFFC0, 0x7FC1, 0x7F81, 0xFF81, 0x7FFF, 0xFFFF, 0x7FA5, 0xFFD2,
            ]),
            (S::NegZero, E::Float32) => w32(&[0x8000_0000, 0x0000_0000, 0x8000_0000]),
            (S::NegZero, E::Float16 | E::BFloat16) => w16(&[0x8000, 0x0000, 0x8000]),
            (S::Inf, E::Float32) => w32(&[
                0x7F80_0000,
                0xFF80_0000,
                0x7F7F_FFFF,
                0xFF7F_FFFF,
                0x3F80_0000,
            ]),
            (S::Inf, E::Float16) => w16(&[0x7C00, 0xFC00, 0x7BFF, 0xFBFF, 0x3C00]),
            (S::Inf, E::BFloat16) => w16(&[0x7F80, 0xFF80, 0x7F7F, 0xFF7F, 0x3F80]),
            (S::Subnormal, E::Float32) => w32(&[
                0x0000_0001,
                0x8000_0001,
                0x007F_FFFF,
                0x807F_FFFF,
                0x0040_0000,
                0x0000_0100,
            ]),
            (S::Subnormal, E::Float16) => w16(&[0x0001, 0x8001, 0x03FF, 0x83FF, 0x0200, 0x0010]),
            (S::Subnormal, E::BFloat16) => w16(&[0x0001, 0x8001, 0x007F, 0x807F, 0x0040, 0x0002]),
            (S::Extremes, E::Float32) => w32(&[0x0080_0000, 0x8080_0000, 0x7F7F_FFFF, 0x3400_0000]),
            (S::Extremes, E::Float16) => w16(&[0x0400, 0x8400, 0x7BFF, 0x1400]),
            (S::Extremes, E::BFloat16) => w16(&[0x0080, 0x8080, 0x7F7F, 0x3400]),
            (_, E::Int8) => w8(&[0x80, 0x7F, 0xFF, 0x00, 0x01]),
            (_, E::Uint8) => w8(&[0x00, 0xFF, 0x80, 0x7F, 0x01]),
        }
    }
}

/// Conversion of a float32 crop to another element type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case", deny_unknown_fields)]
pub enum Convert {
    /// IEEE binary16, round to nearest even.
    Float16,
    /// bfloat16, round to nearest even.
    Bfloat16,
    /// `clamp(round_half_even(x * scale), 0, 255)`.
    Uint8 { scale: f64 },
    /// `clamp(round_half_even(x * scale), -128, 127)`.
    Int8 { scale: f64 },
}

fn one() -> u32 {
    1
}
fn is_one(v: &u32) -> bool {
    *v == 1
}
fn is_false(v: &bool) -> bool {
    !*v
}

/// A decoded tensor a case expects, in output order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedTensor {
    pub layer_id: u16,
    pub name: String,
    pub frame_index: u32,
    pub element_type: String,
    pub shape: Vec<u32>,
    /// N, the tensor byte count.
    pub bytes: u64,
    /// SHA-256 of the N canonical bytes (spec clause 8.4): little-endian elements, C order.
    pub sha256: String,
    /// Whether a tensor_hash unit verifies the tensor (clause 8.5).
    pub verified: bool,
    /// Where the external-decoder protocol puts it, relative to the output directory.
    pub file: String,
}

/// The output of [`build`].
pub struct Built {
    pub stream: Vec<u8>,
    pub tensors: Vec<ExpectedTensor>,
    /// The recipe with every `file_sha256` filled in.
    pub recipe: Recipe,
}

/// One layer after expanding `repeat`.
struct Layer {
    name: String,
    kind: LayerKind,
    element_type: ElementType,
    shape: Vec<u32>,
    method: MethodChoice,
    data: Option<DataSpec>,
    non_negative: bool,
}

fn parse_profile(name: &str) -> Result<Profile, String> {
    Profile::from_name(name).ok_or_else(|| format!("unknown profile {name:?}"))
}

fn parse_method(name: &str, lossy: Option<&LossySpec>) -> Result<MethodChoice, String> {
    let method =
        MethodChoice::from_name(name).ok_or_else(|| format!("unknown coding method {name:?}"))?;
    match (method, lossy) {
        (_, None) => Ok(method),
        (MethodChoice::Quantized(_), Some(l)) => Ok(MethodChoice::Quantized(l.options()?)),
        (_, Some(_)) => Err(format!("lossy options for the lossless method {name:?}")),
    }
}

fn expand(layers: &[LayerRecipe]) -> Result<Vec<Layer>, String> {
    let mut out = Vec::new();
    for l in layers {
        let kind = LayerKind::from_name(&l.kind)
            .ok_or_else(|| format!("unknown layer kind {:?}", l.kind))?;
        let element_type = ElementType::from_name(&l.element_type)
            .ok_or_else(|| format!("unknown element type {:?}", l.element_type))?;
        let method = parse_method(&l.method, l.lossy.as_ref())?;
        for i in 0..l.repeat {
            out.push(Layer {
                name: if l.repeat == 1 {
                    l.name.clone()
                } else {
                    format!("{}{i:04}", l.name)
                },
                kind,
                element_type,
                shape: l.shape.clone(),
                method,
                data: l.data.clone(),
                non_negative: l.non_negative,
            });
        }
    }
    Ok(out)
}

/// The path of a tensor in the external-decoder protocol: `<name>.npy` for frame 0,
/// `frame_XX/<name>.npy` (two digits or more) for later frames.
pub fn tensor_file(name: &str, frame_index: u32) -> String {
    if frame_index == 0 {
        format!("{name}.npy")
    } else {
        format!("frame_{frame_index:02}/{name}.npy")
    }
}

fn expected(
    layer_id: u16,
    layer: &Layer,
    frame_index: u32,
    data: &[u8],
    verified: bool,
) -> ExpectedTensor {
    ExpectedTensor {
        layer_id,
        name: layer.name.clone(),
        frame_index,
        element_type: layer.element_type.name().to_string(),
        shape: layer.shape.clone(),
        bytes: data.len() as u64,
        sha256: hex::encode(&tensor_sha256(data)),
        verified,
        file: tensor_file(&layer.name, frame_index),
    }
}

/// Builds the stream of a recipe. `root` is the repository root (for corpus crops).
pub fn build(recipe: &Recipe, root: &Path) -> Result<Built, String> {
    let profile = parse_profile(&recipe.profile)?;
    let layers = expand(&recipe.layers)?;
    if layers.is_empty() {
        return Err("a recipe needs at least one layer".into());
    }
    let mut resolved = recipe.clone();
    let with_data = layers.iter().filter(|l| l.data.is_some()).count();
    if with_data == 0 {
        if !recipe.extra_frames.is_empty() {
            return Err("a stream without frame-0 data cannot have later frames".into());
        }
        return Ok(Built {
            stream: declared_only(recipe, profile, &layers)?,
            tensors: Vec::new(),
            recipe: resolved,
        });
    }
    if with_data != layers.len() {
        return Err("either every layer or no layer has data".into());
    }
    // Frame 0 through the reference encoder.
    let mut datas = Vec::with_capacity(layers.len());
    let mut resolved_specs = Vec::new();
    for layer in &layers {
        let spec = layer.data.as_ref().expect("checked");
        let (data, spec) = materialize(spec, layer.element_type, &layer.shape, root)?;
        datas.push(data);
        resolved_specs.push(spec);
    }
    // Record crop checksums in the recipe (per recipe layer, repeats share the spec).
    let mut k = 0;
    for l in &mut resolved.layers {
        l.data = Some(resolved_specs[k].clone());
        k += l.repeat as usize;
    }
    let inputs: Vec<LayerInput<'_>> = layers
        .iter()
        .zip(&datas)
        .map(|(l, d)| LayerInput {
            name: l.name.clone(),
            kind: l.kind,
            element_type: l.element_type,
            shape: l.shape.clone(),
            data: d,
            method: l.method,
        })
        .collect();
    let config = EncoderConfig {
        profile,
        level_idc: recipe.level_idc,
        tensor_hashes: recipe.tensor_hashes,
        metadata: recipe.metadata.clone(),
        ..EncoderConfig::default()
    };
    if let Some(seq) = &recipe.sequence {
        return build_sequence(recipe, resolved, seq, &layers, inputs, &config, root);
    }
    let mut stream = encode_stream(&inputs, &config).map_err(|e| format!("encoder: {e}"))?;
    // A lossy method's decoder output is the encoder's reconstruction, not the input (the
    // encoder is deterministic: coding the tensor again gives the payload of the stream).
    let mut outputs = Vec::with_capacity(inputs.len());
    for input in &inputs {
        outputs.push(match input.method {
            MethodChoice::Quantized(_) => {
                let non_negative = is_non_negative(input.element_type, input.data);
                let coded = choose_method(input.method, profile, &input.tensor(), non_negative, 1)
                    .map_err(|e| format!("encoder: {e}"))?;
                coded
                    .decoded
                    .ok_or("the quantized method returns its reconstruction")?
            }
            _ => input.data.to_vec(),
        });
    }
    let mut tensors: Vec<ExpectedTensor> = layers
        .iter()
        .zip(&outputs)
        .enumerate()
        .map(|(i, (l, d))| expected(i as u16, l, 0, d, recipe.tensor_hashes))
        .collect();
    if !recipe.extra_frames.is_empty() {
        // Take the end_of_sequence unit off, append the frames, put it back.
        let eos = Unit::new(UnitType::EndOfSequence.code(), Vec::new()).to_bytes();
        if !stream.ends_with(&eos) {
            return Err("the encoder's stream does not end with end_of_sequence".into());
        }
        stream.truncate(stream.len() - eos.len());
        for (fi, frame) in recipe.extra_frames.iter().enumerate() {
            for (li, fl) in frame.layers.iter().enumerate() {
                let id = layers
                    .iter()
                    .position(|l| l.name == fl.layer)
                    .ok_or_else(|| {
                        format!("frame {}: no layer {:?}", frame.frame_index, fl.layer)
                    })?;
                let layer = &layers[id];
                let (data, spec) = materialize(&fl.data, layer.element_type, &layer.shape, root)?;
                resolved.extra_frames[fi].layers[li].data = spec;
                let tensor = TensorRef {
                    element_type: layer.element_type,
                    shape: &layer.shape,
                    data: &data,
                };
                // The layer's non_negative_flag is that of its tensor in frame 0.
                let non_negative = is_non_negative(layer.element_type, inputs[id].data);
                let coded = choose_method(
                    parse_method(&fl.method, fl.lossy.as_ref())?,
                    profile,
                    &tensor,
                    non_negative,
                    1,
                )
                .map_err(|e| format!("encoder: {e}"))?;
                // A lossy method's decoder output is the reconstruction, not the input.
                let data = coded.decoded.unwrap_or(data);
                let unit = FeatureData {
                    layer_id: id as u16,
                    frame_index: frame.frame_index,
                    coding_method: coded.method.code(),
                    method_payload: coded.payload,
                };
                stream.extend(Unit::new(UnitType::FeatureData.code(), unit.to_bytes()).to_bytes());
                if recipe.tensor_hashes {
                    let hash = TensorHash {
                        layer_id: id as u16,
                        frame_index: frame.frame_index,
                        hash_type: HashType::Sha256.code(),
                        hash_value: tensor_sha256(&data).to_vec(),
                    };
                    stream
                        .extend(Unit::new(UnitType::TensorHash.code(), hash.to_bytes()).to_bytes());
                }
                tensors.push(expected(
                    id as u16,
                    layer,
                    frame.frame_index,
                    &data,
                    recipe.tensor_hashes,
                ));
            }
        }
        stream.extend(eos);
    }
    Ok(Built {
        stream,
        tensors,
        recipe: resolved,
    })
}

/// A sequence with frame headers: the stream by [`encode_sequence`], and the expected tensors
/// from the encoder's reconstructions. The quantized layers are coded again here frame by
/// frame with [`encode_quantized_frame`] and a [`SequenceState`] per layer, as the encoder
/// does; each payload must be the one in the stream, so that the reconstruction is that of the
/// stream's payload (the encoder is deterministic).
fn build_sequence(
    recipe: &Recipe,
    mut resolved: Recipe,
    seq: &SequenceSpec,
    layers: &[Layer],
    first: Vec<LayerInput<'_>>,
    config: &EncoderConfig,
    root: &Path,
) -> Result<Built, String> {
    let prediction = Prediction::from_name(&seq.prediction)
        .ok_or_else(|| format!("unknown prediction {:?}", seq.prediction))?;
    // The data of the later frames.
    let mut later: Vec<Vec<(usize, MethodChoice, Vec<u8>)>> = Vec::new();
    for (fi, frame) in recipe.extra_frames.iter().enumerate() {
        let mut f = Vec::new();
        for (li, fl) in frame.layers.iter().enumerate() {
            let id = layers
                .iter()
                .position(|l| l.name == fl.layer)
                .ok_or_else(|| format!("frame {}: no layer {:?}", frame.frame_index, fl.layer))?;
            let layer = &layers[id];
            let (data, spec) = materialize(&fl.data, layer.element_type, &layer.shape, root)?;
            resolved.extra_frames[fi].layers[li].data = spec;
            f.push((id, parse_method(&fl.method, fl.lossy.as_ref())?, data));
        }
        later.push(f);
    }
    let mut frames = vec![FrameInput {
        frame_index: 0,
        layers: first,
    }];
    for (frame, f) in recipe.extra_frames.iter().zip(&later) {
        frames.push(FrameInput {
            frame_index: frame.frame_index,
            layers: f
                .iter()
                .map(|(id, method, data)| LayerInput {
                    name: layers[*id].name.clone(),
                    kind: layers[*id].kind,
                    element_type: layers[*id].element_type,
                    shape: layers[*id].shape.clone(),
                    data,
                    method: *method,
                })
                .collect(),
        });
    }
    let options = SequenceOptions {
        prediction,
        rap_period: seq.rap_period,
        bits_per_frame: None,
    };
    let stream = encode_sequence(&frames, config, &options).map_err(|e| format!("encoder: {e}"))?;
    // The payload of each feature_data unit, by (layer, frame).
    let units = crate::mutate::Units::parse(&stream);
    let payload_of = |id: usize, frame_index: u32| -> Option<Vec<u8>> {
        units.units.iter().find_map(|u| {
            let p = &u.payload;
            (u.unit_type == UnitType::FeatureData.code()
                && u16::from_be_bytes([p[0], p[1]]) as usize == id
                && u32::from_be_bytes([p[2], p[3], p[4], p[5]]) == frame_index)
                .then(|| p[7..].to_vec())
        })
    };
    // The encoder's sequence state, again: a layer is signed unless all its frames are
    // non-negative; every layer's state is reset at a random-access point.
    let non_negative: Vec<bool> = (0..layers.len())
        .map(|id| {
            frames.iter().all(|f| {
                f.layers
                    .iter()
                    .filter(|l| l.name == layers[id].name)
                    .all(|l| is_non_negative(l.element_type, l.data))
            })
        })
        .collect();
    let mut states = vec![SequenceState::default(); layers.len()];
    let rap_period = seq.rap_period.max(1) as usize;
    let mut tensors = Vec::new();
    for (i, frame) in frames.iter().enumerate() {
        if i % rap_period == 0 {
            states.iter_mut().for_each(SequenceState::reset);
        }
        for l in &frame.layers {
            let id = layers
                .iter()
                .position(|x| x.name == l.name)
                .expect("a layer");
            let data = match l.method {
                MethodChoice::Quantized(mut lossy) => {
                    lossy.intra = lossy.intra && prediction != Prediction::None;
                    let inter = matches!(prediction, Prediction::Inter | Prediction::Auto);
                    let (payload, decoded) = encode_quantized_frame(
                        &l.tensor(),
                        non_negative[id],
                        &lossy,
                        &mut states[id],
                        inter,
                        config.threads,
                    )
                    .map_err(|e| format!("encoder: {e}"))?;
                    if payload_of(id, frame.frame_index).as_deref() != Some(&payload[..]) {
                        return Err(format!(
                            "layer {} frame {}: the stream's payload is not the one coded again",
                            l.name, frame.frame_index
                        ));
                    }
                    decoded
                        .iter()
                        .flat_map(|&v| {
                            let bits = to_element(v, l.element_type).to_le_bytes();
                            bits.into_iter().take(l.element_type.size())
                        })
                        .collect()
                }
                _ => l.data.to_vec(),
            };
            tensors.push(expected(
                id as u16,
                &layers[id],
                frame.frame_index,
                &data,
                recipe.tensor_hashes,
            ));
        }
    }
    Ok(Built {
        stream,
        tensors,
        recipe: resolved,
    })
}

/// A stream that declares its layers and carries no feature data (clause 5.2 allows it).
fn declared_only(recipe: &Recipe, profile: Profile, layers: &[Layer]) -> Result<Vec<u8>, String> {
    let params: Vec<LayerParameters> = layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let MethodChoice::Fixed(m) = l.method else {
                return Err(format!(
                    "layer {}: a layer without data needs a fixed method",
                    l.name
                ));
            };
            Ok(LayerParameters {
                layer_id: i as u16,
                layer_kind: l.kind.code(),
                element_type: l.element_type.code(),
                non_negative_flag: l.non_negative,
                reserved_zero_7bits: 0,
                default_method: m.code(),
                dims: l.shape.clone(),
                name: l.name.as_bytes().to_vec(),
            })
        })
        .collect::<Result<_, _>>()?;
    let metadata = (!recipe.metadata.is_empty()).then(|| Metadata {
        entries: recipe
            .metadata
            .iter()
            .map(|(k, v)| MetadataEntry {
                key: k.as_bytes().to_vec(),
                value: v.as_bytes().to_vec(),
            })
            .collect(),
    });
    let largest_tensor = layers
        .iter()
        .map(|l| l.shape.iter().map(|&d| u64::from(d)).product::<u64>())
        .max()
        .unwrap_or(0);
    let largest_unit = params
        .iter()
        .map(|p| p.coded_bytes() as u64)
        .chain(metadata.as_ref().map(|m| m.coded_bytes() as u64))
        .max()
        .unwrap_or(0);
    let frame_bytes: u64 = layers
        .iter()
        .map(|l| {
            l.shape.iter().map(|&d| u64::from(d)).product::<u64>() * l.element_type.size() as u64
        })
        .sum();
    let level = match recipe.level_idc {
        Some(idc) => idc,
        None => {
            LevelLimits::smallest_fitting(
                layers.len() as u32,
                largest_tensor,
                largest_unit,
                frame_bytes,
            )
            .ok_or("no level fits")?
            .level_idc
        }
    };
    let mut out = Identification::current().to_bytes();
    let mut push =
        |t: UnitType, payload: Vec<u8>| out.extend(Unit::new(t.code(), payload).to_bytes());
    push(
        UnitType::SequenceHeader,
        SequenceHeader {
            version_major: dfc_decoder::VERSION_MAJOR,
            version_minor: dfc_decoder::VERSION_MINOR,
            profile_idc: profile.code(),
            level_idc: level,
            num_layers: u16::try_from(layers.len()).map_err(|_| "too many layers")?,
            reserved_zero_16bits: 0,
        }
        .to_bytes(),
    );
    if let Some(m) = metadata {
        push(UnitType::Metadata, m.to_bytes());
    }
    for p in params {
        push(UnitType::LayerParameters, p.to_bytes());
    }
    push(UnitType::EndOfSequence, Vec::new());
    Ok(out)
}

/// The canonical bytes of a data spec, and the spec with crop checksums filled in.
pub fn materialize(
    spec: &DataSpec,
    t: ElementType,
    shape: &[u32],
    root: &Path,
) -> Result<(Vec<u8>, DataSpec), String> {
    let n: usize = shape.iter().map(|&d| d as usize).product();
    let size = t.size();
    let data = match spec {
        DataSpec::Pattern { specials, phase } => {
            let specials = if *specials {
                SpecialSet::ALL.iter().flat_map(|s| s.values(t)).collect()
            } else {
                Vec::new()
            };
            let mut out = Vec::with_capacity(n * size);
            for i in 0..n {
                if let Some(s) = specials.get(i) {
                    out.extend_from_slice(s);
                } else {
                    let x = ((i as u64 + u64::from(*phase)) as f64 * 0.37).sin() * 3.0 - 1.0;
                    out.extend(from_f32(x.max(0.0) as f32, t, 40.0));
                }
            }
            out
        }
        DataSpec::Specials { set } => {
            let values = set.values(t);
            (0..n)
                .flat_map(|i| values[i % values.len()].clone())
                .collect()
        }
        DataSpec::Zeros => vec![0u8; n * size],
        DataSpec::Ramp { from, to } => (0..n)
            .flat_map(|i| {
                let x = if n > 1 {
                    from + (to - from) * i as f64 / (n - 1) as f64
                } else {
                    *from
                };
                ramp_element(x, t)
            })
            .collect(),
        DataSpec::Sine {
            amplitude,
            frequency,
        } => (0..n)
            .flat_map(|i| ramp_element(amplitude * (frequency * i as f64).sin(), t))
            .collect(),
        DataSpec::Fill { hex: h } => {
            let e = hex::decode(h)?;
            if e.len() != size {
                return Err(format!(
                    "fill value has {} bytes, {t} elements have {size}",
                    e.len()
                ));
            }
            e.repeat(n)
        }
        DataSpec::Crop {
            file,
            file_sha256,
            start,
            convert,
        } => {
            let bytes = std::fs::read(root.join(file)).map_err(|e| format!("{file}: {e}"))?;
            let sha = hex::encode(&tensor_sha256(&bytes));
            if let Some(expected) = file_sha256 {
                if *expected != sha {
                    return Err(format!(
                        "{file} has changed: SHA-256 {sha}, the recipe records {expected}"
                    ));
                }
            }
            let values = crop(&bytes, shape, start).map_err(|e| format!("{file}: {e}"))?;
            let data = match convert {
                None if t == ElementType::Float32 => {
                    values.iter().flat_map(|v| v.to_le_bytes()).collect()
                }
                None => return Err(format!("a float32 crop needs a conversion to {t}")),
                Some(c) => convert_values(&values, c, t)?,
            };
            let resolved = DataSpec::Crop {
                file: file.clone(),
                file_sha256: Some(sha),
                start: start.clone(),
                convert: convert.clone(),
            };
            return Ok((data, resolved));
        }
    };
    Ok((data, spec.clone()))
}

/// An element of type `t` for a non-negative value `v` (integers: `v * int_scale`).
fn from_f32(v: f32, t: ElementType, int_scale: f32) -> Vec<u8> {
    match t {
        ElementType::Float32 => v.to_le_bytes().to_vec(),
        ElementType::Float16 => half::f16::from_f32(v).to_bits().to_le_bytes().to_vec(),
        ElementType::BFloat16 => half::bf16::from_f32(v).to_bits().to_le_bytes().to_vec(),
        ElementType::Int8 => vec![((v * int_scale) as i32).clamp(0, 127) as u8],
        ElementType::Uint8 => vec![((v * int_scale) as i32).clamp(0, 255) as u8],
    }
}

/// An element of type `t` nearest to `x` (floats: to nearest even; integers: clamped).
fn ramp_element(x: f64, t: ElementType) -> Vec<u8> {
    let v = x as f32;
    match t {
        ElementType::Float32 => v.to_le_bytes().to_vec(),
        ElementType::Float16 => half::f16::from_f32(v).to_bits().to_le_bytes().to_vec(),
        ElementType::BFloat16 => half::bf16::from_f32(v).to_bits().to_le_bytes().to_vec(),
        ElementType::Int8 => vec![x.round_ties_even().clamp(-128.0, 127.0) as i8 as u8],
        ElementType::Uint8 => vec![x.round_ties_even().clamp(0.0, 255.0) as u8],
    }
}

fn convert_values(values: &[f32], c: &Convert, t: ElementType) -> Result<Vec<u8>, String> {
    let want = match c {
        Convert::Float16 => ElementType::Float16,
        Convert::Bfloat16 => ElementType::BFloat16,
        Convert::Uint8 { .. } => ElementType::Uint8,
        Convert::Int8 { .. } => ElementType::Int8,
    };
    if want != t {
        return Err(format!("conversion to {want} for a {t} layer"));
    }
    Ok(values
        .iter()
        .flat_map(|&v| match c {
            Convert::Float16 => half::f16::from_f32(v).to_bits().to_le_bytes().to_vec(),
            Convert::Bfloat16 => half::bf16::from_f32(v).to_bits().to_le_bytes().to_vec(),
            Convert::Uint8 { scale } => {
                vec![(f64::from(v) * scale).round_ties_even().clamp(0.0, 255.0) as u8]
            }
            Convert::Int8 { scale } => vec![(f64::from(v) * scale)
                .round_ties_even()
                .clamp(-128.0, 127.0) as i8 as u8],
        })
        .collect())
}

/// Parses a little-endian float32 C-order .npy file (version 1.0–3.0 header).
pub fn read_f32_npy(bytes: &[u8]) -> Result<(Vec<u32>, &[u8]), String> {
    let (descr, fortran, shape, data) = crate::npy::parse(bytes)?;
    if descr != "<f4" || fortran {
        return Err(format!("expected a little-endian float32 C-order array, found {descr} (fortran_order {fortran})"));
    }
    Ok((shape, data))
}

/// The elements of the box `start .. start + shape` of a float32 .npy tensor, in C order.
fn crop(bytes: &[u8], shape: &[u32], start: &[u32]) -> Result<Vec<f32>, String> {
    let (src_shape, data) = read_f32_npy(bytes)?;
    if src_shape.len() != shape.len() || start.len() != shape.len() {
        return Err(format!(
            "crop of rank {} at {start:?} from a tensor of shape {src_shape:?}",
            shape.len()
        ));
    }
    for k in 0..shape.len() {
        if u64::from(start[k]) + u64::from(shape[k]) > u64::from(src_shape[k]) {
            return Err(format!(
                "crop {shape:?} at {start:?} exceeds the shape {src_shape:?}"
            ));
        }
    }
    let count: usize = shape.iter().map(|&d| d as usize).product();
    let mut out = Vec::with_capacity(count);
    let mut index = vec![0u32; shape.len()];
    for _ in 0..count {
        let mut offset = 0usize;
        for k in 0..shape.len() {
            offset = offset * src_shape[k] as usize + (start[k] + index[k]) as usize;
        }
        let b = &data[4 * offset..4 * offset + 4];
        out.push(f32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        for k in (0..shape.len()).rev() {
            index[k] += 1;
            if index[k] < shape[k] {
                break;
            }
            index[k] = 0;
        }
    }
    Ok(out)
}
