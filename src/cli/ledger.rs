use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;

use crate::auth::model::{Actor, Grant, Role};
use crate::capabilities::points::ledger::{self, Acct, Posting};
use crate::capabilities::points::{AccountKind, Cause};
use crate::config::Config;
use crate::db::{Arg, chain, insert_many, now_ms, query};
use crate::web::AppState;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Check every rule of the ledger (every unit), and that no row of the ledger or the
    /// audit log was changed, removed or slipped in (their chains); exits non-zero on any break.
    Verify {
        /// Only this community (its code); all when absent.
        #[arg(long)]
        community: Option<String>,
    },
    /// Measure the ledger (benchmarks): grouped postings, redemptions racing for little
    /// stock, bulk movements to verify, or bulk gifts and expenses of money. Writes
    /// synthetic data into the community.
    Bench {
        #[arg(long)]
        community: String,
        /// Post this many movements through the group commit.
        #[arg(long, default_value_t = 0)]
        postings: usize,
        /// How many postings are in flight at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// Let this many people race to redeem …
        #[arg(long, default_value_t = 0)]
        redeemers: usize,
        /// … a reward with this much stock.
        #[arg(long, default_value_t = 10)]
        stock: i64,
        /// Write this many movements directly (for `ledger verify`).
        #[arg(long, default_value_t = 0)]
        movements: usize,
        /// Write this many gifts of money into a new fund (for the disclosure page) …
        #[arg(long, default_value_t = 0)]
        donations: usize,
        /// … and this many paid expenses of a project from it.
        #[arg(long, default_value_t = 0)]
        expenses: usize,
    },
}

pub async fn run(config: Config, cmd: Command) -> anyhow::Result<()> {
    let state = crate::app::open(config).await?;
    match cmd {
        Command::Verify { community } => verify(&state, community).await,
        Command::Bench { community, postings, concurrency, redeemers, stock, movements, donations, expenses } => {
            let mut conn = state.db.read().await?;
            let c = crate::auth::guard::community_by_code(&mut conn, &community)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .with_context(|| format!("no community {community}"))?;
            drop(conn);
            if postings > 0 {
                bench_postings(&state, c.id, postings, concurrency).await?;
            }
            if redeemers > 0 {
                bench_redemptions(&state, c.id, redeemers, stock).await?;
            }
            if movements > 0 {
                bulk_movements(&state, c.id, movements).await?;
            }
            if donations > 0 {
                super::money_bench::bulk(&state, c.id, donations, expenses).await?;
            }
            Ok(())
        }
    }
}

async fn verify(state: &AppState, community: Option<String>) -> anyhow::Result<()> {
    let id = match &community {
        Some(code) => {
            let mut conn = state.db.read().await?;
            let c = crate::auth::guard::community_by_code(&mut conn, code).await.map_err(|e| anyhow::anyhow!("{e}"))?;
            Some(c.with_context(|| format!("no community {code}"))?.id)
        }
        None => None,
    };
    let started = Instant::now();
    // Every book's rules, and both chains (the ledger's and the audit log's), side by side.
    let (points, money, ledger_chain, audit_chain) = tokio::join!(
        ledger::verify(&state.db, id),
        crate::capabilities::money::book::verify(&state.db, id),
        chain::verify(&state.db, &crate::services::ledger::CHAIN, id),
        chain::verify(&state.db, &crate::services::audit::CHAIN, id),
    );
    let r = points.map_err(|e| anyhow::anyhow!("{e}"))?;
    let m = money.map_err(|e| anyhow::anyhow!("{e}"))?;
    let (linked, mut problems) = ledger_chain?;
    let (logged, audit_problems) = audit_chain?;
    problems.extend(audit_problems);
    problems.extend(r.problems.iter().cloned());
    problems.extend(m.problems.iter().cloned());
    println!(
        "checked {} movements in {} accounts of {} communities, their chain ({linked} links) and the audit log's ({logged} links) in {:.2} s; {} points issued, {} fen given or earned",
        r.movements + m.movements,
        r.accounts + m.accounts,
        r.communities.max(m.communities),
        started.elapsed().as_secs_f64(),
        r.issued,
        m.issued
    );
    if problems.is_empty() {
        println!(
            "the ledger is sound: every balance is its movements, each community sums to zero, no row was changed"
        );
        Ok(())
    } else {
        for p in &problems {
            println!("BREAK: {p}");
        }
        anyhow::bail!("{} breaks in the ledger", problems.len())
    }
}

/// Synthetic owners for benchmark accounts, far from real ids.
const BENCH_OWNER: i64 = 9_000_000_000;

async fn bench_postings(state: &AppState, community_id: i64, n: usize, concurrency: usize) -> anyhow::Result<()> {
    let run = now_ms();
    let state = Arc::new(state.clone());
    let started = Instant::now();
    let per = n.div_ceil(concurrency.max(1));
    let mut tasks = Vec::new();
    for t in 0..concurrency.max(1) {
        let state = state.clone();
        tasks.push(tokio::spawn(async move {
            let mut ok = 0usize;
            for i in 0..per {
                let k = t * per + i;
                if k >= n {
                    break;
                }
                let p = Posting {
                    community_id,
                    from: Acct::ISSUING,
                    to: Acct { kind: AccountKind::Person, owner: BENCH_OWNER + (k % 1000) as i64 },
                    amount: 1 + (k % 7) as i64,
                    cause: Cause::Adjustment,
                    cause_id: None,
                    rule_id: None,
                    reason: Some("benchmark".into()),
                    author_id: Some(0),
                    key: format!("bench:{run}:{k}"),
                };
                if ledger::post_grouped(&state, p).await.is_ok() {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut ok = 0;
    for t in tasks {
        ok += t.await?;
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "postings: {ok} of {n} posted in {secs:.2} s with {concurrency} in flight: {:.0} per second",
        ok as f64 / secs
    );
    Ok(())
}

async fn bench_redemptions(state: &AppState, community_id: i64, n: usize, stock: i64) -> anyhow::Result<()> {
    let run = now_ms();
    let price = 10;
    // People, each with enough points for one unit.
    let mut tx = state.db.begin().await?;
    let ids = tx.next_ids(n + 1).await?;
    let (reward, people) = (ids[0], &ids[1..]);
    let rows = people
        .iter()
        .map(|id| {
            vec![
                Arg::from(*id),
                format!("bench{run}-{id}").into(),
                format!("压测{id}").into(),
                "!".into(),
                community_id.into(),
                run.into(),
                run.into(),
            ]
        })
        .collect();
    insert_many(
        &mut tx,
        "users",
        &["id", "username", "display_name", "password_hash", "community_id", "created_at", "updated_at"],
        rows,
    )
    .await?;
    query(
        "INSERT INTO rewards (community_id, id, name, kind, price, stock, hold_days, created_at, updated_at) VALUES ($1, $2, $3, 'goods', $4, $5, 7, $6, $6)",
    )
    .bind(community_id)
    .bind(reward)
    .bind(format!("压测奖品 {run}"))
    .bind(price)
    .bind(stock)
    .bind(run)
    .execute(&mut tx)
    .await?;
    for p in people {
        ledger::post(
            &mut tx,
            &Posting {
                community_id,
                from: Acct::ISSUING,
                to: Acct::person(*p),
                amount: price,
                cause: Cause::Adjustment,
                cause_id: None,
                rule_id: None,
                reason: Some("benchmark".into()),
                author_id: Some(0),
                key: format!("bench:{run}:seed:{p}"),
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    tx.commit().await?;
    let state = Arc::new(state.clone());
    let started = Instant::now();
    let tasks: Vec<_> = people
        .iter()
        .map(|p| {
            let state = state.clone();
            let actor = Actor {
                user_id: *p,
                username: String::new(),
                display_name: String::new(),
                grants: vec![Grant::community(Role::Volunteer, community_id)],
                subdistrict_communities: Default::default(),
            };
            tokio::spawn(async move {
                crate::capabilities::points::store::redeem(&state, &actor, community_id, reward, None).await
            })
        })
        .collect();
    let (mut won, mut refused) = (0i64, std::collections::BTreeMap::<String, usize>::new());
    for t in tasks {
        match t.await? {
            Ok(_) => won += 1,
            Err(e) => *refused.entry(e.to_string()).or_default() += 1,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let mut conn = state.db.read().await?;
    let left: i64 = query("SELECT stock FROM rewards WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(reward)
        .scalar(&mut conn)
        .await?;
    let held: i64 = query("SELECT COUNT(*) FROM redemptions WHERE community_id = $1 AND reward_id = $2")
        .bind(community_id)
        .bind(reward)
        .scalar(&mut conn)
        .await?;
    println!(
        "redemptions: {n} people raced for {stock} units in {secs:.2} s ({:.0} attempts per second): {won} won, {held} held, {left} left in stock, refused: {refused:?}",
        n as f64 / secs
    );
    anyhow::ensure!(won == stock.min(n as i64) && held == won && left == stock - won, "oversold or undersold");
    Ok(())
}

async fn bulk_movements(state: &AppState, community_id: i64, n: usize) -> anyhow::Result<()> {
    let run = now_ms();
    let started = Instant::now();
    let mut tx = state.db.begin().await?;
    let issuing = ledger::account_id(&mut tx, community_id, Acct::ISSUING).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut accounts = Vec::new();
    for i in 0..1000 {
        let a = Acct { kind: AccountKind::Person, owner: BENCH_OWNER + 100_000 + i };
        accounts.push(ledger::account_id(&mut tx, community_id, a).await.map_err(|e| anyhow::anyhow!("{e}"))?);
    }
    tx.commit().await?;
    let mut gained = vec![0i64; accounts.len()];
    let chunk = 50_000;
    let mut done = 0;
    while done < n {
        let take = chunk.min(n - done);
        let mut tx = state.db.begin().await?;
        let ids = tx.next_ids(take).await?;
        let mut rows = Vec::with_capacity(take);
        for (i, id) in ids.iter().enumerate() {
            let k = done + i;
            let a = k % accounts.len();
            let amount = 1 + (k % 5) as i64;
            gained[a] += amount;
            let values: Vec<Arg> = vec![
                "points".into(),
                run.into(),
                issuing.into(),
                accounts[a].into(),
                amount.into(),
                "adjustment".into(),
                Arg::I64(None),
                Arg::I64(None),
                "benchmark".into(),
                Arg::from(0i64),
                format!("bulk:{run}:{k}").into(),
                Arg::I64(None),
            ];
            rows.push((*id, values));
        }
        crate::services::ledger::store::write_linked(&mut tx, community_id, rows)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        tx.commit().await?;
        done += take;
    }
    let mut tx = state.db.begin().await?;
    let total: i64 = gained.iter().sum();
    for (a, g) in accounts.iter().zip(&gained) {
        query("UPDATE ledger_accounts SET balance = balance + $1 WHERE community_id = $2 AND id = $3")
            .bind(*g)
            .bind(community_id)
            .bind(*a)
            .execute(&mut tx)
            .await?;
    }
    query("UPDATE ledger_accounts SET balance = balance - $1 WHERE community_id = $2 AND id = $3")
        .bind(total)
        .bind(community_id)
        .bind(issuing)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    // A table that grew by millions at once: the planner learns its size now, as the
    // database's own statistics run would later (else PostgreSQL scans it for each page of
    // the chain's check).
    let mut tx = state.db.begin().await?;
    query("ANALYZE ledger_movements").execute(&mut tx).await?;
    tx.commit().await?;
    println!("movements: {n} written in {:.1} s", started.elapsed().as_secs_f64());
    Ok(())
}
