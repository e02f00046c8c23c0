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

/// DFC — Deep Feature Coding: encode, decode and inspect streams of neural-network features,
/// measure coding methods (bench, rd), test decoders (conform) and edit streams (mutate).
#[derive(Parser, Debug)]
#[command(
    name = "dfc",
    version,
    about,
    long_about = None,
    propagate_version = true,
    after_help = "\
Conventions (as in xz and zstd): `-` is standard input or output; an existing output is
replaced only with -f/--force; an output is never one of the inputs; outputs appear whole or
not at all. Exit status: 0 success, 1 error, 2 usage error, 3 `dfc decode --keep-going`
decoded only part of a damaged stream.

Examples:
  dfc encode samples/corpus -o features.dfc
  dfc decode features.dfc -o out/
  cat features.dfc | dfc decode - -o - --layer fc > fc.npy
  dfc inspect features.dfc"
)]
pub struct Cli {
    #[command(flatten)]
    pub verbosity: Verbosity,
    #[command(subcommand)]
    pub command: Command,
}

/// `-q` and `-v`, accepted by every subcommand.
#[derive(clap::Args, Clone, Copy, Debug, Default)]
pub struct Verbosity {
    /// Print nothing on success but what was asked for (--json, a stream on standard output);
    /// errors still go to standard error.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Also say what is done, on standard error (-vv: more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Encode .npy / .safetensors tensors into a DFC stream.
    Encode(encode::Args),
    /// Decode a DFC stream into .npy files, one .safetensors file or standard output.
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

/// Runs a command; `Ok(false)` when it finished but did not do everything (`dfc decode
/// --keep-going` on a damaged stream: exit status 3).
pub fn run(cli: Cli) -> anyhow::Result<bool> {
    let v = cli.verbosity;
    match cli.command {
        Command::Encode(args) => encode::run(args, v).map(|()| true),
        Command::Decode(args) => decode::run(args, v),
        Command::Inspect(args) => inspect::run(args, v).map(|()| true),
        Command::Bench(mut args) => {
            args.quiet = v.quiet;
            bench::run(args).map(|()| true)
        }
        Command::Conform(args) => conform::run(args, v).map(|()| true),
        Command::Mutate(args) => mutate::run(args, v).map(|()| true),
        Command::Rd(mut args) => {
            args.quiet = v.quiet;
            rd::run(args).map(|()| true)
        }
    }
}
