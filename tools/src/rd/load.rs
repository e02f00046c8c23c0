//! The corpus tensors in memory as float32, with what the reports need to know about each.

use crate::bench::corpus::{Corpus, Entry};
use anyhow::{bail, ensure, Context};
use dfc_decoder::ElementType;
use rayon::prelude::*;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A tensor as the reports describe it.
#[derive(Clone, Debug, Serialize)]
pub struct TensorInfo {
    pub model: String,
    pub image: String,
    pub layer: String,
    pub kind: String,
    pub shape: Vec<u32>,
    pub elements: u64,
    /// Path relative to the corpus root (the layout fidelity directories mirror).
    pub path: String,
    /// max |x|, the peak of the PSNR.
    pub peak: f64,
}

impl TensorInfo {
    /// `model/image/layer`.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.model, self.image, self.layer)
    }

    /// Bytes of the original float32 tensor.
    pub fn original_bytes(&self) -> u64 {
        self.elements * 4
    }
}

/// A tensor read from the corpus.
pub struct Loaded {
    pub info: TensorInfo,
    pub values: Vec<f32>,
    /// Canonical little-endian bytes of `values`.
    pub bytes: Vec<u8>,
    pub non_negative: bool,
}

/// The directory the corpus entries' relative paths start from.
pub fn corpus_root(corpus: &Path) -> PathBuf {
    if corpus.is_dir() {
        corpus.to_path_buf()
    } else {
        match corpus.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// Reads every tensor of `corpus` (in parallel on the current rayon pool). Only finite float32
/// tensors can be swept; anything else is an error naming the tensor.
pub fn load_all(corpus: &Corpus, root: &Path) -> anyhow::Result<Vec<Loaded>> {
    corpus
        .entries
        .par_iter()
        .map(|e| load_one(e, root).with_context(|| format!("tensor {}", e.id())))
        .collect()
}

fn load_one(entry: &Entry, root: &Path) -> anyhow::Result<Loaded> {
    let tensor = crate::io::npy::read_npy(&entry.path)?;
    if let Some(shape) = &entry.shape {
        if shape != &tensor.shape && !(shape.is_empty() && tensor.shape == [1]) {
            bail!(
                "the manifest gives shape {shape:?}, {} holds {:?}",
                entry.path.display(),
                tensor.shape
            );
        }
    }
    ensure!(
        tensor.element_type == ElementType::Float32,
        "{} holds {} elements; dfc rd sweeps float32 tensors",
        entry.path.display(),
        tensor.element_type.name()
    );
    let values: Vec<f32> = tensor
        .data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    if let Some(at) = values.iter().position(|v| !v.is_finite()) {
        bail!("element {at} is {}; dfc rd needs finite values", values[at]);
    }
    ensure!(!values.is_empty(), "the tensor has no elements");
    let path = entry.path.strip_prefix(root).unwrap_or(&entry.path);
    let info = TensorInfo {
        model: entry.model.clone(),
        image: entry.image.clone(),
        layer: entry.layer.clone(),
        kind: entry.kind.clone(),
        shape: tensor.shape.clone(),
        elements: values.len() as u64,
        path: path
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        peak: super::metrics::peak(&values),
    };
    Ok(Loaded {
        info,
        non_negative: dfc_encoder::is_non_negative(ElementType::Float32, &tensor.data),
        values,
        bytes: tensor.data,
    })
}
