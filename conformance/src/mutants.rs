//! The mutation score of the suite: the reference decoder is run on the suite once with each
//! deliberate misreading of the specification switched on (`dfc_decoder::mutants`, feature
//! `mutants`), and a misreading is caught by every case that no longer passes (wrong tensor,
//! wrong error class, requirement or unit, a stream accepted or rejected wrongly, or a panic).
//!
//! A misreading can only change the outcome of a case whose decoding evaluates its `mutant!`
//! site, so each misreading runs only on the cases that reach it in a first, correct run: the
//! whole table costs about one suite run per misreading's reaching cases.

use crate::runner::{self, DecoderUnderTest, LoadedCase, Status};
use dfc_decoder::mutants::{self, Mutant, MUTANTS};
use std::panic::AssertUnwindSafe;

/// Every misreading must be caught by at least this many cases.
pub const REQUIRED_CATCHES: usize = 2;

/// What the suite does to one misreading.
#[derive(Clone, Debug, serde::Serialize)]
pub struct MutantResult {
    pub id: &'static str,
    pub clause: &'static str,
    pub misreading: &'static str,
    /// Cases whose decoding evaluates the misreading's site.
    pub reached: usize,
    /// Cases that fail with the misreading (`group/ID`, in suite order).
    pub caught_by: Vec<String>,
}

impl MutantResult {
    fn new(m: &Mutant) -> Self {
        MutantResult {
            id: m.id,
            clause: m.clause,
            misreading: m.misreading,
            reached: 0,
            caught_by: Vec::new(),
        }
    }
}

/// Runs `cases` with each misreading (in-process, one at a time for the whole process). Fails
/// without the feature `mutants`, or if a case fails without any misreading.
pub fn score(cases: &[LoadedCase]) -> Result<Vec<MutantResult>, String> {
    if !mutants::ENABLED {
        return Err("the decoder is built without the feature `mutants`".into());
    }
    mutants::activate(None)?;
    let mut results: Vec<MutantResult> = MUTANTS.iter().map(MutantResult::new).collect();
    let mut reaching: Vec<Vec<usize>> = vec![Vec::new(); MUTANTS.len()];
    mutants::take_reached();
    for (i, case) in cases.iter().enumerate() {
        let r = runner::run_case(case, &DecoderUnderTest::Reference);
        if r.status != Status::Pass {
            return Err(format!(
                "{} does not pass without a misreading: {}",
                r.case,
                r.details.join("; ")
            ));
        }
        for (m, reached) in mutants::take_reached().into_iter().enumerate() {
            if reached {
                reaching[m].push(i);
            }
        }
    }
    // A misreading may make the decoder panic (an overflow, an index out of bounds): that case
    // fails, and the panic message would only be noise.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for (result, reaching) in results.iter_mut().zip(&reaching) {
        mutants::activate(Some(result.id))?;
        result.reached = reaching.len();
        for &i in reaching {
            let run = std::panic::catch_unwind(AssertUnwindSafe(|| {
                runner::run_case(&cases[i], &DecoderUnderTest::Reference)
            }));
            if run.map_or(true, |r| r.status != Status::Pass) {
                result.caught_by.push(cases[i].key());
            }
        }
    }
    std::panic::set_hook(hook);
    mutants::activate(None)?;
    Ok(results)
}

/// The misreadings caught by fewer than [`REQUIRED_CATCHES`] cases.
pub fn survivors(results: &[MutantResult]) -> Vec<&MutantResult> {
    results
        .iter()
        .filter(|r| r.caught_by.len() < REQUIRED_CATCHES)
        .collect()
}

/// The table of `conformance/README.md` (Markdown): each misreading, its clause, and the cases
/// that catch it (their number and the first few).
pub fn table(results: &[MutantResult]) -> String {
    const SHOWN: usize = 3;
    let mut counts: Vec<usize> = results.iter().map(|r| r.caught_by.len()).collect();
    counts.sort_unstable();
    let caught = results
        .iter()
        .filter(|r| r.caught_by.len() >= REQUIRED_CATCHES)
        .count();
    let mut out = format!(
        "{} misreadings, {caught} caught by at least {REQUIRED_CATCHES} cases; cases per misreading: fewest {}, median {}.\n\n",
        results.len(),
        counts.first().copied().unwrap_or(0),
        counts.get(counts.len() / 2).copied().unwrap_or(0),
    );
    out.push_str("| misreading | clause | what the mutated decoder does | cases that catch it |\n");
    out.push_str("|---|---|---|---|\n");
    for r in results {
        let mut shown: Vec<String> = r
            .caught_by
            .iter()
            .take(SHOWN)
            .map(|c| format!("`{c}`"))
            .collect();
        if r.caught_by.len() > SHOWN {
            shown.push("…".into());
        }
        out.push_str(&format!(
            "| `{}` | {} | {} | {}: {} |\n",
            r.id,
            r.clause,
            r.misreading.replace('|', "\\|"),
            r.caught_by.len(),
            if shown.is_empty() {
                "none".to_string()
            } else {
                shown.join(", ")
            }
        ));
    }
    out
}

/// The lines that delimit the table in `conformance/README.md`.
pub const TABLE_BEGIN: &str =
    "<!-- mutation table: generated by `dfc conform --mutants`; begin -->";
pub const TABLE_END: &str = "<!-- mutation table: end -->";

/// `readme` with the text between [`TABLE_BEGIN`] and [`TABLE_END`] replaced by `table`.
pub fn with_table(readme: &str, table: &str) -> Result<String, String> {
    let begin = readme
        .find(TABLE_BEGIN)
        .ok_or("the README has no mutation table marker")?
        + TABLE_BEGIN.len();
    let end = readme[begin..]
        .find(TABLE_END)
        .ok_or("the README has no end marker of the mutation table")?
        + begin;
    Ok(format!(
        "{}\n\n{table}\n{}",
        &readme[..begin],
        &readme[end..]
    ))
}
