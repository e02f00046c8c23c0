//! frame_header() (clause 6.11): the start of an access unit.

use super::{u, FieldVisitor, SyntaxStructure};
use bitstream_io::{BitRead, FromBitStream};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    pub frame_index: u32,
    pub random_access: bool,
    pub reserved_zero_7bits: u8,
}

impl SyntaxStructure for FrameHeader {
    const NAME: &'static str = "frame_header()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("frame_index", u(32, self.frame_index));
        v.field("random_access", u(1, self.random_access));
        v.field("reserved_zero_7bits", u(7, self.reserved_zero_7bits));
    }
}

impl FromBitStream for FrameHeader {
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R) -> std::io::Result<Self> {
        Ok(FrameHeader {
            frame_index: r.read::<32, u32>()?,
            random_access: r.read_bit()?,
            reserved_zero_7bits: r.read::<7, u8>()?,
        })
    }
}

super::to_bitstream_from_fields!(FrameHeader);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = FrameHeader {
            frame_index: 0x0102_0304,
            random_access: true,
            reserved_zero_7bits: 0x55,
        };
        super::super::round_trip::check(&h, FrameHeader::from_reader);
    }
}
