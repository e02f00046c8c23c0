//! Random access (clause 8.6): passing over the units before the start point, and locating the
//! random-access points of a stream with the same checks.

use crate::decoder::{parse, Decoder};
use crate::error::Result;
use crate::syntax::{FrameHeader, SyntaxStructure};
use crate::types::UnitType;
use crate::units::RawUnit;
use bitstream_io::FromBitStream;

/// Step 2 of clause 8.6 for a unit passed over, read with the checks of "Reading a unit"
/// (clause 8.2): a frame_header unit is parsed (REQ-7.2-6) and is the start point if it is a
/// random-access point of frame `start_frame`; no other unit is parsed and nothing else is
/// checked. Returns whether `raw` is the start point. The end_of_sequence unit is processed as
/// a body unit by the caller.
pub(crate) fn is_start_point(raw: &RawUnit, start_frame: u32) -> Result<bool> {
    if raw.unit_type() != Some(UnitType::FrameHeader) {
        return Ok(false);
    }
    let header = passed_over_frame_header(raw)?;
    Ok(header.random_access && header.frame_index == start_frame)
}

/// A frame_header unit passed over: parsed (REQ-7.2-6), its values not checked (clause 8.6).
fn passed_over_frame_header(raw: &RawUnit) -> Result<FrameHeader> {
    if crate::mutant!("passed-over-frame-header-lenient") {
        let payload: &[u8] = &raw.unit.payload;
        let mut r = bitstream_io::BitReader::endian(payload, bitstream_io::BigEndian);
        return Ok(FrameHeader::from_reader(&mut r).unwrap_or(FrameHeader {
            frame_index: 0,
            random_access: false,
            reserved_zero_7bits: 0,
        }));
    }
    let header: FrameHeader = parse(raw, |r| FrameHeader::from_reader(r))?;
    crate::coverage::hit("branch:frame_header_passed_over");
    debug_assert_eq!(header.coded_bytes(), 5);
    Ok(header)
}

/// The `frame_index` of every random-access frame_header unit of a stream held in memory, in
/// stream order: the stream is passed over as in step 2 of clause 8.6, with the same checks
/// (the header units in full; then every unit's framing, size, CRC and type, frame_header
/// payloads parsed, the end_of_sequence unit processed).
pub fn random_access_points(stream: &[u8]) -> Result<Vec<u32>> {
    let mut decoder = Decoder::new(stream);
    decoder.info()?;
    let mut points = Vec::new();
    loop {
        let raw = decoder.next_unit()?;
        match raw.unit_type() {
            Some(UnitType::FrameHeader) => {
                let header = passed_over_frame_header(&raw)?;
                if header.random_access {
                    points.push(header.frame_index);
                }
            }
            Some(UnitType::EndOfSequence) => {
                decoder.end_of_sequence(&raw)?;
                return Ok(points);
            }
            _ => {}
        }
    }
}
