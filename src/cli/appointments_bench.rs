//! Bookings for benchmarks (`linli appointments bench --bookings N --clients C`): a type
//! open all day every day in 5-minute slots of one seat, and C clients at once booking N
//! distinct slots through the same store as the pages, timed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::auth::model::{Actor, Grant, Role};
use crate::capabilities::appointments::HOURS_OWNER;
use crate::capabilities::appointments::store::{self, Whom};
use crate::config::Config;
use crate::db::{now_ms, query};
use crate::services::hours::{Rule, store::add_rule};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Book N distinct slots with C clients at once, and say how many a second.
    Bench {
        /// The community's code (海盛社区 by default).
        #[arg(long, default_value = "440804003001")]
        community: String,
        #[arg(long, default_value_t = 20_000)]
        bookings: usize,
        #[arg(long, default_value_t = 16)]
        clients: usize,
    },
}

pub async fn run(config: Config, cmd: Command) -> anyhow::Result<()> {
    let Command::Bench { community, bookings, clients } = cmd;
    let state = crate::app::open(config).await?;
    let c = crate::auth::guard::community_by_code(&mut state.db.read().await?, &community)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no community {community}"))?;
    let now = now_ms();
    let mut tx = state.db.begin().await?;
    let type_id = tx.next_id().await?;
    query(
        "INSERT INTO appointment_types (community_id, id, name, desk, kind, duration_minutes, interval_minutes, seats, \
         min_notice_hours, max_ahead_days, proxy_allowed, created_at, updated_at) \
         VALUES ($1, $2, '压力测试', '窗口', 'booked', 5, 5, 1, 0, 90, FALSE, $3, $3)",
    )
    .bind(c.id)
    .bind(type_id)
    .bind(now)
    .execute(&mut tx)
    .await?;
    let rule =
        Rule { weekdays: 0x7f, opens: 0, closes: 24 * 60, valid_from: None, valid_until: None, on_holidays: true };
    add_rule(&mut tx, c.id, (HOURS_OWNER, type_id), &rule).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let users = tx.next_ids(clients).await?;
    for (i, id) in users.iter().enumerate() {
        query("INSERT INTO users (id, username, display_name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, 'x', $4, $4)")
            .bind(*id)
            .bind(format!("bench-booker-{type_id}-{i}"))
            .bind(format!("压测{i}"))
            .bind(now)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    // Distinct slots from tomorrow on, handed out in turn.
    let first = crate::time::day_start_ms(crate::web::fmt::today()) + crate::time::DAY_MS;
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = users
        .iter()
        .map(|id| {
            let actor = Actor {
                user_id: *id,
                username: String::new(),
                display_name: format!("压测{id}"),
                grants: vec![Grant::community(Role::Volunteer, c.id)],
                subdistrict_communities: Default::default(),
            };
            let (state, c, next) = (state.clone(), c.clone(), next.clone());
            tokio::spawn(async move {
                let mut booked = 0usize;
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= bookings {
                        return booked;
                    }
                    let at = first + i as i64 * 5 * crate::time::MINUTE_MS;
                    if store::book(&state, &actor, &c, type_id, at, Whom::Myself).await.is_ok() {
                        booked += 1;
                    }
                }
            })
        })
        .collect();
    let mut booked = 0;
    for t in tasks {
        booked += t.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{booked} of {bookings} bookings by {clients} clients in {secs:.2} s: {:.0} a second",
        booked as f64 / secs
    );
    Ok(())
}
