//! `expect.json`: what a case is, what it exercises, what a decoder must output or how it must
//! reject the stream, and how the stream was made.

pub use crate::recipe::ExpectedTensor;
use crate::recipe::Recipe;
use serde::{Deserialize, Serialize};

/// The definition of the tensor hashes, recorded in every decode expectation.
pub const HASH_DEFINITION: &str = "SHA-256 (FIPS 180-4) of the N canonical bytes of the decoded tensor (spec clauses 8.4, 8.5): little-endian elements in C order, N = element size x product of the dimensions; in an output .npy file, the data bytes after the header";

/// The contents of `expect.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    pub id: String,
    /// `valid`, `invalid` or `uncommon`.
    pub group: String,
    /// `version_major.version_minor` of the spec.
    pub spec_version: String,
    /// The profile the stream signals (`baseline`, `main`, or `profile_idc N (reserved)`).
    pub profile: String,
    /// The level the stream signals (`1` … `4`, or `level_idc N (reserved)`).
    pub level: String,
    pub purpose: String,
    pub exercises: Exercises,
    pub stream: StreamFile,
    /// Layer selection (clause 8.6): decode only this layer (by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_layer: Option<String>,
    /// Random access (clause 8.6): start decoding at the random-access frame_header unit with
    /// this `frame_index`; the expected tensors are those of the frames from it on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_frame: Option<u32>,
    pub expected: Expected,
    pub generator: Generator,
}

/// What the case exercises. `requirements` are the requirement IDs it targets (for an invalid
/// case, the one it breaks); the other lists are read from the stream.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exercises {
    pub requirements: Vec<String>,
    pub unit_types: Vec<String>,
    pub coding_methods: Vec<String>,
    pub element_types: Vec<String>,
    pub ranks: Vec<usize>,
    pub syntax_elements: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StreamFile {
    pub file: String,
    pub bytes: u64,
    pub sha256: String,
}

/// The expected result of decoding the stream.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case", deny_unknown_fields)]
pub enum Expected {
    /// The decoder outputs exactly these tensors, in this order.
    Decode {
        hash_definition: String,
        tensors: Vec<ExpectedTensor>,
    },
    /// The decoder rejects the stream.
    Reject {
        /// Error class (spec clause 9.3).
        class: String,
        /// The violated requirement: the first in the order of the checks of clause 8.
        requirement: String,
        /// `identification`, `unit` or `end_of_stream` (the stream ends where a unit should start).
        location: String,
        /// With `location` = `unit`: the unit's index (0 = first unit after the identification).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unit_index: Option<u64>,
        /// Byte offset of that unit (informative).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        byte_offset: Option<u64>,
    },
}

/// How the stream was made.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Generator {
    /// `dfc-conformance <version>`.
    pub tool: String,
    /// Version of `dfc-encoder`.
    pub encoder_version: String,
    /// The command that regenerates this case.
    pub command: String,
    /// For a case made by the reference encoder: its arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipe: Option<Recipe>,
    /// For a case made by mutation: the base case (`group/ID`) and the operations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ops: Vec<String>,
    /// The `dfc mutate` command line that makes the stream from the base stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mutate_command: Option<String>,
}

impl Expect {
    /// `group/ID`.
    pub fn key(&self) -> String {
        format!("{}/{}", self.group, self.id)
    }
}
