//! What the native method's developer examples share: float32 tensors read from .npy files,
//! and the conv and pool maps of a corpus with a manifest.json.
// Each example uses part of this module.
#![allow(dead_code)]

use dfc_decoder::native::TensorDesc;
use dfc_decoder::ElementType;
use dfc_encoder::{is_non_negative, TensorRef};
use std::io::Read;
use std::path::Path;

/// A float32 tensor read from a .npy file (little-endian, C order).
pub struct Npy {
    pub shape: Vec<u32>,
    pub data: Vec<u8>,
}

impl Npy {
    pub fn read(path: &Path) -> Npy {
        let npy = npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap();
        let shape: Vec<u32> = npy.shape().iter().map(|&d| d as u32).collect();
        let mut data = Vec::new();
        npy.into_inner().read_to_end(&mut data).unwrap();
        Npy { shape, data }
    }

    /// The tensor for the encoder.
    pub fn tensor(&self) -> TensorRef<'_> {
        TensorRef {
            element_type: ElementType::Float32,
            shape: &self.shape,
            data: &self.data,
        }
    }

    /// The tensor for the decoder, non-negative when every element is.
    pub fn desc(&self) -> TensorDesc<'_> {
        TensorDesc {
            element_type: ElementType::Float32,
            shape: &self.shape,
            non_negative: is_non_negative(ElementType::Float32, &self.data),
        }
    }
}

/// A conv or pool map of a corpus: its manifest entry's model, kind and path, and the tensor.
pub struct CorpusMap {
    pub model: String,
    pub kind: String,
    pub path: String,
    pub npy: Npy,
}

/// The conv and pool tensors of rank 2 or more listed by `root`/manifest.json, in manifest
/// order, of every model or of `model` only; each is read when the iterator reaches it.
pub fn conv_and_pool_maps<'a>(
    root: &'a Path,
    model: Option<&'a str>,
) -> impl Iterator<Item = CorpusMap> + 'a {
    let manifest: serde_json::Value =
        serde_json::from_reader(std::fs::File::open(root.join("manifest.json")).unwrap()).unwrap();
    let entries = manifest["tensors"].as_array().unwrap().clone();
    entries.into_iter().filter_map(move |t| {
        let kind = t["kind"].as_str().unwrap().to_string();
        let entry_model = t["model"].as_str().unwrap().to_string();
        if (kind != "conv" && kind != "pool") || model.is_some_and(|m| m != entry_model) {
            return None;
        }
        let path = t["path"].as_str().unwrap().to_string();
        let npy = Npy::read(&root.join(&path));
        (npy.shape.len() >= 2).then_some(CorpusMap {
            model: entry_model,
            kind,
            path,
            npy,
        })
    })
}
