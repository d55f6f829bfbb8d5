//! Submitting: checking a new ticket, routing it to its grid and handler, and writing it
//! with its first history, statistics and news (one at a time or in groups).

use std::collections::HashMap;

use serde_json::Value;

use super::access::pool_members;
use super::reading::fetch;
use super::{COLUMNS, EVENT_COLUMNS, Ticket, apply_tallies, changed, event_row};
use crate::auth::model::{Actor, Permission};
use crate::capabilities::tickets::{self, Action, Channel, Facts, Handler, Status};
use crate::db::{Arg, Exec, Tx, insert_many, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::media;
use crate::services::notify::{self, Bus};
use crate::web::AppState;

/// A ticket as submitted, before routing.
#[derive(Debug, Clone, Default)]
pub struct NewTicket {
    pub category_id: Option<i64>,
    pub description: String,
    pub channel: Option<Channel>,
    pub household_id: Option<i64>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub address: Option<String>,
    pub submitter_name: Option<String>,
    pub caller_phone: Option<String>,
    pub attributes: Option<Value>,
    pub idempotency_key: Option<String>,
}

/// Checks what can be checked without the database.
pub fn check_new(t: &NewTicket) -> Vec<FieldError> {
    let mut e = Vec::new();
    if t.category_id.is_none() {
        e.push(FieldError::new("category_id", "validation.required"));
    }
    let n = t.description.trim().chars().count();
    if n == 0 {
        e.push(FieldError::new("description", "validation.required"));
    } else if n > 2000 {
        e.push(FieldError::new("description", "validation.too_long").with("max", 2000));
    }
    match (t.lat, t.lng) {
        (Some(lat), Some(lng)) => {
            if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
                e.push(FieldError::new("lat", "validation.range").with("min", -90).with("max", 90));
            }
            if !(-180.0..=180.0).contains(&lng) || !lng.is_finite() {
                e.push(FieldError::new("lng", "validation.range").with("min", -180).with("max", 180));
            }
        }
        (Some(_), None) => e.push(FieldError::new("lng", "ticket.point_incomplete")),
        (None, Some(_)) => e.push(FieldError::new("lat", "ticket.point_incomplete")),
        (None, None) => {}
    }
    if t.household_id.is_none() && t.lat.is_none() && t.address.as_deref().is_none_or(|a| a.trim().is_empty()) {
        e.push(FieldError::new("place", "ticket.place_required"));
    }
    if t.address.as_deref().is_some_and(|a| a.chars().count() > 200) {
        e.push(FieldError::new("address", "validation.too_long").with("max", 200));
    }
    if t.submitter_name.as_deref().is_some_and(|a| a.chars().count() > 40) {
        e.push(FieldError::new("submitter_name", "validation.too_long").with("max", 40));
    }
    if let Some(p) = t.caller_phone.as_deref().filter(|p| !p.trim().is_empty())
        && let Err(k) = crate::services::pii::normalize_phone(p)
    {
        e.push(FieldError::new("caller_phone", k));
    }
    if t.idempotency_key.as_deref().is_some_and(|k| k.is_empty() || k.len() > 200) {
        e.push(FieldError::new("idempotency_key", "validation.too_long").with("max", 200));
    }
    e
}

/// A ticket routed and ready to be written.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub community_id: i64,
    pub new: NewTicket,
    pub channel: Channel,
    pub category_id: i64,
    pub grid_id: Option<i64>,
    pub outside_grid: bool,
    pub address: Option<String>,
    pub status: Status,
    pub owner: Option<i64>,
    pub pool_team: Option<i64>,
    pub pool_unit: Option<i64>,
    pub due_at: i64,
    pub submitter_user_id: Option<i64>,
    pub submitter_name: Option<String>,
    pub token: String,
    pub at: i64,
    /// Who hears of the new ticket.
    pub recipients: Vec<i64>,
}

/// A hard-to-guess token that starts with the time, so new tokens go to the end of their
/// index instead of to a random page of it.
fn token(at: i64) -> String {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("system random source");
    format!("{at:011x}{}", hex::encode(b))
}

/// Routes a ticket: its grid (from the household, else the polygon holding its point), and
/// whom it goes to (the category's default handler). `actor` is the submitter when signed in.
pub async fn prepare(
    state: &AppState,
    community_id: i64,
    actor: Option<&Actor>,
    new: NewTicket,
) -> AppResult<Prepared> {
    let mut errors = check_new(&new);
    let dir = tickets::runtime(state).directory(&state.db, community_id).await?;
    let category = new.category_id.and_then(|c| dir.categories.iter().find(|x| x.id == c));
    if new.category_id.is_some() && category.is_none() {
        errors.push(FieldError::new("category_id", "ticket.unknown_category"));
    }
    let mut grid_id = None;
    let mut address = new.address.clone().filter(|a| !a.trim().is_empty());
    if let Some(h) = new.household_id {
        let mut conn = state.db.read().await?;
        let row: Option<(Option<i64>, String)> = query(
            "SELECT grid_id, address FROM households WHERE community_id = $1 AND id = $2 AND archived_at IS NULL",
        )
        .bind(community_id)
        .bind(h)
        .fetch_optional(&mut conn)
        .await?;
        match row {
            Some((g, a)) => {
                grid_id = g;
                address = address.or(Some(a));
                // Residents submit for their own household; others within their reach.
                if let Some(a) = actor {
                    let reach = a.access(community_id, Permission::ViewRegistry);
                    if !reach.covers(g, Some(h)) {
                        errors.push(FieldError::new("household_id", "validation.reference"));
                    }
                }
            }
            None => errors.push(FieldError::new("household_id", "validation.reference")),
        }
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let category = category.expect("checked above");
    let mut outside_grid = false;
    if grid_id.is_none()
        && let (Some(lat), Some(lng)) = (new.lat, new.lng)
    {
        match dir.grid_at(lng, lat) {
            Some(g) => grid_id = Some(g.id),
            None => outside_grid = true,
        }
    }
    let (mut owner, mut pool_team, mut pool_unit) = (None, None, None);
    match category.handler() {
        Some(Handler::GridWorker) => owner = grid_id.and_then(|g| dir.grid(g)).and_then(|g| g.worker),
        Some(Handler::Team(t)) => pool_team = Some(t),
        Some(Handler::Unit(u)) => pool_unit = Some(u),
        Some(Handler::User(u)) => owner = Some(u),
        None => {}
    }
    let dispatched = owner.is_some() || pool_team.is_some() || pool_unit.is_some();
    let at = now_ms();
    let channel = new.channel.unwrap_or(Channel::Web);
    let mut recipients: Vec<i64> = owner.into_iter().collect();
    if pool_team.is_some() || pool_unit.is_some() {
        let mut conn = state.db.read().await?;
        recipients.extend(pool_members(&mut conn, community_id, pool_team, pool_unit).await?);
    }
    if let Some(w) = grid_id.and_then(|g| dir.grid(g)).and_then(|g| g.worker) {
        recipients.push(w);
    }
    recipients.sort_unstable();
    recipients.dedup();
    // Hotline and patrol tickets are taken for someone else: the caller is followed up by
    // phone, and only a resident's own ticket is theirs to rate.
    let submitter_user_id = actor.filter(|_| channel == Channel::Web).map(|a| a.user_id);
    Ok(Prepared {
        community_id,
        channel,
        category_id: category.id,
        grid_id,
        outside_grid,
        address,
        status: if dispatched { Status::Dispatched } else { Status::Submitted },
        owner,
        pool_team,
        pool_unit,
        due_at: at + category.deadline_hours * tickets::HOUR_MS,
        submitter_name: new
            .submitter_name
            .clone()
            .filter(|n| !n.trim().is_empty())
            .or_else(|| actor.filter(|_| channel == Channel::Web).map(|a| a.display_name.clone())),
        submitter_user_id,
        token: token(at),
        at,
        recipients,
        new,
    })
}

/// An earlier ticket with the same idempotency key, if any.
pub async fn by_idempotency_key(ex: &mut impl Exec, community_id: i64, key: &str) -> AppResult<Option<Ticket>> {
    Ok(query(format!("SELECT {COLUMNS} FROM tickets WHERE community_id = $1 AND idempotency_key = $2"))
        .bind(community_id)
        .bind(key)
        .fetch_optional(ex)
        .await?)
}

/// Writes prepared tickets in one transaction: the tickets, their first history, the
/// statistics, the inbox, and the news. Answers their ids, in order.
pub async fn write(tx: &mut Tx, pii: &crate::services::pii::Pii, bus: &Bus, items: &[Prepared]) -> AppResult<Vec<i64>> {
    let per_ticket = 3;
    let mut ids = tx.next_ids(items.len() * per_ticket).await?.into_iter();
    changed(tx);
    let mut tickets = Vec::with_capacity(items.len());
    let mut events = Vec::with_capacity(items.len() * 2);
    let mut notes = Vec::new();
    let mut tallies: HashMap<(i64, i64, i64, String), i64> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for p in items {
        let id = ids.next().expect("ids reserved");
        out.push(id);
        tickets.push(ticket_row(pii, p, id));
        first_events(p, id, &mut ids, &mut events);
        for (g, c, m, d) in tickets::tally_delta(None, &first_facts(p)) {
            *tallies.entry((p.community_id, g, c, m)).or_default() += d;
        }
        let note = notify::Note::new(p.community_id, Some(tickets::subject(id)), "new", format!("新工单 #{id}"));
        notes.push((note, p.recipients.clone()));
    }
    insert_many(tx, "tickets", &WRITE_COLUMNS, tickets).await?;
    insert_many(tx, "ticket_events", &EVENT_COLUMNS, events).await?;
    apply_tallies(tx, tallies.into_iter().map(|((c, g, cat, m), d)| (c, g, cat, m, d)).collect()).await?;
    notify::send_many(tx, bus, notes).await?;
    Ok(out)
}

/// The columns `write` fills in a new ticket's row, in the order of `ticket_row`.
const WRITE_COLUMNS: [&str; 26] = [
    "community_id",
    "id",
    "category_id",
    "channel",
    "status",
    "description",
    "household_id",
    "grid_id",
    "lat",
    "lng",
    "address",
    "outside_grid",
    "submitter_user_id",
    "submitter_name",
    "caller_phone_enc",
    "caller_phone_hash",
    "caller_phone_masked",
    "owner_user_id",
    "pool_team_id",
    "pool_unit_id",
    "due_at",
    "attributes",
    "idempotency_key",
    "token",
    "created_at",
    "updated_at",
];

/// A new ticket's row (`WRITE_COLUMNS`), the caller's phone sealed.
fn ticket_row(pii: &crate::services::pii::Pii, p: &Prepared, id: i64) -> Vec<Arg> {
    let phone = p
        .new
        .caller_phone
        .as_deref()
        .filter(|x| !x.trim().is_empty())
        .and_then(|x| crate::services::pii::normalize_phone(x).ok())
        .map(|x| pii.seal_phone(&x));
    vec![
        p.community_id.into(),
        id.into(),
        p.category_id.into(),
        p.channel.as_str().into(),
        p.status.as_str().into(),
        p.new.description.trim().to_string().into(),
        p.new.household_id.into(),
        p.grid_id.into(),
        p.new.lat.into(),
        p.new.lng.into(),
        p.address.clone().into(),
        p.outside_grid.into(),
        p.submitter_user_id.into(),
        p.submitter_name.clone().into(),
        phone.as_ref().map(|s| s.enc.clone()).into(),
        phone.as_ref().map(|s| s.hash.clone()).into(),
        phone.as_ref().map(|s| s.masked.clone()).into(),
        p.owner.into(),
        p.pool_team.into(),
        p.pool_unit.into(),
        p.due_at.into(),
        p.new.attributes.clone().into(),
        p.new.idempotency_key.clone().into(),
        p.token.clone().into(),
        p.at.into(),
        p.at.into(),
    ]
}

/// A new ticket's first history: submitted, then dispatched by the platform when routed to
/// a handler. Takes the events' ids from `ids`, two per ticket whether used or not.
fn first_events(p: &Prepared, id: i64, ids: &mut impl Iterator<Item = i64>, events: &mut Vec<Vec<Arg>>) {
    let who = p.submitter_name.clone().unwrap_or_else(|| "—".into());
    events.push(event_row(
        p.community_id,
        ids.next().expect("ids"),
        id,
        p.at,
        p.submitter_user_id,
        &who,
        Action::Submit,
        None,
        Status::Submitted,
        None,
    ));
    if p.status == Status::Dispatched {
        events.push(event_row(
            p.community_id,
            ids.next().expect("ids"),
            id,
            p.at,
            None,
            "平台派单",
            Action::Dispatch,
            Some(Status::Submitted),
            Status::Dispatched,
            None,
        ));
    } else {
        ids.next();
    }
}

/// What the statistics count of a ticket just written.
fn first_facts(p: &Prepared) -> Facts {
    Facts {
        grid_id: p.grid_id.unwrap_or(0),
        category_id: p.category_id,
        status: p.status,
        on_time: false,
        responded: false,
        rating: None,
        response_ms: None,
        resolution_ms: None,
    }
}

/// Submits one ticket (pages, JSON API), with its photos. A retried submission with the
/// same idempotency key answers the first ticket.
pub async fn submit(
    state: &AppState,
    community_id: i64,
    actor: Option<&Actor>,
    new: NewTicket,
    photos: Vec<(Vec<u8>, media::Checked)>,
) -> AppResult<(Ticket, bool)> {
    if let Some(key) = new.idempotency_key.as_deref() {
        let mut conn = state.db.read().await?;
        if let Some(t) = by_idempotency_key(&mut conn, community_id, key).await? {
            return Ok((t, false));
        }
    }
    let p = prepare(state, community_id, actor, new).await?;
    let mut tx = state.db.begin().await?;
    let id = match write(&mut tx, &state.pii, &state.bus, std::slice::from_ref(&p)).await {
        Ok(ids) => ids[0],
        // Two retries racing with the same key: the second finds the first.
        Err(AppError::Invalid(e)) if e.iter().any(|f| f.field == "idempotency_key") => {
            drop(tx);
            let mut conn = state.db.read().await?;
            let key = p.new.idempotency_key.as_deref().unwrap_or_default();
            let t =
                by_idempotency_key(&mut conn, community_id, key).await?.ok_or(AppError::Conflict("ticket.changed"))?;
            return Ok((t, false));
        }
        Err(e) => return Err(e),
    };
    media::attach(state, &mut tx, community_id, "ticket", id, actor.map(|a| a.user_id), &photos).await?;
    let t = fetch(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok((t, true))
}
