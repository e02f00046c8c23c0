//! unit() (clause 6.2): unit_type, payload_size, the payload, unit_crc.

use super::{u, FieldValue, FieldVisitor, SyntaxStructure};
use bitstream_io::{BitRead, FromBitStreamWith};

/// Bytes of `unit_type` and `payload_size`.
pub const UNIT_HEADER_BYTES: usize = 5;
/// Bytes of `unit_crc`.
pub const UNIT_TRAILER_BYTES: usize = 4;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    pub unit_type: u8,
    pub payload_size: u32,
    pub payload: Vec<u8>,
    pub unit_crc: u32,
}

impl Unit {
    /// A unit around `payload` with a correct `payload_size` and `unit_crc`.
    pub fn new(unit_type: u8, payload: Vec<u8>) -> Self {
        let payload_size =
            u32::try_from(payload.len()).expect("unit payloads are below 4 GiB (Annex A)");
        let unit_crc = Self::crc_of(unit_type, payload_size, &payload);
        Unit {
            unit_type,
            payload_size,
            payload,
            unit_crc,
        }
    }

    /// CRC-32 (ISO-HDLC, as in zlib and PNG) over `unit_type`, `payload_size` and the payload
    /// (clause 7.2).
    pub fn crc_of(unit_type: u8, payload_size: u32, payload: &[u8]) -> u32 {
        let mut h = crc32fast::Hasher::new();
        h.update(&[unit_type]);
        h.update(&payload_size.to_be_bytes());
        h.update(payload);
        h.finalize()
    }

    /// Whether `unit_crc` matches the rest of the unit.
    pub fn crc_matches(&self) -> bool {
        self.unit_crc == Self::crc_of(self.unit_type, self.payload_size, &self.payload)
    }

    /// Total coded size: header, payload and CRC.
    pub fn coded_len(&self) -> u64 {
        (UNIT_HEADER_BYTES + UNIT_TRAILER_BYTES) as u64 + self.payload.len() as u64
    }
}

impl SyntaxStructure for Unit {
    const NAME: &'static str = "unit()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("unit_type", u(8, self.unit_type));
        v.field("payload_size", u(32, self.payload_size));
        v.field("unit_payload", FieldValue::Bytes(&self.payload));
        v.field("unit_crc", u(32, self.unit_crc));
    }
}

/// Why a unit could not be read.
#[derive(Debug)]
pub enum UnitReadError {
    /// The reader failed, or ended inside the unit.
    Io(std::io::Error),
    /// `payload_size` exceeds the limit passed in; nothing was allocated.
    TooLarge { unit_type: u8, payload_size: u32 },
}

impl From<std::io::Error> for UnitReadError {
    fn from(e: std::io::Error) -> Self {
        UnitReadError::Io(e)
    }
}

/// Reads a unit whose `payload_size` may not exceed the given maximum: the size is checked
/// before the payload is allocated (clause 7.2, Annex A).
impl<'a> FromBitStreamWith<'a> for Unit {
    type Context = u32;
    type Error = UnitReadError;
    fn from_reader<R: BitRead + ?Sized>(
        r: &mut R,
        max_payload: &u32,
    ) -> Result<Self, UnitReadError> {
        let unit_type = r.read::<8, u8>()?;
        let payload_size = r.read::<32, u32>()?;
        if payload_size > *max_payload {
            return Err(UnitReadError::TooLarge {
                unit_type,
                payload_size,
            });
        }
        let payload = r.read_to_vec(payload_size as usize)?;
        let unit_crc = r.read::<32, u32>()?;
        Ok(Unit {
            unit_type,
            payload_size,
            payload,
            unit_crc,
        })
    }
}

super::to_bitstream_from_fields!(Unit);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let unit = Unit::new(0x03, vec![1, 2, 3, 4, 5]);
        assert!(unit.crc_matches());
        super::super::round_trip::check(&unit, |r| {
            Unit::from_reader(r, &16).map_err(|e| match e {
                UnitReadError::Io(e) => e,
                UnitReadError::TooLarge { .. } => panic!("limit"),
            })
        });
        super::super::round_trip::check(&Unit::new(0x06, vec![]), |r| {
            Unit::from_reader(r, &0).map_err(|_| std::io::ErrorKind::Other.into())
        });
    }

    #[test]
    fn size_checked_before_reading_payload() {
        let bytes = Unit::new(0x03, vec![0; 100]).to_bytes();
        let mut r = bitstream_io::BitReader::endian(&bytes[..], bitstream_io::BigEndian);
        assert!(matches!(
            Unit::from_reader(&mut r, &99),
            Err(UnitReadError::TooLarge {
                unit_type: 3,
                payload_size: 100
            })
        ));
    }

    #[test]
    fn crc_covers_header_and_payload() {
        let unit = Unit::new(0x03, vec![9; 10]);
        let mut other_type = unit.clone();
        other_type.unit_type = 0x04;
        assert!(!other_type.crc_matches());
        let mut flipped = unit.clone();
        flipped.payload[3] ^= 1;
        assert!(!flipped.crc_matches());
    }
}
