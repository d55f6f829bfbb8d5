//! Phone pages of field work: a patrol under way (findings, one-tap tickets, end), the
//! patrols and streaks, and the field notes of a day.

use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::store;
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::registry::people::posts::Post;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use crate::web::form::{CsrfForm, int, opt, text};
use crate::web::sheet::{Card, Form, Input, InputKind, Item, Sheet, Table};
use crate::web::{Notice, PageCtx, PageResult, SignedPage, done, fmt};

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&state.db, actor, code).await
}

async fn refused(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    e: AppError,
    m: &Map<String, Value>,
    action: &str,
) -> PageResult {
    crate::web::sheet::refused(e, m, action, || patrols_sheet(state, ctx, actor, c)).await
}

fn finding_item(ctx: &PageCtx, code: &str, f: &store::Finding) -> Item {
    let at = fmt::datetime(f.at);
    let point = f.lat.zip(f.lng).map(|(a, b)| format!(" · {a:.5}, {b:.5}")).unwrap_or_default();
    Item {
        title: f.note.clone(),
        sub: format!("{at}{point}"),
        href: f.ticket_id.map(|t| format!("/c/{code}/tickets/{t}")),
        tag: f.ticket_id.map(|t| (format!("{} #{t}", ctx.t("fieldwork.ticket")), "tag-green")),
    }
}

async fn patrols_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let open = store::open_patrol(&mut conn, c.id, actor.user_id).await?;
    let recent = store::patrols(&mut conn, actor, c.id, 30).await?;
    let streaks = store::team_streaks(&mut conn, c.id).await?;
    let my_teams = crate::capabilities::points::store::teams_of(&mut conn, c.id, actor.user_id).await?;
    let all_teams = crate::capabilities::points::store::teams(&mut conn, c.id).await?;
    let grids: Vec<(i64, String)> =
        crate::db::query("SELECT id, name FROM grids WHERE community_id = $1 AND archived_at IS NULL ORDER BY name")
            .bind(c.id)
            .fetch_all(&mut conn)
            .await?;
    let findings = match &open {
        Some(p) => store::findings(&mut conn, c.id, p.id).await?,
        None => Vec::new(),
    };
    drop(conn);
    let code = &c.code;
    let mut sheet = Sheet::new(ctx.clone(), ctx.t("fieldwork.patrols"));
    match &open {
        Some(p) => {
            sheet = sheet.card(Card {
                title: ctx.t("fieldwork.under_way"),
                tag: Some((ctx.t("fieldwork.patrolling"), "tag-orange")),
                cells: vec![
                    (ctx.t("entity.team"), p.team.clone().unwrap_or_default()),
                    (ctx.t("entity.grid"), p.grid.clone().unwrap_or_default()),
                    (ctx.t("fieldwork.route"), p.route.clone().unwrap_or_default()),
                    (ctx.t("fieldwork.started"), fmt::datetime(p.started_at)),
                ],
                items: findings.iter().map(|f| finding_item(&ctx, code, f)).collect(),
                ..Card::default()
            });
            let categories = crate::capabilities::tickets::pages::category_options(state, c.id).await?;
            for f in findings.iter().filter(|f| f.ticket_id.is_none()) {
                sheet = sheet.form(
                    Form::new(
                        format!("{} {}", ctx.t("fieldwork.to_ticket"), f.note),
                        format!("/c/{code}/findings/{}/ticket", f.id),
                        ctx.t("fieldwork.to_ticket"),
                    )
                    .input(Input::new(
                        "category_id",
                        ctx.t("ticket.category"),
                        InputKind::Select(categories.clone()),
                    )),
                );
            }
            sheet = sheet
                .form(
                    Form::new(
                        ctx.t("fieldwork.add_finding"),
                        format!("/c/{code}/patrols/{}/findings", p.id),
                        ctx.t("fieldwork.add_finding"),
                    )
                    .input(Input::new("note", ctx.t("fieldwork.finding"), InputKind::TextArea).required())
                    .input(Input::new("lat", ctx.t("field.household.lat"), InputKind::Number))
                    .input(Input::new("lng", ctx.t("field.household.lng"), InputKind::Number))
                    .input(Input::new("locate", "", InputKind::Locate).value(ctx.t("ticket.use_location"))),
                )
                .form(
                    Form::new(
                        ctx.t("fieldwork.end"),
                        format!("/c/{code}/patrols/{}/end", p.id),
                        ctx.t("fieldwork.end"),
                    )
                    .input(Input::new("note", ctx.t("fieldwork.summary"), InputKind::TextArea))
                    .danger(),
                );
        }
        None => {
            let field = actor.can(c.id, Permission::FieldWork);
            let mut teams = vec![];
            if field {
                teams.push((String::new(), ctx.t("common.none")));
                teams.extend(all_teams.iter().map(|(id, n)| (id.to_string(), n.clone())));
            } else {
                teams.extend(my_teams.iter().map(|m| (m.team_id.to_string(), m.team.clone())));
            }
            let mut grid_opts = vec![(String::new(), ctx.t("common.none"))];
            grid_opts.extend(grids.iter().map(|(id, n)| (id.to_string(), n.clone())));
            if field || !teams.is_empty() {
                sheet = sheet.form(
                    Form::new(ctx.t("fieldwork.start"), format!("/c/{code}/patrols"), ctx.t("fieldwork.start"))
                        .input(Input::new("team_id", ctx.t("entity.team"), InputKind::Select(teams)))
                        .input(Input::new("grid_id", ctx.t("entity.grid"), InputKind::Select(grid_opts)))
                        .input(Input::new("route", ctx.t("fieldwork.route"), InputKind::Text)),
                );
            } else {
                sheet = sheet.card(Card {
                    text: Some(ctx.t("fieldwork.join_a_team")),
                    links: vec![(format!("/c/{code}/volunteer"), ctx.t("points.my_service"))],
                    ..Card::default()
                });
            }
        }
    }
    if !streaks.is_empty() {
        sheet = sheet.table(Table {
            title: ctx.t("fieldwork.streaks"),
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
                        (name.clone(), None),
                        (cur.to_string(), None),
                        (long.to_string(), None),
                        (days.to_string(), None),
                    ]
                })
                .collect(),
            empty: String::new(),
        });
    }
    Ok(sheet.card(Card {
        title: ctx.t("fieldwork.recent"),
        items: recent
            .iter()
            .map(|p| Item {
                title: format!("{} {}", p.patroller, p.team.clone().unwrap_or_default()),
                sub: format!("{} {}", fmt::datetime(p.started_at), p.route.clone().unwrap_or_default()),
                href: Some(format!("/c/{code}/patrols/{}", p.id)),
                tag: Some(if p.ended_at.is_some() {
                    (ctx.t("fieldwork.ended"), "tag-grey")
                } else {
                    (ctx.t("fieldwork.patrolling"), "tag-orange")
                }),
            })
            .collect(),
        empty: Some(ctx.t("list.empty")),
        links: if actor.can(c.id, Permission::FieldWork) {
            vec![(format!("/c/{code}/field-notes"), ctx.t("fieldwork.notes"))]
        } else {
            vec![]
        },
        ..Card::default()
    }))
}

pub async fn patrols(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    patrols_sheet(&state, ctx, &actor, &c).await?.render()
}

pub async fn start(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::start(&state, &actor, c.id, int(&m, "team_id"), int(&m, "grid_id"), opt(&m, "route")).await {
        Ok(_) => Ok(done(&format!("/c/{code}/patrols"), Notice::Started)),
        Err(e) => refused(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/patrols")).await,
    }
}

pub async fn add_finding(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = match super::parse_point(&text(&m, "lat"), &text(&m, "lng")) {
        Ok(point) => store::add_finding(&state, &actor, c.id, id, &text(&m, "note"), point).await.map(|_| ()),
        Err(e) => Err(AppError::Invalid(e)),
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/patrols"), Notice::Saved)),
        Err(e) => refused(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/patrols/{id}/findings")).await,
    }
}

pub async fn end(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::end(&state, &actor, c.id, id, opt(&m, "note")).await {
        Ok(_) => Ok(done(&format!("/c/{code}/patrols/{id}"), Notice::Ended)),
        Err(e) => refused(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/patrols/{id}/end")).await,
    }
}

pub async fn to_ticket(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::finding_to_ticket(&state, &actor, c.id, id, int(&m, "category_id")).await {
        Ok(t) => Ok(done(&format!("/c/{code}/tickets/{t}"), Notice::Submitted)),
        Err(e) => refused(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/findings/{id}/ticket")).await,
    }
}

pub async fn patrol_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut conn = state.db.read().await?;
    let p = store::patrol_for(&mut conn, &actor, c.id, id).await?;
    let findings = store::findings(&mut conn, c.id, id).await?;
    drop(conn);
    let minutes = p.ended_at.map(|e| (e - p.started_at) / crate::time::MINUTE_MS);
    Sheet::new(ctx.clone(), format!("{} #{}", ctx.t("fieldwork.patrol"), p.id))
        .crumb(format!("/c/{code}/patrols"), ctx.t("fieldwork.patrols"))
        .card(Card {
            title: format!("{} {}", p.patroller, p.team.clone().unwrap_or_default()),
            tag: Some(if p.ended_at.is_some() {
                (ctx.t("fieldwork.ended"), "tag-grey")
            } else {
                (ctx.t("fieldwork.patrolling"), "tag-orange")
            }),
            cells: vec![
                (ctx.t("entity.grid"), p.grid.clone().unwrap_or_default()),
                (ctx.t("fieldwork.route"), p.route.clone().unwrap_or_default()),
                (ctx.t("fieldwork.started"), fmt::datetime(p.started_at)),
                (ctx.t("fieldwork.ended_at"), p.ended_at.map(fmt::datetime).unwrap_or_default()),
                (ctx.t("points.hours"), minutes.map(crate::time::hours).unwrap_or_default()),
                (ctx.t("fieldwork.summary"), p.note.clone().unwrap_or_default()),
            ],
            items: findings.iter().map(|f| finding_item(&ctx, &code, f)).collect(),
            empty: Some(ctx.t("fieldwork.no_findings")),
            ..Card::default()
        })
        .render()
}

#[derive(Deserialize)]
pub struct DayQuery {
    day: Option<String>,
}

async fn notes_sheet(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    day: NaiveDate,
) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let notes = store::notes_of_day(&mut conn, actor, c.id, day).await?;
    let days = store::note_days(&mut conn, actor, c.id, 30).await?;
    drop(conn);
    let code = &c.code;
    let mut sheet = Sheet::new(ctx.clone(), ctx.t("fieldwork.notes"))
        .form(
            Form::new("", format!("/c/{code}/field-notes?by=day"), ctx.t("fieldwork.show_day"))
                .input(Input::new("day", ctx.t("fieldwork.day"), InputKind::Date).value(day))
                .get(),
        )
        .card(Card {
            title: format!("{day} · {}", ctx.tr("list.total", "n", notes.len())),
            items: notes
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
                        n.follow_up
                            .as_deref()
                            .map(|f| format!(" · {}：{f}", ctx.t("fieldwork.follow_up")))
                            .unwrap_or_default()
                    ),
                    href: n.household_id.map(|h| format!("/c/{code}/households/{h}")),
                    tag: n.follow_up.as_ref().map(|_| (ctx.t("fieldwork.follow_up"), "tag-orange")),
                })
                .collect(),
            empty: Some(ctx.t("list.empty")),
            ..Card::default()
        });
    if actor.can(c.id, Permission::FieldWork) {
        sheet = sheet.form(
            Form::new(ctx.t("fieldwork.new_note"), format!("/c/{code}/field-notes"), ctx.t("common.save"))
                .input(Input::new("household_id", ctx.t("ticket.household_no"), InputKind::Number))
                .input(Input::new("place", ctx.t("fieldwork.place"), InputKind::Text))
                .input(Input::new("heard", ctx.t("fieldwork.heard"), InputKind::TextArea).required())
                .input(Input::new("follow_up", ctx.t("fieldwork.follow_up"), InputKind::TextArea)),
        );
    }
    if !days.is_empty() {
        sheet = sheet.card(Card {
            title: ctx.t("fieldwork.by_day"),
            items: days
                .iter()
                .map(|(d, n)| Item {
                    title: d.to_string(),
                    sub: ctx.tr("list.total", "n", n),
                    href: Some(format!("/c/{code}/field-notes?day={d}")),
                    tag: None,
                })
                .collect(),
            ..Card::default()
        });
    }
    Ok(sheet)
}

pub async fn notes(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<DayQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let day = q.day.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()).unwrap_or_else(fmt::today);
    notes_sheet(&state, ctx, &actor, &c, day).await?.render()
}

pub async fn add_note(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let household = opt(&m, "household_id");
    let parsed = household.as_deref().map(|h| h.parse::<i64>());
    let result = match parsed {
        Some(Err(_)) => Err(AppError::field("household_id", "validation.integer")),
        _ => store::add_note(
            &state,
            &actor,
            c.id,
            parsed.and_then(Result::ok),
            opt(&m, "place"),
            &text(&m, "heard"),
            opt(&m, "follow_up"),
        )
        .await
        .map(|_| ()),
    };
    match result {
        Ok(()) => Ok(done(&format!("/c/{code}/field-notes"), Notice::Saved)),
        Err(e) => {
            crate::web::sheet::refused(e, &m, &format!("/c/{code}/field-notes"), || {
                notes_sheet(&state, ctx, &actor, &c, fmt::today())
            })
            .await
        }
    }
}
