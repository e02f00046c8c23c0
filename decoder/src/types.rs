//! Enumerated values of the syntax (spec clause 7).

macro_rules! enumerated {
    ($(#[$doc:meta])* $name:ident : $repr:ty { $($(#[$vdoc:meta])* $variant:ident = $value:expr => $text:expr),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant = $value),+ }

        impl $name {
            /// Every defined value, in increasing code order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value coded for this variant in the stream.
            pub const fn code(self) -> $repr { self as $repr }

            /// The variant for a coded value, or `None` for a reserved value.
            pub fn from_code(code: $repr) -> Option<Self> {
                match code { $($value => Some($name::$variant),)+ _ => None }
            }

            /// The name used by the spec, the command line and JSON output.
            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the name used by the spec and the command line.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.name() == name)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.name()) }
        }
    };
}

enumerated! {
    /// `unit_type` (clause 7.2, table 2). 0x08..=0x7F are reserved and must be rejected,
    /// 0x80..=0xFF are reserved and skipped.
    UnitType: u8 {
        SequenceHeader = 0x01 => "sequence_header",
        LayerParameters = 0x02 => "layer_parameters",
        FeatureData = 0x03 => "feature_data",
        TensorHash = 0x04 => "tensor_hash",
        Metadata = 0x05 => "metadata",
        EndOfSequence = 0x06 => "end_of_sequence",
        FrameHeader = 0x07 => "frame_header",
    }
}

/// Unit types at or above this value are reserved-skippable (clause 7.2).
pub const FIRST_SKIPPABLE_UNIT_TYPE: u8 = 0x80;

enumerated! {
    /// `layer_kind` (clause 7.4).
    LayerKind: u8 {
        Conv = 0 => "conv",
        Pool = 1 => "pool",
        Fc = 2 => "fc",
        Other = 3 => "other",
    }
}

enumerated! {
    /// `element_type` (clause 7.4, table 4).
    ElementType: u8 {
        Float32 = 0 => "float32",
        Float16 = 1 => "float16",
        BFloat16 = 2 => "bfloat16",
        Int8 = 3 => "int8",
        Uint8 = 4 => "uint8",
    }
}

impl ElementType {
    /// Bytes per element in the canonical layout (clause 8.4).
    pub const fn size(self) -> usize {
        match self {
            ElementType::Float32 => 4,
            ElementType::Float16 | ElementType::BFloat16 => 2,
            ElementType::Int8 | ElementType::Uint8 => 1,
        }
    }

    /// Whether the canonical element at `bytes` (little-endian) is negative in the sense of
    /// clause 8.4: sign bit set for floating-point types (so -0.0 and negative NaNs count),
    /// value below zero for integers.
    pub fn has_sign_set(self, bytes: &[u8]) -> bool {
        match self {
            ElementType::Float32 => bytes[3] & 0x80 != 0,
            ElementType::Float16 | ElementType::BFloat16 => bytes[1] & 0x80 != 0,
            ElementType::Int8 => bytes[0] & 0x80 != 0,
            ElementType::Uint8 => false,
        }
    }

    /// The index of the first negative element (see [`Self::has_sign_set`]) of canonical
    /// bytes, if any. The sign bytes are OR-ed first, a pass that vectorizes; only a tensor with a
    /// negative element is searched element by element.
    pub fn first_negative(self, data: &[u8]) -> Option<usize> {
        let size = self.size();
        let signs = match self {
            ElementType::Uint8 => 0,
            _ => data
                .chunks_exact(size)
                .fold(0u8, |acc, e| acc | e[size - 1]),
        };
        if signs & 0x80 == 0 {
            return None;
        }
        data.chunks_exact(size).position(|e| self.has_sign_set(e))
    }
}

enumerated! {
    /// `coding_method` and `default_method` (clause 7.5, table 5).
    CodingMethod: u8 {
        Raw = 0 => "raw",
        Zlib = 1 => "zlib",
        Gzip = 2 => "gzip",
        Bzip2 = 3 => "bzip2",
        Lzma = 4 => "lzma",
        Native = 5 => "native",
        Quantized = 6 => "quantized",
    }
}

impl CodingMethod {
    /// The lossless methods: the decoded tensor is the encoded one, bit for bit.
    pub const LOSSLESS: &'static [CodingMethod] = &[
        CodingMethod::Raw,
        CodingMethod::Zlib,
        CodingMethod::Gzip,
        CodingMethod::Bzip2,
        CodingMethod::Lzma,
        CodingMethod::Native,
    ];

    /// Whether the method is lossless (every method but quantized).
    pub fn is_lossless(self) -> bool {
        self != CodingMethod::Quantized
    }
}

enumerated! {
    /// `hash_type` (clause 7.6).
    HashType: u8 {
        Sha256 = 0 => "sha256",
    }
}

impl HashType {
    /// Length of `hash_value` in bytes.
    pub const fn digest_len(self) -> usize {
        match self {
            HashType::Sha256 => 32,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ElementType;

    /// `first_negative` finds the first element with its sign set, wherever it is, and none in a
    /// tensor without one; uint8 has no sign.
    #[test]
    fn first_negative_finds_the_first_signed_element() {
        let cases = [
            (ElementType::Float32, (-0.0f32).to_le_bytes().to_vec()),
            (ElementType::Float16, vec![0x00, 0x80]),
            (ElementType::BFloat16, vec![0x80, 0xbf]),
            (ElementType::Int8, vec![0xff]),
        ];
        for (t, negative) in cases {
            let size = t.size();
            let positive = vec![0x7f; size];
            for len in [0usize, 1, 31, 64] {
                let data = positive.repeat(len);
                assert_eq!(t.first_negative(&data), None, "{t:?} len {len}");
                for at in [0, len / 2, len.saturating_sub(1)]
                    .into_iter()
                    .filter(|_| len > 0)
                {
                    let mut data = data.clone();
                    data[at * size..(at + 1) * size].copy_from_slice(&negative);
                    data.extend_from_slice(&negative);
                    assert_eq!(t.first_negative(&data), Some(at), "{t:?} len {len} at {at}");
                }
            }
        }
        assert_eq!(ElementType::Uint8.first_negative(&[0xff, 0x80]), None);
    }
}
