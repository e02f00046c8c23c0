//! `dfc conform`: run the conformance suite against the reference decoder or any decoder, and
//! regenerate the suite.

use anyhow::{bail, Context};
use dfc_conformance::runner::{self, DecoderUnderTest, Status};
use dfc_conformance::{coverage, generate, mutants};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Options of `dfc conform`.
#[derive(clap::Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "\
Runs every case of the suite (bitstreams/<group>/<ID>/) and compares the decoder's result with
the case's expect.json bit for bit; prints a pass/fail table and exits non-zero on any failure.

Without --decoder the reference decoder runs in this process and must also name the expected
error class, requirement ID and unit of every rejection. With --decoder, any decoder runs by
the external protocol: the template's {input} (the stream) and {outdir} (an empty directory)
are replaced by shell-quoted absolute paths and the command runs under `sh -c`. To decode,
it exits 0 and writes one .npy per tensor at {outdir}/<layer name>.npy (frames after the first
under {outdir}/frame_XX/); to reject, it exits non-zero. Cases with a layer selection run
with --decoder-select, whose template also has {layer}. Cases that start at a random-access
point run only if the template has {start_frame} (the frame_index to start from; the empty
word for the other cases). A decoder runs in its own process group: at the timeout the whole
group is killed (and whatever it leaves running when it exits); only the first and last 16 KiB
of its standard error are kept; each output .npy is hashed as it is read, and one longer than
the expected tensor and a header is not read. See conformance/README.md.

Examples:
  dfc conform
  dfc conform --case 'invalid/req-8.3*' --json
  dfc conform --decoder 'f={start_frame}; dfc decode {input} -o {outdir} --layout frames ${f:+--start-frame $f}' \\
              --decoder-select 'f={start_frame}; dfc decode {input} -o {outdir} --layout frames --layer {layer} ${f:+--start-frame $f}'
  dfc conform --decoder 'mydec {input} {outdir}' --timeout 10
  dfc conform --coverage            (needs: cargo run -p dfc-tools --features coverage -- ...)
  dfc conform --mutants             (needs: cargo run -p dfc-tools --features mutants -- ...)
  dfc conform generate              (rewrite bitstreams/ from the catalogue)
  dfc conform generate --check      (fail if bitstreams/ is not what the generator makes)"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Sub>,

    /// The suite directory.
    #[arg(long, value_name = "DIR", default_value = "bitstreams")]
    pub suite: PathBuf,

    /// Test an external decoder: a command template with {input} and {outdir}, and optionally
    /// {start_frame}. Example: --decoder 'mydec {input} --out {outdir}'
    #[arg(long, value_name = "CMD")]
    pub decoder: Option<String>,

    /// Template for the cases that select one layer, with {input}, {outdir} and {layer}; without
    /// it those cases are skipped for an external decoder.
    #[arg(long, value_name = "CMD", requires = "decoder")]
    pub decoder_select: Option<String>,

    /// Seconds an external decoder may take per case.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0)]
    pub timeout: f64,

    /// Cases run at the same time with an external decoder (default: the number of CPUs).
    #[arg(long, value_name = "N")]
    pub jobs: Option<usize>,

    /// Only the cases whose group/ID matches: a glob (* and ?) or a substring.
    #[arg(long, value_name = "PATTERN")]
    pub case: Option<String>,

    /// Print the results as JSON.
    #[arg(long)]
    pub json: bool,

    /// Also measure which syntax elements, enumerated values, decoding branches and
    /// requirement IDs the cases exercise (reference decoder; build with --features coverage);
    /// fails unless everything is exercised.
    #[arg(long, conflicts_with = "decoder")]
    pub coverage: bool,

    /// The mutation score: run the cases with each deliberate misreading of the spec in the
    /// reference decoder and print the cases that catch each one (build with --features
    /// mutants); fails if a misreading is caught by fewer than two cases.
    #[arg(long, conflicts_with_all = ["decoder", "coverage"])]
    pub mutants: bool,
}

#[derive(clap::Subcommand, Debug)]
pub enum Sub {
    /// Write (or with --check, verify) the golden streams from the case catalogue.
    Generate(GenerateArgs),
    /// Decode one stream by the external protocol with the reference decoder (what a decoder
    /// under test is expected to write).
    ReferenceDecode(ReferenceDecodeArgs),
}

#[derive(clap::Args, Debug)]
pub struct GenerateArgs {
    /// The suite directory.
    #[arg(long, value_name = "DIR", default_value = "bitstreams")]
    pub suite: PathBuf,
    /// The repository root, for the real-feature crops of samples/corpus (default: the suite
    /// directory's parent).
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Only this case (group/ID), with the base cases it is made from; repeatable.
    #[arg(long, value_name = "GROUP/ID")]
    pub case: Vec<String>,
    /// Write nothing; fail if the files differ from what the generator makes.
    #[arg(long)]
    pub check: bool,
}

#[derive(clap::Args, Debug)]
pub struct ReferenceDecodeArgs {
    /// The stream.
    #[arg(value_name = "IN.dfc")]
    pub input: PathBuf,
    /// The output directory.
    #[arg(value_name = "OUTDIR")]
    pub outdir: PathBuf,
    /// Decode only this layer.
    #[arg(long, value_name = "NAME")]
    pub layer: Option<String>,
    /// Start at the random-access frame_header unit with this frame_index (clause 8.6); empty:
    /// from the start (what `{start_frame}` gives for a case without a start frame).
    #[arg(long, value_name = "N")]
    pub start_frame: Option<String>,
}

/// `dfc conform --mutants`: the table of misreadings and the cases that catch them.
fn run_mutants(cases: &[runner::LoadedCase], json: bool) -> anyhow::Result<()> {
    if !dfc_decoder::mutants::ENABLED {
        bail!(
            "--mutants needs the decoder's misreadings; rebuild with the mutants feature:\n  \
             cargo run -p dfc-tools --features mutants -- conform --mutants"
        );
    }
    let results = mutants::score(cases).map_err(anyhow::Error::msg)?;
    if json {
        print_out(&(serde_json::to_string_pretty(&results)? + "\n"))?;
    } else {
        print_out(&mutants::table(&results))?;
    }
    let survivors = mutants::survivors(&results);
    if !survivors.is_empty() {
        let ids: Vec<&str> = survivors.iter().map(|r| r.id).collect();
        bail!(
            "{} misreading(s) caught by fewer than {} cases: {}",
            ids.len(),
            mutants::REQUIRED_CATCHES,
            ids.join(", ")
        );
    }
    Ok(())
}

pub fn run(args: Args, verbosity: crate::Verbosity) -> anyhow::Result<()> {
    match args.command {
        Some(Sub::Generate(g)) => return run_generate(g),
        Some(Sub::ReferenceDecode(r)) => return run_reference_decode(r),
        None => {}
    }
    if args.coverage && !dfc_decoder::coverage::ENABLED {
        bail!(
            "--coverage needs the decoder's coverage counters; rebuild with the coverage feature:\n  \
             cargo run -p dfc-tools --features coverage -- conform --coverage"
        );
    }
    let cases = runner::load(&args.suite, args.case.as_deref()).map_err(anyhow::Error::msg)?;
    if args.mutants {
        return run_mutants(&cases, args.json);
    }
    let decoder = match &args.decoder {
        None => DecoderUnderTest::Reference,
        Some(command) => {
            if !command.contains("{input}") || !command.contains("{outdir}") {
                bail!("--decoder needs {{input}} and {{outdir}} in its template, e.g. 'mydec {{input}} {{outdir}}'");
            }
            if let Some(t) = &args.decoder_select {
                if !t.contains("{layer}") {
                    bail!("--decoder-select needs {{layer}} in its template");
                }
            }
            if !(args.timeout > 0.0 && args.timeout.is_finite()) {
                bail!("--timeout must be a positive number of seconds");
            }
            DecoderUnderTest::External {
                command: command.clone(),
                select_command: args.decoder_select.clone(),
                timeout: Duration::from_secs_f64(args.timeout),
            }
        }
    };
    if args.coverage {
        dfc_decoder::coverage::take();
    }
    let jobs = match decoder {
        // In-process decoding is fast; one thread keeps the coverage counters simple.
        DecoderUnderTest::Reference => 1,
        DecoderUnderTest::External { .. } => args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
    };
    let results = runner::run_all(&cases, &decoder, jobs);
    let report = args
        .coverage
        .then(|| coverage::report(&dfc_decoder::coverage::take()));
    let summary = runner::summarize(&results);
    if args.json {
        let json = serde_json::json!({
            "suite": args.suite.display().to_string(),
            "decoder": decoder.describe(),
            "summary": summary,
            "cases": results,
            "coverage": report,
        });
        print_out(&(serde_json::to_string_pretty(&json)? + "\n"))?;
    } else if !verbosity.quiet || summary.failed > 0 {
        let mut text = format!("suite {}, {}\n\n", args.suite.display(), decoder.describe());
        text.push_str(&runner::table(&results));
        if let Some(r) = &report {
            text.push('\n');
            text.push_str(&coverage::table(r));
        }
        print_out(&text)?;
    }
    if summary.failed > 0 {
        let failed: Vec<&str> = results
            .iter()
            .filter(|r| r.status == Status::Fail)
            .map(|r| r.case.as_str())
            .take(5)
            .collect();
        bail!(
            "{} of {} cases failed ({}{})",
            summary.failed,
            summary.cases,
            failed.join(", "),
            if summary.failed > failed.len() {
                ", ..."
            } else {
                ""
            }
        );
    }
    if let Some(r) = &report {
        if !r.complete() {
            bail!("the suite does not exercise everything (see the list above)");
        }
    }
    Ok(())
}

/// Writes to standard output; a closed pipe is not an error.
fn print_out(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

fn run_generate(args: GenerateArgs) -> anyhow::Result<()> {
    let root = match &args.root {
        Some(r) => r.clone(),
        None => {
            let parent = args.suite.parent().unwrap_or(Path::new(""));
            if parent.as_os_str().is_empty() {
                PathBuf::from(".")
            } else {
                parent.to_path_buf()
            }
        }
    };
    let only: Option<BTreeSet<String>> =
        (!args.case.is_empty()).then(|| args.case.iter().cloned().collect());
    let cases = generate::generate(&root, only.as_ref()).map_err(anyhow::Error::msg)?;
    let all = only.is_none();
    if args.check {
        let diffs = generate::check(&args.suite, &cases, all);
        if diffs.is_empty() {
            println!(
                "{}: {} case(s) are exactly what the generator makes",
                args.suite.display(),
                cases.len()
            );
            return Ok(());
        }
        for d in &diffs {
            eprintln!("{d}");
        }
        bail!(
            "{} difference(s): regenerate with `dfc conform generate`, review the changes, and bump the spec version if the format changed",
            diffs.len()
        );
    }
    std::fs::create_dir_all(&args.suite)
        .with_context(|| format!("cannot create {}", args.suite.display()))?;
    let touched = generate::write(&args.suite, &cases, all)
        .with_context(|| format!("writing {}", args.suite.display()))?;
    for path in &touched {
        println!("wrote {}", path.display());
    }
    println!("{} case(s), {} file(s) changed", cases.len(), touched.len());
    Ok(())
}

fn run_reference_decode(args: ReferenceDecodeArgs) -> anyhow::Result<()> {
    let stream = std::fs::read(&args.input)
        .with_context(|| format!("cannot read {}", args.input.display()))?;
    // An empty --start-frame (the expansion of {start_frame} for a case without one) is none.
    let start_frame = match args.start_frame.as_deref() {
        None | Some("") => None,
        Some(n) => Some(
            n.parse::<u32>()
                .with_context(|| format!("--start-frame {n:?} is not a frame_index"))?,
        ),
    };
    let written =
        runner::protocol_decode(&stream, &args.outdir, args.layer.as_deref(), start_frame)
            .map_err(anyhow::Error::msg)?;
    for path in written {
        println!("{}", path.display());
    }
    Ok(())
}
