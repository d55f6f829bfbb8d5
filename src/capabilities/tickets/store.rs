//! Tickets in the database. Every function takes the community first and works out the
//! actor's standing to the ticket itself: outside it, a ticket does not exist.

mod access;
mod acting;
mod category;
mod listing;
mod reading;
mod runtime;
mod submitting;

pub use access::{my_teams, pool_members, standing};
pub use acting::{ActionInput, act};
pub use category::{Category, categories, ensure_all_categories, ensure_categories};
pub use listing::{Filters, ListPage, Sort, View, list};
pub use reading::{Event, Whistle, fetch, get, history, whistles};
pub use runtime::{Directory, GridShape, Runtime};
pub use submitting::{NewTicket, Prepared, by_idempotency_key, check_new, prepare, submit, write};

use serde_json::Value;
use sqlx::types::Json;

use super::{Action, Facts, Status};
use crate::auth::model::Actor;
use crate::db::{Arg, Tx, query};
use crate::error::AppResult;
use crate::services::media;
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

/// Whether the actor may see the ticket a photo belongs to (for `media`).
pub fn media_check<'a>(
    state: &'a AppState,
    actor: &'a Actor,
    m: &'a media::Media,
) -> futures::future::BoxFuture<'a, AppResult<bool>> {
    Box::pin(async move { media::seen(get(&state.db, actor, m.community_id, m.owner_id).await) })
}
