//! sequence_header() (clause 6.3).

use super::{u, FieldVisitor, SyntaxStructure};
use bitstream_io::{BitRead, FromBitStream};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceHeader {
    pub version_major: u8,
    pub version_minor: u8,
    pub profile_idc: u8,
    pub level_idc: u8,
    pub num_layers: u16,
    pub reserved_zero_16bits: u16,
}

impl SyntaxStructure for SequenceHeader {
    const NAME: &'static str = "sequence_header()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("version_major", u(8, self.version_major));
        v.field("version_minor", u(8, self.version_minor));
        v.field("profile_idc", u(8, self.profile_idc));
        v.field("level_idc", u(8, self.level_idc));
        v.field("num_layers", u(16, self.num_layers));
        v.field("reserved_zero_16bits", u(16, self.reserved_zero_16bits));
    }
}

impl FromBitStream for SequenceHeader {
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R) -> std::io::Result<Self> {
        Ok(SequenceHeader {
            version_major: r.read::<8, u8>()?,
            version_minor: r.read::<8, u8>()?,
            profile_idc: r.read::<8, u8>()?,
            level_idc: r.read::<8, u8>()?,
            num_layers: r.read::<16, u16>()?,
            reserved_zero_16bits: r.read::<16, u16>()?,
        })
    }
}

super::to_bitstream_from_fields!(SequenceHeader);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let h = SequenceHeader {
            version_major: 0,
            version_minor: 1,
            profile_idc: 1,
            level_idc: 20,
            num_layers: 0xABCD,
            reserved_zero_16bits: 0x8001,
        };
        super::super::round_trip::check(&h, SequenceHeader::from_reader);
    }
}
