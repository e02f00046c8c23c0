//! Corpus manifests (`manifest.json`): a `tensors` list whose entries give, among others, the
//! `path` of a .npy file relative to the manifest and the `kind` of its layer.

use anyhow::{bail, Context};
use dfc_decoder::LayerKind;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// File name of a manifest.
pub const MANIFEST: &str = "manifest.json";

/// The kinds a manifest gives, by tensor path relative to the manifest's directory, without the
/// `.npy` extension and with `/` separators.
#[derive(Debug, Default)]
pub struct Manifest {
    pub path: PathBuf,
    kinds: HashMap<String, String>,
}

impl Manifest {
    /// Reads a manifest. `Ok(None)` when the file is JSON but not a tensor manifest (no
    /// `tensors` list): another tool's manifest.json is ignored.
    pub fn read(path: &Path) -> anyhow::Result<Option<Manifest>> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let json: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        let Some(tensors) = json.get("tensors").and_then(|t| t.as_array()) else {
            return Ok(None);
        };
        let mut kinds = HashMap::new();
        for entry in tensors {
            let (Some(p), Some(kind)) = (
                entry.get("path").and_then(|p| p.as_str()),
                entry.get("kind").and_then(|k| k.as_str()),
            ) else {
                continue;
            };
            kinds.insert(normalize(p), kind.to_string());
        }
        Ok(Some(Manifest {
            path: path.to_path_buf(),
            kinds,
        }))
    }

    /// The kind of the tensor at `relative` (`/`-separated, without `.npy`), if listed.
    pub fn kind(&self, relative: &str) -> anyhow::Result<Option<LayerKind>> {
        match self.kinds.get(relative) {
            None => Ok(None),
            Some(k) => match LayerKind::from_name(k) {
                Some(kind) => Ok(Some(kind)),
                None => bail!(
                    "{}: tensor {relative}: kind {k:?} is not conv, pool, fc or other (override it with --kind)",
                    self.path.display()
                ),
            },
        }
    }
}

/// `./a\b/c.npy` → `a/b/c`.
fn normalize(path: &str) -> String {
    let p = path.replace('\\', "/");
    let p = p.trim_start_matches("./");
    p.strip_suffix(".npy").unwrap_or(p).to_string()
}

/// Manifests read so far, by directory.
#[derive(Default)]
pub struct Manifests {
    by_dir: HashMap<PathBuf, Option<Manifest>>,
}

impl Manifests {
    /// The manifest in `dir`, if there is one.
    pub fn in_dir(&mut self, dir: &Path) -> anyhow::Result<Option<&Manifest>> {
        if !self.by_dir.contains_key(dir) {
            let path = dir_or_dot(dir).join(MANIFEST);
            let manifest = if path.is_file() {
                Manifest::read(&path)?
            } else {
                None
            };
            self.by_dir.insert(dir.to_path_buf(), manifest);
        }
        Ok(self.by_dir[dir].as_ref())
    }

    /// The kind of the .npy file at `file` from the nearest manifest that lists it, looking in
    /// the file's directory and then in each ancestor directory as far as the path given on
    /// the command line goes, up to the directory it is relative to (`a/b/c.npy`: `a/b`, `a`,
    /// then the current directory; `/d/c.npy`: `/d`, then `/`).
    pub fn kind_of_file(&mut self, file: &Path) -> anyhow::Result<Option<(LayerKind, PathBuf)>> {
        let mut dir = file.parent();
        while let Some(d) = dir {
            let Ok(relative) = file.strip_prefix(d) else {
                break;
            };
            let key = normalize(&slash_path(relative)?);
            if let Some(m) = self.in_dir(d)? {
                if let Some(kind) = m.kind(&key)? {
                    return Ok(Some((kind, m.path.clone())));
                }
            }
            if d.as_os_str().is_empty() {
                break;
            }
            dir = d.parent();
        }
        Ok(None)
    }
}

fn dir_or_dot(dir: &Path) -> &Path {
    if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }
}

/// A relative path as text with `/` separators.
pub fn slash_path(path: &Path) -> anyhow::Result<String> {
    let parts = path
        .components()
        .map(|c| {
            c.as_os_str()
                .to_str()
                .with_context(|| format!("file name {:?} is not UTF-8", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(parts.join("/"))
}
