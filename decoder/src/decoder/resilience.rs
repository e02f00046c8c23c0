//! Passing over damaged units (informative Annex E), under
//! `DecodeOptions::skip_damaged_units`: a body unit whose CRC fails (REQ-7.2-3) is lost, a
//! feature_data unit whose payload does not decode (clauses 8.3, 8.4) or does not match its
//! hash (REQ-8.5-1) outputs no tensor, and in a sequence the tensors that could depend on a
//! lost one (the layer's, up to the next random-access point, clause 8.7) are not output
//! either. Every other error still stops decoding.

use super::Decoder;
use crate::error::{DecodeError, ErrorClass, Location, Result};
use crate::syntax::{FeatureData, TensorHash};
use crate::types::UnitType;
use crate::units::RawUnit;
use bitstream_io::{BigEndian, BitReader, FromBitStreamWith};
use std::collections::BTreeMap;
use std::io::Read;

/// What was lost: the unit, its error class and requirement.
#[derive(Clone, Copy, Debug)]
struct Loss {
    at: Location,
    class: ErrorClass,
    requirement: &'static str,
}

impl Loss {
    fn of(e: &DecodeError) -> Self {
        Loss {
            at: e.location,
            class: e.class,
            requirement: e.requirement,
        }
    }

    /// The report of a tensor not output because of this loss.
    fn consequence(&self, at: Location, layer: &str, frame: u32, why: &str) -> DecodeError {
        let lost = match self.at {
            Location::Unit { index, offset } => format!("unit {index} (byte {offset})"),
            Location::Identification => "the identification".to_string(),
        };
        DecodeError::new(
            self.class,
            self.requirement,
            at,
            format!("not decoded: {why} {lost}"),
        )
        .in_layer(layer, frame)
    }
}

#[derive(Debug, Default)]
pub(super) struct State {
    /// Every failure passed over, in stream order.
    pub damage: Vec<DecodeError>,
    /// Layers whose reference lists are unreliable until the next random-access point.
    broken: BTreeMap<u16, Loss>,
    /// Every layer's, when the lost unit's layer is unknown.
    all_broken: Option<Loss>,
    /// The rest of the access unit is passed over (its frame_header may be the lost unit).
    lost_access_unit: Option<Loss>,
    /// The tensor_hash unit of a lost feature_data unit, which has nothing to follow.
    orphan_hash: Option<(u16, u32)>,
}

impl State {
    /// At a random-access point the reference lists are emptied (clause 8.7): nothing lost
    /// before it matters any more.
    pub fn at_random_access_point(&mut self) {
        self.broken.clear();
        self.all_broken = None;
    }

    /// Whether a selected layer's tensor must not be decoded because its references were
    /// lost; if so, it is reported.
    pub fn lost_references(&mut self, layer_id: u16, at: Location, name: &str, frame: u32) -> bool {
        let Some(loss) = self.broken.get(&layer_id).or(self.all_broken.as_ref()) else {
            return false;
        };
        let report = loss.consequence(
            at,
            name,
            frame,
            "its reference tensors may be lost (until the next random-access point) with",
        );
        self.damage.push(report);
        true
    }
}

impl<R: Read> Decoder<R> {
    fn layer_name(&self, layer_id: u16) -> Option<&str> {
        self.info
            .as_ref()?
            .layers
            .get(usize::from(layer_id))
            .map(|l| l.name.as_str())
    }

    /// A unit that could not be read: passed over if its CRC failed, else the error stands.
    /// Either way a CRC error names the layer and frame the damaged unit claims.
    pub(super) fn pass_over_damaged_unit(&mut self, e: DecodeError) -> Result<()> {
        if e.requirement != "REQ-7.2-3" {
            return Err(e);
        }
        let Some(raw) = self.units.take_damaged() else {
            return Err(e);
        };
        let payload: &[u8] = &raw.unit.payload;
        let size = raw.unit.payload_size;
        let mut r = BitReader::endian(payload, BigEndian);
        let ty = UnitType::from_code(raw.unit.unit_type);
        let claimed = match ty {
            Some(UnitType::FeatureData) => FeatureData::from_reader(&mut r, &size)
                .ok()
                .map(|u| (u.layer_id, u.frame_index)),
            Some(UnitType::TensorHash) => TensorHash::from_reader(&mut r, &size)
                .ok()
                .map(|u| (u.layer_id, u.frame_index)),
            _ => None,
        };
        let claimed = claimed.and_then(|(l, f)| Some((l, f, self.layer_name(l)?.to_string())));
        let mut e = e;
        if let Some((_, frame, name)) = &claimed {
            e = e.in_layer(name, *frame);
            e.message
                .push_str(" (layer and frame as the damaged unit gives them)");
        }
        if !self.options.skip_damaged_units {
            return Err(e);
        }
        self.previous_feature = None;
        let loss = Loss::of(&e);
        let sequence = self.current_frame.is_some() || ty == Some(UnitType::FrameHeader);
        match claimed {
            Some((layer_id, frame, _)) if ty == Some(UnitType::FeatureData) => {
                self.resilience.orphan_hash = Some((layer_id, frame));
                if sequence {
                    self.resilience.broken.insert(layer_id, loss);
                }
            }
            // A damaged tensor_hash unit: its tensor is delivered unverified.
            Some(_) => {}
            None if sequence => {
                self.resilience.all_broken = Some(loss);
                self.resilience.lost_access_unit = Some(loss);
            }
            None => {}
        }
        self.resilience.damage.push(e);
        Ok(())
    }

    /// A unit that was read but failed: passed over if only its tensor is wrong (its
    /// payload does not decode, or does not match its hash), else the error stands.
    pub(super) fn pass_over_failed_unit(&mut self, e: DecodeError) -> Result<()> {
        let tensor_only = e.requirement.starts_with("REQ-8.3")
            || e.requirement == "REQ-8.4-1"
            || e.requirement == "REQ-8.5-1";
        let Some(name) = e.layer.clone().filter(|_| tensor_only) else {
            return Err(e);
        };
        if !self.options.skip_damaged_units {
            return Err(e);
        }
        // A tensor that fails its hash is not output.
        self.held = None;
        if self.current_frame.is_some() {
            if let Some(layer) = self.info.as_ref().and_then(|i| i.layer_by_name(&name)) {
                self.resilience.broken.insert(layer.id, Loss::of(&e));
            }
        }
        self.resilience.damage.push(e);
        Ok(())
    }

    /// Whether a body unit is passed over because of an earlier loss.
    pub(super) fn passes_over(&mut self, raw: &RawUnit) -> bool {
        let orphan = self.resilience.orphan_hash.take();
        let payload: &[u8] = &raw.unit.payload;
        let size = raw.unit.payload_size;
        let mut r = BitReader::endian(payload, BigEndian);
        match raw.unit_type() {
            Some(UnitType::FrameHeader) => {
                self.resilience.lost_access_unit = None;
                false
            }
            Some(UnitType::TensorHash) => {
                let of = TensorHash::from_reader(&mut r, &size)
                    .ok()
                    .map(|u| (u.layer_id, u.frame_index));
                self.resilience.lost_access_unit.is_some() || (orphan.is_some() && of == orphan)
            }
            Some(UnitType::FeatureData) => {
                let Some(loss) = self.resilience.lost_access_unit else {
                    return false;
                };
                if let Ok(u) = FeatureData::from_reader(&mut r, &size) {
                    let name = self.layer_name(u.layer_id).unwrap_or("?").to_string();
                    let report = loss.consequence(
                        raw.location(),
                        &name,
                        u.frame_index,
                        "passed over with the rest of its access unit, which lost",
                    );
                    self.resilience.damage.push(report);
                }
                true
            }
            _ => false,
        }
    }
}
