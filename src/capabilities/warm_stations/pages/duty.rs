//! The phone page of those on duty: the shifts they hold (check in, check out, give a
//! place up), the shifts still needing people (take one), and, while on duty, one tap per
//! visitor and the station's state.

use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::super::store::{self, Place, Shift};
use super::super::{LiveState, VisitorKind, may_check_in, may_serve};
use super::{community, shift_line};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::error::{AppError, AppResult};
use crate::web::form::CsrfForm;
use crate::web::ui::{self, Block, BlocksPage, Form, Input, Item, Refusal};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done};

pub struct DutyData {
    /// The shifts one holds a place on, with the place.
    pub mine: Vec<(Shift, Place)>,
    /// Shifts ahead that still need people, which one does not hold.
    pub open: Vec<Shift>,
    /// Visitors counted today at the stations one is on duty at.
    pub today: Vec<(i64, i64)>,
    pub now: i64,
}

fn button(action: String, label: String) -> Form {
    Form::new("", action, label)
}

fn mine_blocks(ctx: &PageCtx, code: &str, d: &DutyData) -> Vec<Block> {
    let mut blocks = Vec::new();
    for (s, p) in &d.mine {
        let base = format!("/c/{code}/duty-shifts/{}", s.id);
        let status = match (p.checked_in_at, p.checked_out_at) {
            (Some(_), None) => ctx.t("warm.on_duty"),
            (Some(_), Some(_)) => ctx.t("warm.done"),
            _ => ctx.t("warm.signed_up"),
        };
        let cells = vec![(ctx.t("warm.shift"), shift_line(s)), (ctx.t("warm.status"), status)];
        blocks.push(Block::Card(s.station.clone(), None, cells, None, Vec::new()));
        match (p.checked_in_at, p.checked_out_at) {
            (None, _) if may_check_in((s.starts_at, s.ends_at), d.now) => {
                blocks.push(Block::Form(button(format!("{base}/check-in"), ctx.t("warm.check_in"))));
            }
            (None, _) if s.starts_at > d.now => {
                let f = button(format!("{base}/leave"), ctx.t("warm.leave")).danger(ctx.t("warm.leave_confirm"));
                blocks.push(Block::Form(f));
            }
            (Some(_), None) => {
                let counted = d.today.iter().find(|t| t.0 == s.station_id).map_or(0, |t| t.1);
                blocks.push(Block::Card(
                    ctx.tr("warm.counted_today", "n", counted),
                    None,
                    Vec::new(),
                    Some(ctx.t("warm.tap_hint")),
                    Vec::new(),
                ));
                for k in VisitorKind::ALL {
                    let f = Form::new(
                        "",
                        format!("/c/{code}/roster/{}/visits", s.station_id),
                        ctx.t(&format!("warm.visitor.{}", k.as_str())),
                    )
                    .input(Input::hidden("kind", k.as_str()));
                    blocks.push(Block::Form(f));
                }
                for st in LiveState::ALL {
                    let f = Form::new(
                        "",
                        format!("/c/{code}/roster/{}/state", s.station_id),
                        ctx.t(&format!("warm.set.{}", st.as_str())),
                    )
                    .input(Input::hidden("state", st.as_str()));
                    blocks.push(Block::Form(f));
                }
                let f = button(format!("{base}/check-out"), ctx.t("warm.check_out"))
                    .confirm(ctx.t("warm.check_out_confirm"));
                blocks.push(Block::Form(f));
            }
            _ => {}
        }
    }
    blocks
}

pub fn duty_view(ctx: PageCtx, c: &CommunityRef, d: &DutyData, r: &Refusal) -> BlocksPage {
    let code = &c.code;
    let mut blocks = vec![Block::Card(ctx.t("warm.duty"), None, Vec::new(), Some(ctx.t("warm.duty_hint")), Vec::new())];
    if d.mine.is_empty() {
        blocks.push(Block::List(ctx.t("warm.my_shifts"), Vec::new(), ctx.t("warm.no_my_shifts")));
    }
    blocks.extend(mine_blocks(&ctx, code, d));
    let open: Vec<Item> = d
        .open
        .iter()
        .map(|s| Item {
            title: s.station.clone(),
            sub: shift_line(s),
            href: None,
            tag: Some(ui::Tag::new(ctx.tr("warm.short", "n", s.needed - s.taken), ui::Tone::Orange)),
        })
        .collect();
    blocks.push(Block::List(ctx.t("warm.open_shifts"), open, ctx.t("warm.no_open_shifts")));
    for s in &d.open {
        let label = format!("{} {}", ctx.t("warm.take"), shift_line(s));
        blocks.push(Block::Form(button(format!("/c/{code}/duty-shifts/{}/take", s.id), label)));
    }
    BlocksPage::new(ctx.clone(), ctx.t("warm.duty"), Vec::new(), blocks, r)
}

/// What one's duty page (and the API) shows: one's shifts of the week, those still
/// needing people, and today's visitors where one is on duty.
pub async fn load(state: &AppState, actor: &Actor, c: &CommunityRef) -> AppResult<DutyData> {
    let now = crate::db::now_ms();
    let mut conn = state.db.read().await?;
    let week =
        store::shifts(&mut conn, c.id, None, now - 12 * crate::time::HOUR_MS, now + 7 * crate::time::DAY_MS).await?;
    let ids: Vec<i64> = week.iter().map(|s| s.id).collect();
    let places = store::places(&mut conn, c.id, &ids).await?;
    let mine: Vec<(Shift, Place)> = week
        .iter()
        .filter_map(|s| {
            places.iter().find(|p| p.shift_id == s.id && p.user_id == actor.user_id).map(|p| (s.clone(), p.clone()))
        })
        .filter(|(s, p)| p.checked_out_at.is_none() || s.ends_at > now)
        .collect();
    let open: Vec<Shift> = week
        .into_iter()
        .filter(|s| s.starts_at > now && s.taken < s.needed && !mine.iter().any(|(m, _)| m.id == s.id))
        .collect();
    let mut today = Vec::new();
    let since = crate::time::day_start_ms(crate::web::fmt::today());
    for (s, p) in &mine {
        if p.checked_in_at.is_some() && p.checked_out_at.is_none() {
            today.push((s.station_id, store::visit_count(&mut conn, c.id, s.station_id, since).await?));
        }
    }
    Ok(DutyData { mine, open, today, now })
}

async fn show_duty(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    let d = load(state, actor, c).await?;
    crate::web::render(&duty_view(ctx, c, &d, r))
}

pub async fn duty_community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    let c = community(state, actor, code).await?;
    if may_serve(actor, c.id) { Ok(c) } else { Err(AppError::Forbidden) }
}

/// `GET /c/{code}/duty`: those who may serve.
pub async fn duty(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = duty_community(&state, &actor, &code).await?;
    show_duty(&state, ctx, &actor, &c, &Refusal::none()).await
}

async fn after(
    state: &AppState,
    ctx: PageCtx,
    actor: Actor,
    c: CommunityRef,
    action: &str,
    m: &Map<String, Value>,
    result: AppResult<()>,
) -> PageResult {
    match result {
        Ok(()) => Ok(done(&format!("/c/{}/duty", c.code), Notice::Saved)),
        Err(e) => {
            ui::refused(e, ctx, m, action, |ctx, r| async move { show_duty(state, ctx, &actor, &c, &r).await }).await
        }
    }
}

macro_rules! shift_action {
    ($(#[$doc:meta])* $name:ident, $what:literal, $call:expr) => {
        $(#[$doc])*
        pub async fn $name(
            State(state): State<AppState>,
            SignedPage(ctx, actor): SignedPage,
            Path((code, id)): Path<(String, i64)>,
            CsrfForm(m): CsrfForm,
        ) -> PageResult {
            let c = duty_community(&state, &actor, &code).await?;
            let result = $call(&state, &actor, &c, id).await;
            after(&state, ctx, actor, c, &format!("/c/{code}/duty-shifts/{id}/{}", $what), &m, result).await
        }
    };
}

shift_action!(
    /// `POST /c/{code}/duty-shifts/{id}/take`: take a place on a shift.
    take, "take", store::take
);
shift_action!(
    /// `POST /c/{code}/duty-shifts/{id}/leave`: give one's place up before the shift.
    leave, "leave", store::leave
);
shift_action!(
    /// `POST /c/{code}/duty-shifts/{id}/check-in`: on duty now.
    check_in, "check-in", store::check_in
);
shift_action!(
    /// `POST /c/{code}/duty-shifts/{id}/check-out`: off duty; the hours become service.
    check_out, "check-out", |s, a, c, id| async move { store::check_out(s, a, c, id).await.map(|_| ()) }
);

/// Where a tap on a station's page goes back to: the roster for staff there, else duty.
fn back(c: &CommunityRef, station: i64, m: &Map<String, Value>) -> String {
    match m.get("from").and_then(Value::as_str) {
        Some("roster") => format!("/c/{}/roster/{station}", c.code),
        _ => format!("/c/{}/duty", c.code),
    }
}

/// `POST /c/{code}/roster/{id}/visits` `kind`: one visitor counted.
pub async fn count_visit(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let kind = m.get("kind").and_then(Value::as_str).and_then(VisitorKind::parse);
    let result = match kind {
        Some(k) => store::count_visit(&state, &actor, &c, id, k).await,
        None => Err(AppError::field("kind", "validation.choice")),
    };
    match result {
        Ok(()) => Ok(done(&back(&c, id, &m), Notice::Saved)),
        Err(e) => after(&state, ctx, actor, c, &format!("/c/{code}/roster/{id}/visits"), &m, Err(e)).await,
    }
}

/// `POST /c/{code}/roster/{id}/state` `state`: open, closed or full, for today.
pub async fn set_state(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let to = m.get("state").and_then(Value::as_str).and_then(LiveState::parse);
    let result = match to {
        Some(s) => store::set_state(&state, &actor, &c, id, s).await,
        None => Err(AppError::field("state", "validation.choice")),
    };
    match result {
        Ok(()) => Ok(done(&back(&c, id, &m), Notice::Saved)),
        Err(e) if actor.can(c.id, Permission::ManageServices) => Err(e.into()),
        Err(e) => after(&state, ctx, actor, c, &format!("/c/{code}/roster/{id}/state"), &m, Err(e)).await,
    }
}
