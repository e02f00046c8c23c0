//! Sequences of frames (spec clauses 5.2, 7.11 and 8.7; Annex C "Sequences"): one access unit
//! per frame, random-access points every `rap_period` frames, and quantized layers predicted
//! from the previous frame where that is cheaper.

use crate::lossy::{encode_quantized_frame, QuantTarget, SequenceState};
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
    /// A bitrate target: the stream's bits per frame on average (kbit/s × 1000 / fps). The
    /// quantized layers then take one qp per group of frames (random-access point to the
    /// next), the one whose bits bring the stream so far closest to the budget of the frames
    /// so far without passing it where a finer qp would (Annex C).
    pub bits_per_frame: Option<f64>,
}

impl Default for SequenceOptions {
    fn default() -> Self {
        SequenceOptions {
            prediction: Prediction::Auto,
            rap_period: 8,
            bits_per_frame: None,
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
    let metadata = metadata_unit(&config.metadata)?;
    let mut coder = FrameCoder {
        frames,
        layers: &layers,
        config,
        options,
        rap_period,
        states: vec![SequenceState::default(); layers.len()],
        native_refs: vec![None; layers.len()],
    };
    // Per frame: (random access, coded tensors with their layer id and hash input).
    let mut coded_frames: Vec<CodedFrame> = Vec::with_capacity(frames.len());
    let head_bits = match options.bits_per_frame {
        Some(_) => 8 * stream_head(config, 0, &layers, metadata.clone()).len(),
        None => 0,
    };
    for start in (0..frames.len()).step_by(rap_period) {
        let end = (start + rap_period).min(frames.len());
        let group = match options.bits_per_frame {
            None => coder.group(start..end, None)?,
            Some(bits_per_frame) => {
                let spent = head_bits
                    + coded_frames
                        .iter()
                        .map(|f| frame_bits(f, config.tensor_hashes))
                        .sum::<usize>();
                // The budget of the frames up to `end`, the end of sequence unit included.
                let budget =
                    bits_per_frame * end as f64 - spent as f64 - 8.0 * UnitWriter::end_len() as f64;
                coder.rate_controlled_group(start..end, budget)?
            }
        };
        coded_frames.extend(group);
    }

    let inputs: Vec<LayerInput<'_>> = layers.iter().map(|l| l.input.clone()).collect();
    let all_coded: Vec<CodedTensor> = coded_frames
        .iter()
        .flat_map(|(_, c)| c.iter().map(|(_, t)| t.clone()))
        .collect();
    let level = choose_level(&inputs, &all_coded, metadata.as_ref(), config.level_idc)?;

    let mut w = stream_head(config, level, &layers, metadata);
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
/// The identification, sequence header, metadata and layer_parameters units.
fn stream_head(
    config: &EncoderConfig,
    level: u8,
    layers: &[SequenceLayer<'_>],
    metadata: Option<dfc_decoder::syntax::Metadata>,
) -> UnitWriter {
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
    w
}

/// Bits a coded frame takes in the stream: its frame_header, feature_data and tensor_hash
/// units.
fn frame_bits(frame: &CodedFrame, hashes: bool) -> usize {
    let tensors: usize = frame
        .1
        .iter()
        .map(|(_, c)| UnitWriter::tensor_units_len(c.payload.len(), hashes))
        .sum();
    8 * (tensors + UnitWriter::frame_header_len())
}

/// A coded frame: whether it is a random-access point, and its coded tensors with their
/// layer ids.
type CodedFrame = (bool, Vec<(u16, CodedTensor)>);

/// Codes the frames of a sequence in order, keeping each layer's references.
struct FrameCoder<'f, 'a> {
    frames: &'f [FrameInput<'a>],
    layers: &'f [SequenceLayer<'a>],
    config: &'f EncoderConfig,
    options: &'f SequenceOptions,
    rap_period: usize,
    states: Vec<SequenceState>,
    /// Per layer, its most recent native tensor since the last random-access point.
    native_refs: Vec<Option<Vec<u8>>>,
}

impl FrameCoder<'_, '_> {
    /// Codes frames `range` (a random-access point and the frames up to the next); with `qp`,
    /// every quantized layer takes that qp instead of its own target.
    fn group(
        &mut self,
        range: std::ops::Range<usize>,
        qp: Option<f64>,
    ) -> Result<Vec<CodedFrame>, EncodeError> {
        range.map(|i| self.frame(i, qp)).collect()
    }

    /// Codes a group of frames at the qp (on a grid of 1/8) whose bits come closest to
    /// `budget` without passing it, found by secant steps on real encodes; if even the
    /// coarsest passes it, the coarsest.
    fn rate_controlled_group(
        &mut self,
        range: std::ops::Range<usize>,
        budget: f64,
    ) -> Result<Vec<CodedFrame>, EncodeError> {
        const GRID: f64 = 0.125;
        let (saved_states, saved_refs) = (self.states.clone(), self.native_refs.clone());
        let hashes = self.config.tensor_hashes;
        let mut tried: Vec<(f64, f64)> = Vec::new();
        let mut best: Option<(f64, Vec<CodedFrame>)> = None;
        let (mut under, mut over) = (f64::NEG_INFINITY, f64::INFINITY);
        let elements: f64 = range
            .clone()
            .map(|i| {
                self.frames[i]
                    .layers
                    .iter()
                    .map(|l| l.data.len() as f64 / l.element_type.size() as f64)
                    .sum::<f64>()
            })
            .sum();
        let mut qp = 16.0;
        for _ in 0..10 {
            self.states.clone_from(&saved_states);
            self.native_refs.clone_from(&saved_refs);
            let coded = self.group(range.clone(), Some(qp))?;
            let bits = coded.iter().map(|f| frame_bits(f, hashes)).sum::<usize>() as f64;
            tried.push((qp, bits));
            if bits <= budget {
                under = under.max(qp);
                if best.as_ref().is_none_or(|(b, _)| qp > *b) {
                    best = Some((qp, coded));
                }
                if bits >= 0.99 * budget {
                    break;
                }
            } else {
                over = over.min(qp);
            }
            if over - under <= GRID {
                break;
            }
            // Secant through the last two encodes (bits grow about linearly with qp), else
            // one bit per element per 8 qp.
            let aim = 0.995 * budget;
            let mut next = match tried.as_slice() {
                [.., (q0, b0), (q1, b1)] if (b1 - b0).abs() > 1.0 => {
                    q1 + (aim - b1) * (q1 - q0) / (b1 - b0)
                }
                _ => qp + (aim - bits) / (elements / 8.0).max(1.0),
            };
            next = (next / GRID).round() * GRID;
            if !next.is_finite() || next <= under || next >= over {
                next = match (under.is_finite(), over.is_finite()) {
                    (true, true) => ((under + over) / 2.0 / GRID).round() * GRID,
                    (true, false) => under + 8.0,
                    (false, true) => over - 8.0,
                    (false, false) => qp,
                };
            }
            next = next.clamp(-96.0, 136.0);
            if tried.iter().any(|&(t, _)| t == next) {
                break;
            }
            qp = next;
        }
        let qp = match &best {
            Some((qp, _)) => *qp,
            None => tried.iter().map(|t| t.0).fold(f64::INFINITY, f64::min),
        };
        // Code the chosen qp again so that the references are the ones it leaves.
        self.states = saved_states;
        self.native_refs = saved_refs;
        self.group(range, Some(qp))
    }

    /// Codes frame `i`; with `qp`, quantized layers take that qp.
    fn frame(&mut self, i: usize, qp: Option<f64>) -> Result<CodedFrame, EncodeError> {
        let (frames, layers, config, options) =
            (self.frames, self.layers, self.config, self.options);
        let rap_period = self.rap_period;
        let frame = &frames[i];
        let (states, native_refs) = (&mut self.states, &mut self.native_refs);
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
                    if let Some(qp) = qp {
                        lossy.target = QuantTarget::Qp(qp);
                    }
                    if random_access {
                        // The layer's frames up to the next random-access point.
                        let group: Vec<TensorRef<'_>> = frames
                            [i..(i + rap_period).min(frames.len())]
                            .iter()
                            .filter_map(|f| f.layers.iter().find(|x| x.name == l.name))
                            .map(LayerInput::tensor)
                            .collect();
                        states[id]
                            .plan(&group, layers[id].non_negative, &lossy, config.threads)
                            .map_err(|error| EncodeError::Lossy {
                                layer: l.name.clone(),
                                error,
                            })?;
                    }
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
        Ok((random_access, coded))
    }
}

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
                        return Err(EncodeError::FrameMismatch {
                            layer: l.name.clone(),
                            frame_index: frame.frame_index,
                            first: format!("{} {:?}", x.input.element_type, x.input.shape),
                            this: format!("{} {:?}", l.element_type, l.shape),
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
