//! Phone pages of field work: a patrol under way (findings, one-tap tickets, end), the
//! patrols and streaks, and the field notes of a day. Each page loads its data, builds
//! its view from `web::ui` parts, and its template (`templates/fieldwork/`) draws it.

use askama::Template;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::store;
use crate::auth::guard::{CommunityRef, visible_community};
use crate::auth::model::{Actor, Permission};
use crate::capabilities::registry::people::posts::Post;
use crate::web::form::{CsrfForm, Fields};
use crate::web::ui::{self, Cell, Form, Input, InputKind, Item, Refusal, Table, Tag, Tone};
use crate::web::{AppState, Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

fn finding_item(ctx: &PageCtx, code: &str, f: &store::Finding) -> Item {
    let at = fmt::datetime(f.at);
    let point = f.lat.zip(f.lng).map(|(a, b)| format!(" · {a:.5}, {b:.5}")).unwrap_or_default();
    Item {
        title: f.note.clone(),
        sub: format!("{at}{point}"),
        href: f.ticket_id.map(|t| format!("/c/{code}/tickets/{t}")),
        tag: f.ticket_id.map(|t| Tag::new(format!("{} #{t}", ctx.t("fieldwork.ticket")), Tone::Green)),
    }
}

fn state_tag(ctx: &PageCtx, ended: bool) -> Tag {
    if ended {
        Tag::new(ctx.t("fieldwork.ended"), Tone::Grey)
    } else {
        Tag::new(ctx.t("fieldwork.patrolling"), Tone::Orange)
    }
}

/// The patrol under way: what it is, what was found, and the forms to go on.
pub struct UnderWay {
    pub cells: Vec<(String, String)>,
    pub findings: Vec<Item>,
    pub to_ticket: Vec<Form>,
    pub add_finding: Form,
    pub end: Form,
}

#[derive(Template)]
#[template(path = "fieldwork/patrols.html")]
pub struct PatrolsPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub under_way: Option<UnderWay>,
    /// Starting a patrol, for those who may.
    pub start: Option<Form>,
    /// For a volunteer in no team: where to join one.
    pub join: Option<(String, String)>,
    pub streaks: Table,
    pub recent: Vec<Item>,
    pub links: Vec<(String, String)>,
}

impl PatrolsPage {
    fn forms(&self) -> Vec<&Form> {
        let mut out: Vec<&Form> = self.start.iter().collect();
        if let Some(u) = &self.under_way {
            out.extend(u.to_ticket.iter());
            out.extend([&u.add_finding, &u.end]);
        }
        out
    }
}

async fn patrols_page(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal) -> PageResult {
    let data = load_patrols(state, actor, c).await?;
    render(&patrols_view(ctx, actor, c, r, data))
}

/// What the patrols page shows, as loaded for the actor.
struct PatrolsData {
    /// The actor's patrol under way, its findings, and the ticket categories to turn
    /// them into tickets (loaded only when a patrol is under way).
    open: Option<store::Patrol>,
    findings: Vec<store::Finding>,
    categories: Vec<(String, String)>,
    recent: Vec<store::Patrol>,
    /// (team id, team, current streak, longest streak, days).
    streaks: Vec<(i64, String, i64, i64, i64)>,
    my_teams: Vec<crate::capabilities::points::store::Membership>,
    all_teams: Vec<(i64, String)>,
    grids: Vec<(i64, String)>,
}

/// Loads the patrols page's data: the actor's open patrol, recent patrols, team
/// streaks, the teams and grids to start a patrol with.
async fn load_patrols(state: &AppState, actor: &Actor, c: &CommunityRef) -> crate::error::AppResult<PatrolsData> {
    let mut conn = state.db.read().await?;
    let open = store::open_patrol(&mut conn, c.id, actor.user_id).await?;
    let recent = store::patrols(&mut conn, actor, c.id, 30).await?;
    let streaks = store::team_streaks(&mut conn, c.id).await?;
    let my_teams = crate::capabilities::points::store::teams_of(&mut conn, c.id, actor.user_id).await?;
    let all_teams = crate::capabilities::points::store::teams(&mut conn, c.id).await?;
    let grids = crate::capabilities::registry::places::grid_names(&mut conn, c.id).await?;
    let findings = match &open {
        Some(p) => store::findings(&mut conn, c.id, p.id).await?,
        None => Vec::new(),
    };
    drop(conn);
    let categories = match &open {
        Some(_) => crate::capabilities::tickets::pages::category_options(state, c.id).await?,
        None => Vec::new(),
    };
    Ok(PatrolsData { open, findings, categories, recent, streaks, my_teams, all_teams, grids })
}

/// Builds the patrols page from its data: the patrol under way or the form to start
/// one (or where to join a team), the streaks, recent patrols; `r` a refused form.
fn patrols_view(ctx: PageCtx, actor: &Actor, c: &CommunityRef, r: &Refusal, data: PatrolsData) -> PatrolsPage {
    let code = &c.code;
    let field = actor.can(c.id, Permission::FieldWork);
    let under_way = data.open.as_ref().map(|p| under_way_view(&ctx, code, r, p, &data.findings, &data.categories));
    let (start, join) = if data.open.is_some() { (None, None) } else { start_or_join(&ctx, code, r, field, &data) };
    let links = if field { vec![(format!("/c/{code}/field-notes"), ctx.t("fieldwork.notes"))] } else { vec![] };
    let mut page = PatrolsPage {
        title: ctx.t("fieldwork.patrols"),
        alert: None,
        under_way,
        start,
        join,
        streaks: streaks_table(&ctx, &data.streaks),
        recent: recent_items(&ctx, code, &data.recent),
        links,
        ctx,
    };
    page.alert = r.alert_for(&page.forms());
    page
}

/// The patrol under way: what it is, its findings, and the forms to turn a finding
/// into a ticket, add a finding, and end the patrol.
fn under_way_view(
    ctx: &PageCtx,
    code: &str,
    r: &Refusal,
    p: &store::Patrol,
    findings: &[store::Finding],
    categories: &[(String, String)],
) -> UnderWay {
    UnderWay {
        cells: vec![
            (ctx.t("entity.team"), p.team.clone().unwrap_or_default()),
            (ctx.t("entity.grid"), p.grid.clone().unwrap_or_default()),
            (ctx.t("fieldwork.route"), p.route.clone().unwrap_or_default()),
            (ctx.t("fieldwork.started"), fmt::datetime(p.started_at)),
        ],
        findings: findings.iter().map(|f| finding_item(ctx, code, f)).collect(),
        to_ticket: findings
            .iter()
            .filter(|f| f.ticket_id.is_none())
            .map(|f| {
                Form::new(
                    format!("{} {}", ctx.t("fieldwork.to_ticket"), f.note),
                    format!("/c/{code}/findings/{}/ticket", f.id),
                    ctx.t("fieldwork.to_ticket"),
                )
                .input(Input::new("category_id", ctx.t("ticket.category"), InputKind::Select(categories.to_vec())))
                .refused(r)
            })
            .collect(),
        add_finding: Form::new(
            ctx.t("fieldwork.add_finding"),
            format!("/c/{code}/patrols/{}/findings", p.id),
            ctx.t("fieldwork.add_finding"),
        )
        .input(Input::new("note", ctx.t("fieldwork.finding"), InputKind::TextArea).required())
        .input(Input::new("lat", ctx.t("field.household.lat"), InputKind::Number))
        .input(Input::new("lng", ctx.t("field.household.lng"), InputKind::Number))
        .input(Input::new("locate", "", InputKind::Locate).value(ctx.t("ticket.use_location")))
        .refused(r),
        end: Form::new(ctx.t("fieldwork.end"), format!("/c/{code}/patrols/{}/end", p.id), ctx.t("fieldwork.end"))
            .input(Input::new("note", ctx.t("fieldwork.summary"), InputKind::TextArea))
            .danger(ctx.t("fieldwork.end_confirm"))
            .refused(r),
    }
}

/// With no patrol under way: the form to start one (field staff pick any team, others
/// one of theirs), or, for a volunteer in no team, where to join one.
fn start_or_join(
    ctx: &PageCtx,
    code: &str,
    r: &Refusal,
    field: bool,
    data: &PatrolsData,
) -> (Option<Form>, Option<(String, String)>) {
    let mut teams = vec![];
    if field {
        teams.push((String::new(), ctx.t("common.none")));
        teams.extend(data.all_teams.iter().map(|(id, n)| (id.to_string(), n.clone())));
    } else {
        teams.extend(data.my_teams.iter().map(|m| (m.team_id.to_string(), m.team.clone())));
    }
    let mut grid_opts = vec![(String::new(), ctx.t("common.none"))];
    grid_opts.extend(data.grids.iter().map(|(id, n)| (id.to_string(), n.clone())));
    if field || !teams.is_empty() {
        let start = Form::new(ctx.t("fieldwork.start"), format!("/c/{code}/patrols"), ctx.t("fieldwork.start"))
            .input(Input::new("team_id", ctx.t("entity.team"), InputKind::Select(teams)))
            .input(Input::new("grid_id", ctx.t("entity.grid"), InputKind::Select(grid_opts)))
            .input(Input::new("route", ctx.t("fieldwork.route"), InputKind::Text))
            .refused(r);
        (Some(start), None)
    } else {
        (None, Some((format!("/c/{code}/volunteer"), ctx.t("points.my_service"))))
    }
}

/// The teams' patrol streaks as a table.
fn streaks_table(ctx: &PageCtx, streaks: &[(i64, String, i64, i64, i64)]) -> Table {
    Table {
        head: vec![
            ctx.t("entity.team"),
            ctx.t("fieldwork.current_streak"),
            ctx.t("fieldwork.longest_streak"),
            ctx.t("fieldwork.days"),
        ],
        rows: streaks
            .iter()
            .map(|(_, name, cur, long, days)| {
                vec![
                    Cell::text(name),
                    Cell::text(cur.to_string()),
                    Cell::text(long.to_string()),
                    Cell::text(days.to_string()),
                ]
            })
            .collect(),
        empty: String::new(),
        sort: Vec::new(),
    }
}

/// Recent patrols, each leading to its page, tagged under way or ended.
fn recent_items(ctx: &PageCtx, code: &str, recent: &[store::Patrol]) -> Vec<Item> {
    recent
        .iter()
        .map(|p| Item {
            title: format!("{} {}", p.patroller, p.team.clone().unwrap_or_default()),
            sub: format!("{} {}", fmt::datetime(p.started_at), p.route.clone().unwrap_or_default()),
            href: Some(format!("/c/{code}/patrols/{}", p.id)),
            tag: Some(state_tag(ctx, p.ended_at.is_some())),
        })
        .collect()
}

pub async fn patrols(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    patrols_page(&state, ctx, &actor, &c, &Refusal::none()).await
}

/// A form of the patrols page refused: the page again, the form filled in.
async fn refused_on_patrols(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    e: crate::error::AppError,
    m: &Map<String, Value>,
    action: &str,
) -> PageResult {
    ui::refused(e, ctx, m, action, |ctx, r| async move { patrols_page(state, ctx, actor, c, &r).await }).await
}

pub async fn start(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let (team, grid) = (f.id("team_id"), f.id("grid_id"));
    let result = match f.checked() {
        Ok(()) => store::start(&state, &actor, c.id, team, grid, f.opt("route")).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/patrols"), Notice::Started)),
        Err(e) => refused_on_patrols(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/patrols")).await,
    }
}

pub async fn add_finding(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let f = Fields::new(&m);
    let result = match super::parse_point(&f.text("lat"), &f.text("lng")) {
        Ok(point) => store::add_finding(&state, &actor, c.id, id, &f.text("note"), point).await.map(|_| ()),
        Err(e) => Err(crate::error::AppError::Invalid(e)),
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/patrols"), Notice::Saved)),
        Err(e) => refused_on_patrols(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/patrols/{id}/findings")).await,
    }
}

pub async fn end(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    match store::end(&state, &actor, c.id, id, Fields::new(&m).opt("note")).await {
        Ok(_) => Ok(done(&format!("/c/{code}/patrols/{id}"), Notice::Ended)),
        Err(e) => refused_on_patrols(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/patrols/{id}/end")).await,
    }
}

pub async fn to_ticket(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let category = f.id("category_id");
    let result = match f.checked() {
        Ok(()) => store::finding_to_ticket(&state, &actor, c.id, id, category).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(t) => Ok(done(&format!("/c/{code}/tickets/{t}"), Notice::Submitted)),
        Err(e) => refused_on_patrols(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/findings/{id}/ticket")).await,
    }
}

#[derive(Template)]
#[template(path = "fieldwork/patrol.html")]
pub struct PatrolPage {
    pub ctx: PageCtx,
    pub title: String,
    pub crumbs: Vec<(String, String)>,
    pub heading: String,
    pub tag: Option<Tag>,
    pub cells: Vec<(String, String)>,
    pub findings: Vec<Item>,
}

pub async fn patrol_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let mut conn = state.db.read().await?;
    let p = store::patrol_for(&mut conn, &actor, c.id, id).await?;
    let findings = store::findings(&mut conn, c.id, id).await?;
    drop(conn);
    let minutes = p.ended_at.map(|e| (e - p.started_at) / crate::time::MINUTE_MS);
    render(&PatrolPage {
        title: format!("{} #{}", ctx.t("fieldwork.patrol"), p.id),
        crumbs: vec![(format!("/c/{code}/patrols"), ctx.t("fieldwork.patrols"))],
        heading: format!("{} {}", p.patroller, p.team.clone().unwrap_or_default()),
        tag: Some(state_tag(&ctx, p.ended_at.is_some())),
        cells: vec![
            (ctx.t("entity.grid"), p.grid.clone().unwrap_or_default()),
            (ctx.t("fieldwork.route"), p.route.clone().unwrap_or_default()),
            (ctx.t("fieldwork.started"), fmt::datetime(p.started_at)),
            (ctx.t("fieldwork.ended_at"), p.ended_at.map(fmt::datetime).unwrap_or_default()),
            (ctx.t("points.hours"), minutes.map(crate::time::hours).unwrap_or_default()),
            (ctx.t("fieldwork.summary"), p.note.clone().unwrap_or_default()),
        ],
        findings: findings.iter().map(|f| finding_item(&ctx, &code, f)).collect(),
        ctx,
    })
}

#[derive(Deserialize)]
pub struct DayQuery {
    day: Option<String>,
    /// The household the note is about, chosen on its page.
    household: Option<i64>,
}

#[derive(Template)]
#[template(path = "fieldwork/notes.html")]
pub struct NotesPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub pick_day: Form,
    pub day_title: String,
    pub notes: Vec<Item>,
    pub new_note: Option<Form>,
    pub by_day: Vec<Item>,
}

async fn notes_page(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    day: NaiveDate,
    household: Option<i64>,
    r: &Refusal,
) -> PageResult {
    let mut conn = state.db.read().await?;
    let notes = store::notes_of_day(&mut conn, actor, c.id, day).await?;
    let days = store::note_days(&mut conn, actor, c.id, 30).await?;
    let households = if actor.can(c.id, Permission::FieldWork) {
        crate::capabilities::registry::places::households_within(&mut conn, actor, c.id, Permission::ViewRegistry)
            .await?
    } else {
        Vec::new()
    };
    drop(conn);
    let code = &c.code;
    let notes: Vec<Item> = notes
        .iter()
        .map(|n| Item {
            title: n.heard.clone(),
            sub: format!(
                "{} · {} · {}{}",
                fmt::datetime(n.at),
                match n.author_post.as_deref().and_then(Post::parse) {
                    Some(p) => format!("{}（{}）", n.author, ctx.t(&p.label_key())),
                    None => n.author.clone(),
                },
                n.address.clone().or(n.place.clone()).unwrap_or_default(),
                n.follow_up.as_deref().map(|f| format!(" · {}：{f}", ctx.t("fieldwork.follow_up"))).unwrap_or_default()
            ),
            href: n.household_id.map(|h| format!("/c/{code}/households/{h}")),
            tag: n.follow_up.as_ref().map(|_| Tag::new(ctx.t("fieldwork.follow_up"), Tone::Orange)),
        })
        .collect();
    let new_note = actor.can(c.id, Permission::FieldWork).then(|| {
        Form::new(ctx.t("fieldwork.new_note"), format!("/c/{code}/field-notes"), ctx.t("common.save"))
            .input(
                Input::new(
                    "household_id",
                    ctx.t("fieldwork.household"),
                    InputKind::Select(household_choices(&ctx, households)),
                )
                .value(household.map(|h| h.to_string()).unwrap_or_default()),
            )
            .input(Input::new("place", ctx.t("fieldwork.place"), InputKind::Text))
            .input(Input::new("heard", ctx.t("fieldwork.heard"), InputKind::TextArea).required())
            .input(Input::new("follow_up", ctx.t("fieldwork.follow_up"), InputKind::TextArea))
            .refused(r)
    });
    let by_day = days
        .iter()
        .map(|(d, n)| Item {
            title: d.to_string(),
            sub: ctx.tr("list.total", "n", n),
            href: Some(format!("/c/{code}/field-notes?day={d}")),
            tag: None,
        })
        .collect();
    let pick_day = Form::new("", format!("/c/{code}/field-notes?by=day"), ctx.t("fieldwork.show_day"))
        .input(Input::new("day", ctx.t("fieldwork.day"), InputKind::Date).value(day))
        .get();
    let alert = r.alert_for(&new_note.iter().collect::<Vec<_>>());
    render(&NotesPage {
        title: ctx.t("fieldwork.notes"),
        alert,
        pick_day,
        day_title: format!("{day} · {}", ctx.tr("list.total", "n", notes.len())),
        notes,
        new_note,
        by_day,
        ctx,
    })
}

/// The household picker: none (a place is written instead), then the worker's
/// households by address.
fn household_choices(ctx: &PageCtx, households: Vec<(i64, String)>) -> Vec<(String, String)> {
    let none = (String::new(), ctx.t("fieldwork.no_household"));
    std::iter::once(none).chain(households.into_iter().map(|(id, address)| (id.to_string(), address))).collect()
}

pub async fn notes(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<DayQuery>,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let day = q.day.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).unwrap_or_else(fmt::today);
    notes_page(&state, ctx, &actor, &c, day, q.household, &Refusal::none()).await
}

pub async fn add_note(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = visible_community(&state.db, &actor, &code).await?;
    let mut f = Fields::new(&m);
    let household = f.int("household_id");
    let result = match f.checked() {
        Ok(()) => {
            store::add_note(&state, &actor, c.id, household, f.opt("place"), &f.text("heard"), f.opt("follow_up"))
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/field-notes"), Notice::Saved)),
        Err(e) => {
            let action = format!("/c/{code}/field-notes");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                notes_page(&state, ctx, &actor, &c, fmt::today(), None, &r).await
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The patrols page drawn from plain data: a patrol under way with a finding to turn
    /// into a ticket, and a refused finding showing its error on its field.
    #[test]
    fn a_patrol_under_way_shows_its_findings_and_the_forms_to_go_on() {
        let ctx = crate::web::tests::ctx();
        let r = Refusal {
            form_id: Form::id_for("/c/1/patrols/9/findings"),
            errors: [("note".to_string(), "必填".to_string())].into(),
            alert: Some("有几项需要修改".into()),
            ..Refusal::default()
        };
        let add = Form::new("记录发现", "/c/1/patrols/9/findings", "记录")
            .input(Input::new("note", "发现", InputKind::TextArea))
            .refused(&r);
        let page = PatrolsPage {
            title: "巡查".into(),
            alert: r.alert_for(&[&add]),
            under_way: Some(UnderWay {
                cells: vec![("路线".into(), "<b>东门</b>".into())],
                findings: vec![Item { title: "路灯坏了".into(), ..Item::default() }],
                to_ticket: vec![Form::new("转工单 路灯坏了", "/c/1/findings/3/ticket", "转工单")],
                add_finding: add,
                end: Form::new("结束", "/c/1/patrols/9/end", "结束").danger("确定结束巡查？"),
            }),
            start: None,
            join: None,
            streaks: Table::default(),
            recent: Vec::new(),
            links: Vec::new(),
            ctx,
        };
        let html = page.render().unwrap();
        assert!(html.contains("&#60;b&#62;东门") || html.contains("&lt;b&gt;东门"), "text stays text");
        assert!(html.contains(r#"id="e-c-1-patrols-9-findings-note""#), "the error sits on its field");
        assert!(html.contains("data-confirm=\"确定结束巡查？\""), "ending asks first");
        assert!(html.contains("/c/1/findings/3/ticket"));
    }
}
