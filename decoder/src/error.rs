//! Decoding errors. Every failure names the unit it happened in and the requirement it violates.

use std::fmt;

/// Which kind of failure this is; conformance expectations name these classes (clause 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorClass {
    /// The stream ends before the syntax says it does.
    Truncated,
    /// A syntax element or a structure violates a requirement of bitstream conformance.
    Invalid,
    /// A value is valid syntax but beyond what the signalled profile or level allows.
    LimitExceeded,
    /// A checksum (unit CRC) or the decoded-tensor hash does not match.
    Corrupt,
    /// The stream uses a feature this decoder version does not know (major version, critical
    /// reserved unit type).
    Unsupported,
    /// Reading the input failed for a reason outside the stream (I/O error).
    Io,
}

impl ErrorClass {
    pub const ALL: &'static [ErrorClass] = &[
        ErrorClass::Truncated,
        ErrorClass::Invalid,
        ErrorClass::LimitExceeded,
        ErrorClass::Corrupt,
        ErrorClass::Unsupported,
        ErrorClass::Io,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            ErrorClass::Truncated => "truncated",
            ErrorClass::Invalid => "invalid",
            ErrorClass::LimitExceeded => "limit_exceeded",
            ErrorClass::Corrupt => "corrupt",
            ErrorClass::Unsupported => "unsupported",
            ErrorClass::Io => "io",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.name() == name)
    }
}

impl fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where in the stream a failure was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// The identification (clause 6.1), before any unit.
    Identification,
    /// Unit number `index` (0 = first unit after the identification) starting at byte `offset`.
    Unit { index: u64, offset: u64 },
}

/// A decoding failure.
#[derive(Debug)]
pub struct DecodeError {
    pub class: ErrorClass,
    /// The requirement ID in the spec, e.g. `REQ-7.2-3`.
    pub requirement: &'static str,
    pub location: Location,
    /// The name of the layer the failing unit belongs to, once known (feature_data and
    /// tensor_hash units, and the tensors of a layer).
    pub layer: Option<String>,
    /// The frame_index of the failing feature_data or tensor_hash unit.
    pub frame_index: Option<u32>,
    pub message: String,
    pub source: Option<std::io::Error>,
}

impl DecodeError {
    pub fn new(
        class: ErrorClass,
        requirement: &'static str,
        location: Location,
        message: impl Into<String>,
    ) -> Self {
        DecodeError {
            class,
            requirement,
            location,
            layer: None,
            frame_index: None,
            message: message.into(),
            source: None,
        }
    }

    /// The error, naming the layer and frame it is about (the first naming is kept).
    pub fn in_layer(mut self, name: &str, frame_index: u32) -> Self {
        if self.layer.is_none() {
            self.layer = Some(name.to_string());
            self.frame_index = Some(frame_index);
        }
        self
    }

    /// The unit index, if the failure is inside a unit.
    pub fn unit_index(&self) -> Option<u64> {
        match self.location {
            Location::Unit { index, .. } => Some(index),
            Location::Identification => None,
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Location::Identification => write!(f, "identification")?,
            // The marker for "after the last unit that was read".
            Location::Unit {
                index: u64::MAX,
                offset,
            } => write!(f, "after the last unit (byte {offset})")?,
            Location::Unit { index, offset } => write!(f, "unit {index} (byte {offset})")?,
        }
        if let Some(layer) = &self.layer {
            write!(f, ", layer {layer:?}")?;
            if let Some(frame) = self.frame_index {
                write!(f, " frame {frame}")?;
            }
        }
        write!(
            f,
            ": {} [{}, {}]",
            self.message, self.class, self.requirement
        )?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

pub type Result<T, E = DecodeError> = std::result::Result<T, E>;
