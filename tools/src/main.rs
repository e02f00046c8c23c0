//! `dfc`: the DFC command line.

use clap::Parser;

fn main() {
    let cli = dfc_tools::Cli::parse();
    match dfc_tools::run(cli) {
        Ok(true) => {}
        Ok(false) => std::process::exit(3),
        Err(e) => {
            eprintln!("dfc: {e:#}");
            std::process::exit(1);
        }
    }
}
