//! Syntax of the native method payload (spec clause 6.9): native_header(),
//! frequency_table() and slice_index(). Each reads and writes itself.

use crate::syntax::{u, FieldValue, FieldVisitor, SyntaxStructure};
use bitstream_io::{BitRead, BitWrite, FromBitStream, FromBitStreamWith, ToBitStream};

/// Probability precision of the rANS coder: frequencies of a table sum to 2^12.
pub const PROB_BITS: u32 = 12;
pub const PROB_SCALE: u32 = 1 << PROB_BITS;

/// native_header() (clause 6.9).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NativeHeader {
    pub rows_per_slice: u32,
    pub kind_exp_base: u8,
    pub exp_ctx_base: u8,
    /// 0: no reference; d: the values of the layer's tensor d native tensors back (clause 8.7).
    pub ref_distance: u8,
}

/// Bytes of native_header().
pub const NATIVE_HEADER_BYTES: usize = 7;

impl SyntaxStructure for NativeHeader {
    const NAME: &'static str = "native_header()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("rows_per_slice", u(32, self.rows_per_slice));
        v.field("kind_exp_base", u(8, self.kind_exp_base));
        v.field("exp_ctx_base", u(8, self.exp_ctx_base));
        v.field("ref_distance", u(8, self.ref_distance));
    }
}

impl FromBitStream for NativeHeader {
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R) -> std::io::Result<Self> {
        Ok(NativeHeader {
            rows_per_slice: r.read::<32, u32>()?,
            kind_exp_base: r.read::<8, u8>()?,
            exp_ctx_base: r.read::<8, u8>()?,
            ref_distance: r.read::<8, u8>()?,
        })
    }
}

crate::syntax::to_bitstream_from_fields!(NativeHeader);

/// frequency_table(alphabet_size) (clause 6.9): the symbols with a non-zero frequency, in
/// increasing order, each as a gap from the previous one, with its frequency.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct FrequencyTable {
    /// (symbol, frequency) pairs; `num_present` is their count, coded as u(9).
    pub entries: Vec<(u16, u16)>,
}

/// Largest `num_present`: u(9).
pub const MAX_PRESENT: usize = 511;
/// Longest prefix of an ue(v) code accepted (clause 4.1).
pub const MAX_UE_LEADING_ZEROS: u32 = 16;

impl FrequencyTable {
    /// Bits of the table, as written.
    pub fn coded_bits(&self) -> u64 {
        let mut bits = 9;
        let mut previous: i32 = -1;
        for &(symbol, _) in &self.entries {
            bits += ue_bits((i32::from(symbol) - previous - 1) as u32) + 12;
            previous = i32::from(symbol);
        }
        bits
    }
}

impl SyntaxStructure for FrequencyTable {
    const NAME: &'static str = "frequency_table()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("num_present", u(9, self.entries.len() as u64));
        let mut previous: i32 = -1;
        for &(symbol, freq) in &self.entries {
            let gap = (i32::from(symbol) - previous - 1) as u32;
            v.field("symbol_gap", ue(gap));
            v.field(
                "freq_minus1",
                u(12, u64::from(freq).wrapping_sub(1) & 0xFFF),
            );
            previous = i32::from(symbol);
        }
    }
}

/// A ue(v) field: Exp-Golomb code of order 0, written as its bit pattern.
fn ue(value: u32) -> FieldValue<'static> {
    let code = u64::from(value) + 1;
    let bits = 2 * (63 - code.leading_zeros()) + 1;
    FieldValue::Uint { bits, value: code }
}

/// Bits of the ue(v) code of `value`.
pub fn ue_bits(value: u32) -> u64 {
    let code = u64::from(value) + 1;
    u64::from(2 * (63 - code.leading_zeros()) + 1)
}

/// Reads a ue(v) (clause 4.1): n leading zero bits, a one, then n bits.
pub fn read_ue<R: BitRead + ?Sized>(r: &mut R) -> std::io::Result<u32> {
    let mut zeros = 0;
    while !r.read_bit()? {
        zeros += 1;
        if zeros > MAX_UE_LEADING_ZEROS + u32::from(crate::mutant!("ue-17-zero-bits")) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "ue(v) longer than 33 bits",
            ));
        }
    }
    let rest: u32 = if zeros == 0 { 0 } else { r.read_var(zeros)? };
    Ok((1u32 << zeros) - 1 + rest)
}

/// The context is the alphabet size; symbols are checked against it by the decoder.
impl<'a> FromBitStreamWith<'a> for FrequencyTable {
    type Context = usize;
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R, _alphabet: &usize) -> std::io::Result<Self> {
        let num_present = r.read::<9, u16>()?;
        let mut entries = Vec::with_capacity(usize::from(num_present));
        let mut previous: i64 = -1;
        for _ in 0..num_present {
            let gap = read_ue(r)?;
            let freq_minus1 = r.read::<12, u16>()?;
            let step = if crate::mutant!("symbol-gap-without-one") {
                0
            } else {
                1
            };
            let symbol = previous + step + i64::from(gap);
            let freq = freq_minus1 + u16::from(!crate::mutant!("frequency-without-one"));
            // Kept as read (saturated to u16): the decoder checks it against the alphabet.
            entries.push((symbol.min(i64::from(u16::MAX)) as u16, freq));
            previous = symbol;
        }
        Ok(FrequencyTable { entries })
    }
}

crate::syntax::to_bitstream_from_fields!(FrequencyTable);

/// slice_index(num_slices) (clause 6.9): the byte sizes of each slice's two parts.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SliceIndex {
    /// (rans_bytes, raw_bytes) per slice.
    pub slices: Vec<(u32, u32)>,
}

impl SyntaxStructure for SliceIndex {
    const NAME: &'static str = "slice_index()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        for &(rans, raw) in &self.slices {
            v.field("rans_bytes", u(32, rans));
            v.field("raw_bytes", u(32, raw));
        }
    }
}

/// The context is `num_slices`.
impl<'a> FromBitStreamWith<'a> for SliceIndex {
    type Context = usize;
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R, num_slices: &usize) -> std::io::Result<Self> {
        let slices = (0..*num_slices)
            .map(|_| Ok((r.read::<32, u32>()?, r.read::<32, u32>()?)))
            .collect::<std::io::Result<_>>()?;
        Ok(SliceIndex { slices })
    }
}

crate::syntax::to_bitstream_from_fields!(SliceIndex);

/// Writes the tables of a payload followed by alignment zero bits (clause 6.9).
pub fn write_tables<W: BitWrite + ?Sized>(
    w: &mut W,
    tables: &[FrequencyTable],
) -> std::io::Result<()> {
    for t in tables {
        t.to_writer(w)?;
    }
    w.byte_align()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bitstream_io::{BigEndian, BitReader, BitWriter};

    #[test]
    fn round_trip() {
        crate::syntax::round_trip::check(
            &NativeHeader {
                rows_per_slice: 0x0102_0304,
                kind_exp_base: 120,
                exp_ctx_base: 7,
                ref_distance: 3,
            },
            NativeHeader::from_reader,
        );
        let index = SliceIndex {
            slices: vec![(10, 20), (0xFFFF_FFFF, 0)],
        };
        crate::syntax::round_trip::check(&index, |r| SliceIndex::from_reader(r, &2));
    }

    #[test]
    fn frequency_tables_round_trip_unaligned() {
        let tables = vec![
            FrequencyTable::default(),
            FrequencyTable {
                entries: vec![(0, 4096)],
            },
            FrequencyTable {
                entries: vec![(3, 1), (4, 95), (200, 4000)],
            },
            FrequencyTable {
                entries: vec![(255, 4096)],
            },
        ];
        let mut bytes = Vec::new();
        let mut w = BitWriter::endian(&mut bytes, BigEndian);
        write_tables(&mut w, &tables).unwrap();
        let bits: u64 = tables.iter().map(|t| t.coded_bits()).sum();
        assert_eq!(bytes.len() as u64, bits.div_ceil(8));
        let mut r = BitReader::endian(&bytes[..], BigEndian);
        for t in &tables {
            assert_eq!(&FrequencyTable::from_reader(&mut r, &256).unwrap(), t);
        }
    }

    #[test]
    fn ue_codes() {
        for v in [0u32, 1, 2, 3, 7, 8, 254, 255, 65535] {
            let mut bytes = Vec::new();
            let mut w = BitWriter::endian(&mut bytes, BigEndian);
            let FieldValue::Uint { bits, value } = ue(v) else {
                unreachable!()
            };
            assert_eq!(u64::from(bits), ue_bits(v));
            w.write_var::<u64>(bits, value).unwrap();
            w.byte_align().unwrap();
            let mut r = BitReader::endian(&bytes[..], BigEndian);
            assert_eq!(read_ue(&mut r).unwrap(), v);
        }
    }
}
