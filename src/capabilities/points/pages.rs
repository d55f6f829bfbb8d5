//! Pages of the volunteer service: a volunteer's own page (register, teams, report a
//! service, balance, redemptions, certificate), staff's review queue and volunteers,
//! the ledger with rules and hand-given points, the shop and its handover desk, the
//! public honor roll and certificate check, and the figures.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::store::{self, NewRule, NewService, RankBy, Registration};
use super::{Period, SERVICE_TYPES, Source, ledger, stats};
use crate::auth::guard;
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::error::{AppError, AppResult};
use crate::services::media;
use crate::time::hours;
use crate::web::AppState;
use crate::web::form::{CsrfForm, CsrfMultipart, PlainForm, date, int, list, opt, text, when, yes};
use crate::web::sheet::{Block, Card, Form, Input, InputKind, Item, Sheet, Stat, Table, refused};
use crate::web::ui::{Bars, bars_markup};
use crate::web::{Notice, Page, PageCtx, PageError, PageResult, SignedPage, done, fmt, see_other};

async fn community(state: &AppState, actor: &Actor, code: &str) -> AppResult<CommunityRef> {
    crate::auth::guard::visible_community(&state.db, actor, code).await
}

fn status_tag(ctx: &PageCtx, status: &str) -> (String, &'static str) {
    let class = match status {
        "approved" | "confirmed" => "tag-green",
        "pending" | "held" => "tag-orange",
        "rejected" | "expired" | "cancelled" => "tag-grey",
        _ => "tag-grey",
    };
    (ctx.t(&format!("points.status.{status}")), class)
}

fn type_label(ctx: &PageCtx, t: &str) -> String {
    ctx.t(&format!("choice.service_record.service_type.{t}"))
}

fn type_options(ctx: &PageCtx) -> Vec<(String, String)> {
    SERVICE_TYPES.iter().map(|t| (t.to_string(), type_label(ctx, t))).collect()
}

fn record_item(ctx: &PageCtx, code: &str, r: &store::ServiceRecord, with_name: bool) -> Item {
    let who = if with_name { format!("{} · ", r.volunteer_name) } else { String::new() };
    let points = r.points.map(|p| format!(" · {}", ctx.tr("points.n_points", "n", p))).unwrap_or_default();
    Item {
        title: format!("{} {}", type_label(ctx, &r.service_type), r.content),
        sub: format!("{who}{} · {} {}{points}", fmt::datetime(r.started_at), hours(r.minutes), ctx.t("points.hours")),
        href: Some(format!("/c/{code}/service-records/{}", r.id)),
        tag: Some(status_tag(ctx, &r.status)),
    }
}

/// The form a volunteer (or staff, for someone) records a service with.
fn service_form(ctx: &PageCtx, code: &str, teams: &[(i64, String)], volunteers: Option<Vec<(String, String)>>) -> Form {
    let now = crate::db::now_ms();
    let mut f =
        Form::new(ctx.t("points.record_service"), format!("/c/{code}/service-records"), ctx.t("points.submit_record"));
    if let Some(v) = volunteers {
        f = f.input(Input::new("volunteer_id", ctx.t("points.volunteer"), InputKind::Select(v)).required());
    }
    let mut team_options = vec![(String::new(), ctx.t("common.none"))];
    team_options.extend(teams.iter().map(|(id, n)| (id.to_string(), n.clone())));
    f.input(
        Input::new("service_type", ctx.t("points.service_type"), InputKind::Select(type_options(ctx)))
            .required()
            .value("care"),
    )
    .input(Input::new("content", ctx.t("points.content"), InputKind::TextArea).required())
    .input(Input::new("place", ctx.t("points.place"), InputKind::Text))
    .input(Input::new("team_id", ctx.t("entity.team"), InputKind::Select(team_options)))
    .input(
        Input::new("started_at", ctx.t("points.started_at"), InputKind::DateTime)
            .required()
            .value(fmt::local_input(now - 2 * crate::time::HOUR_MS)),
    )
    .input(
        Input::new("ended_at", ctx.t("points.ended_at"), InputKind::DateTime).required().value(fmt::local_input(now)),
    )
    .input(Input::new("minutes", ctx.t("points.minutes"), InputKind::Number).hint(ctx.t("points.minutes_hint")))
    .input(Input::new("photos", ctx.t("points.photo"), InputKind::File))
}

// ---------- a volunteer's own page ----------

async fn my_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let title = ctx.t("points.my_service");
    let me = store::volunteer_of(&mut conn, c.id, actor.user_id).await?;
    let Some(v) = me else {
        let f = Form::new(
            ctx.t("points.register"),
            format!("/c/{}/volunteer/register", c.code),
            ctx.t("points.register_submit"),
        )
        .input(Input::new("name", ctx.t("field.resident.name"), InputKind::Text).required().value(&actor.display_name))
        .input(Input::new("skills", ctx.t("points.skills"), InputKind::Text).hint(ctx.t("points.skills_hint")))
        .input(Input::new("availability", ctx.t("points.availability"), InputKind::Text))
        .input(
            Input::new("id_number", ctx.t("field.resident.id_number"), InputKind::Text)
                .hint(ctx.t("points.id_number_hint")),
        )
        .input(Input::new("show_name", ctx.t("points.show_name"), InputKind::Checkbox));
        let intro = Card { title: c.name.clone(), text: Some(ctx.t("points.register_intro")), ..Card::default() };
        return Ok(Sheet::new(ctx, title).card(intro).form(f));
    };
    let balance = ledger::balance(&mut conn, c.id, actor.user_id).await?;
    let records = store::records(
        &mut conn,
        actor,
        c.id,
        &store::RecordFilter { user_id: Some(actor.user_id), ..Default::default() },
        50,
    )
    .await?;
    let approved: i64 = records.iter().filter(|r| r.status == "approved").map(|r| r.minutes).sum();
    let memberships = store::teams_of(&mut conn, c.id, actor.user_id).await?;
    let all_teams = store::teams(&mut conn, c.id).await?;
    let redemptions = store::my_redemptions(&mut conn, c.id, actor.user_id).await?;
    let lines = ledger::statement(&mut conn, c.id, actor.user_id, 20).await?;
    drop(conn);
    let code = &c.code;
    let card =
        Card {
            title: format!("{} · {}", v.name, v.number),
            stats: vec![
                Stat {
                    label: ctx.t("points.balance"),
                    value: fmt::thousands(balance),
                    href: Some(format!("/c/{code}/shop")),
                },
                Stat { label: ctx.t("points.hours_total"), value: hours(approved), href: None },
                Stat { label: ctx.t("points.records"), value: records.len().to_string(), href: None },
            ],
            cells: vec![
                (ctx.t("points.skills"), v.skills().join("、")),
                (ctx.t("points.availability"), v.availability.clone().unwrap_or_default()),
                (
                    ctx.t("points.teams"),
                    memberships
                        .iter()
                        .map(|m| {
                            if m.leader {
                                format!("{}（{}）", m.team, ctx.t("points.leader"))
                            } else {
                                m.team.clone()
                            }
                        })
                        .collect::<Vec<_>>()
                        .join("、"),
                ),
            ],
            links: vec![
                (format!("/c/{code}/shop"), ctx.t("points.shop")),
                (format!("/p/{code}/honor"), ctx.t("points.honor_roll")),
                (format!("/c/{code}/patrols"), ctx.t("fieldwork.patrols")),
            ],
            ..Card::default()
        };
    let mut join = vec![];
    for (id, name) in &all_teams {
        if !memberships.iter().any(|m| m.team_id == *id) {
            join.push((id.to_string(), name.clone()));
        }
    }
    let mut sheet = Sheet::new(ctx.clone(), title).card(card).form(service_form(&ctx, code, &all_teams, None));
    sheet = sheet.card(Card {
        title: ctx.t("points.my_records"),
        items: records.iter().map(|r| record_item(&ctx, code, r, false)).collect(),
        empty: Some(ctx.t("list.empty")),
        ..Card::default()
    });
    if !redemptions.is_empty() {
        sheet = sheet.card(Card {
            title: ctx.t("points.my_redemptions"),
            items: redemptions
                .iter()
                .map(|d| Item {
                    title: d.reward.clone(),
                    sub: format!("{} · {}", ctx.tr("points.n_points", "n", d.points), fmt::datetime(d.held_at)),
                    href: Some(format!("/c/{code}/redemptions/{}", d.id)),
                    tag: Some(status_tag(&ctx, &d.status)),
                })
                .collect(),
            ..Card::default()
        });
    }
    sheet = sheet.card(Card {
        title: ctx.t("points.statement"),
        items: lines.iter().map(|l| line_item(&ctx, l)).collect(),
        empty: Some(ctx.t("list.empty")),
        ..Card::default()
    });
    if !join.is_empty() {
        sheet = sheet.form(
            Form::new(ctx.t("points.join_team"), format!("/c/{code}/volunteer/teams"), ctx.t("points.join"))
                .input(Input::new("team_id", ctx.t("entity.team"), InputKind::Select(join)))
                .input(Input::hidden("member", "true"))
                .folded(),
        );
    }
    for m in &memberships {
        sheet = sheet.form(
            Form::new(
                format!("{} {}", ctx.t("points.leave_team"), m.team),
                format!("/c/{code}/volunteer/teams?team={}", m.team_id),
                ctx.t("points.leave"),
            )
            .input(Input::hidden("team_id", m.team_id))
            .input(Input::hidden("member", "false"))
            .danger()
            .folded(),
        );
    }
    let year_start = NaiveDate::from_ymd_opt(chrono::Datelike::year(&fmt::today()), 1, 1).unwrap_or(fmt::today());
    sheet = sheet
        .form(
            Form::new(ctx.t("points.profile"), format!("/c/{code}/volunteer/profile"), ctx.t("common.save"))
                .input(Input::new("skills", ctx.t("points.skills"), InputKind::Text).value(v.skills().join("、")))
                .input(
                    Input::new("availability", ctx.t("points.availability"), InputKind::Text)
                        .value(v.availability.clone().unwrap_or_default()),
                )
                .input(Input::new("show_name", ctx.t("points.show_name"), InputKind::Checkbox).value(v.show_name))
                .folded(),
        )
        .form(certificate_form(&ctx, code, v.id, year_start).folded());
    Ok(sheet)
}

fn certificate_form(ctx: &PageCtx, code: &str, volunteer_id: i64, from: NaiveDate) -> Form {
    Form::new(
        ctx.t("points.certificate"),
        format!("/c/{code}/volunteers/{volunteer_id}/certificates"),
        ctx.t("points.certificate_issue"),
    )
    .input(Input::new("from", ctx.t("points.period_from"), InputKind::Date).required().value(from))
    .input(Input::new("to", ctx.t("points.period_to"), InputKind::Date).required().value(fmt::today()))
}

fn line_item(ctx: &PageCtx, l: &crate::services::ledger::store::Line) -> Item {
    let sign = if l.amount > 0 { "+" } else { "" };
    Item {
        title: format!("{sign}{} {}", l.amount, ctx.t(&format!("points.cause.{}", l.cause))),
        sub: format!(
            "{} · {}{}",
            fmt::datetime(l.at),
            l.counterpart,
            l.reason.as_deref().map(|r| format!(" · {r}")).unwrap_or_default()
        ),
        href: None,
        tag: None,
    }
}

pub async fn my_service(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    my_sheet(&state, ctx, &actor, &c).await?.render()
}

fn registration(m: &Map<String, Value>) -> Registration {
    Registration {
        name: text(m, "name"),
        id_number: opt(m, "id_number"),
        skills: list(m, "skills"),
        availability: opt(m, "availability"),
        show_name: yes(m, "show_name"),
    }
}

pub async fn register(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::register_self(&state, &actor, &c, registration(&m)).await {
        Ok(_) => Ok(done(&format!("/c/{code}/volunteer"), Notice::Registered)),
        Err(e) => refused(e, &m, &format!("/c/{code}/volunteer/register"), || my_sheet(&state, ctx, &actor, &c)).await,
    }
}

pub async fn update_profile(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut conn = state.db.read().await?;
    let v = store::volunteer_of(&mut conn, c.id, actor.user_id).await?.ok_or(AppError::NotFound)?;
    drop(conn);
    match store::update_volunteer(
        &state,
        &actor,
        c.id,
        v.id,
        list(&m, "skills"),
        opt(&m, "availability"),
        yes(&m, "show_name"),
    )
    .await
    {
        Ok(_) => Ok(done(&format!("/c/{code}/volunteer"), Notice::Saved)),
        Err(e) => refused(e, &m, &format!("/c/{code}/volunteer/profile"), || my_sheet(&state, ctx, &actor, &c)).await,
    }
}

pub async fn teams(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let team = int(&m, "team_id").ok_or(AppError::field("team_id", "validation.required"))?;
    let user = int(&m, "user_id").unwrap_or(actor.user_id);
    let member = yes(&m, "member");
    store::set_membership(&state, &actor, c.id, team, user, member, yes(&m, "leader")).await?;
    let back = if user == actor.user_id && !yes(&m, "staff") {
        format!("/c/{code}/volunteer")
    } else {
        format!("/c/{code}/teams/{team}/members")
    };
    Ok(done(&back, Notice::Saved))
}

fn new_service(m: &Map<String, Value>) -> NewService {
    NewService {
        volunteer_id: int(m, "volunteer_id"),
        team_id: int(m, "team_id"),
        service_type: text(m, "service_type"),
        content: text(m, "content"),
        place: opt(m, "place"),
        started_at: when(m, "started_at"),
        ended_at: when(m, "ended_at"),
        minutes: int(m, "minutes"),
    }
}

pub async fn add_record(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    form: CsrfMultipart,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let m = form.fields;
    let staff = actor.can(c.id, Permission::ManagePoints) && int(&m, "volunteer_id").is_some();
    let source = if staff { Source::Staff } else { Source::SelfReported };
    let result = match media::check_uploads(&form.files) {
        Ok(photos) => store::submit_service(&state, &actor, c.id, &new_service(&m), source, &photos).await,
        Err(e) => Err(e),
    };
    let action = format!("/c/{code}/service-records");
    match result {
        Ok(r) if staff => Ok(done(&format!("/c/{code}/service-records/{}", r.id), Notice::Saved)),
        Ok(_) => Ok(done(&format!("/c/{code}/volunteer"), Notice::RecordSent)),
        Err(e) if staff => refused(e, &m, &action, || review_sheet(&state, ctx, &actor, &c, "pending")).await,
        Err(e) => refused(e, &m, &action, || my_sheet(&state, ctx, &actor, &c)).await,
    }
}

/// A team's members (staff): who is in it, who leads, add and remove.
pub async fn team_members(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    guard::require(&actor, c.id, Permission::ManagePoints)?;
    let mut conn = state.db.read().await?;
    let team: String = crate::db::query("SELECT name FROM teams WHERE community_id = $1 AND id = $2")
        .bind(c.id)
        .bind(id)
        .scalar_optional(&mut conn)
        .await?
        .ok_or(AppError::NotFound)?;
    let members = store::members(&mut conn, c.id, id).await?;
    let volunteers = store::volunteers(&mut conn, &actor, c.id, "").await?;
    drop(conn);
    let action = format!("/c/{code}/volunteer/teams");
    let mut sheet = Sheet::new(ctx.clone(), team.clone()).crumb(format!("/c/{code}/teams/{id}"), team).card(Card {
        title: ctx.tr("list.total", "n", members.len()),
        items: members
            .iter()
            .map(|m| Item {
                title: m.name.clone(),
                sub: fmt::datetime(m.joined_at),
                href: None,
                tag: m.leader.then(|| (ctx.t("points.leader"), "tag-orange")),
            })
            .collect(),
        empty: Some(ctx.t("list.empty")),
        ..Card::default()
    });
    let outside: Vec<(String, String)> = volunteers
        .iter()
        .filter(|v| !members.iter().any(|m| m.user_id == v.user_id))
        .map(|v| (v.user_id.to_string(), format!("{} {}", v.number, v.name)))
        .collect();
    if !outside.is_empty() {
        sheet = sheet.form(
            Form::new(ctx.t("points.add_member"), format!("{action}?add={id}"), ctx.t("points.join"))
                .input(Input::hidden("team_id", id))
                .input(Input::hidden("member", "true"))
                .input(Input::hidden("staff", "true"))
                .input(Input::new("user_id", ctx.t("points.volunteer"), InputKind::Select(outside)))
                .input(Input::new("leader", ctx.t("points.leader"), InputKind::Checkbox)),
        );
    }
    for m in &members {
        sheet = sheet.form(
            Form::new(m.name.clone(), format!("{action}?member={}", m.user_id), ctx.t("common.save"))
                .input(Input::hidden("team_id", id))
                .input(Input::hidden("user_id", m.user_id))
                .input(Input::hidden("staff", "true"))
                .input(Input::new("member", ctx.t("points.in_team"), InputKind::Checkbox).value(true))
                .input(Input::new("leader", ctx.t("points.leader"), InputKind::Checkbox).value(m.leader))
                .folded(),
        );
    }
    sheet.render()
}

// ---------- staff: review, volunteers ----------

async fn review_sheet(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    status: &str,
) -> AppResult<Sheet> {
    guard::require(actor, c.id, Permission::ManagePoints)?;
    let mut conn = state.db.read().await?;
    let records = store::records(
        &mut conn,
        actor,
        c.id,
        &store::RecordFilter { status: Some(status.to_string()), ..Default::default() },
        200,
    )
    .await?;
    let volunteers = store::volunteers(&mut conn, actor, c.id, "").await?;
    let teams = store::teams(&mut conn, c.id).await?;
    drop(conn);
    let code = &c.code;
    let tabs = ["pending", "approved", "rejected"]
        .iter()
        .map(|s| (format!("/c/{code}/service-records?status={s}"), ctx.t(&format!("points.status.{s}")), *s == status))
        .collect();
    let options = volunteers.iter().map(|v| (v.id.to_string(), format!("{} {}", v.number, v.name))).collect();
    Ok(Sheet::new(ctx.clone(), ctx.t("points.review"))
        .block(Block::Tabs(tabs))
        .card(Card {
            title: ctx.tr("list.total", "n", records.len()),
            items: records.iter().map(|r| record_item(&ctx, code, r, true)).collect(),
            empty: Some(ctx.t("list.empty")),
            links: vec![
                (format!("/c/{code}/volunteers"), ctx.t("points.volunteers")),
                (format!("/c/{code}/points"), ctx.t("points.ledger")),
            ],
            ..Card::default()
        })
        .form(service_form(&ctx, code, &teams, Some(options)).folded()))
}

#[derive(Deserialize)]
pub struct StatusQuery {
    status: Option<String>,
}

pub async fn review(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<StatusQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let status = q
        .status
        .filter(|s| ["pending", "approved", "rejected"].contains(&s.as_str()))
        .unwrap_or_else(|| "pending".into());
    review_sheet(&state, ctx, &actor, &c, &status).await?.render()
}

async fn record_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let r = store::record_for(&mut conn, actor, c.id, id).await?;
    let photos = media::of(&mut conn, c.id, "service_record", id).await?;
    let history = crate::services::audit::history(&mut conn, c.id, "service_record", id).await?;
    drop(conn);
    let code = &c.code;
    let staff = actor.can(c.id, Permission::ManagePoints);
    let mut cells = vec![
        (ctx.t("points.volunteer"), r.volunteer_name.clone()),
        (ctx.t("points.service_type"), type_label(&ctx, &r.service_type)),
        (ctx.t("points.place"), r.place.clone().unwrap_or_default()),
        (ctx.t("entity.team"), r.team_name.clone().unwrap_or_default()),
        (ctx.t("points.started_at"), fmt::datetime(r.started_at)),
        (ctx.t("points.ended_at"), fmt::datetime(r.ended_at)),
        (ctx.t("points.hours"), hours(r.minutes)),
        (ctx.t("points.source"), ctx.t(&format!("points.source.{}", r.source))),
    ];
    if let Some(p) = r.points {
        cells.push((ctx.t("points.points"), p.to_string()));
    }
    if let Some(reason) = &r.reason {
        cells.push((ctx.t("points.reason"), reason.clone()));
    }
    let mut sheet = Sheet::new(ctx.clone(), format!("{} #{}", ctx.t("points.record"), r.id))
        .crumb(
            if staff { format!("/c/{code}/service-records") } else { format!("/c/{code}/volunteer") },
            ctx.t(if staff { "points.review" } else { "points.my_service" }),
        )
        .card(Card {
            title: r.content.clone(),
            tag: Some(status_tag(&ctx, &r.status)),
            cells,
            html: media::gallery(&photos, code),
            ..Card::default()
        });
    if staff && r.status == "pending" && r.user_id != actor.user_id {
        let action = format!("/c/{code}/service-records/{id}/decide");
        sheet = sheet
            .form(
                Form::new(ctx.t("points.approve"), action.clone(), ctx.t("points.approve"))
                    .input(Input::hidden("decision", "approve")),
            )
            .form(
                Form::new(ctx.t("points.reject"), format!("{action}?reject=1"), ctx.t("points.reject"))
                    .input(Input::hidden("decision", "reject"))
                    .input(Input::new("reason", ctx.t("points.reason"), InputKind::TextArea).required())
                    .danger()
                    .folded(),
            );
    }
    if !history.is_empty() {
        sheet = sheet.card(Card {
            title: ctx.t("audit.title"),
            items: history
                .iter()
                .map(|h| Item {
                    title: format!("{} · {}", h.actor_name, ctx.t(&format!("audit.{}", h.action))),
                    sub: fmt::datetime(h.at),
                    ..Item::default()
                })
                .collect(),
            ..Card::default()
        });
    }
    Ok(sheet)
}

pub async fn record_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    record_sheet(&state, ctx, &actor, &c, id).await?.render()
}

pub async fn decide(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let approve = text(&m, "decision") == "approve";
    let reason = opt(&m, "reason");
    match store::decide(&state, &actor, c.id, id, approve, reason.as_deref()).await {
        Ok(_) => {
            Ok(done(&format!("/c/{code}/service-records"), if approve { Notice::Approved } else { Notice::Rejected }))
        }
        Err(e) => {
            let action = if approve {
                format!("/c/{code}/service-records/{id}/decide")
            } else {
                format!("/c/{code}/service-records/{id}/decide?reject=1")
            };
            refused(e, &m, &action, || record_sheet(&state, ctx, &actor, &c, id)).await
        }
    }
}

#[derive(Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

async fn volunteers_sheet(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    q: &str,
) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let list = store::volunteers(&mut conn, actor, c.id, q).await?;
    drop(conn);
    let code = &c.code;
    let search = Form::new("", format!("/c/{code}/volunteers?find=1"), ctx.t("common.search"))
        .input(Input::new("q", ctx.t("points.search_volunteer"), InputKind::Text).value(q))
        .get();
    let signup =
        Form::new(ctx.t("points.sign_up_someone"), format!("/c/{code}/volunteers"), ctx.t("points.register_submit"))
            .input(Input::new("name", ctx.t("field.resident.name"), InputKind::Text).required())
            .input(
                Input::new("phone", ctx.t("field.resident.phone"), InputKind::Tel)
                    .required()
                    .hint(ctx.t("points.phone_signs_in")),
            )
            .input(Input::new("id_number", ctx.t("field.resident.id_number"), InputKind::Text))
            .input(Input::new("skills", ctx.t("points.skills"), InputKind::Text))
            .input(Input::new("availability", ctx.t("points.availability"), InputKind::Text))
            .input(Input::new("show_name", ctx.t("points.show_name"), InputKind::Checkbox))
            .folded();
    Ok(Sheet::new(ctx.clone(), ctx.t("points.volunteers"))
        .form(search)
        .card(Card {
            title: ctx.tr("list.total", "n", list.len()),
            items: list
                .iter()
                .map(|v| Item {
                    title: format!("{} {}", v.name, v.number),
                    sub: v.skills().join("、"),
                    href: Some(format!("/c/{code}/volunteers/{}", v.id)),
                    tag: None,
                })
                .collect(),
            empty: Some(ctx.t("list.empty")),
            links: vec![
                (format!("/c/{code}/service-records"), ctx.t("points.review")),
                (format!("/c/{code}/volunteers/join"), ctx.t("points.join_page")),
            ],
            ..Card::default()
        })
        .form(signup))
}

pub async fn volunteer_list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    volunteers_sheet(&state, ctx, &actor, &c, q.q.as_deref().unwrap_or("")).await?.render()
}

fn initial_password() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("system random source");
    format!("Lj{}", hex::encode(b))
}

/// Staff sign someone up; the initial password is shown once, to hand over.
pub async fn staff_sign_up(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let password = initial_password();
    match store::sign_up(&state, Some(&actor), &c, registration(&m), &text(&m, "phone"), &password).await {
        Ok(v) => Sheet::new(ctx.clone(), ctx.t("points.signed_up"))
            .card(Card {
                title: format!("{} · {}", v.name, v.number),
                cells: vec![
                    (
                        ctx.t("auth.username"),
                        crate::services::pii::normalize_phone(&text(&m, "phone")).unwrap_or_default(),
                    ),
                    (ctx.t("points.initial_password"), password),
                ],
                text: Some(ctx.t("points.initial_password_hint")),
                links: vec![(format!("/c/{code}/volunteers/{}", v.id), ctx.t("common.more"))],
                ..Card::default()
            })
            .render(),
        Err(e) => {
            refused(e, &m, &format!("/c/{code}/volunteers"), || volunteers_sheet(&state, ctx, &actor, &c, "")).await
        }
    }
}

async fn volunteer_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef, id: i64) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let v = store::volunteer_for(&mut conn, actor, c.id, id).await?;
    let balance = ledger::balance(&mut conn, c.id, v.user_id).await?;
    let records = store::records(
        &mut conn,
        actor,
        c.id,
        &store::RecordFilter { user_id: Some(v.user_id), ..Default::default() },
        100,
    )
    .await?;
    let memberships = store::teams_of(&mut conn, c.id, v.user_id).await?;
    let lines = ledger::statement(&mut conn, c.id, v.user_id, 50).await?;
    let all_rules = store::all_rules(&mut conn, c.id).await?;
    drop(conn);
    let code = &c.code;
    let now = crate::db::now_ms();
    let approved: i64 = records.iter().filter(|r| r.status == "approved").map(|r| r.minutes).sum();
    let mut sheet = Sheet::new(ctx.clone(), v.name.clone())
        .crumb(format!("/c/{code}/volunteers"), ctx.t("points.volunteers"))
        .card(Card {
            title: v.number.clone(),
            stats: vec![
                Stat { label: ctx.t("points.balance"), value: fmt::thousands(balance), href: None },
                Stat { label: ctx.t("points.hours_total"), value: hours(approved), href: None },
            ],
            cells: vec![
                (ctx.t("field.resident.id_number"), v.id_number_masked.clone().unwrap_or_default()),
                (ctx.t("points.skills"), v.skills().join("、")),
                (ctx.t("points.availability"), v.availability.clone().unwrap_or_default()),
                (ctx.t("points.teams"), memberships.iter().map(|m| m.team.clone()).collect::<Vec<_>>().join("、")),
                (ctx.t("points.joined"), fmt::datetime(v.joined_at)),
            ],
            ..Card::default()
        })
        .card(Card {
            title: ctx.t("points.records"),
            items: records.iter().map(|r| record_item(&ctx, code, r, false)).collect(),
            empty: Some(ctx.t("list.empty")),
            ..Card::default()
        })
        .card(Card {
            title: ctx.t("points.statement"),
            items: lines.iter().map(|l| line_item(&ctx, l)).collect(),
            empty: Some(ctx.t("list.empty")),
            ..Card::default()
        });
    if actor.can(c.id, Permission::ManagePoints) {
        let manual: Vec<(String, String)> = all_rules
            .iter()
            .filter(|r| {
                matches!(r.kind(), Some(super::RuleKind::Bonus | super::RuleKind::Deduction)) && r.in_force(now)
            })
            .map(|r| {
                (r.id.to_string(), format!("{}（{}{}）", r.name, if r.kind == "bonus" { "+" } else { "−" }, r.points))
            })
            .collect();
        let mut rules = vec![(String::new(), ctx.t("points.by_amount"))];
        rules.extend(manual);
        sheet = sheet.form(give_form(&ctx, code, Some(v.user_id), rules, Vec::new()).folded());
    }
    let from = NaiveDate::from_ymd_opt(chrono::Datelike::year(&fmt::today()), 1, 1).unwrap_or(fmt::today());
    Ok(sheet.form(certificate_form(&ctx, code, v.id, from).folded()))
}

/// Giving by hand: to a volunteer (on their page), or on the ledger page to a user by
/// number or to a team's or partner unit's account (`holders`).
fn give_form(
    ctx: &PageCtx,
    code: &str,
    user: Option<i64>,
    rules: Vec<(String, String)>,
    holders: Vec<(String, String)>,
) -> Form {
    let mut f = Form::new(ctx.t("points.give"), format!("/c/{code}/points/give"), ctx.t("points.give_submit"));
    f = match user {
        Some(u) => f.input(Input::hidden("user_id", u)),
        None => {
            let mut options = vec![(String::new(), ctx.t("points.holder_person"))];
            options.extend(holders);
            f.input(Input::new("holder", ctx.t("points.give_to"), InputKind::Select(options))).input(Input::new(
                "user_id",
                ctx.t("points.user_id"),
                InputKind::Number,
            ))
        }
    };
    let mut key = [0u8; 8];
    getrandom::fill(&mut key).expect("system random source");
    f.input(Input::new("rule_id", ctx.t("points.rule"), InputKind::Select(rules)))
        .input(Input::new("amount", ctx.t("points.amount"), InputKind::Number).hint(ctx.t("points.amount_hint")))
        .input(Input::new("reason", ctx.t("points.reason"), InputKind::TextArea).required())
        // One submission, one movement: a double tap posts once.
        .input(Input::hidden("key", hex::encode(key)))
}

pub async fn volunteer_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    volunteer_sheet(&state, ctx, &actor, &c, id).await?.render()
}

pub async fn issue_certificate(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::issue_certificate(&state, &actor, c.id, id, date(&m, "from"), date(&m, "to")).await {
        Ok(cert) => Ok(see_other(&format!("/c/{code}/certificates/{}.pdf", cert.id))),
        Err(e) => {
            let action = format!("/c/{code}/volunteers/{id}/certificates");
            let mut conn = state.db.read().await?;
            let own = store::volunteer_of(&mut conn, c.id, actor.user_id).await?.is_some_and(|v| v.id == id);
            drop(conn);
            if own && !actor.can(c.id, Permission::ManagePoints) {
                refused(e, &m, &action, || my_sheet(&state, ctx, &actor, &c)).await
            } else {
                refused(e, &m, &action, || volunteer_sheet(&state, ctx, &actor, &c, id)).await
            }
        }
    }
}

/// The base address pages link to from paper (certificates, plates).
pub fn public_base(state: &AppState) -> String {
    state
        .config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", state.config.listen))
        .trim_end_matches('/')
        .to_string()
}

/// What a certificate says, read from the database.
pub async fn certificate_content(
    state: &AppState,
    c: &CommunityRef,
    cert: &store::Certificate,
) -> AppResult<super::certificate::Content> {
    let mut conn = state.db.read().await?;
    let v = store::volunteer(&mut conn, c.id, cert.volunteer_id).await?.ok_or(AppError::NotFound)?;
    let records = store::served(&mut conn, c.id, v.id, cert.period_from, cert.period_to).await?;
    let subdistrict: String = crate::db::query("SELECT name FROM subdistricts WHERE id = $1")
        .bind(c.subdistrict_id)
        .scalar(&mut conn)
        .await?;
    Ok(super::certificate::Content {
        community: c.name.clone(),
        subdistrict,
        name: v.name.clone(),
        number: v.number.clone(),
        id_number_masked: v.id_number_masked.clone(),
        from: cert.period_from.to_string(),
        to: cert.period_to.to_string(),
        lines: records
            .iter()
            .map(|r| {
                let mut what = r.content.clone();
                if let Some(p) = &r.place {
                    what.push_str(&format!("（{p}）"));
                }
                if let Some(t) = &r.team_name {
                    what.push_str(&format!(" · {t}"));
                }
                (crate::time::day_of(r.started_at).to_string(), what, hours(r.minutes))
            })
            .collect(),
        total_hours: hours(cert.minutes),
        issued_on: crate::time::day_of(cert.issued_at).to_string(),
        code: cert.code.clone(),
        verify_url: format!("{}/p/{}/certificates/{}", public_base(state), c.code, cert.code),
    })
}

pub async fn certificate_pdf(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, file)): Path<(String, String)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let id: i64 = file.strip_suffix(".pdf").and_then(|s| s.parse().ok()).ok_or(AppError::NotFound)?;
    let mut conn = state.db.read().await?;
    let cert = store::certificate(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    store::volunteer_for(&mut conn, &actor, c.id, cert.volunteer_id).await?;
    drop(conn);
    let pdf = super::certificate::pdf(&certificate_content(&state, &c, &cert).await?)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, format!("inline; filename=\"certificate-{}.pdf\"", cert.code)),
        ],
        pdf,
    )
        .into_response())
}

/// Anyone holding a certificate can check it here: who, what period, how many hours.
pub async fn verify_certificate(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path((code, cert)): Path<(String, String)>,
) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let mut conn = state.db.read().await?;
    let found = store::certificate_by_code(&mut conn, c.id, &cert).await?;
    let title = ctx.t("points.verify_title");
    let Some(cert) = found else {
        let card = Card {
            title: ctx.t("points.verify_unknown"),
            tag: Some((ctx.t("points.not_valid"), "tag-red")),
            text: Some(ctx.t("points.verify_unknown_hint")),
            ..Card::default()
        };
        return Sheet::new(ctx, title).card(card).render_status(StatusCode::NOT_FOUND);
    };
    let v = store::volunteer(&mut conn, c.id, cert.volunteer_id).await?.ok_or(AppError::NotFound)?;
    drop(conn);
    let card = Card {
        title: ctx.t("points.verify_valid"),
        tag: Some((ctx.t("points.valid"), "tag-green")),
        cells: vec![
            (ctx.t("points.volunteer"), crate::services::pii::mask_name(&v.name)),
            (ctx.t("points.number"), v.number.clone()),
            (ctx.t("points.period"), format!("{} — {}", cert.period_from, cert.period_to)),
            (ctx.t("points.records"), cert.records.to_string()),
            (ctx.t("points.hours_total"), hours(cert.minutes)),
            (ctx.t("points.issuer"), c.name.clone()),
            (ctx.t("points.issued_on"), crate::time::day_of(cert.issued_at).to_string()),
            (ctx.t("points.verify_code"), cert.code.clone()),
        ],
        ..Card::default()
    };
    Sheet::new(ctx, title).card(card).render()
}

// ---------- public sign-up ----------

async fn join_sheet(ctx: PageCtx, c: &CommunityRef) -> AppResult<Sheet> {
    let f =
        Form::new(ctx.t("points.register"), format!("/c/{}/volunteers/join", c.code), ctx.t("points.register_submit"))
            .input(Input::new("name", ctx.t("field.resident.name"), InputKind::Text).required())
            .input(
                Input::new("phone", ctx.t("field.resident.phone"), InputKind::Tel)
                    .required()
                    .hint(ctx.t("points.phone_signs_in")),
            )
            .input(
                Input::new("password", ctx.t("auth.password"), InputKind::Password)
                    .required()
                    .hint(ctx.t("validation.password_mix")),
            )
            .input(
                Input::new("id_number", ctx.t("field.resident.id_number"), InputKind::Text)
                    .hint(ctx.t("points.id_number_hint")),
            )
            .input(Input::new("skills", ctx.t("points.skills"), InputKind::Text).hint(ctx.t("points.skills_hint")))
            .input(Input::new("availability", ctx.t("points.availability"), InputKind::Text))
            .input(Input::new("show_name", ctx.t("points.show_name"), InputKind::Checkbox));
    let intro = Card {
        title: c.name.clone(),
        text: Some(ctx.t("points.join_intro")),
        links: vec![("/login".into(), ctx.t("points.have_account"))],
        ..Card::default()
    };
    // A public form: the session's form token is not there, the origin check is.
    Ok(Sheet::new(ctx.clone(), ctx.t("points.join_page")).card(intro).form(f))
}

pub async fn join_page(State(state): State<AppState>, Page(ctx): Page, Path(code): Path<String>) -> PageResult {
    if ctx.user.is_some() {
        return Ok(Redirect::to(&format!("/c/{code}/volunteer")).into_response());
    }
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    join_sheet(ctx, &c).await?.render()
}

pub async fn join(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path(code): Path<String>,
    PlainForm(m): PlainForm,
) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    match store::sign_up(&state, None, &c, registration(&m), &text(&m, "phone"), &text(&m, "password")).await {
        Ok(_) => Ok(done(&format!("/login?next=/c/{code}/volunteer"), Notice::SignedUp)),
        Err(e) => refused(e, &m, &format!("/c/{code}/volunteers/join"), || join_sheet(ctx, &c)).await,
    }
}

// ---------- the ledger (staff) ----------

async fn ledger_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef) -> AppResult<Sheet> {
    guard::require(actor, c.id, Permission::ManagePoints)?;
    let mut conn = state.db.read().await?;
    let rules = store::all_rules(&mut conn, c.id).await?;
    let journal = ledger::journal(&mut conn, c.id, 50).await?;
    let groups = ledger::group_balances(&mut conn, c.id).await?;
    drop(conn);
    let code = &c.code;
    let now = crate::db::now_ms();
    let holders: Vec<(String, String)> = groups
        .iter()
        .map(|(kind, id, name, _)| {
            (format!("{kind}:{id}"), format!("{} · {name}", ctx.t(&format!("points.holder_{kind}"))))
        })
        .collect();
    let group_card = Card {
        title: ctx.t("points.group_accounts"),
        items: groups
            .iter()
            .filter(|g| g.3 != 0)
            .map(|(kind, _, name, balance)| Item {
                title: name.clone(),
                sub: format!(
                    "{} · {}",
                    ctx.t(&format!("points.holder_{kind}")),
                    ctx.tr("points.n_points", "n", balance)
                ),
                ..Item::default()
            })
            .collect(),
        empty: Some(ctx.t("list.empty")),
        ..Card::default()
    };
    let rule_rows = rules
        .iter()
        .rev()
        .map(|r| {
            let what = match r.kind() {
                Some(super::RuleKind::PerHour) => ctx.tr("points.per_hour_n", "n", r.points),
                Some(super::RuleKind::Deduction) => format!("−{}", r.points),
                _ => format!("+{}", r.points),
            };
            let caps = [
                r.daily_cap.map(|d| ctx.tr("points.daily_cap_n", "n", d)),
                r.monthly_cap.map(|m| ctx.tr("points.monthly_cap_n", "n", m)),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
            let until = r.effective_to.map(fmt::datetime).unwrap_or_else(|| ctx.t("points.until_changed"));
            vec![
                (format!("{} v{}", r.name, r.version), None),
                (ctx.t(&format!("points.kind.{}", r.kind)), None),
                (
                    r.service_type
                        .as_deref()
                        .map(|t| if t == "*" { ctx.t("points.any_service") } else { type_label(&ctx, t) })
                        .unwrap_or_default(),
                    None,
                ),
                (what, None),
                (caps, None),
                (format!("{} — {until}", fmt::datetime(r.effective_from)), None),
                (if r.in_force(now) { ctx.t("points.in_force") } else { String::new() }, None),
            ]
        })
        .collect();
    let mut kinds = vec![];
    for k in super::RuleKind::ALL {
        kinds.push((k.as_str().to_string(), ctx.t(&format!("points.kind.{}", k.as_str()))));
    }
    let mut types = vec![("*".to_string(), ctx.t("points.any_service"))];
    types.extend(type_options(&ctx));
    let mut codes = vec![(String::new(), ctx.t("points.new_rule"))];
    let mut seen = std::collections::BTreeSet::new();
    for r in rules.iter().rev() {
        if seen.insert(r.code.clone()) {
            codes.push((r.code.clone(), format!("{}（{}）", r.name, ctx.t("points.new_version"))));
        }
    }
    let rule_form = Form::new(ctx.t("points.add_rule"), format!("/c/{code}/points/rules"), ctx.t("common.save"))
        .input(Input::new("code", ctx.t("points.rule_code"), InputKind::Select(codes)))
        .input(Input::new("name", ctx.t("points.rule_name"), InputKind::Text).required())
        .input(Input::new("kind", ctx.t("points.rule_kind"), InputKind::Select(kinds)).value("per_hour"))
        .input(Input::new("service_type", ctx.t("points.service_type"), InputKind::Select(types)))
        .input(Input::new("points", ctx.t("points.points"), InputKind::Number).required())
        .input(Input::new("daily_cap", ctx.t("points.daily_cap"), InputKind::Number))
        .input(Input::new("monthly_cap", ctx.t("points.monthly_cap"), InputKind::Number))
        .input(
            Input::new("effective_from", ctx.t("points.effective_from"), InputKind::DateTime)
                .hint(ctx.t("points.effective_from_hint")),
        )
        .folded();
    let manual: Vec<(String, String)> = std::iter::once((String::new(), ctx.t("points.by_amount")))
        .chain(
            rules
                .iter()
                .filter(|r| {
                    matches!(r.kind(), Some(super::RuleKind::Bonus | super::RuleKind::Deduction)) && r.in_force(now)
                })
                .map(|r| (r.id.to_string(), r.name.clone())),
        )
        .collect();
    let journal_rows = journal
        .iter()
        .map(|(m, from, to)| {
            vec![
                (fmt::datetime(m.at), None),
                (format!("{from} → {to}"), None),
                (m.amount.to_string(), None),
                (ctx.t(&format!("points.cause.{}", m.cause)), None),
                (m.reason.clone().unwrap_or_default(), None),
                (m.id.to_string(), None),
            ]
        })
        .collect();
    Ok(Sheet::new(ctx.clone(), ctx.t("points.ledger"))
        .card(Card {
            title: c.name.clone(),
            links: vec![
                (format!("/c/{code}/service-records"), ctx.t("points.review")),
                (format!("/c/{code}/volunteers"), ctx.t("points.volunteers")),
                (format!("/c/{code}/rewards"), ctx.t("points.rewards")),
                (format!("/c/{code}/handover"), ctx.t("points.handover")),
                (format!("/c/{code}/commendations"), ctx.t("points.commendations")),
                (format!("/c/{code}/points/stats"), ctx.t("points.stats")),
            ],
            ..Card::default()
        })
        .table(Table {
            title: ctx.t("points.rules"),
            head: [
                "points.rule_name",
                "points.rule_kind",
                "points.service_type",
                "points.points",
                "points.caps",
                "points.effective",
                "",
            ]
            .iter()
            .map(|k| if k.is_empty() { String::new() } else { ctx.t(k) })
            .collect(),
            rows: rule_rows,
            empty: ctx.t("list.empty"),
        })
        .form(rule_form)
        .form(give_form(&ctx, code, None, manual, holders).folded())
        .card(group_card)
        .table(Table {
            title: ctx.t("points.journal"),
            head: ["points.at", "points.accounts", "points.amount", "points.cause", "points.reason", "points.movement"]
                .iter()
                .map(|k| ctx.t(k))
                .collect(),
            rows: journal_rows,
            empty: ctx.t("list.empty"),
        })
        .form(
            Form::new(ctx.t("points.reverse"), format!("/c/{code}/points/reverse"), ctx.t("points.reverse"))
                .input(Input::new("movement_id", ctx.t("points.movement"), InputKind::Number).required())
                .input(Input::new("reason", ctx.t("points.reason"), InputKind::TextArea).required())
                .danger()
                .folded(),
        ))
}

pub async fn ledger_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    ledger_sheet(&state, ctx, &actor, &c).await?.render()
}

pub async fn add_rule(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let points = text(&m, "points").trim().parse::<i64>();
    let input = NewRule {
        code: opt(&m, "code"),
        name: text(&m, "name"),
        kind: text(&m, "kind"),
        service_type: opt(&m, "service_type"),
        points: *points.as_ref().unwrap_or(&0),
        daily_cap: int(&m, "daily_cap"),
        monthly_cap: int(&m, "monthly_cap"),
        effective_from: when(&m, "effective_from"),
    };
    let result = match points {
        Err(_) => Err(AppError::field("points", "validation.integer")),
        Ok(_) => store::add_rule(&state, &actor, c.id, input).await,
    };
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/points"), Notice::Saved)),
        Err(e) => refused(e, &m, &format!("/c/{code}/points/rules"), || ledger_sheet(&state, ctx, &actor, &c)).await,
    }
}

pub async fn give(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let holder = text(&m, "holder");
    let (team, unit) = match holder.split_once(':') {
        Some(("team", id)) => (id.parse().ok(), None),
        Some(("unit", id)) => (None, id.parse().ok()),
        _ => (None, None),
    };
    let user = int(&m, "user_id").filter(|_| team.is_none() && unit.is_none());
    let g = store::ByHand {
        user_id: user,
        team_id: team,
        partner_unit_id: unit,
        rule_id: int(&m, "rule_id"),
        amount: int(&m, "amount"),
        reason: text(&m, "reason"),
        key: format!("hand:{}", text(&m, "key")),
    };
    let result = if text(&m, "key").is_empty() {
        Err(AppError::BadRequest("key".into()))
    } else {
        store::give(&state, &actor, c.id, g).await
    };
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/points"), Notice::Saved)),
        Err(e) => refused(e, &m, &format!("/c/{code}/points/give"), || ledger_sheet(&state, ctx, &actor, &c)).await,
    }
}

pub async fn reverse(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let result = match int(&m, "movement_id") {
        Some(id) => store::correct(&state, &actor, c.id, id, &text(&m, "reason")).await,
        None => Err(AppError::field("movement_id", "validation.integer")),
    };
    match result {
        Ok(_) => Ok(done(&format!("/c/{code}/points"), Notice::Saved)),
        Err(AppError::NotFound) => {
            refused(
                AppError::field("movement_id", "validation.reference"),
                &m,
                &format!("/c/{code}/points/reverse"),
                || ledger_sheet(&state, ctx, &actor, &c),
            )
            .await
        }
        Err(e) => refused(e, &m, &format!("/c/{code}/points/reverse"), || ledger_sheet(&state, ctx, &actor, &c)).await,
    }
}

// ---------- the shop ----------

async fn shop_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let items = store::shop(&mut conn, c.id, fmt::today()).await?;
    let balance = ledger::balance(&mut conn, c.id, actor.user_id).await?;
    drop(conn);
    let code = &c.code;
    let staff = actor.can(c.id, Permission::ManagePoints);
    let mut links = vec![(format!("/c/{code}/volunteer"), ctx.t("points.my_service"))];
    if staff {
        links.push((format!("/c/{code}/rewards"), ctx.t("points.rewards")));
    }
    if staff
        || actor
            .grants
            .iter()
            .any(|g| g.role() == crate::auth::model::Role::PartnerUnit && g.community_id == Some(c.id))
    {
        links.push((format!("/c/{code}/handover"), ctx.t("points.handover")));
    }
    let mut sheet = Sheet::new(ctx.clone(), ctx.t("points.shop")).card(Card {
        title: c.name.clone(),
        stats: vec![Stat {
            label: ctx.t("points.balance"),
            value: fmt::thousands(balance),
            href: Some(format!("/c/{code}/volunteer")),
        }],
        links,
        ..Card::default()
    });
    if items.is_empty() {
        sheet = sheet.card(Card { empty: Some(ctx.t("list.empty")), ..Card::default() });
    }
    for r in &items {
        let mut cells = vec![
            (ctx.t("points.price"), ctx.tr("points.n_points", "n", r.price)),
            (ctx.t("points.stock"), r.stock.to_string()),
            (ctx.t("points.provider"), r.provider.clone().unwrap_or_else(|| c.name.clone())),
        ];
        if let Some(l) = r.per_person_limit {
            cells.push((ctx.t("points.limit"), l.to_string()));
        }
        if let Some(d) = r.valid_to {
            cells.push((ctx.t("points.valid_to"), d.to_string()));
        }
        let tag = if r.stock == 0 {
            Some((ctx.t("points.out_of_stock_tag"), "tag-grey"))
        } else {
            Some((ctx.t(&format!("choice.reward.kind.{}", r.kind)), "tag-green"))
        };
        sheet = sheet.card(Card { title: r.name.clone(), tag, text: r.description.clone(), cells, ..Card::default() });
        if r.stock > 0 {
            sheet = sheet.form(
                Form::new("", format!("/c/{code}/shop/{}/redeem", r.id), ctx.tr("points.redeem_for", "n", r.price))
                    .input(Input::hidden("key", format!("{}-{}", actor.user_id, crate::db::now_ms()))),
            );
        }
    }
    Ok(sheet)
}

pub async fn shop(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    shop_sheet(&state, ctx, &actor, &c).await?.render()
}

pub async fn redeem(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::redeem(&state, &actor, c.id, id, opt(&m, "key")).await {
        Ok(d) => Ok(done(&format!("/c/{code}/redemptions/{}", d.id), Notice::Redeemed)),
        Err(e) => refused(e, &m, &format!("/c/{code}/shop/{id}/redeem"), || shop_sheet(&state, ctx, &actor, &c)).await,
    }
}

pub async fn redemption_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let mut conn = state.db.read().await?;
    let d = store::redemption(&mut conn, c.id, id).await?.ok_or(AppError::NotFound)?;
    drop(conn);
    let staff = actor.can(c.id, Permission::ManagePoints);
    if d.user_id != actor.user_id && !staff {
        return Err(PageError(AppError::NotFound));
    }
    let held = d.status == "held";
    // The code shows in full only to its holder; the QR carries it for the desk's scanner.
    let qr = (held && d.user_id == actor.user_id).then(|| {
        qrcode::QrCode::new(d.code.as_bytes())
            .map(|q| q.render::<qrcode::render::svg::Color>().min_dimensions(180, 180).build())
            .unwrap_or_default()
    });
    let mut cells = vec![
        (ctx.t("points.price"), ctx.tr("points.n_points", "n", d.points)),
        (ctx.t("points.held_at"), fmt::datetime(d.held_at)),
        (ctx.t("points.expires_at"), fmt::datetime(d.expires_at)),
    ];
    if d.user_id == actor.user_id {
        cells.insert(0, (ctx.t("points.handover_code"), d.code.clone()));
    }
    let mut sheet =
        Sheet::new(ctx.clone(), d.reward.clone()).crumb(format!("/c/{code}/shop"), ctx.t("points.shop")).card(Card {
            title: d.reward.clone(),
            tag: Some(status_tag(&ctx, &d.status)),
            text: held.then(|| ctx.t("points.show_code")),
            cells,
            html: qr,
            ..Card::default()
        });
    if held {
        sheet = sheet.form(
            Form::new(ctx.t("points.cancel"), format!("/c/{code}/redemptions/{id}/cancel"), ctx.t("points.cancel"))
                .danger()
                .folded(),
        );
    }
    sheet.render()
}

pub async fn cancel(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    store::cancel(&state, &actor, c.id, id).await?;
    Ok(done(&format!("/c/{code}/redemptions/{id}"), Notice::Cancelled))
}

async fn handover_sheet(state: &AppState, ctx: PageCtx, actor: &Actor, c: &CommunityRef) -> AppResult<Sheet> {
    let mut conn = state.db.read().await?;
    let waiting = store::handovers(&mut conn, actor, c.id).await?;
    drop(conn);
    let code = &c.code;
    Ok(Sheet::new(ctx.clone(), ctx.t("points.handover"))
        .form(
            Form::new(ctx.t("points.confirm_handover"), format!("/c/{code}/handover"), ctx.t("points.confirm")).input(
                Input::new("code", ctx.t("points.handover_code"), InputKind::Number)
                    .required()
                    .hint(ctx.t("points.handover_hint")),
            ),
        )
        .card(Card {
            title: ctx.t("points.waiting_handover"),
            items: waiting
                .iter()
                .map(|d| Item {
                    title: d.reward.clone(),
                    sub: format!(
                        "{} · {} · {}",
                        crate::services::pii::mask_name(&d.holder),
                        ctx.tr("points.n_points", "n", d.points),
                        fmt::datetime(d.held_at)
                    ),
                    href: None,
                    tag: None,
                })
                .collect(),
            empty: Some(ctx.t("list.empty")),
            ..Card::default()
        }))
}

pub async fn handover_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    handover_sheet(&state, ctx, &actor, &c).await?.render()
}

pub async fn handover(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    match store::confirm(&state, &actor, c.id, &text(&m, "code")).await {
        Ok(d) => {
            let done = Card {
                title: ctx.t("points.handed_over"),
                tag: Some((ctx.t("points.status.confirmed"), "tag-green")),
                cells: vec![
                    (ctx.t("points.reward"), d.reward.clone()),
                    (ctx.t("points.holder"), crate::services::pii::mask_name(&d.holder)),
                ],
                ..Card::default()
            };
            let sheet = handover_sheet(&state, ctx, &actor, &c).await?;
            let mut blocks = vec![Block::Card(done)];
            blocks.extend(sheet.blocks);
            Sheet { blocks, ..sheet }.render()
        }
        Err(e) => refused(e, &m, &format!("/c/{code}/handover"), || handover_sheet(&state, ctx, &actor, &c)).await,
    }
}

// ---------- the honor roll (public) ----------

#[derive(Deserialize)]
pub struct HonorQuery {
    by: Option<String>,
    period: Option<String>,
    grid: Option<i64>,
    level: Option<String>,
}

pub async fn honor(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path(code): Path<String>,
    Query(q): Query<HonorQuery>,
) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    let by = if q.by.as_deref() == Some("points") { RankBy::Points } else { RankBy::Hours };
    let period = q.period.as_deref().and_then(Period::parse).unwrap_or(Period::Month);
    let subdistrict = q.level.as_deref() == Some("subdistrict");
    let mut conn = state.db.read().await?;
    let ids: Vec<i64> = if subdistrict {
        crate::db::query("SELECT id FROM communities WHERE subdistrict_id = $1 AND archived_at IS NULL")
            .bind(c.subdistrict_id)
            .scalars(&mut conn)
            .await?
    } else {
        vec![c.id]
    };
    let grid = q.grid.filter(|_| !subdistrict);
    let ranked = store::honor_roll(&mut conn, &ids, grid, by, period, 30).await?;
    let commended = store::commendations(&mut conn, &[c.id], 30).await?;
    let grids: Vec<(i64, String)> =
        crate::db::query("SELECT id, name FROM grids WHERE community_id = $1 AND archived_at IS NULL ORDER BY name")
            .bind(c.id)
            .fetch_all(&mut conn)
            .await?;
    let subdistrict_name: String = crate::db::query("SELECT name FROM subdistricts WHERE id = $1")
        .bind(c.subdistrict_id)
        .scalar(&mut conn)
        .await?;
    drop(conn);
    let base = format!("/p/{code}/honor");
    let link = |by: &str, period: &str, grid: Option<i64>, level: &str| {
        let mut s = format!("{base}?by={by}&period={period}");
        if let Some(g) = grid {
            s.push_str(&format!("&grid={g}"));
        }
        if !level.is_empty() {
            s.push_str(&format!("&level={level}"));
        }
        s
    };
    let by_s = if by == RankBy::Points { "points" } else { "hours" };
    let level_s = if subdistrict { "subdistrict" } else { "" };
    let mut places = vec![(link(by_s, period.as_str(), None, ""), c.name.clone(), !subdistrict && grid.is_none())];
    places
        .extend(grids.iter().map(|(id, n)| (link(by_s, period.as_str(), Some(*id), ""), n.clone(), grid == Some(*id))));
    places.push((link(by_s, period.as_str(), None, "subdistrict"), subdistrict_name.clone(), subdistrict));
    let measure = vec![
        (link("hours", period.as_str(), grid, level_s), ctx.t("points.by_hours"), by == RankBy::Hours),
        (link("points", period.as_str(), grid, level_s), ctx.t("points.by_points"), by == RankBy::Points),
    ];
    let periods = [Period::Month, Period::Year, Period::All]
        .iter()
        .map(|p| (link(by_s, p.as_str(), grid, level_s), ctx.t(&format!("points.period.{}", p.as_str())), *p == period))
        .collect();
    let chart_data: Vec<(String, f64)> = ranked
        .iter()
        .take(10)
        .map(|r| (r.name.clone(), if by == RankBy::Hours { r.value as f64 / 60.0 } else { r.value as f64 }))
        .collect();
    let unit = if by == RankBy::Hours { ctx.t("points.hours") } else { ctx.t("points.points") };
    let rows = ranked
        .iter()
        .map(|r| {
            vec![
                (r.rank.to_string(), None),
                (r.name.clone(), None),
                (r.grid.clone().unwrap_or_default(), None),
                (if by == RankBy::Hours { hours(r.value) } else { fmt::thousands(r.value) }, None),
            ]
        })
        .collect();
    Sheet::new(ctx.clone(), ctx.t("points.honor_roll"))
        .block(Block::Tabs(places))
        .block(Block::Tabs(measure))
        .block(Block::Tabs(periods))
        .card(Card {
            title: format!(
                "{} · {}",
                if subdistrict { subdistrict_name } else { c.name.clone() },
                ctx.t("points.honor_roll")
            ),
            html: (!chart_data.is_empty()).then(|| bars_markup(&Bars::new(String::new(), &chart_data, ""))),
            ..Card::default()
        })
        .table(Table {
            title: String::new(),
            head: vec![ctx.t("points.rank"), ctx.t("points.volunteer"), ctx.t("entity.grid"), unit],
            rows,
            empty: ctx.t("list.empty"),
        })
        .card(Card {
            title: ctx.t("points.commendations"),
            items: commended
                .iter()
                .map(|m| Item {
                    title: format!("{} · {}", m.honoree_name, m.title),
                    sub: format!("{} · {}", m.awarded_on, m.issuer),
                    href: None,
                    tag: Some((ctx.t(&format!("choice.commendation.honoree_kind.{}", m.honoree_kind)), "tag-orange")),
                })
                .collect(),
            empty: Some(ctx.t("list.empty")),
            ..Card::default()
        })
        .render()
}

// ---------- figures ----------

#[derive(Deserialize)]
pub struct StatsQuery {
    from: Option<String>,
    to: Option<String>,
    team_id: Option<i64>,
    grid_id: Option<i64>,
}

fn period_of(q: &StatsQuery) -> (NaiveDate, NaiveDate) {
    let today = fmt::today();
    let parse = |s: &Option<String>| s.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    let from = parse(&q.from)
        .unwrap_or_else(|| NaiveDate::from_ymd_opt(chrono::Datelike::year(&today), 1, 1).unwrap_or(today));
    (from, parse(&q.to).unwrap_or(today).max(from))
}

async fn stats_page(
    state: AppState,
    ctx: PageCtx,
    actor: Actor,
    scope: stats::Scope,
    title: String,
    base: String,
) -> PageResult {
    let f = stats::figures(&state.db, &actor, &scope).await?;
    let bars = |rows: &[stats::Row]| {
        bars_markup(&Bars::new(
            String::new(),
            &rows.iter().map(|r| (r.name.clone(), r.minutes as f64 / 60.0)).collect::<Vec<_>>(),
            "",
        ))
    };
    let by_type: Vec<stats::Row> =
        f.by_type.iter().map(|r| stats::Row { name: type_label(&ctx, &r.key), ..r.clone() }).collect();
    let query = format!("from={}&to={}", scope.from, scope.to);
    let table = |title: String, rows: &[stats::Row]| Table {
        title,
        head: vec![String::new(), ctx.t("points.active"), ctx.t("points.records"), ctx.t("points.hours")],
        rows: rows
            .iter()
            .map(|r| {
                vec![
                    (r.name.clone(), None),
                    (r.volunteers.to_string(), None),
                    (r.records.to_string(), None),
                    (hours(r.minutes), None),
                ]
            })
            .collect(),
        empty: ctx.t("list.empty"),
    };
    let filter = Form::new("", base.clone(), ctx.t("common.search"))
        .input(Input::new("from", ctx.t("points.period_from"), InputKind::Date).value(scope.from))
        .input(Input::new("to", ctx.t("points.period_to"), InputKind::Date).value(scope.to))
        .get();
    Sheet::new(ctx.clone(), title)
        .form(filter)
        .card(Card {
            title: format!("{} — {}", scope.from, scope.to),
            stats: vec![
                Stat { label: ctx.t("points.volunteers"), value: fmt::thousands(f.volunteers), href: None },
                Stat { label: ctx.t("points.active"), value: fmt::thousands(f.active_volunteers), href: None },
                Stat { label: ctx.t("points.hours"), value: hours(f.minutes), href: None },
                Stat { label: ctx.t("points.records"), value: fmt::thousands(f.records), href: None },
                Stat { label: ctx.t("points.issued"), value: fmt::thousands(f.points_issued), href: None },
                Stat { label: ctx.t("points.redeemed"), value: fmt::thousands(f.points_redeemed), href: None },
                Stat { label: ctx.t("points.deducted"), value: fmt::thousands(f.points_deducted), href: None },
                Stat { label: ctx.t("points.status.pending"), value: fmt::thousands(f.pending), href: None },
            ],
            links: vec![(format!("{base}.xlsx?{query}").replace("/stats.xlsx", ".xlsx"), ctx.t("points.export"))],
            ..Card::default()
        })
        .card(Card { title: ctx.t("points.by_type"), html: Some(bars(&by_type)), ..Card::default() })
        .card(Card { title: ctx.t("points.top_teams"), html: Some(bars(&f.top_teams)), ..Card::default() })
        .table(table(ctx.t("points.by_place"), &f.by_place))
        .table(table(ctx.t("points.top_teams"), &f.top_teams))
        .render()
}

pub async fn community_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let (from, to) = period_of(&q);
    let scope = stats::Scope { community_ids: vec![c.id], team_id: q.team_id, grid_id: q.grid_id, from, to };
    let title = format!("{} · {}", c.name, ctx.t("points.stats"));
    stats_page(state, ctx, actor, scope, title, format!("/c/{code}/points/stats")).await
}

pub async fn subdistrict_stats(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(id): Path<i64>,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let (name, ids) = crate::auth::guard::subdistrict_communities(&state.db, &actor, id).await?;
    let (from, to) = period_of(&q);
    let scope = stats::Scope { community_ids: ids, team_id: None, grid_id: None, from, to };
    let title = format!("{name} · {}", ctx.t("points.stats"));
    stats_page(state, ctx, actor, scope, title, format!("/subdistricts/{id}/points/stats")).await
}

async fn export(state: &AppState, actor: &Actor, scope: stats::Scope, name: &str) -> AppResult<Response> {
    let rows = stats::ledger_rows(&state.db, actor, &scope).await?;
    let bytes = crate::capabilities::registry::transfer::xlsx_table(
        "志愿服务台账",
        &["社区", "志愿者编号", "姓名", "网格", "服务次数", "服务时长（小时）", "积分余额"],
        &rows,
    )?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"volunteers-{name}.xlsx\"")),
        ],
        bytes,
    )
        .into_response())
}

pub async fn community_export(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let (from, to) = period_of(&q);
    let scope = stats::Scope { community_ids: vec![c.id], team_id: q.team_id, grid_id: q.grid_id, from, to };
    Ok(export(&state, &actor, scope, &c.code).await?)
}

pub async fn subdistrict_export(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(id): Path<i64>,
    Query(q): Query<StatsQuery>,
) -> PageResult {
    let (_, ids) = crate::auth::guard::subdistrict_communities(&state.db, &actor, id).await?;
    let (from, to) = period_of(&q);
    let scope = stats::Scope { community_ids: ids, team_id: None, grid_id: None, from, to };
    Ok(export(&state, &actor, scope, &id.to_string()).await?)
}

// ---------- home ----------

/// What the home page shows of volunteering: a volunteer's balance and hours, staff's
/// queue of records to approve, and the ways in to patrols, notes and the handover desk.
/// This capability's part of a user's home page.
pub fn home<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    actor: &'a Actor,
) -> futures::future::BoxFuture<'a, AppResult<Vec<crate::web::home::Section>>> {
    Box::pin(home_sections(state, ctx, actor))
}

async fn home_sections(state: &AppState, ctx: &PageCtx, actor: &Actor) -> AppResult<Vec<crate::web::home::Section>> {
    use crate::auth::model::Role;
    use crate::web::home::{Section, Stat as HomeStat};
    let mut communities: Vec<i64> = actor.grants.iter().filter_map(|g| g.community_id).collect();
    communities.sort_unstable();
    communities.dedup();
    let mut out = Vec::new();
    for cid in communities {
        let mut conn = state.db.read().await?;
        let Some(c) = crate::auth::guard::community_by_id(&mut conn, cid).await? else { continue };
        let code = &c.code;
        let staff = actor.can(cid, Permission::ManagePoints);
        let me = store::volunteer_of(&mut conn, cid, actor.user_id).await?;
        let mut stats = Vec::new();
        let mut links = Vec::new();
        if let Some(v) = &me {
            let balance = ledger::balance(&mut conn, cid, v.user_id).await?;
            let minutes: i64 = crate::db::query(
                "SELECT CAST(COALESCE(SUM(minutes), 0) AS BIGINT) FROM service_records WHERE community_id = $1 AND user_id = $2 AND status = 'approved'",
            )
            .bind(cid)
            .bind(v.user_id)
            .scalar(&mut conn)
            .await?;
            stats.push(HomeStat {
                label: ctx.t("points.balance"),
                value: fmt::thousands(balance),
                href: Some(format!("/c/{code}/volunteer")),
            });
            stats.push(HomeStat {
                label: ctx.t("points.hours_total"),
                value: hours(minutes),
                href: Some(format!("/c/{code}/volunteer")),
            });
            links.push((format!("/c/{code}/volunteer"), ctx.t("points.my_service")));
        } else if actor.grants.iter().any(|g| {
            g.community_id == Some(cid) && matches!(g.role(), Role::Resident | Role::PartyMember | Role::Volunteer)
        }) {
            links.push((format!("/c/{code}/volunteer"), ctx.t("points.register")));
        }
        if staff {
            let pending: i64 =
                crate::db::query("SELECT COUNT(*) FROM service_records WHERE community_id = $1 AND status = 'pending'")
                    .bind(cid)
                    .scalar(&mut conn)
                    .await?;
            let volunteers: i64 =
                crate::db::query("SELECT COUNT(*) FROM volunteers WHERE community_id = $1 AND archived_at IS NULL")
                    .bind(cid)
                    .scalar(&mut conn)
                    .await?;
            stats.push(HomeStat {
                label: ctx.t("points.status.pending"),
                value: fmt::thousands(pending),
                href: Some(format!("/c/{code}/service-records")),
            });
            stats.push(HomeStat {
                label: ctx.t("points.volunteers"),
                value: fmt::thousands(volunteers),
                href: Some(format!("/c/{code}/volunteers")),
            });
            links.push((format!("/c/{code}/service-records"), ctx.t("points.review")));
            links.push((format!("/c/{code}/points"), ctx.t("points.ledger")));
            links.push((format!("/c/{code}/points/stats"), ctx.t("points.stats")));
        }
        links.push((format!("/c/{code}/shop"), ctx.t("points.shop")));
        if staff || actor.grants.iter().any(|g| g.role() == Role::PartnerUnit && g.community_id == Some(cid)) {
            links.push((format!("/c/{code}/handover"), ctx.t("points.handover")));
        }
        let patrols =
            !store::teams_of(&mut conn, cid, actor.user_id).await?.is_empty() || actor.can(cid, Permission::FieldWork);
        if patrols {
            links.push((format!("/c/{code}/patrols"), ctx.t("fieldwork.patrols")));
        }
        if actor.can(cid, Permission::FieldWork) {
            links.push((format!("/c/{code}/field-notes"), ctx.t("fieldwork.notes")));
        }
        links.push((format!("/p/{code}/honor"), ctx.t("points.honor_roll")));
        out.push(Section {
            title: format!("{} · {}", c.name, ctx.t("points.volunteering")),
            stats,
            links,
            ..Section::default()
        });
    }
    Ok(out)
}
