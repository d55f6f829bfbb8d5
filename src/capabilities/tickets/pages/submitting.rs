//! Submitting a ticket from a signed-in page: the form (its channel chosen by who fills it
//! in) and what it posts.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use serde_json::{Map, Value};

use super::{opt_f64, opt_i64, opt_text, photos_of};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Role};
use crate::capabilities::tickets::Channel;
use crate::capabilities::tickets::store::{self, NewTicket};
use crate::db::query;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::form::{CsrfMultipart, query_param, text};
use crate::web::{Notice, PageCtx, PageResult, SignedPage, done};

#[derive(Template)]
#[template(path = "tickets/new.html")]
struct NewTemplate {
    ctx: PageCtx,
    title: String,
    action: String,
    community: String,
    categories: Vec<(String, String, bool)>,
    households: Vec<(String, String, bool)>,
    household_hint: String,
    form: Map<String, Value>,
    errors: std::collections::BTreeMap<String, String>,
    hotline: bool,
    public: bool,
    channel: String,
}

impl NewTemplate {
    fn channel_label(&self) -> String {
        self.ctx.t(&format!("ticket.channel.{}", self.channel))
    }

    fn value(&self, k: &str) -> String {
        text(&self.form, k)
    }

    fn error(&self, k: &str) -> Option<&String> {
        self.errors.get(k)
    }
}

/// The channel a signed-in person submits by: staff take hotline calls, grid workers
/// are on patrol, everyone else on the phone page.
fn channel_for(actor: &Actor, community_id: i64, asked: Option<&str>) -> Channel {
    let staff = actor.grants.iter().any(|g| {
        matches!(g.role(), Role::CommunityStaff | Role::CommunitySecretary) && g.community_id == Some(community_id)
    });
    let grid = actor.grants.iter().any(|g| g.role() == Role::GridWorker && g.community_id == Some(community_id));
    match asked.and_then(Channel::parse) {
        Some(Channel::Hotline) if staff => Channel::Hotline,
        Some(Channel::Patrol) if grid || staff => Channel::Patrol,
        _ if grid => Channel::Patrol,
        _ => Channel::Web,
    }
}

pub(super) async fn new_form(
    state: &AppState,
    ctx: PageCtx,
    c: &CommunityRef,
    actor: Option<&Actor>,
    form: Map<String, Value>,
    err: Option<&AppError>,
    action: String,
) -> PageResult {
    let mut conn = state.db.read().await?;
    let cats = store::categories(&mut conn, c.id).await?;
    let cur = text(&form, "category_id");
    let mut categories = vec![(String::new(), ctx.t("common.choose"), cur.is_empty())];
    categories.extend(cats.iter().map(|k| (k.id.to_string(), k.name.clone(), cur == k.id.to_string())));
    // A resident picks from their own household(s); others type a number or use the map.
    let own: Vec<i64> = actor
        .map(|a| {
            a.grants
                .iter()
                .filter(|g| g.role() == Role::Resident && g.community_id == Some(c.id))
                .filter_map(|g| g.household_id)
                .collect()
        })
        .unwrap_or_default();
    let cur_h = text(&form, "household_id");
    let mut households = Vec::new();
    for h in &own {
        let addr: Option<String> = query("SELECT address FROM households WHERE community_id = $1 AND id = $2")
            .bind(c.id)
            .bind(*h)
            .scalar_optional(&mut conn)
            .await?;
        households.push((h.to_string(), addr.unwrap_or_default(), cur_h == h.to_string() || own.len() == 1));
    }
    let household_hint = if let Ok(h) = cur_h.parse::<i64>() {
        query("SELECT address FROM households WHERE community_id = $1 AND id = $2")
            .bind(c.id)
            .bind(h)
            .scalar_optional::<String>(&mut conn)
            .await?
            .unwrap_or_default()
    } else {
        String::new()
    };
    drop(conn);
    let channel = match actor {
        Some(a) => channel_for(a, c.id, opt_text(&form, "channel").as_deref()),
        None => Channel::Plate,
    };
    let errors = err.map(|e| e.field_messages(ctx.lang)).unwrap_or_default();
    let status = if err.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    let html = NewTemplate {
        title: ctx.t("ticket.new"),
        community: c.name.clone(),
        categories,
        households,
        household_hint,
        hotline: channel == Channel::Hotline,
        public: actor.is_none(),
        channel: channel.as_str().into(),
        form,
        errors,
        action,
        ctx,
    }
    .render()?;
    Ok((status, Html(html)).into_response())
}

pub async fn new_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let mut form = Map::new();
    for k in ["household_id", "channel", "category_id", "lat", "lng"] {
        if let Some(v) = query_param(q.as_deref().unwrap_or(""), k) {
            form.insert(k.into(), Value::String(v));
        }
    }
    new_form(&state, ctx, &c, Some(&actor), form, None, format!("/c/{}/tickets", c.code)).await
}

pub(super) fn new_ticket(form: &Map<String, Value>, channel: Channel) -> AppResult<NewTicket> {
    Ok(NewTicket {
        category_id: opt_i64(form, "category_id")?,
        description: text(form, "description"),
        channel: Some(channel),
        household_id: opt_i64(form, "household_id")?,
        lat: opt_f64(form, "lat")?,
        lng: opt_f64(form, "lng")?,
        address: opt_text(form, "address"),
        submitter_name: opt_text(form, "submitter_name"),
        caller_phone: opt_text(form, "caller_phone"),
        attributes: None,
        idempotency_key: opt_text(form, "idempotency_key"),
    })
}

pub async fn create(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfMultipart { fields, files }: CsrfMultipart,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let channel = channel_for(&actor, c.id, opt_text(&fields, "channel").as_deref());
    let result = async {
        let mut new = new_ticket(&fields, channel)?;
        if channel == Channel::Hotline && new.submitter_name.is_none() {
            return Err(AppError::field("submitter_name", "validation.required"));
        }
        if channel != Channel::Hotline {
            new.submitter_name = None;
            new.caller_phone = None;
        }
        let photos = photos_of(files)?;
        store::submit(&state, c.id, Some(&actor), new, photos).await
    }
    .await;
    match result {
        Ok((t, _)) => Ok(done(&format!("/c/{}/tickets/{}", c.code, t.id), Notice::TicketSubmitted)),
        Err(e @ AppError::Invalid(_)) => {
            new_form(&state, ctx, &c, Some(&actor), fields, Some(&e), format!("/c/{}/tickets", c.code)).await
        }
        Err(e) => Err(e.into()),
    }
}
