//! The door 签到台: a grid worker, staff or helper checks people in by scanning the QR
//! code on their phone (the camera or a photo), typing its code, or ticking their names on
//! the roll for those without a phone. A second scan says when and where it was.

use askama::Template;
use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::{community, when};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::capabilities::events::store::{self, CheckIn, Event, Key, Signup};
use crate::error::{AppError, AppResult};
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Form, Input, InputKind, Item, Pick, Refusal, Stat, Tag, Tone};
use crate::web::{AppState, PageCtx, PageResult, SignedPage, render};

/// What the door's page is drawn from.
pub struct DoorData {
    pub event: Event,
    pub roll: Vec<Signup>,
}

async fn load(state: &AppState, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<DoorData> {
    crate::auth::guard::require(actor, c.id, crate::auth::model::Permission::HelpAtEvents)?;
    let mut conn = state.db.read().await?;
    let event = store::event_for(&mut conn, actor, c.id, id).await?;
    let roll = store::roll(&mut conn, c.id, id).await?;
    Ok(DoorData { event, roll })
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
    /// Those with a seat not yet checked in, to tick.
    pub roll: Pick,
    pub checked: Vec<Item>,
}

fn outcome(ctx: &PageCtx, done: &CheckIn) -> Outcome {
    let s = &done.signup;
    let at = s.checked_in_at.map(when).unwrap_or_default();
    let (title, tag) = if done.already {
        (ctx.tr("events.already_in", "at", &at), Tag::new(ctx.t("events.already"), Tone::Orange))
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

pub fn door_view(ctx: PageCtx, c: &CommunityRef, d: &DoorData, done: &[CheckIn], r: &Refusal) -> DoorPage {
    let base = format!("/c/{}/events/{}", c.code, d.event.id);
    let code = Form::new(ctx.t("events.type_code"), format!("{base}/check-in"), ctx.t("events.check_in"))
        .input(Input::new("code", ctx.t("events.code"), InputKind::Number).required().hint(ctx.t("events.code_hint")))
        .refused(r);
    let line = |s: &Signup| Item {
        title: s.name.clone(),
        sub: format!("{} · {}", when(s.starts_at), s.station),
        href: None,
        tag: s.checked_in_at.map(|at| Tag::new(when(at), Tone::Green)),
    };
    let (checked, waiting): (Vec<&Signup>, Vec<&Signup>) = d.roll.iter().partition(|s| s.checked_in_at.is_some());
    DoorPage {
        title: format!("{} · {}", ctx.t("events.door"), d.event.title),
        crumbs: vec![(base.clone(), d.event.title.clone())],
        alert: r.alert_for(&[&code]),
        outcome: done.iter().map(|x| outcome(&ctx, x)).collect(),
        stats: vec![
            Stat { label: ctx.t("events.seated"), value: d.roll.len().to_string(), href: None },
            Stat { label: ctx.t("events.checked_in_n"), value: checked.len().to_string(), href: None },
        ],
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
        let typed = f.text("code");
        return Ok(vec![store::check_in(state, actor, c, event_id, Key::Code(&typed)).await?]);
    }
    let mut out = Vec::new();
    for p in present {
        match store::check_in(state, actor, c, event_id, Key::Signup(p)).await {
            Ok(x) => out.push(x),
            Err(AppError::Invalid(_)) => return Err(AppError::field("present", "events.code_unknown")),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}
