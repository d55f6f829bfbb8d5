use anyhow::Context;

use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Create a key for an Open311 client of a community; prints the key (shown once).
    Create {
        /// Community code (the Open311 jurisdiction_id).
        #[arg(long)]
        community: String,
        /// What the key is for.
        #[arg(long, default_value = "open311")]
        label: String,
    },
}

pub async fn run(config: Config, cmd: Command) -> anyhow::Result<()> {
    let state = crate::app::open(config).await?;
    match cmd {
        Command::Create { community, label } => {
            let mut conn = state.db.read().await?;
            let c = crate::auth::guard::community_by_code(&mut conn, &community)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .with_context(|| format!("no community {community}"))?;
            drop(conn);
            let key = crate::capabilities::tickets::open311::create_key(&state, c.id, &label)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{key}");
        }
    }
    Ok(())
}
