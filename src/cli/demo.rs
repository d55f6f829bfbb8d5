use tokio::net::TcpListener;

use crate::app::{self};
use crate::config::Config;
use crate::demo::{self, Scale};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How much to generate.
    #[arg(long, value_enum, default_value = "seeds")]
    pub scale: Scale,
    /// Load the data and exit instead of serving.
    #[arg(long)]
    pub no_serve: bool,
    /// Also write this many historical tickets over 洲心街道's communities (benchmarks).
    #[arg(long, default_value_t = 0)]
    pub tickets: usize,
    /// Also write this many approved service records over 洲心街道's volunteers, a year of
    /// them (benchmarks).
    #[arg(long, default_value_t = 0)]
    pub service_records: usize,
}

pub async fn run(config: Config, args: Args) -> anyhow::Result<()> {
    let listen = config.listen.clone();
    let state = crate::app::open(config).await?;
    let started = std::time::Instant::now();
    let wrote = demo::load(&state, args.scale).await?;
    if args.tickets > 0 {
        crate::capabilities::tickets::demo::bulk(&state, args.tickets).await?;
    }
    if args.service_records > 0 {
        crate::capabilities::points::demo::bulk_service(&state, args.service_records).await?;
    }
    if wrote {
        println!("demo data loaded in {:.1} s", started.elapsed().as_secs_f64());
    } else {
        println!("demo data already present: reusing it");
    }
    println!("demo accounts (password {}):", demo::PASSWORD);
    for (user, what) in demo::ACCOUNTS {
        println!("  {user:<10} {what}");
    }
    if args.no_serve {
        return Ok(());
    }
    // Loading filled the database connections' page caches and statement caches; serve
    // from fresh connections, and hand what the loading freed back to the system, so that
    // the demo idles as small as `linli serve` on the same data.
    let config = state.config.as_ref().clone();
    state.db.close().await;
    drop(state);
    crate::db::release_freed_memory();
    let state = crate::app::open(config).await?;
    let listener = TcpListener::bind(&listen).await.map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    println!("open http://{listen}/");
    app::serve(listener, state).await
}
