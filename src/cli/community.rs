use crate::config::Config;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Codes and names of all communities.
    List,
}

pub async fn run(config: Config, cmd: Command) -> anyhow::Result<()> {
    let state = crate::app::open(config).await?;
    match cmd {
        Command::List => {
            let mut conn = state.db.read().await?;
            let rows: Vec<(String, String, String)> = crate::db::query(
                "SELECT c.code, c.name, s.name FROM communities c JOIN subdistricts s ON s.id = c.subdistrict_id WHERE c.archived_at IS NULL ORDER BY c.code",
            )
            .fetch_all(&mut conn)
            .await?;
            for (code, name, sub) in rows {
                println!("{code}\t{name}\t{sub}");
            }
        }
    }
    Ok(())
}
