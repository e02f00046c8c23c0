//! tensor_hash() (clause 6.6).

use super::{u, FieldValue, FieldVisitor, SyntaxStructure};
use bitstream_io::{BitRead, FromBitStreamWith};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorHash {
    pub layer_id: u16,
    pub frame_index: u32,
    pub hash_type: u8,
    /// `hash_value`: the rest of the unit payload (32 bytes for SHA-256).
    pub hash_value: Vec<u8>,
}

/// Bytes before `hash_value`.
pub const TENSOR_HASH_HEADER_BYTES: usize = 7;

impl SyntaxStructure for TensorHash {
    const NAME: &'static str = "tensor_hash()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("layer_id", u(16, self.layer_id));
        v.field("frame_index", u(32, self.frame_index));
        v.field("hash_type", u(8, self.hash_type));
        v.field("hash_value", FieldValue::Bytes(&self.hash_value));
    }
}

/// The context is `payload_size` of the enclosing unit.
impl<'a> FromBitStreamWith<'a> for TensorHash {
    type Context = u32;
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R, payload_size: &u32) -> std::io::Result<Self> {
        let layer_id = r.read::<16, u16>()?;
        let frame_index = r.read::<32, u32>()?;
        let hash_type = r.read::<8, u8>()?;
        let rest = (*payload_size as usize)
            .checked_sub(TENSOR_HASH_HEADER_BYTES)
            .ok_or(std::io::ErrorKind::UnexpectedEof)?;
        Ok(TensorHash {
            layer_id,
            frame_index,
            hash_type,
            hash_value: r.read_to_vec(rest)?,
        })
    }
}

super::to_bitstream_from_fields!(TensorHash);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = TensorHash {
            layer_id: 2,
            frame_index: 9,
            hash_type: 0,
            hash_value: (0..32).collect(),
        };
        let size = h.coded_bytes() as u32;
        super::super::round_trip::check(&h, |r| TensorHash::from_reader(r, &size));
    }
}
