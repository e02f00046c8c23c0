//! Raw figures as JSON and CSV, and atomic file output.

use super::report::{shape_text, Report};
use std::path::Path;

/// Writes a report or a plot (replaced if it exists) by the rules of [`crate::io::atomic`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    crate::io::atomic::Outputs::reports().write_file(path, bytes)
}

#[derive(serde::Serialize)]
struct JsonReport<'a> {
    tool: &'static str,
    version: &'static str,
    date: &'a str,
    machine: &'a str,
    corpus: &'a str,
    jobs: usize,
    min_time_s: f64,
    /// 1-minute load average before and after the measurements.
    load_average: Option<(f64, f64)>,
    /// Bytes per MB in the derived figures.
    mb: f64,
    methods: &'a [super::report::MethodInfo],
    rows: &'a [super::Row],
}

/// Every tensor × method figure, with the run's settings.
pub fn to_json(report: &Report) -> anyhow::Result<String> {
    let doc = JsonReport {
        tool: "dfc bench",
        version: env!("CARGO_PKG_VERSION"),
        date: &report.date,
        machine: &report.machine,
        corpus: &report.source,
        jobs: report.jobs,
        min_time_s: report.min_time_s,
        load_average: report.load_average,
        mb: super::report::MB,
        methods: &report.methods,
        rows: &report.rows,
    };
    let mut s = serde_json::to_string_pretty(&doc)?;
    s.push('\n');
    Ok(s)
}

/// Columns of the CSV output.
pub const CSV_COLUMNS: &[&str] = &[
    "model",
    "image",
    "layer",
    "kind",
    "dtype",
    "shape",
    "bytes",
    "nonzero_rate",
    "method",
    "coded_bytes",
    "ratio",
    "encode_s",
    "decode_s",
    "encode_reps",
    "decode_reps",
    "encode_cpu_s",
    "decode_cpu_s",
    "note",
];

/// One line per tensor × method; n/a figures are empty fields.
pub fn to_csv(report: &Report) -> String {
    let mut out = CSV_COLUMNS.join(",");
    out.push('\n');
    let num = |x: Option<f64>| x.map_or(String::new(), |v| format!("{v:e}"));
    for r in &report.rows {
        let fields = [
            field(&r.info.model),
            field(&r.info.image),
            field(&r.info.layer),
            field(&r.info.kind),
            field(&r.info.dtype),
            shape_text(&r.info.shape),
            r.info.bytes.to_string(),
            format!("{}", r.info.nonzero_rate),
            field(&r.method),
            r.coded_bytes.map_or(String::new(), |c| c.to_string()),
            r.ratio.map_or(String::new(), |x| format!("{x}")),
            num(r.encode_s),
            num(r.decode_s),
            r.encode_reps.to_string(),
            r.decode_reps.to_string(),
            num(r.encode_cpu_s),
            num(r.decode_cpu_s),
            field(r.note.as_deref().unwrap_or("")),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// A CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quoting() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"x\""), "\"say \"\"x\"\"\"");
    }

    #[test]
    fn atomic_write_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.txt");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
