//! One ticket's page: its facts, photos, map, 五连问, whistles and history, and the forms
//! for the actions the viewer may take.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};

use super::{opt_i64, opt_text, photos_of, status_class, status_label};
use crate::auth::guard::CommunityRef;
use crate::auth::model::Actor;
use crate::capabilities::registry::places::map;
use crate::capabilities::tickets::store::{self, ActionInput, Ticket};
use crate::capabilities::tickets::{self, Action};
use crate::db::{Exec, query};
use crate::error::{AppError, AppResult};
use crate::services::media::{self, Media};
use crate::web::AppState;
use crate::web::form::{CsrfMultipart, text};
use crate::web::{Notice, PageCtx, PageResult, SignedPage, done, fmt};

pub struct ActionView {
    pub action: String,
    pub label: String,
    /// Which inputs the form shows.
    pub inputs: Vec<&'static str>,
    pub danger: bool,
}

impl ActionView {
    fn has(&self, input: &str) -> bool {
        self.inputs.contains(&input)
    }
}

#[derive(Template)]
#[template(path = "tickets/show.html")]
struct ShowTemplate {
    ctx: PageCtx,
    title: String,
    code: String,
    t: Ticket,
    category: String,
    status: String,
    status_class: &'static str,
    overdue: bool,
    owner: String,
    pool: String,
    submitter: String,
    grid: String,
    due: String,
    created: String,
    /// What the asker sent (现场) and what the handler showed when done (办结).
    before: Vec<Media>,
    after: Vec<Media>,
    /// Those who work on it see the office's parts (grid, map, 五连问, whistles); the
    /// resident who asked sees the request in their own words.
    staff_view: bool,
    map: crate::web::ui::MapView,
    questions: Vec<(String, String, String)>,
    can_edit_questions: bool,
    actions: Vec<ActionView>,
    whistles: Vec<store::Whistle>,
    history: Vec<(String, String, String, String)>,
    people: Vec<(String, String)>,
    teams: Vec<(String, String)>,
    units: Vec<(String, String)>,
    errors: std::collections::BTreeMap<String, String>,
}

impl ShowTemplate {
    fn channel_label(&self) -> String {
        self.ctx.t(&format!("ticket.channel.{}", self.t.channel))
    }

    fn time(&self, ms: &i64) -> String {
        fmt::datetime(*ms)
    }
}

fn action_views(ctx: &PageCtx, t: &Ticket, s: tickets::Standing) -> Vec<ActionView> {
    let candidates: [(Action, &[&str], bool); 13] = [
        (Action::Accept, &[], false),
        (Action::Start, &[], false),
        (Action::Resolve, &["note", "photos"], false),
        (Action::Dispatch, &["target"], false),
        (Action::Reassign, &["owner"], false),
        (Action::Rate, &["rating", "note"], false),
        (Action::FollowUp, &["satisfied", "note"], false),
        (Action::Close, &[], false),
        (Action::Whistle, &["unit", "department", "note"], false),
        (Action::Respond, &["note"], false),
        (Action::Reopen, &["note"], true),
        (Action::Duplicate, &["duplicate_of", "note"], true),
        (Action::Reject, &["note"], true),
    ];
    candidates
        .into_iter()
        .filter(|(a, _, _)| s.may(*a) && tickets::next_status(t.status(), *a).is_ok())
        // Phone and patrol tickets are followed up by staff rather than rated.
        .filter(|(a, _, _)| *a != Action::FollowUp || t.submitter_user_id.is_none())
        .map(|(a, inputs, danger)| ActionView {
            action: a.as_str().into(),
            label: ctx.t(&format!("ticket.action.{}", a.as_str())),
            inputs: inputs.to_vec(),
            danger,
        })
        .collect()
}

async fn show_page(
    state: &AppState,
    ctx: PageCtx,
    actor: &Actor,
    c: &CommunityRef,
    id: i64,
    err: Option<&AppError>,
) -> PageResult {
    let (t, standing) = store::get(&state.db, actor, c.id, id).await?;
    let actions = action_views(&ctx, &t, standing);
    let needs_targets = actions.iter().any(|a| a.inputs.iter().any(|i| matches!(*i, "target" | "owner" | "unit")));
    let data = load_show(state, c.id, &t, needs_targets).await?;
    let status = err.map(AppError::status).unwrap_or(StatusCode::OK);
    let html = show_view(ctx, c, t, standing, data, actions, err).render()?;
    Ok((status, Html(html)).into_response())
}

/// What a ticket's page shows besides the ticket itself, as read from the database.
struct ShowData {
    category: String,
    /// The owner's display name, or empty.
    owner: String,
    /// The name of the team or unit whose pool holds it, or empty.
    pool: String,
    /// The grid's name (empty when not found); `None` when the ticket has no grid.
    grid: Option<String>,
    photos: Vec<Media>,
    /// Where it is: its own point, else its household's.
    point: Option<(f64, f64)>,
    shapes: Vec<map::Shape>,
    whistles: Vec<store::Whistle>,
    history: Vec<store::Event>,
    targets: Targets,
}

/// What the dispatch, reassign and whistle forms choose from, as (id, name): people with
/// a role in the community, its teams and its partner units.
#[derive(Default)]
struct Targets {
    people: Vec<(String, String)>,
    teams: Vec<(String, String)>,
    units: Vec<(String, String)>,
}

/// Reads what the page shows of ticket `t`; the targets only when a form needs them.
async fn load_show(state: &AppState, community_id: i64, t: &Ticket, needs_targets: bool) -> AppResult<ShowData> {
    let mut conn = state.db.read().await?;
    let category: String = query("SELECT name FROM ticket_categories WHERE community_id = $1 AND id = $2")
        .bind(community_id)
        .bind(t.category_id)
        .scalar(&mut conn)
        .await?;
    let name_of = |u: Option<i64>| async move {
        match u {
            Some(u) => query("SELECT display_name FROM users WHERE id = $1")
                .bind(u)
                .scalar_optional::<String>(&mut state.db.read().await?)
                .await
                .map_err(AppError::from),
            None => Ok(None),
        }
    };
    let owner = name_of(t.owner_user_id).await?.unwrap_or_default();
    let pool = match (t.pool_team_id, t.pool_unit_id) {
        (Some(team), _) => query("SELECT name FROM teams WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(team)
            .scalar_optional::<String>(&mut conn)
            .await?
            .unwrap_or_default(),
        (_, Some(u)) => query("SELECT name FROM partner_units WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(u)
            .scalar_optional::<String>(&mut conn)
            .await?
            .unwrap_or_default(),
        _ => String::new(),
    };
    let grid = match t.grid_id {
        Some(g) => Some(
            query("SELECT name FROM grids WHERE community_id = $1 AND id = $2")
                .bind(community_id)
                .bind(g)
                .scalar_optional::<String>(&mut conn)
                .await?
                .unwrap_or_default(),
        ),
        None => None,
    };
    let photos = media::of(&mut conn, community_id, "ticket", t.id).await?;
    let point = match (t.lat, t.lng, t.household_id) {
        (Some(lat), Some(lng), _) => Some((lat, lng)),
        (_, _, Some(h)) => query("SELECT lat, lng FROM households WHERE community_id = $1 AND id = $2")
            .bind(community_id)
            .bind(h)
            .fetch_optional::<(Option<f64>, Option<f64>)>(&mut conn)
            .await?
            .and_then(|(a, b)| a.zip(b)),
        _ => None,
    };
    let shapes = map::grid_shapes(&state.db, community_id, t.grid_id).await?;
    let whistles = store::whistles(&mut conn, community_id, t.id).await?;
    let history = store::history(&mut conn, community_id, t.id).await?;
    let targets = if needs_targets { load_targets(&mut conn, community_id).await? } else { Targets::default() };
    Ok(ShowData { category, owner, pool, grid, photos, point, shapes, whistles, history, targets })
}

/// The people a ticket can be sent to, as (id, name): those with a working role in the
/// community.
pub(super) async fn dispatch_people(conn: &mut impl Exec, community_id: i64) -> AppResult<Vec<(String, String)>> {
    Ok(query(
        "SELECT DISTINCT u.id, u.display_name FROM users u JOIN grants g ON g.user_id = u.id
             WHERE g.community_id = $1 AND g.role IN ('grid_worker', 'community_staff', 'community_secretary', 'volunteer', 'party_member') AND u.disabled_at IS NULL ORDER BY u.display_name",
    )
    .bind(community_id)
    .fetch_all::<(i64, String)>(conn)
    .await?
    .into_iter()
    .map(|(i, n)| (i.to_string(), n))
    .collect())
}

/// Reads the people, teams and partner units a ticket can be sent to.
async fn load_targets(conn: &mut impl Exec, community_id: i64) -> AppResult<Targets> {
    let people = dispatch_people(&mut *conn, community_id).await?;
    let teams = query("SELECT id, name FROM teams WHERE community_id = $1 AND archived_at IS NULL ORDER BY name")
        .bind(community_id)
        .fetch_all::<(i64, String)>(conn)
        .await?
        .into_iter()
        .map(|(i, n)| (i.to_string(), n))
        .collect();
    let units =
        query("SELECT id, name FROM partner_units WHERE community_id = $1 AND archived_at IS NULL ORDER BY name")
            .bind(community_id)
            .fetch_all::<(i64, String)>(conn)
            .await?
            .into_iter()
            .map(|(i, n)| (i.to_string(), n))
            .collect();
    Ok(Targets { people, teams, units })
}

/// Builds the page from what was read: names masked for those who may not see them, the
/// map, the 五连问, the history in words, and the errors of a failed action.
fn show_view(
    ctx: PageCtx,
    c: &CommunityRef,
    t: Ticket,
    standing: tickets::Standing,
    d: ShowData,
    actions: Vec<ActionView>,
    err: Option<&AppError>,
) -> ShowTemplate {
    let grid = match d.grid {
        Some(name) => name,
        None if t.outside_grid => ctx.t("ticket.outside_grid"),
        None => String::new(),
    };
    // Names are personal: staff and owners see who asked, others a masked name.
    let submitter_name = t.submitter_name.clone().unwrap_or_default();
    let submitter = if standing.staff || standing.owner || standing.submitter {
        submitter_name
    } else {
        crate::services::pii::mask_name(&submitter_name)
    };
    let markers: Vec<map::Marker> = d
        .point
        .map(|(lat, lng)| map::Marker {
            lat,
            lng,
            title: format!("#{}", t.id),
            href: format!("/c/{}/tickets/{}", c.code, t.id),
            class: "open",
        })
        .into_iter()
        .collect();
    let map = map::draw(&ctx.t("ticket.map"), &d.shapes, &markers);
    let questions = [
        ("q_need", &t.q_need),
        ("q_cause", &t.q_cause),
        ("q_plan", &t.q_plan),
        ("q_progress", &t.q_progress),
        ("q_outcome", &t.q_outcome),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), ctx.t(&format!("ticket.{k}")), v.clone().unwrap_or_default()))
    .collect();
    let (before, after) = before_and_after(d.photos, &d.history);
    let history = d
        .history
        .into_iter()
        .map(|e| {
            (
                fmt::datetime(e.at),
                e.actor_name,
                ctx.t(&format!("ticket.action.{}", e.action)),
                e.note.unwrap_or_default(),
            )
        })
        .collect();
    let errors = err.map(|e| e.field_messages(ctx.lang)).unwrap_or_default();
    let now = crate::db::now_ms();
    let staff_view = standing.staff
        || standing.owner
        || standing.pool_member
        || standing.grid_worker
        || standing.called_in
        || standing.overseer;
    let mut ctx = ctx;
    if let Some(s) = said(&ctx, &t, if d.owner.is_empty() { &d.pool } else { &d.owner }) {
        ctx.notice = Some(s);
    }
    ShowTemplate {
        title: format!("{} #{}", ctx.t("ticket.one"), t.id),
        code: c.code.clone(),
        category: d.category,
        status: status_label(&ctx, &t.status),
        status_class: status_class(t.status()),
        overdue: t.is_overdue(now),
        owner: d.owner,
        pool: d.pool,
        submitter,
        grid,
        due: fmt::datetime(t.due_at),
        created: fmt::datetime(t.created_at),
        before,
        after,
        staff_view,
        map,
        questions,
        can_edit_questions: (standing.owner || standing.staff) && t.status().is_open(),
        actions,
        whistles: d.whistles,
        history,
        people: d.targets.people,
        teams: d.targets.teams,
        units: d.targets.units,
        errors,
        t,
        ctx,
    }
}

/// The ticket's photos split at its resolution: those added before (by the asker, or
/// while it was worked on) and those added with or after the step that resolved it.
fn before_and_after(photos: Vec<Media>, history: &[store::Event]) -> (Vec<Media>, Vec<Media>) {
    let resolved_at = history.iter().filter(|e| e.action == Action::Resolve.as_str()).map(|e| e.at).next_back();
    photos.into_iter().partition(|p| resolved_at.is_none_or(|at| p.created_at < at))
}

/// What the step just taken did, naming this ticket's deadline or who has it now (the
/// action comes as `?did=` beside the notice; without a notice, or unknown, nothing).
fn said(ctx: &PageCtx, t: &Ticket, who: &str) -> Option<String> {
    ctx.notice.as_ref()?;
    let action = Action::parse(&crate::web::form::query_param(&ctx.query, "did")?)?;
    let params = [("due", fmt::datetime(t.due_at)), ("who", who.to_string())];
    Some(crate::i18n::tr(ctx.lang, &format!("ticket.did.{}", action.as_str()), &params))
}

pub async fn show(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    show_page(&state, ctx, &actor, &c, id, None).await
}

/// The action forms on a ticket's page.
pub async fn act(
    State(state): State<AppState>,
    SignedPage(ctx, actor): SignedPage,
    Path((code, id)): Path<(String, i64)>,
    CsrfMultipart { fields, files }: CsrfMultipart,
) -> PageResult {
    let c = crate::auth::guard::visible_community(&state.db, &actor, &code).await?;
    let result = async {
        let action =
            Action::parse(&text(&fields, "action")).ok_or_else(|| AppError::field("action", "validation.choice"))?;
        let target = text(&fields, "target");
        let (mut owner, mut team, mut unit) = (opt_i64(&fields, "owner_user_id")?, None, opt_i64(&fields, "unit_id")?);
        // The dispatch form's one select says "user:1", "team:2" or "unit:3".
        if let Some((kind, id)) = target.split_once(':') {
            let id = id.parse::<i64>().map_err(|_| AppError::field("target", "validation.reference"))?;
            match kind {
                "user" => owner = Some(id),
                "team" => team = Some(id),
                "unit" => unit = Some(id),
                _ => return Err(AppError::field("target", "validation.reference")),
            }
        }
        let input = ActionInput {
            note: opt_text(&fields, "note"),
            owner_user_id: owner,
            team_id: team,
            unit_id: unit,
            rating: opt_i64(&fields, "rating")?,
            duplicate_of: opt_i64(&fields, "duplicate_of")?,
            department: opt_text(&fields, "department"),
            satisfied: opt_text(&fields, "satisfied").map(|s| s == "true"),
            q_need: fields.get("q_need").map(|_| text(&fields, "q_need")),
            q_cause: fields.get("q_cause").map(|_| text(&fields, "q_cause")),
            q_plan: fields.get("q_plan").map(|_| text(&fields, "q_plan")),
            q_progress: fields.get("q_progress").map(|_| text(&fields, "q_progress")),
            q_outcome: fields.get("q_outcome").map(|_| text(&fields, "q_outcome")),
        };
        let photos = photos_of(files)?;
        store::act(&state, &actor, c.id, id, action, input, photos).await
    }
    .await;
    match result {
        Ok(_) => {
            // The action parsed, so it is one of the closed set of words.
            let did = text(&fields, "action");
            Ok(done(&format!("/c/{}/tickets/{id}?did={did}", c.code), Notice::TicketUpdated))
        }
        Err(e @ (AppError::Invalid(_) | AppError::Conflict(_))) => {
            show_page(&state, ctx, &actor, &c, id, Some(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}
