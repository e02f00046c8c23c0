//! DFC's quantized coding method as rate–distortion configurations. The rate is the method
//! payload alone: a stream adds its container (layer parameters, unit headers) to it.

use super::configs::{Coded, Config, TensorData};
use anyhow::{anyhow, ensure};
use dfc_decoder::native::TensorDesc;
use dfc_decoder::{CodingMethod, ElementType};
use dfc_encoder::{
    encode_quantized, ChannelMode, LossyOptions, QuantTarget, Quantizer, StepScale, TensorRef,
};

/// qp range rd sweeps: steps from 2^12 times the scale (RMS or peak) down to 2^-17 times it.
const QP: std::ops::RangeInclusive<i32> = -96..=136;
/// Codebook sizes (bits) rd sweeps at most.
const CODEBOOK_BITS: std::ops::RangeInclusive<i32> = 1..=12;

/// One way of calling the quantized method.
pub struct Dfc {
    name: &'static str,
    quantizer: Quantizer,
    channels: ChannelMode,
    /// Rate–distortion optimized rounding (else nearest).
    rdo: bool,
    /// MED intra prediction of maps where it pays.
    intra: bool,
    /// What qp's steps are relative to.
    scale: StepScale,
    /// Values within this many steps of zero take level 0.
    zero_threshold: f64,
}

/// DFC's default options (nearest rounding, RMS-relative steps, intra prediction, one step
/// per tensor), the base that each other configuration changes one thing of.
const DEFAULT: Dfc = Dfc {
    name: "dfc",
    quantizer: Quantizer::Uniform,
    channels: ChannelMode::PerTensor,
    rdo: false,
    intra: true,
    scale: StepScale::Rms,
    zero_threshold: 0.5,
};

/// The DFC configurations: the default options (`dfc`), then one tool changed at a time: RDO
/// rounding, peak-relative steps, no intra prediction, one step per channel, and a codebook.
pub fn all() -> Vec<Box<dyn Config>> {
    vec![
        Box::new(DEFAULT),
        Box::new(Dfc {
            name: "dfc-rdo",
            rdo: true,
            ..DEFAULT
        }),
        Box::new(Dfc {
            name: "dfc-peak",
            scale: StepScale::Peak,
            ..DEFAULT
        }),
        Box::new(Dfc {
            name: "dfc-z40",
            zero_threshold: 0.4,
            ..DEFAULT
        }),
        Box::new(Dfc {
            name: "dfc-no-intra",
            intra: false,
            ..DEFAULT
        }),
        Box::new(Dfc {
            name: "dfc-channel",
            channels: ChannelMode::PerChannel,
            ..DEFAULT
        }),
        Box::new(Dfc {
            name: "dfc-codebook",
            quantizer: Quantizer::Codebook,
            channels: ChannelMode::Auto,
            ..DEFAULT
        }),
    ]
}

impl Dfc {
    fn options(&self, point: i32) -> LossyOptions {
        let target = match self.quantizer {
            Quantizer::Uniform => QuantTarget::Qp(f64::from(point)),
            Quantizer::Codebook => QuantTarget::Bits(point as u8),
        };
        LossyOptions {
            target,
            quantizer: self.quantizer,
            channels: self.channels,
            rdo: self.rdo,
            intra: self.intra,
            scale: self.scale,
            zero_threshold: self.zero_threshold,
        }
    }
}

impl Config for Dfc {
    fn name(&self) -> &str {
        self.name
    }

    fn settings(&self) -> String {
        let quantizer = match (self.quantizer, self.channels) {
            (Quantizer::Codebook, _) => "codebook of 2^b values (Lloyd–Max), target Bits(b)",
            (Quantizer::Uniform, ChannelMode::PerChannel) => {
                "uniform, one step per channel = the channel's scale · 2^(−qp/8)"
            }
            (Quantizer::Uniform, _) => "uniform, one step per tensor = scale · 2^(−qp/8)",
        };
        let scale = match self.scale {
            StepScale::Rms => "scale = RMS",
            StepScale::Peak => "scale = peak",
        };
        let rounding = if self.rdo {
            "RDO rounding"
        } else {
            "nearest rounding"
        };
        let intra = if self.intra {
            "MED intra prediction per map where it pays"
        } else {
            "no prediction"
        };
        let zeros = if self.zero_threshold == 0.5 {
            String::new()
        } else {
            format!(", level 0 within {} steps of zero", self.zero_threshold)
        };
        let how = format!("{quantizer}, {scale}, {rounding}{zeros}, {intra}");
        format!("DFC quantized method (dfc_encoder::encode_quantized, one thread): {how}; rate = method payload bytes, no container; decoded with the reference decoder")
    }

    fn parameter(&self) -> &'static str {
        match self.quantizer {
            Quantizer::Uniform => "qp",
            Quantizer::Codebook => "b",
        }
    }

    fn default_points(&self) -> Vec<i32> {
        match self.quantizer {
            // Peak-relative steps need about 8 log2(peak / RMS), 24 to 48, more qp for one error.
            Quantizer::Uniform if self.scale == StepScale::Peak => {
                (1..=24).map(|i| i * 4).collect()
            }
            Quantizer::Uniform => (-8..=16).map(|i| i * 4).collect(),
            Quantizer::Codebook => (2..=8).collect(),
        }
    }

    fn check_point(&self, point: i32) -> anyhow::Result<()> {
        let range = match self.quantizer {
            Quantizer::Uniform => QP,
            Quantizer::Codebook => CODEBOOK_BITS,
        };
        ensure!(
            range.contains(&point),
            "{}: {}={point} is outside {}..={}",
            self.name,
            self.parameter(),
            range.start(),
            range.end()
        );
        Ok(())
    }

    fn code(&self, tensor: &TensorData<'_>, point: i32) -> anyhow::Result<Coded> {
        self.check_point(point)?;
        let input = TensorRef {
            element_type: ElementType::Float32,
            shape: tensor.shape,
            data: tensor.bytes,
        };
        let payload = encode_quantized(&input, tensor.non_negative, &self.options(point), 1)
            .map_err(|e| anyhow!("the quantized method cannot code the tensor: {e}"))?;
        let desc = TensorDesc {
            element_type: ElementType::Float32,
            shape: tensor.shape,
            non_negative: tensor.non_negative,
        };
        let decoded =
            dfc_decoder::methods::decode_payload(CodingMethod::Quantized, &payload, &desc, 1)
                .map_err(|e| {
                    anyhow!(
                        "the reference decoder rejects the quantized payload: {} [{}]",
                        e.message,
                        e.requirement
                    )
                })?;
        ensure!(
            decoded.len() == tensor.bytes.len(),
            "the decoder returned {} bytes for a tensor of {}",
            decoded.len(),
            tensor.bytes.len()
        );
        Ok(Coded {
            bytes: payload.len() as u64,
            reconstruction: decoded
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finer_steps_cost_more_and_err_less() {
        let values: Vec<f32> = (0..4096)
            .map(|i| ((i as f32 * 0.013).sin() * 5.0).max(0.0))
            .collect();
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let shape = [4u32, 32, 32];
        let t = TensorData {
            shape: &shape,
            values: &values,
            bytes: &bytes,
            non_negative: true,
        };
        for config in all() {
            let points = config.default_points();
            // Two points in the middle of the range, where neither is all zeros.
            let mid = points.len() / 2;
            let coded: Vec<Coded> = [points[mid - 2], points[mid + 1]]
                .iter()
                .map(|&p| config.code(&t, p).unwrap())
                .collect();
            let d: Vec<f64> = coded
                .iter()
                .map(|c| super::super::metrics::distortion(&values, &c.reconstruction).psnr_db)
                .collect();
            assert!(coded[1].bytes > coded[0].bytes, "{}", config.name());
            assert!(d[1] > d[0], "{}: {d:?}", config.name());
        }
    }

    #[test]
    fn points_are_checked() {
        let c = &all()[0];
        assert!(c.check_point(200).is_err());
        assert!(c.check_point(-97).is_err());
        assert!(c.check_point(-1).is_ok());
        let codebook = all()
            .into_iter()
            .find(|c| c.name() == "dfc-codebook")
            .unwrap();
        assert!(codebook.check_point(0).is_err());
    }
}
