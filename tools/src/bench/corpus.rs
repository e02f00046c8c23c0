//! What `dfc bench` measures: a corpus directory with a `manifest.json`, a plain tree
//! `model/image/layer.npy`, or a single `.npy` file.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Layer kinds as the corpus format and the tables name them.
pub const KINDS: &[&str] = &["conv", "pool", "fc", "other"];

/// One tensor of the corpus, before its data is read.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub model: String,
    /// The image, or `seq/frame_XX` for a video frame.
    pub image: String,
    pub layer: String,
    /// `conv`, `pool`, `fc` or `other`.
    pub kind: String,
    pub path: PathBuf,
    /// Shape the manifest declares; checked against the file.
    pub shape: Option<Vec<u32>>,
    /// Non-zero rate the manifest declares; computed from the data otherwise.
    pub nonzero_rate: Option<f64>,
    pub sequence: Option<String>,
    pub frame: Option<u32>,
}

impl Entry {
    /// `model/image/layer`, the name errors and progress use.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.model, self.image, self.layer)
    }
}

/// The tensors to measure, with the network order of each model's layers.
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    /// What the user named, for the report header.
    pub source: String,
    pub entries: Vec<Entry>,
    /// Models in order of first appearance.
    pub models: Vec<String>,
    /// Per model, its layers in network order.
    pub layer_order: BTreeMap<String, Vec<String>>,
}

impl Corpus {
    /// Position of a layer in its model's network order (unknown layers last).
    pub fn layer_rank(&self, model: &str, layer: &str) -> usize {
        self.layer_order
            .get(model)
            .and_then(|l| l.iter().position(|x| x == layer))
            .unwrap_or(usize::MAX)
    }

    /// Keeps only the tensors whose kind is listed.
    pub fn retain_kinds(&mut self, kinds: &[String]) {
        self.entries.retain(|e| kinds.contains(&e.kind));
        self.refresh_orders();
    }

    fn refresh_orders(&mut self) {
        let mut models: Vec<String> = Vec::new();
        for e in &self.entries {
            if !models.contains(&e.model) {
                models.push(e.model.clone());
            }
        }
        for m in &models {
            let order = self.layer_order.entry(m.clone()).or_default();
            for e in self.entries.iter().filter(|e| &e.model == m) {
                if !order.contains(&e.layer) {
                    order.push(e.layer.clone());
                }
            }
        }
        self.layer_order.retain(|m, _| models.contains(m));
        for (m, order) in self.layer_order.iter_mut() {
            order.retain(|l| self.entries.iter().any(|e| &e.model == m && &e.layer == l));
        }
        self.models = models;
    }
}

/// Reads a corpus: a directory with `manifest.json`, a manifest file, a plain tree of `.npy`
/// files, or one `.npy` file. `kind_overrides` maps layer names to kinds (`--kind LAYER=KIND`).
pub fn load(path: &Path, kind_overrides: &BTreeMap<String, String>) -> anyhow::Result<Corpus> {
    for kind in kind_overrides.values() {
        check_kind(kind)?;
    }
    let mut corpus = if path.is_dir() {
        let manifest = path.join("manifest.json");
        if manifest.is_file() {
            from_manifest(&manifest)?
        } else {
            from_tree(path)?
        }
    } else if path.is_file() {
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => from_manifest(path)?,
            Some("npy") => from_single(path)?,
            _ => bail!(
                "{}: expected a directory, a manifest.json or a .npy file",
                path.display()
            ),
        }
    } else {
        bail!("{}: no such file or directory", path.display());
    };
    for e in &mut corpus.entries {
        if let Some(kind) = kind_overrides.get(&e.layer) {
            e.kind = kind.clone();
        }
    }
    corpus.source = path.display().to_string();
    corpus.refresh_orders();
    if corpus.entries.is_empty() {
        bail!("{}: no tensors found", path.display());
    }
    Ok(corpus)
}

fn check_kind(kind: &str) -> anyhow::Result<()> {
    if !KINDS.contains(&kind) {
        bail!(
            "unknown layer kind {kind:?} (expected one of {})",
            KINDS.join(", ")
        );
    }
    Ok(())
}

#[derive(Deserialize)]
struct Manifest {
    tensors: Vec<ManifestTensor>,
    #[serde(default)]
    models: BTreeMap<String, ManifestModel>,
}

#[derive(Deserialize)]
struct ManifestModel {
    #[serde(default)]
    layers: Vec<ManifestLayer>,
}

#[derive(Deserialize)]
struct ManifestLayer {
    layer: String,
}

#[derive(Deserialize)]
struct ManifestTensor {
    model: String,
    #[serde(default)]
    image: Option<String>,
    layer: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    shape: Option<Vec<u32>>,
    #[serde(default)]
    nonzero_rate: Option<f64>,
    path: String,
    #[serde(default)]
    sequence: Option<String>,
    #[serde(default)]
    frame: Option<u32>,
}

fn from_manifest(manifest: &Path) -> anyhow::Result<Corpus> {
    let text = std::fs::read_to_string(manifest)
        .with_context(|| format!("cannot read {}", manifest.display()))?;
    let parsed: Manifest = serde_json::from_str(&text)
        .with_context(|| format!("{}: not a corpus manifest", manifest.display()))?;
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let mut entries = Vec::with_capacity(parsed.tensors.len());
    for t in parsed.tensors {
        let kind = match t.kind {
            Some(k) => {
                check_kind(&k)
                    .with_context(|| format!("{}: tensor {}", manifest.display(), t.path))?;
                k
            }
            None => match &t.shape {
                Some(s) => inferred_kind(s.len()).to_string(),
                None => String::new(), // resolved from the file header below
            },
        };
        let path = dir.join(&t.path);
        let kind = if kind.is_empty() {
            inferred_kind(npy_rank(&path)?).to_string()
        } else {
            kind
        };
        entries.push(Entry {
            model: t.model,
            image: t.image.unwrap_or_else(|| "-".into()),
            layer: t.layer,
            kind,
            path,
            shape: t.shape,
            nonzero_rate: t.nonzero_rate,
            sequence: t.sequence,
            frame: t.frame,
        });
    }
    let mut layer_order = BTreeMap::new();
    for (model, m) in parsed.models {
        layer_order.insert(model, m.layers.into_iter().map(|l| l.layer).collect());
    }
    Ok(Corpus {
        source: String::new(),
        entries,
        models: Vec::new(),
        layer_order,
    })
}

/// `fc` for vectors, `conv` otherwise (plain trees carry no kind).
pub fn inferred_kind(rank: usize) -> &'static str {
    if rank <= 1 {
        "fc"
    } else {
        "conv"
    }
}

/// Rank of a .npy array from its header alone.
fn npy_rank(path: &Path) -> anyhow::Result<usize> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let npy = npyz::NpyFile::new(std::io::BufReader::new(file))
        .with_context(|| format!("{}: not a .npy file", path.display()))?;
    Ok(npy.shape().len())
}

fn from_tree(root: &Path) -> anyhow::Result<Corpus> {
    let mut files = Vec::new();
    walk(root, &mut files)?;
    files.sort();
    let root_name = root
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "-".into());
    let mut entries = Vec::new();
    for path in files {
        let rel = path.strip_prefix(root).unwrap_or(&path);
        let parts: Vec<String> = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        let layer = stem(&path);
        let (model, image) = match parts.len() {
            1 => (root_name.clone(), "-".to_string()),
            2 => (parts[0].clone(), "-".to_string()),
            n => (parts[0].clone(), parts[1..n - 1].join("/")),
        };
        let (sequence, frame) = sequence_frame(&image);
        entries.push(Entry {
            model,
            image,
            layer,
            kind: inferred_kind(npy_rank(&path)?).to_string(),
            path,
            shape: None,
            nonzero_rate: None,
            sequence,
            frame,
        });
    }
    let mut corpus = Corpus {
        entries,
        ..Corpus::default()
    };
    // A plain tree has no network order: order layers by the first number in their name
    // (conv1_2, pool1, conv2_2, ... ; res2c, res3d, ...; names without a number last).
    let mut by_model: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in &corpus.entries {
        let layers = by_model.entry(e.model.clone()).or_default();
        if !layers.contains(&e.layer) {
            layers.push(e.layer.clone());
        }
    }
    for layers in by_model.values_mut() {
        layers.sort_by_key(|l| (first_number(l), l.clone()));
    }
    corpus.layer_order = by_model;
    Ok(corpus)
}

fn from_single(path: &Path) -> anyhow::Result<Corpus> {
    let name = |p: Option<&Path>| {
        p.and_then(|p| p.file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "-".into())
    };
    let abs = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
    let image_dir = abs.parent();
    let image = name(image_dir);
    let model = name(image_dir.and_then(Path::parent));
    let (sequence, frame) = sequence_frame(&image);
    Ok(Corpus {
        entries: vec![Entry {
            model,
            image,
            layer: stem(path),
            kind: inferred_kind(npy_rank(path)?).to_string(),
            path: path.to_path_buf(),
            shape: None,
            nonzero_rate: None,
            sequence,
            frame,
        }],
        ..Corpus::default()
    })
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "npy") {
            out.push(path);
        }
    }
    Ok(())
}

fn stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn first_number(name: &str) -> u64 {
    let digits: String = name
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap_or(u64::MAX)
}

/// `seq_bikes/frame_03` → (`bikes`, 3), as the corpus lays out video frames.
fn sequence_frame(image: &str) -> (Option<String>, Option<u32>) {
    let mut parts = image.rsplitn(2, '/');
    let (Some(frame), Some(seq)) = (parts.next(), parts.next()) else {
        return (None, None);
    };
    let number = frame
        .strip_prefix("frame_")
        .and_then(|n| n.parse::<u32>().ok());
    match number {
        Some(n) => (
            Some(seq.strip_prefix("seq_").unwrap_or(seq).to_string()),
            Some(n),
        ),
        None => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_numbers_give_network_order() {
        let mut l = vec![
            "pool2",
            "conv1_2",
            "conv2_2",
            "pool1",
            "fc_logits",
            "res4f",
            "res4c_branch2b",
        ];
        l.sort_by_key(|l| (first_number(l), l.to_string()));
        assert_eq!(
            l,
            [
                "conv1_2",
                "pool1",
                "conv2_2",
                "pool2",
                "res4c_branch2b",
                "res4f",
                "fc_logits"
            ]
        );
    }

    #[test]
    fn frames_are_recognised() {
        assert_eq!(
            sequence_frame("seq_bikes/frame_07"),
            (Some("bikes".into()), Some(7))
        );
        assert_eq!(sequence_frame("astronaut"), (None, None));
    }
}
