//! `dfc encode`.

/// Options of `dfc encode`.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("dfc encode is not implemented yet")
}
