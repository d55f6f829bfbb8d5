//! Bulk money for benchmarks (`linli ledger bench --donations N --expenses M`): a fund of
//! N anonymous gifts and one project that paid M expenses from it, written in chunks with
//! their movements linked in the chain, as consistent as the store would leave them (so
//! that `linli ledger verify` finds nothing to say).

use std::time::Instant;

use crate::capabilities::money::book::{self, AccountKind, Acct, Money};
use crate::capabilities::money::store::{funds, projects};
use crate::db::{Arg, insert_many, now_ms, query};
use crate::services::ledger::store as ledger;
use crate::web::AppState;

const CHUNK: usize = 20_000;

fn err(e: crate::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// A movement's columns as the ledger writes them (after `community_id, id`).
fn movement(at: i64, from: i64, to: i64, amount: i64, cause: &str, cause_id: i64, author: i64) -> Vec<Arg> {
    vec![
        "fen".into(),
        at.into(),
        from.into(),
        to.into(),
        amount.into(),
        cause.into(),
        cause_id.into(),
        Arg::I64(None),
        Arg::Text(None),
        author.into(),
        format!("{cause}:{cause_id}").into(),
        Arg::I64(None),
    ]
}

/// The accounts money moves between here: the anonymous givers, the fund, the payees.
struct Accounts {
    anonymous: i64,
    fund: i64,
    payees: i64,
}

/// Writes `donations` gifts of 1 to 500 yuan into a new fund and `expenses` paid expenses
/// of 100 yuan from it (fewer if the gifts do not cover them).
pub async fn bulk(state: &AppState, community_id: i64, donations: usize, expenses: usize) -> anyhow::Result<()> {
    let started = Instant::now();
    let staff: i64 =
        query("SELECT user_id FROM grants WHERE community_id = $1 AND role = 'community_staff' ORDER BY id LIMIT 1")
            .bind(community_id)
            .scalar(&mut state.db.read().await?)
            .await?;
    let actor = crate::demo::actor_of(state, staff).await.map_err(err)?;
    let c = crate::auth::guard::community_by_id(&mut state.db.read().await?, community_id)
        .await
        .map_err(err)?
        .ok_or_else(|| anyhow::anyhow!("no community {community_id}"))?;
    let nf = funds::NewFund {
        kind: "drive".into(),
        name: format!("压力测试·募捐 {}", now_ms()),
        purpose: "benchmark".into(),
        ..Default::default()
    };
    let fund = funds::create(state, &actor, &c, nf).await.map_err(err)?;
    let mut tx = state.db.begin().await?;
    let accounts = Accounts {
        anonymous: ledger::account_id::<Money>(&mut tx, community_id, Acct { kind: AccountKind::Anonymous, owner: 0 })
            .await
            .map_err(err)?,
        fund: ledger::account_id::<Money>(&mut tx, community_id, book::fund(fund.id)).await.map_err(err)?,
        payees: ledger::account_id::<Money>(&mut tx, community_id, book::PAYEES).await.map_err(err)?,
    };
    tx.commit().await?;
    let given = gifts(state, community_id, staff, fund.id, &accounts, donations).await?;
    let expenses = expenses.min((given / 10_000) as usize);
    let mut paid = 0;
    if expenses > 0 {
        let budget = (expenses as i64 * 100).to_string();
        let np = projects::NewProject {
            title: "压力测试·工程".into(),
            place: "社区".into(),
            budget: budget.clone(),
            ..Default::default()
        };
        let p = projects::create(state, &actor, &c, np).await.map_err(err)?;
        projects::set_funding(state, &actor, &c, p.id, fund.id, &budget).await.map_err(err)?;
        projects::move_to(state, &actor, &c, p.id, "approved", None).await.map_err(err)?;
        paid = paid_expenses(state, community_id, staff, (p.id, fund.id), &accounts, expenses).await?;
    }
    let mut tx = state.db.begin().await?;
    for (account, change) in [(accounts.anonymous, -given), (accounts.fund, given - paid), (accounts.payees, paid)] {
        query("UPDATE ledger_accounts SET balance = balance + $1 WHERE community_id = $2 AND id = $3")
            .bind(change)
            .bind(community_id)
            .bind(account)
            .execute(&mut tx)
            .await?;
    }
    tx.commit().await?;
    println!(
        "wrote {donations} gifts and {expenses} paid expenses (fund {}) in {:.1} s",
        fund.id,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Writes the gifts with their movements, chunk by chunk; answers what they came to.
async fn gifts(
    state: &AppState,
    community_id: i64,
    staff: i64,
    fund_id: i64,
    a: &Accounts,
    n: usize,
) -> anyhow::Result<i64> {
    let amounts: Vec<i64> = (0..n).map(|k| (1 + (k % 500) as i64) * 100).collect();
    let (now, today) = (now_ms(), crate::web::fmt::today());
    for part in amounts.chunks(CHUNK) {
        let mut tx = state.db.begin().await?;
        let ids = tx.next_ids(part.len() * 2).await?;
        let (mut rows, mut moves) = (Vec::with_capacity(part.len()), Vec::with_capacity(part.len()));
        for (i, amount) in part.iter().enumerate() {
            let (id, m) = (ids[i * 2], ids[i * 2 + 1]);
            moves.push((m, movement(now, a.anonymous, a.fund, *amount, "donation", id, staff)));
            rows.push(vec![
                Arg::from(community_id),
                id.into(),
                format!("BENCH-{id}").into(),
                fund_id.into(),
                "anonymous".into(),
                "爱心人士".into(),
                false.into(),
                (*amount).into(),
                today.into(),
                "box".into(),
                m.into(),
                staff.into(),
                now.into(),
            ]);
        }
        ledger::write_linked(&mut tx, community_id, moves).await.map_err(err)?;
        let columns = [
            "community_id",
            "id",
            "number",
            "fund_id",
            "donor_kind",
            "donor_name",
            "named",
            "amount_fen",
            "given_on",
            "channel",
            "movement_id",
            "recorded_by",
            "created_at",
        ];
        insert_many(&mut tx, "donations", &columns, rows).await?;
        tx.commit().await?;
    }
    Ok(amounts.iter().sum())
}

/// Writes `n` paid expenses of 100 yuan of a project (project, fund) with their movements,
/// and the project's spending; answers what they came to.
async fn paid_expenses(
    state: &AppState,
    community_id: i64,
    staff: i64,
    (project, fund): (i64, i64),
    a: &Accounts,
    n: usize,
) -> anyhow::Result<i64> {
    let now = now_ms();
    let mut paid = 0;
    for part in (0..n).collect::<Vec<_>>().chunks(CHUNK) {
        let mut tx = state.db.begin().await?;
        let ids = tx.next_ids(part.len() * 2).await?;
        let (mut rows, mut moves) = (Vec::new(), Vec::new());
        for i in 0..part.len() {
            let (id, m) = (ids[i * 2], ids[i * 2 + 1]);
            moves.push((m, movement(now, a.fund, a.payees, 10_000, "expense", id, staff)));
            let text: [Arg; 6] =
                ["repairs".into(), "五金店".into(), 10_000i64.into(), "楼道扶手".into(), "paid".into(), "staff".into()];
            let mut row = vec![Arg::from(community_id), id.into(), project.into(), fund.into()];
            row.extend(text);
            row.extend([staff.into(), m.into(), now.into(), now.into()]);
            rows.push(row);
        }
        ledger::write_linked(&mut tx, community_id, moves).await.map_err(err)?;
        let columns = [
            "community_id",
            "id",
            "project_id",
            "fund_id",
            "category",
            "payee",
            "amount_fen",
            "purpose",
            "status",
            "chain",
            "asked_by",
            "movement_id",
            "created_at",
            "updated_at",
        ];
        insert_many(&mut tx, "expenses", &columns, rows).await?;
        tx.commit().await?;
        paid += part.len() as i64 * 10_000;
    }
    let mut tx = state.db.begin().await?;
    query("UPDATE project_funding SET spent_fen = $1 WHERE community_id = $2 AND project_id = $3 AND fund_id = $4")
        .bind(paid)
        .bind(community_id)
        .bind(project)
        .bind(fund)
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(paid)
}
