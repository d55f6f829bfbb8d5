use std::time::Duration;

use crate::config::Config;
use crate::db::Db;

/// The effective configuration, then which engine the database runs on: `sqlite`, or
/// `postgres` or `citus` as the server itself says (a SQLite file is not created for it).
pub async fn run(config: Config) -> anyhow::Result<()> {
    print!("{}", config.display_toml());
    let url = secrecy::ExposeSecret::expose_secret(&config.database_url).to_string();
    let engine = if url.starts_with("sqlite") { "sqlite".to_string() } else { postgres_engine(&url).await };
    println!("# database engine: {engine}");
    Ok(())
}

async fn postgres_engine(url: &str) -> String {
    match tokio::time::timeout(Duration::from_secs(5), Db::connect(url, 1)).await {
        Ok(Ok(db)) => {
            let e = db.engine().to_string();
            db.close().await;
            e
        }
        Ok(Err(e)) => format!("unreachable ({})", e.root_cause()),
        Err(_) => "unreachable (no answer in 5 s)".into(),
    }
}
