//! Coverage of the suite: which syntax elements, enumerated values, decoding-process branches and
//! requirement IDs a run of the reference decoder over the suite exercises.
//!
//! The universe is derived from the sources, not listed by hand: syntax elements by visiting a
//! sample of every syntax structure (`syntax:<table>.<element>`, as the decoder's `coverage`
//! module records them), enumerated values from the decoder's enums and level table
//! (`value:<element>=<name>`), branches from the `branch:` keys in `decoder/src`, requirement IDs
//! from the bold definitions in `spec/*.md` (`req:<ID>`). The hits come from the decoder's
//! `coverage` feature.

use crate::sources;
use dfc_decoder::native::syntax::{FrequencyTable, NativeHeader, SliceIndex};
use dfc_decoder::quant::syntax::{
    Codebook, InterParameters, MapPredictors, QuantHeader, UniformParameters,
};
use dfc_decoder::syntax::{
    FeatureData, FieldValue, FieldVisitor, FrameHeader, Identification, LayerParameters, Metadata,
    MetadataEntry, SequenceHeader, SyntaxStructure, TensorHash, Unit,
};
use dfc_decoder::{CodingMethod, ElementType, HashType, LayerKind, Profile, UnitType, LEVELS};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One category of the report.
#[derive(Clone, Debug, Serialize)]
pub struct Category {
    pub name: &'static str,
    /// Every key of the category.
    pub universe: Vec<String>,
    /// Hit counts of the keys of the universe that were hit.
    pub hits: BTreeMap<String, u64>,
}

impl Category {
    pub fn missing(&self) -> Vec<&String> {
        self.universe
            .iter()
            .filter(|k| !self.hits.contains_key(*k))
            .collect()
    }

    pub fn covered(&self) -> usize {
        self.universe.len() - self.missing().len()
    }
}

/// The coverage report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub categories: Vec<Category>,
    /// Keys hit that no category's universe has (the universe is out of date).
    pub outside: Vec<String>,
}

impl Report {
    pub fn complete(&self) -> bool {
        self.outside.is_empty() && self.categories.iter().all(|c| c.missing().is_empty())
    }
}

/// Every syntax element: `syntax:<table>.<element>`, from the `visit_fields` of every syntax
/// structure in decoder/src (so that a new structure or element is in the universe at once).
pub fn syntax_universe() -> Vec<String> {
    sources::DECODER_SYNTAX_ELEMENTS
        .iter()
        .map(|e| format!("syntax:{e}"))
        .collect()
}

/// The syntax elements found by visiting a sample of each syntax structure of clause 6 this
/// crate knows (a check of [`syntax_universe`]: a subset of it).
pub fn visited_syntax_elements() -> Vec<String> {
    struct Keys<'a>(&'static str, &'a mut BTreeSet<String>);
    impl FieldVisitor for Keys<'_> {
        fn field(&mut self, name: &'static str, _: FieldValue<'_>) {
            self.1.insert(format!("syntax:{}.{name}", self.0));
        }
    }
    fn add<S: SyntaxStructure>(s: &S, out: &mut BTreeSet<String>) {
        s.visit_fields(&mut Keys(S::NAME.trim_end_matches("()"), out));
    }
    let mut out = BTreeSet::new();
    add(&Identification::current(), &mut out);
    add(
        &Unit::new(UnitType::EndOfSequence.code(), Vec::new()),
        &mut out,
    );
    add(
        &SequenceHeader {
            version_major: 0,
            version_minor: 1,
            profile_idc: 0,
            level_idc: 10,
            num_layers: 1,
            reserved_zero_16bits: 0,
        },
        &mut out,
    );
    add(
        &LayerParameters {
            layer_id: 0,
            layer_kind: 0,
            element_type: 0,
            non_negative_flag: false,
            reserved_zero_7bits: 0,
            default_method: 0,
            dims: vec![1],
            name: b"x".to_vec(),
        },
        &mut out,
    );
    add(
        &FeatureData {
            layer_id: 0,
            frame_index: 0,
            coding_method: 0,
            method_payload: vec![0],
        },
        &mut out,
    );
    add(
        &TensorHash {
            layer_id: 0,
            frame_index: 0,
            hash_type: 0,
            hash_value: vec![0; 32],
        },
        &mut out,
    );
    add(
        &Metadata {
            entries: vec![MetadataEntry {
                key: b"k".to_vec(),
                value: b"v".to_vec(),
            }],
        },
        &mut out,
    );
    add(
        &FrameHeader {
            frame_index: 0,
            random_access: true,
            reserved_zero_7bits: 0,
        },
        &mut out,
    );
    // The method payloads of the native and quantized methods.
    add(
        &NativeHeader {
            rows_per_slice: 1,
            kind_exp_base: 0,
            exp_ctx_base: 0,
            ref_distance: 0,
        },
        &mut out,
    );
    add(
        &FrequencyTable {
            entries: vec![(0, 4096)],
        },
        &mut out,
    );
    add(
        &SliceIndex {
            slices: vec![(4, 0)],
        },
        &mut out,
    );
    add(
        &QuantHeader {
            quantizer_type: 0,
            level_bits: 8,
            signed_levels: false,
            per_channel: false,
            map_prediction: false,
            reserved_zero_5bits: 0,
            residual_ctx_base: 0,
            level_ctx_base: 0,
            rows_per_slice: 1,
        },
        &mut out,
    );
    add(
        &UniformParameters {
            params: vec![(0x3F80_0000, 0)],
        },
        &mut out,
    );
    add(&Codebook { codewords: vec![0] }, &mut out);
    add(
        &MapPredictors {
            predictors: vec![1],
            alignment: 0,
        },
        &mut out,
    );
    add(
        &InterParameters {
            ref_distance: 1,
            inter_ctx_base: 0,
        },
        &mut out,
    );
    // end_of_sequence() has no syntax element.
    out.into_iter().collect()
}

/// Every enumerated value: `value:<element>=<name>`, as the decoder records them.
pub fn value_universe() -> Vec<String> {
    let mut out = Vec::new();
    let mut add = |element: &str, names: Vec<String>| {
        out.extend(names.into_iter().map(|n| format!("value:{element}={n}")))
    };
    let mut unit_types: Vec<String> = UnitType::ALL.iter().map(|t| t.name().to_string()).collect();
    unit_types.push("reserved_skippable".into());
    add("unit_type", unit_types);
    add(
        "profile_idc",
        Profile::ALL.iter().map(|p| p.name().to_string()).collect(),
    );
    add("level_idc", LEVELS.iter().map(|l| l.name()).collect());
    add(
        "layer_kind",
        LayerKind::ALL
            .iter()
            .map(|k| k.name().to_string())
            .collect(),
    );
    add(
        "element_type",
        ElementType::ALL
            .iter()
            .map(|t| t.name().to_string())
            .collect(),
    );
    add("non_negative_flag", vec!["0".into(), "1".into()]);
    add(
        "default_method",
        CodingMethod::ALL
            .iter()
            .map(|m| m.name().to_string())
            .collect(),
    );
    add("rank", (1..=4).map(|r: u8| r.to_string()).collect());
    add(
        "coding_method",
        CodingMethod::ALL
            .iter()
            .map(|m| m.name().to_string())
            .collect(),
    );
    add(
        "hash_type",
        HashType::ALL.iter().map(|h| h.name().to_string()).collect(),
    );
    // quant_header() of the quantized method (Table 7-7 and clause 7.10).
    add("quantizer_type", vec!["uniform".into(), "codebook".into()]);
    add("signed_levels", vec!["0".into(), "1".into()]);
    add("per_channel", vec!["0".into(), "1".into()]);
    add("map_prediction", vec!["0".into(), "1".into()]);
    // map_predictors() (Table 7-8).
    add(
        "map_predictor",
        vec!["none".into(), "med".into(), "inter".into()],
    );
    // frame_header() (clause 7.11).
    add("random_access", vec!["0".into(), "1".into()]);
    out
}

/// The elements [`value_universe`] covers.
pub fn value_elements() -> BTreeSet<String> {
    value_universe()
        .iter()
        .filter_map(|k| {
            k.strip_prefix("value:")
                .and_then(|k| k.split_once('='))
                .map(|(e, _)| e.to_string())
        })
        .collect()
}

/// Every decoding-process branch the decoder counts: `branch:<what>`.
pub fn branch_universe() -> Vec<String> {
    sources::DECODER_BRANCHES
        .iter()
        .map(|b| b.to_string())
        .collect()
}

/// Every requirement ID of the spec: `req:<ID>`.
pub fn requirement_universe() -> Vec<String> {
    sources::SPEC_REQUIREMENTS
        .iter()
        .map(|r| format!("req:{r}"))
        .collect()
}

/// Builds the report from the decoder's counters.
pub fn report(hits: &BTreeMap<String, u64>) -> Report {
    let universes: [(&'static str, Vec<String>); 4] = [
        ("syntax elements", syntax_universe()),
        ("enumerated values", value_universe()),
        ("decoding branches", branch_universe()),
        ("requirement IDs", requirement_universe()),
    ];
    let mut all = BTreeSet::new();
    let categories = universes
        .into_iter()
        .map(|(name, universe)| {
            all.extend(universe.iter().cloned());
            let hits = universe
                .iter()
                .filter_map(|k| hits.get(k).map(|n| (k.clone(), *n)))
                .collect();
            Category {
                name,
                universe,
                hits,
            }
        })
        .collect();
    let outside = hits.keys().filter(|k| !all.contains(*k)).cloned().collect();
    Report {
        categories,
        outside,
    }
}

/// The coverage table, then everything not exercised.
pub fn table(report: &Report) -> String {
    let mut out = format!(
        "{:<20} {:>8} {:>6} {:>7}\n",
        "coverage", "covered", "total", "%"
    );
    for c in &report.categories {
        let pct = if c.universe.is_empty() {
            100.0
        } else {
            100.0 * c.covered() as f64 / c.universe.len() as f64
        };
        out.push_str(&format!(
            "{:<20} {:>8} {:>6} {:>6.1}%\n",
            c.name,
            c.covered(),
            c.universe.len(),
            pct
        ));
    }
    let missing: Vec<(&str, &String)> = report
        .categories
        .iter()
        .flat_map(|c| c.missing().into_iter().map(move |k| (c.name, k)))
        .collect();
    if missing.is_empty() {
        out.push_str("\nEverything is exercised.\n");
    } else {
        out.push_str(&format!("\nNot exercised ({}):\n", missing.len()));
        for (cat, key) in missing {
            out.push_str(&format!("  {key}  ({cat})\n"));
        }
    }
    if !report.outside.is_empty() {
        out.push_str(&format!(
            "\nHit by the decoder but in no universe (update conformance/src/coverage.rs) ({}):\n",
            report.outside.len()
        ));
        for key in &report.outside {
            out.push_str(&format!("  {key}\n"));
        }
    }
    out
}
