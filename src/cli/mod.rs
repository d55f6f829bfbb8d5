//! The `linli` command line: one module per command, each with its options and `run`.

mod api_key;
mod appointments_bench;
mod backup;
mod community;
mod config;
mod demo;
mod directory_bench;
mod emergency_bench;
mod import;
mod ledger;
mod migrate;
mod money_bench;
mod notices_bench;
mod serve;
mod user;

use clap::{Parser, Subcommand};

use crate::config::{Config, Overrides};

#[derive(Debug, Parser)]
#[command(name = "linli", version, about = "邻里 linli — co-governance for residents' communities")]
pub struct Cli {
    #[command(flatten)]
    pub overrides: Overrides,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve,
    /// Load the demo data (once), serve it, and print the demo accounts.
    Demo(demo::Args),
    /// Apply database migrations (the server also does this at start).
    Migrate,
    /// Manage user accounts.
    #[command(subcommand)]
    User(user::Command),
    /// Communities.
    #[command(subcommand)]
    Community(community::Command),
    /// Import households and residents from .xlsx or .csv.
    Import(import::ImportArgs),
    /// Export a community's registry to .xlsx (masked).
    Export(import::ExportArgs),
    /// Back up the database to FILE while the server runs (SQLite).
    Backup(backup::Args),
    /// Print the effective configuration (secrets hidden).
    Config,
    /// Keys for Open311 clients.
    #[command(subcommand)]
    ApiKey(api_key::Command),
    /// The ledger (points and money): check it, or measure it.
    #[command(subcommand)]
    Ledger(ledger::Command),
    /// The directory of services: measure it.
    #[command(subcommand)]
    Directory(directory_bench::Command),
    /// Appointments: measure booking.
    #[command(subcommand)]
    Appointments(appointments_bench::Command),
    /// Emergencies: measure activation and the command page under load.
    #[command(subcommand)]
    Emergency(emergency_bench::Command),
    /// Notices: measure acknowledgements.
    #[command(subcommand)]
    Notices(notices_bench::Command),
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.overrides)?;
    crate::logging::init(config.log_json);
    match cli.command {
        Command::Serve => serve::run(config).await,
        Command::Demo(a) => demo::run(config, a).await,
        Command::Migrate => migrate::run(config).await,
        Command::User(c) => user::run(config, c).await,
        Command::Community(c) => community::run(config, c).await,
        Command::Import(a) => import::run_import(config, a).await,
        Command::Export(a) => import::run_export(config, a).await,
        Command::Backup(a) => backup::run(config, a).await,
        Command::Config => config::run(config).await,
        Command::ApiKey(c) => api_key::run(config, c).await,
        Command::Ledger(c) => ledger::run(config, c).await,
        Command::Directory(c) => directory_bench::run(config, c).await,
        Command::Appointments(c) => appointments_bench::run(config, c).await,
        Command::Emergency(c) => emergency_bench::run(config, c).await,
        Command::Notices(c) => notices_bench::run(config, c).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        super::Cli::command().debug_assert();
    }
}
