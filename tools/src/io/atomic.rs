//! Output files that appear whole or not at all: each is written to a temporary file in its
//! target directory and renamed over the target once complete.

use anyhow::{bail, Context};
use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::NamedTempFile;

/// The directory a file at `path` lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A new temporary file in `dir`, with the permissions an ordinary new file gets (0666 less the
/// umask) rather than tempfile's private 0600.
fn temp_in(dir: &Path) -> std::io::Result<NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".dfc-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// Writes `bytes` to `path` atomically: a failure leaves no partial file and any previous
/// file at `path` untouched.
pub fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    write_file_with(path, |w| w.write_all(bytes))
}

/// Like [`write_file`], with the content produced by `fill`.
pub fn write_file_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<&std::fs::File>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let dir = parent_dir(path);
    if !dir.is_dir() {
        bail!(
            "cannot write {}: directory {} does not exist",
            path.display(),
            dir.display()
        );
    }
    let tmp = temp_in(dir).with_context(|| format!("cannot write {}", path.display()))?;
    {
        let mut w = std::io::BufWriter::new(tmp.as_file());
        fill(&mut w)
            .and_then(|()| w.flush())
            .with_context(|| format!("writing {}", path.display()))?;
    }
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Several output files under one root directory, staged as temporary files and renamed into
/// place together by [`Staged::commit`]. Dropped without a commit, it removes its temporary
/// files and the directories it created.
pub struct Staged {
    root: PathBuf,
    /// `root` canonicalized, to check that no file lands outside it through a symbolic link.
    canonical_root: PathBuf,
    files: Vec<(NamedTempFile, PathBuf)>,
    /// Directories created, in creation order.
    created_dirs: Vec<PathBuf>,
    /// Files already renamed into place by a commit that then failed.
    committed: Vec<PathBuf>,
}

impl Staged {
    /// Starts staging under `root`, creating it (and its missing parents) if needed.
    pub fn new(root: &Path) -> anyhow::Result<Self> {
        let mut created_dirs = Vec::new();
        let mut missing = Vec::new();
        let mut p = root;
        while !p.as_os_str().is_empty() && !p.exists() {
            missing.push(p.to_path_buf());
            match p.parent() {
                Some(parent) => p = parent,
                None => break,
            }
        }
        for dir in missing.into_iter().rev() {
            std::fs::create_dir(&dir)
                .with_context(|| format!("cannot create directory {}", dir.display()))?;
            created_dirs.push(dir);
        }
        let mut staged = Staged {
            root: root.to_path_buf(),
            canonical_root: PathBuf::new(),
            files: Vec::new(),
            created_dirs,
            committed: Vec::new(),
        };
        staged.canonical_root = std::fs::canonicalize(root)
            .with_context(|| format!("cannot open directory {}", root.display()))?;
        if !staged.canonical_root.is_dir() {
            bail!("{} is not a directory", root.display());
        }
        Ok(staged)
    }

    /// Stages the file at `relative` (made of normal components only, see
    /// [`super::names::layer_path`]) with the content produced by `fill`.
    pub fn add(
        &mut self,
        relative: &Path,
        fill: impl FnOnce(&mut std::io::BufWriter<&std::fs::File>) -> std::io::Result<()>,
    ) -> anyhow::Result<PathBuf> {
        let target = self.root.join(relative);
        if self.files.iter().any(|(_, t)| *t == target) {
            bail!("two tensors would be written to {}", target.display());
        }
        let dir = self.create_dirs(relative.parent().unwrap_or(Path::new("")))?;
        let tmp =
            temp_in(&dir).with_context(|| format!("cannot create a file in {}", dir.display()))?;
        {
            let mut w = std::io::BufWriter::new(tmp.as_file());
            fill(&mut w)
                .and_then(|()| w.flush())
                .with_context(|| format!("writing {}", target.display()))?;
        }
        self.files.push((tmp, target.clone()));
        Ok(target)
    }

    /// Creates the directories of `relative_dir` under the root, top down, refusing to follow
    /// a symbolic link out of the root. Returns the directory's path.
    fn create_dirs(&mut self, relative_dir: &Path) -> anyhow::Result<PathBuf> {
        let mut dir = self.root.clone();
        for component in relative_dir.components() {
            dir.push(component);
            match std::fs::symlink_metadata(&dir) {
                Ok(m) if m.file_type().is_symlink() => {
                    let real = std::fs::canonicalize(&dir)
                        .with_context(|| format!("cannot open directory {}", dir.display()))?;
                    if !real.starts_with(&self.canonical_root) || !real.is_dir() {
                        bail!(
                            "{} is a symbolic link leading outside the output directory {}",
                            dir.display(),
                            self.root.display()
                        );
                    }
                }
                Ok(m) if m.is_dir() => {}
                Ok(_) => bail!("{} exists and is not a directory", dir.display()),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    std::fs::create_dir(&dir)
                        .with_context(|| format!("cannot create directory {}", dir.display()))?;
                    self.created_dirs.push(dir.clone());
                }
                Err(e) => {
                    return Err(anyhow::Error::new(e)
                        .context(format!("cannot open directory {}", dir.display())))
                }
            }
        }
        Ok(dir)
    }

    /// Renames every staged file into place. On failure, the files already renamed are removed
    /// again along with the created directories.
    pub fn commit(mut self) -> anyhow::Result<Vec<PathBuf>> {
        let files = std::mem::take(&mut self.files);
        let mut done = Vec::with_capacity(files.len());
        for (tmp, target) in files {
            tmp.persist(&target)
                .map_err(|e| e.error)
                .with_context(|| format!("cannot write {}", target.display()))?;
            self.committed.push(target.clone());
            done.push(target);
        }
        self.committed.clear();
        self.created_dirs.clear();
        Ok(done)
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        // Temporary files delete themselves when dropped.
        self.files.clear();
        for f in self.committed.drain(..) {
            let _ = std::fs::remove_file(f);
        }
        for d in self.created_dirs.drain(..).rev() {
            // Only removes empty directories: anything else put there is left alone.
            let _ = std::fs::remove_dir(d);
        }
    }
}
