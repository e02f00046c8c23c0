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
    pub map_prediction: bool,
    pub reserved_zero_5bits: u8,
    pub level_ctx_base: u8,
    pub residual_ctx_base: u8,
    pub rows_per_slice: u32,
}

/// Bytes of quant_header().
pub const QUANT_HEADER_BYTES: usize = 9;

impl SyntaxStructure for QuantHeader {
    const NAME: &'static str = "quant_header()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("quantizer_type", u(8, self.quantizer_type));
        v.field("level_bits", u(8, self.level_bits));
        v.field("signed_levels", u(1, self.signed_levels));
        v.field("per_channel", u(1, self.per_channel));
        v.field("map_prediction", u(1, self.map_prediction));
        v.field("reserved_zero_5bits", u(5, self.reserved_zero_5bits));
        v.field("level_ctx_base", u(8, self.level_ctx_base));
        v.field("residual_ctx_base", u(8, self.residual_ctx_base));
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
            map_prediction: r.read_bit()?,
            reserved_zero_5bits: r.read::<5, u8>()?,
            level_ctx_base: r.read::<8, u8>()?,
            residual_ctx_base: r.read::<8, u8>()?,
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

/// map_predictors(num_maps) (clause 6.10): the predictor of each map, 2 bits each, then zero
/// bits to the next byte boundary.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct MapPredictors {
    pub predictors: Vec<u8>,
    /// The bits that fill the last byte (0 in a conforming stream).
    pub alignment: u8,
}

impl MapPredictors {
    /// Bytes of map_predictors(num_maps).
    pub fn bytes_for(num_maps: usize) -> usize {
        (2 * num_maps).div_ceil(8)
    }
}

impl SyntaxStructure for MapPredictors {
    const NAME: &'static str = "map_predictors()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        for &p in &self.predictors {
            v.field("map_predictor", u(2, p));
        }
        let fill = (8 - (2 * self.predictors.len()) % 8) % 8;
        if fill > 0 {
            v.field("alignment_zero_bits", u(fill as u32, self.alignment));
        }
    }
}

/// The context is `num_maps`; the caller checks that the payload holds them first.
impl<'a> FromBitStreamWith<'a> for MapPredictors {
    type Context = usize;
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R, num_maps: &usize) -> std::io::Result<Self> {
        let predictors = (0..*num_maps)
            .map(|_| r.read::<2, u8>())
            .collect::<std::io::Result<_>>()?;
        let fill = (8 - (2 * num_maps) % 8) % 8;
        let alignment = if fill > 0 {
            r.read_var::<u8>(fill as u32)?
        } else {
            0
        };
        Ok(MapPredictors {
            predictors,
            alignment,
        })
    }
}

crate::syntax::to_bitstream_from_fields!(MapPredictors);

/// inter_parameters() (clause 6.10): which reference tensor inter maps predict from, and the
/// base of their contexts.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct InterParameters {
    pub ref_distance: u8,
    pub inter_ctx_base: u8,
}

/// Bytes of inter_parameters().
pub const INTER_PARAMETERS_BYTES: usize = 2;

impl SyntaxStructure for InterParameters {
    const NAME: &'static str = "inter_parameters()";
    fn visit_fields(&self, v: &mut dyn FieldVisitor) {
        v.field("ref_distance", u(8, self.ref_distance));
        v.field("inter_ctx_base", u(8, self.inter_ctx_base));
    }
}

impl FromBitStream for InterParameters {
    type Error = std::io::Error;
    fn from_reader<R: BitRead + ?Sized>(r: &mut R) -> std::io::Result<Self> {
        Ok(InterParameters {
            ref_distance: r.read::<8, u8>()?,
            inter_ctx_base: r.read::<8, u8>()?,
        })
    }
}

crate::syntax::to_bitstream_from_fields!(InterParameters);

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
                map_prediction: true,
                reserved_zero_5bits: 0x15,
                level_ctx_base: 3,
                residual_ctx_base: 9,
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
        crate::syntax::round_trip::check(
            &InterParameters {
                ref_distance: 3,
                inter_ctx_base: 250,
            },
            InterParameters::from_reader,
        );
        for n in [1usize, 3, 4, 5] {
            let maps = MapPredictors {
                predictors: (0..n).map(|i| (i % 4) as u8).collect(),
                alignment: if n % 4 == 0 { 0 } else { 1 },
            };
            crate::syntax::round_trip::check(&maps, |r| MapPredictors::from_reader(r, &n));
            assert_eq!(maps.coded_bytes(), MapPredictors::bytes_for(n));
        }
    }
}
