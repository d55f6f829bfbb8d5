//! The tickets' part of a user's home page: what each role has waiting (escalated,
//! unassigned, own work, pool, whistles, own requests).

use std::collections::HashMap;

use super::{category_names, status_label, subdistrict_communities};
use crate::auth::guard::CommunityRef;
use crate::auth::model::{Actor, Role};
use crate::capabilities::tickets::Status;
use crate::capabilities::tickets::store::{self, Filters, Ticket, View};
use crate::error::AppResult;
use crate::web::AppState;
use crate::web::PageCtx;
use crate::web::home::{Item, Section, Tile};

fn item(t: &Ticket, code: &str, cats: &std::collections::HashMap<i64, String>, ctx: &PageCtx) -> Item {
    Item::link(
        format!("#{} {}", t.id, cats.get(&t.category_id).cloned().unwrap_or_default()),
        format!("{} · {}", status_label(ctx, &t.status), t.description.chars().take(16).collect::<String>()),
        format!("/c/{code}/tickets/{}", t.id),
    )
}

/// What each role has to do with tickets, for the home page.
/// This capability's part of a user's home page.
pub fn home<'a>(
    state: &'a AppState,
    ctx: &'a PageCtx,
    actor: &'a Actor,
) -> futures::future::BoxFuture<'a, AppResult<Vec<crate::web::home::Section>>> {
    Box::pin(home_sections(state, ctx, actor))
}

async fn home_sections(state: &AppState, ctx: &PageCtx, actor: &Actor) -> AppResult<Vec<Section>> {
    let mut out = Vec::new();
    let mut communities: Vec<i64> = actor.grants.iter().filter_map(|g| g.community_id).collect();
    communities.sort_unstable();
    communities.dedup();
    for cid in communities {
        let mut conn = state.db.read().await?;
        let Some(c) = crate::auth::guard::community_by_id(&mut conn, cid).await? else { continue };
        drop(conn);
        let cats = category_names(state, &[cid]).await?;
        let base = format!("/c/{}/tickets", c.code);
        let h = Home { state, ctx, actor, cid, c, cats, base };
        community_sections(&h, &mut out).await?;
    }
    for s in actor.grants.iter().filter(|g| g.role() == Role::SubdistrictAdmin).filter_map(|g| g.subdistrict_id) {
        if let Some(section) = subdistrict_section(state, ctx, actor, s).await? {
            out.push(section);
        }
    }
    Ok(out)
}

/// One community's tickets on the actor's home page: the community, its category names
/// and the address of its ticket pages.
struct Home<'a> {
    state: &'a AppState,
    ctx: &'a PageCtx,
    actor: &'a Actor,
    cid: i64,
    c: CommunityRef,
    cats: HashMap<i64, String>,
    /// `/c/{code}/tickets`.
    base: String,
}

impl Home<'_> {
    /// The tickets as home page items.
    fn items<'t>(&self, tickets: impl IntoIterator<Item = &'t Ticket>) -> Vec<Item> {
        tickets.into_iter().map(|t| item(t, &self.c.code, &self.cats, self.ctx)).collect()
    }
}

/// What the actor has waiting in one community: for staff the escalated and unassigned,
/// then their own work, their pool, whistles to their unit, and their own requests.
async fn community_sections(h: &Home<'_>, out: &mut Vec<Section>) -> AppResult<()> {
    let (state, ctx, actor, cid, c, base) = (h.state, h.ctx, h.actor, h.cid, &h.c, &h.base);
    let staff = actor
        .grants
        .iter()
        .any(|g| matches!(g.role(), Role::CommunityStaff | Role::CommunitySecretary) && g.community_id == Some(cid));
    // For staff, how many wait to be sent to someone (their section and their square).
    let waiting = if staff { Some(staff_sections(h, out).await?) } else { None };
    let open = Filters { open: true, ..Filters::default() };
    let work = store::list(&state.db, actor, &[cid], View::Work, &open, 1, 10).await?;
    if work.total > 0 {
        out.push(Section {
            title: format!("{} · {} {}", c.name, ctx.t("home.my_work"), work.total),
            items: h.items(&work.items),
            links: vec![(format!("{base}?view=work"), ctx.t("common.more"))],
            ..Section::default()
        });
    }
    if let Ok(pool) = store::list(&state.db, actor, &[cid], View::Pool, &Filters::default(), 1, 10).await
        && pool.total > 0
    {
        out.push(Section {
            title: format!("{} · {} {}", c.name, ctx.t("home.pool"), pool.total),
            items: h.items(&pool.items),
            links: vec![(format!("{base}?view=pool"), ctx.t("common.more"))],
            ..Section::default()
        });
    }
    whistled_section(h, out).await?;
    let mine = store::list(&state.db, actor, &[cid], View::Mine, &Filters::default(), 1, 5).await?;
    let resident = actor.grants.iter().any(|g| g.role() == Role::Resident && g.community_id == Some(cid));
    out.push(Section { tiles: tiles(h, work.total, resident, waiting).await?, ..Section::default() });
    if mine.total > 0 || resident {
        out.push(Section {
            title: format!("{} · {}", c.name, ctx.t("home.my_tickets")),
            items: h.items(&mine.items),
            links: vec![
                (format!("{base}/new"), format!("+ {}", ctx.t("ticket.new"))),
                (format!("{base}?view=mine"), ctx.t("common.more")),
            ],
            ..Section::default()
        });
    }
    Ok(())
}

/// The icon grid's squares for tickets: a resident asks and sees what waits for their
/// rating; a handler sees their work (red when some is overdue); staff what waits to be
/// sent (`waiting`, counted for their section) and what is overdue.
async fn tiles(h: &Home<'_>, work: i64, resident: bool, waiting: Option<i64>) -> AppResult<Vec<Tile>> {
    let (state, ctx, actor, cid, base) = (h.state, h.ctx, h.actor, h.cid, &h.base);
    let count = |view: View, f: Filters| async move {
        store::list(&state.db, actor, &[cid], view, &f, 1, 1).await.map(|p| p.total)
    };
    let mut tiles = Vec::new();
    if resident {
        let to_rate = count(View::Mine, Filters { status: Some(Status::Resolved), ..Filters::default() }).await?;
        tiles.push(Tile::new(ctx.t("ticket.new"), format!("{base}/new"), "edit"));
        tiles.push(Tile::new(ctx.t("home.my_tickets"), format!("{base}?view=mine"), "list").badge(to_rate));
    }
    if work > 0 || actor.can(cid, crate::auth::model::Permission::FieldWork) {
        let overdue = count(View::Work, Filters { open: true, overdue: true, ..Filters::default() }).await?;
        let tile = Tile::new(ctx.t("home.my_work"), format!("{base}?view=work"), "check").badge(work);
        tiles.push(if overdue > 0 { tile.urgent() } else { tile });
    }
    if let Some(waiting) = waiting {
        tiles.push(
            Tile::new(ctx.t("ticket.status.submitted"), format!("{base}?view=all&status=submitted"), "flag")
                .badge(waiting),
        );
        let overdue = count(View::All, Filters { open: true, overdue: true, ..Filters::default() }).await?;
        tiles.push(
            Tile::new(ctx.t("ticket.overdue"), format!("{base}?view=all&overdue=1"), "clock").badge(overdue).urgent(),
        );
    }
    Ok(tiles)
}

/// For community staff: the escalated open tickets, and those still waiting to be sent
/// to someone; answers how many wait so.
async fn staff_sections(h: &Home<'_>, out: &mut Vec<Section>) -> AppResult<i64> {
    let (state, ctx, actor, cid, c, base) = (h.state, h.ctx, h.actor, h.cid, &h.c, &h.base);
    let open = Filters { open: true, ..Filters::default() };
    let all = store::list(&state.db, actor, &[cid], View::All, &open, 1, 200).await?;
    let escalated: Vec<&Ticket> = all.items.iter().filter(|t| t.escalation_level > 0).take(10).collect();
    if !escalated.is_empty() {
        out.push(Section {
            title: format!("{} · {}", c.name, ctx.t("home.escalated")),
            items: h.items(escalated),
            links: vec![(format!("{base}?view=all&overdue=1"), ctx.t("ticket.overdue"))],
            ..Section::default()
        });
    }
    let waiting = store::list(
        &state.db,
        actor,
        &[cid],
        View::All,
        &Filters { status: Some(Status::Submitted), ..Filters::default() },
        1,
        10,
    )
    .await?;
    if waiting.total > 0 {
        out.push(Section {
            title: format!("{} · {} {}", c.name, ctx.t("ticket.status.submitted"), waiting.total),
            items: h.items(&waiting.items),
            links: vec![(format!("{base}?view=all&status=submitted"), ctx.t("common.more"))],
            ..Section::default()
        });
    }
    Ok(waiting.total)
}

/// For a partner unit's people: tickets their unit has been called in on by a whistle not
/// yet answered.
async fn whistled_section(h: &Home<'_>, out: &mut Vec<Section>) -> AppResult<()> {
    let (state, ctx, actor, cid, c, base) = (h.state, h.ctx, h.actor, h.cid, &h.c, &h.base);
    let units: Vec<i64> = actor
        .grants
        .iter()
        .filter(|g| g.role() == Role::PartnerUnit && g.community_id == Some(cid))
        .filter_map(|g| g.partner_unit_id)
        .collect();
    if units.is_empty() {
        return Ok(());
    }
    let mut b = crate::db::Builder::new(
        "SELECT t.id, t.description FROM ticket_whistles w JOIN tickets t ON t.community_id = w.community_id AND t.id = w.ticket_id WHERE w.community_id = ",
    );
    b.arg(cid)
        .push(" AND w.responded_at IS NULL AND w.unit_id IN ")
        .list(units)
        .push(" ORDER BY w.called_at DESC LIMIT 20");
    let mut conn = state.db.read().await?;
    let rows: Vec<(i64, String)> = b.build().fetch_all(&mut conn).await?;
    if !rows.is_empty() {
        out.push(Section {
            title: format!("{} · {}", c.name, ctx.t("home.whistled")),
            items: rows
                .into_iter()
                .map(|(id, d)| {
                    Item::link(format!("#{id}"), d.chars().take(20).collect::<String>(), format!("{base}/{id}"))
                })
                .collect(),
            ..Section::default()
        });
    }
    Ok(())
}

/// For a subdistrict administrator: the tickets escalated to the subdistrict (level 2 and
/// up) across its communities. `None` when its communities cannot be read.
async fn subdistrict_section(state: &AppState, ctx: &PageCtx, actor: &Actor, s: i64) -> AppResult<Option<Section>> {
    let Ok(communities) = subdistrict_communities(state, actor, s).await else { return Ok(None) };
    let ids: Vec<i64> = communities.iter().map(|c| c.id).collect();
    let open = Filters { open: true, ..Filters::default() };
    let all = store::list(&state.db, actor, &ids, View::All, &open, 1, 500).await?;
    let escalated: Vec<&Ticket> = all.items.iter().filter(|t| t.escalation_level >= 2).take(10).collect();
    let cats = category_names(state, &ids).await?;
    let code_of: HashMap<i64, String> = communities.iter().map(|c| (c.id, c.code.clone())).collect();
    Ok(Some(Section {
        title: format!("{} · {}", ctx.t("home.escalated"), escalated.len()),
        items: escalated
            .iter()
            .map(|t| item(t, code_of.get(&t.community_id).map(String::as_str).unwrap_or(""), &cats, ctx))
            .collect(),
        links: vec![
            (format!("/subdistricts/{s}/tickets/stats"), ctx.t("ticket.stats")),
            (format!("/subdistricts/{s}/tickets?overdue=1"), ctx.t("ticket.overdue")),
        ],
        ..Section::default()
    }))
}
