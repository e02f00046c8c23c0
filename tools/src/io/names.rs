//! Layer names as file paths. Names come from the stream, which may be hostile, so a name is
//! only turned into a path when every `/`-separated component is an ordinary file name.

use anyhow::bail;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// The relative path (without extension) for a layer name, or why the name cannot be one
/// (the rule of [`dfc_decoder::names::output_name_problem`]).
pub fn layer_path(name: &str) -> anyhow::Result<PathBuf> {
    if let Some(why) = dfc_decoder::names::output_name_problem(name) {
        bail!("layer name {name:?} cannot be used as a file name: {why}");
    }
    let path: PathBuf = name.split('/').collect();
    // Belt and braces: the path must be made of normal components only.
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        bail!("layer name {name:?} cannot be used as a file name: it is not a plain relative path");
    }
    Ok(path)
}

/// `path` with `.ext` appended to its last component (`a/b.c` → `a/b.c.npy`, unlike
/// `Path::with_extension`).
pub fn with_suffix(path: &Path, ext: &str) -> PathBuf {
    let mut s: OsString = path.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// The output path of a tensor relative to the output directory: `frame_XX/` (two digits, more
/// if needed) in front for frames after the first.
pub fn tensor_path(name: &str, frame_index: u32, ext: &str) -> anyhow::Result<PathBuf> {
    let path = with_suffix(&layer_path(name)?, ext);
    Ok(if frame_index == 0 {
        path
    } else {
        Path::new(&frame_dir(frame_index)).join(path)
    })
}

/// The output path of a tensor of a sequence: `frame_XX/` in front of the layer name's last
/// component, as in the input layout of `dfc encode` (layer a/b, frame 3: a/frame_03/b).
pub fn sequence_tensor_path(name: &str, frame_index: u32, ext: &str) -> anyhow::Result<PathBuf> {
    let path = layer_path(name)?;
    let file = path
        .file_name()
        .expect("a checked layer path has a last component");
    let dir = path.parent().unwrap_or(Path::new(""));
    Ok(with_suffix(
        &dir.join(frame_dir(frame_index)).join(file),
        ext,
    ))
}

/// `frame_01`, `frame_123`.
pub fn frame_dir(frame_index: u32) -> String {
    format!("frame_{frame_index:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_are_paths() {
        assert_eq!(layer_path("a/b.c").unwrap(), Path::new("a").join("b.c"));
        assert_eq!(
            tensor_path("a/b.c", 0, "npy").unwrap(),
            Path::new("a").join("b.c.npy")
        );
        assert_eq!(
            tensor_path("x", 3, "npy").unwrap(),
            Path::new("frame_03").join("x.npy")
        );
        assert_eq!(
            tensor_path("x", 123, "npy").unwrap(),
            Path::new("frame_123").join("x.npy")
        );
        assert_eq!(layer_path("..a/b..").unwrap(), Path::new("..a").join("b.."));
    }

    #[test]
    fn names_the_shared_rule_refuses_are_not_paths() {
        // The rule itself is tested in dfc_decoder::names.
        for name in ["../evil", "frame_01/x", "__metadata__"] {
            assert!(layer_path(name).is_err(), "{name:?}");
        }
    }
}
