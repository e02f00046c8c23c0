//! DFC conformance suite.
//!
//! - [`catalogue`]: every case of the suite, in code: group, ID, purpose, the requirement IDs it
//!   targets, and how its stream is made (a [`recipe::Recipe`] for the reference encoder, or a
//!   base case and [`mutate`] operations);
//! - [`generate`]: writes `bitstreams/<group>/<ID>/{stream.dfc, expect.json, description.md}`
//!   and checks that regenerating reproduces them byte for byte;
//! - [`quantized`]: hand-built payloads of the quantized method and their reconstructions,
//!   written from the spec independently of the reference encoder and decoder;
//! - [`runner`]: runs the suite against the reference decoder in-process, or against any decoder
//!   through the external command-line protocol, and compares the output bit for bit;
//! - [`coverage`]: which syntax elements, enumerated values, decoding branches and requirement
//!   IDs the suite exercises (with the decoder's `coverage` feature);
//! - [`mutants`]: the mutation score, which deliberate misreadings of the spec each case
//!   catches (with the decoder's `mutants` feature).
#![forbid(unsafe_code)]

pub mod catalogue;
pub mod coverage;
pub mod expect;
pub mod generate;
pub mod mutants;
pub mod mutate;
pub mod npy;
pub mod quantized;
pub mod recipe;
pub mod runner;

/// Names collected at build time from `decoder/src` and `spec/` (see build.rs).
pub mod sources {
    include!(concat!(env!("OUT_DIR"), "/sources.rs"));

    /// The error class the spec gives a requirement (Table 9-2 and the defining sentence).
    pub fn class_of(requirement: &str) -> Option<&'static str> {
        SPEC_REQUIREMENTS
            .iter()
            .position(|r| *r == requirement)
            .map(|i| SPEC_CLASSES[i])
    }
}

/// `version_major.version_minor` of the spec the suite is generated for.
pub fn spec_version() -> String {
    format!(
        "{}.{}",
        dfc_decoder::VERSION_MAJOR,
        dfc_decoder::VERSION_MINOR
    )
}

/// This crate's version, recorded as the generator version.
pub const GENERATOR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Lowercase hexadecimal.
pub mod hex {
    /// Bytes as lowercase hexadecimal digits.
    pub fn encode(bytes: &[u8]) -> String {
        use std::fmt::Write;
        let mut s = String::with_capacity(2 * bytes.len());
        for b in bytes {
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    /// Hexadecimal digits (either case) as bytes.
    pub fn decode(text: &str) -> Result<Vec<u8>, String> {
        if !text.is_ascii() || text.len() % 2 != 0 {
            return Err(format!(
                "{text:?}: not an even number of hexadecimal digits"
            ));
        }
        (0..text.len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(&text[i..i + 2], 16)
                    .map_err(|_| format!("{text:?} is not hexadecimal"))
            })
            .collect()
    }
}

/// SHA-256 of `bytes` as hexadecimal.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(&dfc_decoder::tensor_sha256(bytes))
}
