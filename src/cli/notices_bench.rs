//! Notices measured (`linli notices acks …`): a community's residents get accounts, as
//! many as asked (made directly; the set-up is not measured), staff publish one notice to the
//! whole community asking each reader to acknowledge it, and every reader acknowledges
//! it at once from many tasks, each acknowledgement its own transaction (bench/notices.sh).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::Context;

use crate::auth::model::{Actor, Grant};
use crate::capabilities::notices::{Draft, store};
use crate::config::Config;
use crate::db::{Arg, insert_many, now_ms, query};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Publish a notice to a community and have every one of its readers acknowledge it.
    Acks {
        /// The community (连江社区 by default).
        #[arg(long, default_value = "441802005001")]
        community: String,
        /// Resident accounts to add as readers, 1–100000.
        #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        readers: u32,
        /// Acknowledgements in flight at once, 1–256.
        #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u32).range(1..=256))]
        at_once: u32,
    },
}

pub async fn run(config: Config, cmd: Command) -> anyhow::Result<()> {
    let Command::Acks { community, readers, at_once } = cmd;
    let state = crate::app::open(config).await?;
    let mut conn = state.db.read().await?;
    let c = crate::auth::guard::community_by_code(&mut conn, &community).await?.context("no such community")?;
    let staff: String = query(
        "SELECT u.username FROM grants g JOIN users u ON u.id = g.user_id WHERE g.community_id = $1 \
         AND g.role IN ('community_secretary', 'community_staff') ORDER BY g.role, u.id LIMIT 1",
    )
    .bind(c.id)
    .scalar_optional(&mut conn)
    .await?
    .context("the community has no staff")?;
    let households: Vec<i64> = query(
        "SELECT household_id FROM residents WHERE community_id = $1 AND archived_at IS NULL ORDER BY id LIMIT $2",
    )
    .bind(c.id)
    .bind(i64::from(readers))
    .scalars(&mut conn)
    .await?;
    drop(conn);
    let author = crate::demo::actor_named(&state, &staff).await?.context("the staff's account")?;

    // Set-up: an account for each resident (as many as asked and there are), as its household's.
    let mut tx = state.db.begin().await?;
    let ids = tx.next_ids(households.len() * 2).await?;
    let (users, grants) = ids.split_at(households.len());
    let now = now_ms();
    let user_rows: Vec<Vec<Arg>> = users
        .iter()
        .map(|u| {
            vec![(*u).into(), format!("bench-reader-{u}").into(), "居民".into(), "x".into(), now.into(), now.into()]
        })
        .collect();
    let cols = ["id", "username", "display_name", "password_hash", "created_at", "updated_at"];
    insert_many(&mut tx, "users", &cols, user_rows).await?;
    let grant_rows: Vec<Vec<Arg>> = grants
        .iter()
        .zip(users)
        .zip(&households)
        .map(|((g, u), h)| vec![(*g).into(), (*u).into(), "resident".into(), c.id.into(), (*h).into(), now.into()])
        .collect();
    let cols = ["id", "user_id", "role", "community_id", "household_id", "created_at"];
    insert_many(&mut tx, "grants", &cols, grant_rows).await?;
    tx.commit().await?;

    let started = Instant::now();
    let d = Draft {
        category: "safety".into(),
        title: "燃气安全入户检查通知".into(),
        body: "请确认知悉。".into(),
        audience: "community".into(),
        targets: Vec::new(),
        publish_at: None,
        expires_at: None,
        pinned: false,
        asks_ack: true,
    };
    let notice = store::create(&state, &author, &c, d, &[]).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("published to every account of {}: {:.2} s", c.name, started.elapsed().as_secs_f64());

    let (state, done) = (Arc::new(state), Arc::new(AtomicUsize::new(0)));
    let queue =
        Arc::new(tokio::sync::Mutex::new(users.iter().zip(&households).map(|(u, h)| (*u, *h)).collect::<Vec<_>>()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..at_once {
        let (state, done, queue, cid) = (state.clone(), done.clone(), queue.clone(), c.id);
        tasks.push(tokio::spawn(async move {
            loop {
                let Some((user, household)) = queue.lock().await.pop() else { break };
                let reader = Actor {
                    user_id: user,
                    username: String::new(),
                    display_name: String::new(),
                    grants: vec![Grant::household(cid, household)],
                    subdistrict_communities: Default::default(),
                };
                if matches!(store::ack(&state, &reader, cid, notice).await, Ok(store::Acked::Now)) {
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!("{n} acknowledgements from {at_once} at once in {secs:.2} s: {:.0} a second", n as f64 / secs);
    Ok(())
}
