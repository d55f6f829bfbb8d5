//! Proposals, rounds, comments, votes, decisions and projects in the database. Every
//! function takes the community first and checks the actor.

use chrono::NaiveDate;
use serde::Serialize;
use serde_json::json;

use super::{Outcome, Stage, Voters};
use crate::auth::guard;
use crate::auth::model::{Actor, Permission, Role};
use crate::db::{Builder, Exec, Tx, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::check_text;
use crate::services::audit::{self, Action, By};
use crate::services::{notify, settings};
use crate::web::AppState;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Proposal {
    pub community_id: i64,
    pub id: i64,
    pub title: String,
    pub body: String,
    pub scope_kind: String,
    pub scope_id: Option<i64>,
    pub raised_by: i64,
    pub raised_by_name: String,
    pub stage: String,
    pub merged_into: Option<i64>,
    pub reason: Option<String>,
    pub voters: Option<String>,
    pub quorum_pct: Option<i64>,
    pub majority_pct: Option<i64>,
    pub secret: Option<bool>,
    pub eligible: Option<i64>,
    pub opens_at: Option<i64>,
    pub closes_at: Option<i64>,
    pub votes_for: Option<i64>,
    pub votes_against: Option<i64>,
    pub votes_abstain: Option<i64>,
    pub decided_at: Option<i64>,
    pub decision: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Proposal {
    pub fn stage(&self) -> Stage {
        Stage::parse(&self.stage).unwrap_or(Stage::Submitted)
    }

    /// The result, once decided.
    pub fn outcome(&self) -> Option<Outcome> {
        self.stage().is_decided().then(|| {
            super::outcome(
                self.eligible.unwrap_or(0),
                self.votes_for.unwrap_or(0),
                self.votes_against.unwrap_or(0),
                self.votes_abstain.unwrap_or(0),
                self.quorum_pct.unwrap_or(0),
                self.majority_pct.unwrap_or(50),
            )
        })
    }
}

const PROPOSAL_COLUMNS: &str = "community_id, id, title, body, scope_kind, scope_id, raised_by, raised_by_name, stage, merged_into, reason, voters,
    quorum_pct, majority_pct, secret, eligible, opens_at, closes_at, votes_for, votes_against, votes_abstain, decided_at, decision, created_at, updated_at";

pub async fn proposal(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Proposal>> {
    Ok(query(format!("SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// Whether anyone may read it on the public page: all but those merged or declined, and
/// those still waiting to be screened.
pub fn is_public(p: &Proposal) -> bool {
    !matches!(p.stage(), Stage::Submitted | Stage::Merged | Stage::Declined)
}

/// Proposals: those of the community for whoever has a role in it; only the public ones
/// for everyone else.
pub async fn proposals(ex: &mut impl Exec, actor: Option<&Actor>, community_id: i64) -> AppResult<Vec<Proposal>> {
    let all: Vec<Proposal> = query(format!(
        "SELECT {PROPOSAL_COLUMNS} FROM proposals WHERE community_id = $1 ORDER BY CASE stage WHEN 'voting' THEN 0 WHEN 'agenda' THEN 1 WHEN 'submitted' THEN 2 ELSE 3 END, updated_at DESC LIMIT 300"
    ))
    .bind(community_id)
    .fetch_all(ex)
    .await?;
    let member = actor.is_some_and(|a| a.sees_community(community_id));
    Ok(all.into_iter().filter(|p| member || is_public(p)).collect())
}

pub async fn proposal_for(
    ex: &mut impl Exec,
    actor: Option<&Actor>,
    community_id: i64,
    id: i64,
) -> AppResult<Proposal> {
    let p = proposal(ex, community_id, id).await?.ok_or(AppError::NotFound)?;
    if is_public(&p) || actor.is_some_and(|a| a.sees_community(community_id)) { Ok(p) } else { Err(AppError::NotFound) }
}

/// A resident, member or staff raises a proposal for a grid, a compound or the community.
pub async fn raise(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    title: &str,
    body: &str,
    scope_kind: &str,
    scope_id: Option<i64>,
) -> AppResult<Proposal> {
    if !actor.sees_community(community_id) {
        return Err(AppError::NotFound);
    }
    let mut e = Vec::new();
    check_text(&mut e, "title", title, 100, true);
    check_text(&mut e, "body", body, 4000, true);
    let mut tx = state.db.begin().await?;
    match (scope_kind, scope_id) {
        ("community", _) => {}
        ("grid" | "compound", Some(id)) => {
            let table = if scope_kind == "grid" { "grids" } else { "compounds" };
            let ok: Option<i64> =
                query(format!("SELECT id FROM {table} WHERE community_id = $1 AND id = $2 AND archived_at IS NULL"))
                    .bind(community_id)
                    .bind(id)
                    .scalar_optional(&mut tx)
                    .await?;
            if ok.is_none() {
                e.push(FieldError::new("scope_id", "validation.reference"));
            }
        }
        ("grid" | "compound", None) => e.push(FieldError::new("scope_id", "validation.required")),
        _ => e.push(FieldError::new("scope_kind", "validation.choice")),
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    query(
        "INSERT INTO proposals (community_id, id, title, body, scope_kind, scope_id, raised_by, raised_by_name, stage, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'submitted', $9, $9)",
    )
    .bind(community_id)
    .bind(id)
    .bind(title.trim())
    .bind(body.trim())
    .bind(scope_kind)
    .bind(scope_id.filter(|_| scope_kind != "community"))
    .bind(actor.user_id)
    .bind(actor.display_name.as_str())
    .bind(now)
    .execute(&mut tx)
    .await?;
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Create,
        "proposal",
        id,
        None,
        Some(&json!({"title": title.trim(), "scope": scope_kind})),
    )
    .await?;
    let p = proposal(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(p)
}

async fn set_stage(tx: &mut Tx, community_id: i64, id: i64, from: Stage, to: Stage) -> AppResult<()> {
    let changed =
        query("UPDATE proposals SET stage = $1, updated_at = $2 WHERE community_id = $3 AND id = $4 AND stage = $5")
            .bind(to.as_str())
            .bind(now_ms())
            .bind(community_id)
            .bind(id)
            .bind(from.as_str())
            .execute(tx)
            .await?;
    if changed == 0 { Err(AppError::Conflict("council.changed")) } else { Ok(()) }
}

/// Staff screen a proposal: onto the agenda, merged into another, or declined with a reason.
pub async fn screen(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    action: &str,
    merge_into: Option<i64>,
    reason: Option<&str>,
) -> AppResult<Proposal> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    let mut tx = state.db.begin().await?;
    let p = proposal(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    let to = super::screened(p.stage(), action).map_err(|k| AppError::field("action", k))?;
    if to == Stage::Declined && reason.is_none() {
        return Err(AppError::field("reason", "validation.required"));
    }
    if to == Stage::Merged {
        let into = merge_into.filter(|m| *m != id).ok_or(AppError::field("merge_into", "validation.required"))?;
        let target = proposal(&mut tx, community_id, into)
            .await?
            .ok_or(AppError::field("merge_into", "validation.reference"))?;
        if !matches!(target.stage(), Stage::Submitted | Stage::Agenda) {
            return Err(AppError::field("merge_into", "council.not_mergeable"));
        }
        query("UPDATE proposals SET merged_into = $1 WHERE community_id = $2 AND id = $3")
            .bind(into)
            .bind(community_id)
            .bind(id)
            .execute(&mut tx)
            .await?;
    }
    set_stage(&mut tx, community_id, id, p.stage(), to).await?;
    query("UPDATE proposals SET reason = $1 WHERE community_id = $2 AND id = $3")
        .bind(reason)
        .bind(community_id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Update,
        "proposal",
        id,
        Some(&json!({"stage": p.stage})),
        Some(&json!({"stage": to.as_str(), "reason": reason, "merge_into": merge_into})),
    )
    .await?;
    notify::send(
        &mut tx,
        &state.bus,
        notify::Note::new(
            community_id,
            Some(notify::Subject { kind: "proposal", id: p.id }),
            "council",
            format!(
                "你提出的议题「{}」：{}",
                p.title,
                crate::i18n::t(crate::i18n::Lang::Zh, &format!("council.stage.{}", to.as_str()))
            ),
        ),
        notify::Audience::Users(vec![p.raised_by]),
    )
    .await?;
    let out = proposal(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

// ---------- the roster, rounds, comments ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Member {
    pub user_id: i64,
    pub name: String,
    pub title: Option<String>,
}

pub async fn roster(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Member>> {
    Ok(query("SELECT user_id, name, title FROM council_members WHERE community_id = $1 ORDER BY name")
        .bind(community_id)
        .fetch_all(ex)
        .await?)
}

/// The account of a sign-in name that holds a role in the community.
pub async fn user_in(ex: &mut impl Exec, community_id: i64, username: &str) -> AppResult<Option<i64>> {
    Ok(query("SELECT u.id FROM users u WHERE u.username = $1 AND EXISTS (SELECT 1 FROM grants g WHERE g.user_id = u.id AND g.community_id = $2)")
        .bind(username)
        .bind(community_id)
        .scalar_optional(ex)
        .await?)
}

/// Staff add someone with an account to the council (or take them off it).
pub async fn set_member(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    user_id: i64,
    title: Option<String>,
    on: bool,
) -> AppResult<()> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let mut tx = state.db.begin().await?;
    let name: Option<String> =
        query("SELECT display_name FROM users WHERE id = $1").bind(user_id).scalar_optional(&mut tx).await?;
    let Some(name) = name else { return Err(AppError::field("user_id", "validation.reference")) };
    if on {
        query(
            "INSERT INTO council_members (community_id, user_id, name, title, joined_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (community_id, user_id) DO UPDATE SET title = excluded.title",
        )
        .bind(community_id)
        .bind(user_id)
        .bind(name)
        .bind(title.filter(|t| !t.trim().is_empty()))
        .bind(now_ms())
        .execute(&mut tx)
        .await?;
    } else {
        query("DELETE FROM council_members WHERE community_id = $1 AND user_id = $2")
            .bind(community_id)
            .bind(user_id)
            .execute(&mut tx)
            .await?;
    }
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Update,
        "council_member",
        user_id,
        None,
        Some(&json!({"on": on})),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct Round {
    pub id: i64,
    pub seq: i64,
    pub held_at: i64,
    pub place: String,
    pub minutes: String,
    pub present: Vec<String>,
}

pub async fn rounds(ex: &mut impl Exec, community_id: i64, proposal_id: i64) -> AppResult<Vec<Round>> {
    let rows: Vec<(i64, i64, i64, String, String)> =
        query("SELECT id, seq, held_at, place, minutes FROM proposal_rounds WHERE community_id = $1 AND proposal_id = $2 ORDER BY seq")
            .bind(community_id)
            .bind(proposal_id)
            .fetch_all(&mut *ex)
            .await?;
    let mut b = Builder::new(
        "SELECT a.round_id, COALESCE(m.name, u.display_name) FROM round_attendance a JOIN users u ON u.id = a.user_id
         LEFT JOIN council_members m ON m.community_id = a.community_id AND m.user_id = a.user_id WHERE a.community_id = ",
    );
    b.arg(community_id).push(" AND a.round_id IN ").list(rows.iter().map(|r| r.0));
    let present: Vec<(i64, String)> = b.build().fetch_all(ex).await?;
    Ok(rows
        .into_iter()
        .map(|(id, seq, held_at, place, minutes)| Round {
            id,
            seq,
            held_at,
            place,
            minutes,
            present: present.iter().filter(|p| p.0 == id).map(|p| p.1.clone()).collect(),
        })
        .collect())
}

/// Staff record a round of deliberation: the meeting, who came (from the roster), the minutes.
pub async fn add_round(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    held_at: Option<i64>,
    place: &str,
    minutes: &str,
    present: &[i64],
) -> AppResult<Round> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let mut e = Vec::new();
    check_text(&mut e, "place", place, 100, true);
    check_text(&mut e, "minutes", minutes, 8000, true);
    if held_at.is_none() {
        e.push(FieldError::new("held_at", "validation.datetime"));
    }
    let mut tx = state.db.begin().await?;
    let p = proposal(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    if p.stage() != Stage::Agenda {
        return Err(AppError::Conflict("council.not_in_deliberation"));
    }
    let members: Vec<i64> = roster(&mut tx, community_id).await?.into_iter().map(|m| m.user_id).collect();
    crate::input::check_count(&mut e, "present", present.len());
    if present.iter().any(|u| !members.contains(u)) {
        e.push(FieldError::new("present", "council.not_on_roster"));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let held: i64 =
        query("SELECT COALESCE(MAX(seq), 0) FROM proposal_rounds WHERE community_id = $1 AND proposal_id = $2")
            .bind(community_id)
            .bind(id)
            .scalar(&mut tx)
            .await?;
    let seq = tx.next_number(community_id, &format!("round:{id}"), held).await?;
    let rid = tx.next_id().await?;
    query("INSERT INTO proposal_rounds (community_id, id, proposal_id, seq, held_at, place, minutes, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
        .bind(community_id)
        .bind(rid)
        .bind(id)
        .bind(seq)
        .bind(held_at)
        .bind(place.trim())
        .bind(minutes.trim())
        .bind(actor.user_id)
        .bind(now_ms())
        .execute(&mut tx)
        .await?;
    for u in present {
        query(
            "INSERT INTO round_attendance (community_id, round_id, user_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(community_id)
        .bind(rid)
        .bind(*u)
        .execute(&mut tx)
        .await?;
    }
    query("UPDATE proposals SET updated_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(now_ms())
        .bind(community_id)
        .bind(id)
        .execute(&mut tx)
        .await?;
    let out = rounds(&mut tx, community_id, id).await?.into_iter().find(|r| r.id == rid).ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Who the actor is as a voter on this proposal: their key (one vote per household,
/// resident or member), if they may vote at all.
async fn voter(ex: &mut impl Exec, actor: &Actor, p: &Proposal, rule: Voters) -> AppResult<Option<(String, String)>> {
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
    let from_grant = actor
        .grants
        .iter()
        .find(|g| g.role() == Role::Resident && g.community_id == Some(c))
        .and_then(|g| g.household_id);
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
    match (p.scope_kind.as_str(), p.scope_id) {
        ("grid", Some(g)) => {
            b.push(" AND grid_id = ").arg(g);
        }
        ("compound", Some(c)) => {
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

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Comment {
    pub id: i64,
    pub name: String,
    pub at: i64,
    pub body: String,
}

pub async fn comments(ex: &mut impl Exec, community_id: i64, proposal_id: i64) -> AppResult<Vec<Comment>> {
    Ok(query(
        "SELECT id, name, at, body FROM proposal_comments WHERE community_id = $1 AND proposal_id = $2 ORDER BY at",
    )
    .bind(community_id)
    .bind(proposal_id)
    .fetch_all(ex)
    .await?)
}

/// Between meetings, those who may vote on it (and staff) comment online.
pub async fn comment(state: &AppState, actor: &Actor, community_id: i64, id: i64, body: &str) -> AppResult<Comment> {
    let mut e = Vec::new();
    check_text(&mut e, "body", body, 2000, true);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let p = proposal_for(&mut tx, Some(actor), community_id, id).await?;
    if p.stage() != Stage::Agenda {
        return Err(AppError::Conflict("council.not_in_deliberation"));
    }
    let rule = community_rule(&mut tx, community_id).await?;
    let who = match voter(&mut tx, actor, &p, rule).await? {
        Some((_, name)) => crate::services::pii::mask_name(&name),
        None if actor.can(community_id, Permission::ManageParticipation) => actor.display_name.clone(),
        None => return Err(AppError::Conflict("council.not_eligible")),
    };
    let cid = tx.next_id().await?;
    query("INSERT INTO proposal_comments (community_id, id, proposal_id, user_id, name, at, body) VALUES ($1, $2, $3, $4, $5, $6, $7)")
        .bind(community_id)
        .bind(cid)
        .bind(id)
        .bind(actor.user_id)
        .bind(who)
        .bind(now_ms())
        .bind(body.trim())
        .execute(&mut tx)
        .await?;
    let out = comments(&mut tx, community_id, id).await?.into_iter().find(|c| c.id == cid).ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

// ---------- the vote ----------

/// The community's council rules: (who votes, quorum %, majority %, secret).
pub async fn rules(ex: &mut impl Exec, community_id: i64) -> AppResult<(String, i64, i64, bool)> {
    Ok((
        settings::text(&mut *ex, community_id, &super::VOTERS).await?,
        settings::int(&mut *ex, community_id, &super::QUORUM_PCT).await?,
        settings::int(&mut *ex, community_id, &super::MAJORITY_PCT).await?,
        settings::bool(&mut *ex, community_id, &super::SECRET).await?,
    ))
}

async fn community_rule(ex: &mut impl Exec, community_id: i64) -> AppResult<Voters> {
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
    let e = super::check_rules(voters, quorum_pct, majority_pct);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let before = rules(&mut tx, community_id).await?;
    settings::set(&mut tx, community_id, &super::VOTERS, voters).await?;
    settings::set(&mut tx, community_id, &super::QUORUM_PCT, &quorum_pct.to_string()).await?;
    settings::set(&mut tx, community_id, &super::MAJORITY_PCT, &majority_pct.to_string()).await?;
    settings::set(&mut tx, community_id, &super::SECRET, &secret.to_string()).await?;
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
    if p.stage() != Stage::Agenda {
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
        Some(&json!({"stage": "agenda"})),
        Some(&json!({"stage": "voting", "voters": rule.as_str(), "eligible": n, "secret": secret})),
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
    if !super::CHOICES.contains(&choice) {
        return Err(AppError::field("choice", "validation.choice"));
    }
    let mut tx = state.db.begin().await?;
    let p = proposal_for(&mut tx, Some(actor), community_id, id).await?;
    if p.stage() != Stage::Voting {
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
    if p.stage() != Stage::Voting {
        return Err(AppError::Conflict("council.not_voting"));
    }
    let (f, a, ab, voted) = tally(&mut tx, community_id, id).await?;
    if f + a + ab != voted {
        return Err(AppError::Internal(anyhow::anyhow!("{voted} voted but {} ballots", f + a + ab)));
    }
    let o = super::outcome(p.eligible.unwrap_or(0), f, a, ab, p.quorum_pct.unwrap_or(0), p.majority_pct.unwrap_or(50));
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
        Some(&json!({"stage": "voting"})),
        Some(&json!({"stage": to.as_str(), "for": f, "against": a, "abstain": ab})),
    )
    .await?;
    let out = proposal(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

// ---------- projects ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Project {
    pub id: i64,
    pub proposal_id: i64,
    pub title: String,
    pub owner_name: String,
    pub budget_yuan: i64,
    pub budget_line: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
pub struct Milestone {
    pub id: i64,
    pub seq: i64,
    pub title: String,
    pub due_on: Option<NaiveDate>,
    pub done_on: Option<NaiveDate>,
    pub note: Option<String>,
}

pub async fn project(
    ex: &mut impl Exec,
    community_id: i64,
    proposal_id: i64,
) -> AppResult<Option<(Project, Vec<Milestone>)>> {
    let p: Option<Project> = query("SELECT id, proposal_id, title, owner_name, budget_yuan, budget_line FROM council_projects WHERE community_id = $1 AND proposal_id = $2")
        .bind(community_id)
        .bind(proposal_id)
        .fetch_optional(&mut *ex)
        .await?;
    let Some(p) = p else { return Ok(None) };
    let m: Vec<Milestone> = query("SELECT id, seq, title, due_on, done_on, note FROM project_milestones WHERE community_id = $1 AND project_id = $2 ORDER BY seq")
        .bind(community_id)
        .bind(p.id)
        .fetch_all(ex)
        .await?;
    Ok(Some((p, m)))
}

/// A decision carried out: the project with its owner, budget line and milestones.
#[allow(clippy::too_many_arguments)]
pub async fn make_project(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    proposal_id: i64,
    title: &str,
    owner_name: &str,
    budget_yuan: i64,
    budget_line: Option<String>,
    milestones: &[(String, Option<NaiveDate>)],
) -> AppResult<(Project, Vec<Milestone>)> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let mut e = Vec::new();
    check_text(&mut e, "title", title, 100, true);
    check_text(&mut e, "owner_name", owner_name, 40, true);
    crate::input::check_range(&mut e, "budget_yuan", budget_yuan, crate::input::limits::BUDGET_YUAN);
    crate::input::check_count(&mut e, "milestones", milestones.len());
    if milestones.iter().any(|m| m.0.trim().is_empty() || m.0.chars().count() > 100) {
        e.push(FieldError::new("milestones", "validation.required"));
    }
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let p = proposal(&mut tx, community_id, proposal_id).await?.ok_or(AppError::NotFound)?;
    if p.stage() != Stage::Passed {
        return Err(AppError::Conflict("council.not_passed"));
    }
    let id = tx.next_id().await?;
    let now = now_ms();
    let inserted = query(
        "INSERT INTO council_projects (community_id, id, proposal_id, title, owner_name, budget_yuan, budget_line, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(community_id)
    .bind(id)
    .bind(proposal_id)
    .bind(title.trim())
    .bind(owner_name.trim())
    .bind(budget_yuan)
    .bind(budget_line.filter(|b| !b.trim().is_empty()))
    .bind(now)
    .execute(&mut tx)
    .await;
    match inserted {
        Err(e) if e.as_database_error().is_some_and(|d| d.is_unique_violation()) => {
            return Err(AppError::Conflict("council.project_exists"));
        }
        other => other?,
    };
    for (i, (t, due)) in milestones.iter().enumerate() {
        let mid = tx.next_id().await?;
        query("INSERT INTO project_milestones (community_id, id, project_id, seq, title, due_on) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(community_id)
            .bind(mid)
            .bind(id)
            .bind(i as i64 + 1)
            .bind(t.trim())
            .bind(*due)
            .execute(&mut tx)
            .await?;
    }
    audit::record(
        &mut tx,
        community_id,
        &By::from(actor),
        Action::Create,
        "council_project",
        id,
        None,
        Some(&json!({"title": title.trim(), "budget_yuan": budget_yuan})),
    )
    .await?;
    let out = project(&mut tx, community_id, proposal_id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(out)
}

/// Marks a milestone done (or adds one), with a note residents read.
pub async fn milestone(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    proposal_id: i64,
    milestone_id: Option<i64>,
    title: Option<String>,
    done_on: Option<NaiveDate>,
    note: Option<String>,
) -> AppResult<Vec<Milestone>> {
    guard::require(actor, community_id, Permission::ManageParticipation)?;
    let mut e = Vec::new();
    check_text(&mut e, "title", title.as_deref().unwrap_or(""), 100, false);
    check_text(&mut e, "note", note.as_deref().unwrap_or(""), 1000, false);
    if !e.is_empty() {
        return Err(AppError::Invalid(e));
    }
    let mut tx = state.db.begin().await?;
    let (p, ms) = project(&mut tx, community_id, proposal_id).await?.ok_or(AppError::NotFound)?;
    if done_on.is_some_and(|d| d > crate::web::fmt::today()) {
        return Err(AppError::field("done_on", "points.in_future"));
    }
    let note = note.filter(|n| !n.trim().is_empty());
    match milestone_id {
        Some(m) => {
            if !ms.iter().any(|x| x.id == m) {
                return Err(AppError::field("milestone_id", "validation.reference"));
            }
            query("UPDATE project_milestones SET done_on = $1, note = COALESCE($2, note) WHERE community_id = $3 AND id = $4")
                .bind(done_on)
                .bind(note)
                .bind(community_id)
                .bind(m)
                .execute(&mut tx)
                .await?;
        }
        None => {
            let t = title.filter(|t| !t.trim().is_empty()).ok_or(AppError::field("title", "validation.required"))?;
            let mid = tx.next_id().await?;
            let highest = ms.iter().map(|m| m.seq).max().unwrap_or(0);
            let seq = tx.next_number(community_id, &format!("milestone:{}", p.id), highest).await?;
            query("INSERT INTO project_milestones (community_id, id, project_id, seq, title, done_on, note) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(community_id)
                .bind(mid)
                .bind(p.id)
                .bind(seq)
                .bind(t.trim())
                .bind(done_on)
                .bind(note)
                .execute(&mut tx)
                .await?;
        }
    }
    query("UPDATE council_projects SET updated_at = $1 WHERE community_id = $2 AND id = $3")
        .bind(now_ms())
        .bind(community_id)
        .bind(p.id)
        .execute(&mut tx)
        .await?;
    let out = project(&mut tx, community_id, proposal_id).await?.map(|x| x.1).unwrap_or_default();
    tx.commit().await?;
    Ok(out)
}
