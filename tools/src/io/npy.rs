//! .npy files (NumPy format 1.0–3.0) via `npyz`: header parsing by the crate, data copied as raw
//! bytes so that every bit (NaN payloads, -0.0, subnormals) is kept.

use super::Tensor;
use anyhow::{bail, Context};
use dfc_decoder::ElementType;
use std::io::Read;
use std::path::Path;

/// The .npy type string of an element type. bfloat16 has none in NumPy; it is stored as its bit
/// pattern, `<u2`.
pub fn descr(element_type: ElementType) -> &'static str {
    match element_type {
        ElementType::Float32 => "<f4",
        ElementType::Float16 => "<f2",
        ElementType::BFloat16 => "<u2",
        ElementType::Int8 => "|i1",
        ElementType::Uint8 => "|u1",
    }
}

/// Element type of a .npy type string, and whether its bytes need swapping to little-endian.
fn element_type_of(descr: &str) -> Option<(ElementType, bool)> {
    if !descr.is_char_boundary(1) {
        return None;
    }
    let (order, rest) = descr.split_at(1);
    let big = order == ">";
    let t = match rest {
        "f4" => ElementType::Float32,
        "f2" => ElementType::Float16,
        "i1" => ElementType::Int8,
        "u1" | "b1" => ElementType::Uint8,
        _ => return None,
    };
    Some((t, big && t.size() > 1))
}

/// Reads a .npy file into the canonical layout.
pub fn read_npy(path: &Path) -> anyhow::Result<Tensor> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    read_npy_from(std::io::BufReader::new(file)).with_context(|| format!("{}", path.display()))
}

/// Reads .npy content from any reader.
pub fn read_npy_from<R: Read>(reader: R) -> anyhow::Result<Tensor> {
    let npy = npyz::NpyFile::new(reader).context("not a .npy file")?;
    let dtype = npy.dtype();
    // npyz gives the descr as a Python literal, quotes included: `'<f4'`.
    let descr = dtype.descr();
    let descr = descr.trim_matches('\'');
    let Some((element_type, swap)) = element_type_of(descr) else {
        bail!("element type {descr} is not supported (float32, float16, int8, uint8)");
    };
    let shape: Vec<u32> = if npy.shape().is_empty() {
        vec![1]
    } else {
        npy.shape()
            .iter()
            .map(|&d| u32::try_from(d).context("dimension above 2^32"))
            .collect::<anyhow::Result<_>>()?
    };
    let fortran = npy.order() == npyz::Order::Fortran;
    let count: u64 = shape.iter().map(|&d| u64::from(d)).product();
    let len = count
        .checked_mul(element_type.size() as u64)
        .filter(|&n| n <= isize::MAX as u64)
        .context("array too large")?;
    let mut data = Vec::new();
    npy.into_inner()
        .take(len)
        .read_to_end(&mut data)
        .context("reading array data")?;
    if data.len() as u64 != len {
        bail!("file ends after {} of {len} data bytes", data.len());
    }
    if swap {
        for e in data.chunks_exact_mut(element_type.size()) {
            e.reverse();
        }
    }
    if fortran && shape.len() > 1 {
        data = fortran_to_c(&data, &shape, element_type.size());
    }
    Ok(Tensor {
        element_type,
        shape,
        data,
    })
}

/// Reorders a column-major array to row-major.
fn fortran_to_c(data: &[u8], shape: &[u32], size: usize) -> Vec<u8> {
    let dims: Vec<usize> = shape.iter().map(|&d| d as usize).collect();
    let count: usize = dims.iter().product();
    let mut out = vec![0u8; data.len()];
    let mut index = vec![0usize; dims.len()];
    for c_pos in 0..count {
        // Fortran offset of the C-order multi-index.
        let mut f_pos = 0;
        let mut stride = 1;
        for (i, &d) in index.iter().zip(&dims) {
            f_pos += i * stride;
            stride *= d;
        }
        out[c_pos * size..(c_pos + 1) * size]
            .copy_from_slice(&data[f_pos * size..(f_pos + 1) * size]);
        for k in (0..dims.len()).rev() {
            index[k] += 1;
            if index[k] < dims[k] {
                break;
            }
            index[k] = 0;
        }
    }
    out
}

/// `GROWTH_AXIS_MAX_DIGITS` of NumPy's format module: spare header room for a growing axis.
const GROWTH_AXIS_MAX_DIGITS: usize = 21;
/// `ARRAY_ALIGN` of NumPy's format module: the data starts at a multiple of this.
const ARRAY_ALIGN: usize = 64;

/// The .npy header NumPy's `np.save` writes for a C-order array of this type and shape, byte
/// for byte (NumPy ≥ 1.24: keys sorted, the shape as a Python tuple, growth padding, 64-byte
/// alignment; format 1.0 unless the header needs 2.0).
pub fn header(element_type: ElementType, shape: &[u32]) -> Vec<u8> {
    let shape_repr = match shape {
        [] => "()".to_string(),
        [d] => format!("({d},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut text = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape_repr}, }}",
        descr(element_type)
    );
    if let Some(first) = shape.first() {
        let digits = first.to_string().len();
        let spare = GROWTH_AXIS_MAX_DIGITS.saturating_sub(digits);
        text.extend(std::iter::repeat_n(' ', spare));
    }
    // `_wrap_header`: the text, padding spaces and '\n' fill up to a multiple of ARRAY_ALIGN,
    // and a header that is already aligned still gets a full ARRAY_ALIGN of padding.
    let wrap = |len_bytes: usize| {
        let hlen = text.len() + 1;
        let padlen = ARRAY_ALIGN - ((6 + 2 + len_bytes + hlen) % ARRAY_ALIGN);
        (hlen + padlen, padlen)
    };
    let (total, padlen, version) = match wrap(2) {
        (total, padlen) if total <= usize::from(u16::MAX) => (total, padlen, 1u8),
        _ => {
            let (total, padlen) = wrap(4);
            (total, padlen, 2u8)
        }
    };
    let mut out = Vec::with_capacity(12 + total);
    out.extend_from_slice(b"\x93NUMPY");
    out.extend_from_slice(&[version, 0]);
    if version == 1 {
        out.extend_from_slice(&(total as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(total as u32).to_le_bytes());
    }
    out.extend_from_slice(text.as_bytes());
    out.extend(std::iter::repeat_n(b' ', padlen));
    out.push(b'\n');
    out
}

/// Writes a .npy file's content: [`header`], then the canonical bytes verbatim.
pub fn write_npy_to<W: std::io::Write>(
    mut writer: W,
    element_type: ElementType,
    shape: &[u32],
    data: &[u8],
) -> std::io::Result<()> {
    writer.write_all(&header(element_type, shape))?;
    writer.write_all(data)?;
    writer.flush()
}

/// The bytes of a .npy file holding `tensor`.
pub fn to_npy_bytes(tensor: &Tensor) -> Vec<u8> {
    let mut out = header(tensor.element_type, &tensor.shape);
    out.extend_from_slice(&tensor.data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_matches_numpy() {
        // Headers written by NumPy 2.4 `np.save`.
        let cases: &[(ElementType, &[u32], &str)] = &[
            (
                ElementType::Float32,
                &[512, 14, 14],
                "{'descr': '<f4', 'fortran_order': False, 'shape': (512, 14, 14), }",
            ),
            (
                ElementType::Float32,
                &[2],
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
            ),
            (
                ElementType::Uint8,
                &[3, 1],
                "{'descr': '|u1', 'fortran_order': False, 'shape': (3, 1), }",
            ),
        ];
        for (t, shape, dict) in cases {
            let h = header(*t, shape);
            assert_eq!(h.len() % 64, 0);
            assert_eq!(&h[..6], b"\x93NUMPY");
            assert_eq!(usize::from(u16::from_le_bytes([h[8], h[9]])), h.len() - 10);
            let text = std::str::from_utf8(&h[10..]).unwrap();
            assert!(text.starts_with(dict), "{text}");
            assert!(text.ends_with('\n'));
            let parsed = read_npy_from(
                &to_npy_bytes(&Tensor {
                    element_type: *t,
                    shape: shape.to_vec(),
                    data: vec![0; shape.iter().product::<u32>() as usize * t.size()],
                })[..],
            )
            .unwrap();
            assert_eq!(&parsed.shape[..], *shape);
        }
    }
}
