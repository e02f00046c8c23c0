//! `dfc`: the DFC command line.

use clap::Parser;

fn main() {
    let cli = dfc_tools::Cli::parse();
    if let Err(e) = dfc_tools::run(cli) {
        eprintln!("dfc: {e:#}");
        std::process::exit(1);
    }
}
