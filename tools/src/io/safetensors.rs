//! .safetensors files via the `safetensors` crate: every tensor of a file in (the output is
//! assembled by `dfc decode`, which streams it).

use super::Tensor;
use ::safetensors::{Dtype, SafeTensors};
use anyhow::{bail, Context};
use dfc_decoder::ElementType;
use std::path::Path;

/// The DFC element type of a safetensors dtype.
pub fn element_type_of(dtype: Dtype) -> Option<ElementType> {
    Some(match dtype {
        Dtype::F32 => ElementType::Float32,
        Dtype::F16 => ElementType::Float16,
        Dtype::BF16 => ElementType::BFloat16,
        Dtype::I8 => ElementType::Int8,
        Dtype::U8 => ElementType::Uint8,
        _ => return None,
    })
}

/// The safetensors dtype of a DFC element type.
pub fn dtype_of(element_type: ElementType) -> Dtype {
    match element_type {
        ElementType::Float32 => Dtype::F32,
        ElementType::Float16 => Dtype::F16,
        ElementType::BFloat16 => Dtype::BF16,
        ElementType::Int8 => Dtype::I8,
        ElementType::Uint8 => Dtype::U8,
    }
}

/// Reads every tensor of a .safetensors file, sorted by name. A rank-0 tensor becomes shape [1].
pub fn read_safetensors(path: &Path) -> anyhow::Result<Vec<(String, Tensor)>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot open {}", path.display()))?;
    read_safetensors_from(&bytes).with_context(|| format!("{}", path.display()))
}

/// Reads every tensor of .safetensors content, sorted by name.
pub fn read_safetensors_from(bytes: &[u8]) -> anyhow::Result<Vec<(String, Tensor)>> {
    let file = SafeTensors::deserialize(bytes).context("not a .safetensors file")?;
    let mut out = Vec::with_capacity(file.len());
    for (name, view) in file.tensors() {
        let Some(element_type) = element_type_of(view.dtype()) else {
            bail!(
                "tensor {name:?}: dtype {} is not supported (F32, F16, BF16, I8, U8)",
                view.dtype()
            );
        };
        let shape: Vec<u32> = if view.shape().is_empty() {
            vec![1]
        } else {
            view.shape()
                .iter()
                .map(|&d| u32::try_from(d))
                .collect::<Result<_, _>>()
                .with_context(|| format!("tensor {name:?}: a dimension is above 2^32"))?
        };
        out.push((
            name,
            Tensor {
                element_type,
                shape,
                data: view.data().to_vec(),
            },
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}
