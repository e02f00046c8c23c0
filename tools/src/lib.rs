//! The `dfc` command line as a library, so that tests can call each command.

pub mod bench;
pub mod conform;
pub mod decode;
pub mod encode;
pub mod inspect;
pub mod io;
pub mod mutate;
pub mod rd;

use clap::{Parser, Subcommand};

/// DFC — Deep Feature Coding: encode, decode and inspect streams of neural-network features.
#[derive(Parser, Debug)]
#[command(name = "dfc", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Encode .npy / .safetensors tensors into a DFC stream.
    Encode(encode::Args),
    /// Decode a DFC stream into .npy files or one .safetensors file.
    Decode(decode::Args),
    /// Show the units and layers of a stream; --trace prints every syntax element.
    Inspect(inspect::Args),
    /// Measure every coding method and the published anchors on a feature corpus.
    Bench(bench::Args),
    /// Run the conformance suite against the reference decoder or any decoder; regenerate it.
    Conform(conform::Args),
    /// Edit a stream deterministically (the conformance suite's mutator).
    Mutate(mutate::Args),
    /// Rate–distortion sweeps of lossy configurations: PSNR, BD-rate, task fidelity.
    Rd(rd::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Encode(args) => encode::run(args),
        Command::Decode(args) => decode::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Conform(args) => conform::run(args),
        Command::Mutate(args) => mutate::run(args),
        Command::Rd(args) => rd::run(args),
    }
}
