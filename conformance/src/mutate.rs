//! The mutator: deterministic edits of a stream, used to make the `invalid/` (and some
//! `uncommon/`) cases from a valid stream. Each operation has a one-word text form, which is what
//! `expect.json` records and what `dfc mutate IN -o OUT OP...` takes.
//!
//! Unit indices count from 0 for the first unit after the identification, as in decoder errors,
//! and refer to the stream as left by the previous operation. Unless an operation says otherwise,
//! a unit that is changed gets a correct `payload_size` and `unit_crc` again, so that exactly the
//! intended requirement is broken.
//!
//! | operation | effect |
//! |---|---|
//! | `set:U.ELEM=V` | set syntax element ELEM of unit U (or `set:id.ELEM=V` of the identification) |
//! | `crc:U=V` | set `unit_crc` of unit U to V |
//! | `crcflip:U` | flip the lowest bit of `unit_crc` of unit U |
//! | `pwrite:U@OFF=HEX` | overwrite payload bytes of unit U from byte OFF |
//! | `ptrunc:U=LEN` | cut the payload of unit U to LEN bytes |
//! | `pappend:U=HEX` | append bytes to the payload of unit U |
//! | `pset:U=HEX` | replace the payload of unit U |
//! | `insert:U=TYPE:HEX` | insert a unit of type TYPE with payload HEX before unit U |
//! | `delete:U` | remove unit U |
//! | `dup:U` | insert a copy of unit U after it |
//! | `swap:U,V` | exchange units U and V |
//! | `move:U,V` | take unit U out and insert it so that it becomes unit V |
//! | `write:OFF=HEX` | overwrite stream bytes from byte OFF (no CRC update) |
//! | `xor:OFF=MASK` | XOR the stream byte at OFF with MASK (no CRC update) |
//! | `truncate:LEN` | cut the stream to LEN bytes |
//! | `append:HEX` | append bytes to the stream |
//!
//! Values V: decimal or `0x` hexadecimal integers; `hex:...` for byte strings; `str:...` for
//! UTF-8 text; for `dims`, the dimensions joined by `x` (`2x3x4`) or `-` for none.
//! Elements: identification `magic version_major version_minor`; every unit `unit_type
//! payload_size unit_crc unit_payload` (`payload_size` keeps the payload: the framing changes;
//! `unit_crc` is not recomputed); sequence_header `version_major version_minor profile_idc
//! level_idc num_layers reserved_zero_16bits`; layer_parameters `layer_id layer_kind element_type
//! non_negative_flag reserved_zero_7bits default_method dims dim[i] name`; feature_data
//! `layer_id frame_index coding_method method_payload`; tensor_hash `layer_id frame_index
//! hash_type hash_value`; metadata `key[i] value[i]`.

use crate::hex;
use bitstream_io::{BigEndian, BitReader, FromBitStream, FromBitStreamWith};
use dfc_decoder::syntax::{
    FeatureData, LayerParameters, Metadata, SequenceHeader, SyntaxStructure, TensorHash, Unit,
};
use dfc_decoder::UnitType;
use std::fmt;

/// Bytes of the identification.
pub const IDENTIFICATION_BYTES: usize = 6;

/// A stream split into its parts without any check: the identification bytes (up to six), the
/// complete units, and whatever follows the last complete unit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Units {
    pub identification: Vec<u8>,
    pub units: Vec<Unit>,
    /// Bytes after the last complete unit (a partial unit, or garbage).
    pub tail: Vec<u8>,
}

impl Units {
    /// Splits `stream` into units, leniently: a unit whose declared size runs past the end
    /// stops the split, and the rest becomes `tail`.
    pub fn parse(stream: &[u8]) -> Units {
        let id_len = stream.len().min(IDENTIFICATION_BYTES);
        let mut units = Vec::new();
        let mut pos = id_len;
        loop {
            let rest = &stream[pos..];
            if rest.len() < 9 {
                break;
            }
            let size = u32::from_be_bytes([rest[1], rest[2], rest[3], rest[4]]);
            let total = 9 + size as usize;
            if rest.len() < total {
                break;
            }
            units.push(Unit {
                unit_type: rest[0],
                payload_size: size,
                payload: rest[5..5 + size as usize].to_vec(),
                unit_crc: u32::from_be_bytes([
                    rest[total - 4],
                    rest[total - 3],
                    rest[total - 2],
                    rest[total - 1],
                ]),
            });
            pos += total;
        }
        Units {
            identification: stream[..id_len].to_vec(),
            units,
            tail: stream[pos..].to_vec(),
        }
    }

    /// The bytes: `payload_size` as declared, the payload bytes as present.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.identification.clone();
        for u in &self.units {
            out.push(u.unit_type);
            out.extend_from_slice(&u.payload_size.to_be_bytes());
            out.extend_from_slice(&u.payload);
            out.extend_from_slice(&u.unit_crc.to_be_bytes());
        }
        out.extend_from_slice(&self.tail);
        out
    }

    /// Byte offset of unit `index` (its `unit_type` byte).
    pub fn offset(&self, index: usize) -> usize {
        self.identification.len()
            + self.units[..index]
                .iter()
                .map(|u| 9 + u.payload.len())
                .sum::<usize>()
    }

    /// Indices of the units of a type, in stream order.
    pub fn indices_of(&self, t: UnitType) -> Vec<usize> {
        (0..self.units.len())
            .filter(|&i| self.units[i].unit_type == t.code())
            .collect()
    }
}

/// Which part of the stream a `set` operation addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Identification,
    Unit(usize),
}

/// One edit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    Set {
        target: Target,
        element: String,
        value: String,
    },
    Crc {
        unit: usize,
        value: u32,
    },
    CrcFlip {
        unit: usize,
    },
    PWrite {
        unit: usize,
        offset: usize,
        bytes: Vec<u8>,
    },
    PTrunc {
        unit: usize,
        len: usize,
    },
    PAppend {
        unit: usize,
        bytes: Vec<u8>,
    },
    PSet {
        unit: usize,
        bytes: Vec<u8>,
    },
    Insert {
        at: usize,
        unit_type: u8,
        payload: Vec<u8>,
    },
    Delete {
        unit: usize,
    },
    Dup {
        unit: usize,
    },
    Swap {
        a: usize,
        b: usize,
    },
    Move {
        from: usize,
        to: usize,
    },
    Write {
        offset: usize,
        bytes: Vec<u8>,
    },
    Xor {
        offset: usize,
        mask: u8,
    },
    Truncate {
        len: usize,
    },
    Append {
        bytes: Vec<u8>,
    },
}

/// Why an operation cannot be parsed or applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MutateError(pub String);

impl fmt::Display for MutateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MutateError {}

fn err<T>(msg: impl Into<String>) -> Result<T, MutateError> {
    Err(MutateError(msg.into()))
}

/// Parses an integer: decimal or `0x` hexadecimal.
pub fn parse_int(s: &str) -> Result<u64, MutateError> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => s.parse(),
    };
    parsed.map_err(|_| MutateError(format!("{s:?} is not an integer")))
}

fn parse_usize(s: &str) -> Result<usize, MutateError> {
    usize::try_from(parse_int(s)?).map_err(|_| MutateError(format!("{s} is too large")))
}

fn parse_hex(s: &str) -> Result<Vec<u8>, MutateError> {
    hex::decode(s).map_err(MutateError)
}

impl std::str::FromStr for Op {
    type Err = MutateError;

    fn from_str(text: &str) -> Result<Op, MutateError> {
        let (name, args) = text
            .split_once(':')
            .ok_or_else(|| MutateError(format!("{text:?}: expected NAME:ARGS")))?;
        let (left, right) = match args.split_once('=') {
            Some((l, r)) => (l, Some(r)),
            None => (args, None),
        };
        fn need<'a>(r: Option<&'a str>, text: &str) -> Result<&'a str, MutateError> {
            r.ok_or_else(|| MutateError(format!("{text:?}: expected NAME:...=VALUE")))
        }
        let pair = |s: &str| -> Result<(usize, usize), MutateError> {
            let (a, b) = s
                .split_once(',')
                .ok_or_else(|| MutateError(format!("{text:?}: expected {name}:U,V")))?;
            Ok((parse_usize(a)?, parse_usize(b)?))
        };
        Ok(match name {
            "set" => {
                let (target, element) = left.split_once('.').ok_or_else(|| {
                    MutateError(format!("{text:?}: expected set:U.ELEMENT=VALUE"))
                })?;
                let target = if target == "id" {
                    Target::Identification
                } else {
                    Target::Unit(parse_usize(target)?)
                };
                Op::Set {
                    target,
                    element: element.to_string(),
                    value: need(right, text)?.to_string(),
                }
            }
            "crc" => Op::Crc {
                unit: parse_usize(left)?,
                value: u32::try_from(parse_int(need(right, text)?)?)
                    .map_err(|_| MutateError("crc above 32 bits".into()))?,
            },
            "crcflip" => Op::CrcFlip {
                unit: parse_usize(left)?,
            },
            "pwrite" => {
                let (u, off) = left.split_once('@').ok_or_else(|| {
                    MutateError(format!("{text:?}: expected pwrite:U@OFFSET=HEX"))
                })?;
                Op::PWrite {
                    unit: parse_usize(u)?,
                    offset: parse_usize(off)?,
                    bytes: parse_hex(need(right, text)?)?,
                }
            }
            "ptrunc" => Op::PTrunc {
                unit: parse_usize(left)?,
                len: parse_usize(need(right, text)?)?,
            },
            "pappend" => Op::PAppend {
                unit: parse_usize(left)?,
                bytes: parse_hex(need(right, text)?)?,
            },
            "pset" => Op::PSet {
                unit: parse_usize(left)?,
                bytes: parse_hex(need(right, text)?)?,
            },
            "insert" => {
                let (t, payload) = need(right, text)?
                    .split_once(':')
                    .ok_or_else(|| MutateError(format!("{text:?}: expected insert:U=TYPE:HEX")))?;
                let unit_type = u8::try_from(parse_int(t)?)
                    .map_err(|_| MutateError("unit type above 255".into()))?;
                Op::Insert {
                    at: parse_usize(left)?,
                    unit_type,
                    payload: parse_hex(payload)?,
                }
            }
            "delete" => Op::Delete {
                unit: parse_usize(left)?,
            },
            "dup" => Op::Dup {
                unit: parse_usize(left)?,
            },
            "swap" => {
                let (a, b) = pair(left)?;
                Op::Swap { a, b }
            }
            "move" => {
                let (from, to) = pair(left)?;
                Op::Move { from, to }
            }
            "write" => Op::Write {
                offset: parse_usize(left)?,
                bytes: parse_hex(need(right, text)?)?,
            },
            "xor" => Op::Xor {
                offset: parse_usize(left)?,
                mask: u8::try_from(parse_int(need(right, text)?)?)
                    .map_err(|_| MutateError("mask above 255".into()))?,
            },
            "truncate" => Op::Truncate {
                len: parse_usize(left)?,
            },
            "append" => Op::Append {
                bytes: parse_hex(left)?,
            },
            _ => {
                return err(format!(
                    "{text:?}: unknown operation {name:?} (see `dfc mutate --help`)"
                ))
            }
        })
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = hex::encode;
        match self {
            Op::Set {
                target: Target::Identification,
                element,
                value,
            } => write!(f, "set:id.{element}={value}"),
            Op::Set {
                target: Target::Unit(u),
                element,
                value,
            } => write!(f, "set:{u}.{element}={value}"),
            Op::Crc { unit, value } => write!(f, "crc:{unit}=0x{value:08X}"),
            Op::CrcFlip { unit } => write!(f, "crcflip:{unit}"),
            Op::PWrite {
                unit,
                offset,
                bytes,
            } => write!(f, "pwrite:{unit}@{offset}={}", h(bytes)),
            Op::PTrunc { unit, len } => write!(f, "ptrunc:{unit}={len}"),
            Op::PAppend { unit, bytes } => write!(f, "pappend:{unit}={}", h(bytes)),
            Op::PSet { unit, bytes } => write!(f, "pset:{unit}={}", h(bytes)),
            Op::Insert {
                at,
                unit_type,
                payload,
            } => write!(f, "insert:{at}=0x{unit_type:02X}:{}", h(payload)),
            Op::Delete { unit } => write!(f, "delete:{unit}"),
            Op::Dup { unit } => write!(f, "dup:{unit}"),
            Op::Swap { a, b } => write!(f, "swap:{a},{b}"),
            Op::Move { from, to } => write!(f, "move:{from},{to}"),
            Op::Write { offset, bytes } => write!(f, "write:{offset}={}", h(bytes)),
            Op::Xor { offset, mask } => write!(f, "xor:{offset}=0x{mask:02X}"),
            Op::Truncate { len } => write!(f, "truncate:{len}"),
            Op::Append { bytes } => write!(f, "append:{}", h(bytes)),
        }
    }
}

/// Applies operations in order.
pub fn apply_all(stream: &[u8], ops: &[Op]) -> Result<Vec<u8>, MutateError> {
    let mut bytes = stream.to_vec();
    for (i, op) in ops.iter().enumerate() {
        bytes = apply(&bytes, op)
            .map_err(|e| MutateError(format!("operation {} ({op}): {e}", i + 1)))?;
    }
    Ok(bytes)
}

/// Parses and applies operations given in their text form.
pub fn apply_text(stream: &[u8], ops: &[impl AsRef<str>]) -> Result<Vec<u8>, MutateError> {
    let ops = ops
        .iter()
        .map(|s| s.as_ref().parse())
        .collect::<Result<Vec<Op>, _>>()?;
    apply_all(stream, &ops)
}

fn unit_mut(units: &mut Units, index: usize) -> Result<&mut Unit, MutateError> {
    let count = units.units.len();
    units.units.get_mut(index).ok_or_else(|| {
        MutateError(format!(
            "no unit {index}: the stream has {count} complete units"
        ))
    })
}

/// Rebuilds a unit around a new payload with a correct size and CRC.
fn repack(unit: &mut Unit, payload: Vec<u8>) {
    *unit = Unit::new(unit.unit_type, payload);
}

/// Applies one operation.
pub fn apply(stream: &[u8], op: &Op) -> Result<Vec<u8>, MutateError> {
    let mut bytes = stream.to_vec();
    match op {
        Op::Write { offset, bytes: b } => {
            let end = offset + b.len();
            if end > bytes.len() {
                return err(format!(
                    "bytes {offset}..{end} are past the end ({} bytes)",
                    bytes.len()
                ));
            }
            bytes[*offset..end].copy_from_slice(b);
            return Ok(bytes);
        }
        Op::Xor { offset, mask } => {
            let len = bytes.len();
            *bytes.get_mut(*offset).ok_or_else(|| {
                MutateError(format!("byte {offset} is past the end ({len} bytes)"))
            })? ^= mask;
            return Ok(bytes);
        }
        Op::Truncate { len } => {
            if *len > bytes.len() {
                return err(format!("cannot truncate {} bytes to {len}", bytes.len()));
            }
            bytes.truncate(*len);
            return Ok(bytes);
        }
        Op::Append { bytes: b } => {
            bytes.extend_from_slice(b);
            return Ok(bytes);
        }
        _ => {}
    }
    let mut units = Units::parse(stream);
    match op {
        Op::Set {
            target: Target::Identification,
            element,
            value,
        } => set_identification(&mut units, element, value)?,
        Op::Set {
            target: Target::Unit(i),
            element,
            value,
        } => set_element(unit_mut(&mut units, *i)?, element, value)?,
        Op::Crc { unit, value } => unit_mut(&mut units, *unit)?.unit_crc = *value,
        Op::CrcFlip { unit } => unit_mut(&mut units, *unit)?.unit_crc ^= 1,
        Op::PWrite {
            unit,
            offset,
            bytes: b,
        } => {
            let u = unit_mut(&mut units, *unit)?;
            let end = offset + b.len();
            if end > u.payload.len() {
                return err(format!(
                    "payload bytes {offset}..{end} are past its end ({} bytes)",
                    u.payload.len()
                ));
            }
            let mut payload = u.payload.clone();
            payload[*offset..end].copy_from_slice(b);
            repack(u, payload);
        }
        Op::PTrunc { unit, len } => {
            let u = unit_mut(&mut units, *unit)?;
            if *len > u.payload.len() {
                return err(format!(
                    "cannot cut a {}-byte payload to {len}",
                    u.payload.len()
                ));
            }
            let payload = u.payload[..*len].to_vec();
            repack(u, payload);
        }
        Op::PAppend { unit, bytes: b } => {
            let u = unit_mut(&mut units, *unit)?;
            let mut payload = u.payload.clone();
            payload.extend_from_slice(b);
            repack(u, payload);
        }
        Op::PSet { unit, bytes: b } => repack(unit_mut(&mut units, *unit)?, b.clone()),
        Op::Insert {
            at,
            unit_type,
            payload,
        } => {
            if *at > units.units.len() {
                return err(format!(
                    "cannot insert at {at}: the stream has {} units",
                    units.units.len()
                ));
            }
            units
                .units
                .insert(*at, Unit::new(*unit_type, payload.clone()));
        }
        Op::Delete { unit } => {
            unit_mut(&mut units, *unit)?;
            units.units.remove(*unit);
        }
        Op::Dup { unit } => {
            let copy = unit_mut(&mut units, *unit)?.clone();
            units.units.insert(unit + 1, copy);
        }
        Op::Swap { a, b } => {
            unit_mut(&mut units, *a)?;
            unit_mut(&mut units, *b)?;
            units.units.swap(*a, *b);
        }
        Op::Move { from, to } => {
            unit_mut(&mut units, *from)?;
            let unit = units.units.remove(*from);
            if *to > units.units.len() {
                return err(format!(
                    "cannot move to {to}: {} units remain",
                    units.units.len()
                ));
            }
            units.units.insert(*to, unit);
        }
        Op::Write { .. } | Op::Xor { .. } | Op::Truncate { .. } | Op::Append { .. } => {
            unreachable!("handled above")
        }
    }
    Ok(units.to_bytes())
}

fn int_value(value: &str, bits: u32) -> Result<u64, MutateError> {
    let v = parse_int(value)?;
    if bits < 64 && v >> bits != 0 {
        return err(format!("{v} does not fit in {bits} bits"));
    }
    Ok(v)
}

fn bytes_value(value: &str) -> Result<Vec<u8>, MutateError> {
    if let Some(h) = value.strip_prefix("hex:") {
        parse_hex(h)
    } else if let Some(s) = value.strip_prefix("str:") {
        Ok(s.as_bytes().to_vec())
    } else {
        err(format!(
            "{value:?}: byte strings are written hex:... or str:..."
        ))
    }
}

fn set_identification(units: &mut Units, element: &str, value: &str) -> Result<(), MutateError> {
    if units.identification.len() < IDENTIFICATION_BYTES {
        return err("the stream has no complete identification");
    }
    match element {
        "magic" => {
            let b = bytes_value(value)?;
            if b.len() != 4 {
                return err("magic has 4 bytes");
            }
            units.identification[..4].copy_from_slice(&b);
        }
        "version_major" => units.identification[4] = int_value(value, 8)? as u8,
        "version_minor" => units.identification[5] = int_value(value, 8)? as u8,
        _ => {
            return err(format!(
                "identification has no element {element:?} (magic, version_major, version_minor)"
            ))
        }
    }
    Ok(())
}

fn reader(payload: &[u8]) -> BitReader<&[u8], BigEndian> {
    BitReader::endian(payload, BigEndian)
}

fn parse_failed<T>(what: &str) -> Result<T, MutateError> {
    err(format!("the payload is not a complete {what}() structure"))
}

/// Index `i` of `name[i]`.
fn indexed(element: &str, name: &str) -> Option<Result<usize, MutateError>> {
    let rest = element
        .strip_prefix(name)?
        .strip_prefix('[')?
        .strip_suffix(']')?;
    Some(parse_usize(rest))
}

fn set_element(unit: &mut Unit, element: &str, value: &str) -> Result<(), MutateError> {
    match element {
        "unit_type" => {
            unit.unit_type = int_value(value, 8)? as u8;
            unit.unit_crc = Unit::crc_of(unit.unit_type, unit.payload_size, &unit.payload);
            return Ok(());
        }
        "payload_size" => {
            unit.payload_size = int_value(value, 32)? as u32;
            unit.unit_crc = Unit::crc_of(unit.unit_type, unit.payload_size, &unit.payload);
            return Ok(());
        }
        "unit_crc" => {
            unit.unit_crc = int_value(value, 32)? as u32;
            return Ok(());
        }
        "unit_payload" => {
            repack(unit, bytes_value(value)?);
            return Ok(());
        }
        _ => {}
    }
    let size = unit.payload_size;
    let payload = match UnitType::from_code(unit.unit_type) {
        Some(UnitType::SequenceHeader) => {
            let Ok(mut s) = SequenceHeader::from_reader(&mut reader(&unit.payload)) else {
                return parse_failed("sequence_header");
            };
            match element {
                "version_major" => s.version_major = int_value(value, 8)? as u8,
                "version_minor" => s.version_minor = int_value(value, 8)? as u8,
                "profile_idc" => s.profile_idc = int_value(value, 8)? as u8,
                "level_idc" => s.level_idc = int_value(value, 8)? as u8,
                "num_layers" => s.num_layers = int_value(value, 16)? as u16,
                "reserved_zero_16bits" => s.reserved_zero_16bits = int_value(value, 16)? as u16,
                _ => return unknown(element, "sequence_header"),
            }
            with_rest(s.to_bytes(), &unit.payload, s.coded_bytes())
        }
        Some(UnitType::LayerParameters) => {
            let Ok(mut p) = LayerParameters::from_reader(&mut reader(&unit.payload)) else {
                return parse_failed("layer_parameters");
            };
            match element {
                "layer_id" => p.layer_id = int_value(value, 16)? as u16,
                "layer_kind" => p.layer_kind = int_value(value, 8)? as u8,
                "element_type" => p.element_type = int_value(value, 8)? as u8,
                "non_negative_flag" => p.non_negative_flag = int_value(value, 1)? == 1,
                "reserved_zero_7bits" => p.reserved_zero_7bits = int_value(value, 7)? as u8,
                "default_method" => p.default_method = int_value(value, 8)? as u8,
                "dims" => {
                    p.dims = if value == "-" {
                        Vec::new()
                    } else {
                        value
                            .split('x')
                            .map(|d| int_value(d, 32).map(|v| v as u32))
                            .collect::<Result<_, _>>()?
                    };
                    if p.dims.len() > 255 {
                        return err("rank is coded in 8 bits");
                    }
                }
                "name" => {
                    p.name = bytes_value(value)?;
                    if p.name.len() > 255 {
                        return err("name_length is coded in 8 bits");
                    }
                }
                e => match indexed(e, "dim") {
                    Some(i) => {
                        let i = i?;
                        let n = p.dims.len();
                        *p.dims
                            .get_mut(i)
                            .ok_or_else(|| MutateError(format!("no dim[{i}]: rank is {n}")))? =
                            int_value(value, 32)? as u32;
                    }
                    None => return unknown(element, "layer_parameters"),
                },
            }
            // Bytes after the structure (if any) stay after it.
            let original = LayerParameters::from_reader(&mut reader(&unit.payload))
                .expect("parsed above")
                .coded_bytes();
            with_rest(p.to_bytes(), &unit.payload, original)
        }
        Some(UnitType::FeatureData) => {
            let Ok(mut d) = FeatureData::from_reader(&mut reader(&unit.payload), &size) else {
                return parse_failed("feature_data");
            };
            match element {
                "layer_id" => d.layer_id = int_value(value, 16)? as u16,
                "frame_index" => d.frame_index = int_value(value, 32)? as u32,
                "coding_method" => d.coding_method = int_value(value, 8)? as u8,
                "method_payload" => d.method_payload = bytes_value(value)?,
                _ => return unknown(element, "feature_data"),
            }
            d.to_bytes()
        }
        Some(UnitType::TensorHash) => {
            let Ok(mut h) = TensorHash::from_reader(&mut reader(&unit.payload), &size) else {
                return parse_failed("tensor_hash");
            };
            match element {
                "layer_id" => h.layer_id = int_value(value, 16)? as u16,
                "frame_index" => h.frame_index = int_value(value, 32)? as u32,
                "hash_type" => h.hash_type = int_value(value, 8)? as u8,
                "hash_value" => h.hash_value = bytes_value(value)?,
                _ => return unknown(element, "tensor_hash"),
            }
            h.to_bytes()
        }
        Some(UnitType::Metadata) => {
            let Ok(mut m) = Metadata::from_reader(&mut reader(&unit.payload)) else {
                return parse_failed("metadata");
            };
            let original = m.coded_bytes();
            let count = m.entries.len();
            let entry = |i: usize, m: &mut Metadata| -> Result<usize, MutateError> {
                if i < m.entries.len() {
                    Ok(i)
                } else {
                    err(format!("no entry {i}: num_entries is {count}"))
                }
            };
            if let Some(i) = indexed(element, "key") {
                let i = entry(i?, &mut m)?;
                m.entries[i].key = bytes_value(value)?;
            } else if let Some(i) = indexed(element, "value") {
                let i = entry(i?, &mut m)?;
                m.entries[i].value = bytes_value(value)?;
            } else {
                return unknown(element, "metadata");
            }
            with_rest(m.to_bytes(), &unit.payload, original)
        }
        Some(UnitType::EndOfSequence) => return unknown(element, "end_of_sequence"),
        Some(UnitType::FrameHeader) => {
            let Ok(mut h) =
                dfc_decoder::syntax::FrameHeader::from_reader(&mut reader(&unit.payload))
            else {
                return parse_failed("frame_header");
            };
            match element {
                "frame_index" => h.frame_index = int_value(value, 32)? as u32,
                "random_access" => h.random_access = int_value(value, 1)? != 0,
                "reserved_zero_7bits" => h.reserved_zero_7bits = int_value(value, 7)? as u8,
                _ => return unknown(element, "frame_header"),
            }
            with_rest(h.to_bytes(), &unit.payload, h.coded_bytes())
        }
        None => {
            return err(format!(
                "unit type 0x{:02X} has no syntax; use unit_payload or pset",
                unit.unit_type
            ))
        }
    };
    repack(unit, payload);
    Ok(())
}

/// A rewritten structure followed by the bytes that followed the original one.
fn with_rest(mut structure: Vec<u8>, payload: &[u8], original_len: usize) -> Vec<u8> {
    structure.extend_from_slice(&payload[original_len.min(payload.len())..]);
    structure
}

fn unknown<T>(element: &str, structure: &str) -> Result<T, MutateError> {
    err(format!(
        "{structure}() has no settable element {element:?} (see `dfc mutate --help`)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let data = [1u8, 2, 3, 4];
        let layer = dfc_encoder::LayerInput {
            name: "x".into(),
            kind: dfc_decoder::LayerKind::Fc,
            element_type: dfc_decoder::ElementType::Uint8,
            shape: vec![4],
            data: &data,
            method: dfc_encoder::MethodChoice::Fixed(dfc_decoder::CodingMethod::Raw),
        };
        dfc_encoder::encode_stream(&[layer], &dfc_encoder::EncoderConfig::default()).unwrap()
    }

    #[test]
    fn text_form_round_trips() {
        for text in [
            "set:0.level_idc=20",
            "set:id.magic=hex:89444643",
            "set:2.dims=2x3",
            "set:2.dims=-",
            "set:3.name=str:a b",
            "crc:1=0x0000ABCD",
            "crcflip:4",
            "pwrite:2@7=00ff",
            "ptrunc:2=6",
            "pappend:1=",
            "pset:1=00",
            "insert:3=0x80:0102",
            "delete:1",
            "dup:2",
            "swap:1,2",
            "move:3,1",
            "write:0=00",
            "xor:10=0x01",
            "truncate:5",
            "append:00",
        ] {
            let op: Op = text.parse().unwrap();
            assert_eq!(op.to_string(), text);
        }
        assert!("bogus:1".parse::<Op>().is_err());
        assert!("set:1=2".parse::<Op>().is_err());
    }

    #[test]
    fn split_and_join_are_inverse() {
        let s = sample();
        let u = Units::parse(&s);
        assert_eq!(u.units.len(), 5);
        assert!(u.tail.is_empty());
        assert_eq!(u.to_bytes(), s);
        let cut = Units::parse(&s[..s.len() - 3]);
        assert_eq!(cut.units.len(), 4);
        assert_eq!(cut.tail.len(), 6);
        assert_eq!(cut.to_bytes(), &s[..s.len() - 3]);
    }

    #[test]
    fn set_keeps_the_stream_framed_and_checked() {
        let s = sample();
        let out = apply_text(
            &s,
            &[
                "set:0.level_idc=20",
                "set:1.dims=2x2",
                "set:2.frame_index=7",
            ],
        )
        .unwrap();
        let u = Units::parse(&out);
        assert!(u.units.iter().all(Unit::crc_matches));
        let (info, _) = dfc_decoder::decode_all(
            &apply_text(&s, &["set:0.level_idc=20", "set:1.dims=2x2"]).unwrap(),
        )
        .unwrap();
        assert_eq!(info.level.level_idc, 20);
        assert_eq!(info.layers[0].shape, vec![2, 2]);
        let e = dfc_decoder::decode_all(&out).unwrap_err();
        assert_eq!(e.requirement, "REQ-5.2-3", "{e}");
    }

    #[test]
    fn unit_operations() {
        let s = sample();
        let moved = apply_text(&s, &["move:0,4"]).unwrap();
        assert_eq!(Units::parse(&moved).units[4].unit_type, 1);
        let e = dfc_decoder::decode_all(&apply_text(&s, &["crcflip:2"]).unwrap()).unwrap_err();
        assert_eq!(e.requirement, "REQ-7.2-3");
        let e = dfc_decoder::decode_all(&apply_text(&s, &["insert:4=0x80:00", "dup:4"]).unwrap());
        assert!(e.is_ok());
        assert!(apply_text(&s, &["delete:9"]).is_err());
        let e = dfc_decoder::decode_all(&apply_text(&s, &["set:4.payload_size=9000000"]).unwrap())
            .unwrap_err();
        assert_eq!(e.requirement, "REQ-A.2-3");
    }
}
