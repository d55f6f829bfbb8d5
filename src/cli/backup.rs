use std::path::PathBuf;

use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write the backup (must not exist).
    pub file: PathBuf,
}

pub async fn run(config: Config, args: Args) -> anyhow::Result<()> {
    let state = crate::app::open(config).await?;
    state.db.backup(&args.file).await?;
    println!("backed up to {} (keep pii.key from the data directory with it)", args.file.display());
    Ok(())
}
