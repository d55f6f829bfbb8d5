//! Tickets in the database. Every function takes the community first and works out the
//! actor's standing to the ticket itself: outside it, a ticket does not exist.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use geo::Contains;
use serde_json::{Value, json};
use sqlx::types::Json;

use super::{Action, Channel, Facts, Handler, Standing, Status, next_status};
use crate::auth::model::{Actor, Permission, Role};
use crate::db::{Arg, Builder, Db, Exec, Tx, insert_many, now_ms, query};
use crate::error::{AppError, AppResult, FieldError};
use crate::services::media;
use crate::services::notify::{self, Bus};
use crate::web::AppState;

/// A ticket as stored (personal values only masked).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Ticket {
    pub community_id: i64,
    pub id: i64,
    pub category_id: i64,
    pub channel: String,
    pub status: String,
    pub description: String,
    pub household_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub address: Option<String>,
    pub outside_grid: bool,
    pub submitter_user_id: Option<i64>,
    pub submitter_name: Option<String>,
    pub caller_phone_masked: Option<String>,
    pub owner_user_id: Option<i64>,
    pub pool_team_id: Option<i64>,
    pub pool_unit_id: Option<i64>,
    pub due_at: i64,
    pub accepted_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub escalation_level: i64,
    pub escalated_at: Option<i64>,
    pub reopen_count: i64,
    pub rating: Option<i64>,
    pub rating_comment: Option<String>,
    pub response_ms: Option<i64>,
    pub resolution_ms: Option<i64>,
    pub duplicate_of: Option<i64>,
    pub q_need: Option<String>,
    pub q_cause: Option<String>,
    pub q_plan: Option<String>,
    pub q_progress: Option<String>,
    pub q_outcome: Option<String>,
    pub attributes: Option<Json<Value>>,
    pub token: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub const COLUMNS: &str = "community_id, id, category_id, channel, status, description, household_id, grid_id, lat, lng, address, \
    outside_grid, submitter_user_id, submitter_name, caller_phone_masked, owner_user_id, pool_team_id, pool_unit_id, due_at, \
    accepted_at, resolved_at, closed_at, escalation_level, escalated_at, reopen_count, rating, rating_comment, response_ms, resolution_ms, duplicate_of, \
    q_need, q_cause, q_plan, q_progress, q_outcome, attributes, token, created_at, updated_at";

impl Ticket {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Submitted)
    }

    pub fn facts(&self) -> Facts {
        Facts {
            grid_id: self.grid_id.unwrap_or(0),
            category_id: self.category_id,
            status: self.status(),
            on_time: self.resolved_at.is_some_and(|r| r <= self.due_at),
            responded: self.accepted_at.is_some(),
            rating: self.rating,
            response_ms: self.response_ms,
            resolution_ms: self.resolution_ms,
        }
    }

    pub fn is_overdue(&self, now: i64) -> bool {
        self.status().is_open() && now > self.due_at
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct Category {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub grp: String,
    pub description: Option<String>,
    pub deadline_hours: i64,
    pub handler_kind: String,
    pub handler_team_id: Option<i64>,
    pub handler_unit_id: Option<i64>,
    pub handler_user_id: Option<i64>,
    pub attributes: Option<Json<Value>>,
}

impl Category {
    pub fn handler(&self) -> Option<Handler> {
        Handler::from_parts(&self.handler_kind, self.handler_team_id, self.handler_unit_id, self.handler_user_id)
    }
}

const CATEGORY_COLUMNS: &str = "id, code, name, grp, description, deadline_hours, handler_kind, handler_team_id, handler_unit_id, handler_user_id, attributes";

/// The community's categories in use, by code.
pub async fn categories(ex: &mut impl Exec, community_id: i64) -> AppResult<Vec<Category>> {
    Ok(query(format!(
        "SELECT {CATEGORY_COLUMNS} FROM ticket_categories WHERE community_id = $1 AND archived_at IS NULL ORDER BY code"
    ))
    .bind(community_id)
    .fetch_all(ex)
    .await?)
}

/// Gives a community without categories the default set (urban-management event
/// classes and community services).
pub async fn ensure_categories(tx: &mut Tx, community_id: i64) -> AppResult<()> {
    let have: i64 =
        query("SELECT COUNT(*) FROM ticket_categories WHERE community_id = $1").bind(community_id).scalar(tx).await?;
    if have > 0 {
        return Ok(());
    }
    let ids = tx.next_ids(super::DEFAULT_CATEGORIES.len()).await?;
    let now = now_ms();
    let rows = super::DEFAULT_CATEGORIES
        .iter()
        .zip(ids)
        .map(|(c, id)| {
            vec![
                community_id.into(),
                id.into(),
                c.code.into(),
                c.name.into(),
                c.group.into(),
                c.description.into(),
                c.hours.into(),
                now.into(),
                now.into(),
            ]
        })
        .collect();
    insert_many(
        tx,
        "ticket_categories",
        &["community_id", "id", "code", "name", "grp", "description", "deadline_hours", "created_at", "updated_at"],
        rows,
    )
    .await?;
    Ok(())
}

/// Gives every community without categories the defaults (at start, after migrations).
pub async fn ensure_all_categories(db: &Db) -> AppResult<()> {
    // Every community at once: a look over all shards, then one community at a time.
    let mut conn = db.span(crate::db::citus::Span::Maintenance).await?;
    let all: Vec<i64> = query("SELECT id FROM communities ORDER BY id").scalars(&mut conn).await?;
    let with: std::collections::HashSet<i64> =
        query("SELECT DISTINCT community_id FROM ticket_categories").scalars(&mut conn).await?.into_iter().collect();
    drop(conn);
    let missing = all.into_iter().filter(|c| !with.contains(c));
    for c in missing {
        let mut tx = db.begin().await?;
        ensure_categories(&mut tx, c).await?;
        tx.commit().await?;
    }
    Ok(())
}

// ---------- the runtime: cached directory of categories and grids ----------

/// A grid as routing needs it.
pub struct GridShape {
    pub id: i64,
    pub name: String,
    pub worker: Option<i64>,
    pub area: Option<geo::MultiPolygon<f64>>,
}

/// What submitting needs of a community, read once and kept for a few seconds.
pub struct Directory {
    pub categories: Vec<Category>,
    pub grids: Vec<GridShape>,
}

impl Directory {
    /// The grid whose polygon holds the point.
    pub fn grid_at(&self, lng: f64, lat: f64) -> Option<&GridShape> {
        let p = geo::Point::new(lng, lat);
        self.grids.iter().find(|g| g.area.as_ref().is_some_and(|a| a.contains(&p)))
    }

    pub fn grid(&self, id: i64) -> Option<&GridShape> {
        self.grids.iter().find(|g| g.id == id)
    }
}

fn to_area(v: &Value) -> Option<geo::MultiPolygon<f64>> {
    let g: geojson::Geometry = serde_json::from_value(v.clone()).ok()?;
    match geo::Geometry::<f64>::try_from(g).ok()? {
        geo::Geometry::Polygon(p) => Some(geo::MultiPolygon(vec![p])),
        geo::Geometry::MultiPolygon(m) => Some(m),
        _ => None,
    }
}

/// How long a community's directory is trusted (other processes' changes show after this).
const DIRECTORY_TTL: Duration = Duration::from_secs(5);

/// The tickets capability's process-wide parts.
#[derive(Default)]
pub struct Runtime {
    /// Per community: when read, at which record generation, and what.
    directories: Mutex<HashMap<i64, (Instant, u64, Arc<Directory>)>>,
    pub(super) submissions: tokio::sync::OnceCell<crate::db::group::Committer<super::open311::Submissions>>,
    /// Open311 clients name a community by its code and prove themselves by a key on
    /// every request; both are kept for a few seconds.
    communities: Mutex<HashMap<String, (Instant, u64, Option<crate::auth::guard::CommunityRef>)>>,
    keys: Mutex<HashMap<Vec<u8>, (Instant, Option<i64>)>>,
    /// Open311 listings as answered, by query.
    pub(super) lists: super::open311::Answers,
}

impl Runtime {
    pub async fn directory(&self, db: &Db, community_id: i64) -> AppResult<Arc<Directory>> {
        let generation = crate::services::records::store::GENERATION.load(std::sync::atomic::Ordering::Relaxed);
        if let Some((at, g, d)) = self.directories.lock().expect("lock").get(&community_id)
            && at.elapsed() < DIRECTORY_TTL
            && *g == generation
        {
            return Ok(d.clone());
        }
        let mut conn = db.read().await?;
        let categories = categories(&mut conn, community_id).await?;
        let rows: Vec<(i64, String, Option<i64>, Option<Json<Value>>)> = query(
            "SELECT id, name, worker_user_id, polygon FROM grids WHERE community_id = $1 AND archived_at IS NULL ORDER BY id",
        )
        .bind(community_id)
        .fetch_all(&mut conn)
        .await?;
        let grids = rows
            .into_iter()
            .map(|(id, name, worker, poly)| GridShape { id, name, worker, area: poly.and_then(|p| to_area(&p.0)) })
            .collect();
        let d = Arc::new(Directory { categories, grids });
        self.directories.lock().expect("lock").insert(community_id, (Instant::now(), generation, d.clone()));
        Ok(d)
    }

    /// The community with this code.
    pub async fn community(&self, db: &Db, code: &str) -> AppResult<Option<crate::auth::guard::CommunityRef>> {
        let generation = crate::services::records::store::GENERATION.load(std::sync::atomic::Ordering::Relaxed);
        if let Some((at, g, c)) = self.communities.lock().expect("lock").get(code)
            && at.elapsed() < DIRECTORY_TTL
            && *g == generation
        {
            return Ok(c.clone());
        }
        let mut conn = db.read().await?;
        let c = crate::auth::guard::community_by_code(&mut conn, code).await?;
        self.communities.lock().expect("lock").insert(code.to_string(), (Instant::now(), generation, c.clone()));
        Ok(c)
    }

    /// The community an API key (by its hash) belongs to, if it is valid. A revoked key
    /// stops working within the cache's few seconds.
    pub async fn api_key(&self, db: &Db, hash: Vec<u8>) -> AppResult<Option<i64>> {
        if let Some((at, c)) = self.keys.lock().expect("lock").get(&hash)
            && at.elapsed() < DIRECTORY_TTL
        {
            return Ok(*c);
        }
        let mut conn = db.read().await?;
        let c: Option<i64> = query("SELECT community_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(hash.clone())
            .scalar_optional(&mut conn)
            .await?;
        self.keys.lock().expect("lock").insert(hash, (Instant::now(), c));
        Ok(c)
    }
}

// ---------- submitting ----------

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
    let dir = super::runtime(state).directory(&state.db, community_id).await?;
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
        due_at: at + category.deadline_hours * super::HOUR_MS,
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

/// The users of a team's or unit's pool.
pub async fn pool_members(
    ex: &mut impl Exec,
    community_id: i64,
    team: Option<i64>,
    unit: Option<i64>,
) -> AppResult<Vec<i64>> {
    let mut out = Vec::new();
    if let Some(t) = team {
        out.extend(
            query("SELECT user_id FROM team_members WHERE community_id = $1 AND team_id = $2")
                .bind(community_id)
                .bind(t)
                .scalars::<i64>(ex)
                .await?,
        );
    }
    if let Some(u) = unit {
        out.extend(
            query(
                "SELECT user_id FROM grants WHERE role = 'partner_unit' AND community_id = $1 AND partner_unit_id = $2",
            )
            .bind(community_id)
            .bind(u)
            .scalars::<i64>(ex)
            .await?,
        );
    }
    Ok(out)
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
        let phone = p
            .new
            .caller_phone
            .as_deref()
            .filter(|x| !x.trim().is_empty())
            .and_then(|x| crate::services::pii::normalize_phone(x).ok())
            .map(|x| pii.seal_phone(&x));
        tickets.push(vec![
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
        ]);
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
        let facts = Facts {
            grid_id: p.grid_id.unwrap_or(0),
            category_id: p.category_id,
            status: p.status,
            on_time: false,
            responded: false,
            rating: None,
            response_ms: None,
            resolution_ms: None,
        };
        for (g, c, m, d) in super::tally_delta(None, &facts) {
            *tallies.entry((p.community_id, g, c, m)).or_default() += d;
        }
        let note = notify::Note::new(p.community_id, Some(super::subject(id)), "new", format!("新工单 #{id}"));
        notes.push((note, p.recipients.clone()));
    }
    insert_many(
        tx,
        "tickets",
        &[
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
        ],
        tickets,
    )
    .await?;
    insert_many(tx, "ticket_events", &EVENT_COLUMNS, events).await?;
    apply_tallies(tx, tallies.into_iter().map(|((c, g, cat, m), d)| (c, g, cat, m, d)).collect()).await?;
    notify::send_many(tx, bus, notes).await?;
    Ok(out)
}

pub(super) const EVENT_COLUMNS: [&str; 11] = [
    "community_id",
    "id",
    "ticket_id",
    "at",
    "actor_user_id",
    "actor_name",
    "action",
    "from_status",
    "to_status",
    "note",
    "data",
];

#[allow(clippy::too_many_arguments)]
pub(super) fn event_row(
    c: i64,
    id: i64,
    ticket: i64,
    at: i64,
    actor: Option<i64>,
    name: &str,
    action: Action,
    from: Option<Status>,
    to: Status,
    note: Option<&str>,
) -> Vec<Arg> {
    vec![
        c.into(),
        id.into(),
        ticket.into(),
        at.into(),
        actor.into(),
        name.into(),
        action.as_str().into(),
        from.map(Status::as_str).into(),
        to.as_str().into(),
        note.map(str::to_string).into(),
        Arg::Json(None),
    ]
}

/// Adds deltas to the statistics tallies (creating rows as needed).
/// Bumped once a change to any ticket has committed, so that cached public lists (the
/// Open311 listing) know to read again.
pub static CHANGES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Marks that `tx` changes tickets.
pub(super) fn changed(tx: &mut Tx) {
    tx.after_commit(|| {
        CHANGES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
}

pub(super) async fn apply_tallies(tx: &mut Tx, deltas: Vec<(i64, i64, i64, String, i64)>) -> AppResult<()> {
    for (c, g, cat, metric, d) in deltas {
        query(
            "INSERT INTO ticket_tallies (community_id, grid_id, category_id, metric, n) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (community_id, grid_id, category_id, metric) DO UPDATE SET n = ticket_tallies.n + excluded.n",
        )
        .bind(c)
        .bind(g)
        .bind(cat)
        .bind(metric)
        .bind(d)
        .execute(tx)
        .await?;
    }
    Ok(())
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

// ---------- reading ----------

pub async fn fetch(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Option<Ticket>> {
    Ok(query(format!("SELECT {COLUMNS} FROM tickets WHERE community_id = $1 AND id = $2"))
        .bind(community_id)
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// The teams (in this community) the actor is a member of.
pub async fn my_teams(ex: &mut impl Exec, community_id: i64, user_id: i64) -> AppResult<Vec<i64>> {
    Ok(query("SELECT team_id FROM team_members WHERE community_id = $1 AND user_id = $2")
        .bind(community_id)
        .bind(user_id)
        .scalars(ex)
        .await?)
}

fn my_units(actor: &Actor, community_id: i64) -> Vec<i64> {
    actor
        .grants
        .iter()
        .filter(|g| g.role() == Role::PartnerUnit && g.community_id == Some(community_id))
        .filter_map(|g| g.partner_unit_id)
        .collect()
}

fn my_grids(actor: &Actor, community_id: i64) -> Vec<i64> {
    actor
        .grants
        .iter()
        .filter(|g| g.role() == Role::GridWorker && g.community_id == Some(community_id))
        .filter_map(|g| g.grid_id)
        .collect()
}

fn is_staff(actor: &Actor, community_id: i64) -> bool {
    actor.grants.iter().any(|g| {
        matches!(g.role(), Role::CommunityStaff | Role::CommunitySecretary) && g.community_id == Some(community_id)
    })
}

fn is_overseer(actor: &Actor, community_id: i64) -> bool {
    actor.is_platform_admin()
        || (actor.has_role(Role::SubdistrictAdmin) && actor.can(community_id, Permission::ViewPlaces))
}

/// How the actor stands to a ticket.
pub async fn standing(ex: &mut impl Exec, actor: &Actor, t: &Ticket) -> AppResult<Standing> {
    let c = t.community_id;
    let units = my_units(actor, c);
    let in_pool_team = match t.pool_team_id {
        Some(team) if t.status() == Status::Dispatched => my_teams(ex, c, actor.user_id).await?.contains(&team),
        _ => false,
    };
    let in_pool_unit = t.status() == Status::Dispatched && t.pool_unit_id.is_some_and(|u| units.contains(&u));
    let called_in = if units.is_empty() {
        false
    } else {
        let mut b = Builder::new("SELECT COUNT(*) FROM ticket_whistles WHERE community_id = ");
        b.arg(c)
            .push(" AND ticket_id = ")
            .arg(t.id)
            .push(" AND responded_at IS NULL AND unit_id IN ")
            .list(units.iter().copied());
        b.build().scalar::<i64>(ex).await? > 0
    };
    Ok(Standing {
        staff: is_staff(actor, c),
        owner: t.owner_user_id == Some(actor.user_id),
        submitter: t.submitter_user_id == Some(actor.user_id),
        pool_member: in_pool_team || in_pool_unit,
        grid_worker: t.grid_id.is_some_and(|g| my_grids(actor, c).contains(&g)),
        called_in,
        overseer: is_overseer(actor, c),
    })
}

/// One ticket, if the actor may see it, with their standing.
pub async fn get(db: &Db, actor: &Actor, community_id: i64, id: i64) -> AppResult<(Ticket, Standing)> {
    let mut conn = db.read().await?;
    let t = fetch(&mut conn, community_id, id).await?.ok_or(AppError::NotFound)?;
    let s = standing(&mut conn, actor, &t).await?;
    if !s.may_see() {
        return Err(AppError::NotFound);
    }
    Ok((t, s))
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct Event {
    pub at: i64,
    pub actor_name: String,
    pub action: String,
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
}

pub async fn history(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Vec<Event>> {
    Ok(query("SELECT at, actor_name, action, from_status, to_status, note FROM ticket_events WHERE community_id = $1 AND ticket_id = $2 ORDER BY at, id")
        .bind(community_id)
        .bind(id)
        .fetch_all(ex)
        .await?)
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Serialize)]
pub struct Whistle {
    pub id: i64,
    pub unit_id: Option<i64>,
    pub unit_name: Option<String>,
    pub department: Option<String>,
    pub called_at: i64,
    pub note: Option<String>,
    pub responded_at: Option<i64>,
    pub response: Option<String>,
}

pub async fn whistles(ex: &mut impl Exec, community_id: i64, id: i64) -> AppResult<Vec<Whistle>> {
    Ok(query(
        "SELECT w.id, w.unit_id, u.name AS unit_name, w.department, w.called_at, w.note, w.responded_at, w.response
         FROM ticket_whistles w LEFT JOIN partner_units u ON u.community_id = w.community_id AND u.id = w.unit_id
         WHERE w.community_id = $1 AND w.ticket_id = $2 ORDER BY w.called_at, w.id",
    )
    .bind(community_id)
    .bind(id)
    .fetch_all(ex)
    .await?)
}

/// Which tickets a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum View {
    /// Submitted by me.
    Mine,
    /// Mine to do (I am the owner).
    Work,
    /// In a pool I can take from.
    Pool,
    /// In my grids.
    Grid,
    /// The whole community (staff) or subdistrict (administrators).
    All,
}

impl View {
    pub const ALL: [View; 5] = [View::Work, View::Pool, View::Grid, View::Mine, View::All];

    pub fn as_str(self) -> &'static str {
        match self {
            View::Mine => "mine",
            View::Work => "work",
            View::Pool => "pool",
            View::Grid => "grid",
            View::All => "all",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub status: Option<Status>,
    /// Every open state.
    pub open: bool,
    pub category_id: Option<i64>,
    pub grid_id: Option<i64>,
    pub overdue: bool,
    /// Created on or after (ms).
    pub from: Option<i64>,
    /// Created before (ms).
    pub to: Option<i64>,
    pub q: Option<String>,
    pub channel: Option<Channel>,
}

/// Adds the view's scope over `community_ids`; `Err(NotFound)` when the actor has no such
/// view there.
async fn push_view(
    ex: &mut impl Exec,
    b: &mut Builder,
    actor: &Actor,
    community_ids: &[i64],
    view: View,
) -> AppResult<()> {
    match view {
        View::Mine => {
            b.push(" AND community_id IN ").list(community_ids.iter().copied());
            b.push(" AND submitter_user_id = ").arg(actor.user_id);
        }
        View::Work => {
            b.push(" AND community_id IN ").list(community_ids.iter().copied());
            b.push(" AND owner_user_id = ").arg(actor.user_id);
        }
        View::Pool => {
            let [c] = community_ids else { return Err(AppError::NotFound) };
            let teams = my_teams(ex, *c, actor.user_id).await?;
            let units = my_units(actor, *c);
            b.push(" AND community_id = ").arg(*c).push(" AND status = 'dispatched' AND (pool_team_id IN ").list(teams);
            b.push(" OR pool_unit_id IN ").list(units).push(")");
        }
        View::Grid => {
            let [c] = community_ids else { return Err(AppError::NotFound) };
            let grids = my_grids(actor, *c);
            if grids.is_empty() {
                return Err(AppError::NotFound);
            }
            b.push(" AND community_id = ").arg(*c).push(" AND grid_id IN ").list(grids);
        }
        View::All => {
            if community_ids.iter().any(|c| !is_staff(actor, *c) && !is_overseer(actor, *c)) || community_ids.is_empty()
            {
                return Err(AppError::NotFound);
            }
            b.push(" AND community_id IN ").list(community_ids.iter().copied());
        }
    }
    Ok(())
}

fn push_filters(b: &mut Builder, f: &Filters, now: i64) {
    if let Some(s) = f.status {
        b.push(" AND status = ").arg(s.as_str());
    } else if f.open {
        b.push(" AND status IN ('submitted', 'dispatched', 'accepted', 'in_progress', 'reopened')");
    }
    if let Some(c) = f.category_id {
        b.push(" AND category_id = ").arg(c);
    }
    if let Some(g) = f.grid_id {
        b.push(" AND grid_id = ").arg(g);
    }
    if f.overdue {
        b.push(" AND status IN ('submitted', 'dispatched', 'accepted', 'in_progress', 'reopened') AND due_at < ")
            .arg(now);
    }
    if let Some(from) = f.from {
        b.push(" AND created_at >= ").arg(from);
    }
    if let Some(to) = f.to {
        b.push(" AND created_at < ").arg(to);
    }
    if let Some(ch) = f.channel {
        b.push(" AND channel = ").arg(ch.as_str());
    }
    if let Some(q) = f.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        match q.trim_start_matches('#').parse::<i64>() {
            Ok(id) => {
                b.push(" AND id = ").arg(id);
            }
            Err(_) => {
                let pattern = format!("%{}%", crate::db::escape_like(q));
                b.push(" AND (description LIKE ")
                    .arg(pattern.clone())
                    .push(" ESCAPE '\\' OR address LIKE ")
                    .arg(pattern)
                    .push(" ESCAPE '\\')");
            }
        }
    }
}

pub struct ListPage {
    pub items: Vec<Ticket>,
    pub total: i64,
}

/// A page of tickets, newest first.
pub async fn list(
    db: &Db,
    actor: &Actor,
    community_ids: &[i64],
    view: View,
    f: &Filters,
    page: u32,
    per_page: u32,
) -> AppResult<ListPage> {
    let per_page = per_page.clamp(1, 500);
    let page = page.max(1);
    let mut conn = db.read_over(community_ids).await?;
    let mut b = Builder::new(" FROM tickets WHERE 1 = 1");
    push_view(&mut conn, &mut b, actor, community_ids, view).await?;
    push_filters(&mut b, f, now_ms());
    let count = query(format!("SELECT COUNT(*){}", b.sql)).bind_all(b.args.clone()).scalar::<i64>(&mut conn).await?;
    b.sql = format!(
        "SELECT {COLUMNS}{} ORDER BY created_at DESC, id DESC LIMIT {per_page} OFFSET {}",
        b.sql,
        u64::from(page - 1) * u64::from(per_page)
    );
    let items = b.build().fetch_all(&mut conn).await?;
    Ok(ListPage { items, total: count })
}

// ---------- acting on a ticket ----------

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
    let mut tx = state.db.begin().await?;
    let t = fetch(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    let standing = standing(&mut tx, actor, &t).await?;
    // Someone from the pool who was a moment too late is told so, not "not found".
    if action == Action::Accept && t.status() != Status::Dispatched && t.owner_user_id != Some(actor.user_id) {
        let team_member = match t.pool_team_id {
            Some(team) => my_teams(&mut tx, community_id, actor.user_id).await?.contains(&team),
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
    let from = t.status();
    let to = match action {
        Action::Rate => {
            super::after_rating(input.rating.unwrap_or(5), t.reopen_count, reopen_limit(&mut tx, community_id).await?)
        }
        Action::Note if has_questions(&input) => from,
        _ => next_status(from, action).map_err(|k| AppError::Invalid(vec![FieldError::new("action", k)]))?,
    };
    let now = now_ms();
    let mut set = Builder::new("UPDATE tickets SET updated_at = ");
    set.arg(now).push(", status = ").arg(to.as_str());
    let mut owner = t.owner_user_id;
    let (mut pool_team, mut pool_unit) = (t.pool_team_id, t.pool_unit_id);
    let mut data = json!({});
    match action {
        Action::Dispatch | Action::Reassign => {
            let targets = [input.owner_user_id.is_some(), input.team_id.is_some(), input.unit_id.is_some()]
                .iter()
                .filter(|x| **x)
                .count();
            if targets != 1 {
                return Err(AppError::field("owner_user_id", "ticket.one_target"));
            }
            if action == Action::Reassign && input.owner_user_id.is_none() {
                return Err(AppError::field("owner_user_id", "validation.required"));
            }
            check_target(&mut tx, community_id, &input).await?;
            owner = input.owner_user_id;
            pool_team = input.team_id;
            pool_unit = input.unit_id;
            set.push(", owner_user_id = ")
                .arg(owner)
                .push(", pool_team_id = ")
                .arg(pool_team)
                .push(", pool_unit_id = ")
                .arg(pool_unit);
            data = json!({"owner_user_id": owner, "team_id": pool_team, "unit_id": pool_unit});
        }
        Action::Accept => {
            owner = Some(actor.user_id);
            // The first response counts, not a later one after a reopening.
            set.push(", owner_user_id = ").arg(actor.user_id).push(", accepted_at = COALESCE(accepted_at, ").arg(now);
            set.push("), response_ms = COALESCE(response_ms, ").arg(now - t.created_at).push(")");
        }
        Action::Resolve => {
            set.push(", resolved_at = ").arg(now).push(", resolution_ms = ").arg(now - t.created_at);
        }
        Action::Rate => {
            set.push(", rating = ").arg(input.rating).push(", rating_comment = ").arg(note.clone());
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
            let of = input.duplicate_of.ok_or_else(|| AppError::field("duplicate_of", "validation.required"))?;
            if of == id || fetch(&mut tx, community_id, of).await?.is_none() {
                return Err(AppError::field("duplicate_of", "validation.reference"));
            }
            set.push(", duplicate_of = ").arg(of);
            data = json!({"duplicate_of": of});
        }
        Action::FollowUp => {
            data = json!({"satisfied": input.satisfied});
        }
        Action::Whistle => {
            let dept = input.department.clone().map(|d| d.trim().to_string()).filter(|d| !d.is_empty());
            if input.unit_id.is_none() && dept.is_none() {
                return Err(AppError::field("unit_id", "ticket.whistle_target"));
            }
            if let Some(u) = input.unit_id {
                let exists: Option<i64> =
                    query("SELECT id FROM partner_units WHERE community_id = $1 AND id = $2 AND archived_at IS NULL")
                        .bind(community_id)
                        .bind(u)
                        .scalar_optional(&mut tx)
                        .await?;
                if exists.is_none() {
                    return Err(AppError::field("unit_id", "validation.reference"));
                }
            }
            let wid = tx.next_id().await?;
            query("INSERT INTO ticket_whistles (community_id, id, ticket_id, unit_id, department, called_by, called_at, note) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                .bind(community_id)
                .bind(wid)
                .bind(id)
                .bind(input.unit_id)
                .bind(dept.clone())
                .bind(actor.user_id)
                .bind(now)
                .bind(note.clone())
                .execute(&mut tx)
                .await?;
            data = json!({"unit_id": input.unit_id, "department": dept});
        }
        Action::Respond => {
            let units = my_units(actor, community_id);
            let mut b = Builder::new("UPDATE ticket_whistles SET responded_at = ");
            b.arg(now).push(", responder_user_id = ").arg(actor.user_id).push(", response = ").arg(note.clone());
            b.push(" WHERE community_id = ")
                .arg(community_id)
                .push(" AND ticket_id = ")
                .arg(id)
                .push(" AND responded_at IS NULL AND unit_id IN ")
                .list(units);
            if b.build().execute(&mut tx).await? == 0 {
                return Err(AppError::Conflict("ticket.changed"));
            }
        }
        Action::Note | Action::Start | Action::Reject | Action::Escalate | Action::Submit => {}
    }
    if has_questions(&input) {
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
    }
    // Optimistic: the row must be as we read it. Whoever changed it first wins.
    set.push(" WHERE community_id = ")
        .arg(community_id)
        .push(" AND id = ")
        .arg(id)
        .push(" AND status = ")
        .arg(from.as_str());
    set.push(" AND updated_at = ").arg(t.updated_at);
    changed(&mut tx);
    if set.build().execute(&mut tx).await? == 0 {
        return Err(AppError::Conflict(if action == Action::Accept {
            "ticket.already_taken"
        } else {
            "ticket.changed"
        }));
    }
    let after = fetch(&mut tx, community_id, id).await?.ok_or(AppError::NotFound)?;
    apply_tallies(
        &mut tx,
        super::tally_delta(Some(&t.facts()), &after.facts())
            .into_iter()
            .map(|(g, c, m, d)| (community_id, g, c, m, d))
            .collect(),
    )
    .await?;
    let eid = tx.next_id().await?;
    let mut row = event_row(
        community_id,
        eid,
        id,
        now,
        Some(actor.user_id),
        &actor.display_name,
        action,
        Some(from),
        to,
        note.as_deref(),
    );
    row[10] = Arg::Json((data != json!({})).then_some(data));
    insert_many(&mut tx, "ticket_events", &EVENT_COLUMNS, vec![row]).await?;
    if !photos.is_empty() {
        media::attach(state, &mut tx, community_id, "ticket", id, Some(actor.user_id), &photos).await?;
    }
    if action == Action::Resolve {
        let errand = crate::capabilities::points::store::Errand {
            ticket_id: after.id,
            description: &after.description,
            address: after.address.clone(),
            team_id: after.pool_team_id,
            started_at: after.accepted_at.unwrap_or(after.created_at),
            ended_at: after.resolved_at.unwrap_or_else(now_ms),
        };
        crate::capabilities::points::store::from_ticket(state, &mut tx, actor, community_id, errand).await?;
    }
    // Tell those concerned (not the actor).
    let mut users: Vec<i64> = [owner, t.owner_user_id, after.submitter_user_id].into_iter().flatten().collect();
    if after.status() == Status::Dispatched {
        users.extend(pool_members(&mut tx, community_id, pool_team, pool_unit).await?);
    }
    if let Some(g) = after.grid_id {
        users.extend(
            query("SELECT worker_user_id FROM grids WHERE community_id = $1 AND id = $2")
                .bind(community_id)
                .bind(g)
                .scalar::<Option<i64>>(&mut tx)
                .await?,
        );
    }
    if action == Action::Whistle
        && let Some(u) = input.unit_id
    {
        users.extend(pool_members(&mut tx, community_id, None, Some(u)).await?);
    }
    users.sort_unstable();
    users.dedup();
    users.retain(|u| *u != actor.user_id);
    let text =
        format!("工单 #{id}: {}", crate::i18n::t(crate::i18n::Lang::Zh, &format!("ticket.action.{}", action.as_str())));
    let note = notify::Note::new(community_id, Some(super::subject(id)), action.as_str(), text);
    notify::send(&mut tx, &state.bus, note, notify::Audience::Users(users)).await?;
    tx.commit().await?;
    Ok(after)
}

fn has_questions(i: &ActionInput) -> bool {
    [&i.q_need, &i.q_cause, &i.q_plan, &i.q_progress, &i.q_outcome].iter().any(|q| q.is_some())
}

async fn reopen_limit(tx: &mut Tx, community_id: i64) -> AppResult<i64> {
    crate::services::settings::int(tx, community_id, &super::REOPEN_LIMIT).await
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

/// Whether the actor may see the ticket a photo belongs to (for `media`).
pub fn media_check<'a>(
    state: &'a AppState,
    actor: &'a Actor,
    m: &'a media::Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(async move { media::seen(get(&state.db, actor, m.community_id, m.owner_id).await) })
}
