//! Every output of the command line, in one place. Rules (the conventions of xz and zstd):
//!
//! - `-` is standard output;
//! - an output is never one of the command's inputs (same device and inode);
//! - an existing output is an error unless `--force`, which keeps its permissions;
//! - an existing output that is not a regular file (device, FIFO, socket, directory where a
//!   file is meant) is an error; a symbolic link is written through (its target is replaced);
//! - a file appears whole or not at all: it is written to a temporary file beside it and
//!   renamed over it once complete; a directory output is written into a temporary sibling
//!   directory and renamed into place at the end, so a failed run leaves nothing.

use anyhow::{bail, Context};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Whether a path argument means standard input or output.
pub fn is_stdio(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// (device, inode) of a file, to recognize it under another name.
type FileId = (u64, u64);

fn file_id(meta: &std::fs::Metadata) -> FileId {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (meta.dev(), meta.ino())
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        (0, 0)
    }
}

/// The directory a file at `path` lives in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// How a command may write: whether existing outputs may be replaced, and which files are its
/// inputs (never written).
#[derive(Clone, Debug, Default)]
pub struct Outputs {
    force: bool,
    inputs: Vec<FileId>,
}

/// A regular file to write: where the data goes once symbolic links are followed, and the
/// permissions of the file it replaces.
struct FileTarget {
    real: PathBuf,
    replaced: Option<std::fs::Permissions>,
}

impl Outputs {
    /// Outputs of a command reading the files `inputs` (`-` and missing paths are ignored);
    /// `force` allows replacing existing files.
    pub fn new(force: bool, inputs: &[PathBuf]) -> Self {
        let ids = inputs
            .iter()
            .filter(|p| !is_stdio(p))
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| file_id(&m))
            .collect();
        Outputs { force, inputs: ids }
    }

    /// Reports and plots, which are regenerated in place: existing files are replaced, the
    /// other rules hold.
    pub fn reports() -> Self {
        Outputs {
            force: true,
            inputs: Vec::new(),
        }
    }

    /// Checks that `path` may be written as a regular file.
    fn check_file(&self, path: &Path) -> anyhow::Result<FileTarget> {
        let shown = path.display();
        let real = match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let dir = parent_dir(path);
                if !dir.is_dir() {
                    bail!(
                        "cannot write {shown}: directory {} does not exist",
                        dir.display()
                    );
                }
                return Ok(FileTarget {
                    real: path.to_path_buf(),
                    replaced: None,
                });
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot write {shown}"))),
            Ok(m) if m.file_type().is_symlink() => {
                std::fs::canonicalize(path).with_context(|| {
                    format!("cannot write {shown}: a symbolic link to a missing file")
                })?
            }
            Ok(_) => path.to_path_buf(),
        };
        let meta = std::fs::metadata(&real).with_context(|| format!("cannot write {shown}"))?;
        if self.inputs.contains(&file_id(&meta)) {
            bail!("cannot write {shown}: it is an input of this command");
        }
        if meta.is_dir() {
            bail!("cannot write {shown}: it is a directory");
        }
        if !meta.is_file() {
            bail!("cannot write {shown}: it exists and is not a regular file (a device, FIFO or socket); use -o - for standard output");
        }
        if !self.force {
            bail!("{shown} already exists; use -f/--force to overwrite it");
        }
        Ok(FileTarget {
            real,
            replaced: Some(meta.permissions()),
        })
    }

    /// Checks, before any work, that `path` may be written as a file (`-` always may).
    pub fn check(&self, path: &Path) -> anyhow::Result<()> {
        if is_stdio(path) {
            return Ok(());
        }
        self.check_file(path).map(|_| ())
    }

    /// Writes `bytes` to `path` (`-`: standard output).
    pub fn write_file(&self, path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
        self.write_file_with(path, |w| w.write_all(bytes))
    }

    /// Like [`Outputs::write_file`], with the content produced by `fill`.
    pub fn write_file_with(
        &self,
        path: &Path,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> anyhow::Result<()> {
        if is_stdio(path) {
            return write_stdout(fill);
        }
        let target = self.check_file(path)?;
        let shown = path.display();
        let tmp =
            temp_in(parent_dir(&target.real)).with_context(|| format!("cannot write {shown}"))?;
        {
            let mut w = std::io::BufWriter::new(tmp.as_file());
            fill(&mut w)
                .and_then(|()| w.flush())
                .with_context(|| format!("writing {shown}"))?;
        }
        if let Some(permissions) = target.replaced {
            tmp.as_file()
                .set_permissions(permissions)
                .with_context(|| format!("cannot write {shown}"))?;
        }
        tmp.persist(&target.real)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {shown}"))?;
        Ok(())
    }

    /// Starts a directory output at `path`.
    pub fn directory(&self, path: &Path) -> anyhow::Result<StagedDir> {
        StagedDir::new(path, self.clone())
    }
}

/// Writes to standard output, refusing a terminal (binary data).
fn write_stdout(fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        bail!("will not write binary data to a terminal; redirect standard output or give -o FILE");
    }
    let mut w = std::io::BufWriter::new(stdout.lock());
    fill(&mut w)
        .and_then(|()| w.flush())
        .context("writing to standard output")
}

/// A new temporary file in `dir`, with the permissions an ordinary new file gets (0666 less the
/// umask) rather than tempfile's private 0600.
fn temp_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".dfc-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// Files under one output directory, written into a staging directory and moved into place
/// together by [`StagedDir::commit`]. Dropped without a commit, it removes everything it made.
/// Each file is closed once written, and each step is constant time, so writing n files costs
/// O(n).
pub struct StagedDir {
    target: PathBuf,
    /// The staging directory (taken by a commit that renames it).
    stage: Option<tempfile::TempDir>,
    /// Whether `target` existed: then the files are moved into it one by one, else the stage
    /// itself is renamed to `target`.
    target_existed: bool,
    outputs: Outputs,
    /// Files written, relative to the stage, in order.
    files: Vec<PathBuf>,
    /// Directories made in the stage, relative to it.
    dirs: HashSet<PathBuf>,
    /// Missing ancestors of `target` created for the stage, outermost first.
    created_parents: Vec<PathBuf>,
}

impl StagedDir {
    fn new(path: &Path, outputs: Outputs) -> anyhow::Result<Self> {
        let shown = path.display();
        let (target, target_existed) = match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => (path.to_path_buf(), true),
            Ok(_) => bail!("cannot write to {shown}: it exists and is not a directory"),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if std::fs::symlink_metadata(path).is_ok() {
                    bail!("cannot write to {shown}: a symbolic link to a missing directory");
                }
                (path.to_path_buf(), false)
            }
            Err(e) => return Err(anyhow::Error::new(e).context(format!("cannot open {shown}"))),
        };
        let mut created_parents = Vec::new();
        let stage_parent = if target_existed {
            target.clone()
        } else {
            let parent = parent_dir(&target).to_path_buf();
            let mut missing = Vec::new();
            let mut p = parent.as_path();
            while !p.as_os_str().is_empty() && std::fs::symlink_metadata(p).is_err() {
                missing.push(p.to_path_buf());
                p = parent_dir(p);
            }
            for dir in missing.into_iter().rev() {
                std::fs::create_dir(&dir)
                    .with_context(|| format!("cannot create directory {}", dir.display()))?;
                created_parents.push(dir);
            }
            parent
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix(".dfc-");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            // What mkdir gives: 0777 less the umask.
            builder.permissions(std::fs::Permissions::from_mode(0o777));
        }
        let stage = builder
            .tempdir_in(&stage_parent)
            .with_context(|| format!("cannot create a directory in {}", stage_parent.display()))?;
        Ok(StagedDir {
            target,
            stage: Some(stage),
            target_existed,
            outputs,
            files: Vec::new(),
            dirs: HashSet::new(),
            created_parents,
        })
    }

    fn stage_path(&self) -> &Path {
        self.stage.as_ref().expect("staged until commit").path()
    }

    /// Writes the file at `relative` (normal components only, see
    /// [`super::names::layer_path`]) with the content produced by `fill`. Returns its final
    /// path.
    pub fn add(
        &mut self,
        relative: &Path,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> anyhow::Result<PathBuf> {
        let target = self.target.join(relative);
        let collide = || format!("two outputs would be written to {}", target.display());
        if let Some(dir) = relative.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !self.dirs.contains(dir) {
                std::fs::create_dir_all(self.stage_path().join(dir)).with_context(collide)?;
                for a in dir.ancestors().filter(|a| !a.as_os_str().is_empty()) {
                    self.dirs.insert(a.to_path_buf());
                }
            }
        }
        let path = self.stage_path().join(relative);
        // create_new also catches names that only differ in case on such file systems.
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .with_context(collide)?;
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)
            .and_then(|()| w.flush())
            .with_context(|| format!("writing {}", target.display()))?;
        self.files.push(relative.to_path_buf());
        Ok(target)
    }

    /// Moves every file into place: the stage becomes the target directory, or, if that
    /// existed, each file is checked first (as a file output: `--force` for existing ones)
    /// and then renamed into it.
    pub fn commit(mut self) -> anyhow::Result<()> {
        if !self.target_existed {
            let staged = self.stage.take().expect("staged until commit").keep();
            if let Err(e) = std::fs::rename(&staged, &self.target) {
                let _ = std::fs::remove_dir_all(&staged);
                return Err(anyhow::Error::new(e)
                    .context(format!("cannot create {}", self.target.display())));
            }
            self.created_parents.clear();
            return Ok(());
        }
        let mut moves = Vec::with_capacity(self.files.len());
        let mut checked_dirs = HashSet::new();
        for relative in &self.files {
            for dir in relative
                .ancestors()
                .skip(1)
                .filter(|a| !a.as_os_str().is_empty())
            {
                if !checked_dirs.insert(dir.to_path_buf()) {
                    break;
                }
                let at = self.target.join(dir);
                match std::fs::symlink_metadata(&at) {
                    Ok(m) if m.is_dir() => {}
                    Ok(m) if m.file_type().is_symlink() => {
                        bail!("cannot write into {}: it is a symbolic link", at.display())
                    }
                    Ok(_) => bail!("cannot write into {}: it is not a directory", at.display()),
                    Err(_) => {}
                }
            }
            let dest = self.target.join(relative);
            let target = match self.outputs.check_file(&dest) {
                Ok(t) => t,
                // A missing parent is made below.
                Err(_) if std::fs::symlink_metadata(&dest).is_err() => FileTarget {
                    real: dest.clone(),
                    replaced: None,
                },
                Err(e) => return Err(e),
            };
            moves.push((self.stage_path().join(relative), target));
        }
        for (from, to) in moves {
            if let Some(dir) = to.real.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create directory {}", dir.display()))?;
            }
            if let Some(p) = to.replaced {
                std::fs::set_permissions(&from, p)
                    .with_context(|| format!("cannot write {}", to.real.display()))?;
            }
            std::fs::rename(&from, &to.real)
                .with_context(|| format!("cannot write {}", to.real.display()))?;
        }
        self.created_parents.clear();
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        // The stage first, then the parents it needed, if still empty.
        drop(self.stage.take());
        for d in self.created_parents.drain(..).rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_directory_output_leaves_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("a/b/out");
        let mut staged = Outputs::default().directory(&out).unwrap();
        staged
            .add(Path::new("x/y.npy"), |w| w.write_all(b"1"))
            .unwrap();
        drop(staged);
        assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    }

    #[test]
    fn a_directory_output_appears_at_commit() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        let mut staged = Outputs::default().directory(&out).unwrap();
        staged
            .add(Path::new("x/y.npy"), |w| w.write_all(b"1"))
            .unwrap();
        assert!(!out.exists());
        assert!(staged
            .add(Path::new("x/y.npy"), |w| w.write_all(b"2"))
            .is_err());
        staged.commit().unwrap();
        assert_eq!(std::fs::read(out.join("x/y.npy")).unwrap(), b"1");
        // Into an existing directory: refused over an existing file without force.
        let mut again = Outputs::default().directory(&out).unwrap();
        again
            .add(Path::new("x/y.npy"), |w| w.write_all(b"3"))
            .unwrap();
        assert!(again.commit().is_err());
        assert_eq!(std::fs::read(out.join("x/y.npy")).unwrap(), b"1");
        let mut forced = Outputs::new(true, &[]).directory(&out).unwrap();
        forced
            .add(Path::new("x/y.npy"), |w| w.write_all(b"4"))
            .unwrap();
        forced.commit().unwrap();
        assert_eq!(std::fs::read(out.join("x/y.npy")).unwrap(), b"4");
        let names: Vec<_> = std::fs::read_dir(&out).unwrap().flatten().collect();
        assert_eq!(names.len(), 1, "no staging directory is left: {names:?}");
    }
}
