//! Syntax structures (spec clause 6). Each syntax table is one struct that reads itself
//! (`FromBitStream*`) and writes itself (`ToBitStream`). Fields hold the coded values as they
//! are, valid or not; their semantics (clause 7) are checked by the decoder, so that a
//! conformance mutator can write any value.
//!
//! The field list of each structure is given once, by [`SyntaxStructure::visit_fields`]: writing
//! and tracing both walk it, and reading is checked against it by the round-trip tests.

mod end_of_sequence;
mod feature_data;
mod frame_header;
mod identification;
mod layer_parameters;
mod metadata;
mod sequence_header;
mod tensor_hash;
mod unit;

pub use end_of_sequence::EndOfSequence;
pub use feature_data::{FeatureData, FEATURE_DATA_HEADER_BYTES};
pub use frame_header::FrameHeader;
pub use identification::{Identification, MAGIC};
pub use layer_parameters::LayerParameters;
pub use metadata::{Metadata, MetadataEntry};
pub use sequence_header::SequenceHeader;
pub use tensor_hash::{TensorHash, TENSOR_HASH_HEADER_BYTES};
pub use unit::{Unit, UnitReadError, UNIT_HEADER_BYTES, UNIT_TRAILER_BYTES};

use bitstream_io::BitWrite;

/// The value of one syntax element, with its descriptor (clause 4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldValue<'a> {
    /// `u(n)`: unsigned integer of `bits` bits, most significant bit first.
    Uint { bits: u32, value: u64 },
    /// `b(8*n)`: a byte string, copied as is.
    Bytes(&'a [u8]),
    /// `utf8(n)`: a byte string that is meant to be UTF-8 text (checked in clause 7).
    Utf8(&'a [u8]),
}

impl FieldValue<'_> {
    /// Length in bits.
    pub fn bits(&self) -> u64 {
        match self {
            FieldValue::Uint { bits, .. } => u64::from(*bits),
            FieldValue::Bytes(b) | FieldValue::Utf8(b) => 8 * b.len() as u64,
        }
    }

    /// Descriptor as written in the syntax tables.
    pub fn descriptor(&self) -> String {
        match self {
            FieldValue::Uint { bits, .. } => format!("u({bits})"),
            FieldValue::Bytes(b) => format!("b({})", 8 * b.len()),
            FieldValue::Utf8(b) => format!("utf8({})", b.len()),
        }
    }
}

/// Receives the syntax elements of a structure in stream order.
pub trait FieldVisitor {
    fn field(&mut self, name: &'static str, value: FieldValue<'_>);
}

/// A syntax structure: a name from the spec and an ordered list of syntax elements.
pub trait SyntaxStructure {
    /// Name of the syntax table, e.g. `sequence_header()`.
    const NAME: &'static str;

    /// Visits every syntax element in stream order.
    fn visit_fields(&self, visitor: &mut dyn FieldVisitor);

    /// Size of the structure in bytes (all structures are byte aligned).
    fn coded_bytes(&self) -> usize {
        struct Count(u64);
        impl FieldVisitor for Count {
            fn field(&mut self, _: &'static str, value: FieldValue<'_>) {
                self.0 += value.bits();
            }
        }
        let mut count = Count(0);
        self.visit_fields(&mut count);
        (count.0 / 8) as usize
    }

    /// The structure's bytes.
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.coded_bytes());
        let mut writer = bitstream_io::BitWriter::endian(&mut out, bitstream_io::BigEndian);
        write_fields(self, &mut writer).expect("writing to a Vec cannot fail");
        out
    }
}

/// Writes the fields of `structure` to `writer` (the body of every `ToBitStream` impl).
pub fn write_fields<S: SyntaxStructure + ?Sized, W: BitWrite + ?Sized>(
    structure: &S,
    writer: &mut W,
) -> std::io::Result<()> {
    struct Write<'w, W: ?Sized> {
        writer: &'w mut W,
        result: std::io::Result<()>,
    }
    impl<W: BitWrite + ?Sized> FieldVisitor for Write<'_, W> {
        fn field(&mut self, _: &'static str, value: FieldValue<'_>) {
            if self.result.is_err() {
                return;
            }
            self.result = match value {
                FieldValue::Uint { bits, value } => self.writer.write_var::<u64>(bits, value),
                FieldValue::Bytes(b) | FieldValue::Utf8(b) => self.writer.write_bytes(b),
            };
        }
    }
    let mut visitor = Write {
        writer,
        result: Ok(()),
    };
    structure.visit_fields(&mut visitor);
    visitor.result
}

/// Implements `bitstream_io::ToBitStream` by walking the field list.
macro_rules! to_bitstream_from_fields {
    ($($ty:ty),+) => {$(
        impl bitstream_io::ToBitStream for $ty {
            type Error = std::io::Error;
            fn to_writer<W: bitstream_io::BitWrite + ?Sized>(&self, w: &mut W) -> std::io::Result<()> {
                $crate::syntax::write_fields(self, w)
            }
        }
    )+};
}
pub(crate) use to_bitstream_from_fields;

/// Shorthand for a `u(n)` field.
pub(crate) fn u(bits: u32, value: impl Into<u64>) -> FieldValue<'static> {
    FieldValue::Uint {
        bits,
        value: value.into(),
    }
}

#[cfg(test)]
pub(crate) mod round_trip {
    use super::*;
    use bitstream_io::{BigEndian, BitReader};

    /// Writes `value` with `ToBitStream`, reads it back with `read`, and checks equality and
    /// that the reader consumed exactly the written bytes.
    pub fn check<T, F>(value: &T, read: F)
    where
        T: SyntaxStructure
            + bitstream_io::ToBitStream<Error = std::io::Error>
            + PartialEq
            + std::fmt::Debug,
        F: FnOnce(&mut BitReader<std::io::Cursor<Vec<u8>>, BigEndian>) -> std::io::Result<T>,
    {
        let mut bytes = Vec::new();
        let mut w = bitstream_io::BitWriter::endian(&mut bytes, BigEndian);
        value.to_writer(&mut w).unwrap();
        assert_eq!(
            bytes.len(),
            value.coded_bytes(),
            "coded_bytes disagrees with the writer"
        );
        assert_eq!(bytes, value.to_bytes());
        let len = bytes.len() as u64;
        let mut r = BitReader::endian(std::io::Cursor::new(bytes), BigEndian);
        let back = read(&mut r).unwrap();
        assert_eq!(&back, value);
        assert_eq!(
            r.into_reader().position(),
            len,
            "reader did not consume the whole structure"
        );
    }
}
