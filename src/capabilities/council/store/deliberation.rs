//! The council's roster, and the deliberation on a proposal on the agenda: rounds of
//! meetings with who came and the minutes, and comments online between them.

use serde::Serialize;
use serde_json::json;

use super::voting::{community_rule, voter};
use super::{proposal, proposal_for};
use crate::auth::guard;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::council::Stage;
use crate::db::{Builder, Exec, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::input::check_text;
use crate::services::audit::{self, Action, By};
use crate::web::AppState;

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
    if p.stage != Stage::Agenda {
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
    if p.stage != Stage::Agenda {
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
