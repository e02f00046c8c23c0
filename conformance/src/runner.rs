//! The runner: decodes every case of a suite with the reference decoder (in-process) or with an
//! external decoder (a command line), and compares the result with `expect.json` bit for bit.
//!
//! External-decoder protocol: the command template gets `{input}` (the stream file) and
//! `{outdir}` (an empty directory) replaced by shell-quoted absolute paths, and `{layer}` (for
//! cases with a layer selection, in the `--decoder-select` template) by the selected layer's
//! name, and `{start_frame}` by the frame_index of the random-access point to start from (cases
//! with a start frame; the empty word for the others); it runs under `sh -c`. To decode, the decoder exits 0 and writes one `.npy` file per
//! decoded tensor at the path `expect.json` gives (`<layer name>.npy`, `frame_XX/<layer
//! name>.npy` for frames after 0), holding the canonical bytes (bfloat16 as `<u2`). To reject,
//! it exits with a non-zero status. Only the exit status and the files can be checked; a
//! `REQ-…` ID on its standard error is reported as information.

use crate::catalogue::Group;
use crate::expect::{Expect, Expected, ExpectedTensor};
use crate::generate::{location_fields, reference_decode, shell_quote, EXPECT_FILE, STREAM_FILE};
use crate::{npy, sha256_hex};
use dfc_decoder::ElementType;
use serde::Serialize;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A case as loaded from the suite directory.
#[derive(Clone, Debug)]
pub struct LoadedCase {
    pub dir: PathBuf,
    pub expect: Expect,
}

impl LoadedCase {
    pub fn key(&self) -> String {
        self.expect.key()
    }
}

/// Loads the cases of a suite (`<dir>/<group>/<ID>/expect.json`), in group order (valid,
/// uncommon, invalid) then by ID. `pattern` selects cases by `group/ID`: a glob with `*` and `?`,
/// or else a substring.
pub fn load(dir: &Path, pattern: Option<&str>) -> Result<Vec<LoadedCase>, String> {
    if !dir.is_dir() {
        return Err(format!("{}: no such suite directory", dir.display()));
    }
    let mut cases = Vec::new();
    for group in Group::ALL {
        let group_dir = dir.join(group.name());
        let Ok(entries) = std::fs::read_dir(&group_dir) else {
            continue;
        };
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.join(EXPECT_FILE).is_file())
            .collect();
        dirs.sort();
        for case_dir in dirs {
            let path = case_dir.join(EXPECT_FILE);
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            let expect: Expect =
                serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            let key = expect.key();
            let folder = format!(
                "{}/{}",
                group.name(),
                case_dir.file_name().unwrap_or_default().to_string_lossy()
            );
            if key != folder {
                return Err(format!(
                    "{}: names case {key} but is in {folder}",
                    path.display()
                ));
            }
            if pattern.is_none_or(|p| matches(p, &key)) {
                cases.push(LoadedCase {
                    dir: case_dir,
                    expect,
                });
            }
        }
    }
    if cases.is_empty() {
        return Err(match pattern {
            Some(p) => format!("{}: no case matches {p:?}", dir.display()),
            None => format!(
                "{}: no cases (expected <group>/<ID>/{EXPECT_FILE})",
                dir.display()
            ),
        });
    }
    Ok(cases)
}

/// Glob (`*`, `?`) when the pattern has wildcards, substring otherwise.
pub fn matches(pattern: &str, key: &str) -> bool {
    if !pattern.contains(['*', '?']) {
        return key.contains(pattern);
    }
    fn glob(p: &[char], s: &[char]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some('*'), _) => glob(&p[1..], s) || (!s.is_empty() && glob(p, &s[1..])),
            (Some('?'), Some(_)) => glob(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => glob(&p[1..], &s[1..]),
            _ => false,
        }
    }
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = key.chars().collect();
    glob(&p, &s)
}

/// The decoder under test.
#[derive(Clone, Debug)]
pub enum DecoderUnderTest {
    /// The reference decoder, in this process.
    Reference,
    /// An external decoder, by the command-line protocol.
    External {
        /// Template with `{input}` and `{outdir}`.
        command: String,
        /// Template for cases with a layer selection, with `{input}`, `{outdir}` and `{layer}`;
        /// without it those cases are skipped.
        select_command: Option<String>,
        timeout: Duration,
    },
}

impl DecoderUnderTest {
    pub fn describe(&self) -> String {
        match self {
            DecoderUnderTest::Reference => "reference decoder (in-process)".into(),
            DecoderUnderTest::External { command, .. } => format!("external: {command}"),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    Skip,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        }
    }
}

/// The result of one case.
#[derive(Clone, Debug, Serialize)]
pub struct CaseResult {
    pub case: String,
    pub status: Status,
    /// Short form of the expectation.
    pub expected: String,
    /// Short form of what the decoder did.
    pub got: String,
    /// Why the case failed (or was skipped).
    pub details: Vec<String>,
    /// Information that does not decide the result (e.g. the requirement an external decoder
    /// named).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<String>,
}

/// Short form of an expectation.
pub fn expected_text(e: &Expected) -> String {
    match e {
        Expected::Decode { tensors, .. } => format!("decode {} tensor(s)", tensors.len()),
        Expected::Reject {
            class,
            requirement,
            location,
            unit_index,
            ..
        } => {
            format!(
                "reject {class} {requirement} {}",
                where_text(location, *unit_index)
            )
        }
    }
}

fn where_text(location: &str, unit_index: Option<u64>) -> String {
    match (location, unit_index) {
        ("unit", Some(i)) => format!("@unit {i}"),
        ("end_of_stream", _) => "@end".to_string(),
        _ => "@identification".to_string(),
    }
}

/// Runs one case.
pub fn run_case(case: &LoadedCase, decoder: &DecoderUnderTest) -> CaseResult {
    let expected = expected_text(&case.expect.expected);
    let mut result = CaseResult {
        case: case.key(),
        status: Status::Fail,
        expected,
        got: String::new(),
        details: Vec::new(),
        info: None,
    };
    let stream_path = case.dir.join(STREAM_FILE);
    let stream = match std::fs::read(&stream_path) {
        Ok(s) => s,
        Err(e) => {
            result.got = "no stream".into();
            result
                .details
                .push(format!("{}: {e}", stream_path.display()));
            return result;
        }
    };
    let sha = sha256_hex(&stream);
    if sha != case.expect.stream.sha256 || stream.len() as u64 != case.expect.stream.bytes {
        result.got = "stream changed".into();
        result.details.push(format!(
            "{STREAM_FILE} has SHA-256 {sha}, expect.json says {} (the suite is damaged)",
            case.expect.stream.sha256
        ));
        return result;
    }
    match decoder {
        DecoderUnderTest::Reference => run_reference(case, &stream, &mut result),
        DecoderUnderTest::External {
            command,
            select_command,
            timeout,
        } => {
            let template = match (&case.expect.select_layer, select_command) {
                (None, _) => command,
                (Some(_), Some(t)) => t,
                (Some(layer), None) => {
                    result.status = Status::Skip;
                    result.got = "not run".into();
                    result.details.push(format!("selects layer {layer:?}: give --decoder-select 'CMD {{input}} {{outdir}} {{layer}}' to run it"));
                    return result;
                }
            };
            if let Some(frame) = case.expect.start_frame {
                if !template.contains(START_FRAME) {
                    result.status = Status::Skip;
                    result.got = "not run".into();
                    result.details.push(format!("starts at the random-access point of frame {frame}: put {START_FRAME} in the --decoder template to run it"));
                    return result;
                }
            }
            run_external(case, &stream_path, template, *timeout, &mut result)
        }
    }
    if result.details.is_empty() {
        result.status = Status::Pass;
    }
    result
}

fn run_reference(case: &LoadedCase, stream: &[u8], result: &mut CaseResult) {
    let outcome = reference_decode(
        stream,
        case.expect.select_layer.as_deref(),
        case.expect.start_frame,
    );
    match (&case.expect.expected, outcome) {
        (Expected::Decode { tensors, .. }, Ok(got)) => {
            result.got = format!("decoded {} tensor(s)", got.len());
            compare_tensors(tensors, &got, &mut result.details);
        }
        (Expected::Decode { .. }, Err(e)) => {
            result.got = format!("rejected {} {}", e.class, e.requirement);
            result
                .details
                .push(format!("rejected a stream it must decode: {e}"));
        }
        (Expected::Reject { .. }, Ok(got)) => {
            result.got = format!("decoded {} tensor(s)", got.len());
            result
                .details
                .push("decoded a stream it must reject".into());
        }
        (
            Expected::Reject {
                class,
                requirement,
                location,
                unit_index,
                ..
            },
            Err(e),
        ) => {
            let (loc, index, _) = location_fields(&e.location);
            result.got = format!(
                "reject {} {} {}",
                e.class,
                e.requirement,
                where_text(loc, index)
            );
            if e.class.name() != class {
                result
                    .details
                    .push(format!("error class {} instead of {class}", e.class));
            }
            if e.requirement != requirement {
                result.details.push(format!(
                    "requirement {} instead of {requirement}",
                    e.requirement
                ));
            }
            if loc != location || index != *unit_index {
                result.details.push(format!(
                    "found at {} instead of {}",
                    where_text(loc, index),
                    where_text(location, *unit_index)
                ));
            }
            if !result.details.is_empty() {
                result.details.push(format!("decoder said: {e}"));
            }
        }
    }
}

/// Compares the reference decoder's tensors with the expected ones.
fn compare_tensors(want: &[ExpectedTensor], got: &[ExpectedTensor], details: &mut Vec<String>) {
    if want.len() != got.len() {
        details.push(format!("{} tensors instead of {}", got.len(), want.len()));
    }
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        let what = format!("tensor {i} ({} frame {})", w.name, w.frame_index);
        if (w.layer_id, w.frame_index) != (g.layer_id, g.frame_index) {
            details.push(format!(
                "{what}: got layer {} frame {}",
                g.layer_id, g.frame_index
            ));
        } else if (&w.element_type, &w.shape) != (&g.element_type, &g.shape) {
            details.push(format!(
                "{what}: {} {:?} instead of {} {:?}",
                g.element_type, g.shape, w.element_type, w.shape
            ));
        } else if w.sha256 != g.sha256 {
            details.push(format!(
                "{what}: the decoded bytes differ (SHA-256 {} instead of {})",
                g.sha256, w.sha256
            ));
        } else if w.verified != g.verified {
            details.push(format!(
                "{what}: hash_verified is {} instead of {}",
                g.verified, w.verified
            ));
        }
    }
}

static OUTDIR_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A fresh, empty directory for one run of an external decoder; removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> std::io::Result<TempDir> {
        let n = OUTDIR_COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("dfc-conform-{}-{n}", std::process::id()));
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(TempDir(dir))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The outcome of running a command with a time limit.
struct Finished {
    status: Option<std::process::ExitStatus>,
    /// The start and the end of its standard error, at most [`STDERR_KEPT`] bytes each.
    stderr: String,
    timed_out: bool,
}

/// Bytes of a decoder's standard error kept from its start and from its end.
pub const STDERR_KEPT: usize = 16 << 10;

/// Reads `pipe` to its end, keeping its first and last [`STDERR_KEPT`] bytes.
fn bounded_read(mut pipe: impl Read) -> Vec<u8> {
    let mut head = Vec::new();
    let mut tail = std::collections::VecDeque::new();
    let mut skipped = false;
    let mut buf = [0u8; 8192];
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let mut chunk = &buf[..n];
        if head.len() < STDERR_KEPT {
            let take = chunk.len().min(STDERR_KEPT - head.len());
            head.extend_from_slice(&chunk[..take]);
            chunk = &chunk[take..];
        }
        tail.extend(chunk.iter().copied());
        while tail.len() > STDERR_KEPT {
            tail.pop_front();
            skipped = true;
        }
    }
    if skipped {
        head.extend_from_slice(b"\n[...]\n");
    }
    head.extend(tail);
    head
}

/// Kills every process of the group led by `child` (the decoder and anything it started).
fn kill_group(child: &std::process::Child) {
    #[cfg(unix)]
    {
        if let Some(pid) = rustix::process::Pid::from_raw(child.id() as i32) {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    }
    #[cfg(not(unix))]
    let _ = child;
}

fn run_command(command: &str, timeout: Duration) -> std::io::Result<Finished> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // Its own process group, so that a timeout stops whatever the command started.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd.spawn()?;
    let stderr_pipe = child.stderr.take().expect("piped");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(bounded_read(stderr_pipe));
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if start.elapsed() > timeout {
            kill_group(&child);
            let _ = child.kill();
            let _ = child.wait();
            timed_out = true;
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // Children left behind would keep the pipe open: they are stopped too.
    kill_group(&child);
    let stderr = receiver
        .recv_timeout(Duration::from_secs(2))
        .unwrap_or_default();
    Ok(Finished {
        status,
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        timed_out,
    })
}

/// The placeholder of the start frame in a command template.
pub const START_FRAME: &str = "{start_frame}";

/// Expands a command template. `{start_frame}` becomes the start frame, or the empty word
/// (`''`) for a case without one.
pub fn expand(
    template: &str,
    input: &Path,
    outdir: &Path,
    layer: Option<&str>,
    start_frame: Option<u32>,
) -> String {
    let mut cmd = template
        .replace("{input}", &shell_quote(&input.to_string_lossy()))
        .replace("{outdir}", &shell_quote(&outdir.to_string_lossy()))
        .replace(
            START_FRAME,
            &shell_quote(&start_frame.map_or(String::new(), |f| f.to_string())),
        );
    if let Some(layer) = layer {
        cmd = cmd.replace("{layer}", &shell_quote(layer));
    }
    cmd
}

fn run_external(
    case: &LoadedCase,
    stream_path: &Path,
    template: &str,
    timeout: Duration,
    result: &mut CaseResult,
) {
    let outdir = match TempDir::new() {
        Ok(d) => d,
        Err(e) => {
            result.got = "not run".into();
            result
                .details
                .push(format!("cannot make an output directory: {e}"));
            return;
        }
    };
    let input = std::fs::canonicalize(stream_path).unwrap_or_else(|_| stream_path.to_path_buf());
    let cmd = expand(
        template,
        &input,
        &outdir.0,
        case.expect.select_layer.as_deref(),
        case.expect.start_frame,
    );
    let finished = match run_command(&cmd, timeout) {
        Ok(f) => f,
        Err(e) => {
            result.got = "not run".into();
            result
                .details
                .push(format!("cannot run `sh -c {cmd}`: {e}"));
            return;
        }
    };
    let reported = first_requirement(&finished.stderr);
    let stderr_line = finished
        .stderr
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_string();
    let outputs = npy_files(&outdir.0);
    if finished.timed_out {
        result.got = "timed out".into();
        result
            .details
            .push(format!("no result after {} s", timeout.as_secs_f64()));
        return;
    }
    let Some(code) = finished.status.and_then(|s| s.code()) else {
        result.got = "crashed".into();
        result.details.push(format!(
            "the decoder was terminated by a signal ({:?}); {stderr_line}",
            finished.status
        ));
        return;
    };
    match &case.expect.expected {
        Expected::Reject { requirement, .. } => {
            if code == 0 {
                result.got = format!("exit 0, {} file(s)", outputs.len());
                result
                    .details
                    .push("accepted a stream it must reject (exit status 0)".into());
            } else {
                result.got = format!("exit {code}");
                result.info = Some(match reported {
                    Some(r) if r == *requirement => format!("reported {r}"),
                    Some(r) => format!("reported {r}, the reference decoder reports {requirement}"),
                    None => "named no requirement ID on stderr".into(),
                });
            }
        }
        Expected::Decode { tensors, .. } => {
            if code != 0 {
                result.got = format!("exit {code}");
                result
                    .details
                    .push(format!("rejected a stream it must decode: {stderr_line}"));
                return;
            }
            result.got = format!("exit 0, {} file(s)", outputs.len());
            check_outputs(tensors, &outdir.0, &outputs, &mut result.details);
        }
    }
}

/// The first `REQ-…` identifier in a text.
pub fn first_requirement(text: &str) -> Option<String> {
    let p = text.find("REQ-")?;
    let id: String = text[p..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.' || *c == '-')
        .collect();
    Some(id.trim_end_matches(['.', '-']).to_string())
}

/// Every `.npy` file under `dir`, as paths relative to it with `/` separators.
fn npy_files(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}/{name}")
            };
            let path = entry.path();
            if path.is_dir() {
                walk(&path, &rel, out);
            } else if name.ends_with(".npy") {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out);
    out.sort();
    out
}

/// Longest .npy header accepted from a decoder under test.
const MAX_NPY_HEADER: u64 = 64 << 10;

/// An output .npy file: its header fields, its data length, and the SHA-256 of its data,
/// read in chunks. A file longer than the expected tensor and a header is not read.
fn read_output(path: &Path, expected_bytes: u64) -> Result<npy::Header, String> {
    let mut file = std::fs::File::open(path).map_err(|_| "missing".to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    if len > expected_bytes + MAX_NPY_HEADER {
        return Err(format!(
            "{len} bytes, more than the expected {expected_bytes} data bytes and a .npy header"
        ));
    }
    let mut prefix = vec![0u8; 12.min(len as usize)];
    file.read_exact(&mut prefix).map_err(|e| e.to_string())?;
    let header_end = npy::header_end(&prefix)?;
    if header_end as u64 > len.min(MAX_NPY_HEADER) {
        return Err(".npy header runs past the end of the file".into());
    }
    prefix.resize(header_end, 0);
    file.read_exact(&mut prefix[12.min(header_end)..])
        .map_err(|e| e.to_string())?;
    let (descr, fortran, shape, _) = npy::parse(&prefix)?;
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    let mut data_len = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
        data_len += n as u64;
    }
    Ok(npy::Header {
        descr,
        fortran,
        shape,
        data_len,
        sha256: crate::hex::encode(&hash.finalize()[..]),
    })
}

/// Checks the `.npy` outputs of an external decoder against the expected tensors.
fn check_outputs(
    tensors: &[ExpectedTensor],
    outdir: &Path,
    outputs: &[String],
    details: &mut Vec<String>,
) {
    for t in tensors {
        let what = format!("{} (layer {} frame {})", t.file, t.name, t.frame_index);
        let found = match read_output(&outdir.join(&t.file), t.bytes) {
            Ok(h) => h,
            Err(e) => {
                details.push(format!("{what}: {e}"));
                continue;
            }
        };
        let t_type = ElementType::from_name(&t.element_type).expect("a defined element type");
        if !npy::descr_matches(&found.descr, t_type) {
            details.push(format!(
                "{what}: descr {:?} instead of {:?}",
                found.descr,
                npy::descr(t_type)
            ));
        }
        if found.fortran && found.shape.len() > 1 {
            details.push(format!("{what}: fortran_order is True (C order expected)"));
        }
        if found.shape != t.shape {
            details.push(format!(
                "{what}: shape {:?} instead of {:?}",
                found.shape, t.shape
            ));
        }
        if found.data_len != t.bytes {
            details.push(format!(
                "{what}: {} data bytes instead of {}",
                found.data_len, t.bytes
            ));
        } else if found.sha256 != t.sha256 {
            details.push(format!(
                "{what}: the data bytes differ from the expected tensor (SHA-256 {} instead of {})",
                found.sha256, t.sha256
            ));
        }
    }
    for extra in outputs {
        if !tensors.iter().any(|t| t.file == *extra) {
            details.push(format!("{extra}: an output the stream does not have"));
        }
    }
}

/// Totals of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub cases: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

pub fn summarize(results: &[CaseResult]) -> Summary {
    Summary {
        cases: results.len(),
        passed: results.iter().filter(|r| r.status == Status::Pass).count(),
        failed: results.iter().filter(|r| r.status == Status::Fail).count(),
        skipped: results.iter().filter(|r| r.status == Status::Skip).count(),
    }
}

/// The pass/fail table, the details of every failure, and the totals.
pub fn table(results: &[CaseResult]) -> String {
    let headers = ["result", "case", "expected", "got"];
    let rows: Vec<[String; 4]> = results
        .iter()
        .map(|r| {
            let got = match &r.info {
                Some(i) => format!("{} ({i})", r.got),
                None => r.got.clone(),
            };
            [
                r.status.name().to_string(),
                r.case.clone(),
                r.expected.clone(),
                got,
            ]
        })
        .collect();
    let mut widths = headers.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let mut s = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i == 3 {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(headers);
    for row in &rows {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3]]));
    }
    let failures: Vec<&CaseResult> = results
        .iter()
        .filter(|r| r.status != Status::Pass)
        .collect();
    if !failures.is_empty() {
        out.push('\n');
        for r in failures {
            out.push_str(&format!("{} {}\n", r.status.name(), r.case));
            for d in &r.details {
                out.push_str(&format!("    {d}\n"));
            }
        }
    }
    let s = summarize(results);
    out.push_str(&format!(
        "\n{} case(s): {} passed, {} failed, {} skipped\n",
        s.cases, s.passed, s.failed, s.skipped
    ));
    out
}

/// Whether a layer name can be an output path of the protocol (no
/// [`dfc_decoder::names::path_problem`]).
pub fn is_plain_relative_path(name: &str) -> bool {
    dfc_decoder::names::path_problem(name).is_none()
}

/// The reference implementation of the external protocol: decodes `stream` with the reference
/// decoder (from the random-access point of `start_frame` if given) and writes one `.npy` per
/// tensor under `outdir`. Returns the files written, or the decoder's error (which names the
/// requirement).
pub fn protocol_decode(
    stream: &[u8],
    outdir: &Path,
    select: Option<&str>,
    start_frame: Option<u32>,
) -> Result<Vec<PathBuf>, String> {
    let options = dfc_decoder::DecodeOptions {
        start_frame,
        ..dfc_decoder::DecodeOptions::default()
    };
    let mut decoder = dfc_decoder::Decoder::with_options(stream, options);
    let names: Vec<String> = decoder
        .info()
        .map_err(|e| e.to_string())?
        .layers
        .iter()
        .map(|l| l.name.clone())
        .collect();
    if let Some(name) = select {
        let id = names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| format!("the stream has no layer {name:?}"))?;
        decoder.select_layers([id as u16]);
    }
    std::fs::create_dir_all(outdir).map_err(|e| format!("{}: {e}", outdir.display()))?;
    let mut written = Vec::new();
    while let Some(t) = decoder.next_tensor().map_err(|e| e.to_string())? {
        let name = &names[usize::from(t.layer_id)];
        if !is_plain_relative_path(name) {
            return Err(format!("layer name {name:?} cannot be used as a file name"));
        }
        let path = outdir.join(crate::recipe::tensor_file(name, t.frame_index));
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&path, npy::write(t.element_type, &t.shape, &t.data))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}

/// Runs the cases on up to `jobs` threads; results are in case order.
pub fn run_all(cases: &[LoadedCase], decoder: &DecoderUnderTest, jobs: usize) -> Vec<CaseResult> {
    let jobs = jobs.clamp(1, cases.len().max(1));
    if jobs == 1 {
        return cases.iter().map(|c| run_case(c, decoder)).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<Option<CaseResult>> = vec![None; cases.len()];
    let done = std::sync::Mutex::new(&mut results);
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(case) = cases.get(i) else { break };
                let r = run_case(case, decoder);
                done.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.expect("every case ran"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(matches("invalid/req-7.2-3*", "invalid/req-7.2-3-crc-flip"));
        assert!(!matches("invalid/req-7.2-3*", "valid/x"));
        assert!(matches("*crc*", "invalid/req-7.2-3-crc-flip"));
        assert!(matches("valid/m-?aw-*", "valid/m-raw-int8-r1"));
        assert!(matches("native", "valid/m-native-int8-r1"));
        assert!(!matches("native", "valid/m-raw-int8-r1"));
    }

    #[test]
    fn requirement_on_stderr() {
        assert_eq!(
            first_requirement("dfc: unit 4: bad crc [corrupt, REQ-7.2-3]\n").as_deref(),
            Some("REQ-7.2-3")
        );
        assert_eq!(
            first_requirement("error (REQ-A.2-1).").as_deref(),
            Some("REQ-A.2-1")
        );
        assert_eq!(first_requirement("no id"), None);
    }

    #[test]
    fn protocol_paths() {
        assert!(is_plain_relative_path("a/b.c"));
        for bad in ["", "/a", "a//b", "../a", "a/./b", "a\\b"] {
            assert!(!is_plain_relative_path(bad), "{bad:?}");
        }
        assert_eq!(crate::recipe::tensor_file("a/b", 0), "a/b.npy");
        assert_eq!(crate::recipe::tensor_file("x", 3), "frame_03/x.npy");
        assert_eq!(crate::recipe::tensor_file("x", 123), "frame_123/x.npy");
    }
}
