//! Acting on a ticket: dispatch, accept, resolve, rate, whistle and the rest, each checked
//! against the state and the actor's standing and written with its history and news.

use serde_json::json;

use super::access::{my_teams, my_units, pool_members, standing};
use super::reading::fetch;
use super::{EVENT_COLUMNS, Ticket, apply_tallies, changed, event_row};
use crate::auth::model::Actor;
use crate::capabilities::tickets::{self, Action, Standing, Status, next_status};
use crate::db::{Arg, Builder, Tx, insert_many, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::media;
use crate::services::notify;
use crate::web::AppState;

/// What an action carries.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ActionInput {
    pub note: Option<String>,
    /// Dispatch / reassign: the next owner…
    pub owner_user_id: Option<i64>,
    /// …or a team's pool…
    pub team_id: Option<i64>,
    /// …or a partner unit's pool.
    pub unit_id: Option<i64>,
    /// Rating 1–5.
    pub rating: Option<i64>,
    /// Duplicate: the ticket this one repeats.
    pub duplicate_of: Option<i64>,
    /// Whistle: the partner unit called in, or a department by name.
    pub department: Option<String>,
    /// Follow-up: whether the caller was satisfied.
    pub satisfied: Option<bool>,
    /// 五连问 fields, when the owner fills them in.
    pub q_need: Option<String>,
    pub q_cause: Option<String>,
    pub q_plan: Option<String>,
    pub q_progress: Option<String>,
    pub q_outcome: Option<String>,
}

fn text_len(field: &'static str, v: &Option<String>, max: usize, errors: &mut Vec<FieldError>) {
    if v.as_deref().is_some_and(|s| s.chars().count() > max) {
        errors.push(FieldError::new(field, "validation.too_long").with("max", max));
    }
}

/// Takes an action on a ticket: checks the state and the actor's standing, writes the
/// change with its history, statistics and news in one transaction. Two people taking
/// the same order at the same moment: one wins, the other gets `ticket.already_taken`.
pub async fn act(
    state: &AppState,
    actor: &Actor,
    community_id: i64,
    id: i64,
    action: Action,
    input: ActionInput,
    photos: Vec<(Vec<u8>, media::Checked)>,
) -> AppResult<Ticket> {
    let note = check_input(action, &input)?;
    let mut tx = state.db.begin().await?;
    let t = fetch(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    let standing = check_standing(&mut tx, actor, community_id, action, &t).await?;
    let from = t.status();
    let to = next_to(&mut tx, community_id, action, &input, &t).await?;
    let a = Acting { actor, community_id, id, action, input: &input, note, now: now_ms() };
    let mut set = Builder::new("UPDATE tickets SET updated_at = ");
    set.arg(a.now).push(", status = ").arg(to.as_str());
    let (holders, data) = action_columns(&mut tx, &a, &t, to, &mut set).await?;
    if has_questions(&input) {
        question_columns(standing, &input, &mut set)?;
    }
    update_ticket(&mut tx, &a, &t, set).await?;
    let after = fetch(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    apply_tallies(
        &mut tx,
        tickets::tally_delta(Some(&t.facts()), &after.facts())
            .into_iter()
            .map(|(g, c, m, d)| (community_id, g, c, m, d))
            .collect(),
    )
    .await?;
    record_event(&mut tx, &a, from, to, data).await?;
    if !photos.is_empty() {
        media::attach(state, &mut tx, community_id, "ticket", id, Some(actor.user_id), &photos).await?;
    }
    if action == Action::Resolve {
        credit_errand(state, &mut tx, actor, community_id, &after).await?;
    }
    notify_concerned(state, &mut tx, &a, &t, &after, holders).await?;
    tx.commit().await?;
    Ok(after)
}

/// One action being taken, once it has been checked: who takes it, on which ticket, with
/// what, and when.
struct Acting<'a> {
    actor: &'a Actor,
    community_id: i64,
    id: i64,
    action: Action,
    input: &'a ActionInput,
    /// The note, trimmed; `None` when blank.
    note: Option<String>,
    now: i64,
}

/// Who holds the ticket after the action: its owner and the pool it waits in.
#[derive(Debug, Clone, Copy)]
struct Holders {
    owner: Option<i64>,
    pool_team: Option<i64>,
    pool_unit: Option<i64>,
}

/// Checks what the action carries before anything is read: lengths, a note where the
/// action needs one, a rating in range. Returns the note, trimmed (`None` when blank).
fn check_input(action: Action, input: &ActionInput) -> AppResult<Option<String>> {
    let mut errors = Vec::new();
    let note = input.note.clone().map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    text_len("note", &note, 2000, &mut errors);
    for (f, v) in [
        ("q_need", &input.q_need),
        ("q_cause", &input.q_cause),
        ("q_plan", &input.q_plan),
        ("q_progress", &input.q_progress),
        ("q_outcome", &input.q_outcome),
    ] {
        text_len(f, v, 2000, &mut errors);
    }
    if action.needs_note() && note.is_none() {
        errors.push(FieldError::new("note", "ticket.note_required"));
    }
    if action == Action::Rate {
        match input.rating {
            Some(r) if (1..=5).contains(&r) => {}
            Some(_) => errors.push(FieldError::new("rating", "validation.range").with("min", 1).with("max", 5)),
            None => errors.push(FieldError::new("rating", "validation.required")),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    Ok(note)
}

/// Works out the actor's standing to the ticket and whether it lets them take the action:
/// outside it the ticket does not exist. Someone from the pool who was a moment too late
/// to accept is told so, not "not found".
async fn check_standing(
    tx: &mut Tx,
    actor: &Actor,
    community_id: i64,
    action: Action,
    t: &Ticket,
) -> AppResult<Standing> {
    let standing = standing(tx, actor, t).await?;
    if action == Action::Accept && t.status() != Status::Dispatched && t.owner_user_id != Some(actor.user_id) {
        let team_member = match t.pool_team_id {
            Some(team) => my_teams(tx, community_id, actor.user_id).await?.contains(&team),
            None => false,
        };
        if team_member
            || t.pool_unit_id.is_some_and(|u| my_units(actor, community_id).contains(&u))
            || standing.may_see()
        {
            return Err(AppError::Conflict("ticket.already_taken"));
        }
    }
    if !standing.may_see() {
        return Err(AppError::NotFound);
    }
    if !standing.may(action) {
        return Err(AppError::Forbidden);
    }
    Ok(standing)
}

/// The status the action leads to: a rating closes or reopens (within the community's
/// reopening limit), a note filling in the 五连问 keeps the status, anything else follows
/// the lifecycle.
async fn next_to(tx: &mut Tx, community_id: i64, action: Action, input: &ActionInput, t: &Ticket) -> AppResult<Status> {
    let from = t.status();
    Ok(match action {
        Action::Rate => {
            tickets::after_rating(input.rating.unwrap_or(5), t.reopen_count, reopen_limit(tx, community_id).await?)
        }
        Action::Note if has_questions(input) => from,
        _ => next_status(from, action).map_err(|k| AppError::Invalid(vec![FieldError::new("action", k)]))?,
    })
}

/// Adds to `set` the columns this action changes, with the checks and side writes
/// (whistles, responses) it needs. Returns who holds the ticket afterwards and the data
/// the event records besides the note.
async fn action_columns(
    tx: &mut Tx,
    a: &Acting<'_>,
    t: &Ticket,
    to: Status,
    set: &mut Builder,
) -> AppResult<(Holders, serde_json::Value)> {
    let (input, now) = (a.input, a.now);
    let mut holders = Holders { owner: t.owner_user_id, pool_team: t.pool_team_id, pool_unit: t.pool_unit_id };
    let mut data = json!({});
    match a.action {
        Action::Dispatch | Action::Reassign => {
            holders = dispatch(tx, a, set).await?;
            data = json!({"owner_user_id": holders.owner, "team_id": holders.pool_team, "unit_id": holders.pool_unit});
        }
        Action::Accept => {
            holders.owner = Some(a.actor.user_id);
            // The first response counts, not a later one after a reopening.
            set.push(", owner_user_id = ").arg(a.actor.user_id).push(", accepted_at = COALESCE(accepted_at, ").arg(now);
            set.push("), response_ms = COALESCE(response_ms, ").arg(now - t.created_at).push(")");
        }
        Action::Resolve => {
            set.push(", resolved_at = ").arg(now).push(", resolution_ms = ").arg(now - t.created_at);
        }
        Action::Rate => {
            set.push(", rating = ").arg(input.rating).push(", rating_comment = ").arg(a.note.clone());
            if to == Status::Reopened {
                set.push(
                    ", reopen_count = reopen_count + 1, resolved_at = NULL, resolution_ms = NULL, closed_at = NULL",
                );
            } else {
                set.push(", closed_at = ").arg(now);
            }
            data = json!({"rating": input.rating});
        }
        Action::Close => {
            set.push(", closed_at = ").arg(now);
        }
        Action::Reopen => {
            set.push(", reopen_count = reopen_count + 1, resolved_at = NULL, resolution_ms = NULL, closed_at = NULL, rating = NULL, rating_comment = NULL");
        }
        Action::Duplicate => {
            data = mark_duplicate(tx, a, set).await?;
        }
        Action::FollowUp => {
            data = json!({"satisfied": input.satisfied});
        }
        Action::Whistle => {
            data = whistle(tx, a).await?;
        }
        Action::Respond => {
            respond(tx, a).await?;
        }
        Action::Note | Action::Start | Action::Reject | Action::Escalate | Action::Submit => {}
    }
    Ok((holders, data))
}

/// Dispatch or reassign: exactly one target (a reassignment needs a person), which must
/// exist in the community; it becomes the ticket's owner or pool.
async fn dispatch(tx: &mut Tx, a: &Acting<'_>, set: &mut Builder) -> AppResult<Holders> {
    let input = a.input;
    let targets = [input.owner_user_id.is_some(), input.team_id.is_some(), input.unit_id.is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if targets != 1 {
        return Err(AppError::field("owner_user_id", "ticket.one_target"));
    }
    if a.action == Action::Reassign && input.owner_user_id.is_none() {
        return Err(AppError::field("owner_user_id", "validation.required"));
    }
    check_target(tx, a.community_id, input).await?;
    let holders = Holders { owner: input.owner_user_id, pool_team: input.team_id, pool_unit: input.unit_id };
    set.push(", owner_user_id = ")
        .arg(holders.owner)
        .push(", pool_team_id = ")
        .arg(holders.pool_team)
        .push(", pool_unit_id = ")
        .arg(holders.pool_unit);
    Ok(holders)
}

/// Duplicate: the ticket repeated must be another one of this community. Returns the
/// event's data.
async fn mark_duplicate(tx: &mut Tx, a: &Acting<'_>, set: &mut Builder) -> AppResult<serde_json::Value> {
    let of = a.input.duplicate_of.ok_or_else(|| AppError::field("duplicate_of", "validation.required"))?;
    if of == a.id || fetch(tx, a.community_id, of).await?.is_none() {
        return Err(AppError::field("duplicate_of", "validation.reference"));
    }
    set.push(", duplicate_of = ").arg(of);
    Ok(json!({"duplicate_of": of}))
}

/// Whistle: calls in a partner unit of the community or a department by name, recorded
/// as a whistle awaiting its response. Returns the event's data.
async fn whistle(tx: &mut Tx, a: &Acting<'_>) -> AppResult<serde_json::Value> {
    let (input, community_id) = (a.input, a.community_id);
    let dept = input.department.clone().map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
    if input.unit_id.is_none() && dept.is_none() {
        return Err(AppError::field("unit_id", "ticket.whistle_target"));
    }
    if let Some(u) = input.unit_id {
        let exists: Option<i64> =
            query("SELECT id FROM partner_units WHERE community_id = $1 AND id = $2 AND archived_at IS NULL")
                .bind(community_id)
                .bind(u)
                .scalar_optional(tx)
                .await?;
        if exists.is_none() {
            return Err(AppError::field("unit_id", "validation.reference"));
        }
    }
    let wid = tx.next_id().await?;
    query("INSERT INTO ticket_whistles (community_id, id, ticket_id, unit_id, department, called_by, called_at, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(community_id)
        .bind(wid)
        .bind(a.id)
        .bind(input.unit_id)
        .bind(dept.clone())
        .bind(a.actor.user_id)
        .bind(a.now)
        .bind(a.note.clone())
        .execute(tx)
        .await?;
    Ok(json!({"unit_id": input.unit_id, "department": dept}))
}

/// Respond: a unit called in answers its open whistles; none left open means someone
/// else changed the ticket first.
async fn respond(tx: &mut Tx, a: &Acting<'_>) -> AppResult<()> {
    let units = my_units(a.actor, a.community_id);
    let mut b = Builder::new("UPDATE ticket_whistles SET responded_at = ");
    b.arg(a.now).push(", responder_user_id = ").arg(a.actor.user_id).push(", response = ").arg(a.note.clone());
    b.push(" WHERE community_id = ")
        .arg(a.community_id)
        .push(" AND ticket_id = ")
        .arg(a.id)
        .push(" AND responded_at IS NULL AND unit_id IN ")
        .list(units);
    if b.build().execute(tx).await? == 0 {
        return Err(AppError::Conflict("ticket.changed"));
    }
    Ok(())
}

/// Adds the 五连问 answers to `set`; only the owner or staff may fill them in. An answer
/// left blank clears its column.
fn question_columns(standing: Standing, input: &ActionInput, set: &mut Builder) -> AppResult<()> {
    if !(standing.owner || standing.staff) {
        return Err(AppError::Forbidden);
    }
    for (col, v) in [
        ("q_need", &input.q_need),
        ("q_cause", &input.q_cause),
        ("q_plan", &input.q_plan),
        ("q_progress", &input.q_progress),
        ("q_outcome", &input.q_outcome),
    ] {
        if let Some(v) = v {
            set.push(&format!(", {col} = ")).arg(Some(v.trim().to_string()).filter(|s| !s.is_empty()));
        }
    }
    Ok(())
}

/// Writes the update optimistically: the row must be as we read it. Whoever changed it
/// first wins; the other is told the order was taken or the ticket changed.
async fn update_ticket(tx: &mut Tx, a: &Acting<'_>, t: &Ticket, mut set: Builder) -> AppResult<()> {
    set.push(" WHERE community_id = ")
        .arg(a.community_id)
        .push(" AND id = ")
        .arg(a.id)
        .push(" AND status = ")
        .arg(t.status().as_str());
    set.push(" AND updated_at = ").arg(t.updated_at);
    changed(tx);
    if set.build().execute(tx).await? == 0 {
        return Err(AppError::Conflict(if a.action == Action::Accept {
            "ticket.already_taken"
        } else {
            "ticket.changed"
        }));
    }
    Ok(())
}

/// Adds the action to the ticket's history; `data` is kept only when it says something.
async fn record_event(tx: &mut Tx, a: &Acting<'_>, from: Status, to: Status, data: serde_json::Value) -> AppResult<()> {
    let eid = tx.next_id().await?;
    let mut row = event_row(
        a.community_id,
        eid,
        a.id,
        a.now,
        Some(a.actor.user_id),
        &a.actor.display_name,
        a.action,
        Some(from),
        to,
        a.note.as_deref(),
    );
    row[10] = Arg::Json((data != json!({})).then_some(data));
    insert_many(tx, "ticket_events", &EVENT_COLUMNS, vec![row]).await?;
    Ok(())
}

/// A resolved ticket is service done: handed to the points ledger as an errand.
async fn credit_errand(
    state: &AppState,
    tx: &mut Tx,
    actor: &Actor,
    community_id: i64,
    after: &Ticket,
) -> AppResult<()> {
    let errand = crate::capabilities::points::store::Errand {
        ticket_id: after.id,
        description: &after.description,
        address: after.address.clone(),
        team_id: after.pool_team_id,
        started_at: after.accepted_at.unwrap_or(after.created_at),
        ended_at: after.resolved_at.unwrap_or_else(now_ms),
    };
    crate::capabilities::points::store::from_ticket(state, tx, actor, community_id, errand).await?;
    Ok(())
}

/// Tells those concerned (not the actor): the owners before and after, the submitter, the
/// pool of a dispatched ticket, the grid's worker and a unit whistled in.
async fn notify_concerned(
    state: &AppState,
    tx: &mut Tx,
    a: &Acting<'_>,
    t: &Ticket,
    after: &Ticket,
    holders: Holders,
) -> AppResult<()> {
    let (community_id, id, action) = (a.community_id, a.id, a.action);
    let mut users: Vec<i64> = [holders.owner, t.owner_user_id, after.submitter_user_id].into_iter().flatten().collect();
    if after.status() == Status::Dispatched {
        users.extend(pool_members(tx, community_id, holders.pool_team, holders.pool_unit).await?);
    }
    if let Some(g) = after.grid_id {
        users.extend(
            query("SELECT worker_user_id FROM grids WHERE community_id = $1 AND id = $2")
                .bind(community_id)
                .bind(g)
                .scalar::<Option<i64>>(tx)
                .await?,
        );
    }
    if action == Action::Whistle
        && let Some(u) = a.input.unit_id
    {
        users.extend(pool_members(tx, community_id, None, Some(u)).await?);
    }
    users.sort_unstable();
    users.dedup();
    users.retain(|u| *u != a.actor.user_id);
    let text =
        format!("工单 #{id}: {}", crate::i18n::t(crate::i18n::Lang::Zh, &format!("ticket.action.{}", action.as_str())));
    let note = notify::Note::new(community_id, Some(tickets::subject(id)), action.as_str(), text);
    notify::send(tx, &state.bus, note, notify::Audience::Users(users)).await?;
    Ok(())
}

fn has_questions(i: &ActionInput) -> bool {
    [&i.q_need, &i.q_cause, &i.q_plan, &i.q_progress, &i.q_outcome].iter().any(|q| q.is_some())
}

async fn reopen_limit(tx: &mut Tx, community_id: i64) -> AppResult<i64> {
    crate::services::settings::int(tx, community_id, &tickets::REOPEN_LIMIT).await
}

/// A dispatch target must exist in the community (a user with a role there).
async fn check_target(tx: &mut Tx, community_id: i64, input: &ActionInput) -> AppResult<()> {
    let (field, found): (&str, Option<i64>) = if let Some(u) = input.owner_user_id {
        (
            "owner_user_id",
            query("SELECT user_id FROM grants WHERE community_id = $1 AND user_id = $2")
                .bind(community_id)
                .bind(u)
                .scalars::<i64>(tx)
                .await?
                .first()
                .copied(),
        )
    } else if let Some(t) = input.team_id {
        (
            "team_id",
            query("SELECT id FROM teams WHERE community_id = $1 AND id = $2 AND archived_at IS NULL")
                .bind(community_id)
                .bind(t)
                .scalar_optional(tx)
                .await?,
        )
    } else if let Some(u) = input.unit_id {
        (
            "unit_id",
            query("SELECT id FROM partner_units WHERE community_id = $1 AND id = $2 AND archived_at IS NULL")
                .bind(community_id)
                .bind(u)
                .scalar_optional(tx)
                .await?,
        )
    } else {
        return Ok(());
    };
    if found.is_none() {
        return Err(AppError::field(field, "validation.reference"));
    }
    Ok(())
}
