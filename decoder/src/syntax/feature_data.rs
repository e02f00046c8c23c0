//! feature_data() (clause 6.5).

use super::{u, FieldValue, FieldVisitor, SyntaxStructure};
use bitstream_io::{BitRead, FromBitStreamWith};

/// Bytes of `layer_id`, `frame_index` and `coding_method`, before `method_payload`.
pub const FEATURE_DATA_HEADER_BYTES: usize = 7;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeatureData {
    pub layer_id: u16,
    pub frame_index: u32,
    pub coding_method: u8,
    /// `method_payload`: the rest of the unit payload.
    pub method_payload: Vec<u8>,
}

impl SyntaxStructure for FeatureData {
    const NAME: &'static str = "feature_data()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("layer_id", u(16, self.layer_id));
        v.field("frame_index", u(32, self.frame_index));
        v.field("coding_method", u(8, self.coding_method));
        v.field("method_payload", FieldValue::Bytes(&self.method_payload));
    }
}

/// The context is `payload_size` of the enclosing unit.
impl<'a> FromBitStreamWith<'a> for FeatureData {
    type Context = u32;
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R, payload_size: &u32) -> std::io::Result<Self> {
        let layer_id = r.read::<16, u16>()?;
        let frame_index = r.read::<32, u32>()?;
        let coding_method = r.read::<8, u8>()?;
        let rest = (*payload_size as usize)
            .checked_sub(FEATURE_DATA_HEADER_BYTES)
            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
        Ok(FeatureData {
            layer_id,
            frame_index,
            coding_method,
            method_payload: r.read_to_vec(rest)?,
        })
    }
}

super::to_bitstream_from_fields!(FeatureData);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for payload in [vec![], vec![0xAA; 37]] {
            let f = FeatureData {
                layer_id: 7,
                frame_index: 0x0102_0304,
                coding_method: 3,
                method_payload: payload,
            };
            let size = f.coded_bytes() as u32;
            super::super::round_trip::check(&f, |r| FeatureData::from_reader(r, &size));
        }
    }
}
