//! Trace of a stream (spec Annex B, informative): every syntax element with its bit position
//! and value, one per line, stable enough to diff between decoders.

use crate::syntax::{
    FeatureData, FieldValue, FieldVisitor, LayerParameters, Metadata, SequenceHeader,
    SyntaxStructure, TensorHash,
};
use crate::types::UnitType;
use crate::units::UnitReader;
use bitstream_io::{BigEndian, BitReader, FromBitStream, FromBitStreamWith};
use std::fmt::Write as _;
use std::io::Read;

struct Tracer<'o> {
    out: &'o mut String,
    bit: u64,
    depth: usize,
}

impl FieldVisitor for Tracer<'_> {
    fn field(&mut self, name: &'static str, value: FieldValue<'_>) {
        let shown = match value {
            FieldValue::Uint { value, .. } => value.to_string(),
            FieldValue::Bytes(b) => bytes_summary(b),
            FieldValue::Utf8(b) => format!("{:?}", String::from_utf8_lossy(b)),
        };
        let _ = writeln!(
            self.out,
            "{:>10} {:indent$}{name} {} = {shown}",
            self.bit,
            "",
            value.descriptor(),
            indent = 2 * self.depth
        );
        self.bit += value.bits();
    }
}

/// Short form of a byte string: its length, first bytes and CRC-32.
fn bytes_summary(b: &[u8]) -> String {
    let head: String = b.iter().take(8).map(|x| format!("{x:02x}")).collect();
    let more = if b.len() > 8 { ".." } else { "" };
    format!(
        "[{} bytes] {head}{more} crc32={:08x}",
        b.len(),
        crc32fast::hash(b)
    )
}

fn structure<S: SyntaxStructure>(out: &mut String, bit: u64, depth: usize, s: &S) {
    let _ = writeln!(
        out,
        "{:>10} {:indent$}{}",
        bit,
        "",
        S::NAME,
        indent = 2 * depth
    );
    s.visit_fields(&mut Tracer {
        out,
        bit,
        depth: depth + 1,
    });
}

/// Writes the trace of `reader`'s stream into `out`. Stops at the end of sequence or at the
/// first framing error, which is returned after the trace of everything before it.
pub fn trace<R: Read>(reader: R, out: &mut String) -> crate::error::Result<()> {
    let mut units = UnitReader::new(reader);
    let id = units.read_identification()?;
    structure(out, 0, 0, &id);
    units.set_max_unit_size(u32::MAX);
    while let Some(raw) = units.next_unit()? {
        let bit = raw.offset * 8;
        let _ = writeln!(out, "{bit:>10} unit() #{}", raw.index);
        let mut tracer = Tracer { out, bit, depth: 1 };
        tracer.field(
            "unit_type",
            crate::syntax::FieldValue::Uint {
                bits: 8,
                value: raw.unit.unit_type.into(),
            },
        );
        tracer.field(
            "payload_size",
            crate::syntax::FieldValue::Uint {
                bits: 32,
                value: raw.unit.payload_size.into(),
            },
        );
        let payload_bit = bit + 40;
        let size = raw.unit.payload_size;
        let mut r = BitReader::endian(&raw.unit.payload[..], BigEndian);
        let ty = raw.unit_type();
        let parsed =
            match ty {
                Some(UnitType::SequenceHeader) => {
                    SequenceHeader::from_reader(&mut r).map(|s| structure(out, payload_bit, 1, &s))
                }
                Some(UnitType::LayerParameters) => {
                    LayerParameters::from_reader(&mut r).map(|s| structure(out, payload_bit, 1, &s))
                }
                Some(UnitType::FeatureData) => FeatureData::from_reader(&mut r, &size)
                    .map(|s| structure(out, payload_bit, 1, &s)),
                Some(UnitType::TensorHash) => TensorHash::from_reader(&mut r, &size)
                    .map(|s| structure(out, payload_bit, 1, &s)),
                Some(UnitType::Metadata) => {
                    Metadata::from_reader(&mut r).map(|s| structure(out, payload_bit, 1, &s))
                }
                Some(UnitType::EndOfSequence) => {
                    structure(out, payload_bit, 1, &crate::syntax::EndOfSequence);
                    Ok(())
                }
                Some(UnitType::FrameHeader) => crate::syntax::FrameHeader::from_reader(&mut r)
                    .map(|s| structure(out, payload_bit, 1, &s)),
                None => Ok(()),
            };
        if ty.is_none() || parsed.is_err() {
            let mut t = Tracer {
                out,
                bit: payload_bit,
                depth: 1,
            };
            t.field("unit_payload", FieldValue::Bytes(&raw.unit.payload));
        }
        let crc_bit = payload_bit + 8 * u64::from(size);
        Tracer {
            out,
            bit: crc_bit,
            depth: 1,
        }
        .field(
            "unit_crc",
            FieldValue::Uint {
                bits: 32,
                value: raw.unit.unit_crc.into(),
            },
        );
        if ty == Some(UnitType::EndOfSequence) {
            break;
        }
    }
    Ok(())
}
