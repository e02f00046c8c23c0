//! Sequences of frames (spec clauses 5.2, 7.11 and 8.7; Annex C "Sequences"): one access unit
//! per frame, random-access points every `rap_period` frames, and quantized layers predicted
//! from the previous frame where that is cheaper.

use crate::lossy::{encode_quantized_frame, SequenceState};
use crate::methods::{is_non_negative, TensorRef};
use crate::native::{encode_native_with_reference, NativeReference};
use crate::stream::{
    canonical_bytes, choose_level, choose_method, layer_parameters, metadata_unit, validate,
    CodedTensor, EncodeError, EncoderConfig, LayerInput, MethodChoice, UnitWriter,
};
use dfc_decoder::syntax::{FrameHeader, SyntaxStructure};
use dfc_decoder::{CodingMethod, UnitType};

/// Which predictions quantized layers may use (`--prediction`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prediction {
    /// Levels coded as they are.
    None,
    /// MED intra prediction where it pays.
    Intra,
    /// Inter prediction from the previous frame where it pays (intra too).
    Inter,
    /// The encoder's choice: every prediction, map by map.
    Auto,
}

impl Prediction {
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "none" => Some(Prediction::None),
            "intra" => Some(Prediction::Intra),
            "inter" => Some(Prediction::Inter),
            "auto" => Some(Prediction::Auto),
            _ => None,
        }
    }

    fn intra(self) -> bool {
        self != Prediction::None
    }

    fn inter(self) -> bool {
        matches!(self, Prediction::Inter | Prediction::Auto)
    }
}

/// Options of a sequence.
#[derive(Clone, Copy, Debug)]
pub struct SequenceOptions {
    pub prediction: Prediction,
    /// Frames from one random-access point to the next (1: every frame).
    pub rap_period: u32,
}

impl Default for SequenceOptions {
    fn default() -> Self {
        SequenceOptions {
            prediction: Prediction::Auto,
            rap_period: 8,
        }
    }
}

/// The tensors of one frame.
#[derive(Clone, Debug)]
pub struct FrameInput<'a> {
    pub frame_index: u32,
    pub layers: Vec<LayerInput<'a>>,
}

/// Encodes a sequence of frames as one stream. The layers are those of all frames, in order of
/// first appearance; a frame may hold any subset of them, with the same type and shape each
/// time. Frame indexes must increase.
pub fn encode_sequence(
    frames: &[FrameInput<'_>],
    config: &EncoderConfig,
    options: &SequenceOptions,
) -> Result<Vec<u8>, EncodeError> {
    let layers = sequence_layers(frames, config)?;
    let rap_period = options.rap_period.max(1) as usize;
    let mut states: Vec<SequenceState> = vec![SequenceState::default(); layers.len()];
    // Per layer, its most recent native tensor since the last random-access point.
    let mut native_refs: Vec<Option<Vec<u8>>> = vec![None; layers.len()];
    // Per frame: (random access, coded tensors with their layer id and hash input).
    let mut coded_frames: Vec<(bool, Vec<(u16, CodedTensor)>)> = Vec::with_capacity(frames.len());
    for (i, frame) in frames.iter().enumerate() {
        let random_access = i % rap_period == 0;
        if random_access {
            states.iter_mut().for_each(SequenceState::reset);
            native_refs.iter_mut().for_each(|r| *r = None);
        }
        let mut coded = Vec::with_capacity(frame.layers.len());
        for l in &frame.layers {
            let id = layers
                .iter()
                .position(|x| x.name == l.name)
                .expect("collected");
            let tensor = l.tensor();
            let c = match l.method {
                MethodChoice::Quantized(mut lossy) => {
                    lossy.intra = lossy.intra && options.prediction.intra();
                    let (payload, decoded) = encode_quantized_frame(
                        &tensor,
                        layers[id].non_negative,
                        &lossy,
                        &mut states[id],
                        options.prediction.inter(),
                        config.threads,
                    )
                    .map_err(|error| EncodeError::Lossy {
                        layer: l.name.clone(),
                        error,
                    })?;
                    CodedTensor {
                        method: CodingMethod::Quantized,
                        payload,
                        decoded: Some(canonical_bytes(&decoded, l.element_type)),
                    }
                }
                choice => {
                    let non_negative = layers[id].non_negative;
                    let chosen = choose_method(
                        choice,
                        config.profile,
                        &tensor,
                        non_negative,
                        config.threads,
                    )
                    .map_err(|error| EncodeError::Lossy {
                        layer: l.name.clone(),
                        error,
                    })?;
                    let reference = native_refs[id]
                        .as_deref()
                        .filter(|_| options.prediction.inter());
                    predict_native(chosen, choice, &tensor, non_negative, reference, config)
                }
            };
            // Clause 8.7: a native tensor becomes the layer's most recent value reference.
            if c.method == CodingMethod::Native {
                native_refs[id] = Some(l.data.to_vec());
            }
            if !config.profile.allows_method(c.method) {
                return Err(EncodeError::NotInProfile {
                    layer: l.name.clone(),
                    what: format!("coding method {}", c.method),
                    profile: config.profile,
                });
            }
            coded.push((id as u16, c));
        }
        coded_frames.push((random_access, coded));
    }

    let metadata = metadata_unit(&config.metadata)?;
    let inputs: Vec<LayerInput<'_>> = layers.iter().map(|l| l.input.clone()).collect();
    let all_coded: Vec<CodedTensor> = coded_frames
        .iter()
        .flat_map(|(_, c)| c.iter().map(|(_, t)| t.clone()))
        .collect();
    let level = choose_level(&inputs, &all_coded, metadata.as_ref(), config.level_idc)?;

    let mut w = UnitWriter::start(config, level, layers.len(), metadata);
    for (id, layer) in layers.iter().enumerate() {
        let params = layer_parameters(
            id as u16,
            &layer.input,
            layer.first_method,
            layer.non_negative,
        );
        w.push(UnitType::LayerParameters, params.to_bytes());
    }
    for (frame, (random_access, coded)) in frames.iter().zip(coded_frames) {
        w.push(
            UnitType::FrameHeader,
            FrameHeader {
                frame_index: frame.frame_index,
                random_access,
                reserved_zero_7bits: 0,
            }
            .to_bytes(),
        );
        for ((id, c), input) in coded.into_iter().zip(&frame.layers) {
            w.tensor(id, frame.frame_index, c, input.data, config.tensor_hashes);
        }
    }
    Ok(w.finish())
}

/// A lossless tensor of a sequence as `chosen` codes it, or with the native method predicted
/// from `reference` (ref_distance 1) where that is smaller; `non_negative` is the layer's
/// `non_negative_flag`.
fn predict_native(
    chosen: CodedTensor,
    choice: MethodChoice,
    tensor: &TensorRef<'_>,
    non_negative: bool,
    reference: Option<&[u8]>,
    config: &EncoderConfig,
) -> CodedTensor {
    let native_allowed = match choice {
        MethodChoice::Fixed(m) => m == CodingMethod::Native,
        MethodChoice::Auto => config.profile.allows_method(CodingMethod::Native),
        MethodChoice::Quantized(_) => false,
    };
    if !native_allowed {
        return chosen;
    }
    let Some(data) = reference else {
        return chosen;
    };
    let inter = encode_native_with_reference(
        tensor.element_type,
        tensor.shape,
        non_negative,
        tensor.data,
        Some(NativeReference {
            ref_distance: 1,
            data,
        }),
        config.threads,
    );
    if inter.len() < chosen.payload.len() {
        CodedTensor {
            method: CodingMethod::Native,
            payload: inter,
            decoded: None,
        }
    } else {
        chosen
    }
}

/// A layer of a sequence: its first appearance, whether every frame of it is non-negative,
/// and the method its first frame is coded with (for `default_method`).
struct SequenceLayer<'a> {
    name: String,
    input: LayerInput<'a>,
    non_negative: bool,
    first_method: CodingMethod,
}

fn sequence_layers<'a>(
    frames: &[FrameInput<'a>],
    config: &EncoderConfig,
) -> Result<Vec<SequenceLayer<'a>>, EncodeError> {
    if frames.is_empty() {
        return Err(EncodeError::NoLayers);
    }
    let mut layers: Vec<SequenceLayer<'a>> = Vec::new();
    let mut previous: Option<u32> = None;
    for frame in frames {
        if previous.is_some_and(|p| frame.frame_index <= p) {
            return Err(EncodeError::FrameOrder {
                frame_index: frame.frame_index,
            });
        }
        previous = Some(frame.frame_index);
        validate(&frame.layers, config)?;
        for l in &frame.layers {
            let non_negative = is_non_negative(l.element_type, l.data);
            match layers.iter_mut().find(|x| x.name == l.name) {
                Some(x) => {
                    if x.input.element_type != l.element_type || x.input.shape != l.shape {
                        return Err(EncodeError::BadShape {
                            layer: l.name.clone(),
                            shape: l.shape.clone(),
                        });
                    }
                    x.non_negative &= non_negative;
                }
                None => layers.push(SequenceLayer {
                    name: l.name.clone(),
                    input: l.clone(),
                    non_negative,
                    first_method: match l.method {
                        MethodChoice::Fixed(m) => m,
                        MethodChoice::Quantized(_) => CodingMethod::Quantized,
                        MethodChoice::Auto => CodingMethod::Native,
                    },
                }),
            }
        }
    }
    if layers.len() > usize::from(u16::MAX) {
        return Err(EncodeError::TooManyLayers(layers.len()));
    }
    Ok(layers)
}
