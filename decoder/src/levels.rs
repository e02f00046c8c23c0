//! Profiles and levels (spec Annex A).

use crate::types::{CodingMethod, ElementType};

/// A profile: the coding methods and element types a decoder must support (Annex A.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Profile {
    /// `profile_idc` 0: raw and the DEFLATE family, no bfloat16; for constrained front ends.
    Baseline = 0,
    /// `profile_idc` 1: every v0 coding method and element type.
    Main = 1,
}

impl Profile {
    pub const ALL: &'static [Profile] = &[Profile::Baseline, Profile::Main];

    pub const fn code(self) -> u8 {
        self as u8
    }

    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.code() == code)
    }

    pub const fn name(self) -> &'static str {
        match self {
            Profile::Baseline => "baseline",
            Profile::Main => "main",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// Table A.1: coding methods allowed by the profile.
    pub fn allows_method(self, method: CodingMethod) -> bool {
        match self {
            Profile::Baseline => matches!(
                method,
                CodingMethod::Raw | CodingMethod::Zlib | CodingMethod::Gzip
            ),
            Profile::Main => true,
        }
    }

    /// Table A.1: element types allowed by the profile.
    pub fn allows_element_type(self, element_type: ElementType) -> bool {
        match self {
            Profile::Baseline => element_type != ElementType::BFloat16,
            Profile::Main => true,
        }
    }

    /// The methods this profile allows, in code order.
    pub fn methods(self) -> impl Iterator<Item = CodingMethod> {
        CodingMethod::ALL
            .iter()
            .copied()
            .filter(move |m| self.allows_method(*m))
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Limits of one level (Annex A.2, table A.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelLimits {
    /// `level_idc` as coded.
    pub level_idc: u8,
    /// MaxLayers: largest `num_layers`.
    pub max_layers: u32,
    /// MaxTensorElements: largest product of a layer's dimensions.
    pub max_tensor_elements: u64,
    /// MaxUnitSize: largest `payload_size` of any unit.
    pub max_unit_size: u32,
    /// MaxFrameBytes: largest sum of the decoded sizes of the layers of one frame, which is the
    /// sum of the decoded sizes of all layers (clause 8.4).
    pub max_frame_bytes: u64,
    /// MaxRefFrames: most reference tensors a layer keeps for inter prediction (clause 8.7).
    pub max_ref_frames: u32,
}

const MIB: u64 = 1 << 20;

/// Table A.2. `level_idc` is ten times the level number.
pub const LEVELS: &[LevelLimits] = &[
    LevelLimits {
        level_idc: 10,
        max_layers: 16,
        max_tensor_elements: 1 << 20,
        max_unit_size: 8 * MIB as u32,
        max_frame_bytes: 16 * MIB,
        max_ref_frames: 1,
    },
    LevelLimits {
        level_idc: 20,
        max_layers: 64,
        max_tensor_elements: 1 << 23,
        max_unit_size: 64 * MIB as u32,
        max_frame_bytes: 256 * MIB,
        max_ref_frames: 2,
    },
    LevelLimits {
        level_idc: 30,
        max_layers: 256,
        max_tensor_elements: 1 << 26,
        max_unit_size: 512 * MIB as u32,
        max_frame_bytes: 2048 * MIB,
        max_ref_frames: 4,
    },
    LevelLimits {
        level_idc: 40,
        max_layers: 1024,
        max_tensor_elements: 1 << 28,
        max_unit_size: 2048 * MIB as u32,
        max_frame_bytes: 16384 * MIB,
        max_ref_frames: 8,
    },
];

/// Largest `payload_size` accepted before the sequence header names the level: the sequence
/// header and any unit preceding knowledge of the level are bounded by this (clause 7.2).
pub const MAX_UNIT_SIZE_BEFORE_LEVEL: u32 = 1024;

impl LevelLimits {
    pub fn from_idc(level_idc: u8) -> Option<&'static LevelLimits> {
        LEVELS.iter().find(|l| l.level_idc == level_idc)
    }

    /// The level name, e.g. "2" for `level_idc` 20, "2.5" for 25.
    pub fn name(&self) -> String {
        level_name(self.level_idc)
    }

    /// The smallest level whose limits hold the given stream figures.
    pub fn smallest_fitting(
        layers: u32,
        largest_tensor_elements: u64,
        largest_unit_size: u64,
        frame_bytes: u64,
    ) -> Option<&'static LevelLimits> {
        LEVELS.iter().find(|l| {
            layers <= l.max_layers
                && largest_tensor_elements <= l.max_tensor_elements
                && largest_unit_size <= u64::from(l.max_unit_size)
                && frame_bytes <= l.max_frame_bytes
        })
    }
}

/// Name of a `level_idc` value: its tenth, e.g. 20 is "2", 25 is "2.5".
pub fn level_name(level_idc: u8) -> String {
    if level_idc % 10 == 0 {
        format!("{}", level_idc / 10)
    } else {
        format!("{}.{}", level_idc / 10, level_idc % 10)
    }
}
