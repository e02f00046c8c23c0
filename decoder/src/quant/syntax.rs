//! Syntax of the quantized method payload (spec clause 6.10): quant_header(),
//! uniform_parameters() and codebook(). Each reads and writes itself; the frequency tables and
//! the slice index are those of the native method (clause 6.9).

use crate::syntax::{u, FieldVisitor, SyntaxStructure};
use bitstream_io::{BitRead, FromBitStream, FromBitStreamWith};

/// quantizer_type values (Table 7-7).
pub const QUANTIZER_UNIFORM: u8 = 0;
pub const QUANTIZER_CODEBOOK: u8 = 1;

/// quant_header() (clause 6.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QuantHeader {
    pub quantizer_type: u8,
    pub level_bits: u8,
    pub signed_levels: bool,
    pub per_channel: bool,
    pub reserved_zero_6bits: u8,
    pub level_ctx_base: u8,
    pub rows_per_slice: u32,
}

/// Bytes of quant_header().
pub const QUANT_HEADER_BYTES: usize = 8;

impl SyntaxStructure for QuantHeader {
    const NAME: &'static str = "quant_header()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("quantizer_type", u(8, self.quantizer_type));
        v.field("level_bits", u(8, self.level_bits));
        v.field("signed_levels", u(1, self.signed_levels));
        v.field("per_channel", u(1, self.per_channel));
        v.field("reserved_zero_6bits", u(6, self.reserved_zero_6bits));
        v.field("level_ctx_base", u(8, self.level_ctx_base));
        v.field("rows_per_slice", u(32, self.rows_per_slice));
    }
}

impl FromBitStream for QuantHeader {
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R) -> std::io::Result<Self> {
        Ok(QuantHeader {
            quantizer_type: r.read::<8, u8>()?,
            level_bits: r.read::<8, u8>()?,
            signed_levels: r.read_bit()?,
            per_channel: r.read_bit()?,
            reserved_zero_6bits: r.read::<6, u8>()?,
            level_ctx_base: r.read::<8, u8>()?,
            rows_per_slice: r.read::<32, u32>()?,
        })
    }
}

crate::syntax::to_bitstream_from_fields!(QuantHeader);

/// uniform_parameters(num_params) (clause 6.10): a step and an offset per parameter set, as
/// binary32 bit patterns.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct UniformParameters {
    /// (step, offset) bit patterns.
    pub params: Vec<(u32, u32)>,
}

impl SyntaxStructure for UniformParameters {
    const NAME: &'static str = "uniform_parameters()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        for &(step, offset) in &self.params {
            v.field("step", u(32, step));
            v.field("offset", u(32, offset));
        }
    }
}

/// The context is `num_params`; the caller checks that the payload holds them first.
impl<'a> FromBitStreamWith<'a> for UniformParameters {
    type Context = usize;
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R, num_params: &usize) -> std::io::Result<Self> {
        let params = (0..*num_params)
            .map(|_| Ok((r.read::<32, u32>()?, r.read::<32, u32>()?)))
            .collect::<std::io::Result<_>>()?;
        Ok(UniformParameters { params })
    }
}

crate::syntax::to_bitstream_from_fields!(UniformParameters);

/// codebook() (clause 6.10): the reconstruction value of each level, as binary32 bit patterns.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Codebook {
    /// `num_codewords_minus1` + 1 entries.
    pub codewords: Vec<u32>,
}

impl SyntaxStructure for Codebook {
    const NAME: &'static str = "codebook()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field(
            "num_codewords_minus1",
            u(16, (self.codewords.len() as u64).wrapping_sub(1) & 0xFFFF),
        );
        for &c in &self.codewords {
            v.field("codeword", u(32, c));
        }
    }
}

impl FromBitStream for Codebook {
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R) -> std::io::Result<Self> {
        let count = usize::from(r.read::<16, u16>()?) + 1;
        // At most 65536 entries (256 KiB); the caller bounds it by the payload size first.
        let codewords = (0..count)
            .map(|_| r.read::<32, u32>())
            .collect::<std::io::Result<_>>()?;
        Ok(Codebook { codewords })
    }
}

crate::syntax::to_bitstream_from_fields!(Codebook);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        crate::syntax::round_trip::check(
            &QuantHeader {
                quantizer_type: 1,
                level_bits: 16,
                signed_levels: true,
                per_channel: false,
                reserved_zero_6bits: 0x2A,
                level_ctx_base: 3,
                rows_per_slice: 0x0102_0304,
            },
            QuantHeader::from_reader,
        );
        let params = UniformParameters {
            params: vec![(0x3F80_0000, 0), (0x7F80_0000, 0x8000_0000)],
        };
        crate::syntax::round_trip::check(&params, |r| UniformParameters::from_reader(r, &2));
        let codebook = Codebook {
            codewords: vec![0, 0x3F80_0000, 0x4000_0000],
        };
        crate::syntax::round_trip::check(&codebook, Codebook::from_reader);
    }
}
