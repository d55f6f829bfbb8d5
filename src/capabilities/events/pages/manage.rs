//! Running one event (staff): its figures, sign-ups to approve, each session with its seats
//! and waitlist (one picked to move, resize, call off or close), attendance to correct
//! after a session, and the report written afterwards.

use askama::Template;
use axum::extract::{Path, Query, State};
use serde_json::Map;

use super::stats::figure_kpis;
use super::{community, on_list, picked, when};
use crate::auth::guard::{self, CommunityRef};
use crate::auth::model::{Actor, Permission};
use crate::capabilities::events::figures::{self, Line};
use crate::capabilities::events::store::{self, Event, Session, Signup};
use crate::capabilities::events::{SessionPlan, SessionStatus, SignupRole};
use crate::error::{AppError, AppResult, FieldError};
use crate::web::form::{CsrfForm, CsrfMultipart, Fields};
use crate::web::ui::{self, Cell, Form, Input, InputKind, Item, Kpi, Pick, Refusal, Table, Tag, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render, see_other};

/// What the page is drawn from.
pub struct ManageData {
    pub event: Event,
    pub sessions: Vec<Session>,
    pub pending: Vec<Signup>,
    /// Everyone with a seat (or serving), for attendance.
    pub roll: Vec<Signup>,
    pub lines: Vec<Line>,
    /// The session picked to change.
    pub picked: Option<i64>,
    pub photos: Vec<crate::services::media::Media>,
    /// How many are invited (for an event for those invited).
    pub invited: i64,
    pub now: i64,
}

async fn load(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    picked: Option<i64>,
) -> AppResult<ManageData> {
    guard::require(actor, c.id, Permission::ManageEvents)?;
    let mut conn = state.db.read().await?;
    let event = store::event(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    let sessions = store::sessions(&mut conn, c.id, id).await?;
    let pending = store::pending(&mut conn, c.id, id).await?;
    let roll = store::roll(&mut conn, c.id, id).await?;
    let lines = store::figure_lines(&mut conn, c.id, store::Lines::Event(id)).await?;
    let photos = crate::services::media::of(&mut conn, c.id, "event", id).await?;
    let invited = store::invited(&mut conn, c.id, id).await?;
    Ok(ManageData { event, sessions, pending, roll, lines, picked, photos, invited, now: crate::db::now_ms() })
}

#[derive(Template)]
#[template(path = "events/manage.html")]
pub struct ManagePage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub alert: Option<String>,
    pub kpis: Vec<Kpi>,
    pub pending: Option<(Pick, Pick)>,
    pub sessions: Table,
    /// The picked session's forms: change, call off, close.
    pub session_forms: Vec<Form>,
    /// Attendance after sessions began: mark present, mark absent.
    pub attendance: Option<(Pick, Pick)>,
    pub report: Form,
    pub photos: Vec<crate::web::ui::Photo>,
    /// Inviting people by their mobile numbers, for an event for those invited.
    pub invite: Option<Form>,
}

fn session_state(ctx: &PageCtx, s: &Session, now: i64) -> String {
    let key = match (s.status, s.closed_at) {
        (SessionStatus::Cancelled, _) => "events.session.cancelled",
        (_, Some(_)) => "events.session.closed",
        _ if s.ends_at <= now => "events.session.over",
        _ if s.moved_from.is_some() => "events.session.moved",
        _ => "events.session.scheduled",
    };
    ctx.t(key)
}

fn session_forms(ctx: &PageCtx, base: &str, s: &Session, now: i64, r: &Refusal) -> Vec<Form> {
    let action = |what: &str| format!("{base}/event-sessions/{}/{what}", s.id);
    let mut out = Vec::new();
    let open = s.status == SessionStatus::Scheduled && s.closed_at.is_none();
    if open && s.ends_at > now {
        out.push(
            Form::new(
                format!("{} · {}", when(s.starts_at), s.station),
                action("change"),
                ctx.t("events.change_session_submit"),
            )
            .input(
                Input::new("starts_at", ctx.t("events.starts_at"), InputKind::DateTime)
                    .required()
                    .value(fmt::local_input(s.starts_at)),
            )
            .input(
                Input::new("ends_at", ctx.t("events.ends_at"), InputKind::DateTime)
                    .required()
                    .value(fmt::local_input(s.ends_at)),
            )
            .input(Input::new("capacity", ctx.t("events.capacity"), InputKind::Number).required().value(s.capacity))
            .input(Input::new("held_back", ctx.t("events.held_back"), InputKind::Number).value(s.held_back))
            .refused(r),
        );
        out.push(Form::new("", action("cancel"), ctx.t("events.cancel_session")).danger(ctx.tr(
            "events.cancel_session_confirm",
            "n",
            s.taken + s.waiting,
        )));
    }
    if open && s.ends_at <= now {
        out.push(Form::new("", action("close"), ctx.t("events.close_session")).confirm(ctx.t("events.close_confirm")));
    }
    out
}

fn attendance(ctx: &PageCtx, base: &str, d: &ManageData) -> Option<(Pick, Pick)> {
    let begun: Vec<&Signup> = d.roll.iter().filter(|u| u.starts_at <= d.now).collect();
    if begun.is_empty() {
        return None;
    }
    let item = |u: &Signup| Item {
        title: u.name.clone(),
        sub: format!("{} · {}", when(u.starts_at), u.station),
        href: None,
        tag: Some(match (u.checked_in_at, u.no_show, u.role) {
            (Some(at), _, SignupRole::Volunteer) => {
                Tag::new(format!("{} {}", ctx.t("events.role.volunteer"), when(at)), Tone::Blue)
            }
            (Some(at), ..) => Tag::new(when(at), Tone::Green),
            (None, true, _) => Tag::new(ctx.t("events.no_show"), Tone::Red),
            (None, false, _) => Tag::new(ctx.t("events.not_yet"), Tone::Grey),
        }),
    };
    let (came, not): (Vec<&Signup>, Vec<&Signup>) = begun.into_iter().partition(|u| u.checked_in_at.is_some());
    let pick = |what: &str, list: &[&Signup], submit: String| Pick {
        action: format!("{base}/attendance/{what}"),
        name: "picked",
        lines: list.iter().map(|u| (u.id, item(u))).collect(),
        submit,
        confirm: String::new(),
        all: ctx.t("common.all"),
    };
    Some((pick("present", &not, ctx.t("events.mark_present")), pick("absent", &came, ctx.t("events.mark_absent"))))
}

pub fn manage_view(ctx: PageCtx, c: &CommunityRef, d: &ManageData, r: &Refusal) -> ManagePage {
    let code = &c.code;
    let base = format!("/c/{code}/events/{}", d.event.id);
    let community_base = format!("/c/{code}");
    let rows = d
        .sessions
        .iter()
        .map(|s| {
            vec![
                Cell::link(when(s.starts_at), format!("{base}/manage?session={}", s.id)),
                Cell::text(s.station.clone()),
                Cell::text(format!("{}/{}", s.taken, s.capacity)),
                Cell::text(s.waiting.to_string()),
                Cell::text(session_state(&ctx, s, d.now)),
            ]
        })
        .collect();
    let sessions = Table {
        head: ["events.session", "events.station", "events.seats", "events.waiting", "events.state"]
            .iter()
            .map(|k| ctx.t(k))
            .collect(),
        rows,
        empty: ctx.t("events.no_sessions"),
        sort: Vec::new(),
    };
    let picked = d.picked.and_then(|p| d.sessions.iter().find(|s| s.id == p));
    let pending = (!d.pending.is_empty()).then(|| {
        let lines: Vec<(i64, Item)> = d
            .pending
            .iter()
            .map(|u| {
                (
                    u.id,
                    Item {
                        title: u.name.clone(),
                        sub: format!("{} · {}", when(u.starts_at), u.station),
                        href: None,
                        tag: None,
                    },
                )
            })
            .collect();
        let pick = |what: &str, submit: String, confirm: String| Pick {
            action: format!("{base}/decide/{what}"),
            name: "picked",
            lines: lines.clone(),
            submit,
            confirm,
            all: ctx.t("common.all"),
        };
        (
            pick("approve", ctx.t("events.approve"), String::new()),
            pick("decline", ctx.t("events.decline"), ctx.t("events.decline_confirm")),
        )
    });
    let report = Form::new(ctx.t("events.report"), format!("{base}/report"), ctx.t("common.save"))
        .input(
            Input::new("report", ctx.t("events.report"), InputKind::TextArea)
                .value(d.event.report.clone().unwrap_or_default())
                .hint(ctx.t("events.report_hint")),
        )
        .input(Input::new("photos", ctx.t("events.photos"), InputKind::File).hint(ctx.t("events.photos_hint")))
        .refused(r);
    let session_forms = picked.map(|s| session_forms(&ctx, &community_base, s, d.now, r)).unwrap_or_default();
    let invite = (d.event.audience == crate::capabilities::events::Audience::Invited).then(|| {
        Form::new(ctx.tr("events.invited_n", "n", d.invited), format!("{base}/invite"), ctx.t("events.invite_submit"))
            .input(
                Input::new("phones", ctx.t("events.phones"), InputKind::TextArea)
                    .required()
                    .hint(ctx.t("events.phones_hint")),
            )
            .refused(r)
    });
    let mut forms: Vec<&Form> = session_forms.iter().collect();
    forms.push(&report);
    forms.extend(&invite);
    ManagePage {
        title: format!("{} · {}", ctx.t("events.manage"), d.event.title),
        crumbs: vec![(format!("/c/{code}/events"), ctx.t("events.title")), (base.clone(), d.event.title.clone())],
        alert: r.alert_for(&forms),
        kpis: figure_kpis(&ctx, &figures::total(&d.lines), false),
        pending,
        sessions,
        attendance: attendance(&ctx, &base, d),
        session_forms,
        report,
        photos: crate::services::media::thumbnails(&d.photos, code),
        invite,
        ctx,
    }
}

#[derive(serde::Deserialize)]
pub struct ManageQuery {
    session: Option<i64>,
}

async fn show(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    picked: Option<i64>,
    r: &Refusal,
) -> PageResult {
    let d = load(state, actor, c, id, picked).await?;
    render(&manage_view(ctx, c, &d, r))
}

pub async fn manage(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    Query(q): Query<ManageQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show(&state, ctx, &actor, &c, id, q.session, &Refusal::none()).await
}

/// The manage page again after a refused form, the session picked again.
#[allow(clippy::too_many_arguments)]
async fn refused(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    c: CommunityRef,
    event_id: i64,
    picked: Option<i64>,
    e: AppError,
    m: &Map<String, serde_json::Value>,
    action: &str,
) -> PageResult {
    ui::refused(e, ctx, m, action, |ctx, r| async move { show(&state, ctx, &actor, &c, event_id, picked, &r).await })
        .await
}

/// A session's change: its times and seats.
pub async fn change_session(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let event_id = store::session_event(&mut state.db.read().await?, c.id, id).await?;
    let mut f = Fields::new(&m);
    let (starts, ends, capacity, held) =
        (f.when("starts_at"), f.when("ends_at"), f.int("capacity"), f.int("held_back"));
    let result = match (f.checked(), starts, ends, capacity) {
        (Err(e), ..) => Err(e),
        (Ok(()), Some(starts_at), Some(ends_at), Some(capacity)) => {
            let plan = SessionPlan { starts_at, ends_at, capacity, held_back: held.unwrap_or(0) };
            store::change_session(&state, &actor, &c, id, plan).await
        }
        _ => Err(AppError::Invalid(vec![FieldError::new("starts_at", "validation.required")])),
    };
    let to = format!("/c/{code}/events/{event_id}/manage?session={id}");
    match result {
        Ok(_) => Ok(done(&to, Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/event-sessions/{id}/change");
            refused(state, ctx, actor, c, event_id, Some(id), e, &m, &action).await
        }
    }
}

async fn session_step(state: AppState, ctx: PageCtx, actor: Actor, code: String, id: i64, close: bool) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let event_id = store::session_event(&mut state.db.read().await?, c.id, id).await?;
    let result = if close {
        store::close_session(&state, Some(&actor), &c, id, crate::db::now_ms()).await.map(|_| ())
    } else {
        store::cancel_session(&state, &actor, &c, id).await.map(|_| ())
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/events/{event_id}/manage?session={id}"), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/event-sessions/{id}/{}", if close { "close" } else { "cancel" });
            refused(state, ctx, actor, c, event_id, Some(id), e, &Map::new(), &action).await
        }
    }
}

/// Calls one session off.
pub async fn cancel_session(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    session_step(state, ctx, actor, code, id, false).await
}

/// Closes a session that is over: no-shows, volunteers' service.
pub async fn close_session(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    session_step(state, ctx, actor, code, id, true).await
}

/// Approves or declines the picked sign-ups.
pub async fn decide(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id, what)): Path<(String, i64, String)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let approve = match what.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(AppError::NotFound.into()),
    };
    let result = async {
        for p in picked(&m)? {
            store::decide(&state, &actor, &c, id, p, approve).await.map_err(on_list)?;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/events/{id}/manage"), Notice::Saved)),
        Err(e) => refused(state, ctx, actor, c, id, None, e, &m, &format!("/c/{code}/events/{id}/decide/{what}")).await,
    }
}

/// Corrects the picked sign-ups' attendance.
pub async fn correct(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id, what)): Path<(String, i64, String)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let present = match what.as_str() {
        "present" => true,
        "absent" => false,
        _ => return Err(AppError::NotFound.into()),
    };
    let result = async {
        for p in picked(&m)? {
            store::correct(&state, &actor, &c, id, p, present).await.map_err(on_list)?;
        }
        Ok(())
    }
    .await;
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/events/{id}/manage"), Notice::Saved)),
        Err(e) => {
            refused(state, ctx, actor, c, id, None, e, &m, &format!("/c/{code}/events/{id}/attendance/{what}")).await
        }
    }
}

/// Writes the event's report.
pub async fn report(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    form: CsrfMultipart,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let m = form.fields;
    let text = Fields::new(&m).text("report");
    let result = match crate::services::media::check_uploads(&form.files) {
        Ok(photos) => store::set_report(&state, &actor, &c, id, &text, &photos).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/events/{id}/manage"), Notice::Saved)),
        Err(e) => refused(state, ctx, actor, c, id, None, e, &m, &format!("/c/{code}/events/{id}/report")).await,
    }
}

/// Invites people by their mobile numbers.
pub async fn invite(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let phones = Fields::new(&m).text("phones");
    match store::invite(&state, &actor, &c, id, &phones).await {
        Ok(_) => Ok(done(&format!("/c/{code}/events/{id}/manage"), Notice::Saved)),
        Err(e) => refused(state, ctx, actor, c, id, None, e, &m, &format!("/c/{code}/events/{id}/invite")).await,
    }
}

/// A sign-up's address (where a service record made from it leads): its event's page.
pub async fn signup_page(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let event_id = store::signup_event(&mut state.db.read().await?, c.id, id).await?;
    let to = if actor.can(c.id, Permission::ManageEvents) { "/manage" } else { "" };
    Ok(see_other(&format!("/c/{code}/events/{event_id}{to}")))
}
