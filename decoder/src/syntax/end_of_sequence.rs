//! end_of_sequence() (clause 6.8): an empty payload.

use super::{FieldVisitor, SyntaxStructure};
use bitstream_io::{BitRead, FromBitStream};

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct EndOfSequence;

impl SyntaxStructure for EndOfSequence {
    const NAME: &'static str = "end_of_sequence()";
    fn visit_fields(&self, _: &mut dyn FieldVisitor) {}
}

impl FromBitStream for EndOfSequence {
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(_: &mut R) -> std::io::Result<Self> {
        Ok(EndOfSequence)
    }
}

super::to_bitstream_from_fields!(EndOfSequence);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        super::super::round_trip::check(&EndOfSequence, EndOfSequence::from_reader);
        assert_eq!(EndOfSequence.coded_bytes(), 0);
    }
}
