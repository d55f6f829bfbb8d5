//! A volunteer's own pages: registering, their page (balance, records, teams,
//! redemptions), reporting a service, joining teams, a team's members, public sign-up.
//! Each page loads its data, builds its view from `web::ui` parts, and its template
//! (`templates/points/`) draws it.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use chrono::NaiveDate;
use serde_json::{Map, Value};

use super::staff::refused_on_review;
use super::{certificate_form, community, line_item, record_item, redemption_tag, registration, service_form};
use crate::auth::guard;
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::points::store::{self, NewService};
use crate::capabilities::points::{ServiceStatus, Source, ledger};
use crate::error::{AppError, AppResult};
use crate::services::ledger::store::Line;
use crate::services::media;
use crate::time::hours;
use crate::web::AppState;
use crate::web::form::{CsrfForm, CsrfMultipart, Fields, PlainForm, list, opt, text, yes};
use crate::web::ui::{self, Form, Input, InputKind, Item, Refusal, Stat, Tag, Tone};
use crate::web::{Notice, Page, PageCtx, PageResult, SignedPage, done, fmt, render};

// ---------- a volunteer's own page ----------

/// What a registered volunteer's page shows, read from the database.
pub struct Mine {
    pub volunteer: store::Volunteer,
    pub balance: i64,
    pub records: Vec<store::ServiceRecord>,
    pub memberships: Vec<store::Membership>,
    pub all_teams: Vec<(i64, String)>,
    pub redemptions: Vec<store::Redemption>,
    pub lines: Vec<Line>,
}

/// Someone not yet a volunteer here: the community and the form to register.
pub struct Unregistered {
    pub community: String,
    pub register: Form,
}

/// A volunteer's own view: figures, facts, records, statement and the forms to go on.
pub struct Registered {
    pub heading: String,
    pub stats: Vec<Stat>,
    pub cells: Vec<(String, String)>,
    pub links: Vec<(String, String)>,
    pub record: Form,
    pub records: Vec<Item>,
    pub redemptions: Vec<Item>,
    pub statement: Vec<Item>,
    pub join_team: Option<Form>,
    pub leave: Vec<Form>,
    pub profile: Form,
    pub certificate: Form,
}

#[derive(Template)]
#[template(path = "points/my_service.html")]
pub struct MyServicePage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub unregistered: Option<Unregistered>,
    pub registered: Option<Registered>,
}

impl MyServicePage {
    fn forms(&self) -> Vec<&Form> {
        let mut out: Vec<&Form> = self.unregistered.iter().map(|u| &u.register).collect();
        if let Some(m) = &self.registered {
            out.push(&m.record);
            out.extend(m.join_team.iter());
            out.extend(m.leave.iter());
            out.extend([&m.profile, &m.certificate]);
        }
        out
    }
}

/// The actor's volunteering here; None when they have not registered.
async fn load_mine(state: &AppState, actor: &Actor, c: &CommunityRef) -> AppResult<Option<Mine>> {
    let mut conn = state.db.read().await?;
    let Some(volunteer) = store::volunteer_of(&mut conn, c.id, actor.user_id).await? else {
        return Ok(None);
    };
    let balance = ledger::balance(&mut conn, c.id, actor.user_id).await?;
    let filter = store::RecordFilter { user_id: Some(actor.user_id), ..Default::default() };
    let records = store::records(&mut conn, actor, c.id, &filter, 50).await?;
    let memberships = store::teams_of(&mut conn, c.id, actor.user_id).await?;
    let all_teams = store::teams(&mut conn, c.id).await?;
    let redemptions = store::my_redemptions(&mut conn, c.id, actor.user_id).await?;
    let lines = ledger::statement(&mut conn, c.id, actor.user_id, 20).await?;
    Ok(Some(Mine { volunteer, balance, records, memberships, all_teams, redemptions, lines }))
}

fn register_form(ctx: &PageCtx, code: &str, display_name: &str) -> Form {
    Form::new(ctx.t("points.register"), format!("/c/{code}/volunteer/register"), ctx.t("points.register_submit"))
        .input(Input::new("name", ctx.t("field.resident.name"), InputKind::Text).required().value(display_name))
        .input(Input::new("skills", ctx.t("points.skills"), InputKind::Text).hint(ctx.t("points.skills_hint")))
        .input(Input::new("availability", ctx.t("points.availability"), InputKind::Text))
        .input(
            Input::new("id_number", ctx.t("field.resident.id_number"), InputKind::Text)
                .hint(ctx.t("points.id_number_hint")),
        )
        .input(Input::new("show_name", ctx.t("points.show_name"), InputKind::Checkbox))
}

/// Joining one of the teams the volunteer is not in (None when in all), and leaving
/// each they are in.
fn team_forms(ctx: &PageCtx, code: &str, m: &Mine) -> (Option<Form>, Vec<Form>) {
    let join: Vec<(String, String)> = m
        .all_teams
        .iter()
        .filter(|(id, _)| !m.memberships.iter().any(|t| t.team_id == *id))
        .map(|(id, name)| (id.to_string(), name.clone()))
        .collect();
    let join = (!join.is_empty()).then(|| {
        Form::new(ctx.t("points.join_team"), format!("/c/{code}/volunteer/teams"), ctx.t("points.join"))
            .input(Input::new("team_id", ctx.t("entity.team"), InputKind::Select(join)))
            .input(Input::hidden("member", "true"))
            .folded()
    });
    let leave = m
        .memberships
        .iter()
        .map(|t| {
            Form::new(
                format!("{} {}", ctx.t("points.leave_team"), t.team),
                format!("/c/{code}/volunteer/teams?team={}", t.team_id),
                ctx.t("points.leave"),
            )
            .input(Input::hidden("team_id", t.team_id))
            .input(Input::hidden("member", "false"))
            .danger(ctx.tr("points.leave_confirm", "team", &t.team))
            .folded()
        })
        .collect();
    (join, leave)
}

fn profile_form(ctx: &PageCtx, code: &str, v: &store::Volunteer) -> Form {
    Form::new(ctx.t("points.profile"), format!("/c/{code}/volunteer/profile"), ctx.t("common.save"))
        .input(Input::new("skills", ctx.t("points.skills"), InputKind::Text).value(v.skills().join("、")))
        .input(
            Input::new("availability", ctx.t("points.availability"), InputKind::Text)
                .value(v.availability.clone().unwrap_or_default()),
        )
        .input(Input::new("show_name", ctx.t("points.show_name"), InputKind::Checkbox).value(v.show_name))
        .folded()
}

fn registered_view(ctx: &PageCtx, code: &str, m: &Mine, r: &Refusal) -> Registered {
    let v = &m.volunteer;
    let approved: i64 = m.records.iter().filter(|x| x.status == ServiceStatus::Approved).map(|x| x.minutes).sum();
    let teams = m
        .memberships
        .iter()
        .map(|t| if t.leader { format!("{}（{}）", t.team, ctx.t("points.leader")) } else { t.team.clone() })
        .collect::<Vec<_>>()
        .join("、");
    let (join_team, leave) = team_forms(ctx, code, m);
    let year_start = NaiveDate::from_ymd_opt(chrono::Datelike::year(&fmt::today()), 1, 1).unwrap_or(fmt::today());
    Registered {
        heading: format!("{} · {}", v.name, v.number),
        stats: vec![
            Stat {
                label: ctx.t("points.balance"),
                value: fmt::thousands(m.balance),
                href: Some(format!("/c/{code}/shop")),
            },
            Stat { label: ctx.t("points.hours_total"), value: hours(approved), href: None },
            Stat { label: ctx.t("points.records"), value: m.records.len().to_string(), href: None },
        ],
        cells: vec![
            (ctx.t("points.skills"), v.skills().join("、")),
            (ctx.t("points.availability"), v.availability.clone().unwrap_or_default()),
            (ctx.t("points.teams"), teams),
        ],
        links: vec![
            (format!("/c/{code}/shop"), ctx.t("points.shop")),
            (format!("/p/{code}/honor"), ctx.t("points.honor_roll")),
            (format!("/c/{code}/patrols"), ctx.t("fieldwork.patrols")),
        ],
        record: service_form(ctx, code, &m.all_teams, None).refused(r),
        records: m.records.iter().map(|x| record_item(ctx, code, x, false)).collect(),
        redemptions: m
            .redemptions
            .iter()
            .map(|d| Item {
                title: d.reward.clone(),
                sub: format!("{} · {}", ctx.tr("points.n_points", "n", d.points), fmt::datetime(d.held_at)),
                href: Some(format!("/c/{code}/redemptions/{}", d.id)),
                tag: Some(redemption_tag(ctx, d.status)),
            })
            .collect(),
        statement: m.lines.iter().map(|l| line_item(ctx, l)).collect(),
        join_team: join_team.map(|f| f.refused(r)),
        leave: leave.into_iter().map(|f| f.refused(r)).collect(),
        profile: profile_form(ctx, code, v).refused(r),
        certificate: certificate_form(ctx, code, v.id, year_start).folded().refused(r),
    }
}

/// A volunteer's own page, or the way to register for who is not one yet.
fn my_service_view(
    ctx: PageCtx,
    code: &str,
    community: &str,
    display_name: &str,
    mine: Option<&Mine>,
    r: &Refusal,
) -> MyServicePage {
    let (unregistered, registered) = match mine {
        Some(m) => (None, Some(registered_view(&ctx, code, m, r))),
        None => {
            let register = register_form(&ctx, code, display_name).refused(r);
            (Some(Unregistered { community: community.to_string(), register }), None)
        }
    };
    let mut page = MyServicePage { title: ctx.t("points.my_service"), alert: None, unregistered, registered, ctx };
    page.alert = r.alert_for(&page.forms());
    page
}

pub(super) async fn my_service_page(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    r: &Refusal,
) -> PageResult {
    let mine = load_mine(state, actor, c).await?;
    render(&my_service_view(ctx, &c.code, &c.name, &actor.display_name, mine.as_ref(), r))
}

/// A form of the volunteer's own page refused: the page again, the form filled in.
pub(super) async fn refused_on_mine(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    e: AppError,
    m: &Map<String, Value>,
    action: &str,
) -> PageResult {
    ui::refused(e, ctx, m, action, |ctx, r| async move { my_service_page(state, ctx, actor, c, &r).await }).await
}

pub async fn my_service(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    my_service_page(&state, ctx, &actor, &c, &Refusal::none()).await
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
        Err(e) => refused_on_mine(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/volunteer/register")).await,
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
        Err(e) => refused_on_mine(&state, ctx, &actor, &c, e, &m, &format!("/c/{code}/volunteer/profile")).await,
    }
}

pub async fn teams(
    State(state): State<AppState>,
    SignedPage(_, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    // These forms (joining from one's own page, a team's members for staff) hold only
    // hidden ids and choices; a bad one is refused on the error page, naming the field.
    let mut f = Fields::new(&m);
    let (team, user) = (f.id("team_id"), f.id("user_id"));
    f.checked()?;
    let team = team.ok_or(AppError::field("team_id", "validation.required"))?;
    let user = user.unwrap_or(actor.user_id);
    let member = yes(&m, "member");
    store::set_membership(&state, &actor, c.id, team, user, member, yes(&m, "leader")).await?;
    let back = if user == actor.user_id && !yes(&m, "staff") {
        format!("/c/{code}/volunteer")
    } else {
        format!("/c/{code}/teams/{team}/members")
    };
    Ok(done(&back, Notice::Saved))
}

/// A service from its form; refused naming each field that does not parse.
fn new_service(m: &Map<String, Value>) -> AppResult<NewService> {
    let mut f = Fields::new(m);
    let input = NewService {
        volunteer_id: f.id("volunteer_id"),
        team_id: f.id("team_id"),
        service_type: f.text("service_type"),
        content: f.text("content"),
        place: f.opt("place"),
        started_at: f.when("started_at"),
        ended_at: f.when("ended_at"),
        minutes: f.int("minutes"),
    };
    f.checked()?;
    Ok(input)
}

pub async fn add_record(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    form: CsrfMultipart,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    let m = form.fields;
    // Staff entering someone's service name them; a volunteer given that does not parse
    // is refused on staff's page, not taken as the staff member's own service.
    let staff = actor.can(c.id, Permission::ManagePoints) && opt(&m, "volunteer_id").is_some();
    let source = if staff { Source::Staff } else { Source::SelfReported };
    let result = match (new_service(&m), media::check_uploads(&form.files)) {
        (Ok(input), Ok(photos)) => store::submit_service(&state, &actor, c.id, &input, source, &photos).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let action = format!("/c/{code}/service-records");
    match result {
        Ok(r) if staff => Ok(done(&format!("/c/{code}/service-records/{}", r.id), Notice::Saved)),
        Ok(_) => Ok(done(&format!("/c/{code}/volunteer"), Notice::RecordSent)),
        Err(e) if staff => refused_on_review(&state, ctx, &actor, &c, e, &m, &action).await,
        Err(e) => refused_on_mine(&state, ctx, &actor, &c, e, &m, &action).await,
    }
}

// ---------- a team's members ----------

#[derive(Template)]
#[template(path = "points/team_members.html")]
pub struct TeamMembersPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub crumbs: Vec<(String, String)>,
    pub total: String,
    pub members: Vec<Item>,
    /// Adding a volunteer not yet in the team (None when all are).
    pub add: Option<Form>,
    /// Each member's own form: stay in, lead.
    pub each: Vec<Form>,
}

/// A team's members and the volunteers who could join it.
fn team_members_view(
    ctx: PageCtx,
    code: &str,
    (id, team): (i64, &str),
    members: &[store::Membership],
    volunteers: &[store::Volunteer],
    r: &Refusal,
) -> TeamMembersPage {
    let action = format!("/c/{code}/volunteer/teams");
    let outside: Vec<(String, String)> = volunteers
        .iter()
        .filter(|v| !members.iter().any(|m| m.user_id == v.user_id))
        .map(|v| (v.user_id.to_string(), format!("{} {}", v.number, v.name)))
        .collect();
    let add = (!outside.is_empty()).then(|| {
        Form::new(ctx.t("points.add_member"), format!("{action}?add={id}"), ctx.t("points.join"))
            .input(Input::hidden("team_id", id))
            .input(Input::hidden("member", "true"))
            .input(Input::hidden("staff", "true"))
            .input(Input::new("user_id", ctx.t("points.volunteer"), InputKind::Select(outside)))
            .input(Input::new("leader", ctx.t("points.leader"), InputKind::Checkbox))
            .refused(r)
    });
    let each: Vec<Form> = members
        .iter()
        .map(|m| {
            Form::new(m.name.clone(), format!("{action}?member={}", m.user_id), ctx.t("common.save"))
                .input(Input::hidden("team_id", id))
                .input(Input::hidden("user_id", m.user_id))
                .input(Input::hidden("staff", "true"))
                .input(Input::new("member", ctx.t("points.in_team"), InputKind::Checkbox).value(true))
                .input(Input::new("leader", ctx.t("points.leader"), InputKind::Checkbox).value(m.leader))
                .folded()
                .refused(r)
        })
        .collect();
    let alert = r.alert_for(&add.iter().chain(each.iter()).collect::<Vec<_>>());
    TeamMembersPage {
        title: team.to_string(),
        alert,
        crumbs: vec![(format!("/c/{code}/teams/{id}"), team.to_string())],
        total: ctx.tr("list.total", "n", members.len()),
        members: members
            .iter()
            .map(|m| Item {
                title: m.name.clone(),
                sub: fmt::datetime(m.joined_at),
                href: None,
                tag: m.leader.then(|| Tag::new(ctx.t("points.leader"), Tone::Orange)),
            })
            .collect(),
        add,
        each,
        ctx,
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
    render(&team_members_view(ctx, &code, (id, &team), &members, &volunteers, &Refusal::none()))
}

// ---------- public sign-up ----------

fn join_view(ctx: PageCtx, code: &str, community: &str, r: &Refusal) -> crate::web::joining::SignUpPage {
    let action = format!("/c/{code}/volunteers/join");
    let register =
        crate::web::joining::account_form(&ctx, ctx.t("points.register"), action, ctx.t("points.register_submit"))
            .input(
                Input::new("id_number", ctx.t("field.resident.id_number"), InputKind::Text)
                    .hint(ctx.t("points.id_number_hint")),
            )
            .input(Input::new("skills", ctx.t("points.skills"), InputKind::Text).hint(ctx.t("points.skills_hint")))
            .input(Input::new("availability", ctx.t("points.availability"), InputKind::Text))
            .input(Input::new("show_name", ctx.t("points.show_name"), InputKind::Checkbox))
            .refused(r);
    let (title, intro) = (ctx.t("points.join_page"), ctx.t("points.join_intro"));
    crate::web::joining::sign_up_view(ctx, title, intro, community, register, r)
}

pub async fn join_page(State(state): State<AppState>, Page(ctx): Page, Path(code): Path<String>) -> PageResult {
    if ctx.user.is_some() {
        return Ok(Redirect::to(&format!("/c/{code}/volunteer")).into_response());
    }
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    render(&join_view(ctx, &c.code, &c.name, &Refusal::none()))
}

/// Signs a new volunteer up and in: they land on their own page, not on the sign-in form.
pub async fn join(
    State(state): State<AppState>,
    Page(ctx): Page,
    Path(code): Path<String>,
    headers: axum::http::HeaderMap,
    PlainForm(m): PlainForm,
) -> PageResult {
    let c = crate::auth::guard::public_community(&state.db, &code).await?;
    match store::sign_up(&state, None, &c, registration(&m), &text(&m, "phone"), &text(&m, "password")).await {
        Ok(v) => {
            let to = format!("/c/{code}/volunteer?ok={}", Notice::SignedUp.as_str());
            Ok(crate::auth::pages::signed_in_to(&state, &headers, v.user_id, &to).await?)
        }
        Err(e) => {
            let action = format!("/c/{code}/volunteers/join");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move { render(&join_view(ctx, &c.code, &c.name, &r)) })
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;

    fn volunteer(name: &str) -> store::Volunteer {
        store::Volunteer {
            community_id: 1,
            id: 7,
            user_id: 70,
            number: "V0007".into(),
            name: name.into(),
            resident_id: None,
            grid_id: None,
            id_number_masked: None,
            skills: String::new(),
            availability: Some("周末".into()),
            show_name: true,
            joined_at: 0,
            archived_at: None,
        }
    }

    /// A volunteer's page drawn from plain data: their name stays text, and a refused
    /// profile shows its error on its field, the form opened.
    #[test]
    fn my_page_escapes_names_and_shows_a_refused_profile_inline() {
        let ctx = crate::web::tests::ctx();
        let mine = Mine {
            volunteer: volunteer("<script>x</script>"),
            balance: 1200,
            records: Vec::new(),
            memberships: Vec::new(),
            all_teams: vec![(3, "巡逻队".into())],
            redemptions: Vec::new(),
            lines: Vec::new(),
        };
        let r = Refusal {
            form_id: ui::Form::id_for("/c/1/volunteer/profile"),
            errors: [("skills".to_string(), "太长了".to_string())].into(),
            alert: Some("有几项需要修改".into()),
            ..Refusal::default()
        };
        let html = my_service_view(ctx, "1", "幸福社区", "张三", Some(&mine), &r).render().unwrap();
        assert!(!html.contains("<script>x"), "{html}");
        assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains(r#"id="e-c-1-volunteer-profile-skills""#) && html.contains("太长了"), "{html}");
        assert!(html.contains("有几项需要修改") && html.contains("1,200"), "{html}");
        assert!(html.contains(r#"action="/c/1/volunteer/teams""#), "a team to join");
    }

    /// Someone not registered sees the way to register; a refused sign-up keeps what
    /// was typed (not the password) and says what is wrong on the field.
    #[test]
    fn registering_and_signing_up_show_their_refusals_inline() {
        let html = my_service_view(crate::web::tests::ctx(), "1", "<b>幸福</b>", "张三", None, &Refusal::none())
            .render()
            .unwrap();
        assert!(html.contains("&#60;b&#62;幸福") || html.contains("&lt;b&gt;幸福"), "{html}");
        assert!(html.contains(r#"action="/c/1/volunteer/register""#) && html.contains(r#"value="张三""#));
        let r = Refusal {
            form_id: ui::Form::id_for("/c/1/volunteers/join"),
            typed: [("phone".to_string(), Value::from("123")), ("password".to_string(), Value::from("secret"))]
                .into_iter()
                .collect(),
            errors: [("phone".to_string(), "手机号码格式不正确".to_string())].into(),
            alert: Some("有几项需要修改".into()),
        };
        let html = join_view(crate::web::tests::ctx(), "1", "幸福社区", &r).render().unwrap();
        assert!(html.contains(r#"id="e-c-1-volunteers-join-phone""#) && html.contains("手机号码格式不正确"));
        assert!(html.contains(r#"value="123""#) && !html.contains("secret"), "{html}");
        assert!(html.contains(r#"href="/login""#));
    }
}
