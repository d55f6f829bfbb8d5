use crate::config::Config;

pub fn run(config: Config) -> anyhow::Result<()> {
    print!("{}", config.display_toml());
    Ok(())
}
