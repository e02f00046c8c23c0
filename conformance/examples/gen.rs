fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let t = std::time::Instant::now();
    match dfc_conformance::generate::generate(&root, None) {
        Ok(cases) => {
            let total: usize = cases.iter().map(|c| c.stream.len()).sum();
            println!("{} cases, {} stream bytes, {:?}", cases.len(), total, t.elapsed());
            if std::env::args().nth(1).as_deref() == Some("write") {
                dfc_conformance::generate::write(&root.join("bitstreams"), &cases, true).unwrap();
            }
        }
        Err(e) => println!("ERROR {e}"),
    }
}
