//! The whole suite against the reference decoder, in-process, with the decoder's coverage
//! counters: every case passes (right tensors bit for bit; right error class, requirement and
//! unit for every rejection), and every syntax element, enumerated value, decoding branch and
//! requirement ID is exercised. One test only, so that no other test's decoding adds hits.

use dfc_conformance::coverage;
use dfc_conformance::runner::{self, DecoderUnderTest, Status};
use std::path::Path;

// The decoder's coverage counters are on (dev-dependency with the `coverage` feature).
const _: () = assert!(dfc_decoder::coverage::ENABLED);

#[test]
fn every_case_passes_and_everything_is_exercised() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root")
        .join("bitstreams");
    let cases = runner::load(&suite, None).expect("the suite loads");
    dfc_decoder::coverage::take();
    let results = runner::run_all(&cases, &DecoderUnderTest::Reference, 1);
    let report = coverage::report(&dfc_decoder::coverage::take());
    let failed: Vec<String> = results
        .iter()
        .filter(|r| r.status != Status::Pass)
        .map(|r| format!("{} {}: {}", r.status.name(), r.case, r.details.join("; ")))
        .collect();
    assert!(
        failed.is_empty(),
        "{} case(s) failed:\n{}",
        failed.len(),
        failed.join("\n")
    );
    assert!(
        report.complete(),
        "coverage is incomplete:\n{}",
        coverage::table(&report)
    );
}
