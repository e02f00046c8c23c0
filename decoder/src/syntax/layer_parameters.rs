//! layer_parameters() (clause 6.4).

use super::{u, FieldValue, FieldVisitor, SyntaxStructure};
use bitstream_io::{BitRead, FromBitStream};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerParameters {
    pub layer_id: u16,
    pub layer_kind: u8,
    pub element_type: u8,
    pub non_negative_flag: bool,
    pub reserved_zero_7bits: u8,
    pub default_method: u8,
    /// `rank` is `dims.len()`, coded as u(8).
    pub dims: Vec<u32>,
    /// `name_length` is `name.len()`, coded as u(8).
    pub name: Vec<u8>,
}

impl LayerParameters {
    /// Number of elements: the product of the dimensions (saturating, so a hostile shape
    /// cannot overflow before the level check).
    pub fn element_count(&self) -> u64 {
        self.dims
            .iter()
            .fold(1u64, |n, &d| n.saturating_mul(u64::from(d)))
    }

    /// The name as text, with invalid UTF-8 replaced (for display only).
    pub fn name_lossy(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

impl SyntaxStructure for LayerParameters {
    const NAME: &'static str = "layer_parameters()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("layer_id", u(16, self.layer_id));
        v.field("layer_kind", u(8, self.layer_kind));
        v.field("element_type", u(8, self.element_type));
        v.field("non_negative_flag", u(1, self.non_negative_flag));
        v.field("reserved_zero_7bits", u(7, self.reserved_zero_7bits));
        v.field("default_method", u(8, self.default_method));
        v.field("rank", u(8, self.dims.len() as u64));
        for dim in &self.dims {
            v.field("dim", u(32, *dim));
        }
        v.field("name_length", u(8, self.name.len() as u64));
        v.field("name", FieldValue::Utf8(&self.name));
    }
}

impl FromBitStream for LayerParameters {
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R) -> std::io::Result<Self> {
        let layer_id = r.read::<16, u16>()?;
        let layer_kind = r.read::<8, u8>()?;
        let element_type = r.read::<8, u8>()?;
        let non_negative_flag = r.read_bit()?;
        let reserved_zero_7bits = r.read::<7, u8>()?;
        let default_method = r.read::<8, u8>()?;
        let rank = r.read::<8, u8>()?;
        let dims = (0..rank)
            .map(|_| r.read::<32, u32>())
            .collect::<std::io::Result<Vec<_>>>()?;
        let name_length = r.read::<8, u8>()?;
        let name = r.read_to_vec(usize::from(name_length))?;
        Ok(LayerParameters {
            layer_id,
            layer_kind,
            element_type,
            non_negative_flag,
            reserved_zero_7bits,
            default_method,
            dims,
            name,
        })
    }
}

super::to_bitstream_from_fields!(LayerParameters);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        for dims in [
            vec![],
            vec![2],
            vec![64, 56, 56],
            vec![1, 2, 3, 0xFFFF_FFFF],
            vec![7; 9],
        ] {
            let p = LayerParameters {
                layer_id: 513,
                layer_kind: 1,
                element_type: 2,
                non_negative_flag: true,
                reserved_zero_7bits: 0x55,
                default_method: 4,
                dims,
                name: "résnet/pool1".as_bytes().to_vec(),
            };
            super::super::round_trip::check(&p, LayerParameters::from_reader);
        }
    }

    #[test]
    fn element_count_saturates() {
        let p = LayerParameters {
            layer_id: 0,
            layer_kind: 0,
            element_type: 0,
            non_negative_flag: false,
            reserved_zero_7bits: 0,
            default_method: 0,
            dims: vec![u32::MAX; 4],
            name: vec![],
        };
        assert_eq!(p.element_count(), u64::MAX);
    }
}
