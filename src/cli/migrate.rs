use crate::config::Config;

pub async fn run(config: Config) -> anyhow::Result<()> {
    // Opening the state applies what is missing; say what the database now holds.
    let state = crate::app::open(config).await?;
    let mut conn = state.db.read().await?;
    let versions: Vec<i64> =
        crate::db::query("SELECT version FROM schema_migrations ORDER BY version").scalars(&mut conn).await?;
    println!("database at migration {}", versions.last().copied().unwrap_or(0));
    Ok(())
}
