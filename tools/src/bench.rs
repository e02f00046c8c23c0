//! `dfc bench`.

/// Options of `dfc bench`.
#[derive(clap::Args, Debug)]
pub struct Args {}

pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("dfc bench is not implemented yet")
}
