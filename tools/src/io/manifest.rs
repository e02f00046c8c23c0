//! Corpus manifests (`manifest.json`): a `tensors` list whose entries give, among others, the
//! `path` of a .npy file relative to the manifest and the `kind` of its layer; the tensors of a
//! sequence also give `frame` (and `sequence`, `layer`, `model`).

use anyhow::{bail, Context};
use dfc_decoder::LayerKind;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// File name of a manifest.
pub const MANIFEST: &str = "manifest.json";

/// The kinds a manifest gives, and the frame fields of its sequence tensors, by tensor path
/// relative to the manifest's directory, without the `.npy` extension and with `/` separators.
#[derive(Debug, Default)]
pub struct Manifest {
    pub path: PathBuf,
    kinds: HashMap<String, String>,
    /// The entries that have a (non-null) `frame` field.
    frames: HashMap<String, serde_json::Value>,
    /// The paths of every entry.
    listed: HashSet<String>,
}

/// What a manifest entry with a `frame` field says about its tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameEntry {
    /// The entry's `frame`.
    pub frame: u32,
    /// Its `sequence`, `layer` and `model` fields, where given.
    pub sequence: Option<String>,
    pub layer: Option<String>,
    pub model: Option<String>,
    /// The manifest, for messages.
    pub manifest: PathBuf,
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
        let mut frames = HashMap::new();
        let mut listed = HashSet::new();
        for entry in tensors {
            let Some(p) = entry.get("path").and_then(|p| p.as_str()) else {
                continue;
            };
            let key = normalize(p);
            if let Some(kind) = entry.get("kind").and_then(|k| k.as_str()) {
                kinds.insert(key.clone(), kind.to_string());
            }
            if entry.get("frame").is_some_and(|f| !f.is_null()) {
                frames.insert(key.clone(), entry.clone());
            } else {
                frames.remove(&key);
            }
            listed.insert(key);
        }
        Ok(Some(Manifest {
            path: path.to_path_buf(),
            kinds,
            frames,
            listed,
        }))
    }

    /// Whether an entry has the tensor at `relative` (`/`-separated, without `.npy`) as path.
    pub fn lists(&self, relative: &str) -> bool {
        self.listed.contains(relative)
    }

    /// The frame fields of the tensor at `relative` (`/`-separated, without `.npy`), if its
    /// entry has a `frame`; an error if `frame` is not a non-negative integer or `sequence`,
    /// `layer` or `model` is not a string.
    pub fn frame(&self, relative: &str) -> anyhow::Result<Option<FrameEntry>> {
        let Some(entry) = self.frames.get(relative) else {
            return Ok(None);
        };
        let here = || format!("{}: tensor {relative}", self.path.display());
        let value = &entry["frame"];
        let Some(frame) = value.as_u64().and_then(|f| u32::try_from(f).ok()) else {
            bail!(
                "{}: frame {value} is not a non-negative integer (up to {})",
                here(),
                u32::MAX
            );
        };
        let text = |field: &str| -> anyhow::Result<Option<String>> {
            match entry.get(field) {
                None | Some(serde_json::Value::Null) => Ok(None),
                Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
                Some(v) => bail!("{}: {field} {v} is not a string", here()),
            }
        };
        Ok(Some(FrameEntry {
            frame,
            sequence: text("sequence")?,
            layer: text("layer")?,
            model: text("model")?,
            manifest: self.path.clone(),
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
        self.nearest(file, |m, key| {
            Ok(m.kind(key)?.map(|kind| (kind, m.path.clone())))
        })
    }

    /// The frame fields of the .npy file at `file`, from the nearest manifest (looked for as
    /// by [`Manifests::kind_of_file`]) with an entry for the file, if that entry has a `frame`.
    pub fn frame_of_file(&mut self, file: &Path) -> anyhow::Result<Option<FrameEntry>> {
        Ok(self
            .nearest(file, |m, key| {
                Ok(if m.lists(key) {
                    Some(m.frame(key)?)
                } else {
                    None
                })
            })?
            .flatten())
    }

    /// The first `Some` that `found` gives for the manifests of `file`'s directory and its
    /// ancestors (as far as the path goes), with the file's path relative to each manifest.
    fn nearest<T>(
        &mut self,
        file: &Path,
        mut found: impl FnMut(&Manifest, &str) -> anyhow::Result<Option<T>>,
    ) -> anyhow::Result<Option<T>> {
        let mut dir = file.parent();
        while let Some(d) = dir {
            let Ok(relative) = file.strip_prefix(d) else {
                break;
            };
            let key = normalize(&slash_path(relative)?);
            if let Some(m) = self.in_dir(d)? {
                if let Some(t) = found(m, &key)? {
                    return Ok(Some(t));
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
