//! Tensor files in and out: .npy, .safetensors, corpus manifests, atomic output.

pub mod atomic;
pub mod manifest;
pub mod names;
pub mod npy;
pub mod safetensors;

use dfc_decoder::{DecodeError, ElementType};
use std::fmt;

/// A tensor in the canonical layout of the spec (clause 8.4): little-endian elements, C order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tensor {
    pub element_type: ElementType,
    pub shape: Vec<u32>,
    pub data: Vec<u8>,
}

impl Tensor {
    pub fn element_count(&self) -> u64 {
        self.shape.iter().map(|&d| u64::from(d)).product()
    }
}

/// A decoding error as the command line shows it: `unit N (byte B): message [class, REQ-x-y]`.
///
/// Unlike [`DecodeError`] it has no `source()`, so that `{:#}` of an `anyhow` chain does not
/// repeat an I/O error the message already contains.
#[derive(Debug)]
pub struct StreamError(pub DecodeError);

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&error_text(&self.0))
    }
}

/// `unit N (byte B), layer "name" frame F: message [class, REQ-x-y]` for a decoding error
/// (its `Display`, which includes the I/O error of class `io`).
pub fn error_text(e: &DecodeError) -> String {
    e.to_string()
}

impl std::error::Error for StreamError {}

impl From<DecodeError> for StreamError {
    fn from(e: DecodeError) -> Self {
        StreamError(e)
    }
}

/// The whole content of an input file, or of standard input for `-`.
pub fn read_input(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use anyhow::Context;
    if atomic::is_stdio(path) {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
            .context("cannot read standard input")?;
        Ok(bytes)
    } else {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    }
}

/// An input as a reader: a buffered file, or standard input for `-`.
pub fn open_input(path: &std::path::Path) -> anyhow::Result<Box<dyn std::io::Read>> {
    use anyhow::Context;
    if atomic::is_stdio(path) {
        return Ok(Box::new(std::io::BufReader::with_capacity(
            1 << 16,
            std::io::stdin(),
        )));
    }
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    Ok(Box::new(std::io::BufReader::with_capacity(1 << 16, file)))
}

/// How an input is named in messages: its path, or "standard input".
pub fn input_name(path: &std::path::Path) -> String {
    if atomic::is_stdio(path) {
        "standard input".to_string()
    } else {
        path.display().to_string()
    }
}

/// Writes `text` to standard output. A closed pipe (`dfc inspect x.dfc | head`) is not an error.
pub fn print(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing to standard output"))
        }
        _ => Ok(()),
    }
}

/// The thread count for a `--threads` option: 0 means one per CPU.
pub fn threads(requested: usize) -> usize {
    if requested > 0 {
        requested
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    }
}

/// `AxBxC` for a shape.
pub fn shape_text(shape: &[u32]) -> String {
    shape
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("x")
}

/// Ratio `num / den` as text (`-` when `den` is 0).
pub fn ratio_text(num: u64, den: u64) -> String {
    if den == 0 {
        "-".to_string()
    } else {
        format!("{:.2}", num as f64 / den as f64)
    }
}

/// Lines of a table with aligned columns. `right[i]` right-aligns column `i`.
pub fn table(header: &[&str], rows: &[Vec<String>], right: &[bool]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &mut dyn Iterator<Item = &str>| {
        let mut s = String::new();
        for (i, cell) in cells.enumerate() {
            let w = widths.get(i).copied().unwrap_or(0);
            let pad = w.saturating_sub(cell.chars().count());
            if i > 0 {
                s.push_str("  ");
            }
            if right.get(i).copied().unwrap_or(false) {
                s.extend(std::iter::repeat_n(' ', pad));
                s.push_str(cell);
            } else {
                s.push_str(cell);
                s.extend(std::iter::repeat_n(' ', pad));
            }
        }
        s.truncate(s.trim_end().len());
        s.push('\n');
        s
    };
    let mut out = line(&mut header.iter().copied());
    for row in rows {
        out.push_str(&line(&mut row.iter().map(String::as_str)));
    }
    out
}
