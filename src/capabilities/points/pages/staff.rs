//! Staff's pages: the queue of service records to review and decide, a record's page,
//! the volunteers (search, sign someone up) and a volunteer's page. Each page loads its
//! data, builds its view from `web::ui` parts, and its template (`templates/points/`)
//! draws it.

use askama::Template;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::accounts::give_form;
use super::{certificate_form, community, line_item, record_item, record_tag, registration, service_form, type_label};
use crate::auth::guard;
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission};
use crate::capabilities::points::store;
use crate::capabilities::points::{Rule, RuleKind, ServiceStatus, ledger};
use crate::error::AppError;
use crate::services::audit::Entry;
use crate::services::ledger::store::Line;
use crate::services::media::{self, Media};
use crate::time::hours;
use crate::web::AppState;
use crate::web::form::{CsrfForm, list, opt, text};
use crate::web::ui::{self, Cell, Form, Input, InputKind, Item, Refusal, Stat, Tab, Table, Tag};
use crate::web::{Notice, PageCtx, PageResult, SignedPage, done, fmt, render};

// ---------- the review queue ----------

/// What the review queue shows, read from the database.
pub struct ReviewData {
    pub records: Vec<store::ServiceRecord>,
    pub volunteers: Vec<store::Volunteer>,
    pub teams: Vec<(i64, String)>,
}

#[derive(Template)]
#[template(path = "points/review.html")]
pub struct ReviewPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub tabs: Vec<Tab>,
    pub total: String,
    pub records: Vec<Item>,
    /// The pending records to approve several at once (staff, pending tab, some waiting).
    pub batch: Option<ui::Pick>,
    pub links: Vec<(String, String)>,
    /// Recording a service for a volunteer.
    pub record: Form,
}

fn review_view(ctx: PageCtx, code: &str, status: ServiceStatus, d: &ReviewData, r: &Refusal) -> ReviewPage {
    let tabs = ServiceStatus::ALL
        .into_iter()
        .map(|s| Tab {
            href: format!("/c/{code}/service-records?status={}", s.as_str()),
            label: ctx.t(&format!("points.status.{}", s.as_str())),
            on: s == status,
        })
        .collect();
    let options = d.volunteers.iter().map(|v| (v.id.to_string(), format!("{} {}", v.number, v.name))).collect();
    let record = service_form(&ctx, code, &d.teams, Some(options)).folded().refused(r);
    let batch = (status == ServiceStatus::Pending && !d.records.is_empty()).then(|| ui::Pick {
        action: format!("/c/{code}/service-records/approve"),
        name: "ids",
        lines: d.records.iter().map(|x| (x.id, record_item(&ctx, code, x, true))).collect(),
        submit: ctx.t("points.approve_picked"),
        confirm: ctx.t("points.approve_picked_confirm"),
        all: ctx.t("common.all"),
    });
    ReviewPage {
        title: ctx.t("points.review"),
        alert: r.alert_for(&[&record]),
        tabs,
        total: ctx.tr("list.total", "n", d.records.len()),
        records: d.records.iter().map(|x| record_item(&ctx, code, x, true)).collect(),
        batch,
        links: vec![
            (format!("/c/{code}/volunteers"), ctx.t("points.volunteers")),
            (format!("/c/{code}/points"), ctx.t("points.ledger")),
        ],
        record,
        ctx,
    }
}

async fn review_page(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    status: ServiceStatus,
    r: &Refusal,
) -> PageResult {
    guard::require(actor, c.id, Permission::ManagePoints)?;
    let mut conn = state.db.read().await?;
    let filter = store::RecordFilter { status: Some(status.as_str().to_string()), ..Default::default() };
    let records = store::records(&mut conn, actor, c.id, &filter, 200).await?;
    let volunteers = store::volunteers(&mut conn, actor, c.id, "").await?;
    let teams = store::teams(&mut conn, c.id).await?;
    drop(conn);
    render(&review_view(ctx, &c.code, status, &ReviewData { records, volunteers, teams }, r))
}

/// A service recorded by staff refused: the queue of pending records again, the form
/// filled in.
pub(super) async fn refused_on_review(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    e: AppError,
    m: &Map<String, Value>,
    action: &str,
) -> PageResult {
    ui::refused(e, ctx, m, action, |ctx, r| async move {
        review_page(state, ctx, actor, c, ServiceStatus::Pending, &r).await
    })
    .await
}

/// The most records approved in one go (the queue shows at most 200).
const MAX_PICKED: usize = 200;

/// The ids of the records picked: some, at most `MAX_PICKED`, each a number.
fn picked(m: &Map<String, Value>) -> Result<Vec<i64>, AppError> {
    let ids = list(m, "ids")
        .iter()
        .map(|s| s.parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| AppError::field("ids", "validation.reference"))?;
    match ids.len() {
        0 => Err(AppError::Conflict("points.pick_some")),
        n if n > MAX_PICKED => Err(AppError::Invalid(vec![
            crate::error::FieldError::new("ids", "validation.too_many").with("max", MAX_PICKED),
        ])),
        _ => Ok(ids),
    }
}

/// Staff approve the records they picked, each as if on its own page. Those that cannot
/// be (decided meanwhile, or their own) are left as they are, and the notice says so.
pub async fn approve_picked(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    CsrfForm(m): CsrfForm,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    guard::require(&actor, c.id, Permission::ManagePoints)?;
    let ids = match picked(&m) {
        Ok(ids) => ids,
        Err(e) => {
            let action = format!("/c/{code}/service-records/approve");
            return ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                review_page(&state, ctx, &actor, &c, ServiceStatus::Pending, &r).await
            })
            .await;
        }
    };
    let (mut approved, mut left) = (0, 0);
    for id in ids {
        match store::decide(&state, &actor, c.id, id, true, None).await {
            Ok(_) => approved += 1,
            Err(AppError::Conflict(_) | AppError::Forbidden | AppError::NotFound | AppError::Invalid(_)) => left += 1,
            Err(e) => return Err(e.into()),
        }
    }
    let notice = if left == 0 { Notice::ApprovedPicked } else { Notice::ApprovedSome };
    Ok(done(&format!("/c/{code}/service-records?n={approved}"), notice))
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
    let status = q.status.as_deref().and_then(ServiceStatus::parse).unwrap_or(ServiceStatus::Pending);
    review_page(&state, ctx, &actor, &c, status, &Refusal::none()).await
}

// ---------- a service record ----------

/// What a record's page shows, read from the database.
pub struct RecordData {
    pub record: store::ServiceRecord,
    pub photos: Vec<Media>,
    pub history: Vec<Entry>,
    /// The viewer is staff (the way back is the queue, not their own page).
    pub staff: bool,
    /// The viewer may approve or reject it: staff, pending, not their own.
    pub decides: bool,
}

#[derive(Template)]
#[template(path = "points/record.html")]
pub struct RecordPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub crumbs: Vec<(String, String)>,
    pub heading: String,
    pub tag: Option<Tag>,
    pub cells: Vec<(String, String)>,
    pub photos: Vec<ui::Photo>,
    /// Approving and rejecting, for who decides.
    pub decide: Vec<Form>,
    pub history: Vec<Item>,
}

fn decide_forms(ctx: &PageCtx, code: &str, id: i64) -> Vec<Form> {
    let action = format!("/c/{code}/service-records/{id}/decide");
    vec![
        Form::new(ctx.t("points.approve"), action.clone(), ctx.t("points.approve"))
            .input(Input::hidden("decision", "approve")),
        Form::new(ctx.t("points.reject"), format!("{action}?reject=1"), ctx.t("points.reject"))
            .input(Input::hidden("decision", "reject"))
            .input(Input::new("reason", ctx.t("points.reason"), InputKind::TextArea).required())
            .danger(ctx.t("points.reject_confirm"))
            .folded(),
    ]
}

fn record_view(ctx: PageCtx, code: &str, d: &RecordData, r: &Refusal) -> RecordPage {
    let x = &d.record;
    let mut cells = vec![
        (ctx.t("points.volunteer"), x.volunteer_name.clone()),
        (ctx.t("points.service_type"), type_label(&ctx, &x.service_type)),
        (ctx.t("points.place"), x.place.clone().unwrap_or_default()),
        (ctx.t("entity.team"), x.team_name.clone().unwrap_or_default()),
        (ctx.t("points.started_at"), fmt::datetime(x.started_at)),
        (ctx.t("points.ended_at"), fmt::datetime(x.ended_at)),
        (ctx.t("points.hours"), hours(x.minutes)),
        (ctx.t("points.source"), ctx.t(&format!("points.source.{}", x.source))),
    ];
    if let Some(p) = x.points {
        cells.push((ctx.t("points.points"), p.to_string()));
    }
    if let Some(reason) = &x.reason {
        cells.push((ctx.t("points.reason"), reason.clone()));
    }
    let decide: Vec<Form> =
        if d.decides { decide_forms(&ctx, code, x.id).into_iter().map(|f| f.refused(r)).collect() } else { Vec::new() };
    let back = if d.staff {
        (format!("/c/{code}/service-records"), ctx.t("points.review"))
    } else {
        (format!("/c/{code}/volunteer"), ctx.t("points.my_service"))
    };
    let mut crumbs = vec![back];
    // Service at an event's session leads back to it (its sign-up's address).
    if let (Some(id), "event") = (x.source_id, x.source.as_str()) {
        crumbs.push((format!("/c/{code}/event-signups/{id}"), ctx.t("points.source.event")));
    }
    RecordPage {
        title: format!("{} #{}", ctx.t("points.record"), x.id),
        alert: r.alert_for(&decide.iter().collect::<Vec<_>>()),
        crumbs,
        heading: x.content.clone(),
        tag: Some(record_tag(&ctx, x.status)),
        cells,
        photos: media::thumbnails(&d.photos, code),
        decide,
        history: d
            .history
            .iter()
            .map(|h| Item {
                title: format!("{} · {}", ctx.who(&h.actor_name), ctx.t(&format!("audit.{}", h.action))),
                sub: fmt::datetime(h.at),
                ..Item::default()
            })
            .collect(),
        ctx,
    }
}

async fn service_record_page(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    r: &Refusal,
) -> PageResult {
    let mut conn = state.db.read().await?;
    let record = store::record_for(&mut conn, actor, c.id, id).await?;
    let photos = media::of(&mut conn, c.id, "service_record", id).await?;
    let history = crate::services::audit::history(&mut conn, c.id, "service_record", id).await?;
    drop(conn);
    let staff = actor.can(c.id, Permission::ManagePoints);
    let decides = staff && record.status == ServiceStatus::Pending && record.user_id != actor.user_id;
    render(&record_view(ctx, &c.code, &RecordData { record, photos, history, staff, decides }, r))
}

pub async fn record_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    service_record_page(&state, ctx, &actor, &c, id, &Refusal::none()).await
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
            ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                service_record_page(&state, ctx, &actor, &c, id, &r).await
            })
            .await
        }
    }
}

// ---------- the volunteers ----------

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    q: Option<String>,
    sort: Option<String>,
}

crate::text_enum! {
    /// How the volunteers' table is sorted: by number (as registered), by name, or newest first.
    pub enum VolunteerSort {
        Number = "number",
        Name = "name",
        Joined = "joined",
    }
}

/// Sorts the volunteers as asked; names in natural order.
pub fn sort_volunteers(list: &mut [store::Volunteer], by: VolunteerSort) {
    match by {
        VolunteerSort::Number => list.sort_by(|a, b| crate::natural::cmp(&a.number, &b.number)),
        VolunteerSort::Name => list.sort_by(|a, b| crate::natural::cmp(&a.name, &b.name)),
        VolunteerSort::Joined => list.sort_by(|a, b| b.joined_at.cmp(&a.joined_at).then(a.id.cmp(&b.id))),
    }
}

#[derive(Template)]
#[template(path = "points/volunteers.html")]
pub struct VolunteersPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub search: Form,
    pub total: String,
    /// A table on a desktop, a card per volunteer on a phone; sorted by its heads.
    pub volunteers: Table,
    pub links: Vec<(String, String)>,
    /// Signing someone up.
    pub sign_up: Form,
}

fn volunteers_view(
    ctx: PageCtx,
    code: &str,
    q: &str,
    by: VolunteerSort,
    list: &[store::Volunteer],
    r: &Refusal,
) -> VolunteersPage {
    let search = Form::new("", format!("/c/{code}/volunteers?find=1"), ctx.t("common.search"))
        .input(Input::new("q", ctx.t("points.search_volunteer"), InputKind::Text).value(q))
        .get();
    let sign_up =
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
            .folded()
            .refused(r);
    VolunteersPage {
        title: ctx.t("points.volunteers"),
        alert: r.alert_for(&[&sign_up]),
        search,
        total: ctx.tr("list.total", "n", list.len()),
        volunteers: volunteer_table(&ctx, code, q, by, list),
        links: vec![
            (format!("/c/{code}/service-records"), ctx.t("points.review")),
            (format!("/c/{code}/volunteers/join"), ctx.t("points.join_page")),
        ],
        sign_up,
        ctx,
    }
}

/// The volunteers as a table: the number leads to the volunteer; number, name and joining
/// date sort it.
fn volunteer_table(ctx: &PageCtx, code: &str, q: &str, by: VolunteerSort, list: &[store::Volunteer]) -> Table {
    let href = |s: &str| {
        let mut qs = form_urlencoded::Serializer::new(String::new());
        if !q.is_empty() {
            qs.append_pair("q", q);
        }
        qs.append_pair("sort", s);
        format!("/c/{code}/volunteers?{}", qs.finish())
    };
    let key = |s: VolunteerSort| Some(s.as_str());
    let sort = ui::sort_heads(
        &[key(VolunteerSort::Number), key(VolunteerSort::Name), None, None, key(VolunteerSort::Joined)],
        by.as_str(),
        &[VolunteerSort::Joined.as_str()],
        href,
    );
    Table {
        head: ["points.number", "field.resident.name", "points.skills", "points.availability", "points.joined"]
            .iter()
            .map(|k| ctx.t(k))
            .collect(),
        rows: list
            .iter()
            .map(|v| {
                vec![
                    Cell::link(&v.number, format!("/c/{code}/volunteers/{}", v.id)),
                    Cell::text(&v.name),
                    Cell::text(v.skills().join("、")),
                    Cell::text(v.availability.clone().unwrap_or_default()),
                    Cell::text(fmt::to_cst(v.joined_at).format("%Y-%m-%d").to_string()),
                ]
            })
            .collect(),
        empty: ctx.t("list.empty"),
        sort,
    }
}

async fn volunteers_page(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    q: &SearchQuery,
    r: &Refusal,
) -> PageResult {
    let by = match q.sort.as_deref().filter(|s| !s.is_empty()) {
        None => VolunteerSort::Number,
        Some(s) => VolunteerSort::parse(s).ok_or_else(|| AppError::field("sort", "validation.choice"))?,
    };
    let text = q.q.as_deref().unwrap_or("");
    let mut conn = state.db.read().await?;
    let mut list = store::volunteers(&mut conn, actor, c.id, text).await?;
    drop(conn);
    sort_volunteers(&mut list, by);
    render(&volunteers_view(ctx, &c.code, text, by, &list, r))
}

pub async fn volunteer_list(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path(code): Path<String>,
    Query(q): Query<SearchQuery>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    volunteers_page(&state, ctx, &actor, &c, &q, &Refusal::none()).await
}

fn initial_password() -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("system random source");
    format!("Lj{}", hex::encode(b))
}

/// Who was signed up, with what to sign in with the first time.
#[derive(Template)]
#[template(path = "points/signed_up.html")]
pub struct SignedUpPage {
    pub ctx: PageCtx,
    pub title: String,
    pub heading: String,
    pub cells: Vec<(String, String)>,
    pub links: Vec<(String, String)>,
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
        Ok(v) => render(&SignedUpPage {
            title: ctx.t("points.signed_up"),
            heading: format!("{} · {}", v.name, v.number),
            cells: vec![
                (ctx.t("auth.username"), crate::services::pii::normalize_phone(&text(&m, "phone")).unwrap_or_default()),
                (ctx.t("points.initial_password"), password),
            ],
            links: vec![(format!("/c/{code}/volunteers/{}", v.id), ctx.t("common.more"))],
            ctx,
        }),
        Err(e) => {
            let action = format!("/c/{code}/volunteers");
            ui::refused(e, ctx, &m, &action, |ctx, r| async move {
                volunteers_page(&state, ctx, &actor, &c, &SearchQuery::default(), &r).await
            })
            .await
        }
    }
}

// ---------- a volunteer (staff) ----------

/// What a volunteer's page shows staff, read from the database.
pub struct VolunteerData {
    pub volunteer: store::Volunteer,
    pub balance: i64,
    pub records: Vec<store::ServiceRecord>,
    pub memberships: Vec<store::Membership>,
    pub lines: Vec<Line>,
    pub rules: Vec<Rule>,
    /// The viewer manages points (and may give some by hand).
    pub manages: bool,
}

#[derive(Template)]
#[template(path = "points/volunteer.html")]
pub struct VolunteerPage {
    pub ctx: PageCtx,
    pub title: String,
    pub alert: Option<String>,
    pub crumbs: Vec<(String, String)>,
    pub heading: String,
    pub stats: Vec<Stat>,
    pub cells: Vec<(String, String)>,
    pub records: Vec<Item>,
    pub statement: Vec<Item>,
    /// Giving or taking points by hand, for who manages them.
    pub give: Option<Form>,
    pub certificate: Form,
}

/// The rules staff may give by hand now (bonuses, deductions), after "by amount".
fn manual_rules(ctx: &PageCtx, rules: &[Rule], now: i64) -> Vec<(String, String)> {
    let mut out = vec![(String::new(), ctx.t("points.by_amount"))];
    out.extend(rules.iter().filter(|r| r.kind.is_manual() && r.in_force(now)).map(|r| {
        let sign = if r.kind == RuleKind::Bonus { "+" } else { "−" };
        (r.id.to_string(), format!("{}（{sign}{}）", r.name, r.points))
    }));
    out
}

pub(super) fn volunteer_view(ctx: PageCtx, code: &str, d: &VolunteerData, r: &Refusal) -> VolunteerPage {
    let v = &d.volunteer;
    let approved: i64 = d.records.iter().filter(|x| x.status == ServiceStatus::Approved).map(|x| x.minutes).sum();
    let give = d.manages.then(|| {
        give_form(&ctx, code, Some(v.user_id), manual_rules(&ctx, &d.rules, crate::db::now_ms()), Vec::new())
            .folded()
            .refused(r)
    });
    let from = NaiveDate::from_ymd_opt(chrono::Datelike::year(&fmt::today()), 1, 1).unwrap_or(fmt::today());
    let certificate = certificate_form(&ctx, code, v.id, from).folded().refused(r);
    VolunteerPage {
        title: v.name.clone(),
        alert: r.alert_for(&give.iter().chain([&certificate]).collect::<Vec<_>>()),
        crumbs: vec![(format!("/c/{code}/volunteers"), ctx.t("points.volunteers"))],
        heading: v.number.clone(),
        stats: vec![
            Stat { label: ctx.t("points.balance"), value: fmt::thousands(d.balance), href: None },
            Stat { label: ctx.t("points.hours_total"), value: hours(approved), href: None },
        ],
        cells: vec![
            (ctx.t("field.resident.id_number"), v.id_number_masked.clone().unwrap_or_default()),
            (ctx.t("points.skills"), v.skills().join("、")),
            (ctx.t("points.availability"), v.availability.clone().unwrap_or_default()),
            (ctx.t("points.teams"), d.memberships.iter().map(|m| m.team.clone()).collect::<Vec<_>>().join("、")),
            (ctx.t("points.joined"), fmt::datetime(v.joined_at)),
        ],
        records: d.records.iter().map(|x| record_item(&ctx, code, x, false)).collect(),
        statement: d.lines.iter().map(|l| line_item(&ctx, l)).collect(),
        give,
        certificate,
        ctx,
    }
}

/// A volunteer's page as staff see it (also where a refused certificate for them shows).
pub(super) async fn volunteer_detail_page(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    r: &Refusal,
) -> PageResult {
    let mut conn = state.db.read().await?;
    let volunteer = store::volunteer_for(&mut conn, actor, c.id, id).await?;
    let balance = ledger::balance(&mut conn, c.id, volunteer.user_id).await?;
    let filter = store::RecordFilter { user_id: Some(volunteer.user_id), ..Default::default() };
    let records = store::records(&mut conn, actor, c.id, &filter, 100).await?;
    let memberships = store::teams_of(&mut conn, c.id, volunteer.user_id).await?;
    let lines = ledger::statement(&mut conn, c.id, volunteer.user_id, 50).await?;
    let rules = store::all_rules(&mut conn, c.id).await?;
    drop(conn);
    let manages = actor.can(c.id, Permission::ManagePoints);
    let d = VolunteerData { volunteer, balance, records, memberships, lines, rules, manages };
    render(&volunteer_view(ctx, &c.code, &d, r))
}

pub async fn volunteer_page(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = community(&state, &actor, &code).await?;
    volunteer_detail_page(&state, ctx, &actor, &c, id, &Refusal::none()).await
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;

    fn record(content: &str) -> store::ServiceRecord {
        store::ServiceRecord {
            community_id: 1,
            id: 5,
            volunteer_id: 7,
            user_id: 70,
            volunteer_name: "<i>郑</i>".into(),
            team_id: None,
            team_name: None,
            service_type: "care".into(),
            content: content.into(),
            place: Some("久和医院".into()),
            started_at: 0,
            ended_at: 3_600_000,
            minutes: 60,
            source: "self".into(),
            source_id: None,
            status: ServiceStatus::Pending,
            reason: None,
            decided_by: None,
            decided_at: None,
            points: None,
            created_at: 0,
        }
    }

    /// A record's page drawn from plain data: what the volunteer wrote stays text, its
    /// photo shows, and a refused rejection shows its error on the reason, opened.
    #[test]
    fn a_record_escapes_its_text_and_shows_a_refused_rejection_inline() {
        let r = Refusal {
            form_id: Form::id_for("/c/1/service-records/5/decide?reject=1"),
            errors: [("reason".to_string(), "请填写原因".to_string())].into(),
            alert: Some("有几项需要修改".into()),
            ..Refusal::default()
        };
        let photo = Media {
            community_id: 1,
            id: 9,
            owner_kind: "service_record".into(),
            owner_id: 5,
            mime: "image/png".into(),
            bytes: 10,
            width: None,
            height: None,
            created_at: 0,
        };
        let d = RecordData {
            record: record("<script>x</script>"),
            photos: vec![photo],
            history: Vec::new(),
            staff: true,
            decides: true,
        };
        let html = record_view(crate::web::tests::ctx(), "1", &d, &r).render().unwrap();
        assert!(!html.contains("<script>x") && !html.contains("<i>郑"), "{html}");
        assert!(html.contains("&#60;script&#62;") || html.contains("&lt;script&gt;"), "{html}");
        assert!(html.contains(r#"id="e-c-1-service-records-5-decide-reject-1-reason""#) && html.contains("请填写原因"));
        assert!(html.contains(r#"src="/c/1/media/9/thumb""#) && html.contains("久和医院"), "{html}");
        assert!(html.contains(r#"class="tag tag-orange""#), "pending is orange");
        assert!(html.contains(r#"action="/c/1/service-records/5/decide""#));
    }

    /// Signing someone up refused: the phone's error on its field, the form opened.
    #[test]
    fn a_refused_sign_up_shows_on_the_volunteers_page() {
        let r = Refusal {
            form_id: Form::id_for("/c/1/volunteers"),
            errors: [("phone".to_string(), "这个手机号已注册".to_string())].into(),
            alert: Some("有几项需要修改".into()),
            ..Refusal::default()
        };
        let html = volunteers_view(crate::web::tests::ctx(), "1", "<b>q</b>", VolunteerSort::Number, &[], &r)
            .render()
            .unwrap();
        assert!(html.contains(r#"id="e-c-1-volunteers-phone""#) && html.contains("这个手机号已注册"), "{html}");
        assert!(!html.contains("<b>q"), "the search stays text");
        assert!(html.contains(r#"method="get" action="/c/1/volunteers?find=1""#));
    }

    fn volunteer(id: i64, number: &str, name: &str, joined_at: i64) -> store::Volunteer {
        store::Volunteer {
            community_id: 1,
            id,
            user_id: id * 10,
            number: number.into(),
            name: name.into(),
            resident_id: None,
            grid_id: None,
            id_number_masked: None,
            skills: "|理发|".into(),
            availability: None,
            show_name: false,
            joined_at,
            archived_at: None,
        }
    }

    /// Staff at a desk sort the volunteers by number, name or who joined last, from the
    /// table's heads; the search stays in the links.
    #[test]
    fn the_volunteers_table_sorts_by_its_heads() {
        let mut list =
            vec![volunteer(1, "V-10", "张十", 300), volunteer(2, "V-2", "李二", 100), volunteer(3, "V-1", "王一", 200)];
        sort_volunteers(&mut list, VolunteerSort::Number);
        assert_eq!(list.iter().map(|v| v.id).collect::<Vec<_>>(), [3, 2, 1], "V-1 < V-2 < V-10");
        sort_volunteers(&mut list, VolunteerSort::Joined);
        assert_eq!(list.iter().map(|v| v.id).collect::<Vec<_>>(), [1, 3, 2], "newest first");
        let page =
            volunteers_view(crate::web::tests::ctx(), "c1", "张", VolunteerSort::Joined, &list, &Refusal::none());
        let html = page.render().unwrap();
        assert!(
            html.contains(r#"aria-sort="descending"><a href="/c/c1/volunteers?q=%E5%BC%A0&#38;sort=joined""#),
            "{html}"
        );
        assert!(html.contains(r#"href="/c/c1/volunteers?q=%E5%BC%A0&#38;sort=name""#), "{html}");
        assert!(html.contains(r#"<a href="/c/c1/volunteers/1">V-10</a>"#));
    }
}
