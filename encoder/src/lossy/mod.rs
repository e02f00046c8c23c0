//! The encoder of the quantized method (spec clause 8.3.7; choices in Annex C): picks the
//! quantizer and its parameters from a target (bits, qp, PSNR or bits per element), quantizes
//! and codes the levels. Deterministic: same input and options, same bytes.

mod coder;
mod quantizer;
mod search;

use crate::methods::{is_non_negative, TensorRef};
use coder::{encode_levels, LevelTensor, PredictionChoice, QuantizerSyntax};
use dfc_decoder::quant::model::{is_float_type, to_element};
use dfc_decoder::quant::syntax::{Codebook, UniformParameters};
use dfc_decoder::ElementType;
pub use quantizer::{level_bits, CodebookQuantizer, Uniform};

/// What the encoder aims at for a layer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum QuantTarget {
    /// Levels of this many bits over the tensor's range (uniform), or 2^bits codewords.
    Bits(u8),
    /// Step = scale × 2^(−qp/8), the scale being the tensor's (or, per channel, the
    /// channel's) RMS or peak magnitude ([`StepScale`]): 8 more qp halve the step.
    Qp(f64),
    /// The coarsest quantizer whose PSNR over the tensor's peak is at least this many dB.
    Psnr(f64),
    /// The finest quantizer that codes the tensor in at most this many bits per element.
    BitsPerElement(f64),
}

/// The reconstruction rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantizer {
    /// offset + level × step.
    Uniform,
    /// A table of values fitted to the tensor (Lloyd–Max).
    Codebook,
}

/// Whether uniform steps are per tensor or per channel (per index of dim[0]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelMode {
    /// Per channel when it gives fewer bytes for a PSNR or rate target; per tensor otherwise.
    Auto,
    PerTensor,
    PerChannel,
}

/// What a qp's step is relative to (Annex C).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepScale {
    /// The root mean square of the values: one qp gives about the same relative error
    /// (signal-to-noise ratio) on every tensor, which is what keeps an analysis task at one
    /// setting across inputs (measured on the dev corpus: a higher ratio at the task-holding
    /// point on every ResNet layer than peak-relative steps).
    Rms,
    /// The largest magnitude: one qp gives about the same PSNR over the peak.
    Peak,
}

/// Options of the quantized method.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossyOptions {
    pub target: QuantTarget,
    pub quantizer: Quantizer,
    pub channels: ChannelMode,
    /// Rate–distortion optimized rounding of uniform levels (else nearest). Off by default:
    /// at equal PSNR it saves bits, but at the rate where an analysis task holds it loses
    /// (its errors hurt the task more per dB; docs/lossy.md).
    pub rdo: bool,
    /// Lets each map be coded as residuals of the MED intra prediction where that is cheaper.
    pub intra: bool,
    /// What `QuantTarget::Qp` steps are relative to.
    pub scale: StepScale,
    /// Uniform levels: values within this many steps of zero take level 0 (0.5, the
    /// default, is nearest rounding; below 0.5 fewer values vanish, above more).
    pub zero_threshold: f64,
}

impl Default for LossyOptions {
    fn default() -> Self {
        LossyOptions {
            target: QuantTarget::Bits(8),
            quantizer: Quantizer::Uniform,
            channels: ChannelMode::Auto,
            rdo: false,
            intra: true,
            scale: StepScale::Rms,
            zero_threshold: 0.5,
        }
    }
}

/// Why a tensor cannot be coded with the options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LossyError {
    /// The quantized method codes float layers only (REQ-8.3.7-2).
    NotFloat(ElementType),
    /// The option does not apply, e.g. a qp for a codebook.
    Unsupported(String),
    /// A NaN or an infinity: levels reconstruct finite values only.
    NonFinite { index: usize },
}

impl std::fmt::Display for LossyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LossyError::NotFloat(t) => {
                write!(f, "the quantized method codes float layers, not {t}")
            }
            LossyError::Unsupported(m) => f.write_str(m),
            LossyError::NonFinite { index } => write!(
                f,
                "element {index} is a NaN or an infinity; the quantized method codes finite values (use a lossless method)"
            ),
        }
    }
}

impl std::error::Error for LossyError {}

/// Multiplier of step² in the rate–distortion cost of RDO rounding: 2 ln 2 / 12, the slope of
/// the distortion–rate curve of a uniform quantizer at high rate.
pub const RDO_LAMBDA_SCALE: f64 = 0.1155;
/// Bits a residual of ±1 is taken to cost over a zero one in an inter map, for the inter-aware
/// rounding (Annex C). Chosen by measurement (`dfc rd --sequences`, BD-rate of inter against no
/// prediction on the dev sequences: 0 bits −29.6 % on res3d, 3 bits −34.9 % mean, 5 bits −35.3 %,
/// 8 bits −35.2 %).
pub const INTER_RESIDUAL_BITS: f64 = 5.0;

/// The tensor's elements as binary32 values.
pub fn float_values(tensor: &TensorRef<'_>) -> Result<Vec<f32>, LossyError> {
    let d = tensor.data;
    Ok(match tensor.element_type {
        ElementType::Float32 => d
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect(),
        ElementType::Float16 => d
            .chunks_exact(2)
            .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        ElementType::BFloat16 => d
            .chunks_exact(2)
            .map(|c| half::bf16::from_le_bytes([c[0], c[1]]).to_f32())
            .collect(),
        t => return Err(LossyError::NotFloat(t)),
    })
}

/// Distortion of a reconstruction against the original.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Distortion {
    pub mse: f64,
    /// 10 log10(peak² / MSE), peak = largest magnitude of the original; infinite when exact.
    pub psnr: f64,
    pub cosine: f64,
}

/// MSE, PSNR over the original's peak, and cosine similarity.
pub fn distortion(original: &[f32], decoded: &[f32]) -> Distortion {
    let (mut se, mut dot, mut no, mut nd, mut peak) = (0f64, 0f64, 0f64, 0f64, 0f64);
    for (&a, &b) in original.iter().zip(decoded) {
        let (a, b) = (f64::from(a), f64::from(b));
        se += (a - b) * (a - b);
        dot += a * b;
        no += a * a;
        nd += b * b;
        peak = peak.max(a.abs());
    }
    let mse = se / original.len().max(1) as f64;
    let psnr = if mse == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (peak * peak / mse).log10()
    };
    let cosine = if no == 0.0 || nd == 0.0 {
        if no == nd {
            1.0
        } else {
            0.0
        }
    } else {
        dot / (no.sqrt() * nd.sqrt())
    };
    Distortion { mse, psnr, cosine }
}

/// A quantizer with its parameters, as chosen for a tensor.
#[derive(Clone, Debug, PartialEq)]
enum FixedQuantizer {
    Uniform(Uniform),
    Codebook(CodebookQuantizer),
}

/// One candidate encoding: its payload, what the decoder will output, its levels and its
/// quantizer.
struct Candidate {
    payload: Vec<u8>,
    decoded: Vec<f32>,
    levels: Vec<i32>,
    quantizer: FixedQuantizer,
}

/// Per parameter set (scale of qp's steps, largest magnitude), and the elements of a set.
type SetScales = (Vec<(f64, f64)>, usize);

struct Job<'a> {
    values: Vec<f32>,
    shape: &'a [u32],
    element_type: ElementType,
    signed: bool,
    options: LossyOptions,
    threads: usize,
    /// The levels of the previous frame of the layer, for inter prediction.
    reference: Option<&'a [i32]>,
    /// [`Job::scales`] per tensor and per channel, computed once.
    scales: [std::cell::OnceCell<SetScales>; 2],
}

impl<'a> Job<'a> {
    /// A job for a float tensor without NaN or infinity; `signed` chooses signed levels.
    fn new(
        tensor: &TensorRef<'a>,
        signed: bool,
        options: &LossyOptions,
        threads: usize,
        reference: Option<&'a [i32]>,
    ) -> Result<Self, LossyError> {
        if !is_float_type(tensor.element_type) {
            return Err(LossyError::NotFloat(tensor.element_type));
        }
        let values = float_values(tensor)?;
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(LossyError::NonFinite { index });
        }
        Ok(Job {
            values,
            shape: tensor.shape,
            element_type: tensor.element_type,
            signed,
            options: *options,
            threads,
            reference,
            scales: Default::default(),
        })
    }

    /// Per parameter set, the scale of qp's steps and the largest magnitude, and the number
    /// of elements of a set.
    fn scales(&self, per_channel: bool) -> &SetScales {
        self.scales[usize::from(per_channel)].get_or_init(|| self.compute_scales(per_channel))
    }

    fn compute_scales(&self, per_channel: bool) -> SetScales {
        let sets = if per_channel {
            self.shape[0] as usize
        } else {
            1
        };
        let set_len = (self.values.len() / sets.max(1)).max(1);
        let scales = self
            .values
            .chunks(set_len)
            .map(|c| {
                let peak = f64::from(c.iter().fold(0f32, |m, v| m.max(v.abs())));
                let scale = match self.options.scale {
                    StepScale::Peak => peak,
                    StepScale::Rms => {
                        let sum: f64 = c.iter().map(|&v| f64::from(v) * f64::from(v)).sum();
                        (sum / c.len() as f64).sqrt()
                    }
                };
                (scale, peak)
            })
            .collect();
        (scales, set_len)
    }

    /// A uniform quantizer with step = scale × 2^(−qp/8) per set (qp may be fractional while
    /// searching), never finer than 16-bit levels need.
    fn uniform_at(&self, qp: f64, per_channel: bool) -> Uniform {
        let (scales, set_len) = self.scales(per_channel);
        let set_len = *set_len;
        let max_level = if self.signed { 32767.0 } else { 65535.0 };
        let sets = scales
            .iter()
            .map(|&(scale, peak)| {
                let step = if peak > 0.0 {
                    (scale * (-qp / 8.0).exp2()).max(peak / max_level)
                } else {
                    1.0
                };
                ((step as f32).min(f32::MAX), 0.0f32)
            })
            .collect();
        Uniform {
            sets,
            set_len,
            signed: self.signed,
            zero_threshold: self.options.zero_threshold,
        }
    }

    /// The levels `q` gives: nearest or RDO rounding, then, with RDO and a reference, the
    /// inter-aware snapping (Annex C).
    fn levels_of(&self, q: &Uniform) -> Vec<i32> {
        let mut levels = if self.options.rdo {
            q.quantize_rdo(&self.values, self.shape, RDO_LAMBDA_SCALE)
        } else {
            q.quantize_nearest(&self.values)
        };
        if let (true, Some(reference)) = (self.options.rdo, self.reference) {
            q.snap_to_reference(
                &self.values,
                &mut levels,
                reference,
                RDO_LAMBDA_SCALE,
                INTER_RESIDUAL_BITS,
            );
        }
        levels
    }

    fn encode_uniform(&self, q: &Uniform) -> Candidate {
        self.encode_uniform_levels(q, self.levels_of(q))
    }

    fn encode_uniform_levels(&self, q: &Uniform, levels: Vec<i32>) -> Candidate {
        let decoded = levels
            .iter()
            .enumerate()
            .map(|(i, &l)| self.as_output(q.reconstruct(l, i / q.set_len)))
            .collect();
        let syntax = QuantizerSyntax::Uniform(UniformParameters {
            params: q
                .sets
                .iter()
                .map(|&(s, o)| (s.to_bits(), o.to_bits()))
                .collect(),
        });
        let payload = encode_levels(
            &LevelTensor {
                shape: self.shape,
                levels: &levels,
                level_bits: level_bits(&levels, self.signed),
                signed: self.signed,
                per_channel: q.set_len < self.values.len() || q.sets.len() > 1,
                quantizer: &syntax,
            },
            self.prediction(),
            self.threads,
        );
        Candidate {
            payload,
            decoded,
            levels,
            quantizer: FixedQuantizer::Uniform(q.clone()),
        }
    }

    fn prediction(&self) -> PredictionChoice<'_> {
        PredictionChoice {
            intra: self.options.intra,
            reference: self.reference,
        }
    }

    fn encode_codebook(&self, bits: u8) -> Candidate {
        let size = 1usize << bits.clamp(1, 16);
        self.encode_with_codebook(CodebookQuantizer::fit(&self.values, size))
    }

    fn encode_with_codebook(&self, book: CodebookQuantizer) -> Candidate {
        let levels = book.quantize(&self.values);
        let decoded = levels
            .iter()
            .map(|&l| self.as_output(book.codewords[l as usize]))
            .collect();
        let syntax = QuantizerSyntax::Codebook(Codebook {
            codewords: book.codewords.iter().map(|c| c.to_bits()).collect(),
        });
        let bits = level_bits(&[book.codewords.len() as i32 - 1], false);
        let payload = encode_levels(
            &LevelTensor {
                shape: self.shape,
                levels: &levels,
                level_bits: bits,
                signed: false,
                per_channel: false,
                quantizer: &syntax,
            },
            self.prediction(),
            self.threads,
        );
        Candidate {
            payload,
            decoded,
            levels,
            quantizer: FixedQuantizer::Codebook(book),
        }
    }

    /// A reconstruction as the decoder outputs it, read back as binary32.
    fn as_output(&self, v: f32) -> f32 {
        match self.element_type {
            ElementType::Float16 => {
                half::f16::from_bits(to_element(v, self.element_type) as u16).to_f32()
            }
            ElementType::BFloat16 => {
                half::bf16::from_bits(to_element(v, self.element_type) as u16).to_f32()
            }
            _ => v,
        }
    }

    fn psnr(&self, c: &Candidate) -> f64 {
        distortion(&self.values, &c.decoded).psnr
    }

    /// The step modes the options allow: per tensor (`false`), per channel (`true`).
    fn modes(&self) -> &'static [bool] {
        match (self.options.channels, self.shape.len() >= 2) {
            (ChannelMode::PerChannel, _) => &[true],
            (ChannelMode::Auto, true) => &[false, true],
            _ => &[false],
        }
    }

    fn run(&self) -> Result<Candidate, LossyError> {
        let o = self.options;
        let modes = self.modes();
        match (o.quantizer, o.target) {
            (Quantizer::Uniform, QuantTarget::Qp(qp)) => {
                Ok(self.encode_uniform(&self.uniform_at(qp, modes == [true])))
            }
            (Quantizer::Uniform, QuantTarget::Bits(b)) => {
                let b = b.clamp(1, 16);
                let per_channel = modes == [true];
                let (scales, set_len) = self.scales(per_channel);
                let set_len = *set_len;
                let levels = if self.signed {
                    ((1u32 << (b - 1)) - 1).max(1)
                } else {
                    (1u32 << b) - 1
                };
                let sets = scales
                    .iter()
                    .map(|&(_, p)| {
                        let p = p as f32;
                        (if p > 0.0 { p / levels as f32 } else { 1.0 }, 0.0)
                    })
                    .collect();
                Ok(self.encode_uniform(&Uniform {
                    sets,
                    set_len,
                    signed: self.signed,
                    zero_threshold: self.options.zero_threshold,
                }))
            }
            (Quantizer::Uniform, QuantTarget::Psnr(t)) => Ok(self.uniform_for_psnr(t, modes)),
            (Quantizer::Uniform, QuantTarget::BitsPerElement(t)) => {
                Ok(self.uniform_for_rate(t, modes))
            }
            (Quantizer::Codebook, QuantTarget::Bits(b)) => Ok(self.encode_codebook(b)),
            (Quantizer::Codebook, QuantTarget::Psnr(t)) => {
                let mut last = self.encode_codebook(1);
                for b in 1..=16 {
                    last = self.encode_codebook(b);
                    if self.psnr(&last) >= t {
                        break;
                    }
                }
                Ok(last)
            }
            (Quantizer::Codebook, QuantTarget::BitsPerElement(t)) => {
                let budget = t * self.values.len() as f64;
                let mut best = self.encode_codebook(1);
                for b in 2..=16 {
                    let c = self.encode_codebook(b);
                    if 8.0 * c.payload.len() as f64 > budget {
                        break;
                    }
                    best = c;
                }
                Ok(best)
            }
            (Quantizer::Codebook, QuantTarget::Qp(_)) => Err(LossyError::Unsupported(
                "a codebook takes a number of bits, a PSNR or a rate target, not a qp".into(),
            )),
        }
    }
}

/// Codes a float tensor with the quantized method and returns the method payload.
/// `non_negative` must be the layer's `non_negative_flag`: levels are then unsigned.
pub fn encode_quantized(
    tensor: &TensorRef<'_>,
    non_negative: bool,
    options: &LossyOptions,
    threads: usize,
) -> Result<Vec<u8>, LossyError> {
    Ok(encode_quantized_with_output(tensor, non_negative, options, threads)?.0)
}

/// As [`encode_quantized`], also returning the decoder's output as binary32 values.
pub fn encode_quantized_with_output(
    tensor: &TensorRef<'_>,
    non_negative: bool,
    options: &LossyOptions,
    threads: usize,
) -> Result<(Vec<u8>, Vec<f32>), LossyError> {
    let signed = !(non_negative && is_non_negative(tensor.element_type, tensor.data));
    let c = Job::new(tensor, signed, options, threads, None)?.run()?;
    Ok((c.payload, c.decoded))
}

/// What the encoder keeps of a quantized layer between the frames of a sequence (Annex C): the
/// quantizer chosen at the last random-access frame and the levels of the previous frame.
#[derive(Clone, Debug, Default)]
pub struct SequenceState {
    quantizer: Option<FixedQuantizer>,
    reference: Option<Vec<i32>>,
}

impl SequenceState {
    /// Forgets everything: the next frame is coded as at a random-access point.
    pub fn reset(&mut self) {
        *self = SequenceState::default();
    }

    /// At a random-access point, chooses the quantizer of the layer's frames up to the next
    /// one, `frames` (the random-access frame first), where one choice serves them all: for
    /// a PSNR target with uniform steps, the finest of the steps each frame needs, so that
    /// every frame meets the target (one quantizer per group, since inter prediction codes
    /// differences of levels; Annex C). With other targets the random-access frame chooses
    /// alone, as without a plan. Call after [`SequenceState::reset`].
    pub fn plan(
        &mut self,
        frames: &[TensorRef<'_>],
        non_negative: bool,
        options: &LossyOptions,
        threads: usize,
    ) -> Result<(), LossyError> {
        let (QuantTarget::Psnr(target), Quantizer::Uniform) = (options.target, options.quantizer)
        else {
            return Ok(());
        };
        let jobs = frames
            .iter()
            .map(|t| Job::new(t, !non_negative, options, threads, None))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(q) = search::uniform_for_psnr_of_frames(&jobs, target) {
            self.quantizer = Some(FixedQuantizer::Uniform(q));
        }
        Ok(())
    }
}

/// Codes one frame of a quantized layer in a sequence. At a random-access point (a reset
/// `state`) the quantizer is chosen from `options` and no map is inter predicted; later frames
/// keep that quantizer, and with `inter` their maps may be predicted from the previous frame's
/// levels (`ref_distance` 1). Returns the payload and the decoder's output.
pub fn encode_quantized_frame(
    tensor: &TensorRef<'_>,
    non_negative: bool,
    options: &LossyOptions,
    state: &mut SequenceState,
    inter: bool,
    threads: usize,
) -> Result<(Vec<u8>, Vec<f32>), LossyError> {
    let reference = state.reference.take();
    let elements = tensor.data.len() / tensor.element_type.size();
    let reference = reference
        .as_deref()
        .filter(|r| inter && r.len() == elements);
    let job = Job::new(tensor, !non_negative, options, threads, reference)?;
    let c = match &state.quantizer {
        None => job.run()?,
        Some(FixedQuantizer::Uniform(q)) => {
            let mut q = q.clone();
            q.signed = job.signed;
            job.encode_uniform(&q)
        }
        Some(FixedQuantizer::Codebook(book)) => job.encode_with_codebook(book.clone()),
    };
    state.quantizer = Some(c.quantizer);
    state.reference = Some(c.levels);
    Ok((c.payload, c.decoded))
}
