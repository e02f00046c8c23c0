//! metadata() (clause 6.7): informative key/value text.

use super::{u, FieldValue, FieldVisitor, SyntaxStructure};
use bitstream_io::{BitRead, FromBitStream};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetadataEntry {
    /// `key_length` is `key.len()`, coded as u(8).
    pub key: Vec<u8>,
    /// `value_length` is `value.len()`, coded as u(16).
    pub value: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Metadata {
    /// `num_entries` is `entries.len()`, coded as u(8).
    pub entries: Vec<MetadataEntry>,
}

impl SyntaxStructure for Metadata {
    const NAME: &'static str = "metadata()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("num_entries", u(8, self.entries.len() as u64));
        for e in &self.entries {
            v.field("key_length", u(8, e.key.len() as u64));
            v.field("key", FieldValue::Utf8(&e.key));
            v.field("value_length", u(16, e.value.len() as u64));
            v.field("value", FieldValue::Utf8(&e.value));
        }
    }
}

impl FromBitStream for Metadata {
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R) -> std::io::Result<Self> {
        let num_entries = r.read::<8, u8>()?;
        let mut entries = Vec::with_capacity(usize::from(num_entries));
        for _ in 0..num_entries {
            let key_length = r.read::<8, u8>()?;
            let key = r.read_to_vec(usize::from(key_length))?;
            let value_length = r.read::<16, u16>()?;
            let value = r.read_to_vec(usize::from(value_length))?;
            entries.push(MetadataEntry { key, value });
        }
        Ok(Metadata { entries })
    }
}

super::to_bitstream_from_fields!(Metadata);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        super::super::round_trip::check(&Metadata::default(), Metadata::from_reader);
        let m = Metadata {
            entries: vec![
                MetadataEntry {
                    key: b"model".to_vec(),
                    value: b"resnet50".to_vec(),
                },
                MetadataEntry {
                    key: vec![],
                    value: vec![b'x'; 300],
                },
            ],
        };
        super::super::round_trip::check(&m, Metadata::from_reader);
    }
}
