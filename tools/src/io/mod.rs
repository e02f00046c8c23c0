//! Tensor files in and out: .npy, .safetensors, corpus manifests, atomic output.

pub mod atomic;
pub mod manifest;
pub mod names;
pub mod npy;
pub mod safetensors;

use dfc_decoder::{DecodeError, ElementType, Location};
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

/// `unit N (byte B): message [class, REQ-x-y]` for a decoding error.
pub fn error_text(e: &DecodeError) -> String {
    let mut s = match e.location {
        Location::Identification => "identification".to_string(),
        // The decoder's marker for "after the last unit that was read".
        Location::Unit {
            index: u64::MAX,
            offset,
        } => {
            format!("after the last unit (byte {offset})")
        }
        Location::Unit { index, offset } => format!("unit {index} (byte {offset})"),
    };
    s.push_str(&format!(": {} [{}, {}]", e.message, e.class, e.requirement));
    if let Some(source) = &e.source {
        s.push_str(&format!(": {source}"));
    }
    s
}

impl std::error::Error for StreamError {}

impl From<DecodeError> for StreamError {
    fn from(e: DecodeError) -> Self {
        StreamError(e)
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
