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
    let file = std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    read_npy_from(std::io::BufReader::new(file)).with_context(|| format!("{}", path.display()))
}

/// Reads .npy content from any reader.
pub fn read_npy_from<R: Read>(reader: R) -> anyhow::Result<Tensor> {
    let npy = npyz::NpyFile::new(reader).context("not a .npy file")?;
    let dtype = npy.dtype();
    let descr = dtype.descr();
    let Some((element_type, swap)) = element_type_of(&descr) else {
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
        out[c_pos * size..(c_pos + 1) * size].copy_from_slice(&data[f_pos * size..(f_pos + 1) * size]);
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
