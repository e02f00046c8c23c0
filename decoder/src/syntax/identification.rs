//! identification() (clause 6.1).

use super::{u, FieldValue, FieldVisitor, SyntaxStructure};
use bitstream_io::{BitRead, FromBitStream};

/// The four bytes every DFC stream starts with: 0x89 'D' 'F' 'C' (clause 7.1).
pub const MAGIC: [u8; 4] = [0x89, b'D', b'F', b'C'];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identification {
    pub magic: [u8; 4],
    pub version_major: u8,
    pub version_minor: u8,
}

impl Identification {
    /// The identification this version of the spec writes.
    pub fn current() -> Self {
        Identification {
            magic: MAGIC,
            version_major: crate::VERSION_MAJOR,
            version_minor: crate::VERSION_MINOR,
        }
    }
}

impl SyntaxStructure for Identification {
    const NAME: &'static str = "identification()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("magic", FieldValue::Bytes(&self.magic));
        v.field("version_major", u(8, self.version_major));
        v.field("version_minor", u(8, self.version_minor));
    }
}

impl FromBitStream for Identification {
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R) -> std::io::Result<Self> {
        Ok(Identification {
            magic: r.read_to()?,
            version_major: r.read::<8, u8>()?,
            version_minor: r.read::<8, u8>()?,
        })
    }
}

super::to_bitstream_from_fields!(Identification);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        super::super::round_trip::check(&Identification::current(), |r| {
            Identification::from_reader(r)
        });
        let odd = Identification {
            magic: *b"XXXX",
            version_major: 255,
            version_minor: 7,
        };
        super::super::round_trip::check(&odd, Identification::from_reader);
    }
}
