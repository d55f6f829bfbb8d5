//! Pages of events: the community's events with the form that creates one, an event with
//! its sessions, sign-up and (for staff) its steps in `event`, and the check-in desk at the
//! door in `door`. Each page loads its data, a plain function builds its view from
//! `web::ui` parts, and its template (`templates/events/`) draws it.

mod door;
mod event;
mod manage;
mod mine;
mod month;
mod public;
mod stats;

use askama::Template;
use axum::extract::{Path, State};
use serde_json::{Map, Value};

use super::store::{self, Event};
use super::{EventKind, EventStatus, NewEvent};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::error::{AppError, AppResult};
use crate::web::capability::{NavEntry, Whereabouts};
use crate::web::form::{CsrfForm, Fields};
use crate::web::home::Section;
use crate::web::ui::{self, Form, Input, InputKind, Item, Refusal, Tag, Tile, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

pub use door::{check_in, check_out, door, walk_in};
pub use event::{add_sessions, cancel, claim, event_page, leave, publish, rate, serve, sign_up, sign_up_other};
pub use manage::{cancel_session, change_session, close_session, correct, decide, invite, manage, report, signup_page};
pub use mine::{mine, new_feed, revoke_feed};
pub use month::{month, station_month};
pub use public::{public_event, public_events};
pub use stats::{ledger, stats, subdistrict_ledger, subdistrict_stats};

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&state.db, actor, code).await
}

fn staff(actor: &Actor, c: &CommunityRef) -> bool {
    actor.can(c.id, Permission::ManageEvents)
}

fn status_tag(ctx: &PageCtx, s: EventStatus) -> Tag {
    let tone = match s {
        EventStatus::Draft => Tone::Orange,
        EventStatus::Published => Tone::Green,
        _ => Tone::Grey,
    };
    Tag::new(ctx.t(&format!("events.status.{}", s.as_str())), tone)
}

fn choices(ctx: &PageCtx, prefix: &str, values: &[&str]) -> Vec<(String, String)> {
    values.iter().map(|v| (v.to_string(), ctx.t(&format!("{prefix}.{v}")))).collect()
}

/// Events in the navigation of residents, volunteers and party members; those who work
/// the places (grid workers, staff) find them on the home grid, so that a phone's tab bar
/// keeps five entries at most.
pub fn nav(actor: &Actor, w: &Whereabouts<'_>) -> Vec<NavEntry> {
    match w.community {
        Some(c) if actor.sees_community(c.id) && !actor.can(c.id, Permission::ViewPlaces) => {
            vec![NavEntry {
                order: 35,
                href: format!("/c/{}/events", c.code),
                label_key: "events.title",
                icon: "calendar",
            }]
        }
        _ => Vec::new(),
    }
}

/// Events on the home page: a tile to the community's events, with the sessions open to
/// sign-up as its badge.
pub fn home<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    actor: &'a Actor,
) -> futures::future::BoxFuture<'a, AppResult<Vec<Section>>> {
    Box::pin(async move {
        let mut communities: Vec<i64> = actor.grants.iter().filter_map(|g| g.community_id).collect();
        communities.sort_unstable();
        communities.dedup();
        let mut tiles = Vec::new();
        for cid in communities {
            let mut conn = state.db.read().await?;
            let Some(c) = crate::auth::guard::community_by_id(&mut conn, cid).await? else { continue };
            let open = store::open_sessions(&mut conn, cid, crate::db::now_ms()).await?;
            tiles.push(Tile::new(ctx.t("events.title"), format!("/c/{}/events", c.code), "calendar").badge(open));
        }
        Ok(if tiles.is_empty() { Vec::new() } else { vec![Section { tiles, ..Section::default() }] })
    })
}

// ---------- the community's events ----------

#[derive(Template)]
#[template(path = "events/list.html")]
pub struct EventsPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub total: String,
    pub events: Vec<Item>,
    pub links: Vec<(String, String)>,
    /// Creating one, for staff.
    pub create: Option<Form>,
}

/// What staff's form of a new event offers to pick: the teams, the bonus points rules.
pub struct Choices {
    pub teams: Vec<(i64, String)>,
    pub rules: Vec<(String, String)>,
}

fn create_form(ctx: &PageCtx, code: &str, offer: &Choices) -> Form {
    let teams = offer.teams.iter().map(|(i, n)| (i.to_string(), n.clone())).collect();
    let mut rules = vec![(String::new(), ctx.t("events.no_points"))];
    rules.extend(offer.rules.iter().cloned());
    let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    Form::new(ctx.t("events.create"), format!("/c/{code}/events"), ctx.t("events.create_submit"))
        .input(Input::new("title", ctx.t("events.event_title"), InputKind::Text).required())
        .input(
            Input::new("kind", ctx.t("events.kind"), InputKind::Select(choices(ctx, "events.kind", &kinds)))
                .required()
                .value("activity"),
        )
        .input(
            Input::new("organiser", ctx.t("events.organiser"), InputKind::Text)
                .required()
                .hint(ctx.t("events.organiser_hint")),
        )
        .input(Input::new("brand", ctx.t("events.brand"), InputKind::Text).hint(ctx.t("events.brand_hint")))
        .input(Input::new("description", ctx.t("events.description"), InputKind::TextArea))
        .input(
            Input::new(
                "audience",
                ctx.t("events.audience"),
                InputKind::Select(choices(ctx, "events.audience", &["everyone", "residents", "team", "invited"])),
            )
            .required()
            .value("everyone"),
        )
        .input(Input::new("team_id", ctx.t("events.team"), InputKind::Select(teams)).hint(ctx.t("events.team_hint")))
        .input(
            Input::new("needs_approval", ctx.t("events.needs_approval"), InputKind::Checkbox)
                .hint(ctx.t("events.needs_approval_hint")),
        )
        .input(
            Input::new("attendance_rule", ctx.t("events.attendance_rule"), InputKind::Select(rules))
                .hint(ctx.t("events.attendance_rule_hint")),
        )
        .input(
            Input::new("per_household", ctx.t("events.per_household"), InputKind::Number)
                .hint(ctx.t("events.per_household_hint")),
        )
        .input(
            Input::new("claim_hours", ctx.t("events.claim_hours"), InputKind::Number)
                .required()
                .value(2)
                .hint(ctx.t("events.claim_hours_hint")),
        )
}

fn event_item(ctx: &PageCtx, code: &str, e: &Event) -> Item {
    let mut sub = vec![ctx.t(&format!("events.kind.{}", e.kind.as_str())), e.organiser.clone()];
    if let Some(b) = &e.brand {
        sub.insert(0, b.clone());
    }
    Item {
        title: e.title.clone(),
        sub: sub.join(" · "),
        href: Some(format!("/c/{code}/events/{}", e.id)),
        tag: Some(status_tag(ctx, e.status)),
    }
}

/// The community's events, newest first, and (for staff) creating one, folded.
/// `choices` are for staff's form (none for others).
pub fn events_view(
    ctx: PageCtx,
    c: &CommunityRef,
    list: &[Event],
    choices: Option<&Choices>,
    r: &Refusal,
) -> EventsPage {
    let code = &c.code;
    let create = choices.map(|t| create_form(&ctx, code, t).folded().refused(r));
    let mut links = vec![
        (format!("/c/{code}/events/mine"), ctx.t("events.mine")),
        (format!("/c/{code}/events/month"), ctx.t("events.month")),
        (format!("/p/{code}/events"), ctx.t("events.public_page")),
        (format!("/p/{code}/events.ics"), ctx.t("events.feed")),
    ];
    if create.is_some() {
        links.push((format!("/c/{code}/events/stats"), ctx.t("events.stats")));
        links.push((format!("/c/{code}/stations"), ctx.t("events.stations")));
    }
    EventsPage {
        title: format!("{} · {}", c.name, ctx.t("events.title")),
        alert: create.as_ref().and_then(|f| r.alert_for(&[f])),
        total: ctx.tr("list.total", "n", list.len()),
        events: list.iter().map(|e| event_item(&ctx, code, e)).collect(),
        links,
        create,
        ctx,
    }
}

async fn show_events(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    let mut conn = state.db.read().await?;
    let list = store::events(&mut conn, actor, c.id).await?;
    let choices = match staff(actor, c) {
        true => Some(Choices {
            teams: store::teams(&mut conn, c.id).await?,
            rules: store::attendance_rules(&mut conn, c.id).await?,
        }),
        false => None,
    };
    render(&events_view(ctx, c, &list, choices.as_ref(), r))
}

pub async fn events(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    show_events(&state, ctx, &actor, &c, &Refusal::none()).await
}

/// An event from its form; refused naming each field that does not parse.
fn new_event(m: &Map<String, Value>) -> AppResult<NewEvent> {
    let mut f = Fields::new(m);
    let e = NewEvent {
        kind: f.text("kind"),
        title: f.text("title"),
        description: f.opt("description"),
        organiser: f.text("organiser"),
        brand: f.opt("brand"),
        audience: f.text("audience"),
        per_household: f.int("per_household"),
        claim_hours: f.int("claim_hours").unwrap_or(0),
        needs_approval: f.yes("needs_approval"),
        team_id: f.id("team_id"),
        attendance_rule: f.opt("attendance_rule"),
    };
    f.checked()?;
    Ok(e)
}

/// Staff create an event (a draft): its page follows, to add sessions.
pub async fn create(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = match new_event(&m) {
        Ok(e) => store::create(&state, &actor, &c, e).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(e) => Ok(done(&format!("/c/{code}/events/{}", e.id), Notice::Created)),
        Err(e) => {
            let action = format!("/c/{code}/events");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { show_events(&state, ctx, &actor, &c, &r).await })
                .await
        }
    }
}

/// The sign-ups picked on a list (`picked`); refused naming the list when none is.
fn picked(m: &Map<String, Value>) -> AppResult<Vec<i64>> {
    let ids = Fields::new(m).ids("picked");
    if ids.is_empty() { Err(AppError::field("picked", "validation.required")) } else { Ok(ids) }
}

/// A picked sign-up not found (not this event's) is refused naming the list.
fn on_list(e: AppError) -> AppError {
    match e {
        AppError::NotFound => AppError::field("picked", "validation.reference"),
        e => e,
    }
}

/// A time as the pages show it: `12月5日 14:00`.
fn when(ms: i64) -> String {
    fmt::to_cst(ms).format("%-m月%-d日 %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(title: &str, status: EventStatus) -> Event {
        Event {
            community_id: 1,
            id: 9,
            kind: EventKind::Festival,
            title: title.into(),
            description: None,
            organiser: "社区党委".into(),
            brand: Some("邻聚欢享".into()),
            audience: super::super::Audience::Everyone,
            per_household: None,
            claim_hours: 2,
            status,
            created_at: 0,
            needs_approval: false,
            team_id: None,
            report: None,
            attendance_rule: None,
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

    #[test]
    fn residents_see_the_events_and_staff_also_create_one() {
        let list = [sample("<b>中秋游园</b>", EventStatus::Published)];
        let page = events_view(crate::web::tests::ctx(), &community(), &list, None, &Refusal::none());
        let html = page.render().unwrap();
        assert!(!html.contains("<b>中秋") && html.contains("中秋游园"), "user text is escaped");
        assert!(html.contains("邻聚欢享") && html.contains("/c/440804003001/events/9"));
        assert!(!html.contains("action=\"/c/440804003001/events\""), "no form for residents");
        let choices = Choices { teams: Vec::new(), rules: vec![("r1".into(), "参加活动（+5）".into())] };
        let page = events_view(crate::web::tests::ctx(), &community(), &list, Some(&choices), &Refusal::none());
        let html = page.render().unwrap();
        assert!(html.contains("action=\"/c/440804003001/events\"") && html.contains("参加活动（+5）"), "{html}");
    }
}
