//! The vote on a proposal: who may vote and how many, the community's rules, opening the
//! vote, casting ballots (secret ones keep no name), the tally and the decision.

use serde_json::json;

use super::{Proposal, proposal, proposal_for, set_stage};
use crate::auth::guard;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::council::{self, ScopeKind, Stage, Voters};
use crate::db::{Builder, Exec, now_ms, query};
use crate::error::{AppError, AppResult};
use crate::input::check_text;
use crate::services::audit::{self, Action, By};
use crate::services::settings;
use crate::web::AppState;

/// Who the actor is as a voter on this proposal: their key (one vote per household,
/// resident or member), if they may vote at all.
pub(super) async fn voter(
    ex: &mut impl Exec,
    actor: &Actor,
    p: &Proposal,
    rule: Voters,
) -> AppResult<Option<(String, String)>> {
    let c = p.community_id;
    if rule == Voters::Council {
        let on: Option<String> = query("SELECT name FROM council_members WHERE community_id = $1 AND user_id = $2")
            .bind(c)
            .bind(actor.user_id)
            .scalar_optional(&mut *ex)
            .await?;
        return Ok(on.map(|n| (format!("user:{}", actor.user_id), n)));
    }
    // The actor's household: by their resident role, or the resident record behind the account.
    let from_grant = actor.household_in(c);
    let resident: Option<(i64, Option<i64>, String)> = query(
        "SELECT r.id, r.household_id, r.name FROM users u JOIN residents r ON r.community_id = u.community_id AND r.id = u.resident_id
         WHERE u.id = $1 AND u.community_id = $2 AND r.archived_at IS NULL",
    )
    .bind(actor.user_id)
    .bind(c)
    .fetch_optional(&mut *ex)
    .await?;
    let household = from_grant.or(resident.as_ref().and_then(|r| r.1));
    let Some(h) = household else { return Ok(None) };
    let mut b = Builder::new("SELECT COUNT(*) FROM households WHERE archived_at IS NULL AND community_id = ");
    b.arg(c).push(" AND id = ").arg(h);
    scope_filter(&mut b, p);
    let in_scope: i64 = b.build().scalar(&mut *ex).await?;
    if in_scope == 0 {
        return Ok(None);
    }
    let name = resident.as_ref().map(|r| r.2.clone()).unwrap_or_else(|| actor.display_name.clone());
    Ok(rule.key(Some(h), resident.map(|r| r.0), actor.user_id).map(|k| (k, name)))
}

/// Whether the actor may vote on a proposal (None: not at all), and whether they have.
pub async fn voter_state(ex: &mut impl Exec, actor: &Actor, p: &Proposal) -> AppResult<Option<bool>> {
    let rule = match p.voters.as_deref().and_then(Voters::parse) {
        Some(r) => r,
        None => community_rule(&mut *ex, p.community_id).await?,
    };
    let Some((key, _)) = voter(&mut *ex, actor, p, rule).await? else { return Ok(None) };
    let n: i64 =
        query("SELECT COUNT(*) FROM votes_cast WHERE community_id = $1 AND proposal_id = $2 AND voter_key = $3")
            .bind(p.community_id)
            .bind(p.id)
            .bind(key)
            .scalar(ex)
            .await?;
    Ok(Some(n > 0))
}

fn scope_filter(b: &mut Builder, p: &Proposal) {
    match (p.scope_kind, p.scope_id) {
        (ScopeKind::Grid, Some(g)) => {
            b.push(" AND grid_id = ").arg(g);
        }
        (ScopeKind::Compound, Some(c)) => {
            b.push(" AND compound_id = ").arg(c);
        }
        _ => {}
    }
}

/// How many may vote on a proposal under a rule.
async fn eligible(ex: &mut impl Exec, p: &Proposal, rule: Voters) -> AppResult<i64> {
    let c = p.community_id;
    Ok(match rule {
        Voters::Council => {
            query("SELECT COUNT(*) FROM council_members WHERE community_id = $1").bind(c).scalar(ex).await?
        }
        Voters::Household => {
            let mut b = Builder::new("SELECT COUNT(*) FROM households WHERE archived_at IS NULL AND community_id = ");
            b.arg(c);
            scope_filter(&mut b, p);
            b.build().scalar(ex).await?
        }
        Voters::Resident => {
            let adult = crate::web::fmt::today() - chrono::Duration::days(18 * 365 + 4);
            let mut b = Builder::new(
                "SELECT COUNT(*) FROM residents r WHERE r.archived_at IS NULL AND (r.birth_date IS NULL OR r.birth_date <= ",
            );
            b.arg(adult)
                .push(
                    ") AND r.household_id IN (SELECT id FROM households WHERE archived_at IS NULL AND community_id = ",
                )
                .arg(c);
            scope_filter(&mut b, p);
            b.push(") AND r.community_id = ").arg(c);
            b.build().scalar(ex).await?
        }
    })
}

/// The community's council rules: (who votes, quorum %, majority %, secret).
pub async fn rules(ex: &mut impl Exec, community_id: i64) -> AppResult<(String, i64, i64, bool)> {
    Ok((
        settings::text(&mut *ex, community_id, &council::VOTERS).await?,
        settings::int(&mut *ex, community_id, &council::QUORUM_PCT).await?,
        settings::int(&mut *ex, community_id, &council::MAJORITY_PCT).await?,
        settings::bool(&mut *ex, community_id, &council::SECRET).await?,
    ))
}

pub(super) async fn community_rule(ex: &mut impl Exec, community_id: i64) -> AppResult<Voters> {
    Ok(Voters::parse(&rules(ex, community_id).await?.0).unwrap_or(Voters::Household))
}

/// Staff set the community's rules for its votes (votes already open keep theirs).
pub async fn set_rules(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    voters: &str,
    quorum_pct: i64,
    majority_pct: i64,
    secret: bool,
) -> AppResult<()> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let e = council::check_rules(voters, quorum_pct, majority_pct);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let before = rules(&mut tx, community_id).await?;
    settings::set(&mut tx, community_id, &council::VOTERS, voters).await?;
    settings::set(&mut tx, community_id, &council::QUORUM_PCT, &quorum_pct.to_string()).await?;
    settings::set(&mut tx, community_id, &council::MAJORITY_PCT, &majority_pct.to_string()).await?;
    settings::set(&mut tx, community_id, &council::SECRET, &secret.to_string()).await?;
    audit::record(
        &mut tx,
        audit::PLATFORM,
        &By::from(actor),
        Action::Update,
        "community",
        community_id,
        Some(&json!({"council": before})),
        Some(&json!({"council": [voters, quorum_pct.to_string(), majority_pct.to_string(), secret.to_string()]})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Staff put a proposal on the agenda to the vote, under the community's rules as they
/// are now, from `opens_at` (now when absent) until `closes_at`.
pub async fn open_vote(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    opens_at: Option<i64>,
    closes_at: Option<i64>,
) -> AppResult<Proposal> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let now = now_ms();
    let opens = opens_at.unwrap_or(now);
    let Some(closes) = closes_at.filter(|c| *c > opens && *c > now) else {
        return Err(AppError::field("closes_at", "council.closes_before_opens"));
    };
    let mut tx = state.db.begin().await?;
    let p = proposal(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    if p.stage != Stage::Agenda {
        return Err(AppError::Conflict("council.not_in_deliberation"));
    }
    let (voters, quorum, majority, secret) = rules(&mut tx, community_id).await?;
    let rule = Voters::parse(&voters).unwrap_or(Voters::Household);
    let n = eligible(&mut tx, &p, rule).await?;
    query(
        "UPDATE proposals SET voters = $1, quorum_pct = $2, majority_pct = $3, secret = $4, eligible = $5, opens_at = $6, closes_at = $7
         WHERE community_id = $8 AND id = $9",
    )
    .bind(rule.as_str())
    .bind(quorum)
    .bind(majority)
    .bind(secret)
    .bind(n)
    .bind(opens)
    .bind(closes)
    .bind(community_id)
    .bind(id)
    .execute(&mut tx)
    .await?;
    set_stage(&mut tx, community_id, id, Stage::Agenda, Stage::Voting).await?;
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Update,
        "proposal",
        id,
        Some(&json!({"stage": Stage::Agenda.as_str()})),
        Some(&json!({"stage": Stage::Voting.as_str(), "voters": rule.as_str(), "eligible": n, "secret": secret})),
    )
    .await?;
    let out = proposal(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

fn ballot_id() -> i64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("system random source");
    (u64::from_le_bytes(b) >> 1) as i64
}

/// Casts the actor's vote: once per voter, in the window, if the rule and scope let them.
/// A secret ballot keeps neither who cast it nor when.
pub async fn ballot(state: &AppState, actor: &Actor, community_id: i64, id: i64, choice: &str) -> AppResult<()> {
    if !council::CHOICES.contains(&choice) {
        return Err(AppError::field("choice", "validation.choice"));
    }
    let mut tx = state.db.begin().await?;
    let p = proposal_for(&mut tx, Some(actor), community_id, id).await?;
    if p.stage != Stage::Voting {
        return Err(AppError::Conflict("council.not_voting"));
    }
    let now = now_ms();
    if p.opens_at.is_some_and(|o| now < o) || p.closes_at.is_some_and(|c| now >= c) {
        return Err(AppError::Conflict("council.outside_window"));
    }
    let rule = p.voters.as_deref().and_then(Voters::parse).unwrap_or(Voters::Household);
    let Some((key, name)) = voter(&mut tx, actor, &p, rule).await? else {
        return Err(AppError::Conflict("council.not_eligible"));
    };
    let cast = query("INSERT INTO votes_cast (community_id, proposal_id, voter_key, voted_at) VALUES ($1, $2, $3, $4)")
        .bind(community_id)
        .bind(id)
        .bind(key.as_str())
        .bind(now)
        .execute(&mut tx)
        .await;
    match cast {
        Err(e) if e.as_database_error().is_some_and(|d| d.is_unique_violation()) => {
            return Err(AppError::Conflict("council.already_voted"));
        }
        other => other?,
    };
    let secret = p.secret.unwrap_or(true);
    query("INSERT INTO ballots (community_id, id, proposal_id, choice, voter_key, voter_name) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(community_id)
        .bind(ballot_id())
        .bind(id)
        .bind(choice)
        .bind((!secret).then_some(key))
        .bind((!secret).then_some(name))
        .execute(&mut tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Counts of the ballots by choice, and of those who voted.
pub async fn tally(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<(i64, i64, i64, i64)> {
    let rows: Vec<(String, i64)> =
        query("SELECT choice, COUNT(*) FROM ballots WHERE community_id = $1 AND proposal_id = $2 GROUP BY choice")
            .bind(community_id)
            .bind(id)
            .fetch_all(&mut *ex)
            .await?;
    let get = |c: &str| rows.iter().find(|r| r.0 == c).map(|r| r.1).unwrap_or(0);
    let voted: i64 = query("SELECT COUNT(*) FROM votes_cast WHERE community_id = $1 AND proposal_id = $2")
        .bind(community_id)
        .bind(id)
        .scalar(ex)
        .await?;
    Ok((get("for"), get("against"), get("abstain"), voted))
}

/// Open ballots show who voted how; secret ones never do.
pub async fn open_ballots(ex: &mut impl Exec, p: &Proposal) -> AppResult<Vec<(String, String)>> {
    if p.secret.unwrap_or(true) {
        return Ok(Vec::new());
    }
    Ok(query("SELECT COALESCE(voter_name, ''), choice FROM ballots WHERE community_id = $1 AND proposal_id = $2 ORDER BY voter_name")
        .bind(p.community_id)
        .bind(p.id)
        .fetch_all(ex)
        .await?)
}

/// Staff close the vote (ending its window if it is still open): the tally is taken from
/// the ballots and published with the decision.
pub async fn close_vote(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    decision: &str,
) -> AppResult<Proposal> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let mut e = Vec::new();
    check_text(&mut e, "decision", decision, 4000, true);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let p = proposal(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    if p.stage != Stage::Voting {
        return Err(AppError::Conflict("council.not_voting"));
    }
    let (f, a, ab, voted) = tally(&mut tx, community_id, id).await?;
    if f + a + ab != voted {
        return Err(AppError::Internal(anyhow::anyhow!("{voted} voted but {} ballots", f + a + ab)));
    }
    let o =
        council::outcome(p.eligible.unwrap_or(0), f, a, ab, p.quorum_pct.unwrap_or(0), p.majority_pct.unwrap_or(50));
    let now = now_ms();
    let to = if o.passed { Stage::Passed } else { Stage::Rejected };
    query(
        "UPDATE proposals SET votes_for = $1, votes_against = $2, votes_abstain = $3, decided_at = $4, decision = $5,
                closes_at = CASE WHEN closes_at > $4 THEN $4 ELSE closes_at END
         WHERE community_id = $6 AND id = $7",
    )
    .bind(f)
    .bind(a)
    .bind(ab)
    .bind(now)
    .bind(decision.trim())
    .bind(community_id)
    .bind(id)
    .execute(&mut tx)
    .await?;
    set_stage(&mut tx, community_id, id, Stage::Voting, to).await?;
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Update,
        "proposal",
        id,
        Some(&json!({"stage": Stage::Voting.as_str()})),
        Some(&json!({"stage": to.as_str(), "for": f, "against": a, "abstain": ab})),
    )
    .await?;
    let out = proposal(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}
