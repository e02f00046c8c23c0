//! Layer names as output names (informative, not part of the decoding process): the one rule
//! set by which the command line turns a layer name into a file path or a `.safetensors` key,
//! and by which the encoder refuses names that could not be written back. A stream may carry
//! any UTF-8 name (clause 7.4); these rules only decide what a tool writes.

/// Why `name` cannot be a relative file path, or `None`: it is empty, absolute, has an empty,
/// `.` or `..` component, a backslash or a NUL.
pub fn path_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if name.contains('\0') {
        return Some("it contains NUL".into());
    }
    if name.contains('\\') {
        return Some("it contains a backslash".into());
    }
    if name.starts_with('/') {
        return Some("it is an absolute path".into());
    }
    for component in name.split('/') {
        match component {
            "" => return Some("it has an empty path component".into()),
            "." | ".." => return Some(format!("it has a {component:?} path component")),
            _ => {}
        }
    }
    None
}

/// The metadata key of a `.safetensors` file, which no tensor may have.
pub const SAFETENSORS_METADATA_KEY: &str = "__metadata__";

/// Whether a path component is a frame directory, `frame_` and decimal digits (the way a frame
/// is written, and the way `dfc encode` reads one).
pub fn is_frame_component(component: &str) -> bool {
    component
        .strip_prefix("frame_")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Why `name` cannot be an output name, or `None`: a [`path_problem`], a `frame_NN` component
/// (reserved for the frames of a stream, which would collide with it), or `__metadata__`.
pub fn output_name_problem(name: &str) -> Option<String> {
    if let Some(p) = path_problem(name) {
        return Some(p);
    }
    if name == SAFETENSORS_METADATA_KEY {
        return Some(format!(
            "{SAFETENSORS_METADATA_KEY} is the metadata key of .safetensors files"
        ));
    }
    if let Some(c) = name.split('/').find(|c| is_frame_component(c)) {
        return Some(format!(
            "its component {c:?} is reserved for the frame directories of sequences"
        ));
    }
    None
}

/// The first pair of names whose output files collide: a layer `a` is written to `a.npy`, so
/// a layer `a.npy/b` would need a directory where that file is. `None` if no two collide.
pub fn output_collision<'a>(names: &[&'a str], extension: &str) -> Option<(&'a str, &'a str)> {
    let files: std::collections::HashMap<String, &str> = names
        .iter()
        .map(|&n| (format!("{n}.{extension}"), n))
        .collect();
    for &name in names {
        let mut prefix = String::new();
        for component in name.split('/').collect::<Vec<_>>().split_last()?.1 {
            if !prefix.is_empty() {
                prefix.push('/');
            }
            prefix.push_str(component);
            if let Some(&file_owner) = files.get(&prefix) {
                return Some((file_owner, name));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_names_pass() {
        for name in [
            "a",
            "a/b.c",
            "..a/b..",
            "frame",
            "frame_x/y",
            "xframe_01",
            "a=b",
        ] {
            assert_eq!(output_name_problem(name), None, "{name:?}");
        }
    }

    #[test]
    fn hostile_and_reserved_names_are_refused() {
        for name in [
            "",
            "../evil",
            "a/../../b",
            "..",
            ".",
            "a/./b",
            "/etc/passwd",
            "a//b",
            "a/",
            "a\\b",
            "a\0b",
        ] {
            assert!(path_problem(name).is_some(), "{name:?}");
        }
        for name in ["__metadata__", "frame_01/x", "a/frame_3/b", "frame_123"] {
            assert!(path_problem(name).is_none(), "{name:?}");
            assert!(output_name_problem(name).is_some(), "{name:?}");
        }
    }

    #[test]
    fn file_and_directory_collisions_are_found() {
        assert_eq!(
            output_collision(&["x", "x.npy/y"], "npy"),
            Some(("x", "x.npy/y"))
        );
        assert_eq!(
            output_collision(&["a/b.npy/c/d", "a/b"], "npy"),
            Some(("a/b", "a/b.npy/c/d"))
        );
        assert_eq!(output_collision(&["x", "x/y", "y.npy"], "npy"), None);
    }
}
