//! Helpers shared by the command-line tests: run the built `dfc` and check its result.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `dfc` binary of this build with `args`.
pub fn dfc<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_dfc"))
        .args(args)
        .output()
        .expect("dfc runs")
}

/// Asserts a successful run, showing its output otherwise.
pub fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "dfc failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    out
}

/// What `dfc inspect --json` reports on `stream`.
pub fn inspect_json(stream: &Path) -> serde_json::Value {
    let out = ok(dfc([
        OsStr::new("inspect"),
        stream.as_os_str(),
        OsStr::new("--json"),
    ]));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The real feature sample the repository ships.
pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/corpus")
}
