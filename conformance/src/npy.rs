//! The .npy files of the external-decoder protocol: one per decoded tensor, the canonical bytes
//! after a NumPy header (format 1.0, 2.0 or 3.0). bfloat16 has no NumPy type and is written as
//! its bit pattern, `<u2`.

use dfc_decoder::ElementType;

/// The `descr` an output file of each element type must have.
pub fn descr(t: ElementType) -> &'static str {
    match t {
        ElementType::Float32 => "<f4",
        ElementType::Float16 => "<f2",
        ElementType::BFloat16 => "<u2",
        ElementType::Int8 => "|i1",
        ElementType::Uint8 => "|u1",
    }
}

/// Also accepted for one-byte types: NumPy writes `|i1`/`|u1`, other writers `<i1`/`<u1`.
pub fn descr_matches(found: &str, t: ElementType) -> bool {
    found == descr(t)
        || (t.size() == 1
            && found.len() == 3
            && found[1..] == descr(t)[1..]
            && matches!(&found[..1], "<" | "="))
}

/// A .npy file: header (format 1.0, C order, 64-byte aligned as NumPy writes it) and data.
pub fn write(t: ElementType, shape: &[u32], data: &[u8]) -> Vec<u8> {
    let shape_text = match shape {
        [d] => format!("({d},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape_text}, }}",
        descr(t)
    );
    let unpadded = 10 + header.len() + 1;
    header.extend(std::iter::repeat_n(' ', (64 - unpadded % 64) % 64));
    header.push('\n');
    let mut out = Vec::with_capacity(10 + header.len() + data.len());
    out.extend_from_slice(b"\x93NUMPY\x01\x00");
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// A parsed .npy file: (descr, fortran_order, shape, data bytes after the header).
pub type Parsed<'a> = (String, bool, Vec<u32>, &'a [u8]);

/// The header fields of a .npy file read in chunks, with its data's length and SHA-256.
#[derive(Clone, Debug)]
pub struct Header {
    pub descr: String,
    pub fortran: bool,
    pub shape: Vec<u32>,
    pub data_len: u64,
    pub sha256: String,
}

/// Where the header of a .npy file ends (its magic, version, length and text), from its first
/// 10 bytes (version 1) or 12 (versions 2 and 3).
pub fn header_end(bytes: &[u8]) -> Result<usize, String> {
    header_span(bytes).map(|(start, len)| start + len)
}

/// (start, length) of a .npy header's text.
fn header_span(bytes: &[u8]) -> Result<(usize, usize), String> {
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (no \\x93NUMPY magic)".into());
    }
    match bytes[6] {
        1 => Ok((10, usize::from(u16::from_le_bytes([bytes[8], bytes[9]])))),
        2 | 3 if bytes.len() >= 12 => Ok((
            12,
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
        )),
        v => Err(format!(".npy format version {v} is not supported")),
    }
}

/// Parses a .npy file.
pub fn parse(bytes: &[u8]) -> Result<Parsed<'_>, String> {
    let (start, len) = header_span(bytes)?;
    let end = start
        .checked_add(len)
        .filter(|&e| e <= bytes.len())
        .ok_or(".npy header runs past the end of the file")?;
    let text = std::str::from_utf8(&bytes[start..end]).map_err(|_| ".npy header is not text")?;
    let descr = dict_value(text, "descr")
        .and_then(|v| {
            v.strip_prefix('\'')
                .and_then(|v| v.split('\'').next())
                .map(str::to_string)
        })
        .ok_or("the .npy header has no 'descr'")?;
    let fortran = match dict_value(text, "fortran_order") {
        Some(v) if v.starts_with("True") => true,
        Some(v) if v.starts_with("False") => false,
        _ => return Err("the .npy header has no 'fortran_order'".into()),
    };
    let shape_text = dict_value(text, "shape")
        .and_then(|v| v.strip_prefix('('))
        .and_then(|v| v.split(')').next())
        .ok_or("the .npy header has no 'shape'")?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.trim_end_matches('L')
                .parse::<u32>()
                .map_err(|_| format!("bad dimension {s:?} in the .npy shape"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((descr, fortran, shape, &bytes[end..]))
}

/// The text after `'key':` in a Python dict literal.
fn dict_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let quoted = [format!("'{key}'"), format!("\"{key}\"")];
    let p = quoted
        .iter()
        .find_map(|q| text.find(q.as_str()).map(|p| p + q.len()))?;
    let rest = text[p..].trim_start().strip_prefix(':')?;
    Some(rest.trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_alignment() {
        for (t, shape) in [
            (ElementType::Float32, vec![2, 3]),
            (ElementType::BFloat16, vec![5]),
            (ElementType::Uint8, vec![1, 1, 1, 7]),
        ] {
            let n: u32 = shape.iter().product();
            let data: Vec<u8> = (0..n as usize * t.size()).map(|i| i as u8).collect();
            let file = write(t, &shape, &data);
            assert_eq!((file.len() - data.len()) % 64, 0);
            let (d, f, s, bytes) = parse(&file).unwrap();
            assert_eq!(
                (d.as_str(), f, s, bytes),
                (descr(t), false, shape, &data[..])
            );
        }
    }

    #[test]
    fn parses_numpy_headers() {
        let mut file = b"\x93NUMPY\x01\x00".to_vec();
        let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (512, 14, 14), }          \n";
        file.extend_from_slice(&(h.len() as u16).to_le_bytes());
        file.extend_from_slice(h.as_bytes());
        file.extend_from_slice(&[1, 2, 3, 4]);
        let (d, f, s, data) = parse(&file).unwrap();
        assert_eq!(
            (d.as_str(), f, s, data),
            ("<f4", false, vec![512, 14, 14], &[1u8, 2, 3, 4][..])
        );
        assert!(descr_matches("<u1", ElementType::Uint8));
        assert!(!descr_matches("<f2", ElementType::BFloat16));
    }
}
