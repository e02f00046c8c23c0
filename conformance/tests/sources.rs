//! The spec, the decoder and the suite cannot drift apart: the spec defines exactly the
//! requirement IDs the decoder reports, each once; every requirement has an invalid case that
//! breaks it; the coverage universe matches what the decoder records.

use dfc_conformance::expect::Expected;
use dfc_conformance::{coverage, runner, sources};
use std::collections::BTreeSet;
use std::path::Path;

#[test]
fn spec_and_decoder_name_the_same_requirement_ids() {
    let spec: BTreeSet<&str> = sources::SPEC_REQUIREMENTS.iter().copied().collect();
    let decoder: BTreeSet<&str> = sources::DECODER_REQUIREMENTS.iter().copied().collect();
    assert!(!spec.is_empty(), "no **REQ-…** definitions found in spec/");
    let only_spec: Vec<_> = spec.difference(&decoder).collect();
    let only_decoder: Vec<_> = decoder.difference(&spec).collect();
    assert!(
        only_spec.is_empty() && only_decoder.is_empty(),
        "defined in spec/ but not used in decoder/src: {only_spec:?}; used in decoder/src but not defined in spec/: {only_decoder:?}"
    );
    assert!(
        sources::SPEC_DUPLICATES.is_empty(),
        "defined twice in spec/: {:?}",
        sources::SPEC_DUPLICATES
    );
    for (id, class) in sources::SPEC_REQUIREMENTS.iter().zip(sources::SPEC_CLASSES) {
        assert!(
            dfc_decoder::ErrorClass::from_name(class).is_some(),
            "{id}: class {class:?} is not an error class of clause 9.3"
        );
    }
}

#[test]
fn every_requirement_has_an_invalid_case_that_breaks_it() {
    let suite = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("root")
        .join("bitstreams");
    let cases = runner::load(&suite, Some("invalid/")).expect("the suite loads");
    let broken: BTreeSet<String> = cases
        .iter()
        .filter_map(|c| match &c.expect.expected {
            Expected::Reject { requirement, .. } => Some(requirement.clone()),
            Expected::Decode { .. } => None,
        })
        .collect();
    let missing: Vec<&&str> = sources::SPEC_REQUIREMENTS
        .iter()
        .filter(|r| !broken.contains(**r))
        .collect();
    assert!(missing.is_empty(), "no invalid case breaks {missing:?}");
    for c in &cases {
        if let Expected::Reject {
            requirement, class, ..
        } = &c.expect.expected
        {
            assert_eq!(
                c.expect.exercises.requirements.first(),
                Some(requirement),
                "{}",
                c.key()
            );
            if let Some(spec_class) = sources::class_of(requirement) {
                assert_eq!(class, spec_class, "{}: class of {requirement}", c.key());
            }
        }
    }
}

#[test]
fn coverage_universe_matches_the_decoder() {
    let recorded: BTreeSet<String> = sources::DECODER_VALUE_ELEMENTS
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(
        coverage::value_elements(),
        recorded,
        "elements with enumerated values"
    );
    let universe: BTreeSet<String> = coverage::syntax_universe().into_iter().collect();
    for key in coverage::visited_syntax_elements() {
        assert!(
            universe.contains(&key),
            "{key} is visited but not found in decoder/src"
        );
    }
    assert!(!coverage::branch_universe().is_empty());
}
