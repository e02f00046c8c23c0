//! `dfc decode`.

/// Options of `dfc decode`.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("dfc decode is not implemented yet")
}
