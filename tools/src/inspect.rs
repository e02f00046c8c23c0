//! `dfc inspect`.

/// Options of `dfc inspect`.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("dfc inspect is not implemented yet")
}
