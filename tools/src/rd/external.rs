//! Codecs outside DFC as configurations (`dfc rd --external NAME='CMD {input} {output} {point}'`):
//! a proposal's, a peer's or an anchor's codec, run as a command per tensor and operating
//! point. The protocol:
//!
//! - `{input}`: a float32 `.npy` file (C order, the tensor's shape);
//! - `{output}`: an empty directory; the command leaves there its bitstream (any number of
//!   files) and the reconstruction `decoded.npy` (float32, the same shape);
//! - `{point}`: the operating point, an integer from `--points NAME=…`;
//! - rate = the bytes of every file in `{output}` other than `decoded.npy`;
//! - the command runs under `sh -c` with the paths shell-quoted; a non-zero exit status fails
//!   the run and shows the end of its standard error.
//!
//! `tools/anchors/` holds two such commands: HEVC on tiled channel maps and NNCodec.

use super::configs::{Coded, Config, TensorData};
use anyhow::{bail, ensure, Context};
use std::path::Path;
use std::process::{Command, Stdio};

/// The name of the reconstruction in `{output}`.
pub const DECODED_FILE: &str = "decoded.npy";

/// An external codec: a name and a command template.
pub struct External {
    name: String,
    template: String,
}

impl External {
    /// Parses `NAME=CMD`; the command must contain `{input}`, `{output}` and `{point}`.
    pub fn parse(spec: &str) -> anyhow::Result<External> {
        let Some((name, template)) = spec.split_once('=') else {
            bail!("--external {spec:?}: expected NAME='CMD {{input}} {{output}} {{point}}'");
        };
        let name = name.trim();
        ensure!(
            !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
            "--external {spec:?}: the name {name:?} must be letters, digits, '-', '_' or '.'"
        );
        for placeholder in ["{input}", "{output}", "{point}"] {
            ensure!(
                template.contains(placeholder),
                "--external {name}: the command needs {placeholder} (the protocol: {{input}} a float32 .npy, {{output}} a directory for the bitstream and {DECODED_FILE}, {{point}} the operating point)"
            );
        }
        Ok(External {
            name: name.to_string(),
            template: template.to_string(),
        })
    }

    /// The command line for one run, with shell-quoted paths.
    fn command(&self, input: &Path, output: &Path, point: i32) -> String {
        let quote = |p: &Path| dfc_conformance::generate::shell_quote(&p.to_string_lossy());
        self.template
            .replace("{input}", &quote(input))
            .replace("{output}", &quote(output))
            .replace("{point}", &point.to_string())
    }
}

impl Config for External {
    fn name(&self) -> &str {
        &self.name
    }

    fn settings(&self) -> String {
        format!(
            "external codec `{}`; rate = bytes of every file it leaves in {{output}} but {DECODED_FILE}",
            self.template
        )
    }

    fn parameter(&self) -> &'static str {
        "p"
    }

    /// None: an external codec's points are given with `--points NAME=…`.
    fn default_points(&self) -> Vec<i32> {
        Vec::new()
    }

    fn check_point(&self, _point: i32) -> anyhow::Result<()> {
        Ok(())
    }

    fn code(&self, tensor: &TensorData<'_>, point: i32) -> anyhow::Result<Coded> {
        let work = tempfile::Builder::new()
            .prefix("dfc-rd-external-")
            .tempdir()
            .context("cannot create a temporary directory")?;
        let input = work.path().join("input.npy");
        let output = work.path().join("output");
        std::fs::create_dir(&output)
            .with_context(|| format!("cannot create {}", output.display()))?;
        crate::rd::fidelity::write_decoded(work.path(), "input.npy", tensor.shape, tensor.values)?;
        let command = self.command(&input, &output, point);
        let out = Command::new("sh")
            .arg("-c")
            .arg(&command)
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run `sh -c {command}`"))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = stderr.lines().rev().take(8).collect();
            bail!(
                "{} failed ({}): `{command}`\n{}",
                self.name,
                out.status,
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        let bytes = bitstream_bytes(&output, DECODED_FILE)?;
        let decoded = crate::io::npy::read_npy(&output.join(DECODED_FILE)).with_context(|| {
            format!("{}: `{command}` left no readable {DECODED_FILE}", self.name)
        })?;
        ensure!(
            decoded.element_type == dfc_decoder::ElementType::Float32
                && decoded.shape == tensor.shape,
            "{}: {DECODED_FILE} is {} {:?}, the tensor is float32 {:?}",
            self.name,
            decoded.element_type,
            decoded.shape,
            tensor.shape
        );
        Ok(Coded {
            bytes,
            reconstruction: decoded
                .data
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        })
    }
}

/// The bytes of every file below `dir` except the reconstruction `skip` (a file or directory
/// directly in `dir`): the rate of an external codec.
fn bitstream_bytes(dir: &Path, skip: &str) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let entry = entry?;
        if entry.file_name() == skip {
            continue;
        }
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            bitstream_bytes(&entry.path(), "")?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_needs_every_placeholder() {
        assert!(External::parse("x=cp {input} {output}/decoded.npy").is_err());
        assert!(External::parse("cmd {input} {output} {point}").is_err());
        assert!(External::parse("a b={input} {output} {point}").is_err());
        let e = External::parse("hevc=run {input} {output} {point}").unwrap();
        assert_eq!(e.name(), "hevc");
        assert_eq!(
            e.command(Path::new("/a b/in.npy"), Path::new("/o"), -4),
            "run '/a b/in.npy' /o -4"
        );
    }

    fn tensor() -> (Vec<f32>, Vec<u8>, Vec<u32>) {
        let values: Vec<f32> = (0..60).map(|i| i as f32 * 0.5).collect();
        let bytes = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        (values, bytes, vec![3, 4, 5])
    }

    /// A stand-in codec that keeps the tensor and writes a bitstream of `point` bytes in two
    /// files: the rate counts both, not the reconstruction.
    #[test]
    fn a_command_following_the_protocol_gives_its_rate_and_reconstruction() {
        let (values, bytes, shape) = tensor();
        let t = TensorData {
            shape: &shape,
            values: &values,
            bytes: &bytes,
            non_negative: true,
        };
        let e = External::parse(
            "copy=cp {input} {output}/decoded.npy && head -c {point} /dev/zero > {output}/a.bin && mkdir {output}/side && printf xyz > {output}/side/b",
        )
        .unwrap();
        let coded = e.code(&t, 10).unwrap();
        assert_eq!(coded.bytes, 13);
        assert_eq!(coded.reconstruction, values);
    }

    #[test]
    fn a_failing_or_careless_command_is_an_error_that_says_why() {
        let (values, bytes, shape) = tensor();
        let t = TensorData {
            shape: &shape,
            values: &values,
            bytes: &bytes,
            non_negative: true,
        };
        let failing =
            External::parse("f=echo broken >&2; exit 3 # {input} {output} {point}").unwrap();
        let message = format!("{:#}", failing.code(&t, 1).unwrap_err());
        assert!(
            message.contains("broken") && message.contains("exit status: 3"),
            "{message}"
        );
        let silent = External::parse("s=true {input} {output} {point}").unwrap();
        let message = format!("{:#}", silent.code(&t, 1).unwrap_err());
        assert!(message.contains("decoded.npy"), "{message}");
    }
}
