//! Stream framing (clauses 5 and 7.1–7.2): the identification, then units, each read whole
//! after its size has been checked against the limit in force, with its CRC verified.

use crate::error::{DecodeError, ErrorClass, Location, Result};
use crate::levels::MAX_UNIT_SIZE_BEFORE_LEVEL;
use crate::syntax::{Identification, Unit, MAGIC};
use crate::types::{UnitType, FIRST_SKIPPABLE_UNIT_TYPE};
use bitstream_io::{BigEndian, BitReader, FromBitStream, FromBitStreamWith};
use std::io::Read;

/// One unit as read from the stream, with its position.
#[derive(Clone, Debug)]
pub struct RawUnit {
    /// 0 for the first unit after the identification.
    pub index: u64,
    /// Byte offset of `unit_type` from the start of the stream.
    pub offset: u64,
    pub unit: Unit,
}

impl RawUnit {
    pub fn location(&self) -> Location {
        Location::Unit {
            index: self.index,
            offset: self.offset,
        }
    }

    /// The unit type, `None` for reserved values.
    pub fn unit_type(&self) -> Option<UnitType> {
        UnitType::from_code(self.unit.unit_type)
    }
}

/// Reads the identification and the units of a stream from any reader.
pub struct UnitReader<R> {
    reader: R,
    offset: u64,
    next_index: u64,
    max_unit_size: u32,
    /// The last unit whose CRC did not match, for a decoder that passes over it (Annex E).
    damaged: Option<RawUnit>,
}

impl<R: Read> UnitReader<R> {
    pub fn new(reader: R) -> Self {
        UnitReader {
            reader,
            offset: 0,
            next_index: 0,
            max_unit_size: MAX_UNIT_SIZE_BEFORE_LEVEL,
            damaged: None,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Sets MaxUnitSize once the level is known (Annex A.2).
    pub fn set_max_unit_size(&mut self, max: u32) {
        self.max_unit_size = max;
    }

    /// Reads and checks the identification (clause 7.1).
    pub fn read_identification(&mut self) -> Result<Identification> {
        let mut bytes = [0u8; 6];
        self.reader.read_exact(&mut bytes).map_err(|e| {
            io_error(
                e,
                Location::Identification,
                "the stream ends inside the identification",
            )
        })?;
        self.offset = bytes.len() as u64;
        let mut r = BitReader::endian(&bytes[..], BigEndian);
        let id = Identification::from_reader(&mut r).expect("six bytes are present");
        crate::coverage::syntax(&id);
        if id.magic != MAGIC {
            crate::coverage::hit("req:REQ-7.1-1");
            return Err(DecodeError::new(
                ErrorClass::Invalid,
                "REQ-7.1-1",
                Location::Identification,
                format!("not a DFC stream (magic {:02X?})", id.magic),
            ));
        }
        if id.version_major != crate::VERSION_MAJOR {
            crate::coverage::hit("req:REQ-7.1-2");
            return Err(DecodeError::new(
                ErrorClass::Unsupported,
                "REQ-7.1-2",
                Location::Identification,
                format!(
                    "major version {} is not supported (this decoder implements {}.{})",
                    id.version_major,
                    crate::VERSION_MAJOR,
                    crate::VERSION_MINOR
                ),
            ));
        }
        Ok(id)
    }

    /// Reads the next unit; `None` when the input ends cleanly between units.
    /// Checks the size limit (REQ-A.2-3) before reading the payload, then the CRC (REQ-7.2-3),
    /// then the unit type (REQ-7.2-1, REQ-7.2-2).
    pub fn next_unit(&mut self) -> Result<Option<RawUnit>> {
        let index = self.next_index;
        let offset = self.offset;
        let location = Location::Unit { index, offset };
        let mut first = [0u8; 1];
        match self.reader.read_exact(&mut first) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(io_error(e, location, "reading the stream failed")),
        }
        let mut chained = (&first[..]).chain(&mut self.reader);
        let mut r = BitReader::endian(&mut chained, BigEndian);
        let unit = match Unit::from_reader(&mut r, &self.max_unit_size) {
            Ok(unit) => unit,
            Err(crate::syntax::UnitReadError::Io(e)) => {
                return Err(io_error(e, location, "the stream ends inside a unit"))
            }
            Err(crate::syntax::UnitReadError::TooLarge {
                unit_type,
                payload_size,
            }) => {
                crate::coverage::hit("req:REQ-A.2-3");
                return Err(DecodeError::new(
                    ErrorClass::LimitExceeded,
                    "REQ-A.2-3",
                    location,
                    format!(
                        "unit of type 0x{unit_type:02X} declares a {payload_size}-byte payload, above the limit of {} bytes",
                        self.max_unit_size
                    ),
                ));
            }
        };
        self.offset += unit.coded_len();
        self.next_index += 1;
        crate::coverage::syntax(&unit);
        // Clause 8.2: the CRC, then the unit type.
        let type_first = crate::mutant!("unit-type-before-crc");
        if type_first {
            check_unit_type(unit.unit_type, location)?;
        }
        let crc_matches = if crate::mutant!("crc-payload-only") {
            unit.unit_crc == crc32fast::hash(&unit.payload)
        } else {
            unit.crc_matches()
        };
        if !crc_matches {
            crate::coverage::hit("req:REQ-7.2-3");
            let error = DecodeError::new(
                ErrorClass::Corrupt,
                "REQ-7.2-3",
                location,
                format!(
                    "unit_crc 0x{:08X} does not match the unit (computed 0x{:08X})",
                    unit.unit_crc,
                    Unit::crc_of(unit.unit_type, unit.payload_size, &unit.payload)
                ),
            );
            self.damaged = Some(RawUnit {
                index,
                offset,
                unit,
            });
            return Err(error);
        }
        if !type_first {
            check_unit_type(unit.unit_type, location)?;
        }
        Ok(Some(RawUnit {
            index,
            offset,
            unit,
        }))
    }

    /// The unit of the last REQ-7.2-3 error (read whole, its content unreliable), once.
    pub fn take_damaged(&mut self) -> Option<RawUnit> {
        self.damaged.take()
    }

    /// Whether any byte is left in the input (read after the end of sequence).
    pub fn has_trailing_bytes(&mut self) -> Result<bool> {
        let mut byte = [0u8; 1];
        match self.reader.read_exact(&mut byte) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(false),
            Err(e) => Err(io_error(
                e,
                Location::Unit {
                    index: self.next_index,
                    offset: self.offset,
                },
                "reading the stream failed",
            )),
        }
    }
}

/// REQ-7.2-1 and REQ-7.2-2 (clause 8.2, step 6).
fn check_unit_type(unit_type: u8, location: Location) -> Result<()> {
    match unit_type {
        0 => {
            crate::coverage::hit("req:REQ-7.2-1");
            return Err(DecodeError::new(
                ErrorClass::Invalid,
                "REQ-7.2-1",
                location,
                "unit_type 0 is forbidden",
            ));
        }
        t if UnitType::from_code(t).is_none() && t < FIRST_SKIPPABLE_UNIT_TYPE => {
            crate::coverage::hit("req:REQ-7.2-2");
            return Err(DecodeError::new(
                ErrorClass::Unsupported,
                "REQ-7.2-2",
                location,
                format!("unit_type 0x{t:02X} is reserved and cannot be skipped"),
            ));
        }
        t => match UnitType::from_code(t) {
            Some(ty) => crate::coverage::value("unit_type", ty.name()),
            None => crate::coverage::value("unit_type", "reserved_skippable"),
        },
    }
    Ok(())
}

fn io_error(e: std::io::Error, location: Location, what: &str) -> DecodeError {
    crate::coverage::hit("req:REQ-7.2-5");
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        DecodeError::new(ErrorClass::Truncated, "REQ-7.2-5", location, what)
    } else {
        let mut err = DecodeError::new(ErrorClass::Io, "REQ-7.2-5", location, what);
        err.source = Some(e);
        err
    }
}
