use tokio::net::TcpListener;

use crate::app::{self};
use crate::config::Config;

pub async fn run(config: Config) -> anyhow::Result<()> {
    let listen = config.listen.clone();
    let state = crate::app::open(config).await?;
    let listener = TcpListener::bind(&listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    tracing::info!(address = %listen, "linli is serving");
    println!("linli: http://{listen}/");
    app::serve(listener, state).await
}
