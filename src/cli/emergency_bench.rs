//! Emergencies measured at subdistrict scale (`linli emergency bench …`): the demo's
//! subdistrict administrator activates one incident over every community (a check for
//! every household), and checks are recorded at a steady rate while the command page is
//! asked (bench/emergency.sh).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::capabilities::emergency::store::{self, Source, Whose};
use crate::capabilities::emergency::subdistrict::{self, NewGroup};
use crate::capabilities::emergency::{CheckChange, CheckStatus, IncidentKind, IncidentStatus, Level};
use crate::config::Config;
use crate::db::query;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Prepare and activate one incident over every community of a subdistrict.
    Activate {
        /// The subdistrict's code (洲心街道 by default).
        #[arg(long, default_value = "441802005")]
        subdistrict: String,
    },
    /// Record checks of a community's part of the latest such incident at a steady rate.
    Updates {
        #[arg(long, default_value = "441802005")]
        subdistrict: String,
        /// The community whose households are checked (连江社区 by default).
        #[arg(long, default_value = "441802005001")]
        community: String,
        /// Checks a second, 1–5000.
        #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..=5000))]
        rate: u32,
        /// For how long, 1–600 seconds.
        #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=600))]
        seconds: u32,
    },
}

pub async fn run(config: Config, cmd: Command) -> anyhow::Result<()> {
    let state = crate::app::open(config).await?;
    let admin = crate::demo::actor_named(&state, "street").await?.context("the demo's subdistrict administrator")?;
    let code = match &cmd {
        Command::Activate { subdistrict } | Command::Updates { subdistrict, .. } => subdistrict.clone(),
    };
    let sub: i64 = query("SELECT id FROM subdistricts WHERE code = $1")
        .bind(code.clone())
        .scalar_optional(&mut state.db.read().await?)
        .await?
        .with_context(|| format!("no subdistrict {code}"))?;
    match cmd {
        Command::Activate { .. } => {
            let started = Instant::now();
            let n = NewGroup {
                kind: IncidentKind::Typhoon,
                level: Level::Two,
                title: "台风防御演练".into(),
                communities: vec![],
            };
            let group = subdistrict::prepare(&state, &admin, sub, n).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let prepared = started.elapsed().as_secs_f64();
            let made = subdistrict::set_status(&state, &admin, sub, group, IncidentStatus::Activated, Some("演练"))
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let parts = subdistrict::parts(&state, &admin, sub, group).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{made} welfare checks in {} communities: prepared in {prepared:.2} s, all activated by {:.2} s",
                parts.len(),
                started.elapsed().as_secs_f64()
            );
        }
        Command::Updates { community, rate, seconds, .. } => {
            let group: i64 = query("SELECT MAX(id) FROM incident_groups WHERE subdistrict_id = $1")
                .bind(sub)
                .scalar(&mut state.db.read().await?)
                .await?;
            let parts = subdistrict::parts(&state, &admin, sub, group).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            let (c, incident) =
                parts.into_iter().find(|(c, _)| c.code == community).context("no such community in it")?;
            let mut todo = store::checks(&mut state.db.read().await?, c.id, incident.id, &Whose::All).await?;
            todo.retain(|w| w.status == CheckStatus::ToCheck);
            let (state, admin, c) = (Arc::new(state), Arc::new(admin), Arc::new(c));
            let done = Arc::new(AtomicUsize::new(0));
            let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(rate)));
            let started = Instant::now();
            let mut tasks = Vec::new();
            for w in todo.into_iter().take((rate * seconds) as usize) {
                tick.tick().await;
                let (state, admin, c, done) = (state.clone(), admin.clone(), c.clone(), done.clone());
                tasks.push(tokio::spawn(async move {
                    let ch = CheckChange { status: CheckStatus::Safe, needs: Vec::new(), note: None, seen: w.version };
                    if store::change(&state, &admin, &c, w.id, &ch, &format!("bench:{}", w.id), Source::Field)
                        .await
                        .is_ok()
                    {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }));
            }
            for t in tasks {
                t.await?;
            }
            let secs = started.elapsed().as_secs_f64();
            let n = done.load(Ordering::Relaxed);
            println!("{n} checks recorded in {secs:.1} s: {:.0} a second", n as f64 / secs);
        }
    }
    Ok(())
}
