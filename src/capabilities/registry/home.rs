//! The registry's sections of the home page, one per role the user holds, each with the
//! figures and links that role works from. And "my data", where anyone sees what is held
//! about them.

use askama::Template;
use axum::extract::State;
use futures::future::BoxFuture;

use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Permission, Role};
use crate::capabilities::registry::places;
use crate::db::citus::Span;
use crate::db::{Builder, Conn, query};
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::ui::Bars;
use crate::web::{PageCtx, PageResult, SignedPage, fmt, render};

use crate::capabilities::registry::people::joining::{RequestStatus, ResidentRequest};
use crate::web::home::{Item, Section, Stat};
use crate::web::ui::Tile;

fn stat(ctx: &PageCtx, key: &str, n: i64, href: Option<String>) -> Stat {
    Stat { label: ctx.t(key), value: fmt::thousands(n), href }
}

async fn count(conn: &mut Conn, sql: &'static str, id: i64) -> AppResult<i64> {
    Ok(query(sql).bind(id).scalar(conn).await?)
}

/// The registry's part of a home page: a section per role, with the figures and links
/// each role works from.
pub fn sections<'a>(state: &'a AppState, ctx: &'a PageCtx, actor: &'a Actor) -> BoxFuture<'a, AppResult<Vec<Section>>> {
    Box::pin(role_sections(state, ctx, actor))
}

async fn role_sections(state: &AppState, ctx: &PageCtx, actor: &Actor) -> AppResult<Vec<Section>> {
    let mut sections = Vec::new();
    // The platform's and a subdistrict's figures are over many communities.
    let mut conn = if actor.is_platform_admin() {
        state.db.span(Span::Platform).await?
    } else if actor.has_role(Role::SubdistrictAdmin) {
        state.db.span(Span::Subdistrict).await?
    } else {
        state.db.read().await?
    };
    let mut seen_communities = Vec::new();
    if actor.grants.is_empty()
        && let Some((c, r)) = crate::capabilities::registry::people::joining::mine(&state.db, actor).await?
    {
        sections.push(my_request(ctx, &c, &r));
    }
    for g in &actor.grants {
        match g.role() {
            Role::PlatformAdmin => sections.push(platform(ctx, &mut conn).await?),
            Role::SubdistrictAdmin => {
                if let Some(s) = g.subdistrict_id {
                    sections.push(subdistrict(ctx, actor, &mut conn, s).await?);
                }
            }
            Role::CommunitySecretary | Role::CommunityStaff => {
                if let Some(c) = g.community_id.filter(|c| !seen_communities.contains(c)) {
                    seen_communities.push(c);
                    if let Some(c) = crate::auth::guard::community_by_id(&mut conn, c).await? {
                        sections.push(community(ctx, state, actor, &mut conn, &c).await?);
                    }
                }
            }
            Role::GridWorker => {
                if let (Some(c), Some(grid)) = (g.community_id, g.grid_id)
                    && let Some(c) = crate::auth::guard::community_by_id(&mut conn, c).await?
                {
                    sections.push(grid_section(ctx, state, &mut conn, &c, grid).await?);
                }
            }
            Role::Resident => {
                if let (Some(c), Some(h)) = (g.community_id, g.household_id)
                    && let Some(c) = crate::auth::guard::community_by_id(&mut conn, c).await?
                {
                    sections.push(household(ctx, &mut conn, &c, h).await?);
                }
            }
            Role::Volunteer | Role::PartyMember | Role::PartnerUnit => {
                if let Some(c) = g.community_id
                    && let Some(c) = crate::auth::guard::community_by_id(&mut conn, c).await?
                {
                    sections.push(member(ctx, &mut conn, &c, g.role()).await?);
                }
            }
        }
    }
    Ok(sections)
}

async fn platform(ctx: &PageCtx, conn: &mut Conn) -> AppResult<Section> {
    let subs: i64 = query("SELECT COUNT(*) FROM subdistricts WHERE archived_at IS NULL").scalar(conn).await?;
    let comms: i64 = query("SELECT COUNT(*) FROM communities WHERE archived_at IS NULL").scalar(conn).await?;
    let users: i64 = query("SELECT COUNT(*) FROM users WHERE disabled_at IS NULL").scalar(conn).await?;
    Ok(Section {
        title: ctx.t("role.platform_admin"),
        stats: vec![
            stat(ctx, "entity.subdistrict", subs, Some("/subdistricts".into())),
            stat(ctx, "entity.community", comms, Some("/communities".into())),
            stat(ctx, "home.users", users, None),
        ],
        links: vec![
            ("/subdistricts/new".into(), ctx.tr("form.new", "what", ctx.t("entity.subdistrict"))),
            ("/communities/new".into(), ctx.tr("form.new", "what", ctx.t("entity.community"))),
            ("/api/docs".into(), ctx.t("home.api_docs")),
        ],
        ..Section::default()
    })
}

async fn subdistrict(ctx: &PageCtx, actor: &Actor, conn: &mut Conn, id: i64) -> AppResult<Section> {
    let name: String = query("SELECT name FROM subdistricts WHERE id = $1").bind(id).scalar(conn).await?;
    let communities: Vec<(i64, String, String)> =
        query("SELECT id, code, name FROM communities WHERE subdistrict_id = $1 AND archived_at IS NULL ORDER BY code")
            .bind(id)
            .fetch_all(conn)
            .await?;
    let ids: Vec<i64> = communities.iter().map(|c| c.0).filter(|c| actor.can(*c, Permission::ViewRegistry)).collect();
    let per = |table: &str| {
        let mut b = Builder::new(format!(
            "SELECT community_id, COUNT(*) FROM {table} WHERE archived_at IS NULL AND community_id IN "
        ));
        b.list(ids.iter().copied()).push(" GROUP BY community_id");
        b.build()
    };
    let residents: std::collections::HashMap<i64, i64> =
        per("residents").fetch_all::<(i64, i64)>(conn).await?.into_iter().collect();
    let households_of: std::collections::HashMap<i64, i64> =
        per("households").fetch_all::<(i64, i64)>(conn).await?.into_iter().collect();
    let grids_of: std::collections::HashMap<i64, i64> =
        per("grids").fetch_all::<(i64, i64)>(conn).await?.into_iter().collect();
    let (households, grids): (i64, i64) = (households_of.values().sum(), grids_of.values().sum());
    let total: i64 = residents.values().sum();
    let mut bars: Vec<(String, f64)> =
        communities.iter().map(|(cid, _, n)| (n.clone(), *residents.get(cid).unwrap_or(&0) as f64)).collect();
    bars.sort_by(|a, b| b.1.total_cmp(&a.1));
    Ok(Section {
        title: format!("{name} · {}", ctx.t("role.subdistrict_admin")),
        stats: vec![
            stat(ctx, "entity.community", communities.len() as i64, Some(format!("/subdistricts/{id}"))),
            stat(ctx, "entity.grid", grids, None),
            stat(ctx, "entity.household", households, None),
            stat(ctx, "entity.resident", total, Some(format!("/subdistricts/{id}/residents"))),
        ],
        chart: Some(Bars::new(ctx.t("entity.resident"), &bars, "")),
        links: vec![
            (format!("/subdistricts/{id}/tickets/stats"), ctx.t("ticket.stats")),
            (format!("/subdistricts/{id}/points/stats"), ctx.t("points.stats")),
            (format!("/subdistricts/{id}/participation/stats"), ctx.t("participation.stats")),
            (format!("/subdistricts/{id}/money/stats"), ctx.t("money.stats")),
            (format!("/subdistricts/{id}/directory/stats"), ctx.t("directory.stats")),
            (format!("/subdistricts/{id}/warm-stations/stats"), ctx.t("warm.stats")),
            (format!("/subdistricts/{id}/appointments/stats"), ctx.t("appt.stats")),
            (format!("/subdistricts/{id}/incidents"), ctx.t("emergency.title")),
        ],
        items: communities
            .iter()
            .map(|(cid, code, n)| {
                // The chart above has the population; the line says what else it is made of.
                let sub = format!(
                    "{} · {}",
                    ctx.tr("home.grids_n", "n", grids_of.get(cid).unwrap_or(&0)),
                    ctx.tr("home.households_n", "n", fmt::thousands(*households_of.get(cid).unwrap_or(&0)))
                );
                Item::link(n.clone(), sub, format!("/c/{code}"))
            })
            .collect(),
        ..Section::default()
    })
}

async fn community(
    ctx: &PageCtx,
    state: &AppState,
    actor: &Actor,
    conn: &mut Conn,
    c: &CommunityRef,
) -> AppResult<Section> {
    let grids = count(conn, "SELECT COUNT(*) FROM grids WHERE community_id = $1 AND archived_at IS NULL", c.id).await?;
    let households =
        count(conn, "SELECT COUNT(*) FROM households WHERE community_id = $1 AND archived_at IS NULL", c.id).await?;
    let residents =
        count(conn, "SELECT COUNT(*) FROM residents WHERE community_id = $1 AND archived_at IS NULL", c.id).await?;
    let members = count(
        conn,
        "SELECT COUNT(*) FROM residents WHERE community_id = $1 AND archived_at IS NULL AND party_member = TRUE",
        c.id,
    )
    .await?;
    let cared = count(
        conn,
        "SELECT COUNT(*) FROM residents WHERE community_id = $1 AND archived_at IS NULL AND care_tags <> ''",
        c.id,
    )
    .await?;
    let mut per_grid: Vec<(String, i64)> = query(
        "SELECT g.name, COUNT(r.id) FROM grids g LEFT JOIN residents r ON r.community_id = g.community_id AND r.grid_id = g.id AND r.archived_at IS NULL
         WHERE g.community_id = $1 AND g.archived_at IS NULL GROUP BY g.id, g.name",
    )
    .bind(c.id)
    .fetch_all(conn)
    .await?;
    crate::natural::sort_by_name(&mut per_grid, |g| g.0.as_str());
    let base = format!("/c/{}", c.code);
    let role =
        if actor.has_role(Role::CommunitySecretary) { "role.community_secretary" } else { "role.community_staff" };
    Ok(Section {
        title: format!("{} · {}", c.name, ctx.t(role)),
        stats: vec![
            stat(ctx, "entity.grid", grids, Some(format!("{base}/grids"))),
            stat(ctx, "entity.household", households, Some(format!("{base}/households"))),
            stat(ctx, "entity.resident", residents, Some(format!("{base}/residents"))),
            stat(ctx, "home.party_members", members, Some(format!("{base}/residents?party_member=true"))),
            stat(ctx, "home.cared", cared, None),
        ],
        chart: Some(Bars::new(
            ctx.t("entity.resident"),
            &per_grid.into_iter().map(|(n, v)| (n, v as f64)).collect::<Vec<_>>(),
            "",
        )),
        map: Some(places::map::community_map(&state.db, &c.name, c.id, None).await?).filter(|m| !m.shapes.is_empty()),
        links: places::pages::community_links(ctx, actor, c),
        tiles: registrations_tile(ctx, conn, c).await?.into_iter().collect(),
        ..Section::default()
    })
}

/// The registrations waiting for a check, as a square with their number, when any wait.
async fn registrations_tile(ctx: &PageCtx, conn: &mut Conn, c: &CommunityRef) -> AppResult<Option<Tile>> {
    let n = crate::capabilities::registry::people::joining::waiting_count(conn, c.id).await?;
    Ok((n > 0)
        .then(|| Tile::new(ctx.t("joining.requests"), format!("/c/{}/resident-requests", c.code), "check").badge(n)))
}

/// A newcomer's registration, where it stands: waiting, or declined with the reason.
fn my_request(ctx: &PageCtx, c: &CommunityRef, r: &ResidentRequest) -> Section {
    let line = match r.status {
        RequestStatus::Declined => ctx.tr("joining.declined_line", "reason", r.reason.clone().unwrap_or_default()),
        _ => ctx.t("joining.pending_line"),
    };
    let mut links = Vec::new();
    if r.status == RequestStatus::Declined {
        links.push((format!("/c/{}/residents/join", c.code), ctx.t("joining.resident_form")));
    }
    Section {
        title: format!("{} · {}", c.name, ctx.t("joining.mine")),
        items: vec![Item {
            title: format!("{} · {}", r.address, ctx.t(&format!("joining.status.{}", r.status.as_str()))),
            sub: line,
            href: None,
            tag: None,
        }],
        links,
        ..Section::default()
    }
}

async fn grid_section(
    ctx: &PageCtx,
    state: &AppState,
    conn: &mut Conn,
    c: &CommunityRef,
    grid: i64,
) -> AppResult<Section> {
    let name: Option<String> = query("SELECT name FROM grids WHERE community_id = $1 AND id = $2")
        .bind(c.id)
        .bind(grid)
        .scalar_optional(conn)
        .await?;
    let households: i64 =
        query("SELECT COUNT(*) FROM households WHERE community_id = $1 AND grid_id = $2 AND archived_at IS NULL")
            .bind(c.id)
            .bind(grid)
            .scalar(conn)
            .await?;
    let residents: i64 =
        query("SELECT COUNT(*) FROM residents WHERE community_id = $1 AND grid_id = $2 AND archived_at IS NULL")
            .bind(c.id)
            .bind(grid)
            .scalar(conn)
            .await?;
    let cared: Vec<(i64, String, String)> = query(
        "SELECT id, name, care_tags FROM residents WHERE community_id = $1 AND grid_id = $2 AND archived_at IS NULL AND care_tags <> '' ORDER BY name LIMIT 50",
    )
    .bind(c.id)
    .bind(grid)
    .fetch_all(conn)
    .await?;
    let base = format!("/c/{}", c.code);
    Ok(Section {
        title: format!("{} · {} · {}", c.name, name.unwrap_or_default(), ctx.t("role.grid_worker")),
        stats: vec![
            stat(ctx, "entity.household", households, Some(format!("{base}/households?grid_id={grid}"))),
            stat(ctx, "entity.resident", residents, Some(format!("{base}/residents?grid_id={grid}"))),
            stat(ctx, "home.cared", cared.len() as i64, None),
        ],
        items: cared
            .into_iter()
            .map(|(id, n, tags)| {
                let sub = crate::services::records::model::tags_from_column(&tags).join("、");
                Item::link(n, sub, format!("{base}/residents/{id}"))
            })
            .collect(),
        map: Some(places::map::community_map(&state.db, &c.name, c.id, Some(grid)).await?)
            .filter(|m| !m.shapes.is_empty()),
        links: vec![(format!("{base}/grids/{grid}"), ctx.t("home.my_grid"))],
        tiles: registrations_tile(ctx, conn, c).await?.into_iter().collect(),
        ..Section::default()
    })
}

async fn household(ctx: &PageCtx, conn: &mut Conn, c: &CommunityRef, h: i64) -> AppResult<Section> {
    let address: Option<String> = query("SELECT address FROM households WHERE community_id = $1 AND id = $2")
        .bind(c.id)
        .bind(h)
        .scalar_optional(conn)
        .await?;
    let members: Vec<(i64, String, Option<String>)> =
        query("SELECT id, name, relation FROM residents WHERE community_id = $1 AND household_id = $2 AND archived_at IS NULL ORDER BY id")
            .bind(c.id)
            .bind(h)
            .fetch_all(conn)
            .await?;
    Ok(Section {
        title: format!("{} · {}", c.name, ctx.t("home.my_household")),
        stats: vec![Stat { label: ctx.t("field.household.address"), value: address.unwrap_or_default(), href: None }],
        items: members
            .into_iter()
            .map(|(id, n, rel)| {
                let sub = rel.map(|r| ctx.t(&format!("choice.resident.relation.{r}"))).unwrap_or_default();
                Item::link(n, sub, format!("/c/{}/residents/{id}", c.code))
            })
            .collect(),
        links: vec![("/me/data".into(), ctx.t("me.my_data"))],
        ..Section::default()
    })
}

async fn member(ctx: &PageCtx, conn: &mut Conn, c: &CommunityRef, role: Role) -> AppResult<Section> {
    let (address, phone, brands): (Option<String>, Option<String>, Option<String>) =
        query("SELECT address, office_phone, brands FROM communities WHERE id = $1").bind(c.id).fetch_one(conn).await?;
    let stats = [
        ("field.community.address", address),
        ("field.community.office_phone", phone),
        ("field.community.brands", brands),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.map(|v| Stat { label: ctx.t(k), value: v, href: None }))
    .collect();
    Ok(Section { title: format!("{} · {}", c.name, ctx.t(&role.label_key())), stats, ..Section::default() })
}

#[derive(Template)]
#[template(path = "home/my_data.html")]
struct MyDataTemplate {
    ctx: PageCtx,
    title: String,
    account: Vec<(String, String)>,
    resident: Vec<(String, String)>,
}

/// What is held about the signed-in user (PIPL: the right to know), masked.
pub async fn my_data(State(state): State<AppState>, SignedPage(ctx, actor): SignedPage) -> PageResult {
    let mut conn = state.db.read().await?;
    let (username, display_name, phone, resident_id, community_id): (
        String,
        String,
        Option<String>,
        Option<i64>,
        Option<i64>,
    ) = query("SELECT username, display_name, phone_masked, resident_id, community_id FROM users WHERE id = $1")
        .bind(actor.user_id)
        .fetch_one(&mut conn)
        .await?;
    let account = vec![
        (ctx.t("auth.username"), username),
        (ctx.t("me.display_name"), display_name),
        (ctx.t("field.resident.phone"), phone.unwrap_or_default()),
        (ctx.t("me.roles"), ctx.role_names()),
    ];
    let mut resident = Vec::new();
    if let (Some(r), Some(c)) = (resident_id, community_id) {
        let row: Option<(String, Option<String>, Option<chrono::NaiveDate>, Option<String>, Option<String>, String, bool)> = query(
            "SELECT name, gender, birth_date, id_number_masked, phone_masked, care_tags, party_member FROM residents WHERE community_id = $1 AND id = $2",
        )
        .bind(c)
        .bind(r)
        .fetch_optional(&mut conn)
        .await?;
        if let Some((name, gender, birth, id_masked, phone_masked, tags, member)) = row {
            resident = vec![
                (ctx.t("field.resident.name"), name),
                (
                    ctx.t("field.resident.gender"),
                    gender.map(|g| ctx.t(&format!("choice.resident.gender.{g}"))).unwrap_or_default(),
                ),
                (ctx.t("field.resident.birth_date"), birth.map(|d| d.to_string()).unwrap_or_default()),
                (ctx.t("field.resident.id_number"), id_masked.unwrap_or_default()),
                (ctx.t("field.resident.phone"), phone_masked.unwrap_or_default()),
                (
                    ctx.t("field.resident.care_tags"),
                    crate::services::records::model::tags_from_column(&tags).join("、"),
                ),
                (ctx.t("field.resident.party_member"), ctx.t(if member { "common.yes" } else { "common.no" })),
            ];
        }
    }
    let title = ctx.t("me.my_data");
    render(&MyDataTemplate { ctx, title, account, resident })
}
