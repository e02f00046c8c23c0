//! The mutation score: every deliberate misreading of the spec in `dfc_decoder::mutants` fails
//! at least two cases of the suite, and the table in conformance/README.md is the one the suite
//! gives (`DFC_UPDATE_MUTATION_TABLE=1 cargo test -p dfc-conformance --test mutants` rewrites
//! it).

use dfc_conformance::{mutants, runner};
use std::path::Path;

const _: () = assert!(dfc_decoder::mutants::ENABLED);

#[test]
fn every_misreading_is_caught_twice_and_the_table_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases = runner::load(&root.parent().expect("root").join("bitstreams"), None)
        .expect("the suite loads");
    let results = mutants::score(&cases).expect("the suite passes without misreadings");
    let table = mutants::table(&results);
    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("README.md");
    let current = mutants::with_table(&readme, &table).expect("the README has the table markers");
    let update = std::env::var_os("DFC_UPDATE_MUTATION_TABLE").is_some();
    if update && readme != current {
        std::fs::write(&readme_path, &current).expect("README.md is writable");
    }
    let survivors: Vec<String> = mutants::survivors(&results)
        .iter()
        .map(|r| {
            format!(
                "{} (reached by {} cases): caught by {:?}",
                r.id, r.reached, r.caught_by
            )
        })
        .collect();
    assert!(
        survivors.is_empty(),
        "misreadings caught by fewer than {} cases:\n{}",
        mutants::REQUIRED_CATCHES,
        survivors.join("\n")
    );
    assert!(
        update || readme == current,
        "conformance/README.md's mutation table is stale; rerun with DFC_UPDATE_MUTATION_TABLE=1:\n{table}"
    );
}
