//! The door 签到台: a grid worker, staff or helper checks people in by scanning the QR
//! code on their phone (the camera or a photo), typing its code, or ticking their names on
//! the roll for those without a phone; writes in those who walk in; and checks volunteers
//! out. A second scan says when and where it was. With a bad network the page keeps the
//! scans it cannot send (`assets/door.js`) and sends them, each with its key, when the
//! connection is back.

use askama::Template;
use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::{community, on_list, picked, when};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::capabilities::events::store::{self, CheckIn, Event, Key, Session, Signup};
use crate::capabilities::events::{SessionStatus, SignupRole, figures};
use crate::error::{AppError, AppResult};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Form, Input, InputKind, Item, Pick, Refusal, Stat, Tag, Tone};
use crate::web::{AppState, PageCtx, PageResult, SignedPage, render};

/// What the door's page is drawn from.
pub struct DoorData {
    pub event: Event,
    pub sessions: Vec<Session>,
    pub roll: Vec<Signup>,
    pub now: i64,
}

async fn load(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<DoorData> {
    crate::auth::guard::require(actor, c.id, crate::auth::model::Permission::HelpAtEvents)?;
    let mut conn = state.db.read().await?;
    let event = store::event_for(&mut conn, actor, c.id, id).await?;
    let sessions = store::sessions(&mut conn, c.id, id).await?;
    let roll = store::roll(&mut conn, c.id, id).await?;
    Ok(DoorData { event, sessions, roll, now: crate::db::now_ms() })
}

/// What the last check-in did, shown at the top.
pub struct Outcome {
    pub title: String,
    pub tag: Tag,
    pub cells: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "events/door.html")]
pub struct DoorPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub alert: Option<String>,
    pub outcome: Vec<Outcome>,
    pub stats: Vec<Stat>,
    pub code: Form,
    /// Where the page sends scans it kept while offline.
    pub api: String,
    /// Those with a seat not yet checked in, to tick.
    pub roll: Pick,
    /// Writing in one who walks in, while a session is open.
    pub walk_in: Option<Form>,
    /// Volunteers checked in and not yet out, to check out.
    pub serving: Pick,
    pub checked: Vec<Item>,
}

fn outcome(ctx: &PageCtx, done: &CheckIn) -> Outcome {
    let s = &done.signup;
    let at = s.checked_in_at.map(when).unwrap_or_default();
    let (title, tag) = if done.already {
        (
            ctx.tr("events.already_in", "at", format!("{at} · {}", s.station)),
            Tag::new(ctx.t("events.already"), Tone::Orange),
        )
    } else {
        (ctx.t("events.checked_in"), Tag::new(ctx.t("events.welcome"), Tone::Green))
    };
    Outcome {
        title,
        tag,
        cells: vec![
            (ctx.t("events.person_name"), s.name.clone()),
            (ctx.t("events.session"), format!("{} · {}", when(s.starts_at), s.station)),
            (ctx.t("events.checked_in_at"), at),
        ],
    }
}

/// Per station, and for the whole event, each person once: (label, came of seated).
fn station_figures(ctx: &PageCtx, d: &DoorData) -> Vec<Stat> {
    let lines: Vec<figures::Line> = d
        .roll
        .iter()
        .map(|u| figures::Line {
            event_id: u.event_id,
            title: u.title.clone(),
            brand: None,
            station_id: 0,
            station: u.station.clone(),
            session_id: u.session_id,
            starts_at: u.starts_at,
            ends_at: u.ends_at,
            person: u.user_id.map(|p| p.to_string()).unwrap_or_else(|| format!("signup-{}", u.id)),
            volunteer: u.role == SignupRole::Volunteer,
            seated: true,
            checked_in_at: u.checked_in_at,
            checked_out_at: u.checked_out_at,
            no_show: u.no_show,
            promoted: false,
            rating: None,
            held: true,
        })
        .collect();
    let all = figures::total(&lines);
    let mut out = vec![
        Stat { label: ctx.t("events.seated"), value: all.signed_up.to_string(), href: None },
        Stat { label: ctx.t("events.checked_in_n"), value: all.attended.to_string(), href: None },
    ];
    let stations = figures::by(&lines, |l| Some(l.station.clone()));
    if stations.len() > 1 {
        out.extend(stations.iter().map(|(name, f)| Stat {
            label: name.clone(),
            value: format!("{}/{}", f.attended, f.signed_up),
            href: None,
        }));
    }
    out
}

fn walk_in_form(ctx: &PageCtx, base: &str, d: &DoorData, r: &Refusal) -> Option<Form> {
    // Sessions of today that are not over: the ones someone may walk into.
    let open: Vec<(String, String)> = d
        .sessions
        .iter()
        .filter(|s| s.status == SessionStatus::Scheduled && s.closed_at.is_none() && s.ends_at > d.now)
        .filter(|s| crate::time::day_of(s.starts_at) <= crate::time::day_of(d.now))
        .map(|s| (s.id.to_string(), format!("{} · {}", when(s.starts_at), s.station)))
        .collect();
    (!open.is_empty()).then(|| {
        Form::new(ctx.t("events.walk_in"), format!("{base}/walk-in"), ctx.t("events.walk_in_submit"))
            .input(Input::new("session_id", ctx.t("events.session"), InputKind::Select(open)).required())
            .input(Input::new("name", ctx.t("events.person_name"), InputKind::Text).required())
            .folded()
            .refused(r)
    })
}

pub fn door_view(ctx: PageCtx, c: &CommunityRef, d: &DoorData, done: &[CheckIn], r: &Refusal) -> DoorPage {
    let base = format!("/c/{}/events/{}", c.code, d.event.id);
    let code = Form::new(ctx.t("events.type_code"), format!("{base}/check-in"), ctx.t("events.check_in"))
        .input(Input::new("code", ctx.t("events.code"), InputKind::Number).required().hint(ctx.t("events.code_hint")))
        .input(Input::new("scan_key", "", InputKind::Hidden))
        .refused(r);
    let walk_in = walk_in_form(&ctx, &base, d, r);
    let line = |s: &Signup| Item {
        title: s.name.clone(),
        sub: format!("{} · {}", when(s.starts_at), s.station),
        href: None,
        tag: s.checked_in_at.map(|at| Tag::new(when(at), Tone::Green)),
    };
    let (checked, waiting): (Vec<&Signup>, Vec<&Signup>) = d.roll.iter().partition(|s| s.checked_in_at.is_some());
    let serving: Vec<&Signup> = checked
        .iter()
        .copied()
        .filter(|s| s.role == SignupRole::Volunteer && s.checked_out_at.is_none() && s.closed_at.is_none())
        .collect();
    let mut forms = vec![&code];
    forms.extend(&walk_in);
    DoorPage {
        title: format!("{} · {}", ctx.t("events.door"), d.event.title),
        crumbs: vec![(base.clone(), d.event.title.clone())],
        alert: r.alert_for(&forms),
        outcome: done.iter().map(|x| outcome(&ctx, x)).collect(),
        stats: station_figures(&ctx, d),
        api: format!("/api/v1/communities/{}/events/{}/check-ins", c.code, d.event.id),
        serving: Pick {
            action: format!("{base}/check-out"),
            name: "picked",
            lines: serving.iter().map(|s| (s.id, line(s))).collect(),
            submit: ctx.t("events.check_out"),
            confirm: String::new(),
            all: ctx.t("common.all"),
        },
        walk_in,
        code,
        roll: Pick {
            action: format!("{base}/check-in"),
            name: "present",
            lines: waiting.iter().map(|s| (s.id, line(s))).collect(),
            submit: ctx.t("events.check_in_picked"),
            confirm: String::new(),
            all: ctx.t("common.all"),
        },
        checked: checked.into_iter().map(line).collect(),
        ctx,
    }
}

pub async fn door(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let d = load(&state, &actor, &c, id).await?;
    render(&door_view(ctx, &c, &d, &[], &Refusal::none()))
}

/// Checks in the code typed or scanned, or every name ticked on the roll; the door's page
/// again, saying what happened.
pub async fn check_in(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = check_in_all(&state, &actor, &c, id, &m).await;
    match result {
        Ok(done) => {
            let d = load(&state, &actor, &c, id).await?;
            render(&door_view(ctx, &c, &d, &done, &Refusal::none()))
        }
        Err(e) => {
            let action = format!("/c/{code}/events/{id}/check-in");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                let d = load(&state, &actor, &c, id).await?;
                render(&door_view(ctx, &c, &d, &[], &r))
            })
            .await
        }
    }
}

async fn check_in_all(
    state: &AppState,
    actor: &Actor,
    c: &CommunityRef,
    event_id: i64,
    m: &Map<String, Value>,
) -> AppResult<Vec<CheckIn>> {
    let mut f = Fields::new(m);
    let present = f.ids("present");
    f.checked()?;
    if present.is_empty() {
        let (typed, key) = (f.text("code"), f.opt("scan_key"));
        return Ok(vec![store::check_in(state, actor, c, event_id, Key::Code(typed), key.as_deref()).await?]);
    }
    let mut out = Vec::new();
    for p in present {
        match store::check_in(state, actor, c, event_id, Key::Signup(p), None).await {
            Ok(x) => out.push(x),
            Err(AppError::Invalid(_)) => return Err(AppError::field("present", "events.code_unknown")),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// The door's page again after a step, saying what happened or why not.
#[allow(clippy::too_many_arguments)]
async fn after(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    c: CommunityRef,
    id: i64,
    result: AppResult<()>,
    m: &Map<String, Value>,
    action: &str,
) -> PageResult {
    match result {
        Ok(()) => {
            let d = load(&state, &actor, &c, id).await?;
            render(&door_view(ctx, &c, &d, &[], &Refusal::none()))
        }
        Err(e) => {
            ui::refused(e, ctx, m, action, |ctx, r| async move {
                let d = load(&state, &actor, &c, id).await?;
                render(&door_view(ctx, &c, &d, &[], &r))
            })
            .await
        }
    }
}

/// Writes in one who walked in, checked in at once.
pub async fn walk_in(
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
        (Ok(()), Some(s)) => store::walk_in(&state, &actor, &c, id, s, &name).await.map(|_| ()),
    };
    after(state, ctx, actor, c, id, result, &m, &format!("/c/{code}/events/{id}/walk-in")).await
}

/// Checks the picked volunteers out.
pub async fn check_out(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = async {
        for p in picked(&m)? {
            store::check_out(&state, &actor, &c, id, p).await.map_err(on_list)?;
        }
        Ok(())
    }
    .await;
    after(state, ctx, actor, c, id, result, &m, &format!("/c/{code}/events/{id}/check-out")).await
}
