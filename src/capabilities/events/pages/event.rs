//! One event's page: what it is, the actor's own sign-ups (a seat with its code and QR, a
//! place in the queue, a seat offered to claim), each session with its sign-up button (or
//! why not), and for staff adding sessions at chosen stations, signing someone up, the door
//! and publishing or calling off.

use askama::Template;
use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::{community, staff, status_tag, when};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::events::series::Repeat;
use crate::capabilities::events::store::{self, Event, Session, Signup, Whom};
use crate::capabilities::events::{EventStatus, SessionPlan, SessionStatus, SignupRole, SignupStatus, may_sign_up};
use crate::error::{AppError, AppResult};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Form, Input, InputKind, Qr, Refusal, Tag, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, render};

/// What an event's page is drawn from.
pub struct EventData {
    pub event: Event,
    pub sessions: Vec<Session>,
    /// The actor's sign-ups, each with its place in the queue when waiting.
    pub mine: Vec<(Signup, i64)>,
    /// The community's stations, for staff's form (empty for others).
    pub stations: Vec<(i64, String)>,
    pub photos: Vec<crate::services::media::Media>,
    pub now: i64,
}

async fn load(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<EventData> {
    let mut conn = state.db.read().await?;
    let event = store::event_for(&mut conn, actor, c.id, id).await?;
    let sessions = store::sessions(&mut conn, c.id, id).await?;
    let mut mine = Vec::new();
    for s in store::mine(&mut conn, actor, c.id, id).await? {
        let place = if s.status == SignupStatus::Waiting { store::queue_place(&mut conn, &s).await? } else { 0 };
        mine.push((s, place));
    }
    // Only staff add sessions at stations.
    let stations = if staff(actor, c) { store::stations(&mut conn, c.id).await? } else { Vec::new() };
    let photos = crate::services::media::of(&mut conn, c.id, "event", id).await?;
    Ok(EventData { event, sessions, mine, stations, photos, now: crate::db::now_ms() })
}

/// One of the actor's sign-ups as the page shows it.
pub struct MySignup {
    pub title: String,
    pub tag: Tag,
    pub lines: Vec<(String, String)>,
    pub qr: Option<Qr>,
    pub claim: Option<Form>,
    /// Given up while it can be (not once checked in or over).
    pub leave: Option<Form>,
    /// Rating the session, once over, by one who came.
    pub rate: Option<Form>,
}

/// What staff see besides.
pub struct StaffPart {
    pub add: Form,
    pub publish: Option<Form>,
    pub cancel: Option<Form>,
}

#[derive(Template)]
#[template(path = "events/event.html")]
pub struct EventPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub alert: Option<String>,
    pub tag: Tag,
    pub cells: Vec<(String, String)>,
    pub description: Option<String>,
    pub links: Vec<(String, String)>,
    pub mine: Vec<MySignup>,
    pub sessions_title: String,
    /// One sign-up form per session: its time and station, and why not when it cannot be.
    pub sessions: Vec<Form>,
    /// Signing up someone without a phone, for those who help at events.
    pub on_behalf: Option<Form>,
    /// Signing up to serve at a session, for volunteers.
    pub serve: Option<Form>,
    /// The report written after the event, and its photos.
    pub report: Option<String>,
    pub photos: Vec<crate::web::ui::Photo>,
    pub staff: Option<StaffPart>,
}

impl EventPage {
    fn forms(&self) -> Vec<&Form> {
        let mut out: Vec<&Form> = self.sessions.iter().collect();
        for m in &self.mine {
            out.extend([&m.leave, &m.claim, &m.rate].into_iter().flatten());
        }
        out.extend([&self.on_behalf, &self.serve].into_iter().flatten());
        if let Some(s) = &self.staff {
            out.push(&s.add);
            out.extend([&s.publish, &s.cancel].into_iter().flatten());
        }
        out
    }
}

fn span(s: &Session) -> String {
    format!("{}–{}", when(s.starts_at), crate::web::fmt::to_cst(s.ends_at).format("%H:%M"))
}

fn my_signup(ctx: &PageCtx, code: &str, s: &Signup, place: i64, now: i64, r: &Refusal) -> MySignup {
    let (tag, mut lines) = match s.status {
        SignupStatus::Pending => (Tag::new(ctx.t("events.signup.pending"), Tone::Orange), Vec::new()),
        SignupStatus::Seated => (Tag::new(ctx.t("events.signup.seated"), Tone::Green), Vec::new()),
        SignupStatus::Waiting => (
            Tag::new(ctx.t("events.signup.waiting"), Tone::Orange),
            vec![(ctx.t("events.queue_place"), ctx.tr("events.queue_place_n", "n", place))],
        ),
        SignupStatus::Offered => (
            Tag::new(ctx.t("events.signup.offered"), Tone::Blue),
            vec![(ctx.t("events.claim_by"), s.offered_until.map(when).unwrap_or_default())],
        ),
        SignupStatus::Cancelled => (Tag::new(ctx.t("events.signup.cancelled"), Tone::Grey), Vec::new()),
    };
    let seated = s.status == SignupStatus::Seated && s.checked_in_at.is_none() && s.ends_at > now;
    if s.role == SignupRole::Volunteer {
        lines.push((ctx.t("events.role"), ctx.t("events.role.volunteer")));
    }
    if seated {
        lines.push((ctx.t("events.code"), s.code.clone()));
    }
    if let Some(at) = s.checked_in_at {
        lines.push((ctx.t("events.checked_in_at"), when(at)));
    } else if s.no_show {
        lines.push((ctx.t("events.attendance"), ctx.t("events.no_show")));
    }
    if let Some(r) = s.rating {
        lines.push((ctx.t("events.rating"), "★".repeat(r.clamp(0, 5) as usize)));
    }
    let base = format!("/c/{code}/event-signups/{}", s.id);
    let over = s.ends_at <= now;
    MySignup {
        title: format!("{} · {}", when(s.starts_at), s.station),
        tag,
        lines,
        qr: if seated { Qr::new(ctx.t("events.code"), &s.code) } else { None },
        claim: (s.status == SignupStatus::Offered)
            .then(|| Form::new("", format!("{base}/claim"), ctx.t("events.claim"))),
        leave: (s.checked_in_at.is_none() && !over).then(|| {
            Form::new("", format!("{base}/cancel"), ctx.t("events.leave")).danger(ctx.t("events.leave_confirm"))
        }),
        rate: (over && s.checked_in_at.is_some() && s.role == SignupRole::Participant).then(|| {
            let stars = (1..=5).rev().map(|n| (n.to_string(), "★".repeat(n))).collect();
            Form::new(ctx.t("events.rate"), format!("{base}/rating"), ctx.t("events.rate_submit"))
                .input(
                    Input::new("rating", ctx.t("events.rating"), InputKind::Select(stars))
                        .required()
                        .value(s.rating.unwrap_or(5)),
                )
                .input(
                    Input::new("comment", ctx.t("events.comment"), InputKind::Text)
                        .value(s.comment.clone().unwrap_or_default()),
                )
                .folded()
                .refused(r)
        }),
    }
}

/// A session's sign-up button: 报名 while seats are free, 候补 when full, or why not.
fn session_form(ctx: &PageCtx, code: &str, d: &EventData, s: &Session) -> Form {
    let free = (s.capacity - s.held_back - s.taken).max(0);
    let submit =
        if free > 0 { ctx.tr("events.sign_up_free", "n", free) } else { ctx.tr("events.join_queue", "n", s.waiting) };
    let form =
        Form::new(format!("{} · {}", span(s), s.station), format!("/c/{code}/event-sessions/{}/sign-up", s.id), submit);
    let held = d.mine.iter().any(|(m, _)| m.session_id == s.id);
    match may_sign_up(d.event.status, s.status, s.starts_at, d.now) {
        Err(why) => form.unavailable(ctx.t(why)),
        Ok(()) if held => form.unavailable(ctx.t("events.already_signed_up")),
        Ok(()) => form,
    }
}

fn staff_part(ctx: &PageCtx, code: &str, d: &EventData, r: &Refusal) -> StaffPart {
    let id = d.event.id;
    let base = format!("/c/{code}/events/{id}");
    let stations = d.stations.iter().map(|(i, n)| (i.to_string(), n.clone())).collect();
    let mut repeats = vec![(String::new(), ctx.t("events.repeat.none"))];
    repeats
        .extend(Repeat::ALL.iter().map(|r| (r.as_str().to_string(), ctx.t(&format!("events.repeat.{}", r.as_str())))));
    let add = Form::new(ctx.t("events.add_sessions"), format!("{base}/sessions"), ctx.t("events.add_sessions_submit"))
        .input(
            Input::new("station_ids", ctx.t("events.stations"), InputKind::Many(stations))
                .required()
                .hint(ctx.t("events.stations_hint")),
        )
        .input(Input::new("starts_at", ctx.t("events.starts_at"), InputKind::DateTime).required())
        .input(Input::new("ends_at", ctx.t("events.ends_at"), InputKind::DateTime).required())
        .input(Input::new("capacity", ctx.t("events.capacity"), InputKind::Number).required())
        .input(
            Input::new("held_back", ctx.t("events.held_back"), InputKind::Number)
                .value(0)
                .hint(ctx.t("events.held_back_hint")),
        )
        .input(
            Input::new("repeat", ctx.t("events.repeat"), InputKind::Select(repeats))
                .value("")
                .hint(ctx.t("events.repeat_hint")),
        )
        .input(Input::new("times", ctx.t("events.times"), InputKind::Number).hint(ctx.t("events.times_hint")));
    let publish = (d.event.status == EventStatus::Draft).then(|| {
        Form::new("", format!("{base}/publish"), ctx.t("events.publish")).confirm(ctx.t("events.publish_confirm"))
    });
    let cancel = matches!(d.event.status, EventStatus::Draft | EventStatus::Published).then(|| {
        Form::new(ctx.t("events.cancel"), format!("{base}/cancel"), ctx.t("events.cancel_submit"))
            .danger(ctx.tr("events.cancel_confirm", "n", d.sessions.iter().map(|s| s.taken + s.waiting).sum::<i64>()))
            .folded()
    });
    StaffPart { add: add.folded().refused(r), publish, cancel }
}

/// The sessions still to come, to pick one (for a form that signs someone up), when the
/// event is open to sign-up.
fn open_sessions(d: &EventData) -> Option<Vec<(String, String)>> {
    let open: Vec<(String, String)> = d
        .sessions
        .iter()
        .filter(|s| s.status == SessionStatus::Scheduled && s.starts_at > d.now)
        .map(|s| (s.id.to_string(), format!("{} · {}", span(s), s.station)))
        .collect();
    (d.event.status == EventStatus::Published && !open.is_empty()).then_some(open)
}

/// Signing up someone without a phone into a session still to come, by name.
fn on_behalf_form(ctx: &PageCtx, code: &str, d: &EventData, r: &Refusal) -> Option<Form> {
    open_sessions(d).map(|open| {
        Form::new(
            ctx.t("events.on_behalf"),
            format!("/c/{code}/events/{}/sign-up", d.event.id),
            ctx.t("events.on_behalf_submit"),
        )
        .input(Input::new("session_id", ctx.t("events.session"), InputKind::Select(open)).required())
        .input(Input::new("name", ctx.t("events.person_name"), InputKind::Text).required())
        .folded()
        .refused(r)
    })
}

/// A volunteer signs up to serve at a session (their hours become service records).
fn serve_form(ctx: &PageCtx, code: &str, d: &EventData, r: &Refusal) -> Option<Form> {
    open_sessions(d).map(|open| {
        Form::new(ctx.t("events.serve"), format!("/c/{code}/events/{}/serve", d.event.id), ctx.t("events.serve_submit"))
            .input(
                Input::new("session_id", ctx.t("events.session"), InputKind::Select(open))
                    .required()
                    .hint(ctx.t("events.serve_hint")),
            )
            .folded()
            .refused(r)
    })
}

pub fn event_view(ctx: PageCtx, actor: &Actor, c: &CommunityRef, d: &EventData, r: &Refusal) -> EventPage {
    let code = &c.code;
    let e = &d.event;
    let mut cells = vec![
        (ctx.t("events.kind"), ctx.t(&format!("events.kind.{}", e.kind.as_str()))),
        (ctx.t("events.organiser"), e.organiser.clone()),
        (ctx.t("events.audience"), ctx.t(&format!("events.audience.{}", e.audience.as_str()))),
    ];
    if let Some(b) = &e.brand {
        cells.insert(0, (ctx.t("events.brand"), b.clone()));
    }
    if let Some(n) = e.per_household {
        cells.push((ctx.t("events.per_household"), n.to_string()));
    }
    if e.needs_approval {
        cells.push((ctx.t("events.sign_up"), ctx.t("events.needs_approval")));
    }
    let mut links = Vec::new();
    if actor.can(c.id, Permission::HelpAtEvents) && e.status == EventStatus::Published {
        links.push((format!("/c/{code}/events/{}/check-in", e.id), ctx.t("events.door")));
    }
    if staff(actor, c) {
        links.push((format!("/c/{code}/events/{}/manage", e.id), ctx.t("events.manage")));
    }
    if e.status != EventStatus::Draft {
        links.push((format!("/p/{code}/events/{}", e.id), ctx.t("events.public_page")));
    }
    let mut page = EventPage {
        title: e.title.clone(),
        crumbs: vec![(format!("/c/{code}/events"), ctx.t("events.title"))],
        alert: None,
        tag: status_tag(&ctx, e.status),
        cells,
        description: e.description.clone(),
        links,
        mine: d.mine.iter().map(|(s, place)| my_signup(&ctx, code, s, *place, d.now, r)).collect(),
        sessions_title: ctx.tr("events.sessions_n", "n", d.sessions.len()),
        sessions: d.sessions.iter().map(|s| session_form(&ctx, code, d, s).refused(r)).collect(),
        on_behalf: if actor.can(c.id, Permission::HelpAtEvents) { on_behalf_form(&ctx, code, d, r) } else { None },
        serve: if actor.has_role(crate::auth::model::Role::Volunteer) { serve_form(&ctx, code, d, r) } else { None },
        report: e.report.clone(),
        photos: crate::services::media::thumbnails(&d.photos, code),
        staff: staff(actor, c).then(|| staff_part(&ctx, code, d, r)),
        ctx,
    };
    page.alert = r.alert_for(&page.forms());
    page
}

async fn show(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, id: i64, r: &Refusal) -> PageResult {
    let d = load(state, actor, c, id).await?;
    render(&event_view(ctx, actor, c, &d, r))
}

pub async fn event_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

/// Shows a refused form of the event's page on that page again.
async fn refused_on(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    c: CommunityRef,
    event_id: i64,
    e: AppError,
    m: &Map<String, Value>,
    action: &str,
) -> PageResult {
    ui::refused(e, ctx, m, action, |ctx, r| async move { show(&state, ctx, &actor, &c, event_id, &r).await }).await
}

/// Staff add a session at each chosen station.
pub async fn add_sessions(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let stations = f.ids("station_ids");
    let (starts, ends, capacity, held_back) =
        (f.when("starts_at"), f.when("ends_at"), f.int("capacity"), f.int("held_back"));
    let (repeat, times) = (f.opt("repeat"), f.int("times"));
    let rule = match repeat.as_deref().map(|r| (Repeat::parse(r), times)) {
        None => Ok(None),
        Some((Some(r), Some(n))) if (2..=crate::capabilities::events::series::MAX_SESSIONS as i64).contains(&n) => {
            Ok(Some(r.rule(n)))
        }
        Some((Some(_), _)) => Err(AppError::field("times", "events.times_range")),
        Some((None, _)) => Err(AppError::field("repeat", "validation.choice")),
    };
    let result = match (f.checked().and(rule), starts, ends, capacity) {
        (Err(e), ..) => Err(e),
        (Ok(rule), Some(starts_at), Some(ends_at), Some(capacity)) => {
            let plan = SessionPlan { starts_at, ends_at, capacity, held_back: held_back.unwrap_or(0) };
            store::add_sessions(&state, &actor, &c, id, &stations, plan, rule.as_deref()).await
        }
        (Ok(_), starts, ends, capacity) => Err(AppError::Invalid(
            [("starts_at", starts.is_none()), ("ends_at", ends.is_none()), ("capacity", capacity.is_none())]
                .into_iter()
                .filter(|(_, missing)| *missing)
                .map(|(field, _)| crate::error::FieldError::new(field, "validation.required"))
                .collect(),
        )),
    };
    match result {
        Ok(ids) => Ok(done(&format!("/c/{code}/events/{id}?n={}", ids.len()), Notice::SessionsAdded)),
        Err(e) => refused_on(state, ctx, actor, c, id, e, &m, &format!("/c/{code}/events/{id}/sessions")).await,
    }
}

async fn set_status(state: AppState, ctx: PageCtx, actor: Actor, code: String, id: i64, to: EventStatus) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let notice = if to == EventStatus::Published { Notice::Published } else { Notice::EventCancelled };
    match store::set_status(&state, &actor, &c, id, to).await {
        Ok(_) => Ok(done(&format!("/c/{code}/events/{id}"), notice)),
        Err(e) => {
            let action =
                format!("/c/{code}/events/{id}/{}", if to == EventStatus::Published { "publish" } else { "cancel" });
            refused_on(state, ctx, actor, c, id, e, &Map::new(), &action).await
        }
    }
}

pub async fn publish(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    set_status(state, ctx, actor, code, id, EventStatus::Published).await
}

pub async fn cancel(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    set_status(state, ctx, actor, code, id, EventStatus::Cancelled).await
}

/// Where a sign-up's answer goes: the event's page, saying a seat or the place in the queue.
async fn signed_up(state: &AppState, code: &str, s: &Signup) -> PageResult {
    let to = format!("/c/{code}/events/{}", s.event_id);
    Ok(match s.status {
        SignupStatus::Waiting => {
            let place = store::queue_place(&mut state.db.read().await?, s).await?;
            done(&format!("{to}?n={place}"), Notice::Queued)
        }
        _ => done(&to, Notice::EventSignedUp),
    })
}

/// A resident signs up for a session from its button.
pub async fn sign_up(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, session)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::sign_up(&state, &actor, &c, session, Whom::Me).await {
        Ok(s) => signed_up(&state, &code, &s).await,
        Err(e) => {
            let event_id = store::session_event(&mut state.db.read().await?, c.id, session).await?;
            let action = format!("/c/{code}/event-sessions/{session}/sign-up");
            refused_on(state, ctx, actor, c, event_id, e, &m, &action).await
        }
    }
}

/// A volunteer signs up to serve at a session.
pub async fn serve(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let session = f.id("session_id");
    let result = match (f.checked(), session) {
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(AppError::field("session_id", "validation.required")),
        (Ok(()), Some(s)) => store::sign_up(&state, &actor, &c, s, Whom::MeToServe).await,
    };
    match result {
        Ok(s) => signed_up(&state, &code, &s).await,
        Err(e) => refused_on(state, ctx, actor, c, id, e, &m, &format!("/c/{code}/events/{id}/serve")).await,
    }
}

/// One who came rates the session.
pub async fn rate(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let (stars, comment) = (f.int("rating"), f.text("comment"));
    let result = match f.checked() {
        Err(e) => Err(e),
        Ok(()) => store::rate(&state, &actor, &c, id, stars.unwrap_or(0), &comment).await,
    };
    match result {
        Ok(s) => Ok(done(&format!("/c/{code}/events/{}", s.event_id), Notice::Saved)),
        Err(e) => {
            let event_id = store::signup_event(&mut state.db.read().await?, c.id, id).await?;
            refused_on(state, ctx, actor, c, event_id, e, &m, &format!("/c/{code}/event-signups/{id}/rating")).await
        }
    }
}

/// A grid worker or staff sign up someone without a phone.
pub async fn sign_up_other(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let (session, name) = (f.id("session_id"), f.text("name"));
    let result = match (f.checked(), session) {
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(AppError::field("session_id", "validation.required")),
        (Ok(()), Some(s)) => store::sign_up(&state, &actor, &c, s, Whom::Other { name: &name }).await,
    };
    match result {
        Ok(s) => signed_up(&state, &code, &s).await,
        Err(e) => refused_on(state, ctx, actor, c, id, e, &m, &format!("/c/{code}/events/{id}/sign-up")).await,
    }
}

async fn on_signup(state: AppState, ctx: PageCtx, actor: Actor, code: String, id: i64, claim: bool) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result =
        if claim { store::claim(&state, &actor, &c, id).await } else { store::leave(&state, &actor, &c, id).await };
    match result {
        Ok(s) => Ok(done(
            &format!("/c/{code}/events/{}", s.event_id),
            if claim { Notice::SeatClaimed } else { Notice::SignupCancelled },
        )),
        Err(e) => {
            let event_id = store::signup_event(&mut state.db.read().await?, c.id, id).await?;
            let action = format!("/c/{code}/event-signups/{id}/{}", if claim { "claim" } else { "cancel" });
            refused_on(state, ctx, actor, c, event_id, e, &Map::new(), &action).await
        }
    }
}

/// The holder gives their sign-up up; the seat goes to the first waiting.
pub async fn leave(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    on_signup(state, ctx, actor, code, id, false).await
}

/// The first waiting claims the seat offered to them.
pub async fn claim(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    on_signup(state, ctx, actor, code, id, true).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capabilities::events::{Audience, EventKind};

    fn data(status: EventStatus, now: i64) -> EventData {
        let session = |id: i64, taken: i64, waiting: i64| Session {
            community_id: 1,
            id,
            event_id: 9,
            station_id: 3,
            station: "海盛花园广场".into(),
            starts_at: 10 * 3_600_000,
            ends_at: 12 * 3_600_000,
            capacity: 30,
            held_back: 0,
            taken,
            status: SessionStatus::Scheduled,
            waiting,
            rule: None,
            moved_from: None,
            closed_at: None,
        };
        EventData {
            event: Event {
                community_id: 1,
                id: 9,
                kind: EventKind::Festival,
                title: "<i>邻聚欢享</i>".into(),
                description: Some("<script>x</script>".into()),
                organiser: "社区党委".into(),
                brand: None,
                audience: Audience::Everyone,
                per_household: Some(1),
                claim_hours: 2,
                status,
                created_at: 0,
                needs_approval: false,
                team_id: None,
                report: None,
                attendance_rule: None,
            },
            sessions: vec![session(1, 3, 0), session(2, 30, 4)],
            mine: Vec::new(),
            stations: vec![(3, "海盛花园广场".into())],
            photos: Vec::new(),
            now,
        }
    }

    fn community() -> CommunityRef {
        CommunityRef {
            id: 1,
            code: "440804003001".into(),
            name: "海盛社区".into(),
            subdistrict_id: 1,
            kind: "urban".into(),
        }
    }

    fn resident() -> Actor {
        Actor {
            user_id: 5,
            username: "r".into(),
            display_name: "王阿姨".into(),
            grants: Vec::new(),
            subdistrict_communities: Default::default(),
        }
    }

    #[test]
    fn a_resident_sees_seats_left_and_the_queue_when_a_session_is_full() {
        let page = event_view(
            crate::web::tests::ctx(),
            &resident(),
            &community(),
            &data(EventStatus::Published, 0),
            &Refusal::none(),
        );
        let html = page.render().unwrap();
        assert!(
            !html.contains("<script>x") && !html.contains("<i>邻聚") && html.contains("邻聚欢享"),
            "user text is escaped"
        );
        assert!(html.contains("报名（余 27 座）"), "{html}");
        assert!(html.contains("排队候补（已有 4 人）"), "{html}");
        assert!(!html.contains("/publish"), "residents do not publish");
    }

    #[test]
    fn a_session_that_began_says_so_instead_of_a_button() {
        let page = event_view(
            crate::web::tests::ctx(),
            &resident(),
            &community(),
            &data(EventStatus::Published, 11 * 3_600_000),
            &Refusal::none(),
        );
        let html = page.render().unwrap();
        assert!(html.contains("disabled") && html.contains("已开始"), "{html}");
    }
}
