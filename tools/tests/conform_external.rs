//! `dfc conform --decoder`: the external-decoder protocol works with a real decoder, and the
//! runner can fail: wrappers that flip one output bit, drop a tensor, or accept invalid streams
//! are each reported as failing exactly the right cases.

use dfc_conformance::expect::Expected;
use dfc_conformance::runner;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

const DFC: &str = env!("CARGO_BIN_EXE_dfc");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn suite() -> PathBuf {
    root().join("bitstreams")
}

fn fixture(name: &str) -> String {
    let path = root().join("conformance/tests/fixtures").join(name);
    format!(
        "sh {}",
        dfc_conformance::generate::shell_quote(&path.to_string_lossy())
    )
}

/// Runs `dfc conform --json` with a decoder command (and the same command for selection cases,
/// with `{layer}` as third argument); returns the exit status and the failing cases.
fn conform(command: &str, select: &str) -> (bool, BTreeSet<String>, serde_json::Value) {
    let out = Command::new(DFC)
        .args(["conform", "--json", "--suite"])
        .arg(suite())
        .args(["--decoder", command, "--decoder-select", select])
        .env("DFC", DFC)
        .output()
        .expect("dfc runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "--json output: {e}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let failed = json["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["status"] == "fail")
        .map(|c| c["case"].as_str().expect("case name").to_string())
        .collect();
    (out.status.success(), failed, json)
}

fn wrapper(name: &str) -> (bool, BTreeSet<String>, serde_json::Value) {
    let f = fixture(name);
    conform(
        &format!("{f} {{input}} {{outdir}} '' {{start_frame}}"),
        &format!("{f} {{input}} {{outdir}} {{layer}} {{start_frame}}"),
    )
}

/// The cases whose expected result satisfies `pred`.
fn cases_where(pred: impl Fn(&Expected) -> bool) -> BTreeSet<String> {
    runner::load(&suite(), None)
        .expect("the suite loads")
        .into_iter()
        .filter(|c| pred(&c.expect.expected))
        .map(|c| c.key())
        .collect()
}

fn decodes_a_tensor(e: &Expected) -> bool {
    matches!(e, Expected::Decode { tensors, .. } if !tensors.is_empty())
}

#[test]
fn dfc_decode_passes_the_suite_by_the_external_protocol() {
    // dfc-decode.sh: `dfc decode`, with frame 0 of a sequence moved out of frame_00/.
    // {start_frame} is empty for the cases without a start frame.
    let (ok, failed, json) = wrapper("dfc-decode.sh");
    assert!(failed.is_empty() && ok, "failed: {failed:?}");
    assert_eq!(json["summary"]["skipped"], 0);
    assert_eq!(json["summary"]["passed"], json["summary"]["cases"]);
}

#[test]
fn the_reference_protocol_decoder_passes_the_suite() {
    let (ok, failed, json) = conform(
        &format!("{DFC} conform reference-decode {{input}} {{outdir}} --start-frame {{start_frame}}"),
        &format!("{DFC} conform reference-decode {{input}} {{outdir}} --layer {{layer}} --start-frame {{start_frame}}"),
    );
    assert!(failed.is_empty() && ok, "failed: {failed:?}");
    assert_eq!(json["summary"]["skipped"], 0);
}

#[test]
fn cases_with_a_start_frame_are_skipped_without_the_placeholder() {
    let f = fixture("dfc-decode.sh");
    let (ok, failed, json) = conform(
        &format!("{f} {{input}} {{outdir}}"),
        &format!("{f} {{input}} {{outdir}} {{layer}}"),
    );
    assert!(failed.is_empty() && ok, "failed: {failed:?}");
    let with_start: BTreeSet<String> = runner::load(&suite(), None)
        .expect("the suite loads")
        .into_iter()
        .filter(|c| c.expect.start_frame.is_some())
        .map(|c| c.key())
        .collect();
    assert!(!with_start.is_empty(), "the suite has random-access cases");
    let skipped: BTreeSet<String> = json["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|c| c["status"] == "skip")
        .map(|c| c["case"].as_str().expect("case name").to_string())
        .collect();
    assert_eq!(skipped, with_start);
}

#[test]
fn a_decoder_that_flips_one_output_bit_fails_every_case_with_output() {
    let (ok, failed, json) = wrapper("flip-bit.sh");
    assert!(!ok, "dfc conform must exit non-zero");
    assert_eq!(failed, cases_where(decodes_a_tensor));
    let details = json["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["status"] == "fail")
        .expect("a failure")["details"]
        .to_string();
    assert!(details.contains("data bytes differ"), "{details}");
}

#[test]
fn a_decoder_that_drops_a_tensor_fails_every_case_with_output() {
    let (ok, failed, json) = wrapper("drop-tensor.sh");
    assert!(!ok, "dfc conform must exit non-zero");
    assert_eq!(failed, cases_where(decodes_a_tensor));
    let details = json["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .find(|c| c["status"] == "fail")
        .expect("a failure")["details"]
        .to_string();
    assert!(details.contains("missing"), "{details}");
}

#[test]
fn a_decoder_that_accepts_invalid_streams_fails_every_invalid_case() {
    let (ok, failed, _) = wrapper("accept-all.sh");
    assert!(!ok, "dfc conform must exit non-zero");
    let invalid = cases_where(|e| matches!(e, Expected::Reject { .. }));
    assert!(invalid.iter().all(|c| c.starts_with("invalid/")) && invalid.len() > 50);
    assert_eq!(failed, invalid);
}

#[test]
fn in_process_run_passes_and_coverage_needs_the_feature() {
    let out = Command::new(DFC)
        .args(["conform", "--suite"])
        .arg(suite())
        .output()
        .expect("dfc runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("PASS    valid/two-layers-metadata"), "{text}");
    let out = Command::new(DFC)
        .args(["conform", "--coverage", "--suite"])
        .arg(suite())
        .output()
        .expect("dfc runs");
    if dfc_decoder::coverage::ENABLED {
        // `cargo test --workspace` unifies features: the conformance crate's dev-dependency
        // turns the counters on for this binary too.
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("Everything is exercised"));
    } else {
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("--features coverage"));
    }
}

#[test]
fn a_case_pattern_selects_cases_and_a_wrong_suite_is_an_error() {
    let out = Command::new(DFC)
        .args([
            "conform",
            "--json",
            "--case",
            "invalid/req-7.2-3*",
            "--suite",
        ])
        .arg(suite())
        .output()
        .expect("dfc runs");
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let cases = json["cases"].as_array().expect("cases");
    assert!(
        !cases.is_empty()
            && cases
                .iter()
                .all(|c| c["case"].as_str().unwrap().starts_with("invalid/req-7.2-3"))
    );
    let out = Command::new(DFC)
        .args(["conform", "--suite", "/nonexistent"])
        .output()
        .expect("dfc runs");
    assert!(!out.status.success());
}

#[test]
fn mutate_reproduces_a_recorded_invalid_case() {
    let case = runner::load(&suite(), Some("invalid/req-7.2-3-crc-flip"))
        .expect("case")
        .remove(0);
    let g = &case.expect.generator;
    let base = suite()
        .join(g.base.as_ref().expect("a mutation case"))
        .join("stream.dfc");
    let out = std::env::temp_dir().join(format!("dfc-mutate-test-{}.dfc", std::process::id()));
    let status = Command::new(DFC)
        .arg("mutate")
        .arg(&base)
        .arg("-o")
        .arg(&out)
        .args(&g.ops)
        .arg("--quiet")
        .status()
        .expect("dfc runs");
    assert!(status.success());
    let made = std::fs::read(&out).expect("written");
    let _ = std::fs::remove_file(&out);
    assert_eq!(
        made,
        std::fs::read(case.dir.join("stream.dfc")).expect("golden stream")
    );
}

#[test]
fn the_help_example_passes_the_suite() {
    let help = Command::new(DFC)
        .args(["conform", "--help"])
        .output()
        .expect("dfc runs");
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    // The templates of the first --decoder example, with `dfc` this build's binary.
    let line = help
        .lines()
        .find(|l| l.contains("--decoder 'f={start_frame}; dfc decode"))
        .expect("the example");
    let next = help
        .lines()
        .skip_while(|l| *l != line)
        .nth(1)
        .expect("its --decoder-select line");
    let template = |l: &str, option: &str| {
        let start = l.find(&format!("{option} '")).expect(option) + option.len() + 2;
        let end = start + l[start..].find('\'').expect("closing quote");
        l[start..end].replace("dfc decode", &format!("{DFC} decode"))
    };
    let (ok, failed, json) = conform(
        &template(line, "--decoder"),
        &template(next, "--decoder-select"),
    );
    assert!(failed.is_empty() && ok, "failed: {failed:?}");
    assert_eq!(json["summary"]["skipped"], 0);
}

/// Runs `dfc conform` on one case with `decoder` and a 1-second timeout; returns the case's
/// result and how long the run took.
fn run_one(decoder: &str) -> (serde_json::Value, std::time::Duration) {
    let start = std::time::Instant::now();
    let out = Command::new(DFC)
        .args(["conform", "--json", "--suite"])
        .arg(suite())
        .args([
            "--case",
            "valid/edge-uint8-all-zero",
            "--timeout",
            "1",
            "--decoder",
            decoder,
        ])
        .output()
        .expect("dfc runs");
    let elapsed = start.elapsed();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("--json output");
    (json["cases"][0].clone(), elapsed)
}

/// Whether a process whose command line contains `marker` is running.
fn running(marker: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|e| {
        std::fs::read(e.path().join("cmdline"))
            .map(|c| {
                String::from_utf8_lossy(&c)
                    .replace('\0', " ")
                    .contains(marker)
            })
            .unwrap_or(false)
    })
}

#[cfg(target_os = "linux")]
#[test]
fn a_decoder_that_leaves_a_sleeping_child_is_stopped_with_it() {
    // The child sleeps far beyond the timeout, in the background and in the foreground.
    for decoder in [
        "sleep 31.25 & sleep 31.5 # {input} {outdir}",
        "(sleep 31.75 &); exit 1 # {input} {outdir}",
    ] {
        let (case, elapsed) = run_one(decoder);
        assert_eq!(case["status"], "fail", "{case}");
        assert!(
            elapsed < std::time::Duration::from_secs(20),
            "{decoder}: {elapsed:?}"
        );
        for marker in ["sleep 31.25", "sleep 31.5", "sleep 31.75"] {
            assert!(!running(marker), "{marker} still runs");
        }
    }
}

#[test]
fn a_decoder_that_floods_stderr_is_stopped_and_its_stderr_bounded() {
    let (case, elapsed) = run_one("yes flood-flood-flood >&2 # {input} {outdir}");
    assert_eq!(case["got"], "timed out", "{case}");
    assert!(elapsed < std::time::Duration::from_secs(20), "{elapsed:?}");
    // A flood then a rejection: the details show the start of stderr, not gigabytes.
    let (case, _) =
        run_one("head -c 50000000 /dev/zero | tr '\\0' x >&2; exit 1 # {input} {outdir}");
    assert_eq!(case["status"], "fail", "{case}");
    assert!(
        case.to_string().len() < 100_000,
        "{} bytes",
        case.to_string().len()
    );
}
