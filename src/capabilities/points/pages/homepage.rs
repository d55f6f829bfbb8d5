//! The points capability's part of a user's home page.

use crate::auth::model::{Actor, Permission};
use crate::capabilities::points::{ledger, store};
use crate::error::AppResult;
use crate::time::hours;
use crate::web::AppState;
use crate::web::{PageCtx, fmt};

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
    use crate::web::home::{Section, Stat as HomeStat, Tile};
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
        let mut tiles = Vec::new();
        if me.is_some() {
            tiles.push(Tile::new(ctx.t("points.my_service"), format!("/c/{code}/volunteer"), "heart"));
            tiles.push(Tile::new(ctx.t("points.shop"), format!("/c/{code}/shop"), "gift"));
        }
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
            tiles.push(Tile::new(ctx.t("points.review"), format!("/c/{code}/service-records"), "check").badge(pending));
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
            tiles.push(Tile::new(ctx.t("fieldwork.patrols"), format!("/c/{code}/patrols"), "flag"));
        }
        if actor.can(cid, Permission::FieldWork) {
            links.push((format!("/c/{code}/field-notes"), ctx.t("fieldwork.notes")));
            tiles.push(Tile::new(ctx.t("fieldwork.notes"), format!("/c/{code}/field-notes"), "edit"));
        }
        links.push((format!("/p/{code}/honor"), ctx.t("points.honor_roll")));
        out.push(Section {
            tiles,
            title: format!("{} · {}", c.name, ctx.t("points.volunteering")),
            stats,
            links,
            ..Section::default()
        });
    }
    Ok(out)
}
